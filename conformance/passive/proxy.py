"""A transparent recording proxy in front of a GWS server: every exchange judged as it ends, and kept as HAR.

    client ──HTTP / websocket──> Proxy (127.0.0.1:PORT) ──> upstream GWS server

REST calls, long-polling Bayeux posts and websockets pass through unchanged, with one exception a client needs:
a reply that names the upstream's own address (the absolute ``uri``, ``path`` and ``uris`` a GWS server returns,
a ``Location``, compressed bodies included, a cookie's ``Domain``) is given the proxy's address instead, so the
client's next request comes through the proxy too; a request that names the proxy's address is given the
upstream's, for the same reason the other way (conformance.passive.rewrite says how, and why so). Nothing else
changes by a byte: bodies are forwarded as read, binary attachments as they are, headers but the hop-by-hop ones
as they came (the proxy's server adds no Date or Server of its own: ``serve_in_thread(server_headers=False)``). A
websocket ends as the upstream ended it (its close code and reason: 1007, 1009, 1011 are what a server says about a
frame), a refused upgrade is the upstream's reply, and the client's own close code goes to the upstream.

An ``https`` upstream (``wss`` for websockets) is verified as every client of the suite verifies its target
(conformance.client.tls_context): httpx's trusted CAs, ``GWS_CA_BUNDLE`` for a private CA, ``GWS_INSECURE=1`` to
turn verification off. An upstream the proxy cannot reach or does not trust is answered 502 with a JSON
``statusMessage`` that says why.

Each exchange becomes a HAR entry as the client saw it (what a browser's own HAR holds) and goes to the passive
judge (conformance.passive.judge), a websocket frame by frame, in the order they passed; the judging itself waits
until a verdict is asked for (``Proxy.judged``), so it never stands between a client and its reply. ``Proxy`` is an ASGI
app: ``gws-conformance proxy`` serves it (conformance.passive.command) and writes the reports while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from conformance.client import Redactor, tls_context
from conformance.passive.har import Frame, basic_user, entry_from_har, har_entry
from conformance.passive.judge import Judge, WebsocketState
from conformance.passive.rewrite import Addresses, addresses, forwarded

__all__ = ["HOP_BY_HOP", "Proxy"]

# RFC 9110 section 7.6.1: meaningful for one connection only, never forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
# A held /meta/connect lasts the server's advised timeout (30 s for GWS) and more.
UPSTREAM_TIMEOUT_S = 120.0
_TIMEOUTS = httpx.Timeout(UPSTREAM_TIMEOUT_S).as_dict()


class Proxy:
    """The proxy as an ASGI app; ``entries`` is its recording (HAR entries), ``judge`` what it found so far."""

    def __init__(self, upstream: str, judge: Judge) -> None:
        parts = urlsplit(upstream)
        self.upstream = f"{parts.scheme}://{parts.netloc}"
        self._ws_upstream = self.upstream.replace("http", "ws", 1)  # https -> wss
        self.judge = judge
        self.entries: list[dict[str, Any]] = []
        # Judging (schema validation: about a millisecond an exchange) waits here, off the exchange's path, until
        # someone asks for the verdict (``judged``): the periodic reports, Ctrl-C. deque appends are thread-safe.
        self._pending: deque[Callable[[], None]] = deque()
        self._judging = threading.Lock()
        self._redactor = Redactor()
        self._upstream: httpx.AsyncHTTPTransport | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            if scope["type"] == "http":
                await self._exchange(scope, receive, send)
            elif scope["type"] == "websocket":
                await self._websocket(scope, receive, send)
        except asyncio.CancelledError:
            # The proxy is stopping (Ctrl-C) while a client waits (a held /meta/connect, an open websocket): uvicorn
            # cancels what still runs after its grace period. The client's connection ends with the proxy, as with any
            # server that stops; what it waited for is not recorded. Raised on, it would be a traceback per client.
            return

    # -- HTTP --------------------------------------------------------------------------------------------

    async def _exchange(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started, clock = datetime.now(UTC), time.monotonic()
        body = await _read_body(receive)
        here = _origin(scope)
        request_headers = _headers(scope)
        outward, inward = addresses(here, self.upstream), addresses(self.upstream, here)
        forwarded_body, _ = forwarded(body, outward, _header(request_headers, "content-encoding"))
        target = self.upstream + scope["raw_path"].decode("latin-1") + _query(scope)
        # The header bytes as received: a value that is no ASCII (raw credentials) goes through as it came.
        raw_headers = [(n, v) for n, v in scope.get("headers", ()) if n.decode("latin-1").lower() not in HOP_BY_HOP]
        request = httpx.Request(scope["method"], target, headers=raw_headers, content=forwarded_body)
        request.extensions["timeout"] = _TIMEOUTS
        try:
            # The transport, not a client: no cookie jar, no redirects, no decoding; each client's own headers and
            # the upstream's own bytes go through as they are.
            upstream = await self._transport().handle_async_request(request)
            try:
                content = b"".join([chunk async for chunk in upstream.stream])  # type: ignore[union-attr]
            finally:
                await upstream.aclose()
        except httpx.HTTPError as exc:
            # The cause too (an untrusted certificate: CERTIFICATE_VERIFY_FAILED): the client sees only this reply.
            message = f"proxy: upstream {type(exc).__name__}: {exc}".rstrip(": ")
            reply = json.dumps({"statusCode": 4, "statusMessage": message}).encode()
            await _respond(send, 502, [("content-type", "application/json")], reply)
            return
        response_headers = [
            (name, _response_header(name, value, inward))
            for name, value in _raw_headers(upstream.headers)
            if name.lower() not in HOP_BY_HOP
        ]
        content, decoded = forwarded(content, inward, upstream.headers.get("content-encoding"))
        if scope["method"] == "HEAD" or upstream.status_code == 304:
            # No body, but the length the upstream gave is the one of the representation (RFC 9110 8.6): kept.
            length = upstream.headers.get("content-length")
        else:
            length = None
        await _respond(send, upstream.status_code, response_headers, content, length)
        self._record(
            har_entry(
                started=started,
                elapsed_s=time.monotonic() - clock,
                method=scope["method"],
                url=here + scope["raw_path"].decode("latin-1") + _query(scope),
                http_version=f"HTTP/{scope.get('http_version', '1.1')}",
                request_headers=request_headers,
                request_body=body or None,
                status=upstream.status_code,
                reason=upstream.extensions.get("reason_phrase", b"").decode("latin-1"),
                response_headers=response_headers,
                response_body=decoded or None,
            )
        )

    def _transport(self) -> httpx.AsyncHTTPTransport:
        if self._upstream is None:
            self._upstream = httpx.AsyncHTTPTransport(verify=tls_context())
        return self._upstream

    def judged(self) -> Judge:
        """The judge, once everything recorded so far has been judged (in the order it happened)."""
        with self._judging:
            while self._pending:
                self._pending.popleft()()
        return self.judge

    def _record(self, raw: dict[str, Any], *, judged: bool = False) -> None:
        """Keep the entry; judge it later unless its frames are judged one by one."""
        self.entries.append(raw)
        if not judged:
            seq = len(self.entries)
            self._pending.append(
                lambda: self.judge.judge(entry_from_har(f"proxy#{seq - 1}", raw, self._redactor, seq=seq))
            )

    # -- websocket --------------------------------------------------------------------------------------

    async def _websocket(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started, clock = datetime.now(UTC), time.monotonic()
        here = _origin(scope).replace("http", "ws", 1)
        target = self._ws_upstream + scope["raw_path"].decode("latin-1") + _query(scope)
        request_headers = _headers(scope)
        passed = [(n, v) for n, v in request_headers if n.lower() in ("authorization", "cookie", "origin")]
        if (await receive())["type"] != "websocket.connect":
            return
        try:
            upstream = await connect(
                target,
                additional_headers=passed,
                subprotocols=scope.get("subprotocols") or None,
                max_size=None,
                compression=None,
                open_timeout=UPSTREAM_TIMEOUT_S,
                ssl=tls_context() if target.startswith("wss:") else None,
            )
        except InvalidStatus as exc:  # the upstream's refusal (401, 403...), headers and body as it sent them
            back = addresses(self.upstream, here.replace("ws", "http", 1))
            headers = _handshake_headers(list(exc.response.headers.raw_items()), back)
            await _refuse_upgrade(send, exc.response.status_code, headers, bytes(exc.response.body))
            return
        except (InvalidHandshake, OSError, TimeoutError) as exc:
            message = f"proxy: upstream {type(exc).__name__}: {exc}".rstrip(": ")
            body = json.dumps({"statusCode": 4, "statusMessage": message}).encode()
            await _refuse_upgrade(send, 502, [("content-type", "application/json")], body)
            return
        frames: list[Frame] = []
        back = addresses(self.upstream, here.replace("ws", "http", 1))
        upgraded = upstream.response.headers.raw_items() if upstream.response is not None else ()
        accept_headers = _handshake_headers(list(upgraded), back)
        await send(
            {
                "type": "websocket.accept",
                "subprotocol": upstream.subprotocol,
                "headers": [(n.encode("latin-1"), v.encode("latin-1")) for n, v in accept_headers],
            }
        )
        judged = _LiveFrames(self)
        seq, url = len(self.entries) + 1, here + scope["raw_path"].decode("latin-1")
        user = basic_user(_header(request_headers, "authorization"))
        self._pending.append(lambda: judged.open(self.judge.open_websocket(seq, url, user)))
        async with upstream:
            outward = asyncio.create_task(self._client_to_upstream(receive, upstream, frames, here, judged))
            inward = asyncio.create_task(self._upstream_to_client(upstream, send, frames, here, judged))
            done, pending = await asyncio.wait((outward, inward), return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await task
            for task in done:
                task.exception()  # a ConnectionClosed is how a socket ends: seen here, not logged as lost
        # The client learns how the upstream ended the socket, code and reason (1007 for a frame it could not read,
        # 1011 for its own failure...): a server's close code is part of what is judged. An upstream that dropped
        # the connection without a close frame is told as 1014 (RFC 6455's registry: a gateway's upstream failed).
        closed = upstream.protocol.close_rcvd
        code, reason = (closed.code, closed.reason) if closed is not None else (1014, "proxy: upstream dropped")
        with contextlib.suppress(Exception):  # the client may be gone already
            await send({"type": "websocket.close", "code": code, "reason": reason})
        self._record(
            har_entry(
                started=started,
                elapsed_s=time.monotonic() - clock,
                method="GET",
                url=here + scope["raw_path"].decode("latin-1") + _query(scope),
                http_version="HTTP/1.1",
                request_headers=request_headers,
                request_body=None,
                status=101,
                reason="Switching Protocols",
                response_headers=[],
                response_body=None,
                frames=frames,
            ),
            judged=True,
        )

    async def _client_to_upstream(
        self, receive: Any, upstream: ClientConnection, frames: list[Frame], here: str, judged: _LiveFrames
    ) -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                # The client's close code goes on; 1005 (none sent) and 1006 (dropped) are never sent on the wire.
                code = message.get("code", 1000)
                if code in (1005, 1006):
                    await upstream.close()
                else:
                    await upstream.close(code, message.get("reason") or "")
                return
            text = message.get("text")
            data: str | bytes = text if text is not None else message.get("bytes") or b""
            if isinstance(data, str):
                data = addresses(here.replace("ws", "http", 1), self.upstream).text(data)
                frames.append(Frame(True, datetime.now(UTC), 1, data))
                judged.sent(data)
            await upstream.send(data)

    async def _upstream_to_client(
        self, upstream: ClientConnection, send: Any, frames: list[Frame], here: str, judged: _LiveFrames
    ) -> None:
        async for data in upstream:
            if isinstance(data, str):
                data = addresses(self.upstream, here.replace("ws", "http", 1)).text(data)
                frames.append(Frame(False, datetime.now(UTC), 1, data))
                await send({"type": "websocket.send", "text": data})
                judged.received(data)
            else:
                await send({"type": "websocket.send", "bytes": data})

    async def aclose(self) -> None:
        if self._upstream is not None:
            await self._upstream.aclose()


class _LiveFrames:
    """A websocket's frames for the judge, one by one, in the order they passed."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.state: WebsocketState | None = None

    def open(self, state: WebsocketState | None) -> None:
        self.state = state

    def sent(self, data: str) -> None:
        self._later(Frame(True, datetime.now(UTC), 1, data))

    def received(self, data: str) -> None:
        self._later(Frame(False, datetime.now(UTC), 1, data))

    def _later(self, frame: Frame) -> None:
        self.proxy._pending.append(lambda: self._judge(frame))

    def _judge(self, frame: Frame) -> None:
        if self.state is not None:
            self.proxy.judge.judge_frame(self.state, frame)


