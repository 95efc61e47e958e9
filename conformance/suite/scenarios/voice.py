"""Voice: calls between the configured agents, call control, and what each side hears on /v2/me/calls.

Seed: Calls API, Asynchronous Operations, Call Control, Device/Channel Management, Asynchronous
Telephony Operations Notifications > Calls. Each party has its own view of a call (its *leg*: the id
its /me/calls/{id} answers to); a step names the messages every party receives, in order per leg.

At every step the scenario checks the capabilities: the operation it performs next is listed, GET
shows the state and capabilities of the latest message, and an operation the message does not list
is refused (statusCode 2) without changing the call or causing a message (lifecycle.refuse_unlisted).
Scenarios hold the agents they use (lifecycle.Cast) and hang up whatever they leave, even on failure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.api import ANY, Call, Device
from conformance.failures import Violation
from conformance.stimulus import StimulusAdapter
from conformance.suite.scenarios.lifecycle import (
    REFUSAL,
    Attempt,
    Cast,
    Party,
    Sequenced,
    best_effort,
    capabilities_of,
    cast_fixture,
    quiet,
    refuse_unlisted,
    require_listed,
    warn_unknown_values,
)
from conformance.suite.scenarios.support import DEVICES, expect_devices, require, should

CALLS = "/v2/me/calls"
OUTSIDE = "+16505550123"  # a customer's number: outside the contact center, reached through the stimulus
CAPABILITIES = ("GWS-CALL-005",)
SPELLING = "GWS-CALL-006"
# E52: a mute change shows in call.mute of a call message of any notificationType.
ANY_KIND = ("StatusChange", "ParticipantsUpdated", "AttachedDataChanged", "DtmfSent")

pytestmark = [pytest.mark.feature("api-voice")]


cast = cast_fixture()


# -- one party's side of a call -----------------------------------------------------------------------


@dataclass
class Leg:
    """A party's leg of a call as its latest message showed it."""

    party: Party
    call: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.call["id"])

    @property
    def state(self) -> str:
        return str(self.call.get("state"))

    @property
    def uri(self) -> str:
        return str(self.call.get("uri", ""))

    @property
    def participants(self) -> list[str]:
        value = self.call.get("participants")
        return [p for p in value if isinstance(p, str)] if isinstance(value, list) else []

    @property
    def api(self) -> Call:
        return Call(self.party.client, self.id)

    def describe(self) -> str:
        return f"{self.party.role}'s call {self.id}"


class Calls:
    """What a scenario heard about its calls: each leg's latest message, in order per leg."""

    def __init__(self, cast: Cast, *parties: Party) -> None:
        self.parties = parties
        self.order = Sequenced()
        self.legs: list[Leg] = []
        for party in parties:
            party.listen(CALLS)
        cast.on_cleanup(lambda: release_everything(parties))

    def hear(
        self,
        party: Party,
        description: str,
        *,
        leg: Leg | None = None,
        state: str | None = None,
        kind: str | tuple[str, ...] = "StatusChange",
        where: Callable[[dict[str, Any]], bool] = lambda call: True,
        ids: tuple[str, ...] = (),
        timeout_s: float | None = None,
    ) -> Leg:
        """Claim the next message of ``party`` about ``leg`` (None: a new leg) and return the leg updated."""
        kinds = (kind,) if isinstance(kind, str) else kind
        known = {existing.id for existing in self.legs if existing.party is party}

        def matches(data: dict[str, Any]) -> bool:
            call = data["call"]
            if data.get("notificationType") not in kinds or "errorMessage" in data:
                return False
            if leg is not None and call["id"] != leg.id:
                return False
            if leg is None and call["id"] in known:
                return False
            return (state is None or call["state"] == state) and where(call)

        record = party.messages.expect(
            CALLS, matches, f"{party.role}: {description}", in_order=False, timeout_s=timeout_s
        )
        data = record.data
        call = data["call"]
        self.order.claim(f"{party.role}:{call['id']}", record.index, f"{party.role}'s call {call['id']}", *ids)
        require(
            data.get("phoneNumber") == party.phone,
            "A call message names another device's phone number",
            f"{party.role}'s message carries phoneNumber {data.get('phoneNumber')!r}; its device is {party.phone}.",
            "GWS-CALL-009",
        )
        warn_unknown_values(CALLS, data, SPELLING)
        ruled_out = impossible_capabilities(call)
        require(
            not ruled_out,
            "A call lists operations its state rules out",
            f"{party.role}'s call {call['id']} in state {call.get('state')} (mute {call.get('mute')}) lists "
            f"{ruled_out}: capabilities must list only what succeeds now.",
            *CAPABILITIES,
        )
        if leg is None:
            leg = Leg(party, call)
            self.legs.append(leg)
        else:
            leg.call = call
        return leg

    def refuse(self, leg: Leg, *candidates: str) -> str:
        """GET shows the leg as its message did; an operation it does not list is refused, unchanged."""
        call = leg.api
        senders: dict[str, Callable[..., Any]] = {
            "Answer": call.answer,
            "Hold": call.hold,
            "Retrieve": call.retrieve,
            "MuteCall": call.mute,
            "UnmuteCall": call.unmute,
        }
        order = [*candidates, *(name for name in senders if name not in candidates)]
        return refuse_unlisted(
            what=leg.describe(),
            message=leg.call,
            reread=lambda: call.get().get("call") or {},
            attempts=[Attempt(name, senders[name]) for name in order],
            parties=self.parties,
            ids=CAPABILITIES,
            same=_unchanged,
        )


