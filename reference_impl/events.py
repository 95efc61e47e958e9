"""The event bus: what the contact center says to one user, waiting until that user's Bayeux client drains it.

Handlers and state machines publish ``(user_id, topic, data)`` the moment a state changes; the CometD
endpoint holds one subscription per Bayeux client session and drains it whenever it answers a
``/meta/connect`` (long-polling) or pushes on a websocket. Publishing is synchronous and never waits:
a handler must not stall because some browser stopped polling.

Overflow policy: every subscription holds at most ``max_queued`` messages. When a message arrives at a
full subscription the OLDEST queued message is discarded (and counted in ``Subscription.dropped``): the
newest state of a call or an agent is what a client that fell behind needs, and one that stopped polling
altogether must not grow the server without bound. Its session expires soon anyway (see bayeux.py).

Everything runs on the server's event loop: ``publish`` is not thread-safe.

Fault modes (reference_impl/faults.py) reach notifications through one seam: an optional
``publish_filter`` that receives every published message and the function that delivers it, and may
rewrite, hold back, repeat or redirect it. Without one, ``publish`` delivers directly.
"""

from __future__ import annotations

import asyncio
import copy
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_MAX_QUEUED", "EventBus", "PublishFilter", "Subscription"]

DEFAULT_MAX_QUEUED = 1000

Event = tuple[str, dict[str, Any]]
Deliver = Callable[[str, str, dict[str, Any]], None]
# (bus, deliver, user_id, topic, data): decides what ``deliver`` gets (reference_impl/faults.py).
PublishFilter = Callable[["EventBus", Deliver, str, str, dict[str, Any]], None]


class Subscription:
    """Messages for one user, in publication order; an async iterator of ``(topic, data)``."""

    def __init__(self, bus: EventBus, user_id: str, max_queued: int) -> None:
        self.user_id = user_id
        self.dropped = 0
        self._bus = bus
        self._queue: deque[tuple[int, str, dict[str, Any]]] = deque()
        self._max_queued = max_queued
        self._next_position = 0
        self._changed = asyncio.Event()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def position(self) -> int:
        """The position the next published message will get (positions count every message offered)."""
        return self._next_position

    def __len__(self) -> int:
        return len(self._queue)

    def offer(self, topic: str, data: dict[str, Any]) -> None:
        """Queue one message; discards the oldest one when full (the bus calls this)."""
        if self._closed:
            return
        if len(self._queue) >= self._max_queued:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append((self._next_position, topic, data))
        self._next_position += 1
        self._changed.set()

    def drain(self) -> list[Event]:
        """Take every queued message at once, without waiting."""
        return [(topic, data) for _, topic, data in self.drain_positioned()]

    def drain_positioned(self) -> list[tuple[int, str, dict[str, Any]]]:
        """Like ``drain``, with each message's position: a reader can tell what was published before a ``position``."""
        events = list(self._queue)
        self._queue.clear()
        if not self._closed:
            self._changed.clear()
        return events

    async def wait(self) -> None:
        """Return once a message is queued or the subscription is closed; takes nothing."""
        while not self._queue and not self._closed:
            self._changed.clear()
            await self._changed.wait()

    def close(self, *, keep_queued: bool = False) -> None:
        """Stop receiving; queued messages are discarded (unless ``keep_queued``: still drained) and waiters are
        released."""
        if self._closed:
            return
        self._closed = True
        if not keep_queued:
            self._queue.clear()
        self._bus._forget(self)
        self._changed.set()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        await self.wait()
        if not self._queue:
            raise StopAsyncIteration
        _, topic, data = self._queue.popleft()
        if not self._queue and not self._closed:
            self._changed.clear()
        return topic, data


class EventBus:
    """Per-user fan-out of notifications to every open subscription of that user."""

    def __init__(self, *, max_queued: int = DEFAULT_MAX_QUEUED, publish_filter: PublishFilter | None = None) -> None:
        if max_queued < 1:
            raise ValueError("max_queued must be at least 1")
        self._max_queued = max_queued
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._publish_filter = publish_filter

    def publish(self, user_id: str, topic: str, data: dict[str, Any]) -> None:
        """Deliver ``data`` on ``topic`` to ``user_id``'s subscriptions; never blocks, never raises on a slow reader.

        The data is copied once, so a publisher may keep mutating its own object afterwards.
        """
        if self._publish_filter is not None:
            self._publish_filter(self, self._deliver, user_id, topic, data)
        else:
            self._deliver(user_id, topic, data)

    def _deliver(self, user_id: str, topic: str, data: dict[str, Any]) -> None:
        subscriptions = self._subscriptions.get(user_id)
        if not subscriptions:
            return
        snapshot = copy.deepcopy(data)
        for subscription in subscriptions:
            subscription.offer(topic, snapshot)

    def subscribe(self, user_id: str) -> Subscription:
        """A new subscription receiving every message published for ``user_id`` from now on."""
        subscription = Subscription(self, user_id, self._max_queued)
        self._subscriptions.setdefault(user_id, set()).add(subscription)
        return subscription

    def subscriber_count(self, user_id: str) -> int:
        return len(self._subscriptions.get(user_id, ()))

    def subscribed_users(self) -> list[str]:
        """The users with at least one open subscription."""
        return list(self._subscriptions)

    def _forget(self, subscription: Subscription) -> None:
        subscriptions = self._subscriptions.get(subscription.user_id)
        if subscriptions is not None:
            subscriptions.discard(subscription)
            if not subscriptions:
                del self._subscriptions[subscription.user_id]
