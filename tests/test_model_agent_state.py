"""Agent state per device and channel: transitions as a table, exact capabilities, payload schemas."""

from __future__ import annotations

from typing import Any

import pytest
from model_support import assert_capabilities_exact, assert_notifications_valid, assert_refused_unchanged

from reference_impl.model import InvalidOperation, Machine, MissingAttribute
from reference_impl.model.agent_state import DEFAULT_AGENT_STATES, AgentState, UserState

OUT_TO_LUNCH = {
    "id": "6E5C1C5D-0000-4000-8000-000000000001",
    "operationName": "OutToLunch",
    "displayName": "Not Ready - Out to lunch",
    "state": "NotReady",
    "reason": "OutToLunch",
}
DEFINITIONS = [*DEFAULT_AGENT_STATES, OUT_TO_LUNCH]
READY_ID = "9430250E-0A1B-421F-B372-F29E69366DED"
NOT_READY_ID = "900D55CC-2BB0-431F-8BF9-D3525B383BE6"


def make_agent() -> AgentState:
    return AgentState(
        "agent1",
        lambda: DEFINITIONS,
        devices=[("dev1", "5001", {"telephonyNetwork": "Private"})],
        channels=["voice", "email", "chat"],
    )


def snapshot(agent: AgentState) -> Any:
    return ([d.to_wire() for d in agent.devices.values()], [c.to_wire() for c in agent.channels.values()])


# (operation, attributes) -> the userState every device and channel then shows
# fmt: off
ME_TRANSITIONS = [
    ("Ready", {}, {"id": READY_ID, "displayName": "Ready", "state": "Ready"}),
    ("NotReady", {}, {"id": NOT_READY_ID, "displayName": "Not Ready", "state": "NotReady"}),
    ("NotReady", {"workMode": "AuxWork"},
     {"id": "2B36138D-C564-4562-A8CB-3C32D564F296", "displayName": "AuxWork", "state": "NotReady", "workMode": "AuxWork"}),
    ("NotReady", {"workMode": "WalkAway"}, {"state": "NotReady", "workMode": "WalkAway"}),
    ("NotReady", {"reason": "OutToLunch"},
     {"id": OUT_TO_LUNCH["id"], "displayName": "Not Ready - Out to lunch", "state": "NotReady", "reason": "OutToLunch"}),
    ("NotReady", {"reason": "Meeting"}, {"state": "NotReady", "reason": "Meeting"}),
    ("Ready", {"workMode": "ManualIn"}, {"state": "Ready", "workMode": "ManualIn"}),
    ("AfterCallWork", {},
     {"id": "D3663509-3D82-4DD3-A82E-2EA8EFA02AEF", "displayName": "AfterCallWork", "state": "NotReady",
      "workMode": "AfterCallWork"}),
    ("OutToLunch", {},
     {"id": OUT_TO_LUNCH["id"], "displayName": "Not Ready - Out to lunch", "state": "NotReady", "reason": "OutToLunch"}),
    ("Offline", {}, {"id": "0F7F5003-EF26-4D13-A6Ef-D0C7EC819BEB", "displayName": "Offline", "state": "Logout"}),
]
# fmt: on


@pytest.mark.parametrize("start", [None, "Ready", "Offline", "OutToLunch"])
@pytest.mark.parametrize(("operation", "attributes", "shown"), ME_TRANSITIONS)
def test_me_operation_sets_every_device_and_channel(
    start: str | None, operation: str, attributes: dict[str, Any], shown: dict[str, Any]
) -> None:
    agent = make_agent()
    if start:
        agent.apply(start)
    notifications = agent.apply(operation, **attributes)
    assert [(user, topic) for user, topic, _ in notifications] == [
        ("agent1", "/v2/me/devices"),
        ("agent1", "/v2/me/channels"),
    ]
    devices, channels = notifications[0][2], notifications[1][2]
    assert devices["messageType"] == "DeviceStateChangeMessage"
    assert [d["userState"] for d in devices["devices"]] == [shown]
    assert [(c["channel"], c["userState"]) for c in channels["channels"]] == [
        ("voice", shown),
        ("email", shown),
        ("chat", shown),
    ]
    assert agent.state == shown["state"]
    assert_notifications_valid(notifications)


