"""Voice calls: transitions as a table, DND and forwarding at the callee, exact capabilities, schemas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from model_support import assert_capabilities_exact, assert_notifications_valid, assert_refused_unchanged

from reference_impl.model import Context, InvalidOperation, Machine, MissingAttribute, Notification, counter_ids
from reference_impl.model.agent_state import DEFAULT_AGENT_STATES, AgentState, DeviceState
from reference_impl.model.call import CallLeg, Telephony

OUTSIDE = "+16505550100"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Switchboard:
    """Four agents with one device each (agentN, devN, 500N) and the switch between them."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.agents = {
            f"agent{i}": AgentState(f"agent{i}", lambda: DEFAULT_AGENT_STATES, devices=[(f"dev{i}", f"500{i}")])
            for i in range(1, 5)
        }
        self.telephony = Telephony(
            self.endpoint, Context(self.clock, counter_ids("c")), api_base="http://gws.test/api/v2"
        )

    def endpoint(self, number: str) -> DeviceState | None:
        return next((d for a in self.agents.values() for d in a.devices.values() if d.phone_number == number), None)

    def device(self, n: int) -> DeviceState:
        return self.agents[f"agent{n}"].devices[f"dev{n}"]

    def legs(self, n: int) -> list[CallLeg]:
        return self.telephony.legs_on(f"dev{n}")

    def leg(self, n: int, state: str | None = None) -> CallLeg:
        [leg] = [leg for leg in self.legs(n) if state is None or leg.state == state]
        return leg

    def states(self) -> dict[int, list[str]]:
        return {n: sorted(leg.state for leg in self.legs(n)) for n in range(1, 5) if self.legs(n)}

    def dial(self, caller: int, destination: str) -> list[Notification]:
        return self.telephony.dial(self.device(caller), destination=destination)


def snapshot(board: Switchboard) -> Any:
    return board.telephony.snapshot()


# -- scenarios: worlds in the states the table starts from --------------------------------------------


def dialing() -> Switchboard:
    board = Switchboard()
    board.dial(1, "5002")
    board.leg(1).apply("AttachUserData", userData={"case": "42"})
    return board


def established() -> Switchboard:
    board = dialing()
    board.leg(2).apply("Answer")
    return board


def held() -> Switchboard:
    board = established()
    board.leg(1).apply("Hold")
    return board


def muted() -> Switchboard:
    board = established()
    board.leg(1).apply("MuteCall")
    return board


def dialing_outside() -> Switchboard:
    board = Switchboard()
    board.dial(1, OUTSIDE)
    board.leg(1).apply("AttachUserData", userData={"case": "42"})
    return board


def outside_established() -> Switchboard:
    board = dialing_outside()
    board.telephony.far_end_answers(board.leg(1).id)
    return board


def consulting() -> Switchboard:
    board = established()
    board.leg(1).apply("InitiateConference", destination="5003")
    return board


def consult_established() -> Switchboard:
    board = consulting()
    board.leg(3).apply("Answer")
    return board


def conference() -> Switchboard:
    board = consult_established()
    main = board.leg(1, "Held")
    main.apply("CompleteConference", consultCallUri=main.consult.uri if main.consult else "")
    return board


def two_calls() -> Switchboard:
    """Agent 1 holds a call with agent 2 and talks to agent 3 on a second call (not a consultation)."""
    board = held()
    board.dial(1, "5003")
    board.leg(3).apply("Answer")
    board.leg(1, "Established").apply("AttachUserData", userData={"second": "yes"})
    return board


def inbound() -> Switchboard:
    board = Switchboard()
    board.telephony.inbound_call(OUTSIDE, "5002")
    board.leg(2).apply("AttachUserData", userData={"case": "42"})
    return board


def conference_with_outsider() -> Switchboard:
    board = established()
    board.leg(1).apply("SingleStepConference", destination=OUTSIDE)
    return board


SCENARIOS: dict[str, Callable[[], Switchboard]] = {
    f.__name__: f
    for f in (
        dialing,
        established,
        held,
        muted,
        dialing_outside,
        outside_established,
        consulting,
        consult_established,
        conference,
        two_calls,
        inbound,
        conference_with_outsider,
    )
}


def _pick(board: Switchboard, who: int | tuple[int, str]) -> CallLeg:
    return board.leg(*who) if isinstance(who, tuple) else board.leg(who)


