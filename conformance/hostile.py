"""Raw HTTP/1.1 below httpx, for the hostile-input battery (GWS-HOST, conformance/suite/protocol/test_hostile.py).

httpx refuses to send what an attacker sends (raw non-ASCII header bytes, a Content-Length larger than the body,
control bytes in the request target), so these requests go over a plain socket to the configured target's own
host and port (TLS when its URL is https), one request per connection (``Connection: close``). Every read is
bounded in time and size: a server that hangs or floods gives a reply marked as such, never a hung test.
"""

from __future__ import annotations

import base64
import http.client
import json
import select
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from conformance.client import Proxy, environment_proxy, tls_context
from conformance.errors import TargetUnreachable

__all__ = ["RawReply", "Target", "raw_request"]

# A reply larger than this is not read further: the battery only needs its status line and error body.
MAX_REPLY_BYTES = 1024 * 1024
SEND_PIECE_BYTES = 64 * 1024


@dataclass(frozen=True)
class RawReply:
    """What came back on the socket: ``status`` 0 when the connection closed before a status line."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    timed_out: bool = False

    def json(self) -> Any:
        """The body as JSON; None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def describe(self) -> str:
        if self.status == 0:
            return "the connection ended without a reply" + (" (timed out)" if self.timed_out else "")
        return f"HTTP {self.status} {self.headers.get('content-type', '')}: {self.body[:300]!r}"


@dataclass(frozen=True)
class Target:
    """Where raw requests go: the host and port of ``url`` and its path prefix (e.g. /api/v2)."""

    url: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path.rstrip("/")

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "https"


def raw_request(
    target: Target,
    method: bytes,
    path: bytes,
    *,
    headers: tuple[bytes, ...] = (),
    body: bytes = b"",
    content_length: int | None = None,
    timeout_s: float,
    half_close: bool = False,
) -> RawReply:
    """Send one request exactly as given (``path`` appended to the target's path) and read the reply.

    ``content_length``: the Content-Length to declare when it is not the body's length (a lie). ``half_close``:
    shut the sending side after the request, as a client that gave up on the rest of its body.
    """
    lines = [method + b" " + target.path.encode() + path + b" HTTP/1.1", b"Host: " + target.host.encode()]
    lines += [b"Connection: close", *headers]
    if body or content_length is not None:
        lines.append(b"Content-Length: %d" % (len(body) if content_length is None else content_length))
    request = b"\r\n".join(lines) + b"\r\n\r\n" + body
    received = bytearray()
    timed_out = False
    try:
        connected = _connect(target, timeout_s)
    except OSError as exc:  # no connection (refused, no such host, a proxy's refused tunnel, TLS): no reply at all
        raise TargetUnreachable(f"no connection to {target.host}:{target.port} for a raw request: {exc}") from exc
    try:
        with connected as sock:
            _send(sock, request)
            if half_close and not target.tls:  # TLS has no half-close: the read timeout ends the wait instead
                sock.shutdown(socket.SHUT_WR)
            while len(received) < MAX_REPLY_BYTES:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received.extend(chunk)
    except TimeoutError:
        timed_out = True
    except OSError:
        pass  # a reset: whatever arrived before it is the reply
    return _parse(bytes(received), timed_out)


def _send(sock: socket.socket, request: bytes) -> None:
    """Send ``request`` in pieces, stopping early when the server has answered (a refused oversized body): sending on
    would only meet a reset that discards the answer."""
    for start in range(0, len(request), SEND_PIECE_BYTES):
        if start and select.select([sock], [], [], 0)[0]:
            return
        try:
            sock.sendall(request[start : start + SEND_PIECE_BYTES])
        except OSError:  # the server closed its side: what it answered is still to be read
            return


def _connect(target: Target, timeout_s: float) -> socket.socket:
    proxy = environment_proxy(target.url)
    if proxy is None:
        sock = socket.create_connection((target.host, target.port), timeout=timeout_s)
    else:
        sock = _tunnel(proxy, target, timeout_s)
    if not target.tls:
        return sock
    context: ssl.SSLContext = tls_context()
    return context.wrap_socket(sock, server_hostname=target.host)


def _tunnel(proxy: Proxy, target: Target, timeout_s: float) -> socket.socket:
    """A connection to ``target`` through a CONNECT tunnel of ``proxy`` (the environment's, as for every client of
    the suite): the raw bytes pass through it unchanged, where a forwarding proxy would parse the hostile request
    and answer for the server. OSError when the proxy refuses the tunnel, or is spoken to over TLS (an https://
    proxy URL), which this tunnel does not do."""
    proxy_address = urlsplit(proxy.url)
    if proxy_address.scheme != "http":
        raise OSError(f"the raw requests tunnel through an http:// proxy only, not {proxy.url}")
    connection = http.client.HTTPConnection(proxy_address.hostname or "", proxy_address.port or 80, timeout=timeout_s)
    headers = {}
    if proxy.credentials is not None:
        token = base64.b64encode(":".join(proxy.credentials).encode()).decode("ascii")
        headers["Proxy-Authorization"] = f"Basic {token}"
    connection.set_tunnel(target.host, target.port, headers=headers)
    connection.connect()  # the CONNECT exchange
    sock, connection.sock = connection.sock, None  # the tunnel is the caller's now
    assert sock is not None
    return sock


def _parse(raw: bytes, timed_out: bool) -> RawReply:
    head, separator, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    parts = status_line.split()
    if not separator or len(parts) < 2 or not parts[1].isdigit():
        return RawReply(0, timed_out=timed_out)
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    return RawReply(int(parts[1]), headers, body, timed_out)


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out.extend(rest[:size])
        body = rest[size + 2 :]
    return bytes(out)
