"""Which pool account plays each role a scenario names, for the duration of one test.

Scenarios are written for roles ("agent1", "agent2"...). Given more agent accounts than three (GWS_AGENTS),
a scenario's cast may be played by any free accounts of the pool, so that scenarios on disjoint accounts run
at the same time on different workers. ``gws_exclusive(..., recast=True)`` picks and locks the accounts and
sets the casting here; the clients, listeners and inboxes a test asks for by role then belong to the account
playing it (``account``). Outside a recast test every role is played by its own account.

Fuzzing as the agent role leaves its account changed in ways it cannot put back (the e-mails a CreateEmail
case opens, workbin subscriptions, attachments: conformance/suite/fuzz/bindings.py). Without a pool it acts
as agent1, after every scenario on agent1 (conformance.scheduling). With a pool it acts as the agents of
``fuzz_agents``, which no scenario is cast on (``scenario_agents``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from types import MappingProxyType

__all__ = ["NAMED_AGENTS", "account", "casting", "current", "fuzz_agents", "scenario_agents"]

NAMED_AGENTS = 3  # agent1..agent3: a pool no larger plays every role by its own account, as before pools

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


def fuzz_agents(pool: Sequence[str]) -> tuple[str, ...]:
    """The agents fuzzing as the agent role acts as: a third of those beyond the named three (at least one), the
    last of the pool (two of nine); none when fewer than two are beyond them (fuzzing then acts as agent1).

    A third, not half: a fuzz test as the agent holds one agent for well under a second, and most hold it shared
    with one another, while a scenario holds two or three agents for seconds; the scenarios are the end of a
    remote run. Measured at a 50 ms round trip, quick profile, nine agents (benchmarks/remote.py): with three
    fuzzing agents 44.6-47.2 s over ten seeds, scenarios waiting 60-80 s for agents summed over workers and
    fuzzing's agents idle after its tests were done; with two, 40.6-44.2 s over six seeds, scenarios waiting
    37-61 s and fuzz tests 13-17 s (the default profile 66.6 s, fuzz tests waiting 66 s)."""
    spare = len(pool) - NAMED_AGENTS
    return tuple(pool[len(pool) - max(1, spare // 3) :]) if spare >= 2 else ()


def scenario_agents(pool: Sequence[str]) -> tuple[str, ...]:
    """The agents a scenario may be cast on: the pool but for the fuzzing's."""
    fuzzing = fuzz_agents(pool)
    return tuple(agent for agent in pool if agent not in fuzzing)