# Operations the state of a call rules out, whatever else the target allows (Call Control: Answer
# answers a ringing call, Retrieve a held one; Hold holds one that is not held; mute toggles).
_RULED_OUT: tuple[tuple[str, Callable[[Mapping[str, Any]], bool]], ...] = (
    ("Answer", lambda call: call.get("state") != "Ringing"),
    ("Retrieve", lambda call: call.get("state") != "Held"),
    ("Hold", lambda call: call.get("state") in ("Held", "Released")),
    ("MuteCall", lambda call: call.get("mute") == "On"),
    ("UnmuteCall", lambda call: call.get("mute") == "Off"),
)


def impossible_capabilities(call: Mapping[str, Any]) -> list[str]:
    listed = capabilities_of(call)
    wrong = [name for name, ruled_out in _RULED_OUT if name in listed and ruled_out(call)]
    if call.get("state") == "Released" and listed:
        wrong += [name for name in listed if name not in wrong]
    return wrong


def _unchanged(call: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        call.get("state"),
        sorted(capabilities_of(call)),
        sorted(p for p in call.get("participants", []) if isinstance(p, str)),
        call.get("mute"),
        call.get("userData"),
    )


def release_everything(parties: tuple[Party, ...]) -> None:
    """Cleanup: hang up every call the parties still have, and wait (bounded) until each is released, so
    that no message of this scenario reaches the next one's inbox."""
    for party in parties:
        best_effort(functools.partial(_release_calls_of, party))


def _release_calls_of(party: Party) -> None:
    mark = party.listener.mark()
    active = party.agent.active_call_ids()
    for call_id in active:
        best_effort(functools.partial(Call(party.client, call_id).hangup, expect=ANY))
    for call_id in active:
        best_effort(
            functools.partial(
                party.listener.expect, CALLS, released(call_id), timeout_s=party.cleanup_wait_s(CALLS), after=mark
            )
        )


# -- what a call message must show ----------------------------------------------------------------------

CallCheck = Callable[[dict[str, Any]], bool]


def released(call_id: str) -> Callable[[dict[str, Any]], bool]:
    """A message (its data) reporting that call Released."""
    return lambda data: data["call"]["id"] == call_id and data["call"]["state"] == "Released"


def with_parties(*numbers: str) -> CallCheck:
    """The call's participants include every one of ``numbers``."""
    return lambda call: set(numbers) <= set(call.get("participants", []))


def without_party(number: str) -> CallCheck:
    return lambda call: number not in call.get("participants", [])


def left_by(number: str) -> CallCheck:
    """After ``number`` hung up: the call goes on without it, or it ended."""
    return lambda call: call["state"] == "Released" or number not in call.get("participants", [])


def user_data_where(shows: Callable[[dict[str, Any]], bool]) -> CallCheck:
    return lambda call: shows(call.get("userData") or {})


# -- the steps ------------------------------------------------------------------------------------------


