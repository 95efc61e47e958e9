"""The reference server's workbins: types, content, PlaceInWorkbin / AddInteractionToWorkbin, pull,
subscriptions and WorkbinEvent messages. Replies checked against spec/openapi.yaml, messages against
spec/notifications/; refusals change nothing."""

from __future__ import annotations

import pytest
from multimedia_support import TEST_WORKBIN, WORKBINS, Agent, accepted_email, stimulate
from reference_support import BASE_URL, Api

pytestmark = [pytest.mark.anyio, pytest.mark.reference_stimulus]

ABS = f"{BASE_URL}/api/v2"
CONTENT = "/me/workbins/{workbinId}/interactions"


@pytest.fixture
async def agent1(api: Api) -> Agent:
    agent = Agent(api, "agent1")
    await agent.ready()
    return agent


async def subscribe(agent: Agent, workbin_id: str = TEST_WORKBIN) -> None:
    await agent.ok("POST", "/me/workbins/{workbinId}", workbinId=workbin_id, json_body={"operationName": "Subscribe"})


def entry_uri(interaction_id: str, workbin_id: str = TEST_WORKBIN) -> str:
    return f"{ABS}/me/workbins/{workbin_id}/interactions/{interaction_id}"


async def test_workbin_types_are_listed_with_their_information(api: Api, agent1: Agent) -> None:
    workbins = (await agent1.ok("GET", "/me/workbins"))["workbins"]
    assert [w["workbinName"] for w in workbins][:1] == ["TestWorkbin"] and len(workbins) == 5
    assert workbins[0] == {
        "workbinId": TEST_WORKBIN,
        "active": 1,
        "workbinName": "TestWorkbin",
        "viewName": "TestWorkbin/PrivateView",
        "workbinType": 1,
    }
    narrowed = (await agent1.ok("GET", "/me/workbins", params={"fields": "workbinName"}))["workbins"]
    assert narrowed[0] == {"workbinId": TEST_WORKBIN, "workbinName": "TestWorkbin"}


async def test_place_in_workbin_then_pull_it_back_with_events(api: Api, agent1: Agent) -> None:
    interaction_id = await accepted_email(agent1)
    await subscribe(agent1)
    await agent1.operate(interaction_id, "PlaceInWorkbin", workbin=TEST_WORKBIN)
    event = agent1.message(WORKBINS)
    assert (event["messageType"], event["operation"], event["workbinContentOperation"]) == (
        "workbinNotificationResource",
        "Create",
        "PlacedIn",
    )
    assert (event["interaction"]["id"], event["interaction"]["state"]) == (interaction_id, "Queued")
    assert event["workbinInfo"]["workbinTypeId"] == "TestWorkbin"
    assert agent1.messages() == []  # no interaction message for PlaceInWorkbin (E18)
    assert await agent1.my_interactions() == {}

    assert (await agent1.ok("GET", CONTENT, workbinId=TEST_WORKBIN))["uris"] == [entry_uri(interaction_id)]
    items = (await agent1.ok("GET", CONTENT, workbinId=TEST_WORKBIN, params={"fields": "*"}))["interactions"]
    assert [(i["InteractionId"], i["MediaType"], i["Workbin"]) for i in items] == [
        (interaction_id, "email", "TestWorkbin")
    ]
    other = Agent(api, "agent2")  # every agent has a private view of the workbin
    assert (await other.ok("GET", CONTENT, workbinId=TEST_WORKBIN))["uris"] == []

    pull = {"operationName": "PullInteractionFromWorkbin", "uri": entry_uri(interaction_id)}
    await agent1.ok("POST", "/me/interactions", json_body=pull)
    pulled = agent1.message()
    assert (pulled["id"], pulled["state"]) == (interaction_id, "Pulled")
    assert "Reply" in pulled["capabilities"]  # an inbound e-mail pulled back works as when accepted
    taken_out = agent1.message(WORKBINS)
    assert (taken_out["operation"], taken_out["workbinContentOperation"]) == ("Delete", "TakenOut")
    assert list(await agent1.my_interactions()) == [interaction_id]
    await agent1.refused(2, "POST", "/me/interactions", json_body=pull)  # not in the workbin any more


