"""Voice through the reference server's REST routes: Dial, call control on /me/calls/{id}, and what each
party sees on /v2/me/calls. Every reply is checked against spec/openapi.yaml, every message against
spec/notifications (reference_support.drained)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from reference_support import BASE_URL, DEVICE_ID, Api, drained

from reference_impl.events import Subscription

pytestmark = pytest.mark.anyio

PHONE = {"agent1": "5001", "agent2": "5002", "agent3": "5003"}
CALLS = "/v2/me/calls"


@dataclass
class Agent:
    """One fixture agent: its REST calls named after the API's operations, and its /v2/me/* inbox."""

    api: Api
    who: str
    inbox: Subscription

    async def dial(self, destination: Any, *, path: str = "/devices/{id}/calls") -> dict[str, Any]:
        body = {"operationName": "Dial", "destination": destination}
        return await self.api.ok(self.who, "POST", path, id=DEVICE_ID[self.who], json_body=body)

    async def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = (await self.api.ok(self.who, "GET", "/me/calls", params={"fields": "*"}))["calls"]
        return calls

    async def call(self, call_id: str) -> dict[str, Any]:
        call: dict[str, Any] = (await self.api.ok(self.who, "GET", "/me/calls/{id}", id=call_id))["call"]
        return call

    async def only_call(self) -> dict[str, Any]:
        (call,) = await self.calls()
        return call

    async def operate(self, call_id: str, operation: str, **attributes: Any) -> None:
        body = {"operationName": operation, **attributes}
        await self.api.ok(self.who, "POST", "/me/calls/{id}", id=call_id, json_body=body)

    async def refused(self, call_id: str, operation: str, **attributes: Any) -> tuple[int, int]:
        body = {"operationName": operation, **attributes}
        response = await self.api.call(self.who, "POST", "/me/calls/{id}", id=call_id, json_body=body)
        return response.status_code, response.json()["statusCode"]

    def heard(self) -> list[tuple[str, str, list[str]]]:
        """The call messages received since last asked: (notificationType, state, participants) each."""
        return [
            (m["notificationType"], m["call"]["state"], m["call"]["participants"])
            for m in drained(self.inbox).get(CALLS, [])
        ]

    def messages(self) -> list[dict[str, Any]]:
        return drained(self.inbox).get(CALLS, [])


@pytest.fixture
def agents(api: Api) -> dict[str, Agent]:
    return {who: Agent(api, who, api.listen(who)) for who in ("agent1", "agent2", "agent3")}


async def connect(agents: dict[str, Agent], caller: str, callee: str) -> tuple[str, str]:
    """caller dials callee, callee answers: the two call ids (each party's own), inboxes emptied."""
    await agents[caller].dial(PHONE[callee])
    callee_call = (await agents[callee].only_call())["id"]
    await agents[callee].operate(callee_call, "Answer")
    caller_call = next(c["id"] for c in await agents[caller].calls() if c["state"] == "Established")
    for agent in agents.values():
        agent.heard()
    return caller_call, callee_call


# -- the walk: dial, answer, hold, mute, dtmf, user data, hangup ---------------------------------------


async def test_dial_rings_the_callee_and_both_sides_see_their_own_leg(agents: dict[str, Agent]) -> None:
    a, b = agents["agent1"], agents["agent2"]
    assert await a.dial(PHONE["agent2"]) == {"statusCode": 0}
    assert a.heard() == [("StatusChange", "Dialing", ["5002"])]
    assert b.heard() == [("StatusChange", "Ringing", ["5001"])]
    assert agents["agent3"].heard() == []

    a_call, b_call = await a.only_call(), await b.only_call()
    assert a_call["id"] != b_call["id"] and a_call["callUuid"] == b_call["callUuid"]
    assert a_call["uri"] == f"{BASE_URL}/api/v2/me/calls/{a_call['id']}"
    assert a_call["deviceUri"] == f"{BASE_URL}/api/v2/devices/{DEVICE_ID['agent1']}"
    assert (a_call["ani"], a_call["mute"]) == ("5001", "Off")
    assert "Answer" in b_call["capabilities"] and "Answer" not in a_call["capabilities"]
    uris = (await a.api.ok("agent1", "GET", "/me/calls"))["uris"]
    assert uris == [a_call["uri"]]