# -- the transition table --------------------------------------------------------------------------
# (scenario, acting party (device n, or (n, state)), operation, attributes) ->
#   active call states per device afterwards, and the (user, notificationType) of each message sent

# fmt: off
TRANSITIONS: list[tuple[str, Any, str, dict[str, Any], dict[int, list[str]], list[tuple[str, str]]]] = [
    ("dialing", 2, "Answer", {}, {1: ["Established"], 2: ["Established"]},
     [("agent2", "StatusChange"), ("agent1", "StatusChange")]),
    ("dialing", 1, "Hangup", {}, {}, [("agent1", "StatusChange"), ("agent2", "StatusChange")]),
    ("dialing", 2, "Hangup", {}, {}, [("agent1", "StatusChange"), ("agent2", "StatusChange")]),
    ("dialing", 1, "SendDtmf", {"digits": "42"}, {1: ["Dialing"], 2: ["Ringing"]}, [("agent1", "DtmfSent")]),
    ("established", 1, "Hold", {}, {1: ["Held"], 2: ["Established"]}, [("agent1", "StatusChange")]),
    ("established", 2, "Hangup", {}, {}, [("agent1", "StatusChange"), ("agent2", "StatusChange")]),
    ("established", 1, "MuteCall", {}, {1: ["Established"], 2: ["Established"]}, [("agent1", "StatusChange")]),
    ("muted", 1, "UnmuteCall", {}, {1: ["Established"], 2: ["Established"]}, [("agent1", "StatusChange")]),
    ("established", 1, "AttachUserData", {"userData": {"a": "b"}}, {1: ["Established"], 2: ["Established"]},
     [("agent1", "AttachedDataChanged"), ("agent2", "AttachedDataChanged")]),
    ("established", 2, "UpdateUserData", {"userData": {"case": "43"}}, {1: ["Established"], 2: ["Established"]},
     [("agent1", "AttachedDataChanged"), ("agent2", "AttachedDataChanged")]),
    ("established", 1, "DeleteUserDataPair", {"key": "case"}, {1: ["Established"], 2: ["Established"]},
     [("agent1", "AttachedDataChanged"), ("agent2", "AttachedDataChanged")]),
    ("established", 1, "DeleteUserData", {}, {1: ["Established"], 2: ["Established"]},
     [("agent1", "AttachedDataChanged"), ("agent2", "AttachedDataChanged")]),
    ("established", 1, "SingleStepTransfer", {"destination": "5003"}, {2: ["Established"], 3: ["Ringing"]},
     [("agent1", "StatusChange"), ("agent3", "StatusChange"), ("agent2", "ParticipantsUpdated")]),
    ("established", 1, "SingleStepTransfer", {"destination": OUTSIDE}, {2: ["Established"]},
     [("agent1", "StatusChange"), ("agent2", "ParticipantsUpdated")]),
    ("established", 1, "SingleStepConference", {"destination": "5003"},
     {1: ["Established"], 2: ["Established"], 3: ["Ringing"]},
     [("agent3", "StatusChange"), ("agent1", "ParticipantsUpdated"), ("agent2", "ParticipantsUpdated")]),
    ("established", 1, "InitiateConference", {"destination": {"phoneNumber": "5003"}},
     {1: ["Dialing", "Held"], 2: ["Established"], 3: ["Ringing"]},
     [("agent1", "StatusChange"), ("agent1", "StatusChange"), ("agent3", "StatusChange")]),
    ("held", 1, "Retrieve", {}, {1: ["Established"], 2: ["Established"]}, [("agent1", "StatusChange")]),
    ("held", 1, "Hangup", {}, {}, [("agent1", "StatusChange"), ("agent2", "StatusChange")]),
    ("consult_established", (1, "Held"), "CompleteConference", {"consultCallUri": "<consult>"},
     {1: ["Established"], 2: ["Established"], 3: ["Established"]},
     [("agent1", "StatusChange"), ("agent1", "StatusChange"), ("agent1", "ParticipantsUpdated"),
      ("agent2", "ParticipantsUpdated"), ("agent3", "ParticipantsUpdated")]),
    ("consulting", (1, "Dialing"), "Hangup", {}, {1: ["Held"], 2: ["Established"]},
     [("agent1", "StatusChange"), ("agent3", "StatusChange")]),
    ("conference", 1, "RemoveParticipantFromConference", {"participant": "5003"},
     {1: ["Established"], 2: ["Established"]},
     [("agent3", "StatusChange"), ("agent1", "ParticipantsUpdated"), ("agent2", "ParticipantsUpdated")]),
    ("conference", 3, "Hangup", {}, {1: ["Established"], 2: ["Established"]},
     [("agent3", "StatusChange"), ("agent1", "ParticipantsUpdated"), ("agent2", "ParticipantsUpdated")]),
    ("two_calls", (1, "Established"), "SwapCalls", {"otherCallUri": "<held>"},
     {1: ["Established", "Held"], 2: ["Established"], 3: ["Established"]},
     [("agent1", "StatusChange"), ("agent1", "StatusChange")]),
    ("two_calls", (1, "Established"), "MergeWithOtherCall", {"otherCallUri": "<held>"},
     {1: ["Established"], 2: ["Established"], 3: ["Established"]},
     [("agent1", "StatusChange"), ("agent1", "ParticipantsUpdated"), ("agent3", "ParticipantsUpdated"),
      ("agent2", "ParticipantsUpdated")]),
    ("dialing_outside", 1, "Hangup", {}, {}, [("agent1", "StatusChange")]),
    ("outside_established", 1, "Hold", {}, {1: ["Held"]}, [("agent1", "StatusChange")]),
    ("inbound", 2, "Answer", {}, {2: ["Established"]}, [("agent2", "StatusChange")]),
    ("conference_with_outsider", 2, "RemoveParticipantFromConference", {"participant": OUTSIDE},
     {1: ["Established"], 2: ["Established"]}, [("agent1", "ParticipantsUpdated"), ("agent2", "ParticipantsUpdated")]),
]
# fmt: on


