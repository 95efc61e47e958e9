"""CometD notification listener: one per user, on aiocometd-noloop, with awaitable expectations.

The suite's scenarios are synchronous pytest code; the Bayeux client is asyncio. Each listener runs
its own event loop in a daemon thread and hands messages over through a ``threading.Condition``, so
a test waits for *the event it expects* (``expect``) with a deadline instead of sleeping, and a
broken or silent target turns into a failed expectation carrying everything that did arrive.

The library is configured to behave as the official CometD clients do, so that any standard CometD
server works (tests/test_third_party_cometd.py proves it against the CometD project's Node server and
Faye):
its cookie jar keeps the cookies of IP-address hosts (CometD keeps sessions by its ``BAYEUX_BROWSER``
cookie, and targets are often ``http://127.0.0.1:...``); the first ``/meta/connect`` after each
handshake advises ``timeout: 0`` (E86), so a server that holds connects answers it at once; a 402 on a
connect is followed by a new handshake (the library re-subscribes the topics with the connect that
follows it); and a server that refuses the plain endpoint URL is asked at the sub-path URLs CometD's
clients use (``/handshake``, ``/connect``..., E84).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import aiocometd_noloop as aiocometd
import aiohttp
from aiocometd_noloop.exceptions import AiocometdException, ClientError, ServerError

from conformance.client import Proxy, environment_proxy, tls_context

__all__ = [
    "ExpectationFailed",
    "ListenerError",
    "NotificationListener",
    "NotificationRecord",
    "QuietnessBroken",
]

Predicate = Callable[[dict[str, Any]], bool]
SchemaCheck = Callable[[str, dict[str, Any]], Sequence[str]]


class ListenerError(Exception):
    """The listener could not connect, subscribe, or lost its connection to the target."""


class ExpectationFailed(AssertionError):
    """No message matching an expectation arrived before its deadline."""

    def __init__(self, message: str, received: Sequence[NotificationRecord]) -> None:
        super().__init__(message)
        self.received = tuple(received)


class QuietnessBroken(AssertionError):
    """A message arrived on a topic that had to stay quiet."""

    def __init__(self, message: str, offending: Sequence[NotificationRecord]) -> None:
        super().__init__(message)
        self.offending = tuple(offending)


@dataclass(frozen=True)
class NotificationRecord:
    """One message delivered to a user, as received, with its schema verdict."""

    index: int
    user: str
    topic: str
    data: dict[str, Any]
    received_at: datetime
    monotonic: float
    schema_errors: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        verdict = "schema-valid" if not self.schema_errors else "; ".join(self.schema_errors)
        return f"#{self.index} {self.received_at.isoformat()} {self.user} {self.topic}: {self.data!r} [{verdict}]"


class _BasicAuthHeader(aiocometd.Extension):
    """Sends Basic credentials on every Bayeux request (real GWS authenticates each one)."""

    def __init__(self, user: str, password: str) -> None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self._authorization = f"Basic {token}"

    async def outgoing(self, payload: list[dict[str, Any]], headers: dict[str, str]) -> None:
        headers["Authorization"] = self._authorization

    async def incoming(self, payload: list[dict[str, Any]], headers: dict[str, str] | None = None) -> None:
        return None


class _CometdClientHabits(aiocometd.Extension):
    """What the official CometD clients do and standard CometD servers count on.

    The first ``/meta/connect`` after a handshake advises ``timeout: 0`` (E86): a server that holds even
    that connect for its full timeout (30 s) answers it at once. A 402 reply to a connect means the server
    forgot the session: the client handshakes again even where the reply carries no such advice (E87).
    It also remembers the connection types the last handshake reply offered, to say why a transport the
    listener was asked for cannot be used.
    """

    def __init__(self) -> None:
        self._handshaken = False
        self.offered: list[str] | None = None

    async def outgoing(self, payload: list[dict[str, Any]], headers: dict[str, str]) -> None:
        for message in payload:
            channel = message.get("channel")
            if channel == "/meta/handshake":
                self._handshaken = True
            elif channel == "/meta/connect" and self._handshaken:
                self._handshaken = False
                message["advice"] = {**(message.get("advice") or {}), "timeout": 0}

    async def incoming(self, payload: list[dict[str, Any]], headers: dict[str, str] | None = None) -> None:
        for message in payload:
            if not isinstance(message, dict):
                continue
            channel = message.get("channel")
            if channel == "/meta/handshake" and message.get("successful") is True:
                offered = message.get("supportedConnectionTypes")
                self.offered = [str(t) for t in offered] if isinstance(offered, list) else None
            elif (
                channel == "/meta/connect"
                and message.get("successful") is False
                and str(message.get("error", "")).startswith("402")
            ):
                advice = message.get("advice")
                message["advice"] = {**(advice if isinstance(advice, dict) else {}), "reconnect": "handshake"}


URL_STYLES = ("auto", "plain", "sub-path")
# How often a wait whose timeout may shrink re-reads it (NotificationListener.expect's ``timeout_of``).
RECHECK_S = 0.25


def _sub_path(payload: Any) -> str:
    """``/handshake`` for a batch that starts with a /meta/handshake (CometD's appendMessageTypeToURL)."""
    first = payload[0] if isinstance(payload, list) and payload else None
    channel = first.get("channel") if isinstance(first, dict) else None
    if isinstance(channel, str) and channel.startswith("/meta/"):
        return "/" + channel.removeprefix("/meta/")
    return ""


class _SubPathPosts:
    """The library's HTTP session, posting each batch to the endpoint URL plus its meta message's type.

    The long-polling transport posts every batch to one URL through ``session.post``; the official CometD
    clients post a meta message to ``<endpoint>/handshake``, ``/connect``... (E84). Everything else is the
    session's own.
    """

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    def post(self, url: str, *, json: Any, **kwargs: Any) -> Any:
        return self._session.post(url + _sub_path(json), json=json, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class _Proxied:
    """The library's HTTP session, its long-polling posts and its websocket going through ``proxy``."""

    def __init__(self, session: aiohttp.ClientSession, proxy: Proxy) -> None:
        self._session = session
        self._proxy = proxy.url
        self._proxy_auth = None if proxy.credentials is None else aiohttp.BasicAuth(*proxy.credentials)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self._session.post(url, proxy=self._proxy, proxy_auth=self._proxy_auth, **kwargs)

    def ws_connect(self, url: str, **kwargs: Any) -> Any:
        return self._session.ws_connect(url, proxy=self._proxy, proxy_auth=self._proxy_auth, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class _Client(aiocometd.Client):
    """aiocometd's client with an HTTP session that keeps the cookies of IP-address hosts (and, for
    ``sub_paths``, posts to the sub-path URLs).

    aiohttp's default cookie jar drops cookies set by ``http://127.0.0.1:...``; CometD servers keep a
    session by their ``BAYEUX_BROWSER`` cookie and answer every request without it 402::session_unknown.
    """

    def __init__(self, url: str, *, sub_paths: bool, **options: Any) -> None:
        super().__init__(url, **options)
        self._sub_paths = sub_paths
        self._own_session: aiohttp.ClientSession | None = None
        # The library's attribute, which it posts through and closes: the session, or its sub-path wrapper.
        self._http_session: Any = None

    async def _get_http_session(self) -> aiohttp.ClientSession:
        if self._http_session is None:
            self._own_session = aiohttp.ClientSession(
                json_serialize=self._json_dumps, cookie_jar=aiohttp.CookieJar(unsafe=True)
            )
            session: Any = self._own_session
            proxy = environment_proxy(self.url)  # as httpx's, not aiohttp's reading of the environment
            if proxy is not None:
                session = _Proxied(session, proxy)
            self._http_session = _SubPathPosts(session) if self._sub_paths else session
        return cast(aiohttp.ClientSession, self._http_session)

    async def discard(self, *, goodbye: bool = True) -> None:
        """Stop a client whose opening failed: the library leaves its connect task (which may follow the
        failed reply's advice) and its HTTP session running then. ``goodbye``: tell the server (a disconnect)."""
        if self._transport is not None:
            if goodbye:
                await self._transport.disconnect()
            await self._transport.close()
        if self._own_session is not None and not self._own_session.closed:
            await self._own_session.close()


_CONNECTION_TYPES = {
    "long-polling": aiocometd.ConnectionType.LONG_POLLING,
    "websocket": aiocometd.ConnectionType.WEBSOCKET,
}


class NotificationListener:
    """Subscribes one user to topics and records every message that user receives."""

    def __init__(
        self,
        url: str,
        user: str,
        password: str,
        topics: Iterable[str],
        *,
        connection_type: str = "long-polling",
        connect_timeout_s: float = 10.0,
        schema_check: SchemaCheck | None = None,
        url_style: str = "auto",
    ) -> None:
        """``url_style``: where the Bayeux messages are posted. ``plain``: the endpoint URL; ``sub-path``: the
        endpoint URL plus the meta message's type (``/handshake``, ``/connect``...), as the official CometD
        clients do; ``auto``: the plain URL, and the sub-paths when the plain URL gives no Bayeux answer."""
        if connection_type not in _CONNECTION_TYPES:
            raise ValueError(f"unknown connection type {connection_type!r}; use one of {sorted(_CONNECTION_TYPES)}")
        if url_style not in URL_STYLES:
            raise ValueError(f"unknown URL style {url_style!r}; use one of {', '.join(URL_STYLES)}")
        self.url = url
        self.user = user
        self._password = password
        self.topics = tuple(topics)
        self.connection_type = connection_type
        self.url_style = url_style
        self.used_url_style: str | None = None  # the style the session was opened with
        self._connect_timeout_s = connect_timeout_s
        self._schema_check = schema_check
        self._records: list[NotificationRecord] = []
        self._counter = itertools.count()
        self._changed = threading.Condition()
        self._ready = threading.Event()
        self._failure: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> NotificationListener:
        """Handshake and subscribe; returns once subscribed, raises ListenerError otherwise."""
        self._thread = threading.Thread(target=self._run, name=f"cometd-{self.user}", daemon=True)
        self._thread.start()
        if not self._ready.wait(self._connect_timeout_s):
            self.stop()
            raise ListenerError(
                f"{self.user}: no successful handshake/subscribe at {self.url} within {self._connect_timeout_s:g}s"
            )
        if self._failure is not None:
            self.stop()
            raise ListenerError(f"{self.user}: {self._failure}")
        return self

    def stop(self) -> None:
        # Cancelling the listening task unwinds ``async with client``, which disconnects politely.
        self._stopping = True
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)
        if self._thread is not None:
            self._thread.join(timeout=self._connect_timeout_s)

    def __enter__(self) -> NotificationListener:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(self._on_loop_exception)
        try:
            self._task = self._loop.create_task(self._listen())
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.close()

    def _on_loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # aiocometd's transport callbacks report the cancellation of their own reads when the
        # listener shuts down; that is the shutdown working, not a fault of the target.
        if self._stopping and isinstance(context.get("exception"), asyncio.CancelledError):
            return
        loop.default_exception_handler(context)

    async def _listen(self) -> None:
        try:
            client = await self._open()
            try:
                for topic in self.topics:
                    await client.subscribe(topic)
                self._ready.set()
                async for message in client:
                    self._record(message)
            finally:
                # Also on cancellation (stop): closing disconnects politely.
                await client.close()
                await client.discard()
        except asyncio.CancelledError:
            raise
        except (AiocometdException, OSError, ValueError, ListenerError) as exc:
            if not self._stopping:
                self._fail(str(exc) if isinstance(exc, ListenerError) else f"{type(exc).__name__}: {exc}")
        else:
            if not self._stopping:
                self._fail("the server closed the Bayeux session")

    async def _open(self) -> aiocometd.Client:
        """Handshake and first connect, at the plain URL and then, for ``auto``, at the sub-path URLs."""
        styles = ("plain", "sub-path") if self.url_style == "auto" else (self.url_style,)
        refused: list[str] = []
        for style in styles:
            habits = _CometdClientHabits()
            client = _Client(
                self.url,
                sub_paths=style == "sub-path",
                connection_types=[_CONNECTION_TYPES[self.connection_type]],
                connection_timeout=self._connect_timeout_s,
                extensions=[_BasicAuthHeader(self.user, self._password), habits],
                ssl=tls_context() if self.url.lower().startswith("https") else None,
            )
            try:
                await client.open()
            except asyncio.CancelledError:
                # Stopped while opening (start's deadline passed): no goodbye to a server that may be what hangs,
                # but no HTTP session left open behind the loop either.
                await client.discard(goodbye=False)
                raise
            except ServerError:
                await client.discard()
                raise  # a Bayeux answer: the URL is right, the server said no
            except ClientError as exc:
                await client.discard()
                if habits.offered is not None and self.connection_type not in habits.offered:
                    raise ListenerError(
                        f"this listener was asked for the {self.connection_type} transport and the server's "
                        f"handshake offers only {habits.offered} (a long-polling-only server: use "
                        f"connection_type='long-polling')"
                    ) from exc
                raise
            except (AiocometdException, aiohttp.ClientError, OSError, ValueError, TypeError, KeyError) as exc:
                # No Bayeux answer at all (a 404 page, a non-JSON body): maybe not the URL this server posts to.
                await client.discard()
                refused.append(f"{style} URL: {type(exc).__name__}: {exc}")
                continue
            self.used_url_style = style
            return client
        raise ListenerError("no Bayeux answer at " + self.url + " (" + "; ".join(refused) + ")")

    def _fail(self, reason: str) -> None:
        with self._changed:
            self._failure = reason
            self._changed.notify_all()
        self._ready.set()

    def _record(self, message: dict[str, Any]) -> None:
        # The time of arrival comes before the schema check: delivery latency is the target's, and a check that
        # compiles its schema on first use (a cold worker) would otherwise add itself to the first sample.
        received_at, monotonic = datetime.now(UTC), time.monotonic()
        topic = str(message.get("channel", ""))
        data = message.get("data")
        data = data if isinstance(data, dict) else {"__non_object_data__": data}
        errors = tuple(self._schema_check(topic, data)) if self._schema_check else ()
        record = NotificationRecord(
            index=next(self._counter),
            user=self.user,
            topic=topic,
            data=data,
            received_at=received_at,
            monotonic=monotonic,
            schema_errors=errors,
        )
        with self._changed:
            self._records.append(record)
            self._changed.notify_all()

    # observation -----------------------------------------------------------------------------

    @property
    def failure(self) -> str | None:
        return self._failure

    def mark(self) -> int:
        """A cursor: expectations given ``after=mark`` only consider messages that arrive later."""
        with self._changed:
            return len(self._records)

    def records(self, topic: str | None = None, *, after: int = 0) -> list[NotificationRecord]:
        with self._changed:
            return [r for r in self._records[after:] if topic is None or r.topic == topic]

    def last_received_monotonic(self, topics: Iterable[str] | None = None) -> float | None:
        """When (time.monotonic) the latest message on one of ``topics`` (default: any) arrived; None: none yet."""
        wanted = None if topics is None else set(topics)
        with self._changed:
            for record in reversed(self._records):
                if wanted is None or record.topic in wanted:
                    return record.monotonic
        return None

    def expect(
        self,
        topic: str,
        predicate: Predicate = lambda data: True,
        *,
        timeout_s: float,
        after: int = 0,
        description: str = "a message",
        timeout_of: Callable[[], float] | None = None,
    ) -> NotificationRecord:
        """Wait for the first message on ``topic`` after cursor ``after`` that satisfies ``predicate``.
        ``timeout_of``: re-read every RECHECK_S while waiting, a timeout that may shrink meanwhile (another worker
        found the topic missing, conformance.delivery); the wait ends at the shorter of the two."""
        started = time.monotonic()
        with self._changed:
            while True:
                for record in self._records[after:]:
                    if record.topic == topic and _safe(predicate, record.data):
                        return record
                if self._failure is not None:
                    raise ExpectationFailed(
                        f"{self.user}: connection lost ({self._failure}) while waiting for {description} on {topic}",
                        self._records[after:],
                    )
                limit_s = timeout_s if timeout_of is None else min(timeout_s, timeout_of())
                remaining = started + limit_s - time.monotonic()
                if remaining <= 0:
                    received = self._records[after:]
                    summary = "\n".join(r.describe() for r in received) or "(nothing)"
                    raise ExpectationFailed(
                        f"{self.user}: no {description} on {topic} within {limit_s:g}s; received:\n{summary}",
                        received,
                    )
                self._changed.wait(remaining if timeout_of is None else min(remaining, RECHECK_S))

    def assert_quiet(
        self,
        topic: str,
        predicate: Predicate = lambda data: True,
        *,
        window_s: float,
        after: int = 0,
        description: str = "no further message",
    ) -> None:
        """Fail as soon as a matching message arrives within the window (duplicates, strays)."""
        deadline = time.monotonic() + window_s
        with self._changed:
            while True:
                offending = [r for r in self._records[after:] if r.topic == topic and _safe(predicate, r.data)]
                if offending:
                    summary = "\n".join(r.describe() for r in offending)
                    raise QuietnessBroken(f"{self.user}: expected {description} on {topic}, got:\n{summary}", offending)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._changed.wait(remaining)


def _safe(predicate: Predicate, data: dict[str, Any]) -> bool:
    # A predicate written for a well-formed message must not crash on a malformed one: a message
    # that does not fit simply does not match, and the expectation reports what arrived instead.
    try:
        return bool(predicate(data))
    except (KeyError, TypeError, IndexError, AttributeError, ValueError):
        return False
