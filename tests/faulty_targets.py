"""Deliberately broken targets for the suite's own tests.

- ``rewriting(app, rewrite)``: the reference server with every JSON reply passed through
  ``rewrite(method, path, status, body) -> (status, body)`` (drop statusCode, 500 for bad input, ...);
- ``non_json_app``, ``slow_app``: ASGI apps that answer HTML, or drip a reply slower than any timeout;
- ``hanging_target()``, ``resetting_target()``: raw sockets that accept and never answer, or reset
  every connection — below HTTP, where no ASGI server can misbehave on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any

Rewrite = Callable[[str, str, int, Any], tuple[int, Any]]
ASGIApp = Callable[..., Any]


def rewriting(app: ASGIApp, rewrite: Rewrite) -> ASGIApp:
    """``app`` whose JSON replies under /api/v2 (not the CometD endpoint) go through ``rewrite``."""

    async def wrapped(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/v2") or path.startswith("/api/v2/notifications"):
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, capture)
        status, body = start["status"], b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if document is not None:
            status, document = rewrite(scope["method"], path.removeprefix("/api/v2"), status, document)
            body = json.dumps(document).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return wrapped


async def non_json_app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    """Answers every request with an HTML page, as a misconfigured proxy would."""
    if scope["type"] != "http":
        return
    body = b"<html><body>Service temporarily unavailable</body></html>"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/html"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def slow_app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    """Sends its headers at once, then a JSON body one byte per 0.2 s: each read is quick, the whole is not."""
    if scope["type"] != "http":
        return
    body = json.dumps({"statusCode": 0, "padding": "x" * 200}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    for index in range(len(body)):
        await send({"type": "http.response.body", "body": body[index : index + 1], "more_body": index < len(body) - 1})
        await asyncio.sleep(0.2)


@contextlib.contextmanager
def _socket_target(handle: Callable[[socket.socket], None]) -> Iterator[str]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            held.append(connection)
            handle(connection)

    thread = threading.Thread(target=serve, name="faulty-target", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/v2"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        listener.close()


def _hang(connection: socket.socket) -> None:
    pass  # accepted and held open: the request is read by nobody, no byte ever comes back


def _reset(connection: socket.socket) -> None:
    # SO_LINGER 0: close() sends RST instead of FIN, i.e. "connection reset by peer".
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def hanging_target() -> contextlib.AbstractContextManager[str]:
    """A base URL whose server accepts connections and never answers."""
    return _socket_target(_hang)


def resetting_target() -> contextlib.AbstractContextManager[str]:
    """A base URL whose server resets every connection at once."""
    return _socket_target(_reset)
