"""HTTP/1.1 for the load generator: keep-alive ``http.client`` connections, one per origin, for one user.

A simulated agent always speaks to the same server with the same credentials, so ``requests``' work on every
request (session settings merged into each request, the cookie jar, the URL parsed and re-encoded, a
connection pool looked up) buys it nothing; at 200 long-polling agents that work was two thirds of the load
generator's CPU, and a generator short of CPU delays every delivery it measures. Under Locust the sockets are
gevent's (monkey-patched), so a blocked read yields to the other agents.

A kept-alive connection the server closed meanwhile fails on its next use; that request is sent once more on a
new connection (as urllib3 does). Any other failure (a timeout, the greenlet killed mid-request) closes the
connection, since it is then in an unknown state, and reaches the caller.
"""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Client", "Reply", "Sent"]

_RETRIED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


@dataclass(frozen=True)
class Sent:
    """The request as it was sent (what a check's evidence shows)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None


@dataclass(frozen=True)
class Reply:
    """A whole HTTP reply: status, headers and body read to the end."""

    status_code: int
    headers: http.client.HTTPMessage
    content: bytes
    request: Sent

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.content)


class Client:
    """One user's HTTP client: Basic credentials on every request, a kept-alive connection per origin."""

    def __init__(self, user: str, password: str) -> None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        self._connections: dict[tuple[str, str, int | None], http.client.HTTPConnection] = {}

    def request(self, method: str, url: str, json: Any = None, timeout: float = 10.0) -> Reply:
        """``json``: a body to send as application/json (None: no body)."""
        parts = urlsplit(url)
        origin = (parts.scheme, parts.hostname or "127.0.0.1", parts.port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = dict(self._headers)
        body = None
        if json is not None:
            body = _dumps(json)
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            reused = origin in self._connections
            connection = self._connections.get(origin) or _open(origin, timeout)
            self._connections[origin] = connection
            try:
                if connection.sock is not None:
                    connection.sock.settimeout(timeout)
                connection.request(method, target, body, headers)
                response = connection.getresponse()
                content = response.read()
            except _RETRIED:
                self._drop(origin)
                if attempt == 2 or not reused:
                    raise
                continue
            except BaseException:
                self._drop(origin)
                raise
            if response.will_close:
                self._drop(origin)
            return Reply(response.status, response.msg, content, Sent(method, url, headers, body))
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _drop(self, origin: tuple[str, str, int | None]) -> None:
        connection = self._connections.pop(origin, None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for origin in list(self._connections):
            self._drop(origin)


def _open(origin: tuple[str, str, int | None], timeout: float) -> http.client.HTTPConnection:
    scheme, host, port = origin
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=timeout)
    return http.client.HTTPConnection(host, port, timeout=timeout)


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()
