"""conformance.overlap: calls at the same time, results in order, the caller's context in each, errors after all."""

from __future__ import annotations

import threading
import time
from contextvars import ContextVar

import pytest

from conformance.overlap import at_once, both

WHO: ContextVar[str] = ContextVar("who", default="nobody")


def test_results_come_in_call_order_whatever_ends_first() -> None:
    assert at_once([lambda: (time.sleep(0.05), "slow")[1], lambda: "fast"]) == ["slow", "fast"]


def test_the_calls_overlap_within_the_limit() -> None:
    # A barrier of three passes only when three calls wait at the same time.
    assert sorted(at_once([threading.Barrier(3, timeout=5).wait] * 3, limit=3)) == [0, 1, 2]
    with pytest.raises(threading.BrokenBarrierError):
        at_once([threading.Barrier(3, timeout=0.2).wait] * 3, limit=2)


def test_each_call_sees_the_callers_context() -> None:
    token = WHO.set("the test")
    try:
        assert at_once([WHO.get, WHO.get]) == ["the test", "the test"]
    finally:
        WHO.reset(token)


def test_the_first_error_in_call_order_is_raised_once_every_call_ended() -> None:
    ended: list[str] = []

    def late() -> str:
        time.sleep(0.05)
        ended.append("late")
        return "late"

    def fails(what: str) -> str:
        raise ValueError(what)

    with pytest.raises(ValueError, match="first"):
        at_once([lambda: fails("first"), late, lambda: fails("second")])
    assert ended == ["late"]


def test_both_gives_two_results_of_their_own_types() -> None:
    assert both(lambda: 1, lambda: "two") == (1, "two")
