"""Which pool account plays each role a scenario names, for the duration of one test.

Scenarios are written for roles ("agent1", "agent2"...). Given more agent accounts than three (GWS_AGENTS),
a scenario's cast may be played by any free accounts of the pool, so that scenarios on disjoint accounts run
at the same time on different workers. ``gws_exclusive(..., recast=True)`` picks and locks the accounts and
sets the casting here; the clients, listeners and inboxes a test asks for by role then belong to the account
playing it (``account``). Outside a recast test every role is played by its own account.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from types import MappingProxyType

__all__ = ["account", "casting", "current"]

_CASTING: ContextVar[Mapping[str, str]] = ContextVar("gws_casting", default=MappingProxyType({}))


def account(role: str) -> str:
    """The account playing ``role`` now (the role itself unless a recast test says otherwise)."""
    return _CASTING.get().get(role, role)


def current() -> Mapping[str, str]:
    return _CASTING.get()


@contextlib.contextmanager
def casting(roles: Mapping[str, str]) -> Iterator[None]:
    """``roles`` (role -> account) hold within the block."""
    token = _CASTING.set(MappingProxyType(dict(roles)))
    try:
        yield
    finally:
        _CASTING.reset(token)
