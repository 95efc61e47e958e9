"""The request header limit (GWS-HOST-007, E96): an ASGI middleware in front of every route.

uvicorn (httptools) reads a header section of any size and count; what it has read is refused here, before any
route sees it, with HTTP 431 and a GWS error. The memory uvicorn spent on it is spent, but nothing of the app runs
for such a request, and a client learns at once what is wrong.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from reference_impl.jsonio import SafeJSONResponse

__all__ = ["MAX_HEADERS", "MAX_HEADER_BYTES", "HeaderLimit"]

# Browsers and client libraries send a few KB of headers (cookies included); 64 KB is far past any of them.
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 200


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