def _origin(scope: dict[str, Any]) -> str:
    host = _header(_headers(scope), "host")
    if host is None:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
    return f"{scheme}://{host}"


def _query(scope: dict[str, Any]) -> str:
    query = scope.get("query_string") or b""
    return "?" + query.decode("latin-1") if query else ""


def _headers(scope: dict[str, Any]) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope.get("headers", ())]


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


def _raw_headers(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers.raw]


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(
    send: Any, status: int, headers: list[tuple[str, str]], body: bytes, length: str | None = None
) -> None:
    """The reply, its Content-Length that of ``body`` (rewritten bodies change length) unless ``length`` is given
    (a HEAD or 304 reply: the upstream's, or none); a 1xx or 204 has none (RFC 9110 8.6)."""
    raw = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers]
    if length is None and status >= 200 and status != 204:
        length = str(len(body))
    if length is not None:
        raw.append((b"content-length", length.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


# The handshake's own headers are the proxy's to make with the client (RFC 6455 section 4.2.2), never forwarded.
_HANDSHAKE = HOP_BY_HOP | {"sec-websocket-accept", "sec-websocket-extensions", "sec-websocket-protocol"}


def _handshake_headers(headers: list[tuple[str, str]], inward: Addresses) -> list[tuple[str, str]]:
    """The upstream's upgrade reply headers the client should see (a Set-Cookie, a WWW-Authenticate...)."""
    return [(n, _response_header(n, v, inward)) for n, v in headers if n.lower() not in _HANDSHAKE]


async def _refuse_upgrade(send: Any, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    """A refused upgrade as a plain HTTP reply (the ASGI websocket denial response)."""
    raw = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "websocket.http.response.start", "status": status, "headers": raw})
    await send({"type": "websocket.http.response.body", "body": body})


def _response_header(name: str, value: str, inward: Addresses) -> str:
    lowered = name.lower()
    if lowered == "location":
        return inward.text(value)
    if lowered == "set-cookie":
        return inward.cookie(value)
    return value
