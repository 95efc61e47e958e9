"""How pytest-xdist shares the suite's tests among its workers.

The tests that act as the configured agents — the lifecycle scenarios and the fuzzing as the agent
role — exclude one another anyway: each holds its accounts' lock (``AccountLocks`` in
conformance.fixtures.scenarios) and waits out the messages its predecessor caused. Spread over
workers, they would only queue for the same locks while the worker they block could be fuzzing. So
they form one unit of work, run in turn by one worker, and every other test is scheduled alone.

With a pool of more agent accounts than three (GWS_AGENTS), the e-mail, chat and voice scenarios take
whichever agents are free (``Cast.take``, conformance.casting), and so do the tests marked ``recast``
(the isolation tests, the CometD and hostile tests that change an agent, ``gws_exclusive``): each is then a
unit of its own, so tests on disjoint accounts run at the same time on different workers. So is each fuzz
test as the agent, which takes a free one of the agents reserved for fuzzing (``casting.fuzz_agents``;
conformance.suite.fuzz.session). One agent-state scenario (recast all the same) stays in the unit as its
warm-up (``_UNIT_WARM_UP``), and the two e-mail scenarios that hold the whole pool (any Ready agent may be
offered their e-mail): scheduled elsewhere, one of them takes agent1..agent3 in turn
and waits, holding them, until every scenario on the other workers has let its agents go, while the
unit's worker stands blocked behind it (23-32 s at a 50 ms round trip, benchmarks/remote.py). In the
unit they run early and find the pool free.

The units are handed out in ``queue_order``: the agent-account unit first; then, until its whole-pool tests are
done, the units that hold neither an agent of the pool, the supervisor nor the routing (the permission matrix,
fuzzing as the admin, most protocol tests), so that no worker stands waiting for what the whole-pool tests hold;
from then on the others first (the pool's scenarios turn about with the fuzzing of the agent and
supervisor roles, which need none of the scenarios' agents), then the free units left. The scenarios are the end
of a remote run: they queue for the pool's agents, and begin only once the whole-pool tests are done. Before, a
quick run at 50 ms spent 70 worker-seconds with fuzz tests of the supervisor and fuzzing's agents queueing behind
the whole-pool e-mails, and the scenarios began only once the free units were all handed out.

Inside the unit the scenarios run first, then the protocol tests, then the fuzzing, each module's tests
in their order (``unit_order``): quiet windows are sized from the delivery latency each worker measures,
which only scenarios' expected messages feed (conformance.delivery); until three are in, a window is the
configured one (2 s for a remote target), and the unit's CometD tests that wait windows came first.

A scheduler sees test IDs only, so the rule reads them. A test it places wrongly still runs correctly
under its locks, only later; tests/test_scheduling.py holds the rule to the fixtures the tests use.
"""

from __future__ import annotations

import itertools
import zlib
from typing import Any

from conformance.casting import NAMED_AGENTS, fuzz_agents

__all__ = [
    "AGENT_ACCOUNTS",
    "holds_agent_accounts",
    "holds_whole_pool",
    "queue_order",
    "recast",
    "scheduler",
    "scope",
    "unit_order",
]

AGENT_ACCOUNTS = "the configured agent accounts"
# The agent-account tests whose agents any free agents of the pool may play: those that take them through a
# scenario's cast (Cast.take) and those marked ``recast`` (gws_exclusive). By module: the tests named, or
# ALL of them. A scheduler sees ids, not marks: tests/test_scheduling.py holds this table to the marks.
ALL = frozenset({"*"})
_RECAST = {
    "agent_state.py": ALL,
    "chat.py": ALL,
    "email.py": ALL,
    "voice.py": ALL,
    "list_isolation.py": frozenset({"test_an_interaction_list_reveals_nothing_its_get_refuses"}),
    "permissions.py": frozenset(
        {
            "test_an_agent_cannot_reach_another_agents_devices_and_calls",
            "test_an_agent_cannot_reach_another_agents_interactions_attachments_and_workbins",
        }
    ),
    "test_cometd.py": frozenset({"test_no_message_on_a_topic_the_client_left_or_never_joined"}),
    "test_cometd_clients.py": frozenset({"test_a_wildcard_subscription_delivers_each_message_once"}),
    "test_cometd_hijack.py": frozenset({"test_another_users_client_id_is_refused_and_leaks_nothing"}),
    "test_hostile.py": frozenset({"test_rest_refuses_hostile_input", "test_rest_refuses_an_oversized_body"}),
    "test_hostile_stimulus.py": frozenset({"test_the_stimulus_api_refuses_hostile_input"}),
    "test_hostile_websocket.py": frozenset({"test_a_session_keeps_its_state_through_hostile_messages"}),
    "test_sequence.py": frozenset({"test_a_whole_call_keeps_the_sequence_rules"}),
}
# ... except these, which hold every agent of the pool (Cast.take(..., whole_pool=True)).
_WHOLE_POOL_TESTS = frozenset(
    {("email.py", "test_email_reject_offers_it_to_another_agent"), ("email.py", "test_email_offered_only_while_ready")}
)
# ... and this one, which stays in the unit to run before the whole-pool scenarios there: its expected messages (six)
# size that worker's quiet windows (three latencies are enough, conformance.delivery). Run first on a cold worker,
# the whole-pool scenarios waited the configured 2 s windows while holding every agent and the supervisor, and in
# three of six runs at 50 ms met a first delivery of about 1 s that sized every later window at 3 s (+40 s). The
# whole agent-state module as the warm-up (10 s at 50 ms) delayed the whole-pool scenarios, and with them every
# scenario of the pool, which wait for them: those are the end of a remote run.
_UNIT_WARM_UP = frozenset({("agent_state.py", "test_ready_and_not_ready_on_all_channels")})


