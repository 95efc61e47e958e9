"""The request header and query-string limits (GWS-HOST-007, E96; GWS-HOST-008, E101): ASGI middleware in front of
every route (the REST API, the notifications endpoint, the stimulus API); and the body limit every route that reads
a body applies (``read_body``, E96).

uvicorn (httptools) reads a header section and a request target of any size; what it has read is refused here,
before any route sees it, with HTTP 431 or 414 and a GWS error. The memory uvicorn spent on it is spent, but
nothing of the app runs for such a request, and a client learns at once what is wrong.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from reference_impl.jsonio import SafeJSONResponse

__all__ = [
    "MAX_HEADERS",
    "MAX_HEADER_BYTES",
    "MAX_QUERY_BYTES",
    "BodyIncomplete",
    "BodyTooLarge",
    "HeaderLimit",
    "QueryLimit",
    "read_body",
]

# Browsers and client libraries send a few KB of headers (cookies included); 64 KB is far past any of them.
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 200
# GWS runs on Jetty, whose default requestHeaderSize (8 KB, the request line included) refuses longer request
# targets with 414; Tomcat's maxHttpHeaderSize is 8 KB too. GWS's longest query (a field list) is far below it.
MAX_QUERY_BYTES = 8 * 1024


class HeaderLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope.get("headers", [])
            size = sum(len(name) + len(value) for name, value in headers)
            if size > MAX_HEADER_BYTES or len(headers) > MAX_HEADERS:
                body = {
                    "statusCode": 2,
                    "statusMessage": f"request headers exceed {MAX_HEADER_BYTES} bytes or {MAX_HEADERS} fields",
                }
                await SafeJSONResponse(body, status_code=431)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class QueryLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope.get("query_string", b"")) > MAX_QUERY_BYTES:
            body = {"statusCode": 2, "statusMessage": f"the query string exceeds {MAX_QUERY_BYTES} bytes"}
            await SafeJSONResponse(body, status_code=414)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodyTooLarge(Exception):
    """The body is (or declares itself) larger than the route's limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"exceeds {limit} bytes")
        self.limit = limit


class BodyIncomplete(Exception):
    """The sender went away before its whole body arrived (a Content-Length larger than what it sent)."""


async def read_body(request: Request, limit: int | None) -> bytes:
    """The body, no further than ``limit`` bytes (None: no limit): past it, refused before it is read whole or parsed
    (what the sender goes on sending is thrown away as it comes: reference_impl/embedded.py lingers)."""
    declared = request.headers.get("content-length", "")
    if limit is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    raw = bytearray()
    try:
        async for chunk in request.stream():
            raw.extend(chunk)
            if limit is not None and len(raw) > limit:
                raise BodyTooLarge(limit)
    except ClientDisconnect:
        raise BodyIncomplete from None
    return bytes(raw)
