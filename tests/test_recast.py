"""The tests marked ``recast`` act only as the pool agents that play their roles (conformance.casting).

Against a reference offering nine agents, the suite is told the pool (GWS_AGENTS=9) but wrong passwords for
agent1..agent3: whatever a recast test reads or sends as one of those accounts directly (a fixture of a fixed
account, a hard-coded user, a Bayeux session or Authorization header of the role itself) is refused with 401
and fails it. So every recast test passing here shows it runs exactly on whichever pool agents it was given;
the same test without a pool, on agent1 itself, fails (the run can fail).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_reference import LiveTarget, run_suite, serve
from test_hostile_readback import applying_first

from reference_impl.app import create_app
from reference_impl.store import Store

SUITE = "conformance/suite"
# Every recast test but two: the forwarding scenario reads agent2's and agent3's phone numbers (a destination,
# unchanged), and the interaction-list test lists as agent1 (a stranger to the e-mail, not held): both act as
# those accounts on purpose.
RECAST = [
    f"{SUITE}/scenarios/agent_state.py",
    f"{SUITE}/scenarios/permissions.py::test_an_agent_cannot_reach_another_agents_devices_and_calls",
    f"{SUITE}/scenarios/permissions.py::test_an_agent_cannot_reach_another_agents_interactions_attachments_and_workbins",
    f"{SUITE}/scenarios/list_isolation.py::test_an_interaction_list_reveals_nothing_its_get_refuses[supervisor]",
    f"{SUITE}/protocol/test_cometd.py::test_no_message_on_a_topic_the_client_left_or_never_joined",
    f"{SUITE}/protocol/test_cometd_clients.py::test_a_wildcard_subscription_delivers_each_message_once",
    f"{SUITE}/protocol/test_cometd_hijack.py::test_another_users_client_id_is_refused_and_leaks_nothing",
    f"{SUITE}/protocol/test_sequence.py::test_a_whole_call_keeps_the_sequence_rules",
    f"{SUITE}/protocol/test_hostile.py::test_rest_refuses_hostile_input[deeply nested objects]",
    f"{SUITE}/protocol/test_hostile.py::test_rest_refuses_an_oversized_body",
    f"{SUITE}/protocol/test_hostile_stimulus.py::test_the_stimulus_api_refuses_hostile_input",
    f"{SUITE}/protocol/test_hostile_websocket.py::test_a_session_keeps_its_state_through_hostile_messages",
]
FAST = {"GWS_QUIET_WINDOW_S": "0.3", "GWS_NOTIFICATION_TIMEOUT_S": "5", "GWS_STIMULUS": "reference"}
# reference_impl/population.py names the accounts it adds: agent<N>, password agent<N>-secret.
POOL = {f"GWS_AGENT{n}_USER": f"agent{n}" for n in range(4, 10)} | {
    f"GWS_AGENT{n}_PASSWORD": f"agent{n}-secret" for n in range(4, 10)
}
UNUSABLE = {f"GWS_AGENT{n}_PASSWORD": "not-the-password" for n in (1, 2, 3)}


@pytest.fixture(scope="module")
def nine_agents() -> Iterator[LiveTarget]:
    with serve(create_app(Store.from_file(agents=9), stimulus=True)) as target:
        yield target


def outcomes(data: dict[str, Any]) -> dict[str, str]:
    return {test["nodeid"]: test["outcome"] for test in data["tests"]}


def test_recast_tests_act_only_as_the_pool_agents_cast_for_them(nine_agents: LiveTarget, tmp_path: Path) -> None:
    data = run_suite(nine_agents, tmp_path, *RECAST, "-k", "not forwarding", GWS_AGENTS="9", **FAST, **POOL, **UNUSABLE)
    found = outcomes(data)
    assert len(found) >= 30 and data["exit_code"] == 0, data["output"]
    assert set(found.values()) == {"passed"}, {nodeid: o for nodeid, o in found.items() if o != "passed"}


def test_without_a_pool_the_same_test_acts_as_agent1_and_fails_here(nine_agents: LiveTarget, tmp_path: Path) -> None:
    one = f"{SUITE}/protocol/test_cometd.py::test_no_message_on_a_topic_the_client_left_or_never_joined"
    data = run_suite(nine_agents, tmp_path, one, **FAST, **UNUSABLE)
    assert data["exit_code"] == 1 and list(outcomes(data).values()) == ["failed"], data["output"]


def test_a_recast_read_back_still_catches_a_refused_request_that_changed_state(tmp_path: Path) -> None:
    """The hostile battery's read-back (E101) on a pool agent: the case goes with the credentials of the agent playing
    agent1, so the state it changed is the one read back (tests/test_hostile_readback.py, on agent1 itself)."""
    with serve(applying_first(create_app(Store.from_file(agents=9)))) as leaky:
        data = run_suite(
            leaky,
            tmp_path,
            f"{SUITE}/protocol/test_hostile.py::test_rest_refuses_hostile_input",
            GWS_AGENTS="9",
            **FAST,
            **POOL,
        )  # agent1 usable: the cases that cannot write (GET) hold nothing and are sent as agent1 itself
    failed = {t["nodeid"].partition("[")[2]: t for t in data["tests"] if t["outcome"] != "passed"}
    assert list(failed) == ["a lone surrogate echoed]"], data["output"]
    caught = failed["a lone surrogate echoed]"]
    assert "changed agent4's state" in caught["title"] and caught["violated"] == ["GWS-HOST-003"], caught
