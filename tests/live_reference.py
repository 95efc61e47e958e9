"""Serve an ASGI app (by default the reference server) with uvicorn on 127.0.0.1, in a thread.

The listening socket is bound before uvicorn starts, so a client may connect at once (the kernel
queues the connection): nothing polls for the server to "come up". Used by every test that needs a
target on a real socket — the plugin and fuzz tests, the robustness tests' faulty servers.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

from reference_impl.app import create_app

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
        """GWS_* variables that point the suite at this target with the fixture's accounts."""
        variables = {"GWS_BASE_URL": self.base_url}
        for role, password in PASSWORDS.items():
            variables[f"GWS_{role.upper()}_PASSWORD"] = password
        variables.update(overrides)
        return variables


@contextlib.contextmanager
def serve(app: Any = None, **create_app_options: Any) -> Iterator[LiveTarget]:
    """Serve ``app`` (default: a fresh ``create_app(**create_app_options)``) until the block ends."""
    app = app if app is not None else create_app(**create_app_options)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="live-target", daemon=True)
    thread.start()
    try:
        yield LiveTarget(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
