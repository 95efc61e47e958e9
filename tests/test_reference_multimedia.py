"""The reference server's interactions, REST and CometD together: e-mail (invite, accept, reply rules,
send, reject, revoke, create, transfer, queue, properties) and chat (accept with history, messages,
typing, history, consultation, transfer, conference). Every reply is checked against
spec/openapi.yaml, every message against spec/notifications/; every refusal changes nothing."""

from __future__ import annotations

import pytest
from multimedia_support import EMAIL, Agent, accepted_email, inbound_email, stimulate
from reference_support import BASE_URL, Api

pytestmark = [pytest.mark.anyio, pytest.mark.reference_stimulus]

ABS = f"{BASE_URL}/api/v2"
REPLY = {"queueName": "SimpleEmailOutQueue", "quoteOriginal": True}


@pytest.fixture
async def agent1(api: Api) -> Agent:
    agent = Agent(api, "agent1")
    await agent.ready()
    return agent


@pytest.fixture
def agent2(api: Api) -> Agent:
    return Agent(api, "agent2")  # NotReady until a test says otherwise


# -- e-mail: invite, accept, reply, send --------------------------------------------------------------


async def test_an_inbound_email_invites_the_ready_agent_who_accepts_it(api: Api, agent1: Agent, agent2: Agent) -> None:
    interaction_id = await inbound_email(api)
    invited = agent1.message()
    assert invited["id"] == interaction_id and invited["channel"] == "email"
    assert (invited["state"], invited["capabilities"]) == ("Invited", ["Accept", "Reject"])
    assert invited["email_object"]["subject"] == EMAIL["subject"]
    agent2.assert_quiet()  # NotReady on email: not invited (GWS-IXN-007)

    assert list(await agent1.my_interactions()) == [interaction_id]
    got = (await agent1.ok("GET", "/interactions/{id}", id=interaction_id))["interaction"]
    assert (got["id"], got["state"], got["uri"]) == (interaction_id, "Invited", f"{ABS}/interactions/{interaction_id}")

    assert await agent1.operate(interaction_id, "Accept") == {"statusCode": 0}
    accepted = agent1.message()
    assert accepted["state"] == "Accepted"
    assert set(accepted["capabilities"]) >= {"Reply", "ReplyAll", "Transfer", "StopProcessing", "PlaceInQueue"}
    email = accepted["email_object"]
    assert (email["toAddress"], email["fromAddress"], email["subject"], email["text"]) == (
        EMAIL["toAddress"],
        EMAIL["fromAddress"],
        EMAIL["subject"],
        EMAIL["text"],
    )
    await agent1.refused(2, "POST", "/me/interactions/{id}", id=interaction_id, json_body={"operationName": "Accept"})


async def test_reply_quotes_and_addresses_as_the_reference_says_and_send_ends_it(api: Api, agent1: Agent) -> None:
    original = await accepted_email(agent1, replyToAddress="orders@example.test", ccAddresses="boss@example.test")
    reply = await agent1.operate(
        original,
        "Reply",
        subjectPrefix="Re: ",
        replyToStartLine="You wrote:",
        indentCharacter="> ",
        **REPLY,
    )
    created = agent1.message()
    assert reply["replyInteractionId"] == created["id"] != original
    assert (created["state"], created["interactionSubType"], created["parentId"]) == (
        "ReplyCreated",
        "OutboundReply",
        original,
    )
    assert {"Send", "CancelReplyEmail"} <= set(created["capabilities"])
    email = created["email_object"]
    assert email["toAddress"] == "orders@example.test"  # the Reply-To address wins over From (E65)
    assert email["fromAddress"] == EMAIL["toAddress"]
    assert email["subject"] == "Re: My order"
    assert email["text"] == "You wrote:\n> Where is it?\n> It was due Monday."
    assert "ccAddresses" not in email  # Reply does not copy CC; ReplyAll does

    await agent1.operate(
        created["id"],
        "Send",
        queueName="SimpleEmailOutQueue",
        email_object={
            "toAddress": "orders@example.test",
            "fromAddress": EMAIL["toAddress"],
            "subject": "Re: My order",
            "text": "Shipped today.",
        },
    )
    agent1.assert_quiet()  # no message for Send (E18)
    assert created["id"] not in await agent1.my_interactions()
    await agent1.refused(6, "GET", "/interactions/{id}", id=created["id"])


