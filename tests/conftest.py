"""Fixtures the project's own test modules share (the suite's fixtures come from the gws plugin)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from reference_support import Api, open_api


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reference_stimulus: the `api` fixture also serves the stimulus API")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the reference server's bus and aiocometd-noloop are asyncio-only


@pytest.fixture
async def api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    """A fresh reference server (its own store) in process; with the stimulus API in modules marked
    ``reference_stimulus``."""
    async with open_api(stimulus=request.node.get_closest_marker("reference_stimulus") is not None) as api:
        yield api
