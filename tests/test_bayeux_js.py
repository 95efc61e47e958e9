"""Interop: the official CometD JavaScript client (tests/js/interop.mjs) against the reference Bayeux server.

Needs node and tests/js/node_modules (CI runs `npm ci` in tests/js first); skipped, saying which is
missing, otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from bayeux_live import PASSWORDS, PUBLISH_PATH, LiveServer, serve

JS_DIR = Path(__file__).parent / "js"
NODE = shutil.which("node")
DEADLINE_S = 30  # the script gives up after 15 s itself

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not on PATH"),
    pytest.mark.skipif(
        not (JS_DIR / "node_modules" / "cometd").is_dir(),
        reason="tests/js/node_modules missing: run `(cd tests/js && npm ci)`",
    ),
]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    with serve(timeout_ms=2000) as server:
        yield server


@pytest.mark.parametrize("transport", ["long-polling", "websocket"])
def test_cometd_javascript_client_receives_a_published_message(live: LiveServer, transport: str) -> None:
    assert NODE is not None
    result = subprocess.run(
        [NODE, "interop.mjs", live.url, "agent1", PASSWORDS["agent1"], transport, live.base_url + PUBLISH_PATH],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
    )
    assert result.returncode == 0, f"{result.stdout.strip()} {result.stderr.strip()}"
    assert result.stdout.startswith("OK:"), result.stdout
    assert f"over {transport}" in result.stdout


@pytest.mark.parametrize("transport", ["long-polling", "websocket"])
def test_cometd_javascript_client_is_refused_without_valid_credentials(live: LiveServer, transport: str) -> None:
    assert NODE is not None
    result = subprocess.run(
        [NODE, "interop.mjs", live.url, "agent1", "wrong", transport, live.base_url + PUBLISH_PATH],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
    )
    assert result.returncode == 1, result.stdout
    assert result.stdout.startswith("FAIL:") and "handshake unsuccessful" in result.stdout, result.stdout