def _resolve(board: Switchboard, actor: CallLeg, attributes: dict[str, Any]) -> dict[str, Any]:
    placeholders = {
        "<consult>": lambda: actor.consult.uri if actor.consult else "",
        "<held>": lambda: board.leg(1, "Held").uri,
    }
    return {k: placeholders[v]() if isinstance(v, str) and v in placeholders else v for k, v in attributes.items()}


@pytest.mark.parametrize(
    ("scenario", "who", "operation", "attributes", "after", "sent"),
    TRANSITIONS,
    ids=[f"{t[0]}-{t[2]}" for t in TRANSITIONS],
)
def test_transition(
    scenario: str,
    who: Any,
    operation: str,
    attributes: dict[str, Any],
    after: dict[int, list[str]],
    sent: list[tuple[str, str]],
) -> None:
    board = SCENARIOS[scenario]()
    actor = _pick(board, who)
    notifications = actor.apply(operation, **_resolve(board, actor, attributes))
    assert board.states() == after
    assert [(user, data["notificationType"]) for user, _, data in notifications] == sent
    assert {topic for _, topic, _ in notifications} == {"/v2/me/calls"}
    assert_notifications_valid(notifications)


# -- what the parties see ------------------------------------------------------------------------------


def test_dial_shows_each_side_its_own_leg() -> None:
    board = Switchboard()
    caller_message, callee_message = (data for _, _, data in board.dial(1, "5002"))
    caller, callee = caller_message["call"], callee_message["call"]
    assert caller_message["messageType"] == "CallStateChangeMessage" and caller_message["phoneNumber"] == "5001"
    assert (caller["state"], caller["participants"], caller["ani"]) == ("Dialing", ["5002"], "5001")
    assert (callee["state"], callee["participants"], callee["ani"]) == ("Ringing", ["5001"], "5001")
    assert caller["id"] != callee["id"] and caller["callUuid"] == callee["callUuid"]
    assert caller["uri"] == f"http://gws.test/api/v2/me/calls/{caller['id']}"
    assert callee["deviceUri"] == "http://gws.test/api/v2/devices/dev2"
    assert callee["capabilities"] == [
        "Answer",
        "Hangup",
        "AttachUserData",
        "UpdateUserData",
        "DeleteUserData",
        "DeleteUserDataPair",
    ]
    assert caller["mute"] == "Off" and caller["duration"] == "0" and caller["userData"] == {}


def test_user_data_is_shared_by_the_parties() -> None:
    board = established()
    board.leg(2).apply("UpdateUserData", userData={"topic": "billing"})
    assert board.leg(1).to_wire()["userData"] == {"case": "42", "topic": "billing"}


def test_duration_counts_seconds_as_a_string() -> None:
    board = established()
    board.clock.now += 13.7
    assert board.leg(1).to_wire()["duration"] == "13"