async def test_the_later_release_dial_path_is_an_alias(agents: dict[str, Agent]) -> None:
    await agents["agent1"].dial({"phoneNumber": "5002"}, path="/me/devices/{id}/calls")
    assert agents["agent1"].heard() == [("StatusChange", "Dialing", ["5002"])]
    assert agents["agent2"].heard() == [("StatusChange", "Ringing", ["5001"])]


async def test_answer_establishes_both_sides_and_hangup_releases_both(agents: dict[str, Agent]) -> None:
    a, b = agents["agent1"], agents["agent2"]
    await a.dial("5002")
    a.heard(), b.heard()
    b_call = (await b.only_call())["id"]
    await b.operate(b_call, "Answer")
    assert b.heard() == [("StatusChange", "Established", ["5001"])]
    assert a.heard() == [("StatusChange", "Established", ["5002"])]

    await b.operate(b_call, "Hangup")
    assert b.heard() == [("StatusChange", "Released", [])]
    assert a.heard() == [("StatusChange", "Released", [])]
    assert await a.calls() == [] and await b.calls() == []
    released = await b.call(b_call)  # still readable by id, with nothing left to do
    assert (released["state"], released["capabilities"]) == ("Released", [])


# (operation, attributes, the caller's messages, the callee's messages, a field of the caller's call after it)
ON_AN_ESTABLISHED_CALL = [
    ("Hold", {}, [("StatusChange", "Held")], [], ("state", "Held")),
    ("MuteCall", {}, [("StatusChange", "Established")], [], ("mute", "On")),
    ("SendDtmf", {"digits": "0123456789"}, [("DtmfSent", "Established")], [], ("state", "Established")),
    (
        "AttachUserData",
        {"userData": {"order": "42"}},
        [("AttachedDataChanged", "Established")],
        [("AttachedDataChanged", "Established")],
        ("userData", {"order": "42"}),
    ),
]


@pytest.mark.parametrize(("operation", "attributes", "mine", "theirs", "after"), ON_AN_ESTABLISHED_CALL)
async def test_operations_on_an_established_call(
    agents: dict[str, Agent],
    operation: str,
    attributes: dict[str, Any],
    mine: list[tuple[str, str]],
    theirs: list[tuple[str, str]],
    after: tuple[str, Any],
) -> None:
    a, b = agents["agent1"], agents["agent2"]
    a_call, _ = await connect(agents, "agent1", "agent2")
    await a.operate(a_call, operation, **attributes)
    assert [(kind, state) for kind, state, _ in a.heard()] == mine
    assert [(kind, state) for kind, state, _ in b.heard()] == theirs
    field, value = after
    assert (await a.call(a_call))[field] == value


async def test_hold_retrieve_and_mute_unmute_toggle_their_capabilities(agents: dict[str, Agent]) -> None:
    a = agents["agent1"]
    a_call, _ = await connect(agents, "agent1", "agent2")
    await a.operate(a_call, "Hold")
    held = await a.call(a_call)
    assert "Retrieve" in held["capabilities"] and "Hold" not in held["capabilities"]
    await a.operate(a_call, "Retrieve")
    await a.operate(a_call, "MuteCall")
    muted = await a.call(a_call)
    assert (muted["state"], muted["mute"]) == ("Established", "On")
    assert "UnmuteCall" in muted["capabilities"] and "MuteCall" not in muted["capabilities"]
    await a.operate(a_call, "UnmuteCall")
    assert [(m["call"]["state"], m["call"]["mute"]) for m in a.messages()] == [
        ("Held", "Off"),
        ("Established", "Off"),
        ("Established", "On"),
        ("Established", "Off"),
    ]


async def test_user_data_is_shared_by_both_parties(agents: dict[str, Agent]) -> None:
    a, b = agents["agent1"], agents["agent2"]
    a_call, b_call = await connect(agents, "agent1", "agent2")
    await a.operate(a_call, "AttachUserData", userData={"order": "42", "tier": "gold"})
    await b.operate(b_call, "UpdateUserData", userData={"tier": "platinum"})
    await a.operate(a_call, "DeleteUserDataPair", key="order")
    assert [m["call"]["userData"] for m in b.messages()] == [
        {"order": "42", "tier": "gold"},
        {"order": "42", "tier": "platinum"},
        {"tier": "platinum"},
    ]
    await b.operate(b_call, "DeleteUserData", userData={})
    assert [m["call"]["userData"] for m in a.messages()][-1] == {}
    assert (await a.call(a_call))["userData"] == {}