# ... and, among the tests that wait for the pool, the first to wait for the calls topic's messages (its scout):
# queued first, so that against a target that drops the topic its wait (the notification timeout) passes while the
# other workers run what does not need the topic, and every later test on it finds the topic known missing and
# fails in about a second (conformance.delivery). The tests that wait on the topic too (_ON_CALLS_TOPIC) are not
# handed out while it runs, unless nothing else is left: begun beside it, each waits on the dropped topic with the
# accounts it holds. The unit's warm-up and whole-pool e-mails are the first to wait on the channels and
# interactions topics. In collection order the scout came after five other protocol tests, and three voice
# scenarios began their own first waits beside it: every worker waited on the dropped topic at once (quick profile
# at 0 ms, four workers: 27.4-28.7 s, 1.6 times a passing run).
_CALLS_TOPIC_SCOUT = ("test_sequence.py", "test_a_whole_call_keeps_the_sequence_rules")
_ON_CALLS_TOPIC = {
    "voice.py": ALL,
    "permissions.py": frozenset({"test_an_agent_cannot_reach_another_agents_devices_and_calls"}),
}


def recast(nodeid: str) -> bool:
    """Whether any free agents of the pool may play the agent roles of the test ``nodeid`` (without the whole pool)."""
    module, function = _module_and_function(nodeid)
    tests = _RECAST.get(module, frozenset())
    return (tests is ALL or function in tests) and (module, function) not in _WHOLE_POOL_TESTS


def holds_whole_pool(nodeid: str) -> bool:
    return _module_and_function(nodeid) in _WHOLE_POOL_TESTS


def _warm_up(nodeid: str) -> bool:
    return _module_and_function(nodeid) in _UNIT_WARM_UP


def _calls_topic_scout(unit: str) -> bool:
    return _module_and_function(unit) == _CALLS_TOPIC_SCOUT


def _waits_on_calls_topic(unit: str) -> bool:
    module, function = _module_and_function(unit)
    tests = _ON_CALLS_TOPIC.get(module, frozenset())
    return tests is ALL or function in tests


def _module_and_function(nodeid: str) -> tuple[str, str]:
    path, _, name = nodeid.partition("::")
    return path.rsplit("/", 1)[-1], name.partition("[")[0]


# Modules whose every test holds agent accounts; permissions.py holds them in its isolation tests only,
# and the CometD protocol tests in the ones that change an agent's state.
_AGENT_MODULES = frozenset({"agent_state.py", "chat.py", "email.py", "voice.py"})
_AGENT_TESTS = frozenset(
    {
        ("test_cometd.py", "test_no_message_on_a_topic_the_client_left_or_never_joined"),
        ("test_cometd_clients.py", "test_a_wildcard_subscription_delivers_each_message_once"),
        ("test_cometd_hijack.py", "test_another_users_client_id_is_refused_and_leaks_nothing"),
        # The hostile battery's cases that could write hold agent1 to read its state back (E101).
        ("test_hostile.py", "test_rest_refuses_hostile_input"),
        ("test_hostile.py", "test_rest_refuses_an_oversized_body"),
        ("test_hostile_stimulus.py", "test_the_stimulus_api_refuses_hostile_input"),
        ("test_hostile_websocket.py", "test_a_session_keeps_its_state_through_hostile_messages"),
        # An e-mail agent2 handles proves what GET /interactions may list (E97).
        ("list_isolation.py", "test_an_interaction_list_reveals_nothing_its_get_refuses"),
        ("test_sequence.py", "test_a_whole_call_keeps_the_sequence_rules"),
    }
)


