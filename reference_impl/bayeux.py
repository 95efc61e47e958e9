"""CometD (Bayeux 1.0) server for /api/v2/notifications, fed by the event bus.

Transports: long-polling (HTTP POST of a JSON array of messages, answered by a JSON array) and websocket
(text frames carrying the same arrays) on the same path. Clients that append the message type to the URL
(``/api/v2/notifications/handshake``, ``/connect``: the CometD JavaScript client's default, E84) reach the same
endpoint; the message's ``channel`` decides.

Sessions. ``/meta/handshake`` creates a client session owned by the authenticated user; the session holds one
event-bus subscription for that user, so only that user's messages can ever reach it. Every request (each
POST, each websocket upgrade) is authenticated again: a clientId presented by another user is unknown to it.
A session that has not polled for ``session_idle_ms`` (default: 3 x the advised timeout) expires; expiry is
checked whenever a request arrives, so a silent server holds at most a bounded queue per dead session.

Delivery. The first ``/meta/connect`` after a handshake is answered at once (the client learns it is
connected). Later ones are held until a message is queued for that client or the advised timeout elapses;
a client may advise a shorter one, and a connect advising ``timeout: 0`` is answered at once (E86).
A subscription may be a Bayeux channel pattern (``/v2/me/*``, ``/**``, E85): granted when it matches a topic
the user may subscribe to, it delivers the matching topics among those, each message once however many of
the client's subscriptions match it.
Long-polling returns the messages in the reply to the held connect; over websocket they are pushed as soon
as they are published and the held connect is answered at the timeout. A message is delivered when its topic
was subscribed before it was published (Bayeux: no message from before the subscription).

Errors follow the Bayeux "code:args:message" form: 401 (no credentials), 402 (unknown or expired client,
advice reconnect "handshake", which every client library answers with a new handshake), 403 (topic not
allowed for that user, or a publish: GWS clients only listen), 400 (malformed message).

Hostile input (GWS-HOST, E94-E96). A body is read no further than ``max_body_bytes`` (413, before it is parsed
or its sender authenticated); it is parsed by reference_impl/jsonio.py (too deep, a lone surrogate, not UTF-8:
HTTP 400 with a ``400::`` reply on ``/meta/unknown``; over websocket, close code 1007, or 1009 past the size).
One user holds at most ``max_sessions`` sessions: a handshake past it ends that user's oldest.

Credentials that change (E102). ``revoke_clients(user_id)`` ends a user's sessions once they have delivered what was
queued for them before (the outcome of the password change itself): the next or held connect carries it and then
answers 402, a websocket gets it pushed; nothing published afterwards reaches them. Every websocket frame is
authenticated again with what the upgrade carried, as every long-polling POST is: a socket opened with a password
that changed since (or with a session cookie that ended) is closed (1008) instead of serving a new handshake.

Fault modes (reference_impl/faults.py) reach the protocol through three optional seams: ``filter_request``
sees every incoming message before it is answered, ``filter_reply(message, reply)`` every meta reply, and
``around_batch(messages, answer)`` wraps the answering of each long-polling POST; ``subpaths=False`` leaves
the sub-path routes out; ``parse_json``, ``max_body_bytes=None``, ``max_sessions=None`` and
``close_codes=False`` (an oversized websocket frame drops the socket, E101) switch the hostile-input defences off;
``reauthenticate=False`` serves a websocket's frames on the credentials of its upgrade.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Coroutine
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from reference_impl.events import EventBus, Subscription
from reference_impl.jsonio import JsonInputError, SafeJSONResponse, parse
from reference_impl.limits import BodyIncomplete, BodyTooLarge, read_body

__all__ = [
    "CONNECTION_TYPES",
    "DEFAULT_TIMEOUT_MS",
    "MAX_BODY_BYTES",
    "MAX_SESSIONS_PER_USER",
    "NOTIFICATIONS_PATH",
    "BayeuxServer",
    "channel_matches",
]

NOTIFICATIONS_PATH = "/api/v2/notifications"
# The seed's captures advise 30 s; tests pass a short one.
DEFAULT_TIMEOUT_MS = 30_000
# E96: what a batch of Bayeux messages may weigh (the REST limit); more is refused before it is read or authenticated.
MAX_BODY_BYTES = 1024 * 1024
# E96 as well: one user's concurrent sessions; a new handshake past it ends that user's oldest session.
MAX_SESSIONS_PER_USER = 50
# Only what this module actually serves: a client must never be told to try callback-polling.
CONNECTION_TYPES = ("websocket", "long-polling")
# Server-generated message ids carry this prefix: clients number their own messages "0", "1", ... and
# aiocometd's websocket transport pairs replies with requests by id alone.
SERVER_ID_PREFIX = "srv-"

Message = dict[str, Any]
Authenticate = Callable[[HTTPConnection], Awaitable[str | None]]
AllowedTopics = Callable[[str], Collection[str]]
Clock = Callable[[], float]
Send = Callable[[list[Message]], Awaitable[None]]
RequestFilter = Callable[[Message], Message]
ReplyFilter = Callable[[Message, Message], Message]
BatchWrapper = Callable[[list[Any], Callable[[], Awaitable[list[Message]]]], Awaitable[list[Message]]]
Parser = Callable[[bytes | str], Any]

HANDSHAKE, CONNECT, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT = (
    "/meta/handshake",
    "/meta/connect",
    "/meta/subscribe",
    "/meta/unsubscribe",
    "/meta/disconnect",
)

# Why a session ended -> what a connect still held for it answers.
ENDED_BY_DISCONNECT = "disconnect"
ENDED_BY_SERVER = "server"  # idle expiry or drop_clients()


def channel_matches(pattern: str, channel: str) -> bool:
    """Bayeux channel globbing: ``/a/*`` matches one more segment, ``/a/**`` any number of them."""
    if pattern.endswith("/**"):
        return channel.startswith(pattern[:-2]) and len(channel) > len(pattern) - 2
    if pattern.endswith("/*"):
        rest = channel[len(pattern) - 1 :]
        return channel.startswith(pattern[:-1]) and bool(rest) and "/" not in rest
    return pattern == channel


def _is_wildcard(channel: str) -> bool:
    return channel.endswith(("/*", "/**"))


def _reply(message: Message, **fields: Any) -> Message:
    """A reply on the message's channel, echoing its id (clients pair replies with requests by id)."""
    reply: Message = {"channel": message.get("channel"), **fields}
    if "id" in message:
        reply["id"] = message["id"]
    return reply


def _failure(message: Message, error: str, **fields: Any) -> Message:
    echo = {key: message[key] for key in ("clientId", "subscription") if key in message}
    return _reply(message, successful=False, error=error, **echo, **fields)


def _unknown_client(message: Message) -> Message:
    return _failure(message, "402::Unknown client", advice={"reconnect": "handshake", "interval": 0})


def _unauthenticated(message: Message) -> Message:
    # reconnect "none": retrying with the same (missing or wrong) credentials cannot succeed.
    return _failure(message, "401::Authentication required", advice={"reconnect": "none"})


class _Client:
    """One Bayeux client session: its owner, its bus subscription and the channels it subscribed."""

    def __init__(self, client_id: str, user_id: str, events: Subscription, allowed: set[str], now: float) -> None:
        self.id = client_id
        self.user_id = user_id
        self.events = events
        self.allowed = allowed
        # channel pattern -> bus position at subscription time: older messages are not for it
        self.channels: dict[str, int] = {}
        self.connected = False
        self.last_seen = now
        self.holding = 0
        # Set to release the connect currently held: a newer connect supersedes it, or the session ended.
        self.wake = asyncio.Event()
        self.ended: str | None = None

    def wants(self, position: int, topic: str) -> bool:
        return topic in self.allowed and any(
            since <= position and channel_matches(pattern, topic) for pattern, since in self.channels.items()
        )


class BayeuxServer:
    """The client sessions and the protocol; ``routes`` mounts it into a Starlette app."""

    def __init__(
        self,
        bus: EventBus,
        authenticate: Authenticate,
        *,
        allowed_topics: AllowedTopics,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        session_idle_ms: int | None = None,
        clock: Clock = time.monotonic,
        path: str = NOTIFICATIONS_PATH,
        filter_request: RequestFilter | None = None,
        filter_reply: ReplyFilter | None = None,
        around_batch: BatchWrapper | None = None,
        subpaths: bool = True,
        check_owner: bool = True,
        parse_json: Parser = parse,
        max_body_bytes: int | None = MAX_BODY_BYTES,
        max_sessions: int | None = MAX_SESSIONS_PER_USER,
        close_codes: bool = True,
        reauthenticate: bool = True,
    ) -> None:
        """``authenticate`` returns the user id of a request or websocket upgrade (Basic credentials or the session
        cookie: the app decides) or None; ``allowed_topics(user_id)`` the topics that user may subscribe to (e.g.
        /v2/users only for supervisors and admins). ``timeout_ms`` is the advised (and held) connect timeout.
        ``filter_request``, ``filter_reply`` and ``around_batch``: the fault seams (module docstring);
        ``subpaths=False`` serves nothing below the endpoint path (only a fault mode wants that: every CometD client
        may post there); ``check_owner=False`` serves a clientId to any user (only a fault mode wants that either: it
        hands sessions over); ``routes`` mounts the server at /api/v2/notifications (long-polling and websocket).
        """
        if timeout_ms < 0:
            raise ValueError("timeout_ms must not be negative")
        self.timeout_ms = timeout_ms
        self.session_idle_ms = session_idle_ms if session_idle_ms is not None else 3 * timeout_ms
        self._bus = bus
        self._authenticate = authenticate
        self._allowed_topics = allowed_topics
        self._clock = clock
        self._filter_request = filter_request
        self._filter_reply = filter_reply
        self._around_batch = around_batch
        self._check_owner = check_owner
        self._parse = parse_json
        self._max_body_bytes = max_body_bytes
        self._max_sessions = max_sessions
        self.close_codes = close_codes
        self.reauthenticate = reauthenticate
        self._clients: dict[str, _Client] = {}
        self._message_ids = itertools.count(1)
        # Every meta channel but connect (the only one that waits): channel -> handler(user, client, message).
        self._meta: dict[str, Callable[[str, _Client | None, Message], Message]] = {
            HANDSHAKE: self._handshake,
            SUBSCRIBE: self._subscribe,
            UNSUBSCRIBE: self._unsubscribe,
            DISCONNECT: self._disconnect,
        }
        self.routes: list[BaseRoute] = [
            Route(path, self._http, methods=["POST"]),
            WebSocketRoute(path, self._websocket),
        ]
        if subpaths:
            self.routes += [
                Route(path + "/{message_type:path}", self._http, methods=["POST"]),
                WebSocketRoute(path + "/{message_type:path}", self._websocket),
            ]

    # sessions --------------------------------------------------------------------------------------

    @property
    def client_count(self) -> int:
        return len(self._clients)

    @property
    def max_body_bytes(self) -> int | None:
        return self._max_body_bytes

    def parse_json(self, raw: bytes | str) -> Any:
        return self._parse(raw)

    def drop_clients(self, user_id: str | None = None) -> int:
        """End every session (or every session of ``user_id``), as a restart would; returns how many.

        Their clients get ``402::Unknown client`` and re-handshake (e.g. after a user's password changed).
        """
        doomed = [c for c in self._clients.values() if user_id is None or c.user_id == user_id]
        for client in doomed:
            self._end(client, ENDED_BY_SERVER)
        return len(doomed)

    def revoke_clients(self, user_id: str) -> int:
        """E102: ``user_id``'s credentials changed. Each of its sessions still delivers what was queued for it before
        (the outcome of the change itself) and then ends; nothing published from now on reaches it. Returns how many.
        """
        doomed = [c for c in self._clients.values() if c.user_id == user_id]
        for client in doomed:
            client.events.close(keep_queued=True)
            if not len(client.events):
                self._end(client, ENDED_BY_SERVER)
        return len(doomed)

    def authenticate(self, conn: HTTPConnection) -> Awaitable[str | None]:
        return self._authenticate(conn)

    def _end(self, client: _Client, reason: str) -> None:
        client.ended = reason
        self._clients.pop(client.id, None)
        client.events.close()
        client.wake.set()

    def _expire_idle(self) -> None:
        deadline = self._clock() - self.session_idle_ms / 1000
        for client in [c for c in self._clients.values() if not c.holding and c.last_seen < deadline]:
            self._end(client, ENDED_BY_SERVER)

    def _client_for(self, user_id: str, message: Message) -> _Client | None:
        client_id = message.get("clientId")
        client = self._clients.get(client_id) if isinstance(client_id, str) else None
        # Another user's clientId is answered exactly like a made-up one: nothing leaks.
        if client is None or (client.user_id != user_id and self._check_owner):
            return None
        # A revoked session (E102) is found only by the connect that takes what was left for it.
        return None if client.events.closed and message.get("channel") != CONNECT else client

    def _advice(self) -> Message:
        return {"reconnect": "retry", "interval": 0, "timeout": self.timeout_ms}

    def _take(self, client: _Client) -> list[Message]:
        return [
            {"channel": topic, "data": data, "id": f"{SERVER_ID_PREFIX}{next(self._message_ids)}"}
            for position, topic, data in client.events.drain_positioned()
            if client.wants(position, topic)
        ]

    # protocol --------------------------------------------------------------------------------------

    async def process(self, user_id: str, messages: list[Any], *, deliver: bool) -> list[Message]:
        """Answer one batch of messages from ``user_id``; ``deliver``: put queued events in the connect reply.

        The batch's connect is answered last, so subscriptions sent with it (aiocometd re-subscribes in the
        connect batch after a re-handshake) take effect before it may be held.
        """
        self._expire_idle()
        replies: list[Message] = []
        connect: Message | None = None
        for message in messages:
            channel = _message_channel(message)
            if channel is not None and self._filter_request is not None:
                message = self._filter_request(message)
            if channel is None:
                replies.append(_failure({"channel": "/meta/unknown"}, "400::Not a Bayeux message"))
            elif channel == CONNECT and connect is None:
                connect = message
            elif channel == CONNECT:
                replies.append(self._filtered(message, _failure(message, "400::Only one connect per request")))
            else:
                replies.append(self._filtered(message, self._answer(user_id, message)))
        if connect is not None:
            *events, reply = await self._connect(self._client_for(user_id, connect), connect, deliver=deliver)
            replies.extend([*events, self._filtered(connect, reply)])
        return replies

    def _filtered(self, message: Message, reply: Message) -> Message:
        return reply if self._filter_reply is None else self._filter_reply(message, reply)

    def _answer(self, user_id: str, message: Message) -> Message:
        channel: str = message["channel"]
        client = self._client_for(user_id, message)
        if client is not None:
            client.last_seen = self._clock()
        handler = self._meta.get(channel)
        if handler is not None:
            return handler(user_id, client, message)
        if channel.startswith("/meta/"):
            return _failure(message, "400::Unknown meta channel")
        if client is None:
            return _unknown_client(message)
        return _failure(message, "403::Publishing is not allowed")

    def _handshake(self, user_id: str, _: _Client | None, message: Message) -> Message:
        offered = message.get("supportedConnectionTypes")
        if isinstance(offered, list) and not set(offered) & set(CONNECTION_TYPES):
            return _failure(
                message,
                "400::No common connection type",
                supportedConnectionTypes=list(CONNECTION_TYPES),
                advice={"reconnect": "none"},
            )
        self._make_room(user_id)
        client = _Client(
            uuid.uuid4().hex,
            user_id,
            self._bus.subscribe(user_id),
            set(self._allowed_topics(user_id)),
            self._clock(),
        )
        self._clients[client.id] = client
        return _reply(
            message,
            successful=True,
            clientId=client.id,
            version="1.0",
            minimumVersion="1.0",
            supportedConnectionTypes=list(CONNECTION_TYPES),
            advice=self._advice(),
        )

    def _make_room(self, user_id: str) -> None:
        """E96: past the per-user limit, the user's oldest session ends (its next connect answers 402 and its client
        re-handshakes); refusing the new one instead would lock out a user whose crashed client never disconnected."""
        if self._max_sessions is None:
            return
        own = [c for c in self._clients.values() if c.user_id == user_id]  # in handshake order
        for client in own[: max(0, len(own) - self._max_sessions + 1)]:
            self._end(client, ENDED_BY_SERVER)

    async def _connect(self, client: _Client | None, message: Message, *, deliver: bool) -> list[Message]:
        if client is None:
            return [_unknown_client(message)]
        hold_s = self.timeout_ms / 1000 if client.connected else 0.0
        advice = message.get("advice")
        asked = advice.get("timeout") if isinstance(advice, dict) else None
        if isinstance(asked, (int, float)) and not isinstance(asked, bool) and asked >= 0:
            hold_s = min(hold_s, asked / 1000)  # a client may ask for less (CometD's first connect asks for 0)
        client.connected = True
        client.wake.set()  # a client has one outstanding connect: release the older one
        client.wake = wake = asyncio.Event()
        client.holding += 1
        try:
            events = await self._hold(client, wake, hold_s, deliver=deliver)
        finally:
            client.holding -= 1
            client.last_seen = self._clock()
        if client.ended is None and client.events.closed:
            self._end(client, ENDED_BY_SERVER)  # revoked (E102): what was left went out with this connect
        if client.ended == ENDED_BY_SERVER:
            return [*events, _unknown_client(message)]
        if client.ended == ENDED_BY_DISCONNECT:
            return [*events, _reply(message, successful=True, clientId=client.id, advice={"reconnect": "none"})]
        return [*events, _reply(message, successful=True, clientId=client.id, advice=self._advice())]

    async def _hold(self, client: _Client, wake: asyncio.Event, hold_s: float, *, deliver: bool) -> list[Message]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + hold_s
        while True:
            if client.ended is not None or wake.is_set():
                return []
            if client.events.closed:  # revoked (E102): what was queued before, on either transport, then the end
                return self._take(client)
            events = self._take(client) if deliver else []
            remaining = deadline - loop.time()
            if events or remaining <= 0:
                return events
            waits = [wake.wait(), client.events.wait()] if deliver else [wake.wait()]
            await _first_of(waits, timeout=remaining)

    def _subscribe(self, _: str, client: _Client | None, message: Message) -> Message:
        if client is None:
            return _unknown_client(message)
        channels = _channel_list(message.get("subscription"))
        if channels is None:
            return _failure(message, "400::subscription must be a channel name or a list of them")
        refused = [channel for channel in channels if not self._may_subscribe(client, channel)]
        if refused:
            return _failure(message, f"403::Subscription to {', '.join(refused)} not allowed for this user")
        for channel in channels:
            client.channels.setdefault(channel, client.events.position)
        return _reply(message, successful=True, clientId=client.id, subscription=message["subscription"])

    def _may_subscribe(self, client: _Client, channel: str) -> bool:
        if channel.startswith(("/meta/", "/service/")):
            return False
        if _is_wildcard(channel):
            return any(channel_matches(channel, topic) for topic in client.allowed)
        return channel in client.allowed

    def _unsubscribe(self, _: str, client: _Client | None, message: Message) -> Message:
        if client is None:
            return _unknown_client(message)
        channels = _channel_list(message.get("subscription"))
        if channels is None:
            return _failure(message, "400::subscription must be a channel name or a list of them")
        for channel in channels:
            client.channels.pop(channel, None)
        return _reply(message, successful=True, clientId=client.id, subscription=message["subscription"])

    def _disconnect(self, _: str, client: _Client | None, message: Message) -> Message:
        if client is None:
            return _unknown_client(message)
        self._end(client, ENDED_BY_DISCONNECT)
        return _reply(message, successful=True, clientId=client.id)

    # transports ------------------------------------------------------------------------------------

    async def _http(self, request: Request) -> Response:
        try:
            body = self._parse(await self._body(request))
        except _BodyRefused as refused:
            return SafeJSONResponse([_failure({"channel": "/meta/unknown"}, refused.error)], status_code=refused.status)
        except JsonInputError as exc:
            error = f"400::Bayeux requests are JSON arrays of messages: {exc}"
            return SafeJSONResponse([_failure({"channel": "/meta/unknown"}, error)], status_code=400)
        messages = body if isinstance(body, list) else [body]
        user_id = await self._authenticate(request)
        if user_id is None:
            replies = [_unauthenticated(m if isinstance(m, dict) else {"channel": "/meta/unknown"}) for m in messages]
            return SafeJSONResponse(replies, status_code=401, headers={"WWW-Authenticate": 'Basic realm="GWS"'})
        if self._around_batch is None:
            return SafeJSONResponse(await self.process(user_id, messages, deliver=True))
        answer = functools.partial(self.process, user_id, messages, deliver=True)
        return SafeJSONResponse(await self._around_batch(messages, answer))

    async def _body(self, request: Request) -> bytes:
        """The request body, read no further than the limit (E96): a flood is refused before it is parsed or its
        sender authenticated. A sender gone mid-body (a Content-Length lie) gets no reply and leaves no trace."""
        try:
            return await read_body(request, self._max_body_bytes)
        except BodyTooLarge as refused:
            raise _BodyRefused(413, f"413::Request body exceeds {refused.limit} bytes") from None
        except BodyIncomplete:
            raise _BodyRefused(400, "400::The client went away before the whole body arrived") from None

    async def _websocket(self, websocket: WebSocket) -> None:
        user_id = await self._authenticate(websocket)
        if user_id is None:
            if "websocket.http.response" in websocket.scope.get("extensions", {}):
                await websocket.send_denial_response(
                    PlainTextResponse("Authentication required", 401, headers={"WWW-Authenticate": 'Basic realm="GWS"'})
                )
            else:
                await websocket.close(code=1008)
            return
        await websocket.accept()
        await _WebSocketSession(self, websocket, user_id).run()

    def pusher(self, user_id: str, client_id: str, send: Send) -> Coroutine[Any, Any, None] | None:
        """Websocket delivery for a client of ``user_id``: sends each message as soon as it is published."""
        client = self._client_for(user_id, {"clientId": client_id})
        return None if client is None else self._push(client, send)

    async def _push(self, client: _Client, send: Send) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            while client.ended is None:
                await client.events.wait()
                events = self._take(client)
                if events:
                    await send(events)
                if client.events.closed:  # revoked (E102): what was left went out; the session ends
                    self._end(client, ENDED_BY_SERVER)


class _BodyRefused(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


class _WebSocketSession:
    """One websocket: batches are answered concurrently (a held connect must not block a subscribe)."""

    def __init__(self, server: BayeuxServer, websocket: WebSocket, user_id: str) -> None:
        self._server = server
        self._websocket = websocket
        self._user_id = user_id
        self._send_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pushing: set[str] = set()

    async def run(self) -> None:
        try:
            while True:
                frame = await self._websocket.receive()
                if frame["type"] == "websocket.disconnect":
                    return
                payload = frame.get("text") or frame.get("bytes") or b""
                limit = self._server.max_body_bytes
                if limit is not None and len(payload) > limit:
                    if not self._server.close_codes:  # the fault: the socket dropped, no close frame (E101)
                        raise RuntimeError(f"a websocket frame past {limit} bytes")
                    await self._websocket.close(code=1009, reason=f"frames are limited to {limit} bytes")
                    return
                try:
                    body = self._server.parse_json(payload)
                except JsonInputError as exc:
                    # 1007: the payload is not what the frame type promises (E94, E95); the reason is bounded.
                    await self._websocket.close(code=1007, reason=f"not a JSON array of messages: {exc}"[:120])
                    return
                messages = body if isinstance(body, list) else [body]
                if self._server.reauthenticate and await self._server.authenticate(self._websocket) != self._user_id:
                    await self._refuse(messages)
                    return
                self._spawn(self._answer(messages))
        except WebSocketDisconnect:
            pass
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _refuse(self, messages: list[Any]) -> None:
        """E102: the socket's credentials no longer authenticate anyone (a password changed, a session ended)."""
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await self._send(
                [_unauthenticated(m if isinstance(m, dict) else {"channel": "/meta/unknown"}) for m in messages]
            )
            await self._websocket.close(code=1008, reason="the credentials this socket was opened with are not valid")

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, messages: list[Message]) -> None:
        async with self._send_lock:
            await self._websocket.send_text(json.dumps(messages))

    async def _answer(self, messages: list[Any]) -> None:
        # A client connecting on this socket gets its messages pushed here from now on (also when it
        # connected over long-polling before): start before the connect is held.
        for message in messages:
            client_id = message.get("clientId") if isinstance(message, dict) else None
            if _message_channel(message) == CONNECT and isinstance(client_id, str) and client_id not in self._pushing:
                pusher = self._server.pusher(self._user_id, client_id, self._send)
                if pusher is not None:
                    self._pushing.add(client_id)
                    self._spawn(pusher)
        replies = await self._server.process(self._user_id, messages, deliver=False)
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await self._send(replies)  # fails if the socket went away while a connect was held


def _message_channel(message: Any) -> str | None:
    channel = message.get("channel") if isinstance(message, dict) else None
    return channel if isinstance(channel, str) else None


def _channel_list(subscription: Any) -> list[str] | None:
    if isinstance(subscription, str) and subscription.startswith("/"):
        return [subscription]
    if (
        isinstance(subscription, list)
        and subscription
        and all(isinstance(c, str) and c.startswith("/") for c in subscription)
    ):
        return list(subscription)
    return None


async def _first_of(waits: list[Coroutine[Any, Any, Any]], *, timeout: float) -> None:
    """Return when the first of ``waits`` finishes or after ``timeout`` seconds; the others are cancelled."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