def dial(calls: Calls, caller: Party, callee: Party, destination: str | dict[str, str]) -> tuple[Leg, Leg]:
    """Dial: the caller's leg Dialing, the callee's Ringing with Answer; each names the other party."""
    Device(caller.client, caller.device_id).dial(destination)
    dialing = calls.hear(caller, "the new call Dialing", state="Dialing", where=with_parties(callee.phone))
    ringing = calls.hear(callee, "the new call Ringing", state="Ringing", where=with_parties(caller.phone))
    for leg in (dialing, ringing):
        require(
            str(leg.call.get("deviceUri", "")).rstrip("/").endswith(f"/{leg.party.device_id}"),
            "A call's deviceUri is not the device the call is on",
            f"{leg.describe()}: deviceUri {leg.call.get('deviceUri')!r}, device {leg.party.device_id}.",
            "GWS-CALL-002",
        )
    require(
        "Answer" in capabilities_of(ringing.call),
        "A ringing call does not offer Answer",
        f"{ringing.describe()} is Ringing with capabilities {capabilities_of(ringing.call)}.",
        "GWS-CALL-011",
    )
    return dialing, ringing


def answer(calls: Calls, ringing: Leg, *dialing: Leg) -> None:
    """Answer: the answering leg and the legs that were dialling it are Established."""
    require_listed("Answer", ringing.call, ringing.describe(), *CAPABILITIES)
    ringing.api.answer()
    calls.hear(ringing.party, "the answered call Established", leg=ringing, state="Established")
    for leg in dialing:
        calls.hear(leg.party, "the dialled call Established", leg=leg, state="Established")


def connect(calls: Calls, caller: Party, callee: Party) -> tuple[Leg, Leg]:
    """Dial and answer: an established call between two agents."""
    dialing, ringing = dial(calls, caller, callee, callee.phone)
    answer(calls, ringing, dialing)
    return dialing, ringing


def hangup(calls: Calls, leg: Leg, *others: Leg) -> None:
    """Hangup on a two-party call: both sides Released."""
    require_listed("Hangup", leg.call, leg.describe(), *CAPABILITIES)
    leg.api.hangup()
    for each in (leg, *others):
        calls.hear(each.party, "the call Released", leg=each, state="Released")


def leave(calls: Calls, legs: list[Leg]) -> None:
    """End a conference: each party hangs up in turn; the others see it leave or the call end."""
    remaining = [leg for leg in legs if leg.state != "Released"]
    while remaining:
        leg = remaining.pop(0)
        require_listed("Hangup", leg.call, leg.describe(), *CAPABILITIES)
        leg.api.hangup()
        calls.hear(leg.party, "the call Released", leg=leg, state="Released")
        gone = leg.party.phone
        for other in list(remaining):
            calls.hear(
                other.party,
                "a party leaving: the participants updated, or the call Released",
                leg=other,
                kind=("ParticipantsUpdated", "StatusChange"),
                where=left_by(gone),
            )
            if other.state == "Released":
                remaining.remove(other)


# -- scenarios ------------------------------------------------------------------------------------------


@pytest.mark.requirement(
    "GWS-CALL-032",  # every call it hears or reads carries capabilities (conformance.habits)
    "GWS-CALL-001",
    "GWS-CALL-002",
    "GWS-CALL-003",
    "GWS-CALL-005",
    "GWS-CALL-006",
    "GWS-CALL-009",
    "GWS-CALL-010",
    "GWS-CALL-011",
    "GWS-CALL-012",
    "GWS-CALL-014",
    "GWS-CALL-015",
    "GWS-GEN-020",
    "GWS-NOTIF-004",  # every call message is awaited on /v2/me/calls
    *REFUSAL,
)
def test_dial_answer_hangup(cast: Cast) -> None:
    """Dial from one agent to another: Dialing and Ringing on the right sides, Established, Released."""
    a, b = cast.take("agent1", "agent2")
    calls = Calls(cast, a, b)
    dialing, ringing = dial(calls, a, b, b.phone)
    calls.refuse(dialing, "Answer")
    calls.refuse(ringing, "Hold")

    mine = a.agent.list_my_calls()
    require(
        dialing.uri in mine.uris(),
        "GET /me/calls does not list the user's call",
        f"{dialing.uri} not in {mine.uris()}",
        "GWS-CALL-001",
        evidence=[mine.exchange],
    )
    listed = [call.get("id") for call in a.agent.list_my_calls(fields="*").items("calls")]
    require(
        dialing.id in listed,
        "GET /me/calls?fields=* does not list the user's call",
        f"{dialing.id} not in {listed}",
        "GWS-CALL-001",
    )

    answer(calls, ringing, dialing)
    calls.refuse(ringing, "Answer")
    calls.refuse(dialing, "Retrieve")
    hangup(calls, dialing, ringing)
    quiet(a, b)


