"""The stimulus API (reference_impl/stimulus.py): every endpoint it documents, what each causes on
CometD (checked against spec/notifications/), bad input refused with nothing changed, reset."""

from __future__ import annotations

import re

import pytest
from multimedia_support import CALLS, EMAIL, TEST_WORKBIN, WORKBINS, Agent, inbound_email, snapshot, stimulate
from reference_support import DEVICE_ID, Api

from reference_impl import stimulus
from reference_impl.app import create_app
from reference_impl.events import EventBus
from reference_impl.store import Store

pytestmark = [pytest.mark.anyio, pytest.mark.reference_stimulus]

OUTSIDE = "+16505550123"


@pytest.fixture
async def agent1(api: Api) -> Agent:
    agent = Agent(api, "agent1")
    await agent.ready()
    return agent


async def refused(api: Api, path: str, body: object, status_code: int, **request: object) -> str:
    """A stimulus refused with ``status_code``: nothing in the contact center changes."""
    before = snapshot(api)
    response = await api.client.post(f"/stimulus{path}", json=body, **request)  # type: ignore[arg-type]
    reply = response.json()
    assert reply["statusCode"] == status_code and reply["statusMessage"], reply
    assert snapshot(api) == before
    message: str = reply["statusMessage"]
    return message


def test_every_route_is_documented_in_the_module_table() -> None:
    documented = set(re.findall(r"^POST (/stimulus/\S+)", stimulus.__doc__ or "", re.MULTILINE))
    routes = {getattr(route, "path", "") for route in stimulus.stimulus_routes(Store.from_file(), EventBus())}
    assert documented == routes


def test_the_stimulus_api_exists_only_when_asked_for() -> None:
    without = {getattr(r, "path", "") for r in create_app(Store.from_file()).routes}
    assert not any(path.startswith("/stimulus") for path in without)


async def test_an_email_waits_in_its_queue_while_nobody_is_ready_and_is_routed_later(api: Api) -> None:
    reply = await stimulate(api, "/emails", EMAIL)
    assert reply["agentId"] is None
    agent1 = Agent(api, "agent1")
    await agent1.ready()
    assert (await stimulate(api, f"/interactions/{reply['interactionId']}/route"))["agentId"] == agent1.id
    assert agent1.message()["state"] == "Invited"
    await refused(api, f"/interactions/{reply['interactionId']}/route", {}, 2)  # not waiting any more


async def test_an_email_for_a_named_agent_needs_that_agent_ready(api: Api, agent1: Agent) -> None:
    agent2 = Agent(api, "agent2")
    assert "not Ready" in await refused(api, "/emails", {**EMAIL, "agentId": agent2.id}, 2)
    await agent2.ready()
    await agent2.ok("POST", "/me/channels/{channel}", channel="email", json_body={"operationName": "DoNotDisturbOn"})
    await refused(api, "/emails", {**EMAIL, "agentId": agent2.id}, 2)  # DND overrides Ready
    assert (await stimulate(api, "/emails", {**EMAIL, "agentId": agent1.id}))["agentId"] == agent1.id
    agent2.messages(topic=None)
    agent2.assert_quiet()


async def test_bad_stimuli_are_refused_and_change_nothing(api: Api, agent1: Agent) -> None:
    missing = {k: v for k, v in EMAIL.items() if k != "subject"}
    assert "subject" in await refused(api, "/emails", missing, 1)
    await refused(api, "/emails", {**EMAIL, "subject": 5}, 2)
    await refused(api, "/emails", {**EMAIL, "queue": "NoSuchQueue"}, 2)
    await refused(api, "/emails", {**EMAIL, "userData": "x"}, 2)
    await refused(api, "/emails", {**EMAIL, "agentId": "nobody"}, 2)
    await refused(api, "/chats", {"nickname": "C", "messages": "hi"}, 2)
    await refused(api, "/chats", {}, 1)
    await refused(api, "/chats/nope/messages", {"text": "x"}, 6)
    await refused(api, "/interactions/nope/revoke", {}, 6)
    await refused(api, "/calls", {"from": OUTSIDE, "to": "9999"}, 2)  # not a device's number
    await refused(api, "/calls", {"from": "not a number", "to": "5001"}, 2)
    await refused(api, "/calls/nope/answer", {}, 6)
    await refused(api, f"/workbins/{TEST_WORKBIN}/interactions", {**EMAIL}, 1)  # agentId
    await refused(api, "/workbins/nope/interactions", {**EMAIL, "agentId": agent1.id}, 6)
    await refused(api, "/emails", [1], 2)
    await refused(api, "/emails", None, 2, content=b"{not json", headers={"Content-Type": "application/json"})
    await refused(api, "/emails", None, 2, content=b"x=1", headers={"Content-Type": "text/plain"})
    assert "browsers" in await refused(api, "/reset", {}, 3, headers={"Origin": "http://evil.test"})
    agent1.assert_quiet()