# -- transfer and conferences --------------------------------------------------------------------------


async def test_single_step_transfer_hands_the_call_to_the_destination(agents: dict[str, Agent]) -> None:
    a, b, c = agents["agent1"], agents["agent2"], agents["agent3"]
    a_call, b_call = await connect(agents, "agent1", "agent2")
    await a.operate(a_call, "SingleStepTransfer", destination="5003")
    assert [(kind, state) for kind, state, _ in a.heard()] == [("StatusChange", "Released")]
    assert c.heard() == [("StatusChange", "Ringing", ["5002"])]
    assert b.heard() == [("ParticipantsUpdated", "Established", ["5003"])]
    await c.operate((await c.only_call())["id"], "Answer")
    assert (await b.call(b_call))["participants"] == ["5003"]
    assert await a.calls() == []


async def test_single_step_conference_adds_the_destination(agents: dict[str, Agent]) -> None:
    a, b, c = agents["agent1"], agents["agent2"], agents["agent3"]
    a_call, _ = await connect(agents, "agent1", "agent2")
    await a.operate(a_call, "SingleStepConference", destination={"phoneNumber": "5003"})
    assert a.heard() == [("ParticipantsUpdated", "Established", ["5002", "5003"])]
    assert b.heard() == [("ParticipantsUpdated", "Established", ["5001", "5003"])]
    assert c.heard() == [("StatusChange", "Ringing", ["5001", "5002"])]


async def test_initiate_and_complete_conference_then_remove_a_participant(agents: dict[str, Agent]) -> None:
    a, b, c = agents["agent1"], agents["agent2"], agents["agent3"]
    a_call, b_call = await connect(agents, "agent1", "agent2")
    await a.operate(a_call, "InitiateConference", destination={"phoneNumber": "5003"})
    assert a.heard() == [("StatusChange", "Held", ["5002"]), ("StatusChange", "Dialing", ["5003"])]
    assert c.heard() == [("StatusChange", "Ringing", ["5001"])]
    consult = next(call for call in await a.calls() if call["id"] != a_call)
    await c.operate((await c.only_call())["id"], "Answer")
    a.heard(), c.heard()

    await a.operate(a_call, "CompleteConference", consultCallUri=consult["uri"])
    assert a.heard() == [
        ("StatusChange", "Released", []),  # the consultation leg
        ("StatusChange", "Established", ["5002", "5003"]),
        ("ParticipantsUpdated", "Established", ["5002", "5003"]),
    ]
    assert b.heard() == [("ParticipantsUpdated", "Established", ["5001", "5003"])]
    assert c.heard() == [("ParticipantsUpdated", "Established", ["5001", "5002"])]

    await a.operate(a_call, "RemoveParticipantFromConference", participant="5003")
    assert [(kind, state) for kind, state, _ in c.heard()] == [("StatusChange", "Released")]
    assert a.heard() == [("ParticipantsUpdated", "Established", ["5002"])]
    assert (await b.call(b_call))["participants"] == ["5001"]


async def test_swap_then_merge_two_calls_of_one_device(agents: dict[str, Agent]) -> None:
    a, b, c = agents["agent1"], agents["agent2"], agents["agent3"]
    first, _ = await connect(agents, "agent1", "agent2")
    await a.operate(first, "Hold")
    await a.dial("5003")
    await c.operate((await c.only_call())["id"], "Answer")
    second = next(call["id"] for call in await a.calls() if call["id"] != first)
    a.heard(), b.heard(), c.heard()

    await a.operate(second, "SwapCalls", otherCallUri=f"{BASE_URL}/api/v2/me/calls/{first}")
    assert a.heard() == [("StatusChange", "Held", ["5003"]), ("StatusChange", "Established", ["5002"])]

    await a.operate(first, "MergeWithOtherCall", otherCallUri=second)
    assert a.heard() == [
        ("StatusChange", "Released", []),
        ("ParticipantsUpdated", "Established", ["5002", "5003"]),
    ]
    assert c.heard() == [("ParticipantsUpdated", "Established", ["5001", "5002"])]
    assert [call["id"] for call in await a.calls()] == [first]

    await a.operate(first, "Hangup")  # the others stay connected
    assert b.heard()[-1] == ("ParticipantsUpdated", "Established", ["5003"])
    assert c.heard()[-1] == ("ParticipantsUpdated", "Established", ["5002"])


