"""CometD notification listener: one per user, on aiocometd-noloop, with awaitable expectations.

The suite's scenarios are synchronous pytest code; the Bayeux client is asyncio. Each listener runs
its own event loop in a daemon thread and hands messages over through a ``threading.Condition``, so
a test waits for *the event it expects* (``expect``) with a deadline instead of sleeping, and a
broken or silent target turns into a failed expectation carrying everything that did arrive.
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
from typing import Any

import aiocometd_noloop as aiocometd
from aiocometd_noloop.exceptions import AiocometdException

__all__ = [
    "ListenerError",
    "NotificationRecord",
    "NotificationListener",
    "ExpectationFailed",
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
    ) -> None:
        if connection_type not in _CONNECTION_TYPES:
            raise ValueError(f"unknown connection type {connection_type!r}; use one of {sorted(_CONNECTION_TYPES)}")
        self.url = url
        self.user = user
        self._password = password
        self.topics = tuple(topics)
        self.connection_type = connection_type
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
        client = aiocometd.Client(
            self.url,
            connection_types=[_CONNECTION_TYPES[self.connection_type]],
            connection_timeout=self._connect_timeout_s,
            extensions=[_BasicAuthHeader(self.user, self._password)],
        )
        try:
            async with client:
                for topic in self.topics:
                    await client.subscribe(topic)
                self._ready.set()
                async for message in client:
                    self._record(message)
        except asyncio.CancelledError:
            raise
        except (AiocometdException, OSError, ValueError) as exc:
            if not self._stopping:
                self._fail(f"{type(exc).__name__}: {exc}")
        else:
            if not self._stopping:
                self._fail("the server closed the Bayeux session")

    def _fail(self, reason: str) -> None:
        with self._changed:
            self._failure = reason
            self._changed.notify_all()
        self._ready.set()

    def _record(self, message: dict[str, Any]) -> None:
        topic = str(message.get("channel", ""))
        data = message.get("data")
        data = data if isinstance(data, dict) else {"__non_object_data__": data}
        errors = tuple(self._schema_check(topic, data)) if self._schema_check else ()
        record = NotificationRecord(
            index=next(self._counter),
            user=self.user,
            topic=topic,
            data=data,
            received_at=datetime.now(UTC),
            monotonic=time.monotonic(),
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
    ) -> NotificationRecord:
        """Wait for the first message on ``topic`` after cursor ``after`` that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout_s
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
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    received = self._records[after:]
                    summary = "\n".join(r.describe() for r in received) or "(nothing)"
                    raise ExpectationFailed(
                        f"{self.user}: no {description} on {topic} within {timeout_s:g}s; received:\n{summary}",
                        received,
                    )
                self._changed.wait(remaining)

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
