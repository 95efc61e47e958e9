"""HTTP/1.1 for the load generator: keep-alive ``http.client`` connections, one per origin, for one user.

A simulated agent always speaks to the same server with the same credentials, so ``requests``' work on every
request (session settings merged into each request, the cookie jar, the URL parsed and re-encoded, a
connection pool looked up) buys it nothing; at 200 long-polling agents that work was two thirds of the load
generator's CPU, and a generator short of CPU delays every delivery it measures. Under Locust the sockets are
gevent's (monkey-patched), so a blocked read yields to the other agents.

An idle connection the server has closed is not reused (checked as urllib3 does). One it closes in the instant
the request goes out fails before any byte of a reply; a safe request (GET) is then sent once more on a new
connection, a POST is not: the client cannot tell "the server never read it" from "the server read it and
closed", and a state change sent twice would be judged as the server's duplicate (the suite's rule,
conformance.keepalive.RETRIED_METHODS). Any other failure (a timeout, the greenlet killed mid-request) closes
the connection, since it is then in an unknown state, and reaches the caller.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from conformance.keepalive import RETRIED_METHODS

__all__ = ["Client", "Reply", "Sent"]

_RETRIED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
_Origin = tuple[str, str, int | None]


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
    """One user's HTTP client: Basic credentials on every request, kept-alive connections per origin.

    Safe for the greenlets of one user at once (an agent answers a call from its session's greenlet while its
    own task runs): a request takes an idle connection or opens one, and gives it back only once its reply is
    read whole, so no two requests ever share a connection.
    """

    def __init__(self, user: str, password: str) -> None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        self._idle: dict[_Origin, list[http.client.HTTPConnection]] = {}

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
            connection = self._take(origin) if attempt == 1 else None
            reused = connection is not None
            connection = connection or _open(origin, timeout)
            try:
                if connection.sock is not None:
                    connection.sock.settimeout(timeout)
                connection.request(method, target, body, headers)
                response = connection.getresponse()
                content = response.read()
            except _RETRIED:
                connection.close()
                if attempt == 2 or not reused or method not in RETRIED_METHODS:
                    raise
                continue
            except BaseException:
                connection.close()
                raise
            if response.will_close:
                connection.close()
            else:
                self._idle.setdefault(origin, []).append(connection)
            return Reply(response.status, response.msg, content, Sent(method, url, headers, body))
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _take(self, origin: _Origin) -> http.client.HTTPConnection | None:
        """An idle connection to ``origin`` the server has not closed meanwhile, as urllib3 checks before reusing
        one: readable while idle means its end of file (or bytes nobody asked for)."""
        idle = self._idle.get(origin, [])
        while idle:
            connection = idle.pop()
            if connection.sock is not None and not _readable(connection.sock):
                return connection
            connection.close()
        return None

    def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()


def _readable(sock: socket.socket) -> bool:
    """Whether ``sock`` could be read now, without waiting. A peek, not select(): a load generator holds more
    than select's 1024 descriptors."""
    timeout = sock.gettimeout()
    sock.settimeout(0.0)
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return False
    except OSError:
        return True  # reset: as unusable as closed
    finally:
        sock.settimeout(timeout)
    return True


def _open(origin: _Origin, timeout: float) -> http.client.HTTPConnection:
    scheme, host, port = origin
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=timeout)
    return http.client.HTTPConnection(host, port, timeout=timeout)


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()