async def test_reply_all_copies_cc_and_quote_original_false_leaves_the_body_empty(api: Api, agent1: Agent) -> None:
    original = await accepted_email(agent1, ccAddresses="boss@example.test")
    reply = await agent1.operate(original, "ReplyAll", queueName="SimpleEmailOutQueue", quoteOriginal=False)
    created = agent1.message()
    assert created["id"] == reply["replyInteractionId"]
    email = created["email_object"]
    assert (email["toAddress"], email["ccAddresses"], email["subject"], email["text"]) == (
        EMAIL["fromAddress"],
        "boss@example.test",
        EMAIL["subject"],
        "",
    )


async def test_reply_needs_its_queue_and_forward_takes_an_address(api: Api, agent1: Agent) -> None:
    original = await accepted_email(agent1)
    path, ident = "/me/interactions/{id}", {"id": original}
    await agent1.refused(1, "POST", path, **ident, json_body={"operationName": "Reply"})  # queueName (E65)
    await agent1.refused(2, "POST", path, **ident, json_body={"operationName": "Reply", **REPLY, "quoteOriginal": "x"})

    forward = await agent1.operate(original, "Forward", toAddress="colleague@example.test")
    created = agent1.message()
    assert created["id"] == forward["replyInteractionId"]
    assert created["email_object"]["toAddress"] == "colleague@example.test"


async def test_send_without_any_to_address_is_refused_with_1(api: Api, agent1: Agent) -> None:
    created = await agent1.ok(
        "POST",
        "/me/interactions",
        json_body={
            "operationName": "CreateEmail",
            "queueName": "SimpleEmailOutQueue",
            "interactionType": "Outbound",
            "interactionSubType": "OutboundNew",
        },
    )
    message = agent1.message()
    assert (message["id"], message["state"], message["interactionSubType"]) == (
        created["id"],
        "ReplyCreated",
        "OutboundNew",
    )
    assert created["uri"] == f"{ABS}/interactions/{created['id']}"
    email = {"fromAddress": "support@example.test", "subject": "Hello", "text": "Hi"}
    send = {"operationName": "Send", "queueName": "SimpleEmailOutQueue", "email_object": email}
    await agent1.refused(1, "POST", "/me/interactions/{id}", id=created["id"], json_body=send)  # E24
    email["toAddress"] = "someone@example.test"
    await agent1.ok("POST", "/me/interactions/{id}", id=created["id"], json_body=send)
    assert await agent1.my_interactions() == {}


async def test_cancel_reply_discards_the_outbound_email(api: Api, agent1: Agent) -> None:
    original = await accepted_email(agent1)
    reply_id = (await agent1.operate(original, "Reply", **REPLY))["replyInteractionId"]
    agent1.messages()
    await agent1.operate(reply_id, "CancelReply")  # the table's spelling, an alias (E04)
    assert list(await agent1.my_interactions()) == [original]


# -- e-mail: reject, revoke, transfer, queue, properties, stop ----------------------------------------


async def test_reject_offers_the_email_to_another_ready_agent(api: Api, agent1: Agent, agent2: Agent) -> None:
    await agent2.ready()
    interaction_id = await inbound_email(api, agentId=agent1.id)
    agent1.messages()
    assert await agent1.operate(interaction_id, "Reject") == {"statusCode": 0}
    invited = agent2.message()
    assert (invited["id"], invited["state"]) == (interaction_id, "Invited")
    assert await agent1.my_interactions() == {}
    assert list(await agent2.my_interactions()) == [interaction_id]
    # Rejected by both: it waits in its queue, and routing can offer it again to a new Ready agent.
    await agent2.operate(interaction_id, "Reject")
    agent1.assert_quiet()
    assert await agent2.my_interactions() == {}
    agent3 = Agent(api, "agent3")
    await agent3.ready()
    assert (await stimulate(api, f"/interactions/{interaction_id}/route"))["agentId"] == agent3.id
    assert agent3.message()["state"] == "Invited"


async def test_a_revoked_invitation_has_no_capabilities_and_leaves_the_list(api: Api, agent1: Agent) -> None:
    interaction_id = await inbound_email(api)
    agent1.messages()
    assert (await stimulate(api, f"/interactions/{interaction_id}/revoke"))["agentId"] == agent1.id
    revoked = agent1.message()
    assert (revoked["id"], revoked["state"], revoked["capabilities"]) == (interaction_id, "Revoked", [])
    assert await agent1.my_interactions() == {}
    await agent1.refused(5, "POST", "/me/interactions/{id}", id=interaction_id, json_body={"operationName": "Accept"})