# fmt: off
REFUSALS = [
    ("Ready", {"workMode": "AuxWork"}, InvalidOperation, "workMode"),
    ("NotReady", {"workMode": "AutoIn"}, InvalidOperation, "workMode"),
    ("NotReady", {"workMode": "Lunch"}, InvalidOperation, "workMode"),
    ("NotReady", {"workMode": 3}, InvalidOperation, "workMode"),
    ("NotReady", {"reason": ""}, InvalidOperation, "reason"),
    ("GoFishing", {}, InvalidOperation, "unknown operation"),
    ("DoNotDisturbOff", {}, InvalidOperation, "not valid"),
]
# fmt: on


@pytest.mark.parametrize(("operation", "attributes", "error", "words"), REFUSALS)
def test_me_refusals_change_nothing(
    operation: str, attributes: dict[str, Any], error: type[Exception], words: str
) -> None:
    agent = make_agent()
    assert_refused_unchanged(agent, snapshot, lambda: agent.apply(operation, **attributes), error, words)


def test_channel_operation_touches_only_that_channel() -> None:
    agent = make_agent()
    notifications = agent.channels["email"].apply("Ready")
    assert [topic for _, topic, _ in notifications] == ["/v2/me/channels"]
    assert notifications[0][2]["channels"] == [
        {"channel": "email", "dndState": "Off", "userState": {"id": READY_ID, "displayName": "Ready", "state": "Ready"}}
    ]
    assert agent.channels["chat"].state == "NotReady"
    assert agent.state == "Mixed"
    assert agent.available("email") and not agent.available("chat")
    assert_notifications_valid(notifications)


def test_voice_channel_is_the_devices() -> None:
    agent = make_agent()
    notifications = agent.channels["voice"].apply("AuxWork")
    assert [topic for _, topic, _ in notifications] == ["/v2/me/devices", "/v2/me/channels"]
    assert agent.devices["dev1"].user_state == UserState("NotReady", "AuxWork")
    agent.channels["voice"].apply("DoNotDisturbOn")
    assert agent.devices["dev1"].do_not_disturb


def test_dnd_on_me_covers_everything_and_overrides_ready() -> None:
    agent = make_agent()
    agent.apply("Ready")
    notifications = agent.apply("DoNotDisturbOn")
    assert notifications[0][2]["devices"][0]["doNotDisturb"] == "On"
    assert notifications[0][2]["devices"][0]["capabilities"] == ["DoNotDisturbOff", "ForwardCallsOn"]
    assert {c["dndState"] for c in notifications[1][2]["channels"]} == {"On"}
    # the user state is kept; DND only makes the agent unavailable
    assert notifications[1][2]["channels"][1]["userState"]["state"] == "Ready"
    assert agent.do_not_disturb and not agent.available("email")
    assert "DoNotDisturbOn" not in agent.capabilities()
    agent.apply("DoNotDisturbOff")
    assert agent.available("email") and not agent.do_not_disturb
    assert_notifications_valid(notifications)


def test_dnd_partly_on_allows_both_toggles_on_me() -> None:
    agent = make_agent()
    agent.channels["chat"].apply("DoNotDisturbOn")
    assert {"DoNotDisturbOn", "DoNotDisturbOff"} <= set(agent.capabilities())


# device: (setup, operation, attributes) -> doNotDisturb, forwardTo, capabilities afterwards
# fmt: off
DEVICE_TRANSITIONS = [
    ([], "DoNotDisturbOn", {}, "On", None, ["DoNotDisturbOff", "ForwardCallsOn"]),
    ([("DoNotDisturbOn", {})], "DoNotDisturbOff", {}, "Off", None, ["DoNotDisturbOn", "ForwardCallsOn"]),
    ([], "ForwardCallsOn", {"destination": "5002"}, "Off", "5002", ["DoNotDisturbOn", "ForwardCallsOff"]),
    ([("ForwardCallsOn", {"destination": "+16505550100"})], "ForwardCallsOff", {}, "Off", None,
     ["DoNotDisturbOn", "ForwardCallsOn"]),
    ([("ForwardCallsOn", {"destination": "5002"})], "DoNotDisturbOn", {}, "On", "5002",
     ["DoNotDisturbOff", "ForwardCallsOff"]),
    ([], "ForwardCallsOn", {"destination": {"phoneNumber": "5003"}}, "Off", "5003",
     ["DoNotDisturbOn", "ForwardCallsOff"]),
]
# fmt: on