# -- Do Not Disturb and forwarding on the callee ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "path_values", "operation"),
    [
        ("/devices/{id}", {"id": DEVICE_ID["agent2"]}, "DoNotDisturbOn"),
        ("/me", {}, "DoNotDisturbOn"),
    ],
    ids=["device", "me"],
)
async def test_a_callee_in_do_not_disturb_is_not_rung(
    api: Api, agents: dict[str, Agent], path: str, path_values: dict[str, str], operation: str
) -> None:
    a, b = agents["agent1"], agents["agent2"]
    await api.ok("agent2", "POST", path, path_values=path_values, json_body={"operationName": operation})
    b.heard()
    assert await a.dial("5002") == {"statusCode": 0}  # asynchronous: the refusal comes as a message
    dialing, error = a.messages()
    assert dialing["call"]["state"] == "Dialing"
    assert error["call"]["state"] == "Released" and "Do Not Disturb" in error["errorMessage"]
    assert error["deviceUri"] == f"{BASE_URL}/api/v2/devices/{DEVICE_ID['agent1']}"
    assert b.heard() == [] and await b.calls() == []


async def test_a_forwarding_callee_sends_the_call_to_its_forward_target(api: Api, agents: dict[str, Agent]) -> None:
    a, b, c = agents["agent1"], agents["agent2"], agents["agent3"]
    forward = {"operationName": "ForwardCallsOn", "destination": "5003"}
    await api.ok("agent2", "POST", "/devices/{id}", id=DEVICE_ID["agent2"], json_body=forward)
    (changed,) = drained(b.inbox)["/v2/me/devices"]
    assert changed["devices"][0]["forwardTo"] == "5003"
    await a.dial("5002")
    assert a.heard() == [("StatusChange", "Dialing", ["5003"])]
    assert c.heard() == [("StatusChange", "Ringing", ["5001"])]
    assert b.heard() == []

    await api.ok(
        "agent2", "POST", "/devices/{id}", id=DEVICE_ID["agent2"], json_body={"operationName": "ForwardCallsOff"}
    )
    await a.operate((await a.only_call())["id"], "Hangup")
    await a.dial("5002")
    assert b.heard()[-1] == ("StatusChange", "Ringing", ["5001"])


# -- refusals: nothing changes, nothing is published ------------------------------------------------------

# (the call to operate: the caller's or the callee's, in state Ringing/Dialing; operation; attributes; statusCode)
NOT_NOW = [
    ("callee", "Hold", {}, 2),
    ("callee", "Retrieve", {}, 2),
    ("callee", "SingleStepTransfer", {"destination": "5003"}, 2),
    ("caller", "Answer", {}, 2),
    ("caller", "UnmuteCall", {}, 2),
    ("caller", "CompleteConference", {"consultCallUri": f"{BASE_URL}/api/v2/me/calls/nope"}, 2),
    ("caller", "SwapCalls", {"otherCallUri": "nope"}, 2),
    ("caller", "SendDtmf", {"digits": "12a"}, 2),
    ("caller", "SendDtmf", {}, 1),
    ("callee", "CompleteConference", {}, 1),
    ("caller", "Conference", {}, 2),
]


@pytest.mark.parametrize(("side", "operation", "attributes", "status_code"), NOT_NOW)
async def test_an_operation_outside_the_capabilities_is_refused_and_changes_nothing(
    api: Api, agents: dict[str, Agent], side: str, operation: str, attributes: dict[str, Any], status_code: int
) -> None:
    a, b = agents["agent1"], agents["agent2"]
    await a.dial("5002")
    agent = a if side == "caller" else b
    call = await agent.only_call()
    a.heard(), b.heard()
    before = api.store.telephony.snapshot()
    assert await agent.refused(call["id"], operation, **attributes) == (400, status_code)
    assert api.store.telephony.snapshot() == before
    assert a.heard() == [] and b.heard() == []