@pytest.mark.requirement(
    "GWS-CALL-032",  # every call it hears or reads carries capabilities (conformance.habits)
    "GWS-CALL-004",
    "GWS-CALL-005",
    "GWS-CALL-016",
    "GWS-CALL-017",
    "GWS-CALL-022",
    "GWS-CALL-023",
    "GWS-CALL-025",
    "GWS-CALL-028",
    "GWS-GEN-011",
    "GWS-GEN-012",
    *REFUSAL,
)
def test_hold_retrieve_mute_dtmf(cast: Cast) -> None:
    """Hold and Retrieve, MuteCall and UnmuteCall, SendDtmf; attributes missing or wrong are refused."""
    a, b = cast.take("agent1", "agent2")
    calls = Calls(cast, a, b)
    mine, theirs = connect(calls, a, b)

    require_listed("Hold", mine.call, mine.describe(), *CAPABILITIES)
    mine.api.hold()
    calls.hear(a, "the call Held", leg=mine, state="Held")
    calls.refuse(mine, "Hold")
    require_listed("Retrieve", mine.call, mine.describe(), *CAPABILITIES)
    mine.api.retrieve()
    calls.hear(a, "the call Established again", leg=mine, state="Established")
    calls.refuse(mine, "Retrieve")

    require_listed("MuteCall", mine.call, mine.describe(), *CAPABILITIES)
    mine.api.mute()
    calls.hear(a, "the call muted", leg=mine, kind=ANY_KIND, where=lambda call: call.get("mute") == "On")
    calls.refuse(mine, "MuteCall")
    require(
        mine.api.get().get("call", {}).get("mute") == "On",
        "GET does not show the call muted",
        "After MuteCall, GET /me/calls/{id} must show mute On.",
        "GWS-CALL-025",
    )
    require_listed("UnmuteCall", mine.call, mine.describe(), *CAPABILITIES)
    mine.api.unmute()
    calls.hear(a, "the call unmuted", leg=mine, kind=ANY_KIND, where=lambda call: call.get("mute") == "Off")
    calls.refuse(mine, "UnmuteCall")

    require_listed("SendDtmf", mine.call, mine.describe(), *CAPABILITIES)
    mine.api.send_dtmf("123")
    calls.hear(a, "DtmfSent", leg=mine, kind="DtmfSent")
    mine.api.send_dtmf("12a", expect=2)

    # Every required attribute left out: statusCode 1, whatever the state (E13, GWS-CALL-028).
    call = mine.api
    call.send_dtmf(None, expect=1)
    call.single_step_transfer(None, expect=1)
    call.single_step_conference(None, expect=1)
    call.initiate_conference(None, expect=1)
    call.complete_conference(None, expect=1)
    call.remove_participant_from_conference(None, expect=1)
    call.swap_calls(None, expect=1)
    call.merge_with_other_call(None, expect=1)
    Device(a.client, a.device_id).dial(None, expect=1)
    calls.refuse(mine, "Answer")  # none of it changed the call or caused a message

    hangup(calls, theirs, mine)
    quiet(a, b)