def test_mute_shows_on_the_call() -> None:
    board = established()
    [(_, _, data)] = board.leg(1).apply("MuteCall")
    assert data["call"]["mute"] == "On"
    assert "UnmuteCall" in data["call"]["capabilities"] and "MuteCall" not in data["call"]["capabilities"]


def test_conference_participants() -> None:
    board = conference()
    assert sorted(board.leg(1).participants()) == ["5002", "5003"]
    assert sorted(board.leg(3).participants()) == ["5001", "5002"]
    assert len({leg.call.uuid for n in (1, 2, 3) for leg in board.legs(n)}) == 1


def test_outside_call_waits_for_the_far_end() -> None:
    board = dialing_outside()
    leg = board.leg(1)
    assert leg.participants() == [OUTSIDE] and leg.to_wire()["callType"] == "Outbound"
    notifications = board.telephony.far_end_answers(leg.id)
    assert leg.state == "Established"
    assert_notifications_valid(notifications)
    with pytest.raises(InvalidOperation):
        board.telephony.far_end_answers(leg.id)
    notifications = board.telephony.far_end_hangs_up(leg.id)
    assert leg.state == "Released" and [d["call"]["state"] for _, _, d in notifications] == ["Released"]


def test_outsider_leaving_a_conference_updates_the_others() -> None:
    board = conference_with_outsider()
    notifications = board.telephony.far_end_hangs_up(board.leg(1).id, OUTSIDE)
    assert [d["notificationType"] for _, _, d in notifications] == ["ParticipantsUpdated"] * 2
    assert board.leg(1).participants() == ["5002"]


def test_inbound_call_from_outside() -> None:
    board = Switchboard()
    [(user, _, data)] = board.telephony.inbound_call(OUTSIDE, "5003")
    assert user == "agent3"
    assert (data["call"]["state"], data["call"]["ani"], data["call"]["participants"]) == ("Ringing", OUTSIDE, [OUTSIDE])


# -- Do Not Disturb and forwarding at the callee -------------------------------------------------------


def test_dnd_callee_refuses_the_call_with_an_error_message() -> None:
    board = Switchboard()
    board.device(2).apply("DoNotDisturbOn")
    notifications = board.dial(1, "5002")
    assert [(u, d["call"]["state"], "errorMessage" in d) for u, _, d in notifications] == [
        ("agent1", "Dialing", False),
        ("agent1", "Released", True),
    ]
    error = notifications[1][2]
    assert "Do Not Disturb" in error["errorMessage"]
    assert error["connectionId"] == error["call"]["id"] and error["deviceUri"].endswith("/devices/dev1")
    assert board.states() == {}
    assert_notifications_valid(notifications)


@pytest.mark.parametrize("operation", ["SingleStepTransfer", "SingleStepConference"])
def test_dnd_destination_of_transfer_or_conference_is_an_error_and_nothing_else(operation: str) -> None:
    board = established()
    board.device(3).apply("DoNotDisturbOn")
    [(user, _, data)] = board.leg(1).apply(operation, destination="5003")
    assert user == "agent1" and data["call"]["state"] == "Established" and "errorMessage" in data
    assert board.states() == {1: ["Established"], 2: ["Established"]}
    assert_notifications_valid([(user, "/v2/me/calls", data)])


def test_dnd_consultation_target_releases_the_consult_leg_only() -> None:
    board = established()
    board.device(3).apply("DoNotDisturbOn")
    notifications = board.leg(1).apply("InitiateConference", destination="5003")
    assert [d["call"]["state"] for _, _, d in notifications] == ["Dialing", "Released"]
    assert board.states() == {1: ["Established"], 2: ["Established"]}


def test_forwarding_rings_the_forward_destination() -> None:
    board = Switchboard()
    board.device(2).apply("ForwardCallsOn", destination="5003")
    notifications = board.dial(1, "5002")
    assert [(u, d["call"]["state"]) for u, _, d in notifications] == [("agent1", "Dialing"), ("agent3", "Ringing")]
    assert board.leg(1).participants() == ["5003"]


def test_forwarding_is_followed_one_hop_and_to_outside_numbers() -> None:
    board = Switchboard()
    board.device(2).apply("ForwardCallsOn", destination="5003")
    board.device(3).apply("ForwardCallsOn", destination=OUTSIDE)
    board.dial(1, "5002")
    assert board.states() == {1: ["Dialing"], 3: ["Ringing"]}
    board.leg(1).apply("Hangup")
    board.dial(4, "5003")
    assert board.leg(4).participants() == [OUTSIDE]