async def test_transfer_invites_the_target_and_ends_the_senders_ownership(
    api: Api, agent1: Agent, agent2: Agent
) -> None:
    interaction_id = await accepted_email(agent1)
    path = "/me/interactions/{id}"
    await agent1.refused(1, "POST", path, id=interaction_id, json_body={"operationName": "Transfer"})
    await agent1.refused(2, "POST", path, id=interaction_id, json_body={"operationName": "Transfer", "targetId": "x"})
    await agent1.operate(interaction_id, "Transfer", targetId=agent2.id)
    agent1.assert_quiet()
    invited = agent2.message()
    assert (invited["id"], invited["state"]) == (interaction_id, "Invited")
    assert await agent1.my_interactions() == {}
    await agent1.refused(5, "GET", "/interactions/{id}", id=interaction_id)  # E14: another agent's


async def test_place_in_queue_needs_a_known_queue_and_ends_ownership(api: Api, agent1: Agent) -> None:
    interaction_id = await accepted_email(agent1)
    path = "/me/interactions/{id}"
    await agent1.refused(1, "POST", path, id=interaction_id, json_body={"operationName": "PlaceInQueue"})
    await agent1.refused(
        2, "POST", path, id=interaction_id, json_body={"operationName": "PlaceInQueue", "queue": "NoSuchQueue"}
    )
    await agent1.operate(interaction_id, "PlaceInQueue", queue="SimpleEmailOutQueue")
    agent1.assert_quiet()
    assert await agent1.my_interactions() == {}
    admin_view = await agent1.api.ok("admin", "GET", "/interactions", params={"fields": "*"})
    queued = {i["id"]: i for i in admin_view["interactions"]}[interaction_id]
    assert (queued["state"], queued["currentQueue"], queued["capabilities"]) == ("Queued", "SimpleEmailOutQueue", [])


async def test_update_properties_and_put_show_in_user_data(api: Api, agent1: Agent) -> None:
    interaction_id = await accepted_email(agent1)
    await agent1.operate(interaction_id, "UpdateProperties", properties={"Priority": "high", "Nested": {"a": 1}})
    await agent1.ok("PUT", "/interactions/{id}", id=interaction_id, json_body={"Category": "orders"})
    user_data = (await agent1.ok("GET", "/interactions/{id}", id=interaction_id))["interaction"]["userData"]
    assert user_data["Priority"] == "high" and user_data["Nested"] == {"a": 1} and user_data["Category"] == "orders"
    agent1.assert_quiet()  # no message for UpdateProperties (E18)
    await agent1.refused(
        1, "POST", "/me/interactions/{id}", id=interaction_id, json_body={"operationName": "UpdateProperties"}
    )


async def test_stop_processing_ends_ownership(api: Api, agent1: Agent) -> None:
    interaction_id = await accepted_email(agent1)
    await agent1.operate(interaction_id, "StopProcessing")
    agent1.assert_quiet()
    assert await agent1.my_interactions() == {}
    await agent1.refused(6, "POST", "/me/interactions/{id}", id=interaction_id, json_body={"operationName": "Accept"})


async def test_operations_of_the_wrong_channel_or_state_are_refused_with_2(api: Api, agent1: Agent) -> None:
    interaction_id = await inbound_email(api)
    agent1.messages()
    path = "/me/interactions/{id}"
    for body in (
        {"operationName": "Reply", **REPLY},  # not before Accept
        {"operationName": "SendMessage", "text": "hi"},  # a chat operation
        {"operationName": "StartConference", "agentId": agent1.id},
        {"operationName": "CompleteTransfer"},
        {"operationName": "NoSuchOperation"},
    ):
        await agent1.refused(2, "POST", path, id=interaction_id, json_body=body)
    await agent1.refused(1, "POST", path, id=interaction_id, json_body={})


async def test_unknown_and_other_agents_interactions(api: Api, agent1: Agent, agent2: Agent) -> None:
    for method, path, body in (
        ("GET", "/interactions/{id}", None),
        ("PUT", "/interactions/{id}", {}),
        ("POST", "/me/interactions/{id}", {"operationName": "Accept"}),
    ):
        await agent1.refused(6, method, path, id="no-such-interaction", json_body=body)
    interaction_id = await accepted_email(agent1)
    await agent2.refused(5, "GET", "/interactions/{id}", id=interaction_id)
    await agent2.refused(5, "PUT", "/interactions/{id}", id=interaction_id, json_body={"x": 1})
    await agent2.refused(
        5, "POST", "/me/interactions/{id}", id=interaction_id, json_body={"operationName": "StopProcessing"}
    )
    agent1.assert_quiet()


