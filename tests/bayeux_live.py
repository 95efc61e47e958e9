"""A tiny app around the Bayeux server, served on 127.0.0.1 in a thread, for the Bayeux tests.

reference_impl.embedded binds the socket first, so clients may connect at once: nothing waits for the
server to "come up". Messages are published through an HTTP route because the bus lives on the
server's event loop, not on the test's.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from conformance.contract import SPEC_ROOT, validate
from reference_impl.bayeux import BayeuxServer
from reference_impl.embedded import serve_in_thread
from reference_impl.events import EventBus

PASSWORDS = {"agent1": "agent1-pw", "agent2": "agent2-pw", "supervisor": "supervisor-pw"}
AGENT_TOPICS = {"/v2/me", "/v2/me/calls", "/v2/me/channels", "/v2/me/devices", "/v2/me/interactions", "/v2/me/workbins"}
PUBLISH_PATH = "/test/publish"

META_SCHEMAS = {
    "/meta/handshake": "BayeuxHandshakeReply",
    "/meta/connect": "BayeuxConnectReply",
    "/meta/subscribe": "BayeuxSubscribeReply",
    "/meta/unsubscribe": "BayeuxUnsubscribeReply",
    "/meta/disconnect": "BayeuxDisconnectReply",
}


def basic(user: str, password: str | None = None) -> str:
    token = base64.b64encode(f"{user}:{password or PASSWORDS[user]}".encode()).decode()
    return f"Basic {token}"


def allowed_topics(user_id: str) -> set[str]:
    return AGENT_TOPICS | {"/v2/users"} if user_id == "supervisor" else set(AGENT_TOPICS)


def contract_errors(message: dict[str, Any]) -> list[str]:
    """Schema violations of a server message, once spec/notifications holds its schema (empty until then)."""
    channel = str(message.get("channel"))
    if channel.startswith("/meta/"):
        name = META_SCHEMAS.get(channel)
    else:
        # A reply to a client's publish carries "successful" and no data; the contract has no schema for it.
        name = None if "successful" in message else "bayeux-message"
    if name is None or not (SPEC_ROOT / "notifications" / f"{name}.json").is_file():
        return []
    return validate(f"notifications/{name}.json", message)


def contract_schemas_present() -> bool:
    return all((SPEC_ROOT / "notifications" / f"{n}.json").is_file() for n in META_SCHEMAS.values())


@dataclass
class FakeClock:
    """Session expiry reads this clock: a test moves time forward instead of waiting."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class LiveServer:
    base_url: str
    bayeux: BayeuxServer
    clock: FakeClock
    # Called on the server thread with the path of every authenticated Bayeux request, before the server
    # looks at its messages (and so before a connect in it is held).
    on_request: list[Callable[[str], None]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.base_url}/api/v2/notifications"

    def request_seen(self, path_suffix: str, loop: asyncio.AbstractEventLoop) -> asyncio.Event:
        """An event on ``loop`` set when the next Bayeux request whose path ends with ``path_suffix`` arrives."""
        seen = asyncio.Event()

        def hook(path: str) -> None:
            if path.endswith(path_suffix) and hook in self.on_request:
                self.on_request.remove(hook)
                loop.call_soon_threadsafe(seen.set)

        self.on_request.append(hook)
        return seen


def _user_of(connection: HTTPConnection) -> str | None:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user if PASSWORDS.get(user) == password else None


@contextlib.contextmanager
def serve(*, timeout_ms: int = 2000, session_idle_ms: int | None = None) -> Iterator[LiveServer]:
    bus = EventBus()
    clock = FakeClock()
    hooks: list[Callable[[str], None]] = []

    async def authenticate(connection: HTTPConnection) -> str | None:
        user = _user_of(connection)
        if user is not None:
            for hook in list(hooks):
                hook(connection.url.path)
        return user

    async def publish(request: Request) -> JSONResponse:
        # Publishes for the caller, or for body["user"] (to test that one user's message stays his).
        caller = _user_of(request)
        if caller is None:
            return JSONResponse({"statusCode": 3, "statusMessage": "authentication required"}, status_code=401)
        body = await request.json()
        bus.publish(body.get("user", caller), body.get("topic", "/v2/me/calls"), body.get("data", {}))
        return JSONResponse({"statusCode": 0})

    bayeux = BayeuxServer(
        bus,
        authenticate,
        allowed_topics=allowed_topics,
        timeout_ms=timeout_ms,
        session_idle_ms=session_idle_ms,
        clock=clock,
    )
    app = Starlette(routes=[*bayeux.routes, Route(PUBLISH_PATH, publish, methods=["POST"])])

    with serve_in_thread(app) as server:
        yield LiveServer(server.origin, bayeux, clock, hooks)
