"""Under pytest-xdist, the tests that hold the configured agent accounts form one unit of work.

The scheduler sees test IDs only (conformance.scheduling reads them); this holds its rule to what
the tests really do: a test holds agent accounts when it takes account locks (``gws_exclusive``,
directly or through a scenario's cast) or fuzzes as the agent role (its lock is agent1's). Every such
test must be in the unit; a few others may be (they run in turn with it, correctly).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

from conformance.casting import fuzz_agents, scenario_agents
from conformance.scheduling import AGENT_ACCOUNTS, holds_agent_accounts, queue_order, recast, scope, unit_order

# Collects the suite in-process with the gws plugin active, asks the plugin for the xdist scheduler of
# a two-worker run, and prints what each test does and where the scheduler puts it.
PROBE = textwrap.dedent(
    """
    import inspect, json, sys
    import pytest

    class Probe:
        def pytest_collection_finish(self, session):
            config = session.config
            config.option.dist, config.option.tx = "load", ["2*popen"]
            scheduler = config.hook.pytest_xdist_make_scheduler(config=config, log=None)
            rows = []
            for item in session.items:
                params = getattr(getattr(item, "callspec", None), "params", {})
                rows.append({
                    "nodeid": item.nodeid,
                    "locks_accounts": "gws_exclusive" in item.fixturenames,
                    "fuzz_role": params.get("role") if "gws_fuzz" in item.fixturenames else None,
                    "whole_pool": "whole_pool=True" in inspect.getsource(item.function),
                    "recast": item.get_closest_marker("recast") is not None or "cast" in item.fixturenames,
                    "fixed_agents": sorted({"gws_agent1", "gws_agent2", "gws_agent3"} & set(item.fixturenames)),
                    "scope": scheduler._split_scope(item.nodeid),
                    "scope_pool_9": scheduling.scope(item.nodeid, 9),
                })
            print("PROBE " + json.dumps({"scheduler": type(scheduler).__module__, "rows": rows}))

    from conformance import scheduling
    sys.exit(pytest.main(["--collect-only", "-q", "--pyargs", "conformance.suite"],
                         plugins=[Probe()]))
    """
)


def probe() -> dict:  # type: ignore[type-arg]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")}
    finished = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**env, "GWS_BASE_URL": "http://127.0.0.1:9/api/v2"},  # collection never talks to it
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith("PROBE ")]
    assert lines, finished.stdout[-3000:] + finished.stderr[-3000:]
    return json.loads(lines[0][len("PROBE ") :])  # type: ignore[no-any-return]


def test_the_agent_account_tests_are_one_unit_and_nothing_else_is() -> None:
    found = probe()
    assert found["scheduler"] == "conformance.scheduling"
    rows = found["rows"]
    agent_tests = [r for r in rows if r["locks_accounts"] or r["fuzz_role"] == "agent"]
    assert len(agent_tests) > 30 and len(rows) - len(agent_tests) > 500
    for row in agent_tests:  # none of them may queue for a lock another worker holds
        assert holds_agent_accounts(row["nodeid"]) and row["scope"] == AGENT_ACCOUNTS, row
    # A test the rule puts in the unit without need (a module's rule reads whole modules) runs in turn
    # with the others, correctly: tolerated, as long as it stays the exception.
    needless = [r["nodeid"] for r in rows if r["scope"] == AGENT_ACCOUNTS and r not in agent_tests]
    assert len(needless) <= 5, needless
    assert all(holds_agent_accounts(r["nodeid"]) for r in rows if r["scope"] == AGENT_ACCOUNTS)
    # With a pool, a test holding every agent stays in the unit (it would stand between the unit and the pool).
    whole_pool = [r for r in rows if r["whole_pool"]]
    assert len(whole_pool) >= 2 and all(r["scope_pool_9"] == AGENT_ACCOUNTS for r in whole_pool), whole_pool
    # With a pool, a test leaves the unit exactly when its agents may be recast: taken through a scenario's cast or
    # marked ``recast`` (what gws_exclusive reads), never holding the whole pool, and not the unit's warm-up (the
    # agent-state scenarios, whose latencies size the windows of the whole-pool ones after them). The fuzzing (its
    # own locks, not gws_exclusive) follows its own rule.
    named = [r for r in rows if r["scope"] == AGENT_ACCOUNTS and r["fuzz_role"] is None]
    for row in named:
        warm_up = "/agent_state.py::test_ready_and_not_ready_on_all_channels" in row["nodeid"]
        assert (row["scope_pool_9"] == row["nodeid"]) == (row["recast"] and not row["whole_pool"] and not warm_up), row
    cast = [r for r in rows if r["recast"]]
    assert len(cast) > 60 and all(r["scope"] == AGENT_ACCOUNTS for r in cast), cast
    # A recast test reads its accounts through the casting: the fixtures of agent1..agent3 never follow it.
    assert not [r for r in cast if r["fixed_agents"]]
    # The unit's worker runs its scenarios first (they measure the delivery that sizes every later quiet
    # window), each module's tests together and in collection order, so module fixtures are set up once.
    for pool in ("scope", "scope_pool_9"):
        unit = [r["nodeid"] for r in rows if r[pool] == AGENT_ACCOUNTS]
        ordered = unit_order(unit)
        modules = [nodeid.partition("::")[0] for nodeid in ordered]
        assert sorted(ordered) == sorted(unit) and len(set(modules)) == len(dict.fromkeys(modules).keys())
        assert [m for i, m in enumerate(modules) if i == 0 or modules[i - 1] != m] == list(dict.fromkeys(modules))
        # With a pool, fuzzing as the agent acts as a free one of its own agents: a unit per test, none in the unit.
        assert "scenarios/agent_state.py" in modules[0] and ("fuzz/" in modules[-1]) == (pool == "scope"), modules
        assert [n for n in ordered if n.startswith(modules[0])] == [n for n in unit if n.startswith(modules[0])]


def test_the_rule_reads_ids_as_a_worker_reports_them() -> None:
    assert holds_agent_accounts("scenarios/voice.py::test_dial_answer_hangup")
    assert holds_agent_accounts("conformance/suite/fuzz/test_fuzz.py::test_stateful_links[links as agent]")
    assert not holds_agent_accounts("fuzz/test_fuzz.py::test_positive_data[GET /me as supervisor]")
    assert not holds_agent_accounts("scenarios/permissions.py::test_permission_matrix[POST /users as agent1]")


def test_with_a_pool_the_recast_tests_are_units_of_their_own_and_the_others_stay_one() -> None:
    voice, email = "scenarios/voice.py::test_dial_answer_hangup", "scenarios/email.py::test_email_revoked"
    marked = "scenarios/agent_state.py::test_do_not_disturb_on_me"
    hostile = "protocol/test_hostile.py::test_rest_refuses_hostile_input[deeply nested arrays]"
    assert scope(voice) == scope(email) == scope(marked) == scope(hostile) == AGENT_ACCOUNTS  # as before pools
    assert scope(voice, 9) == voice and scope(email, 9) == email
    assert scope(marked, 9) == marked and scope(hostile, 9) == hostile
    warm_up = "scenarios/agent_state.py::test_ready_and_not_ready_on_all_channels"
    assert scope(warm_up, 9) == AGENT_ACCOUNTS  # the unit's warm-up: it sizes the windows of the whole-pool tests
    assert recast(hostile) and not recast("protocol/test_hostile.py::test_a_lone_surrogate_is_not_stored")
    assert scope("fuzz/test_fuzz.py::test_positive_data[GET /me as supervisor]", 9).endswith("supervisor]")
    as_agent = "fuzz/test_fuzz.py::test_positive_data[GET /me as agent]"
    assert scope(as_agent) == AGENT_ACCOUNTS and scope(as_agent, 9) == as_agent
    assert scope("scenarios/email.py::test_email_offered_only_while_ready", 9) == AGENT_ACCOUNTS


def test_with_a_pool_fuzzing_as_the_agent_has_agents_of_its_own_which_no_scenario_is_cast_on() -> None:
    def pool(size: int) -> list[str]:
        return [f"agent{n}" for n in range(1, size + 1)]

    assert fuzz_agents(pool(3)) == fuzz_agents(pool(4)) == ()  # fuzzing acts as agent1, in the unit
    assert fuzz_agents(pool(5)) == ("agent5",)
    assert fuzz_agents(pool(9)) == ("agent8", "agent9")
    assert fuzz_agents(pool(12)) == ("agent10", "agent11", "agent12")
    for size in (3, 4, 5, 9, 20):
        fuzzing, scenarios = fuzz_agents(pool(size)), scenario_agents(pool(size))
        assert sorted(fuzzing + scenarios) == sorted(pool(size)) and not set(fuzzing) & set(scenarios)
        assert {"agent1", "agent2", "agent3"} <= set(scenarios)  # every role a scenario names can be played
    as_agent = "fuzz/test_fuzz.py::test_negative_data[POST /me as agent]"
    assert scope(as_agent, 4) == AGENT_ACCOUNTS and scope(as_agent, 5) == as_agent


def test_the_queue_begins_with_the_unit_then_what_the_whole_pool_e_mails_leave_free_then_turn_about() -> None:
    """While the unit's worker runs the whole-pool e-mails (every agent of the pool and the supervisor held), the
    other workers take tests that hold none of those; then scenarios and fuzz tests of the agent and supervisor
    roles take turns, so that a worker whose scenario waits for agents is not
    alone in waiting."""
    matrix = "scenarios/permissions.py::test_permission_matrix[GET /me-agent]"
    admin = "fuzz/test_fuzz.py::test_negative_data[GET /users as admin]"
    supervisor = "fuzz/test_fuzz.py::test_negative_data[GET /me as supervisor]"
    agent = "fuzz/test_fuzz.py::test_positive_data[GET /me as agent]"
    chat = "scenarios/chat.py::test_chat_revoked"
    voice = "scenarios/voice.py::test_dial_answer_hangup"
    wildcard = "protocol/test_cometd_clients.py::test_a_wildcard_subscription_delivers_each_message_once[/**]"
    # The admin's and the supervisor's fuzz tests that hold the account alone: one unit per role, first in its part;
    # the role's shared fuzz tests after the part's tests that are no fuzz tests.
    admin_alone = scope("fuzz/test_fuzz.py::test_stateful_links[links as admin]", 9)
    supervisor_alone = scope("fuzz/test_fuzz.py::test_positive_data[POST /me/channels/{channel} as supervisor]", 9)
    assert admin_alone == scope("fuzz/test_fuzz.py::test_negative_data[POST /me as admin]") != admin
    assert supervisor_alone == "fuzz/test_fuzz.py::[alone as supervisor]" != scope(supervisor, 9) == supervisor
    alone_agent = "fuzz/test_fuzz.py::test_positive_data[POST /me as agent]"
    assert scope(alone_agent, 9) == alone_agent  # any free one of fuzzing's agents: it keeps none waiting
    queue = [supervisor, chat, admin, matrix, agent, AGENT_ACCOUNTS, voice, supervisor_alone, wildcard, admin_alone]
    assert queue_order(queue) == [
        AGENT_ACCOUNTS,
        admin_alone,
        matrix,
        admin,
        chat,
        supervisor_alone,
        voice,
        agent,
        wildcard,
        supervisor,
    ]
    assert sorted(queue_order(queue)) == sorted(queue)  # every unit once


def test_the_first_test_on_the_calls_topic_is_queued_first_of_those_that_wait_for_the_pool() -> None:
    """Against a target that drops a topic, the first wait on it is the notification timeout: begun first, it passes
    while the other workers run the rest, and the tests after it on the topic find it known missing."""
    sequence = "protocol/test_sequence.py::test_a_whole_call_keeps_the_sequence_rules"
    wildcard = "protocol/test_cometd_clients.py::test_a_wildcard_subscription_delivers_each_message_once[/**]"
    chat = "scenarios/chat.py::test_chat_revoked"
    voice = "scenarios/voice.py::test_dial_answer_hangup"
    agent = "fuzz/test_fuzz.py::test_positive_data[GET /me as agent]"
    queue = queue_order([AGENT_ACCOUNTS, wildcard, chat, agent, sequence, voice])
    assert queue == [AGENT_ACCOUNTS, sequence, agent, wildcard, chat, voice]


def _two_workers(collection: list[str]) -> tuple[Any, _Worker, _Worker]:
    """The suite's scheduler (a pool of nine agents) and two fake workers that collected ``collection``, after
    the first hand-out (the agent-account unit to the first)."""
    import types

    from conformance.scheduling import scheduler

    option = types.SimpleNamespace(tx=["2*popen"], numprocesses=None, dist="loadscope", loadscopereorder=True)
    config = types.SimpleNamespace(option=option, getvalue=lambda name: getattr(option, name, None))
    config.getoption = config.getvalue
    scheduling = scheduler(config, None, pool_size=9)
    unit_worker, other = _Worker("gw0"), _Worker("gw1")
    for worker in (unit_worker, other):
        scheduling.add_node(worker)
        scheduling.add_node_collection(worker, collection)
    scheduling.schedule()
    return scheduling, unit_worker, other


def test_the_calls_topics_table_names_every_module_that_waits_on_that_topic() -> None:
    """The scheduler reads ids, not what a test waits for: a module of the suite that names the calls topic is in
    its table (the scout's, the others'), or is test_cometd.py, which only lists it among the topics it subscribes to."""
    from pathlib import Path

    import conformance.suite
    from conformance.scheduling import _CALLS_TOPIC_SCOUT, _ON_CALLS_TOPIC

    suite = Path(conformance.suite.__file__).parent
    naming = {path.name for path in suite.rglob("*.py") if '"/v2/me/calls"' in path.read_text(encoding="utf-8")}
    assert naming == {_CALLS_TOPIC_SCOUT[0], *_ON_CALLS_TOPIC, "test_cometd.py"}


class _Worker:
    """What the scheduler needs of a pytest-xdist worker: the tests it was sent, in order."""

    def __init__(self, name: str) -> None:
        self.gateway = type("Gateway", (), {"id": name})()
        self.sent: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent += indexes

    def shutdown(self) -> None:
        self.shutting_down = True


def test_units_that_wait_for_the_pool_are_handed_out_only_once_the_whole_pool_tests_are_done() -> None:
    """Before: only what the whole-pool e-mails leave free, though scenarios are queued; after: those first (the
    scenarios queue for the pool's agents: they are the end of a remote run)."""

    whole_pool = "scenarios/email.py::test_email_offered_only_while_ready"
    warm_up = "scenarios/agent_state.py::test_ready_and_not_ready_on_all_channels"
    held = [f"scenarios/chat.py::test_chat_{n}" for n in range(12)]
    free = [f"protocol/test_hostile.py::test_a_lone_surrogate_is_not_stored[case {n}]" for n in range(20)]
    collection = [warm_up, whole_pool, *held, *free]
    scheduling, unit_worker, other = _two_workers(collection)
    assert [collection[i] for i in unit_worker.sent[:2]] == [warm_up, whole_pool]

    def run_on(worker: _Worker, count: int) -> list[str]:
        """The tests handed to ``worker`` while it finishes ``count`` tests, one at a time."""
        sent = len(worker.sent)
        for _ in range(count):
            scheduling.mark_test_complete(worker, worker.sent[-1])
        return [collection[i] for i in worker.sent[sent:]]

    before = [collection[i] for i in other.sent] + run_on(other, 6)
    assert before and set(before) <= set(free)  # the whole-pool test is not done: scenarios wait
    for index in unit_worker.sent[:2]:
        scheduling.mark_test_complete(unit_worker, index)  # the whole-pool test is done
    after = run_on(other, 4)
    assert after and set(after) <= set(held), after  # now what waits for the pool goes first


def test_while_the_calls_topics_first_test_runs_the_others_on_that_topic_wait_unless_nothing_else_is_left() -> None:
    """Begun beside it, each would wait on a dropped calls topic with the agents it holds, where the worker could
    run what does not need the topic."""

    warm_up = "scenarios/agent_state.py::test_ready_and_not_ready_on_all_channels"
    whole_pool = "scenarios/email.py::test_email_offered_only_while_ready"
    scout = "protocol/test_sequence.py::test_a_whole_call_keeps_the_sequence_rules"
    on_calls = [
        "scenarios/voice.py::test_dial_answer_hangup",
        "scenarios/permissions.py::test_an_agent_cannot_reach_another_agents_devices_and_calls",
    ]
    chats = [f"scenarios/chat.py::test_chat_{n}" for n in range(2)]
    free = [f"protocol/test_hostile.py::test_a_lone_surrogate_is_not_stored[case {n}]" for n in range(6)]
    collection = [warm_up, whole_pool, *on_calls, *chats, scout, *free]
    scheduling, unit_worker, other = _two_workers(collection)

    def finish(worker: _Worker, nodeid: str) -> list[str]:
        """The tests handed to ``worker`` once it has run ``nodeid``."""
        sent = len(worker.sent)
        scheduling.mark_test_complete(worker, collection.index(nodeid))
        return [collection[i] for i in worker.sent[sent:]]

    finish(unit_worker, warm_up)
    assert finish(unit_worker, whole_pool) == [scout]  # first of what waits for the pool
    handed: list[str] = []
    for _ in range(4):
        handed += finish(other, collection[other.sent[-1]])
    assert handed[:2] == chats and set(handed[2:]) <= set(free), handed  # not the calls topic's tests
    assert finish(unit_worker, scout) == on_calls[:1]  # the scout is done: they go first again
    assert not set(handed) & set(on_calls)


def test_the_permission_matrix_runs_in_a_few_units_each_operation_together() -> None:
    """Its module fixture makes and deletes users, a skill, a contact, an agent state and a device: cells run in a
    row on one worker share it, where a worker switching modules between cells made it again each time."""
    from conformance.scheduling import MATRIX_UNITS

    cells = [
        f"scenarios/permissions.py::test_permission_matrix[{op}-{caller}]"
        for op in ("GET /me", "POST /me#NotReady", "GET /users/{id}", "DELETE /contacts/{id}", "POST /skills")
        for caller in ("anonymous", "agent", "admin")
    ]
    units = {cell: scope(cell, 9) for cell in cells}
    assert 1 < len(set(units.values())) <= MATRIX_UNITS
    for cell, unit in units.items():  # every caller of an operation in the same unit
        assert unit == units[cell.rpartition("-")[0] + "-anonymous]"]
    ready = "scenarios/permissions.py::test_permission_matrix[POST /me#Ready-agent]"
    assert scope(ready, 9) == ready  # it holds the routing: it waits with the pool's tests, alone
