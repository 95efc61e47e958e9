"""Independent round trips of one test at the same time: over a network each costs a round trip, and those that
depend on nothing but what came before them need not wait for each other.

Each call runs in a copy of the caller's context, so what a test's helpers find there (its ``Findings``, which
account plays which role: conformance.findings, conformance.casting) is the test's own in every thread. The
results come back in the order of the calls, and an exception is raised in the caller's thread only once every
call has ended, the first in call order: so the caller judges the answers in the order it would have sent the
requests, and cleanup knows of everything that was done.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, TypeVar, cast

__all__ = ["LIMIT", "at_once", "both"]

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")

# At most this many in flight: a test's many sessions or reads, not a load test.
LIMIT = 16


def at_once(calls: Sequence[Callable[[], T]], limit: int = LIMIT) -> list[T]:
    """The results of ``calls``, run at the same time (at most ``limit`` at once), in the order of ``calls``."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(limit, len(calls))) as pool:
        futures = [pool.submit(contextvars.copy_context().run, call) for call in calls]
        wait(futures)
    return [future.result() for future in futures]


def both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """``at_once`` for two calls whose results differ in type."""
    one, two = at_once([cast(Callable[[], Any], first), second])
    return cast(A, one), cast(B, two)