async def test_interactions_list_everything_for_an_admin_and_own_ones_for_an_agent(
    api: Api, agent1: Agent, agent2: Agent
) -> None:
    mine = await accepted_email(agent1)
    waiting = await inbound_email(api, queue="SimpleEmailInQueue", agentId=None)
    agent1.messages()
    agent1_waiting = await agent1.my_interactions()
    assert set(agent1_waiting) == {mine, waiting}  # agent1 is the only Ready agent: invited to both
    everything = (await api.ok("admin", "GET", "/interactions"))["uris"]
    assert {uri.rsplit("/", 1)[1] for uri in everything} == {mine, waiting}
    assert (await agent2.ok("GET", "/interactions"))["uris"] == []
    await agent2.ok("GET", "/me/interactions")


async def test_multimedia_answers_as_absent_without_the_feature(api: Api, agent1: Agent) -> None:
    api.store.assigned_features.remove("api-multimedia")
    await agent1.refused(6, "GET", "/me/interactions")
    await agent1.refused(6, "GET", "/me/workbins")


# -- chat -----------------------------------------------------------------------------------------------


async def chat_with(agent: Agent, **options: object) -> str:
    reply = await stimulate(agent.api, "/chats", {"nickname": "Carla", "agentId": agent.id, **options})
    invited = agent.message()
    assert (invited["channel"], invited["state"], invited["capabilities"]) == ("chat", "Invited", ["Accept", "Reject"])
    chat_id: str = reply["interactionId"]
    return chat_id


def events(message: dict[str, object]) -> list[tuple[object, ...]]:
    notifications = message["chat_notifications"]
    assert isinstance(notifications, list)
    return [(e["EventId"], e["MessageType"], e["MessageText"], e["NickName"]) for e in notifications]


async def test_chat_accept_delivers_the_history_then_every_new_event(api: Api, agent1: Agent) -> None:
    chat_id = await chat_with(agent1, messages=["Hello?"])
    await agent1.operate(chat_id, "Accept", nickname="Alice (support)")
    accepted = agent1.message()
    assert accepted["state"] == "Accepted" and "SendMessage" in accepted["capabilities"]
    assert events(accepted) == [
        (1, "PARTY_JOINED", None, "Carla"),
        (2, "NEW_MESSAGE", "Hello?", None),
        (3, "PARTY_JOINED", None, "Alice (support)"),
    ]
    customer = accepted["chat_notifications"][0]["UserId"]

    assert (await stimulate(api, f"/chats/{chat_id}/messages", {"text": "Anyone there?"}))["eventId"] == 4
    said = agent1.message()
    assert said["chat_notifications"][0]["UserId"] == customer
    assert events(said) == [(4, "NEW_MESSAGE", "Anyone there?", None)]

    await agent1.operate(chat_id, "SendMessage", text="Yes, how can I help?")
    assert events(agent1.message()) == [(5, "NEW_MESSAGE", "Yes, how can I help?", None)]  # echoed (E69)
    await agent1.operate(chat_id, "SendNotification", notification="TypingStarted")
    assert agent1.message()["chat_notifications"][0]["NoticeType"] == "TypingStarted"
    path = "/me/interactions/{id}"
    await agent1.refused(
        2, "POST", path, id=chat_id, json_body={"operationName": "SendNotification", "notification": "Dancing"}
    )
    await agent1.refused(1, "POST", path, id=chat_id, json_body={"operationName": "SendMessage"})

    await agent1.operate(chat_id, "RequestChatHistory", eventId=4)
    assert [e[0] for e in events(agent1.message())] == [4, 5, 6]
    await agent1.refused(2, "POST", path, id=chat_id, json_body={"operationName": "RequestChatHistory", "eventId": 99})

    await stimulate(api, f"/chats/{chat_id}/leave")
    assert events(agent1.message())[0][1] == "PARTY_LEFT"
    await stimulate(api, f"/chats/{chat_id}/messages", {"text": "gone"}, status_code=2)
    await agent1.operate(chat_id, "StopProcessing")
    assert await agent1.my_interactions() == {}


