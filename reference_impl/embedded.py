"""Serve an ASGI app with uvicorn in a background thread, on a socket bound before the server starts.

Binding first means the port is known (``port=0`` picks a free one) and a client may connect at once —
the kernel queues the connection until uvicorn accepts it — so nothing ever polls for the server to
"come up". ``gws-reference serve``, ``gws-conformance run`` (its embedded target) and the project's
tests all start servers through this one function.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http import h11_impl

try:
    # Imported with this module, not when a server starts: a module first imported inside a pytester inline run is
    # dropped from sys.modules after it, and a re-imported httptools no longer matches its compiled parser's
    # exceptions (an upgrade request then escapes as HttpParserUpgrade and the websocket is dropped).
    from uvicorn.protocols.http import httptools_impl
except ImportError:  # uvicorn without httptools: its own (h11) protocol
    httptools_impl = None  # type: ignore[assignment]

__all__ = ["EmbeddedServer", "serve_in_thread"]

# Seconds a stopping server gives open connections (held /meta/connect polls, websockets) to finish.
GRACEFUL_SHUTDOWN_S = 1


@dataclass
class EmbeddedServer:
    """A running server: where it listens, and how to wait for it or stop it."""

    host: str
    port: int
    app: Any
    _server: uvicorn.Server
    _thread: threading.Thread
    scheme: str = "http"

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API's base URL (what GWS_BASE_URL names)."""
        return f"{self.origin}/api/v2"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server thread ends (or ``timeout``); True when it has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self) -> None:
        self._server.should_exit = True
        # Shutdown waits at most GRACEFUL_SHUTDOWN_S for connections, then a little to close the loop.
        self._thread.join(timeout=GRACEFUL_SHUTDOWN_S + 9)


# uvicorn's log line for a request its parser cannot read (httptools_impl and h11_impl alike).
INVALID_REQUEST = "Invalid HTTP request received."


def _parse_error(msg: str) -> bytes:
    return json.dumps({"statusCode": 2, "statusMessage": msg}).encode()


class _ParseErrorsAtInfo(logging.Filter):
    """uvicorn's line for an unreadable request, at INFO (E101): the JSON reply tells the client, the server is not
    at fault, and the suite's embedded run provokes such requests on purpose. Every other record passes as is."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self.logger = logger

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and record.msg == INVALID_REQUEST:
            record.levelno, record.levelname = logging.INFO, "INFO"
            return self.logger.isEnabledFor(logging.INFO)
        return True


def _protocol_logger(logger: logging.Logger) -> logging.Logger:
    """A child of uvicorn's logger (its handlers and level) that logs unreadable requests at INFO."""
    child = logger.getChild("requests")
    if not child.filters:
        child.addFilter(_ParseErrorsAtInfo(child))
    child.setLevel(logger.getEffectiveLevel())  # uvicorn reads the protocol logger's own level (its TRACE check)
    return child


def _http_protocol(parser: str = "httptools") -> Any:
    """uvicorn's HTTP protocol, its refusal of a request it cannot parse (a raw NUL in the path, control bytes in a
    header) answered as a GWS error rather than text (GWS-HOST-006, E94, E101): httptools' where it is installed
    (unless ``parser`` is "h11"), h11's (uvicorn's fallback) otherwise."""
    if httptools_impl is None or parser == "h11":
        return _JsonErrorsH11Protocol

    class JsonErrorsProtocol(httptools_impl.HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.logger = _protocol_logger(self.logger)

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            self._lingering = _LingeringTransport(transport, self)
            super().connection_made(self._lingering)  # type: ignore[arg-type]

        def data_received(self, data: bytes) -> None:
            if not self._lingering.lingering:  # after the reply's end, what comes is thrown away unparsed
                super().data_received(data)

        def send_400_response(self, msg: str) -> None:
            body = _parse_error(msg)
            head = [b"HTTP/1.1 400 Bad Request\r\n"]
            head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
            head += [b"content-type: application/json\r\n", b"content-length: %d\r\n" % len(body)]
            self.transport.write(b"".join([*head, b"connection: close\r\n\r\n", body]))
            self.transport.close()

    return JsonErrorsProtocol


# RFC 9112, section 9.6: a server that closes a connection with request bytes unread makes its kernel reset it, and
# across a network the reset can overtake the reply, which the client then never reads. uvicorn closes right after a
# reply to a request that asked to (Connection: close), even when it answered before the body was in: the refusal of
# an oversized body (E96), which a client 50 ms away saw as "the connection ended without a reply". So the closing
# lingers: the reply's end is marked (FIN), what the client still sends is read and thrown away (uvicorn's parser
# drops the body of an answered request), and the connection closes when the client closes its side or after
# LINGER_S, whichever comes first.
LINGER_S = 2.0


class _LingeringTransport:
    """The connection's transport as uvicorn's protocol sees it; ``close`` lingers while a request body is unread."""

    def __init__(self, transport: asyncio.Transport, protocol: Any) -> None:
        self._transport = transport
        self._protocol = protocol
        self.lingering = False

    def close(self) -> None:
        cycle = getattr(self._protocol, "cycle", None)
        unread = cycle is not None and cycle.more_body and cycle.response_complete
        if self.lingering or not unread or self._transport.is_closing() or not self._transport.can_write_eof():
            self._transport.close()
            return
        self.lingering = True
        self._transport.write_eof()
        self._transport.resume_reading()  # uvicorn paused it while the body piled up unread
        asyncio.get_running_loop().call_later(LINGER_S, self._transport.close)

    def is_closing(self) -> bool:
        return self.lingering or self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _JsonErrorsH11Protocol(h11_impl.H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.logger = _protocol_logger(self.logger)

    def send_400_response(self, msg: str) -> None:
        body = _parse_error(msg)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            (b"connection", b"close"),
        ]
        event = h11.Response(status_code=400, headers=headers, reason=b"Bad Request")
        for output in (self.conn.send(event), self.conn.send(h11.Data(data=body)), self.conn.send(h11.EndOfMessage())):
            if output is not None:
                self.transport.write(output)
        self.transport.close()


@contextlib.contextmanager
def serve_in_thread(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    log_level: str = "warning",
    access_log: bool = False,
    parser: str = "httptools",
    tls_certificate: str | None = None,
    server_headers: bool = True,
) -> Iterator[EmbeddedServer]:
    """Serve ``app`` on ``host:port`` (0: a free port) until the block ends; ``parser`` "h11" serves with uvicorn's
    pure-Python fallback, as where httptools is not installed; ``tls_certificate`` (a PEM file holding the private
    key and the certificate chain) serves it over TLS: https and wss; ``server_headers`` False adds no Date and
    Server headers of uvicorn's own (a proxy forwards its upstream's: two Date headers are one too many).

    Raises OSError when the address cannot be bound (port taken, address not local), before any
    thread starts.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=access_log,
        lifespan="off",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        http=_http_protocol(parser),
        ssl_certfile=tls_certificate,
        ssl_keyfile=tls_certificate,
        server_header=server_headers,
        date_header=server_headers,
    )
    server = uvicorn.Server(config)
    # uvicorn installs signal handlers only on the main thread, so Ctrl-C stays with the caller.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"serve-{bound_port}", daemon=True)
    thread.start()
    running = EmbeddedServer(host, bound_port, app, server, thread, "https" if tls_certificate else "http")
    try:
        yield running
    finally:
        running.stop()
        sock.close()