async def test_add_interaction_to_workbin_answers_the_entry_uri(api: Api, agent1: Agent) -> None:
    interaction_id = await accepted_email(agent1)
    await agent1.refused(2, "POST", CONTENT, workbinId=TEST_WORKBIN, json_body={"interactionId": "nope"})
    await agent1.refused(1, "POST", CONTENT, workbinId=TEST_WORKBIN, json_body={})
    added = await agent1.ok("POST", CONTENT, workbinId=TEST_WORKBIN, json_body={"interactionId": interaction_id})
    assert added["uri"] == entry_uri(interaction_id)
    agent1.assert_quiet()  # not subscribed: no WorkbinEvent
    assert await agent1.my_interactions() == {}
    await agent1.ok("POST", "/me/interactions", json_body={"operationName": "PullInteractionFromWorkbin", **added})
    assert agent1.message()["state"] == "Pulled"


async def test_unsubscribed_agents_get_no_events_and_toggles_refuse_repeats(api: Api, agent1: Agent) -> None:
    path, ident = "/me/workbins/{workbinId}", {"workbinId": TEST_WORKBIN}
    await agent1.refused(2, "POST", path, **ident, json_body={"operationName": "Unsubscribe"})
    await subscribe(agent1)
    await agent1.refused(2, "POST", path, **ident, json_body={"operationName": "Subscribe"})
    await agent1.ok("POST", path, **ident, json_body={"operationName": "Unsubscribe"})
    interaction_id = await accepted_email(agent1)
    await agent1.operate(interaction_id, "PlaceInWorkbin", workbin="TestWorkbin")  # by name too
    agent1.assert_quiet()


async def test_unknown_workbins_answer_6(api: Api, agent1: Agent) -> None:
    await agent1.refused(
        6, "POST", "/me/workbins/{workbinId}", workbinId="nope", json_body={"operationName": "Subscribe"}
    )
    await agent1.refused(6, "GET", CONTENT, workbinId="nope")
    await agent1.refused(6, "POST", CONTENT, workbinId="nope", json_body={"interactionId": "x"})
    pull = {"operationName": "PullInteractionFromWorkbin", "uri": entry_uri("x", "nope")}
    await agent1.refused(6, "POST", "/me/interactions", json_body=pull)
    await agent1.refused(2, "POST", "/me/interactions", json_body={**pull, "uri": "http://elsewhere/x"})
    interaction_id = await accepted_email(agent1)
    await agent1.refused(
        2,
        "POST",
        "/me/interactions/{id}",
        id=interaction_id,
        json_body={"operationName": "PlaceInWorkbin", "workbin": "nope"},
    )


async def test_get_workbin_content_operation_answers_the_content(api: Api, agent1: Agent) -> None:
    parked = await accepted_email(agent1)
    await agent1.operate(parked, "PlaceInWorkbin", workbin=TEST_WORKBIN)
    working = await accepted_email(agent1)
    reply = await agent1.operate(working, "GetWorkbinContent", workbin=TEST_WORKBIN)
    assert [i["InteractionId"] for i in reply["interactions"]] == [parked]
    agent1.assert_quiet()
    await agent1.refused(
        2,
        "POST",
        "/me/interactions/{id}",
        id=working,
        json_body={"operationName": "GetWorkbinContent", "workbin": "no"},
    )


async def test_a_media_server_placing_an_email_notifies_the_subscribed_agent(api: Api, agent1: Agent) -> None:
    await subscribe(agent1)
    placed = await stimulate(
        api,
        f"/workbins/{TEST_WORKBIN}/interactions",
        {"agentId": agent1.id, "fromAddress": "a@example.test", "toAddress": "b@example.test", "subject": "Draft"},
    )
    event = agent1.message(WORKBINS)
    assert event["interaction"]["id"] == placed["interactionId"]
    assert event["actorInfo"]["actorType"] == "MediaServer" and event["actorInfo"]["agentId"] is None
    assert placed["uri"] == entry_uri(placed["interactionId"])
    await agent1.ok("POST", "/me/interactions", json_body={"operationName": "PullInteractionFromWorkbin", **placed})
    assert agent1.message()["state"] == "Pulled"