def holds_agent_accounts(nodeid: str) -> bool:
    path, _, name = nodeid.partition("::")
    module = path.rsplit("/", 1)[-1]
    if module in _AGENT_MODULES:
        return True
    if module == "permissions.py":
        return not name.startswith("test_permission_matrix")
    if (module, name.partition("[")[0]) in _AGENT_TESTS:
        return True
    return module == "test_fuzz.py" and name.endswith(" as agent]")


# The permission matrix's cells share a module fixture that makes its users, skill, contact, agent state and device
# (and deletes them): a worker that went from a cell to another module's test and back made them again, once per
# switch (2.4 times the matrix's requests in a quick run at 50 ms). So its cells form this many units, each an
# operation's cells together, which a worker runs in a row.
MATRIX_UNITS = 8


def scope(nodeid: str, pool_size: int = NAMED_AGENTS) -> str:
    """The unit of work ``nodeid`` belongs to, given ``pool_size`` agent accounts."""
    if not holds_agent_accounts(nodeid):
        path, _, name = nodeid.partition("::")
        role = _alone_as(nodeid)
        if role:
            return f"{path}::[alone as {role}]"
        if name.startswith("test_permission_matrix[") and not _needs_pool_or_supervisor(nodeid):
            operation = name.partition("[")[2].rpartition("-")[0]
            return f"{path}::test_permission_matrix[part {zlib.crc32(operation.encode()) % MATRIX_UNITS}]"
        return nodeid
    if nodeid.partition("::")[0].endswith("test_fuzz.py"):  # as the agent: a free one of the fuzzing's agents
        return nodeid if fuzz_agents([f"agent{n}" for n in range(1, pool_size + 1)]) else AGENT_ACCOUNTS
    return nodeid if pool_size > NAMED_AGENTS and recast(nodeid) and not _warm_up(nodeid) else AGENT_ACCOUNTS


def queue_order(scopes: list[str]) -> list[str]:
    """The units of work in the order they are queued: the agent-account unit; the units that hold neither an
    agent of the pool, the supervisor nor the routing; then the others, the pool's scenarios turn about
    with the fuzz tests of the agent and supervisor roles (scenarios first and fuzzing after left workers
    waiting for agents side by side). The scheduler takes from it what the whole-pool tests leave free while they
    run, then the others first.

    A fuzz test that holds its account alone keeps every other fuzz test of that role waiting while it runs, and
    from the moment it waits. So the admin's and the supervisor's such tests are one unit per role (``scope``), run
    in turn by one worker, queued first in their part, and the fuzz tests of those roles held shared come after the
    tests of their part that are no fuzz tests: by then the unit is done or nearly. Single units, they queued behind
    one another on several workers at once, each waiting for the one before (the links alone take 11 s as the
    admin in the default profile at 50 ms); last, they ran alone at the end of the run; spread out, each kept the
    role's shared tests on every other worker waiting (admin 63 s, supervisor 52 s of the default profile at 50 ms).
    """
    first = [unit for unit in scopes if unit == AGENT_ACCOUNTS]
    free = sorted(
        (unit for unit in scopes if unit != AGENT_ACCOUNTS and not _needs_pool_or_supervisor(unit)), key=_fuzz_turn
    )
    held = [unit for unit in scopes if unit != AGENT_ACCOUNTS and _needs_pool_or_supervisor(unit)]
    # The first test on the calls topic (_CALLS_TOPIC_SCOUT), then in collection order: the protocol tests cast on the
    # pool, then the scenarios by module (voice last). Voice first (the longest, three agents), every worker met a
    # target that drops the calls topic at once, each waiting out a timeout or the accounts of one that did: a
    # failing run took 1.6 times a passing one, against 1.35.
    scenarios = sorted((unit for unit in held if not _fuzz(unit)), key=lambda unit: not _calls_topic_scout(unit))
    fuzzing = sorted((unit for unit in held if _fuzz(unit)), key=_fuzz_turn)
    turns = [unit for pair in itertools.zip_longest(scenarios, fuzzing) for unit in pair if unit is not None]
    return first + free + turns


def _fuzz_turn(unit: str) -> int:
    """Where a unit goes in its part of the queue: a role's alone-unit; the tests that are no fuzz tests; fuzzing
    as the agent; the admin's and the supervisor's shared fuzz tests, which wait while their alone-unit runs."""
    if "::[alone as " in unit:
        return 0
    if not _fuzz(unit):
        return 1
    return 3 if unit.endswith((" as admin]", " as supervisor]")) else 2


def _fuzz(unit: str) -> bool:
    return unit.partition("::")[0].endswith("test_fuzz.py")


