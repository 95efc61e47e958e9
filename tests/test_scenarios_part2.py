"""The lifecycle scenarios of groups 4 (e-mail), 5 (chat) and 6 (voice) against the reference server.

Each run is a pytest process of its own (the plugin reads its settings once per process) pointed with
GWS_* variables at a reference server served here on a real socket; the assertions read the results
file it writes. The passing run uses pytest-xdist, so the account locks are exercised as a vendor's
parallel run would. Without a stimulus adapter the scenarios that need one report "needs stimulus".
Against a server with one deliberate defect (reference_impl/faults.py) the scenario meant to catch it
fails, naming the requirement the defect breaks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_reference import PASSWORDS, LiveTarget, serve
from live_reference import run_suite as run_suite_in_child

SCENARIOS = "conformance/suite/scenarios"
PART2 = [f"{SCENARIOS}/{name}.py" for name in ("email", "chat", "voice")]
# Short windows keep the runs quick; the reference delivers within milliseconds.
SPEED = {"GWS_QUIET_WINDOW_S": "0.5", "GWS_NOTIFICATION_TIMEOUT_S": "5"}


def run_suite(
    target: LiveTarget, tmp_path: Path, *selection: str, stimulus: str = "reference", workers: int = 0, **settings: str
) -> dict[str, Any]:
    return run_suite_in_child(
        target, tmp_path, *selection, workers=workers, **{"GWS_STIMULUS": stimulus, **SPEED, **settings}
    )


def outcomes(data: dict[str, Any]) -> dict[str, str]:
    return {test["nodeid"].rpartition("::")[2]: test["outcome"] for test in data["tests"]}


@pytest.fixture(scope="module")
def reference() -> Iterator[LiveTarget]:
    with serve(stimulus=True) as target:
        yield target


def test_part2_scenarios_pass_against_the_reference(reference: LiveTarget, tmp_path: Path) -> None:
    data = run_suite(reference, tmp_path, *PART2, workers=4)
    bad = {name: outcome for name, outcome in outcomes(data).items() if outcome != "passed"}
    assert data["exit_code"] == 0 and not bad, f"{bad}\n{data['output']}"
    assert len(data["tests"]) == 23
    tested = {rid for test in data["tests"] for rid in test["requirements"]}
    for area, count in (("EMAIL", 17), ("CHAT", 14), ("CALL", 29), ("ATT", 6), ("WB", 8)):
        assert len({rid for rid in tested if rid.startswith(f"GWS-{area}-")}) >= count, (area, sorted(tested))


def test_without_an_adapter_the_stimulated_scenarios_need_stimulus(reference: LiveTarget, tmp_path: Path) -> None:
    # Every e-mail and chat scenario and the forwarding one need a customer; a call between agents does not.
    voice = [
        f"{SCENARIOS}/voice.py::{name}"
        for name in ("test_forwarding_sends_inbound_calls_on", "test_do_not_disturb_keeps_calls_away")
    ]
    data = run_suite(reference, tmp_path, *PART2[:2], *voice, stimulus="none")
    found = outcomes(data)
    assert found.pop("test_do_not_disturb_keeps_calls_away") == "passed", data["output"]
    assert len(found) == 15 and set(found.values()) == {"needs_stimulus"}, data["output"]
    assert data["exit_code"] == 0, data["output"]


# -- servers with one defect ------------------------------------------------------------------------------

CAUGHT = [
    ("hold-not-applied", "voice.py::test_hold_retrieve_mute_dtmf", {"GWS-CALL-016", "GWS-CALL-010"}),
    ("capabilities-list-refused", "voice.py::test_dial_answer_hangup", {"GWS-CALL-005"}),
    ("capabilities-omit-working", "voice.py::test_hold_retrieve_mute_dtmf", {"GWS-CALL-005"}),
    ("notification-missing", "voice.py::test_dial_answer_hangup", {"GWS-CALL-012", "GWS-CALL-010"}),
    ("notification-wrong-state", "voice.py::test_hold_retrieve_mute_dtmf", {"GWS-CALL-016", "GWS-CALL-010"}),
    ("email-reply-wrong-addresses", "email.py::test_email_accept_reply_send", {"GWS-EMAIL-007"}),
    ("chat-history-missing-message", "chat.py::test_chat_accept_messages_history", {"GWS-CHAT-003"}),
]


@pytest.mark.parametrize(("fault", "scenario", "requirements"), CAUGHT, ids=[c[0] for c in CAUGHT])
def test_a_defect_fails_the_scenario_meant_to_catch_it(
    fault: str, scenario: str, requirements: set[str], tmp_path: Path
) -> None:
    with serve(stimulus=True, faults=[fault]) as target:
        # A defect that withholds a message costs one timeout: keep it short.
        data = run_suite(target, tmp_path, f"{SCENARIOS}/{scenario}", GWS_NOTIFICATION_TIMEOUT_S="2")
    (test,) = data["tests"]
    assert test["outcome"] == "failed", data["output"]
    assert requirements & set(test["violated"]), (test["violated"], test["title"], data["output"])


def test_a_failed_scenario_cleans_up_after_itself(tmp_path: Path) -> None:
    """The reply scenario fails half-way (an e-mail and its reply still open); every later e-mail scenario,
    on the same agents, still passes: cleanup ended what the failed one left and no stray message followed."""
    with serve(stimulus=True, faults=["email-reply-wrong-subject"]) as target:
        data = run_suite(target, tmp_path, f"{SCENARIOS}/email.py")  # file order: the failing one first
    found = outcomes(data)
    assert found.pop("test_email_accept_reply_send") == "failed", data["output"]
    (failed,) = [test for test in data["tests"] if test["outcome"] == "failed"]
    assert "GWS-EMAIL-008" in failed["violated"], failed["title"]
    assert set(found.values()) == {"passed"}, data["output"]


def test_a_call_whose_messages_never_came_is_hung_up_all_the_same(tmp_path: Path) -> None:
    """A target that drops /v2/me/calls fails the sequence test on the missing Ringing; its cleanup still hangs
    up the call it placed (GET /me/calls lists it), so the next scenario on that device fails on the dropped
    topic, not on "already has an active call"."""
    with serve(stimulus=True, faults=["notification-missing"]) as target:
        data = run_suite(
            target, tmp_path, "conformance/suite/protocol/test_sequence.py", GWS_NOTIFICATION_TIMEOUT_S="1"
        )
        (test,) = data["tests"]
        assert test["outcome"] == "failed" and "never hears its call Ringing" in test["title"], data["output"]
        for agent in ("agent1", "agent2"):
            listed = httpx.get(f"{target.base_url}/me/calls", auth=(agent, PASSWORDS[agent]), params={"fields": "*"})
            left = [call for call in listed.json()["calls"] if call.get("state") != "Released"]
            assert left == [], (agent, left)