async def test_chat_history_is_refused_to_an_agent_not_on_the_chat(api: Api, agent1: Agent, agent2: Agent) -> None:
    chat_id = await chat_with(agent1)
    await agent1.operate(chat_id, "Accept")
    agent1.messages()
    await agent2.refused(
        (5, 6), "POST", "/me/interactions/{id}", id=chat_id, json_body={"operationName": "RequestChatHistory"}
    )


async def test_chat_consultation_completed_as_a_transfer(api: Api, agent1: Agent, agent2: Agent) -> None:
    chat_id = await chat_with(agent1)
    await agent1.operate(chat_id, "Accept")
    agent1.messages()
    path = "/me/interactions/{id}"
    await agent1.refused(2, "POST", path, id=chat_id, json_body={"operationName": "CompleteTransfer"})  # no consult
    await agent1.operate(chat_id, "StartChatConsultation", agentId=agent2.id)  # the example's alias (E04)
    invited = agent2.message()
    assert (invited["id"], invited["state"]) == (chat_id, "Invited")  # GWS-CHAT-012
    await agent1.refused(2, "POST", path, id=chat_id, json_body={"operationName": "CompleteTransfer"})  # not joined
    await agent2.operate(chat_id, "Accept")
    history = agent2.message()
    assert [e[1] for e in events(history)] == ["PARTY_JOINED", "PARTY_JOINED", "PARTY_JOINED"]
    assert events(agent1.message())[0][1] == "PARTY_JOINED"  # agent1 sees agent2 join
    await agent1.operate(chat_id, "CompleteTransfer")
    assert events(agent2.message())[0][1] == "PARTY_LEFT"
    assert await agent1.my_interactions() == {}
    assert list(await agent2.my_interactions()) == [chat_id]
    await stimulate(api, f"/chats/{chat_id}/messages", {"text": "Thanks"})
    assert events(agent2.message())[0][2] == "Thanks"
    agent1.assert_quiet()


async def test_chat_consultation_completed_as_a_conference_then_left(api: Api, agent1: Agent, agent2: Agent) -> None:
    chat_id = await chat_with(agent1)
    await agent1.operate(chat_id, "Accept")
    await agent1.operate(chat_id, "InitiateConsultation", agentId=agent2.id)
    agent2.messages()
    await agent2.operate(chat_id, "Accept")
    agent1.messages(), agent2.messages()
    await agent1.operate(chat_id, "CompleteConference")
    await stimulate(api, f"/chats/{chat_id}/messages", {"text": "Both of you?"})
    assert events(agent1.message())[0][2] == events(agent2.message())[0][2] == "Both of you?"
    await agent2.operate(chat_id, "EndConference", agentId=agent2.id)
    left = agent1.messages()
    assert [m["state"] for m in left] == ["Accepted", "LeftConference"]  # PARTY_LEFT, then LeftConference
    assert list(await agent1.my_interactions()) == [chat_id]
    assert await agent2.my_interactions() == {}


async def test_start_conference_invites_the_agent_in_invited_conference(api: Api, agent1: Agent, agent2: Agent) -> None:
    chat_id = await chat_with(agent1)
    await agent1.operate(chat_id, "Accept")
    agent1.messages()
    await agent1.operate(chat_id, "StartConference", agentId=agent2.id)
    invited = agent2.message()
    assert (invited["id"], invited["state"], invited["capabilities"]) == (
        chat_id,
        "InvitedConference",
        ["Accept", "Reject"],
    )
    await agent2.operate(chat_id, "Reject")
    assert await agent2.my_interactions() == {}
    assert "StartConference" in (await agent1.my_interactions())[chat_id]["capabilities"]


async def test_a_chat_invitation_can_be_revoked(api: Api, agent1: Agent) -> None:
    chat_id = await chat_with(agent1)
    await stimulate(api, f"/interactions/{chat_id}/revoke")
    revoked = agent1.message()
    assert (revoked["state"], revoked["capabilities"]) == ("Revoked", [])
    await agent1.refused(5, "POST", "/me/interactions/{id}", id=chat_id, json_body={"operationName": "Accept"})


async def test_me_lists_its_interactions_as_a_subresource(api: Api, agent1: Agent) -> None:
    interaction_id = await accepted_email(agent1)
    me = (await agent1.ok("GET", "/me", params={"subresources": "interactions"}))["user"]
    assert [(i["id"], i["state"]) for i in me["interactions"]] == [(interaction_id, "Accepted")]
    assert "interactions" not in (await agent1.ok("GET", "/me"))["user"]