def test_forwarding_to_a_dnd_device_is_refused() -> None:
    board = Switchboard()
    board.device(2).apply("ForwardCallsOn", destination="5003")
    board.device(3).apply("DoNotDisturbOn")
    assert "errorMessage" in board.dial(1, "5002")[-1][2]


# -- refusals: statusCode and nothing changed ----------------------------------------------------------

# fmt: off
REFUSALS: list[tuple[str, Any, str, dict[str, Any], type[Exception], str]] = [
    ("dialing", 1, "Answer", {}, InvalidOperation, "not valid"),
    ("dialing", 2, "Hold", {}, InvalidOperation, "not valid"),
    ("established", 1, "Retrieve", {}, InvalidOperation, "not valid"),
    ("established", 1, "UnmuteCall", {}, InvalidOperation, "not valid"),
    ("established", 1, "CompleteConference", {"consultCallUri": "x"}, InvalidOperation, "not valid"),
    ("established", 1, "RemoveParticipantFromConference", {"participant": "5002"}, InvalidOperation, "not valid"),
    ("established", 1, "SwapCalls", {"otherCallUri": "x"}, InvalidOperation, "not valid"),
    ("established", 1, "HangUp", {}, InvalidOperation, "unknown operation"),
    ("established", 1, "SendDtmf", {}, MissingAttribute, "digits"),
    ("established", 1, "SendDtmf", {"digits": "12a"}, InvalidOperation, "0..9"),
    ("established", 1, "SendDtmf", {"digits": "*#"}, InvalidOperation, "0..9"),
    ("established", 1, "SendDtmf", {"digits": 12}, InvalidOperation, "digits"),
    ("established", 1, "AttachUserData", {}, MissingAttribute, "userData"),
    ("established", 1, "AttachUserData", {"userData": ["a"]}, InvalidOperation, "userData"),
    ("established", 1, "DeleteUserDataPair", {}, MissingAttribute, "key"),
    ("established", 1, "DeleteUserDataPair", {"key": "nope"}, InvalidOperation, "nope"),
    ("established", 1, "SingleStepTransfer", {}, MissingAttribute, "destination"),
    ("established", 1, "SingleStepTransfer", {"destination": "abc"}, InvalidOperation, "phone number"),
    ("established", 1, "SingleStepTransfer", {"destination": "5001"}, InvalidOperation, "this device"),
    ("established", 1, "SingleStepConference", {"destination": "5002"}, InvalidOperation, "already on the call"),
    ("established", 1, "InitiateConference", {"destination": {"number": "5003"}}, MissingAttribute, "phoneNumber"),
    ("consult_established", (1, "Held"), "CompleteConference", {"consultCallUri": "http://x/me/calls/zz"},
     InvalidOperation, "consultation"),
    ("consult_established", (1, "Held"), "Retrieve", {}, InvalidOperation, "not valid"),
    ("consulting", (1, "Held"), "CompleteConference", {"consultCallUri": "<consult>"}, InvalidOperation, "not valid"),
    ("conference", 1, "RemoveParticipantFromConference", {"participant": "5004"}, InvalidOperation, "participant"),
    ("two_calls", (1, "Established"), "SwapCalls", {"otherCallUri": "http://x/me/calls/zz"}, InvalidOperation,
     "not another"),
    ("two_calls", (1, "Held"), "Retrieve", {}, InvalidOperation, "not valid"),
    ("dialing_outside", 1, "Hold", {}, InvalidOperation, "not valid"),
    # a missing required attribute is statusCode 1 whatever the state (GWS-CALL-022, GWS-CALL-028)
    ("established", 1, "CompleteConference", {}, MissingAttribute, "consultCallUri"),
    ("established", 1, "SwapCalls", {}, MissingAttribute, "otherCallUri"),
    ("dialing", 2, "SingleStepTransfer", {"destination": None}, MissingAttribute, "destination"),
    ("established", 1, "RemoveParticipantFromConference", {}, MissingAttribute, "participant"),
    ("established", 1, "SingleStepTransfer", {"destination": ["5003"]}, InvalidOperation, "destination"),
]
# fmt: on


