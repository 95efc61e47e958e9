"""What a session's traffic proves as a whole, judged by the same rules ``gws-conformance validate`` applies.

A scenario expects the messages of one operation; the sequence rules hold across a whole session: a call leg
never comes back after Released (GWS-GEN-031), no message reaches a session twice (GWS-GEN-032). Here a raw
CometD session of the callee hears a whole call (Dial, Answer, Hangup), and every reply of every long-polling
exchange goes through the passive judge (conformance.passive.bayeux) as a recording of it would.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import pytest

from conformance import casting
from conformance.api import Agent, Call, Device
from conformance.bayeux import HOLD_MS
from conformance.client import GwsClient
from conformance.config import Settings
from conformance.delivery import DeliveryClock
from conformance.outcomes import not_applicable
from conformance.overlap import at_once
from conformance.passive.bayeux import CALL_LEG_REQUIREMENT, DUPLICATE_REQUIREMENT, BayeuxJudge
from conformance.suite.scenarios.lifecycle import best_effort
from conformance.suite.scenarios.support import Me, require, should

CALLS = "/v2/me/calls"
JUDGED_RULES = ("call_leg_states", "no_duplicate_message")


@pytest.mark.recast  # with a pool, whichever agents are free play agent1 and agent2
@pytest.mark.feature("api-voice")
@pytest.mark.requirement(CALL_LEG_REQUIREMENT, DUPLICATE_REQUIREMENT)
def test_a_whole_call_keeps_the_sequence_rules(
    gws_bayeux: Any,
    gws_exclusive: Any,
    gws_client: Any,
    gws_settings: Settings,
    gws_delivery: DeliveryClock,
) -> None:
    gws_exclusive("agent1", "agent2")
    agent1: GwsClient = gws_client("agent1")
    agent2: GwsClient = gws_client("agent2")
    callee_name = casting.account("agent2")
    caller, callee = at_once([functools.partial(Me.read, agent1), functools.partial(Me.read, agent2)])
    if not caller.device_ids or not callee.device_ids:
        not_applicable(f"{casting.account('agent1')} and {callee_name} need a device each to call each other")
    phone = str(callee.device(callee.device_ids[0]).get("phoneNumber", ""))
    session = gws_bayeux("agent2")
    session.handshake()
    session.subscribe(CALLS, "GWS-COMETD-007")
    judge = BayeuxJudge()
    heard: list[dict[str, Any]] = []

    def hear(state: str | None, window_s: float, hold_ms: int = HOLD_MS) -> dict[str, Any] | None:
        """Connect (each held up to ``hold_ms``) until the callee's call is heard in ``state`` (None: for the whole
        window), judging every batch."""
        deadline = time.monotonic() + window_s
        while time.monotonic() < deadline:
            response, replies = session.send(
                "/meta/connect", connectionType="long-polling", advice={"timeout": hold_ms}
            )
            sent = [{"channel": "/meta/connect", "id": session.last_id, "clientId": session.client_id}]
            verdicts = judge.judge_batch(
                sent,
                replies,
                seq=len(heard),
                where=f"POST {response.request.url}",
                user=callee_name,
                http_evidence=None,
                client_id=session.client_id,
            )
            for verdict in verdicts:
                if verdict.rule in JUDGED_RULES and verdict.violation is not None:
                    judged = should if verdict.violation.is_warning else require  # the catalogue's level
                    judged(False, verdict.violation.title, verdict.violation.message, *verdict.requirements)
            calls = [
                m["data"]["call"] for m in replies if m.get("channel") == CALLS and isinstance(m.get("data"), dict)
            ]
            heard.extend(calls)
            found = [c for c in calls if isinstance(c, dict) and c.get("state") == state]
            if state is not None and found:
                return found[0]
        return None

    def expect(state: str, rule: str) -> dict[str, Any]:
        # The run's clock: a target that has dropped this topic before in the run is not waited out again.
        found = hear(state, gws_delivery.expect_timeout_s(CALLS, gws_settings.notification_timeout_s))
        if found is None:
            gws_delivery.missed(CALLS)
        require(found is not None, f"{callee_name} never hears its call {state}", f"heard {heard!r}", rule)
        assert found is not None
        return found

    session.connect(advice={"timeout": 0})
    device = Device(agent1, caller.device_ids[0])
    try:
        device.dial(phone)
        ringing = Call(agent2, str(expect("Ringing", "GWS-CALL-011")["id"]))
        ringing.answer()
        expect("Established", "GWS-CALL-014")
        ringing.hangup()
        expect("Released", "GWS-CALL-015")
        # What comes after Released is judged too, for a quiet window: each connect is held no longer than the
        # window, so that the watch ends with it (a connect held HOLD_MS made every run wait 1.5 s here).
        window_s = gws_delivery.spend()
        hear(None, window_s, hold_ms=max(1, round(window_s * 1000)))
    finally:
        # What GET /me/calls lists too: a target that dropped the call's messages left a call nobody heard, and the
        # next scenario on this device would fail on it ("already has an active call"), not on the dropped topic.
        unreleased = [str(c.get("id")) for c in heard if isinstance(c, dict) and c.get("state") != "Released"]
        best_effort(functools.partial(_hang_up, agent2, unreleased))
        best_effort(functools.partial(_hang_up, agent1, []))


def _hang_up(client: GwsClient, heard: list[str]) -> None:
    """Cleanup: hang up the calls the agent was heard to have unreleased, then those GET /me/calls lists."""
    for call in heard:
        best_effort(functools.partial(Call(client, call).hangup, expect=None))
    for call in Agent(client).active_call_ids():
        if call not in heard:
            best_effort(functools.partial(Call(client, call).hangup, expect=None))