@pytest.mark.requirement("GWS-CALL-029", "GWS-CALL-030")
def test_attached_data(cast: Cast) -> None:
    """AttachUserData, UpdateUserData, DeleteUserDataPair, DeleteUserData: AttachedDataChanged on both sides.

    The reference only advertises these operations (E52): every finding of this scenario is a warning.
    """
    a, b = cast.take("agent1", "agent2")
    calls = Calls(cast, a, b)
    mine, theirs = connect(calls, a, b)
    advertised_only = _Should("GWS-CALL-029", "GWS-CALL-030")
    with advertised_only:
        steps: list[tuple[str, Callable[[], Any], Callable[[dict[str, Any]], bool]]] = [
            (
                "AttachUserData",
                lambda: mine.api.attach_user_data({"gwsTopic": "billing", "gwsLevel": "1"}),
                lambda data: data.get("gwsTopic") == "billing" and data.get("gwsLevel") == "1",
            ),
            (
                "UpdateUserData",
                lambda: mine.api.update_user_data({"gwsTopic": "refund"}),
                lambda data: data.get("gwsTopic") == "refund",
            ),
            (
                "DeleteUserDataPair",
                lambda: mine.api.delete_user_data_pair("gwsLevel"),
                lambda data: "gwsLevel" not in data and data.get("gwsTopic") == "refund",
            ),
            (
                "DeleteUserData",
                lambda: mine.api.delete_user_data({"gwsTopic": "refund"}),
                lambda data: "gwsTopic" not in data and "gwsLevel" not in data,
            ),
        ]
        for operation, perform, shows in steps:
            require_listed(operation, mine.call, mine.describe(), "GWS-CALL-029", "GWS-CALL-030")
            perform()
            for leg in (mine, theirs):
                calls.hear(
                    leg.party,
                    f"AttachedDataChanged after {operation}",
                    leg=leg,
                    kind="AttachedDataChanged",
                    where=user_data_where(shows),
                )
    if advertised_only.broken:
        return  # the warning is the result; cleanup hangs up
    hangup(calls, mine, theirs)
    quiet(a, b)


@pytest.mark.requirement("GWS-CALL-005", "GWS-CALL-010", "GWS-CALL-014", "GWS-CALL-018", "GWS-CALL-011", *REFUSAL)
def test_single_step_transfer(cast: Cast) -> None:
    """SingleStepTransfer to a third agent: the transferring side Released, the third agent rings."""
    a, b, c = cast.take("agent1", "agent2", "agent3")
    calls = Calls(cast, a, b, c)
    caller, transferring = connect(calls, a, b)

    require_listed("SingleStepTransfer", transferring.call, transferring.describe(), *CAPABILITIES)
    transferring.api.single_step_transfer(c.phone)
    calls.hear(b, "the transferred call Released", leg=transferring, state="Released")
    ringing = calls.hear(c, "the transferred call Ringing", state="Ringing", where=with_parties(a.phone))
    calls.hear(
        a,
        "the participants updated: the third agent instead of the second",
        leg=caller,
        kind="ParticipantsUpdated",
        where=lambda call: with_parties(c.phone)(call) and without_party(b.phone)(call),
    )
    calls.refuse(ringing, "Hold")
    answer(calls, ringing)
    calls.refuse(ringing, "Answer")
    hangup(calls, ringing, caller)
    quiet(a, b, c)


@pytest.mark.requirement(
    "GWS-CALL-005",
    "GWS-CALL-019",
    "GWS-CALL-024",
    "GWS-CALL-009",
    *REFUSAL,
)
def test_single_step_conference_and_remove_participant(cast: Cast) -> None:
    """SingleStepConference adds a third agent (ParticipantsUpdated); RemoveParticipantFromConference removes it."""
    a, b, c = cast.take("agent1", "agent2", "agent3")
    calls = Calls(cast, a, b, c)
    mine, theirs = connect(calls, a, b)

    require_listed("SingleStepConference", mine.call, mine.describe(), *CAPABILITIES)
    mine.api.single_step_conference({"phoneNumber": c.phone})
    added = calls.hear(c, "the conference call Ringing", state="Ringing")
    for leg in (mine, theirs):
        calls.hear(
            leg.party,
            "the participants updated with the third agent",
            leg=leg,
            kind="ParticipantsUpdated",
            where=with_parties(c.phone),
        )
    answer(calls, added)
    calls.refuse(mine, "Answer")

    require_listed("RemoveParticipantFromConference", mine.call, mine.describe(), *CAPABILITIES)
    mine.api.remove_participant_from_conference(c.phone)
    calls.hear(c, "the removed party's call Released", leg=added, state="Released")
    for leg in (mine, theirs):
        calls.hear(
            leg.party,
            "the participants updated without the removed agent",
            leg=leg,
            kind="ParticipantsUpdated",
            where=without_party(c.phone),
        )
    calls.refuse(theirs, "Answer")
    hangup(calls, mine, theirs)
    quiet(a, b, c)