@pytest.mark.parametrize(("setup", "operation", "attributes", "dnd", "forward_to", "capabilities"), DEVICE_TRANSITIONS)
def test_device_transitions(
    setup: list[tuple[str, dict[str, Any]]],
    operation: str,
    attributes: dict[str, Any],
    dnd: str,
    forward_to: str | None,
    capabilities: list[str],
) -> None:
    device = make_agent().devices["dev1"]
    for step, step_attributes in setup:
        device.apply(step, **step_attributes)
    notifications = device.apply(operation, **attributes)
    [(user, topic, data)] = notifications
    assert (user, topic) == ("agent1", "/v2/me/devices")
    [shown] = data["devices"]
    assert (shown["doNotDisturb"], shown.get("forwardTo"), shown["capabilities"]) == (dnd, forward_to, capabilities)
    assert shown["telephonyNetwork"] == "Private" and shown["phoneNumber"] == "5001"
    assert_notifications_valid(notifications)


@pytest.mark.parametrize(
    ("attributes", "error"),
    [
        ({}, MissingAttribute),
        ({"destination": None}, MissingAttribute),
        ({"destination": "five"}, InvalidOperation),
        ({"destination": 5002}, InvalidOperation),
        ({"destination": "5001"}, InvalidOperation),  # itself
        ({"destination": {"number": "5002"}}, MissingAttribute),  # E50's object needs phoneNumber
    ],
)
def test_forward_destination_checked(attributes: dict[str, Any], error: type[Exception]) -> None:
    agent = make_agent()
    device = agent.devices["dev1"]
    assert_refused_unchanged(agent, snapshot, lambda: device.apply("ForwardCallsOn", **attributes), error)


def test_missing_destination_is_status_code_1_even_while_forwarding() -> None:
    agent = make_agent()
    device = agent.devices["dev1"]
    device.apply("ForwardCallsOn", destination="5002")
    assert_refused_unchanged(agent, snapshot, lambda: device.apply("ForwardCallsOn"), MissingAttribute)


def test_definitions_are_read_live() -> None:
    definitions = list(DEFAULT_AGENT_STATES)
    agent = AgentState("agent1", lambda: definitions, channels=["chat"])
    with pytest.raises(InvalidOperation):
        agent.apply("OutToLunch")
    definitions.append(OUT_TO_LUNCH)
    assert "OutToLunch" in agent.capabilities()
    agent.apply("OutToLunch")
    assert agent.channels["chat"].user_state == UserState("NotReady", None, "OutToLunch")


# -- the property: capabilities are exactly what succeeds ------------------------------------------

# fmt: off
SETUPS: list[list[tuple[str, str, dict[str, Any]]]] = [
    [],
    [("me", "Ready", {})],
    [("me", "DoNotDisturbOn", {})],
    [("me", "Offline", {})],
    [("chat", "DoNotDisturbOn", {}), ("me", "OutToLunch", {})],
    [("dev1", "ForwardCallsOn", {"destination": "5002"}), ("dev1", "DoNotDisturbOn", {})],
]
# fmt: on


def _target(agent: AgentState, name: str) -> Machine:
    if name == "me":
        return agent
    return agent.devices[name] if name in agent.devices else agent.channels[name]


def _valid_attributes(machine: Machine, operation: str) -> dict[str, Any]:
    return {"destination": "5009"} if operation == "ForwardCallsOn" else {}


@pytest.mark.parametrize("setup", SETUPS)
@pytest.mark.parametrize("target", ["me", "voice", "email", "chat", "dev1"])
def test_capabilities_are_exactly_what_succeeds(setup: list[tuple[str, str, dict[str, Any]]], target: str) -> None:
    agent = make_agent()
    for name, operation, attributes in setup:
        _target(agent, name).apply(operation, **attributes)
    assert_capabilities_exact(agent, lambda a: _target(a, target), _valid_attributes, snapshot)
