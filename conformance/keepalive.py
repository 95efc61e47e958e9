"""A pooled keep-alive connection closed under a request: how the client tells it, and what it may send again.

conformance/client.py's docstring says why and when a request is retried; docs/remote-targets.md says it
for users.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

__all__ = ["KEEPALIVE_EXPIRY_S", "RETRIED_METHODS", "ConnectionTrace", "StaleConnection"]

# Retried once after a stale keep-alive connection. HTTP calls PUT and DELETE idempotent too, but in GWS they
# change state that is announced by notifications: had the first attempt reached the server after all, the
# retry would be answered as a second change (a duplicated message, a "not found"), which the suite would
# then judge as the server's fault. Safe methods change nothing, whoever saw them.
RETRIED_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Seconds a pooled connection may sit idle before the client drops it rather than reuses it: below the 5 s
# keep-alive timeout of uvicorn and Apache httpd (the shortest common default; Jetty, nginx and load balancers
# keep 30-75 s) by more than any round trip the suite expects, so that a request, POST included, seldom meets a
# connection the server is closing. The retry above covers what this leaves.
KEEPALIVE_EXPIRY_S = 4.0


class StaleConnection(Exception):
    """The request met a pooled connection closed under it, and may be sent once more."""


class ConnectionTrace:
    """httpcore's trace of one attempt: whether it opened a connection, and how far the answer came."""

    def __init__(self) -> None:
        self.connected = False
        self.answer_began = False

    def __call__(self, event: str, info: Mapping[str, Any]) -> None:
        if event == "connection.connect_tcp.started":
            self.connected = True
        elif event in ("http11.receive_response_headers.complete", "http2.receive_response_headers.complete"):
            self.answer_began = True

    def stale_connection(self, exc: httpx.HTTPError) -> bool:
        """The attempt went out on a pooled connection that was closed (or reset) before any answer came."""
        if self.connected or self.answer_began:
            return False
        if isinstance(exc, httpx.RemoteProtocolError):
            # h11's words for a close while it still waited for the status line; any other protocol error is
            # something the server sent.
            return "without sending a response" in str(exc)
        return isinstance(exc, httpx.ReadError | httpx.WriteError)