async def test_a_released_call_accepts_no_operation(agents: dict[str, Agent]) -> None:
    a = agents["agent1"]
    a_call, _ = await connect(agents, "agent1", "agent2")
    await a.operate(a_call, "Hangup")
    a.heard()
    assert await a.refused(a_call, "Hangup") == (400, 2)
    assert a.heard() == []


async def test_dial_refusals(api: Api, agents: dict[str, Agent]) -> None:
    body = {"operationName": "Dial", "destination": "not a number"}
    response = await api.call("agent1", "POST", "/devices/{id}/calls", id=DEVICE_ID["agent1"], json_body=body)
    assert (response.status_code, response.json()["statusCode"]) == (400, 2)
    response = await api.call(
        "agent1", "POST", "/devices/{id}/calls", id=DEVICE_ID["agent1"], json_body={"operationName": "Dial"}
    )
    assert response.json()["statusCode"] == 1
    await connect(agents, "agent1", "agent2")  # one active call per device: hold it first
    response = await api.call(
        "agent1",
        "POST",
        "/devices/{id}/calls",
        id=DEVICE_ID["agent1"],
        json_body={"operationName": "Dial", "destination": "5003"},
    )
    assert response.json()["statusCode"] == 2 and agents["agent3"].heard() == []


# -- isolation: another agent's call and device -----------------------------------------------------------


async def test_an_agent_cannot_read_or_operate_another_agents_call_or_device(
    api: Api, agents: dict[str, Agent]
) -> None:
    a = agents["agent1"]
    await a.dial("5003")
    a_call = (await a.only_call())["id"]
    a.heard(), agents["agent3"].heard()
    before = api.store.telephony.snapshot()
    dial = {"operationName": "Dial", "destination": "5001"}
    attempts = [
        ("GET", "/me/calls/{id}", {"id": a_call}, None),
        ("POST", "/me/calls/{id}", {"id": a_call}, {"operationName": "Hangup"}),
        ("POST", "/devices/{id}", {"id": DEVICE_ID["agent1"]}, {"operationName": "DoNotDisturbOn"}),
        ("POST", "/devices/{id}/calls", {"id": DEVICE_ID["agent1"]}, dial),
        ("POST", "/me/devices/{id}/calls", {"id": DEVICE_ID["agent1"]}, dial),
    ]
    for method, path, values, body in attempts:
        response = await api.call("agent2", method, path, path_values=values, json_body=body)
        assert response.json()["statusCode"] in (5, 6), (method, path, response.json())
    assert (await api.ok("agent2", "GET", "/me/calls"))["uris"] == []
    assert api.store.telephony.snapshot() == before
    assert all(agent.heard() == [] for agent in agents.values())
    assert drained(a.inbox) == {}


async def test_an_administrator_sees_every_call(api: Api, agents: dict[str, Agent]) -> None:
    await agents["agent1"].dial("5002")
    calls = (await api.ok("admin", "GET", "/me/calls", params={"fields": "*"}))["calls"]
    assert sorted(call["state"] for call in calls) == ["Dialing", "Ringing"]


async def test_calls_are_a_subresource_of_me(api: Api, agents: dict[str, Agent]) -> None:
    await agents["agent1"].dial("5002")
    user = (await api.ok("agent1", "GET", "/me", params={"subresources": "calls"}))["user"]
    assert [call["state"] for call in user["calls"]] == ["Dialing"]
    assert "calls" not in (await api.ok("agent1", "GET", "/me"))["user"]


async def test_an_outside_call_follows_forwarding_and_shows_its_ani(api: Api, agents: dict[str, Agent]) -> None:
    forward = {"operationName": "ForwardCallsOn", "destination": "5003"}
    await api.ok("agent2", "POST", "/devices/{id}", id=DEVICE_ID["agent2"], json_body=forward)
    api.store.telephony.inbound_call("+16505550199", "5002")  # what the stimulus API plays
    call = await agents["agent3"].only_call()
    assert (call["state"], call["ani"], call["participants"]) == ("Ringing", "+16505550199", ["+16505550199"])
    assert await agents["agent2"].calls() == []
