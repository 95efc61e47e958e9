"""Serve an ASGI app (by default the reference server) on 127.0.0.1 in a thread (reference_impl.embedded).

Used by every test that needs a target on a real socket — the plugin and fuzz tests, the robustness
tests' faulty servers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reference_impl.app import create_app
from reference_impl.embedded import serve_in_thread

# fixtures/contact-center.yaml: the accounts the suite acts as.
PASSWORDS = {
    "admin": "admin-secret",
    "supervisor": "supervisor-secret",
    "agent1": "agent1-secret",
    "agent2": "agent2-secret",
    "agent3": "agent3-secret",
}


@dataclass(frozen=True)
class LiveTarget:
    origin: str  # http://127.0.0.1:<port>
    app: Any

    @property
    def base_url(self) -> str:
        return f"{self.origin}/api/v2"

    def env(self, **overrides: str) -> dict[str, str]:
        return suite_env(self.base_url, **overrides)


def suite_env(base_url: str, **overrides: str) -> dict[str, str]:
    """GWS_* variables that point the suite at ``base_url`` with the fixture's accounts."""
    variables = {"GWS_BASE_URL": base_url}
    for role, password in PASSWORDS.items():
        variables[f"GWS_{role.upper()}_PASSWORD"] = password
    variables.update(overrides)
    return variables


@contextlib.contextmanager
def serve(app: Any = None, **create_app_options: Any) -> Iterator[LiveTarget]:
    """Serve ``app`` (default: a fresh ``create_app(**create_app_options)``) until the block ends."""
    app = app if app is not None else create_app(**create_app_options)
    with serve_in_thread(app) as server:
        yield LiveTarget(server.origin, app)