def _alone_as(nodeid: str) -> str | None:
    """The role (admin or supervisor) a fuzz test holds alone: its operation is one RESTORE puts back, or it runs
    the links (conformance.suite.fuzz.session); None for any other test. Fuzzing as the agent takes any free one
    of its agents, so it keeps no other waiting, and stays a unit per test."""
    if not _fuzz(nodeid):
        return None
    from conformance.suite.fuzz.bindings import RESTORE  # the fuzzing's own table; imported only to order units

    label, _, role = nodeid.partition("[")[2].removesuffix("]").rpartition(" as ")
    return role if role in ("admin", "supervisor") and (label in RESTORE or label == "links") else None


def _needs_pool_or_supervisor(unit: str) -> bool:
    """Whether the unit holds agents of the pool, the supervisor or the routing, which the whole-pool e-mails hold
    (the permission matrix's granted Ready cells hold the routing)."""
    return holds_agent_accounts(unit) or unit.endswith(" as supervisor]") or _matrix_holds_routing(unit)


def _matrix_holds_routing(unit: str) -> bool:
    if "::test_permission_matrix[" not in unit or "[part " in unit:
        return False
    # The matrix's own rule; imported only to order units.
    from conformance.suite.scenarios.permissions import holds_routing

    op, _, caller = unit.partition("[")[2].removesuffix("]").rpartition("-")
    return holds_routing(op, caller)


_UNIT_ORDER = ("scenarios/", "protocol/")  # then everything else (the fuzzing)


def unit_order(nodeids: list[str]) -> list[str]:
    """The agent-account unit's tests in the order its worker runs them: scenarios, protocol tests, the rest;
    stable, so a module's tests stay together and in their order (its fixtures are set up once)."""

    def rank(nodeid: str) -> int:
        path = nodeid.partition("::")[0]
        return next((i for i, area in enumerate(_UNIT_ORDER) if path.startswith(area) or f"/{area}" in path), 2)

    return sorted(nodeids, key=rank)


def scheduler(config: Any, log: Any, pool_size: int = NAMED_AGENTS) -> Any:
    """pytest-xdist's scope scheduling with the agent-account tests as one scope (``scope``), run in
    ``unit_order``, the units taken in ``queue_order``."""
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def __init__(self, config: Any, log: Any) -> None:
            super().__init__(config, log)
            self._ordered = False
            self._whole_pool_left: set[str] = set()  # the whole-pool tests not yet done
            self._free: dict[str, bool] = {}  # unit -> whether it holds none of what the whole-pool tests hold
            self._scout_left: set[str] = set()  # the calls topic's scout, until it is done
            self._after_scout: set[str] = set()  # the units that wait on the calls topic too

        def _split_scope(self, nodeid: str) -> str:
            return scope(nodeid, pool_size)

        def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
            nodeid = self.registered_collections[node][item_index]
            self._whole_pool_left.discard(nodeid)
            self._scout_left.discard(nodeid)
            super().mark_test_complete(node, item_index, duration)

        def _assign_work_unit(self, node: Any) -> None:
            if not self._ordered:  # the queue is whole once the first unit is handed out
                self._ordered = True
                queue = dict(self.workqueue)
                self.workqueue.clear()
                self.workqueue.update((key, queue[key]) for key in queue_order(list(queue)))
                self._whole_pool_left = {nodeid for nodeid in self.collection or () if holds_whole_pool(nodeid)}
                self._free = {key: key == AGENT_ACCOUNTS or not _needs_pool_or_supervisor(key) for key in queue}
                self._scout_left = {nodeid for nodeid in self.collection or () if _calls_topic_scout(nodeid)}
                self._after_scout = {key for key in queue if _waits_on_calls_topic(key)}
            # Until the whole-pool tests are done, hand out only what they leave free; then what waits for the pool.
            preferred = self._preferred()
            if preferred is not None:
                self.workqueue.move_to_end(preferred, last=False)
            unit = self.workqueue.get(AGENT_ACCOUNTS)
            if unit is not None:  # replaced in place: the unit keeps its turn in the queue
                self.workqueue[AGENT_ACCOUNTS] = {nodeid: unit[nodeid] for nodeid in unit_order(list(unit))}
            super()._assign_work_unit(node)

        def _preferred(self) -> str | None:
            """The unit to hand out next: until the whole-pool tests are done, one they leave free, then one that
            waits for the pool; while the calls topic's scout runs, none that waits on that topic if another is
            left. The first of the best kind in the queue."""
            wanted = bool(self._whole_pool_left)
            firsts: dict[tuple[bool, bool], str] = {}
            for key in self.workqueue:
                kind = (bool(self._scout_left) and key in self._after_scout, self._free.get(key, True) != wanted)
                if kind == (False, False):
                    return key
                firsts.setdefault(kind, key)
            return firsts[min(firsts)] if firsts else None

    return Scheduling(config, log)