async def test_a_chat_arrives_speaks_and_leaves(api: Api, agent1: Agent) -> None:
    chat = await stimulate(api, "/chats", {"nickname": "Carla", "messages": ["Hi", "Anyone?"], "subject": "Help"})
    assert chat["agentId"] == agent1.id
    invited = agent1.message()
    assert (invited["state"], invited["userData"]["Subject"]) == ("Invited", "Help")
    await agent1.operate(chat["interactionId"], "Accept")
    assert [e["MessageText"] for e in agent1.message()["chat_notifications"]] == [None, "Hi", "Anyone?", None]
    assert (await stimulate(api, f"/chats/{chat['interactionId']}/messages", {"text": "Hello"}))["eventId"] == 5
    assert agent1.message()["chat_notifications"][0]["MessageText"] == "Hello"
    assert (await stimulate(api, f"/chats/{chat['interactionId']}/leave"))["eventId"] == 6
    assert agent1.message()["chat_notifications"][0]["MessageType"] == "PARTY_LEFT"
    await refused(api, f"/chats/{chat['interactionId']}/leave", {}, 2)
    email_id = await inbound_email(api)
    agent1.messages()
    await refused(api, f"/chats/{email_id}/messages", {"text": "x"}, 2)


async def test_revoking_names_the_invited_agent(api: Api, agent1: Agent) -> None:
    email_id = await inbound_email(api)
    agent2 = Agent(api, "agent2")
    await refused(api, f"/interactions/{email_id}/revoke", {"agentId": agent2.id}, 2)
    assert (await stimulate(api, f"/interactions/{email_id}/revoke", {}))["agentId"] == agent1.id
    assert [m["state"] for m in agent1.messages()] == ["Invited", "Revoked"]
    await refused(api, f"/interactions/{email_id}/revoke", {}, 2)  # nothing to revoke any more


async def test_an_outside_caller_rings_a_device(api: Api, agent1: Agent) -> None:
    reply = await stimulate(api, "/calls", {"from": OUTSIDE, "to": "5001"})
    ringing = agent1.message(CALLS)
    assert (ringing["call"]["id"], ringing["call"]["state"]) == (reply["callId"], "Ringing")
    assert ringing["call"]["participants"] == [OUTSIDE]
    await agent1.ok("POST", "/me/calls/{id}", id=reply["callId"], json_body={"operationName": "Answer"})
    assert agent1.message(CALLS)["call"]["state"] == "Established"
    await stimulate(api, f"/calls/{reply['callId']}/hangup")
    assert agent1.message(CALLS)["call"]["state"] == "Released"


async def test_the_far_end_answers_an_outbound_call(api: Api, agent1: Agent) -> None:
    await agent1.ok(
        "POST",
        "/devices/{id}/calls",
        id=DEVICE_ID["agent1"],
        json_body={"operationName": "Dial", "destination": OUTSIDE},
    )
    dialing = agent1.message(CALLS)["call"]
    assert dialing["state"] == "Dialing"
    await stimulate(api, f"/calls/{dialing['id']}/answer")
    assert agent1.message(CALLS)["call"]["state"] == "Established"
    await refused(api, f"/calls/{dialing['id']}/answer", {}, 2)  # answered already


async def test_reset_returns_to_the_fixture(api: Api, agent1: Agent) -> None:
    await inbound_email(api)
    await stimulate(api, f"/workbins/{TEST_WORKBIN}/interactions", {**EMAIL, "agentId": agent1.id})
    await api.ok("admin", "DELETE", "/users/{id}", id=agent1.id)
    assert (await stimulate(api, "/reset")) == {"statusCode": 0}
    assert api.store.interactions == {} and agent1.id in api.store.users
    fresh = Agent(api, "agent1")
    assert await fresh.my_interactions() == {}
    assert (await fresh.ok("GET", "/me/workbins/{workbinId}/interactions", workbinId=TEST_WORKBIN))["uris"] == []
    assert api.store.presence[agent1.id].state == "NotReady"
    agent1.messages(topic=None)
    assert not agent1.messages(WORKBINS)
