"""The event bus (reference_impl/events.py): per-user delivery, order, overflow policy, closing."""

from __future__ import annotations

import asyncio

import pytest

from reference_impl.events import EventBus

pytestmark = pytest.mark.anyio

DEADLINE_S = 5.0


async def test_a_subscription_receives_its_users_messages_in_order() -> None:
    bus = EventBus()
    agent1 = bus.subscribe("agent1")
    agent2 = bus.subscribe("agent2")
    bus.publish("agent1", "/v2/me/calls", {"n": 1})
    bus.publish("agent2", "/v2/me/calls", {"n": "other"})
    bus.publish("agent1", "/v2/me", {"n": 2})
    assert agent1.drain() == [("/v2/me/calls", {"n": 1}), ("/v2/me", {"n": 2})]
    assert agent2.drain() == [("/v2/me/calls", {"n": "other"})]


async def test_every_subscription_of_a_user_gets_every_message() -> None:
    bus = EventBus()
    first, second = bus.subscribe("agent1"), bus.subscribe("agent1")
    bus.publish("agent1", "/v2/me/calls", {"n": 1})
    assert first.drain() == second.drain() == [("/v2/me/calls", {"n": 1})]


async def test_publishing_to_a_user_without_subscriptions_is_a_no_op() -> None:
    bus = EventBus()
    bus.publish("nobody", "/v2/me", {"n": 1})
    assert bus.subscriber_count("nobody") == 0
    late = bus.subscribe("nobody")
    assert late.drain() == []  # nothing from before the subscription


async def test_the_published_data_is_a_snapshot() -> None:
    bus = EventBus()
    subscription = bus.subscribe("agent1")
    data = {"call": {"state": "Ringing"}}
    bus.publish("agent1", "/v2/me/calls", data)
    data["call"]["state"] = "Established"
    assert subscription.drain() == [("/v2/me/calls", {"call": {"state": "Ringing"}})]


async def test_a_full_subscription_drops_the_oldest_message_and_counts_it() -> None:
    bus = EventBus(max_queued=3)
    subscription = bus.subscribe("agent1")
    for n in range(5):
        bus.publish("agent1", "/v2/me/calls", {"n": n})  # never waits for a reader
    assert subscription.dropped == 2
    assert [data["n"] for _, data in subscription.drain()] == [2, 3, 4]


async def test_positions_count_every_published_message() -> None:
    bus = EventBus(max_queued=2)
    subscription = bus.subscribe("agent1")
    assert subscription.position == 0
    for n in range(3):
        bus.publish("agent1", "/v2/me", {"n": n})
    assert subscription.position == 3
    assert [position for position, _, _ in subscription.drain_positioned()] == [1, 2]


async def test_wait_returns_when_a_message_is_published() -> None:
    bus = EventBus()
    subscription = bus.subscribe("agent1")
    waiter = asyncio.create_task(subscription.wait())
    await asyncio.sleep(0)  # let the waiter block first: this test is about waking a blocked reader
    assert not waiter.done()
    bus.publish("agent1", "/v2/me", {"n": 1})
    await asyncio.wait_for(waiter, DEADLINE_S)
    assert len(subscription) == 1  # wait() takes nothing


async def test_async_iteration_yields_messages_and_ends_on_close() -> None:
    bus = EventBus()
    subscription = bus.subscribe("agent1")
    bus.publish("agent1", "/v2/me/calls", {"n": 1})
    bus.publish("agent1", "/v2/me/calls", {"n": 2})
    assert await anext(subscription) == ("/v2/me/calls", {"n": 1})
    assert await anext(subscription) == ("/v2/me/calls", {"n": 2})
    following = asyncio.create_task(anext(subscription))
    subscription.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(following, DEADLINE_S)


async def test_close_releases_waiters_and_unregisters() -> None:
    bus = EventBus()
    subscription = bus.subscribe("agent1")
    waiter = asyncio.create_task(subscription.wait())
    await asyncio.sleep(0)  # let the waiter block first: closing must release a blocked reader
    subscription.close()
    await asyncio.wait_for(waiter, DEADLINE_S)
    assert subscription.closed and bus.subscriber_count("agent1") == 0
    bus.publish("agent1", "/v2/me", {"n": 1})
    assert subscription.drain() == []


def test_max_queued_must_be_positive() -> None:
    with pytest.raises(ValueError):
        EventBus(max_queued=0)