@pytest.mark.parametrize(
    ("scenario", "who", "operation", "attributes", "error", "words"),
    REFUSALS,
    ids=[f"{r[0]}-{r[2]}-{i}" for i, r in enumerate(REFUSALS)],
)
def test_refusal_changes_nothing(
    scenario: str, who: Any, operation: str, attributes: dict[str, Any], error: type[Exception], words: str
) -> None:
    board = SCENARIOS[scenario]()
    actor = _pick(board, who)
    resolved = _resolve(board, actor, attributes)
    assert_refused_unchanged(board, snapshot, lambda: actor.apply(operation, **resolved), error, words)


@pytest.mark.parametrize(
    ("caller", "attributes", "error"),
    [
        (1, {}, MissingAttribute),
        (1, {"destination": ""}, InvalidOperation),
        (1, {"destination": "call me"}, InvalidOperation),
        (1, {"destination": "5001"}, InvalidOperation),
    ],
)
def test_dial_refusals(caller: int, attributes: dict[str, Any], error: type[Exception]) -> None:
    board = Switchboard()
    assert_refused_unchanged(board, snapshot, lambda: board.telephony.dial(board.device(caller), **attributes), error)


@pytest.mark.parametrize("destination", ["5003", {"phoneNumber": "5003"}])
def test_destination_is_a_number_or_an_object_with_phone_number(destination: Any) -> None:
    """E50: Dial, SingleStepTransfer, SingleStepConference, InitiateConference take either form."""
    board = Switchboard()
    board.telephony.dial(board.device(1), destination=destination)
    assert board.leg(1).participants() == ["5003"]
    board.leg(1).apply("Hangup")
    for operation in ("SingleStepConference", "SingleStepTransfer", "InitiateConference"):
        board = established()
        board.leg(1).apply(operation, destination=destination)
        assert "5003" in {leg.device.phone_number for leg in board.telephony.legs.values()}


def test_dial_refused_while_the_device_has_an_active_call() -> None:
    board = established()
    assert_refused_unchanged(board, snapshot, lambda: board.dial(1, "5003"), InvalidOperation, "hold it first")
    board.leg(1).apply("Hold")
    board.dial(1, "5003")  # a held call does not block


# -- the property: capabilities are exactly what succeeds ----------------------------------------------


def _free_destination(leg: CallLeg) -> str:
    taken = {leg.device.phone_number, *leg.participants()}
    return next((n for n in ("5001", "5002", "5003", "5004") if n not in taken), OUTSIDE)


def _other_uri(leg: CallLeg, *states: str) -> str:
    others = [o for o in leg.telephony.legs_on(leg.device.id) if o is not leg and o.state in states]
    return others[0].uri if others else "http://gws.test/api/v2/me/calls/none"


def _valid_attributes(machine: Machine, operation: str) -> dict[str, Any]:
    assert isinstance(machine, CallLeg)
    leg = machine
    valid: dict[str, dict[str, Any]] = {
        "SendDtmf": {"digits": "0123456789"},
        "AttachUserData": {"userData": {"k": "v"}},
        "UpdateUserData": {"userData": {"k": "v"}},
        "DeleteUserDataPair": {"key": next(iter(leg.call.user_data), "k")},
        "SingleStepTransfer": {"destination": _free_destination(leg)},
        "SingleStepConference": {"destination": _free_destination(leg)},
        "InitiateConference": {"destination": _free_destination(leg)},
        "CompleteConference": {"consultCallUri": leg.consult.uri if leg.consult else "none"},
        "RemoveParticipantFromConference": {"participant": (leg.participants() or ["none"])[0]},
        "SwapCalls": {"otherCallUri": _other_uri(leg, "Held")},
        "MergeWithOtherCall": {"otherCallUri": _other_uri(leg, "Established", "Held")},
    }
    return valid.get(operation, {})


def _every_leg(scenario: str) -> list[tuple[str, str]]:
    board = SCENARIOS[scenario]()
    return [(scenario, leg_id) for leg_id in board.telephony.legs]


@pytest.mark.parametrize(("scenario", "leg_id"), [case for name in SCENARIOS for case in _every_leg(name)])
def test_capabilities_are_exactly_what_succeeds(scenario: str, leg_id: str) -> None:
    board = SCENARIOS[scenario]()
    assert_capabilities_exact(board, lambda b: b.telephony.legs[leg_id], _valid_attributes, snapshot)


def test_every_state_is_reached_by_the_scenarios() -> None:
    states = {leg.state for name in SCENARIOS for leg in SCENARIOS[name]().telephony.legs.values()}
    assert states == {"Dialing", "Ringing", "Established", "Held", "Released"}