@pytest.mark.requirement(
    "GWS-CALL-005",
    "GWS-CALL-016",
    "GWS-CALL-020",
    "GWS-CALL-021",
    "GWS-CALL-022",
    *REFUSAL,
)
def test_initiate_and_complete_conference(cast: Cast) -> None:
    """InitiateConference (the call Held, a consultation call), CompleteConference: one call of three."""
    a, b, c = cast.take("agent1", "agent2", "agent3")
    calls = Calls(cast, a, b, c)
    main, theirs = connect(calls, a, b)

    require_listed("InitiateConference", main.call, main.describe(), *CAPABILITIES)
    main.api.initiate_conference({"phoneNumber": c.phone})
    calls.hear(a, "the main call Held", leg=main, state="Held")
    consult = calls.hear(a, "the consultation call Dialing", state="Dialing", where=with_parties(c.phone))
    consulted = calls.hear(c, "the consultation call Ringing", state="Ringing", where=with_parties(a.phone))
    calls.refuse(consulted, "Hold")
    answer(calls, consulted, consult)

    main.api.complete_conference(None, expect=1)
    # The consultation was answered after the main call's last message: re-read the main call.
    main.call = main.api.get()["call"]
    require_listed("CompleteConference", main.call, main.describe(), *CAPABILITIES)
    main.api.complete_conference(consult.uri)
    calls.hear(a, "the consultation call Released", leg=consult, state="Released")
    calls.hear(a, "the main call Established", leg=main, state="Established")
    three = (a.phone, b.phone, c.phone)
    for leg in (main, theirs, consulted):
        others = tuple(n for n in three if n != leg.party.phone)
        calls.hear(
            leg.party,
            "the participants of the conference",
            leg=leg,
            kind="ParticipantsUpdated",
            where=with_parties(*others),
        )
    calls.refuse(main, "Retrieve")
    leave(calls, [main, theirs, consulted])
    quiet(a, b, c)


@pytest.mark.requirement("GWS-CALL-005", "GWS-CALL-012", "GWS-CALL-026", "GWS-CALL-027", *REFUSAL)
def test_swap_and_merge(cast: Cast) -> None:
    """Two calls on one device: SwapCalls holds one and retrieves the other; MergeWithOtherCall joins them."""
    a, b, c = cast.take("agent1", "agent2", "agent3")
    calls = Calls(cast, a, b, c)
    first, with_b = connect(calls, a, b)
    require_listed("Hold", first.call, first.describe(), *CAPABILITIES)
    first.api.hold()
    calls.hear(a, "the first call Held", leg=first, state="Held")
    second, with_c = dial(calls, a, c, {"phoneNumber": c.phone})
    answer(calls, with_c, second)

    # The second call became active after the first's last message: re-read the first call.
    first.call = first.api.get()["call"]
    require_listed("SwapCalls", second.call, second.describe(), *CAPABILITIES)
    second.api.swap_calls(first.uri)
    calls.hear(a, "the second call Held", leg=second, state="Held")
    calls.hear(a, "the first call Established", leg=first, state="Established")
    calls.refuse(second, "Hold")

    first.call = first.api.get()["call"]
    require_listed("MergeWithOtherCall", first.call, first.describe(), *CAPABILITIES)
    first.api.merge_with_other_call(second.uri)
    calls.hear(a, "the merged call Released", leg=second, state="Released")
    three = (a.phone, b.phone, c.phone)
    for leg in (first, with_b, with_c):
        others = tuple(n for n in three if n != leg.party.phone)
        calls.hear(
            leg.party,
            "the participants of the merged call",
            leg=leg,
            kind="ParticipantsUpdated",
            where=with_parties(*others),
        )
    calls.refuse(first, "Retrieve")
    leave(calls, [first, with_b, with_c])
    quiet(a, b, c)


@pytest.mark.requirement("GWS-AGST-017", "GWS-CALL-031")
def test_do_not_disturb_keeps_calls_away(cast: Cast) -> None:
    """A call to a device in Do Not Disturb never rings there; the caller learns it by a CallOperationError."""
    a, b = cast.take("agent1", "agent2")
    device = Device(b.client, b.device_id)
    device.dnd_on()
    cast.on_cleanup(lambda: device.dnd_off(expect=ANY))
    Calls(cast, a, b)  # both listen to /v2/me/calls

    reply = Device(a.client, a.device_id).dial(b.phone, expect=ANY)
    if reply.ok:
        # Accepted, then failed: the error message, and the attempt's own messages if any (E53).
        error = a.messages.expect(CALLS, lambda data: "errorMessage" in data, "a: the CallOperationError")
        for member in ("deviceUri", "errorMessage", "connectionId", "callUuid"):
            require(member in error.data, f"The CallOperationError has no {member}", f"{error.data!r}", "GWS-CALL-031")
        attempt = error.data.get("call", {}).get("id")
        _allow_attempt_messages(a, attempt)
        require(
            all(
                call.get("state") == "Released"
                for call in a.agent.list_my_calls(fields="*").items("calls")
                if call.get("id") == attempt
            ),
            "A call refused by Do Not Disturb is still active",
            f"call {attempt} should be released",
            "GWS-CALL-031",
        )
    quiet(a, b)  # nothing rang on the device in Do Not Disturb
    device.dnd_off()


@pytest.mark.needs_stimulus
@pytest.mark.requirement(
    "GWS-AGST-023",
    "GWS-AGST-024",
    "GWS-CALL-008",
    "GWS-CALL-011",
    "GWS-CALL-014",
    "GWS-CALL-015",
)
def test_forwarding_sends_inbound_calls_on(cast: Cast, gws_stimulus: StimulusAdapter) -> None:
    """ForwardCallsOn: an outside call to the device rings the forward target; ForwardCallsOff: it rings again."""
    b, c = cast.take("agent2", "agent3")
    device = Device(b.client, b.device_id)
    cast.on_cleanup(lambda: device.forward_calls_off(expect=ANY))
    calls = Calls(cast, b, c)
    devices = b.listen(CALLS, DEVICES)

    device.forward_calls_on(c.phone)
    expect_devices(devices, [b.device_id], lambda d: d.get("forwardTo") == c.phone, "forwardTo the target")
    shown = device.get().get("device", {})
    require(
        shown.get("forwardTo") == c.phone,
        "The device does not show forwardTo",
        f"GET /devices/{{id}} after ForwardCallsOn: {shown!r}",
        "GWS-AGST-023",
    )

    caused = gws_stimulus.inbound_call(from_number=OUTSIDE, to=b.stimulus_party())
    ringing = calls.hear(c, "the forwarded call Ringing", state="Ringing", timeout_s=caused.wait_s)
    require(
        ringing.call.get("ani") == OUTSIDE,
        "An outside call's ani is not the caller's number",
        f"ani {ringing.call.get('ani')!r}, the call came from {OUTSIDE}",
        "GWS-CALL-008",
    )
    require(
        "Answer" in capabilities_of(ringing.call),
        "A ringing call does not offer Answer",
        f"{capabilities_of(ringing.call)}",
        "GWS-CALL-011",
    )
    answer(calls, ringing)
    caused = gws_stimulus.far_end_hangs_up(ringing.id, number=OUTSIDE)
    calls.hear(c, "the call Released when the caller hangs up", leg=ringing, state="Released", timeout_s=caused.wait_s)

    device.forward_calls_off()
    expect_devices(devices, [b.device_id], lambda d: not d.get("forwardTo"), "forwarding off")
    shown = device.get().get("device", {})
    require(
        not shown.get("forwardTo"),
        "The device still shows forwardTo",
        f"GET /devices/{{id}} after ForwardCallsOff: {shown!r}",
        "GWS-AGST-024",
    )
    caused = gws_stimulus.inbound_call(from_number=OUTSIDE, to=b.stimulus_party())
    direct = calls.hear(b, "the call Ringing on the device itself", state="Ringing", timeout_s=caused.wait_s)
    hangup(calls, direct)
    quiet(b, c)


def _allow_attempt_messages(party: Party, call_id: Any) -> None:
    """The failed call's own Dialing/Released messages, before or after the error, are the server's
    choice (E53): let them through, up to the final check. A second CallOperationError is not one of
    them but a duplicate: it stays a stray."""
    party.messages.allow(
        CALLS,
        lambda data: (
            "errorMessage" not in data
            and data["call"]["id"] == call_id
            and data["call"]["state"] in ("Dialing", "Released")
        ),
    )


class _Should:
    """Within the block a MUST violation counts as SHOULD (operations the reference only advertises);
    ``broken`` tells the scenario to stop there."""

    def __init__(self, *ids: str) -> None:
        self.ids = ids
        self.broken = False

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> bool:
        if isinstance(error, Violation) and not error.is_warning:
            should(False, error.title, error.message, *self.ids, evidence=error.evidence)
            self.broken = True
            return True
        return False
