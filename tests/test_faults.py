"""Fault modes (reference_impl/faults.py): the registry, ``--fault``, and for every fault a probe that
shows the violation happens when the fault is active and does not when it is not.

A probe drives one in-process server (httpx.ASGITransport, the bus, raw Bayeux POSTs) and answers
True when it saw the violation. Each fault is probed twice, on a faulty and on a clean server, so a
probe that cannot tell the two apart fails here rather than in the kill matrix.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from reference_support import BASE_URL, CREDENTIALS, DEVICE_ID, USER_ID

from conformance import contract, habits
from conformance.notifications import validate_notification
from reference_impl import cli
from reference_impl.app import create_app
from reference_impl.faults import CATEGORIES, REGISTRY, Faults, UnknownFault, describe
from reference_impl.store import Store

pytestmark = pytest.mark.anyio

API = "/api/v2"
NOTIFICATIONS = "/api/v2/notifications"
PHONE = {"agent1": "5001", "agent2": "5002"}
EMAIL = {
    "fromAddress": "customer@example.test",
    "toAddress": "support@example.test",
    "subject": "My order",
    "text": "Where is it?",
}


# -- the server a probe drives ---------------------------------------------------------------------------


class Server:
    """One in-process reference server (with the stimulus API), as the fixture users see it."""

    def __init__(self, client: httpx.AsyncClient, app: Any) -> None:
        self.client = client
        self.app = app

    async def request(
        self, who: str | None, method: str, path: str, body: Any = None, **params: str
    ) -> tuple[int, dict[str, Any]]:
        response = await self.client.request(
            method,
            path if path.startswith("http") else API + path,
            json=body,
            params=params or None,
            auth=CREDENTIALS[who] if who else None,
        )
        return response.status_code, response.json()

    async def get(self, who: str | None, path: str, **params: str) -> dict[str, Any]:
        return (await self.request(who, "GET", path, **params))[1]

    async def post(self, who: str, path: str, body: Any) -> dict[str, Any]:
        return (await self.request(who, "POST", path, body))[1]

    async def stimulate(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = (await self.client.post(f"/stimulus{path}", json=body)).json()
        assert reply["statusCode"] == 0, reply
        return reply

    def listen(self, who: str) -> Inbox:
        return Inbox(self.app.state.bus.subscribe(USER_ID[who]))

    async def bayeux(self, who: str, *messages: dict[str, Any]) -> list[dict[str, Any]]:
        response = await self.client.post(NOTIFICATIONS, json=list(messages), auth=CREDENTIALS[who])
        replies: list[dict[str, Any]] = response.json()
        return replies

    async def handshake(self, who: str) -> dict[str, Any]:
        handshake = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
        (reply,) = await self.bayeux(who, {**handshake, "id": "1"})
        return reply


class Inbox:
    """A user's bus subscription: the (topic, data) messages published to that user so far."""

    def __init__(self, subscription: Any) -> None:
        self.subscription = subscription

    def take(self, topic: str | None = None) -> list[dict[str, Any]]:
        return [data for t, data in self.subscription.drain() if topic is None or t == topic]

    def take_all(self) -> list[tuple[str, dict[str, Any]]]:
        events: list[tuple[str, dict[str, Any]]] = self.subscription.drain()
        return events


@asynccontextmanager
async def served(*faults: str) -> AsyncIterator[Server]:
    app = create_app(Store.from_file(), stimulus=True, faults=faults)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        yield Server(client, app)


# -- shared steps ----------------------------------------------------------------------------------------


async def ringing_call(server: Server) -> tuple[str, str]:
    """agent1 dials agent2: (agent1's call id, agent2's call id)."""
    body = {"operationName": "Dial", "destination": PHONE["agent2"]}
    assert (await server.post("agent1", f"/devices/{DEVICE_ID['agent1']}/calls", body))["statusCode"] == 0
    return await only_call(server, "agent1"), await only_call(server, "agent2")


async def only_call(server: Server, who: str) -> str:
    (uri,) = (await server.get(who, "/me/calls"))["uris"]
    call_id: str = uri.rsplit("/", 1)[1]
    return call_id


async def established_call(server: Server) -> str:
    """agent1 dials agent2 who answers: agent1's call id."""
    mine, theirs = await ringing_call(server)
    assert (await server.post("agent2", f"/me/calls/{theirs}", {"operationName": "Answer"}))["statusCode"] == 0
    return mine


async def call_of(server: Server, who: str, call_id: str) -> dict[str, Any]:
    call: dict[str, Any] = (await server.get(who, f"/me/calls/{call_id}"))["call"]
    return call


async def accepted_email(server: Server) -> tuple[str, Inbox]:
    inbox = server.listen("agent1")
    assert (await server.post("agent1", "/me", {"operationName": "Ready"}))["statusCode"] == 0
    email = await server.stimulate("/emails", {**EMAIL, "agentId": USER_ID["agent1"]})
    interaction_id: str = email["interactionId"]
    accept = await server.post("agent1", f"/me/interactions/{interaction_id}", {"operationName": "Accept"})
    assert accept["statusCode"] == 0
    inbox.take_all()
    return interaction_id, inbox


async def reply_created(server: Server) -> dict[str, Any]:
    """agent1 replies to an e-mail with subjectPrefix "Re: ": the EmailReplyCreated message's email_object."""
    original, inbox = await accepted_email(server)
    body = {"operationName": "Reply", "queueName": "SimpleEmailOutQueue", "subjectPrefix": "Re: "}
    assert (await server.post("agent1", f"/me/interactions/{original}", body))["statusCode"] == 0
    (created,) = inbox.take("/v2/me/interactions")
    email: dict[str, Any] = created["email_object"]
    return email


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# -- probes: fault name -> True when the violation is seen ---------------------------------------------

Probe = Callable[[Server], Awaitable[bool]]
PROBES: dict[str, Probe] = {}
# The fault as probed, when not just its name.
SPECS = {
    "notification-late": "notification-late=0.2",
    # One message in a thousand, probed as one in five: the same code, a tenth of a second.
    "load-drop-one-in-thousand": "load-drop-one-in-thousand=5",
    "load-duplicate-one-in-thousand": "load-duplicate-one-in-thousand=5",
    "load-reorder-one-in-thousand": "load-reorder-one-in-thousand=5",
}


def probe(name: str) -> Callable[[Probe], Probe]:
    def register(function: Probe) -> Probe:
        PROBES[name] = function
        return function

    return register


# response shape


@probe("reply-without-status-code")
async def sees_reply_without_status_code(server: Server) -> bool:
    return "statusCode" not in await server.get("agent1", "/me")


@probe("status-code-as-string")
async def sees_status_code_as_string(server: Server) -> bool:
    return (await server.get("agent1", "/me"))["statusCode"] == "0"


@probe("bayeux-content-type-text-plain")
async def sees_bayeux_content_type_text_plain(server: Server) -> bool:
    handshake = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
    bayeux = await server.client.post(NOTIFICATIONS, json=[handshake], auth=CREDENTIALS["agent1"])
    api = await server.client.get(API + "/me", auth=CREDENTIALS["agent1"])
    assert api.headers["content-type"].startswith("application/json")  # only the endpoint is mislabelled
    return bayeux.headers.get("content-type", "").startswith("text/plain")


@probe("content-type-text-plain")
async def sees_content_type_text_plain(server: Server) -> bool:
    handshake = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
    replies = [
        await server.client.get(API + "/me", auth=CREDENTIALS["agent1"]),
        await server.client.get(API + "/users/no-such-user", auth=CREDENTIALS["admin"]),
        await server.client.post(NOTIFICATIONS, json=[handshake], auth=CREDENTIALS["agent1"]),
    ]
    labels = [reply.headers.get("content-type", "") for reply in replies]
    assert all(isinstance(reply.json(), (dict, list)) for reply in replies)  # the bodies are still JSON
    return all(label.startswith("text/plain") for label in labels)


@probe("object-id-missing")
async def sees_object_id_missing(server: Server) -> bool:
    return "id" not in (await server.get("admin", f"/users/{USER_ID['agent1']}"))["user"]


@probe("collection-named-items")
async def sees_collection_named_items(server: Server) -> bool:
    body = await server.get("admin", "/users", fields="*")
    return "items" in body and "users" not in body


@probe("fields-ignored")
async def sees_fields_ignored(server: Server) -> bool:
    body = await server.get("admin", "/users", fields="*")
    return "uris" in body and "users" not in body


@probe("subresources-ignored")
async def sees_subresources_ignored(server: Server) -> bool:
    return "skills" not in (await server.get("agent1", "/me", subresources="*"))["user"]


@probe("uris-lead-nowhere")
async def sees_uris_lead_nowhere(server: Server) -> bool:
    uri = (await server.get("admin", "/users"))["uris"][0]
    return (await server.request("admin", "GET", uri))[1]["statusCode"] == 6


@probe("create-without-uri")
async def sees_create_without_uri(server: Server) -> bool:
    body = await server.post("admin", "/skills", {"name": "Probe_Skill"})
    assert body["statusCode"] == 0 and "id" in body
    return "uri" not in body


# errors


@probe("not-found-as-invalid")
async def sees_not_found_as_invalid(server: Server) -> bool:
    status, body = await server.request("admin", "GET", "/users/no-such-user")
    return (status, body["statusCode"]) == (400, 2)


@probe("server-error-for-bad-input")
async def sees_server_error_for_bad_input(server: Server) -> bool:
    status, body = await server.request("admin", "POST", "/users", {"userName": "probe"})  # no password: 1
    return status == 500 and body["statusCode"] == 4


@probe("null-member-refused")
async def sees_null_member_refused(server: Server) -> bool:
    body = {"operationName": "StartContactCenterSession", "channels": ["chat"]}
    assert (await server.post("agent1", "/me", body))["statusCode"] == 0
    return (await server.post("agent1", "/me", {**body, "loginCode": None, "queue": None}))["statusCode"] == 2


@probe("missing-attribute-accepted")
async def sees_missing_attribute_accepted(server: Server) -> bool:
    status, body = await server.request("admin", "POST", "/users", {"userName": "probe"})
    return (status, body["statusCode"]) == (200, 0)


@probe("not-found-as-success")
async def sees_not_found_as_success(server: Server) -> bool:
    status, body = await server.request("admin", "GET", "/users/no-such-user")
    return (status, body["statusCode"]) == (200, 0)


@probe("error-without-status-message")
async def sees_error_without_status_message(server: Server) -> bool:
    status, body = await server.request("admin", "GET", "/users/no-such-user")
    assert (status, body["statusCode"]) == (404, 6)
    return "statusMessage" not in body


# state machines


@probe("hold-not-applied")
async def sees_hold_not_applied(server: Server) -> bool:
    call_id = await established_call(server)
    assert (await server.post("agent1", f"/me/calls/{call_id}", {"operationName": "Hold"}))["statusCode"] == 0
    return (await call_of(server, "agent1", call_id))["state"] == "Established"


@probe("call-never-established")
async def sees_call_never_established(server: Server) -> bool:
    mine, theirs = await ringing_call(server)
    assert (await server.post("agent2", f"/me/calls/{theirs}", {"operationName": "Answer"}))["statusCode"] == 0
    states = {(await call_of(server, "agent1", mine))["state"], (await call_of(server, "agent2", theirs))["state"]}
    return states == {"Dialing", "Ringing"}


@probe("ready-sets-not-ready")
async def sees_ready_sets_not_ready(server: Server) -> bool:
    assert (await server.post("agent1", "/me", {"operationName": "Ready"}))["statusCode"] == 0
    channels = (await server.get("agent1", "/me/channels"))["channels"]
    return {c["userState"]["state"] for c in channels} == {"NotReady"}


@probe("capabilities-list-refused")
async def sees_capabilities_list_refused(server: Server) -> bool:
    call_id = await established_call(server)
    if "Answer" not in (await call_of(server, "agent1", call_id))["capabilities"]:
        return False
    return (await server.post("agent1", f"/me/calls/{call_id}", {"operationName": "Answer"}))["statusCode"] == 2


@probe("capabilities-omit-working")
async def sees_capabilities_omit_working(server: Server) -> bool:
    call_id = await established_call(server)
    listed = "Hold" in (await call_of(server, "agent1", call_id))["capabilities"]
    works = (await server.post("agent1", f"/me/calls/{call_id}", {"operationName": "Hold"}))["statusCode"] == 0
    return works and not listed


@probe("email-reply-wrong-addresses")
async def sees_email_reply_wrong_addresses(server: Server) -> bool:
    email = await reply_created(server)
    return (email["toAddress"], email["fromAddress"]) != (EMAIL["fromAddress"], EMAIL["toAddress"])


@probe("email-reply-wrong-subject")
async def sees_email_reply_wrong_subject(server: Server) -> bool:
    return (await reply_created(server))["subject"] != "Re: My order"


@probe("chat-history-missing-message")
async def sees_chat_history_missing_message(server: Server) -> bool:
    inbox = server.listen("agent1")
    assert (await server.post("agent1", "/me", {"operationName": "Ready"}))["statusCode"] == 0
    customer = {"nickname": "Carla", "agentId": USER_ID["agent1"], "messages": ["Hello?"]}
    chat = await server.stimulate("/chats", customer)
    inbox.take_all()
    accept = await server.post("agent1", f"/me/interactions/{chat['interactionId']}", {"operationName": "Accept"})
    assert accept["statusCode"] == 0
    (accepted,) = inbox.take("/v2/me/interactions")
    return "Hello?" not in [event["MessageText"] for event in accepted["chat_notifications"]]


# notifications


@probe("notification-missing")
async def sees_notification_missing(server: Server) -> bool:
    inbox = server.listen("agent1")
    await ringing_call(server)
    return not [m for m in inbox.take("/v2/me/calls") if m.get("notificationType") == "StatusChange"]


@probe("notification-duplicated")
async def sees_notification_duplicated(server: Server) -> bool:
    inbox = server.listen("agent1")
    body = {"operationName": "ChangePassword", "oldPassword": b64("agent1-secret"), "newPassword": b64("n3w-secret")}
    assert (await server.post("agent1", "/me", body))["statusCode"] == 0
    outcomes = inbox.take("/v2/me")
    assert outcomes and all(m["notificationType"] == "PasswordChangeSuccessful" for m in outcomes)
    return len(outcomes) > 1


@probe("notification-wrong-topic")
async def sees_notification_wrong_topic(server: Server) -> bool:
    inbox = server.listen("agent1")
    await ringing_call(server)
    return any(topic != "/v2/me/calls" and "call" in data for topic, data in inbox.take_all())


@probe("notification-wrong-state")
async def sees_notification_wrong_state(server: Server) -> bool:
    inbox = server.listen("agent1")
    call_id = await established_call(server)
    inbox.take_all()
    assert (await server.post("agent1", f"/me/calls/{call_id}", {"operationName": "Hold"}))["statusCode"] == 0
    assert (await call_of(server, "agent1", call_id))["state"] == "Held"
    return [m["call"]["state"] for m in inbox.take("/v2/me/calls")] != ["Held"]


@probe("notification-schema-invalid")
async def sees_notification_schema_invalid(server: Server) -> bool:
    inbox = server.listen("agent1")
    await ringing_call(server)
    return any(validate_notification(topic, data) for topic, data in inbox.take_all())


@probe("released-call-without-capabilities")
async def sees_released_call_without_capabilities(server: Server) -> bool:
    inbox = server.listen("agent1")
    mine, _ = await ringing_call(server)
    assert (await server.post("agent1", f"/me/calls/{mine}", {"operationName": "Hangup"}))["statusCode"] == 0
    calls = [m["call"] for m in inbox.take("/v2/me/calls")]
    assert [c["state"] for c in calls][-1] == "Released" and "capabilities" in calls[0]  # only Released is touched
    return any(habits.capabilities_breach("/v2/me/calls", {"call": call}) for call in calls)


@probe("revoked-interaction-without-capabilities")
async def sees_revoked_interaction_without_capabilities(server: Server) -> bool:
    inbox = server.listen("agent1")
    assert (await server.post("agent1", "/me", {"operationName": "Ready"}))["statusCode"] == 0
    email = await server.stimulate("/emails", {**EMAIL, "agentId": USER_ID["agent1"]})
    await server.stimulate(f"/interactions/{email['interactionId']}/revoke", {"agentId": USER_ID["agent1"]})
    messages = inbox.take("/v2/me/interactions")
    assert [m["state"] for m in messages] == ["Invited", "Revoked"], messages
    return any(habits.capabilities_breach("/v2/me/interactions", m) for m in messages)


@probe("message-without-message-type")
async def sees_message_without_message_type(server: Server) -> bool:
    inbox = server.listen("agent1")
    assert (await server.post("agent1", "/me", {"operationName": "Ready"}))["statusCode"] == 0
    await ringing_call(server)
    body = {"operationName": "ChangePassword", "oldPassword": b64("agent1-secret"), "newPassword": b64("n3w-secret")}
    assert (await server.post("agent1", "/me", body))["statusCode"] == 0
    messages = inbox.take_all()
    assert {"/v2/me/channels", "/v2/me", "/v2/me/calls"} <= {topic for topic, _ in messages}
    # Where GWS-NOTIF-002 demands a type, it stays: only the SHOULD tells this server from a clean one.
    assert not any(validate_notification(topic, data) for topic, data in messages)
    return any(habits.message_type_breach(topic, data) for topic, data in messages)


@probe("notification-late")
async def sees_notification_late(server: Server) -> bool:
    inbox = server.listen("agent1")
    assert (await server.post("agent1", "/me", {"operationName": "Ready"}))["statusCode"] == 0
    if inbox.take("/v2/me/channels"):
        return False  # on time
    # Late, not lost: it arrives after the configured delay (0.2 s here; the bound only guards a hang).
    await asyncio.wait_for(inbox.subscription.wait(), timeout=5)
    return bool(inbox.take("/v2/me/channels"))


@probe("notification-other-user")
async def sees_notification_other_user(server: Server) -> bool:
    bystander = server.listen("agent2")
    assert (await server.post("agent1", "/me", {"operationName": "Ready"}))["statusCode"] == 0
    return bool(bystander.take_all())


# security


@probe("no-authentication")
async def sees_no_authentication(server: Server) -> bool:
    status, body = await server.request(None, "GET", "/users")
    wrong = await server.client.get(API + "/me", auth=("agent1", "wrong"))
    return (status, body["statusCode"]) == (200, 0) and wrong.status_code == 200


@probe("no-session-cookie")
async def sees_no_session_cookie(server: Server) -> bool:
    signed_in = await server.client.get(API + "/me", auth=CREDENTIALS["agent1"])
    cookie_only = await server.client.get(API + "/me")  # the client sends whatever cookie it was given
    return "set-cookie" not in signed_in.headers and cookie_only.status_code == 401


@probe("basic-utf8-only")
async def sees_basic_utf8_only(server: Server) -> bool:
    password = "Kennwort-ä1"
    created = await server.post("admin", "/users", {"userName": "latin", "password": password})
    assert created["statusCode"] == 0
    latin_1 = base64.b64encode(f"latin:{password}".encode("iso-8859-1")).decode()
    server.client.cookies.clear()  # the admin's session cookie must not answer for the credentials
    reply = await server.client.get(API + "/me", headers={"authorization": f"Basic {latin_1}"})
    return reply.status_code == 401


@probe("no-role-check")
async def sees_no_role_check(server: Server) -> bool:
    return (await server.get("agent1", "/settings"))["statusCode"] == 0


@probe("other-agents-objects")
async def sees_other_agents_objects(server: Server) -> bool:
    return (await server.get("agent1", f"/devices/{DEVICE_ID['agent2']}"))["statusCode"] == 0


@probe("users-topic-open-to-agents")
async def sees_users_topic_open_to_agents(server: Server) -> bool:
    client_id = (await server.handshake("agent1"))["clientId"]
    subscribe = {"channel": "/meta/subscribe", "clientId": client_id, "subscription": "/v2/users", "id": "2"}
    (reply,) = await server.bayeux("agent1", subscribe)
    return reply["successful"] is True


# protocol


@probe("handshake-without-client-id")
async def sees_handshake_without_client_id(server: Server) -> bool:
    reply = await server.handshake("agent1")
    return reply["successful"] is True and "clientId" not in reply


@probe("connect-never-held")
async def sees_connect_never_held(server: Server) -> bool:
    client_id = (await server.handshake("agent1"))["clientId"]
    connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"}
    await server.bayeux("agent1", {**connect, "id": "2"})  # the first connect is answered at once
    second = asyncio.create_task(server.bayeux("agent1", {**connect, "id": "3"}))
    # Held means "not answered yet": a short bound is the only way to observe that (the advised timeout is 30 s).
    done, _ = await asyncio.wait({second}, timeout=0.3)
    if not done:  # release it: a disconnect answers the held connect
        await server.bayeux("agent1", {"channel": "/meta/disconnect", "clientId": client_id, "id": "4"})
    (reply,) = [r for r in await second if r["channel"] == "/meta/connect"]
    return bool(done) and reply["successful"] is True


@probe("unknown-client-accepted")
async def sees_unknown_client_accepted(server: Server) -> bool:
    connect = {"channel": "/meta/connect", "clientId": "made-up", "connectionType": "long-polling", "id": "1"}
    (reply,) = await server.bayeux("agent1", connect)
    return reply["successful"] is True


@probe("connect-without-advice")
async def sees_connect_without_advice(server: Server) -> bool:
    client_id = (await server.handshake("agent1"))["clientId"]
    connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling", "id": "2"}
    (reply,) = await server.bayeux("agent1", connect)
    return reply["successful"] is True and "advice" not in reply


@probe("bayeux-ext-refused")
async def sees_bayeux_ext_refused(server: Server) -> bool:
    handshake = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
    (reply,) = await server.bayeux("agent1", {**handshake, "id": "1", "ext": {"ack": True}})
    return reply["successful"] is False


@probe("accept-json-only")
async def sees_accept_json_only(server: Server) -> bool:
    response = await server.client.get(API + "/me", auth=CREDENTIALS["agent1"], headers={"Accept": "*/*"})
    return response.status_code == 406


@probe("bayeux-one-request-per-client")
async def sees_one_request_per_client(server: Server) -> bool:
    client_id = (await server.handshake("agent1"))["clientId"]
    connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"}
    await server.bayeux("agent1", {**connect, "id": "2", "advice": {"timeout": 0}})
    held = asyncio.ensure_future(server.bayeux("agent1", {**connect, "id": "3", "advice": {"timeout": 2000}}))
    await asyncio.sleep(0)  # let the held connect take its place first, as its POST would on the wire
    subscribe = {"channel": "/meta/subscribe", "clientId": client_id, "subscription": "/v2/me", "id": "4"}
    await server.bayeux("agent1", subscribe)
    waited_for_the_connect = held.done()
    await held
    return waited_for_the_connect


@probe("meta-reply-without-id")
async def sees_meta_reply_without_id(server: Server) -> bool:
    return "id" not in await server.handshake("agent1")


@probe("unsubscribe-ignored")
async def sees_unsubscribe_ignored(server: Server) -> bool:
    client_id = (await server.handshake("agent1"))["clientId"]
    meta = {"clientId": client_id, "subscription": "/v2/me/channels"}
    await server.bayeux("agent1", {"channel": "/meta/subscribe", "id": "2", **meta})
    (left,) = await server.bayeux("agent1", {"channel": "/meta/unsubscribe", "id": "3", **meta})
    # A channel change after the unsubscribe: a client that left /v2/me/channels must not get it.
    await server.post("agent1", "/me/channels/voice", {"operationName": "Ready"})
    connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling", "id": "4"}
    replies = await server.bayeux("agent1", {**connect, "advice": {"timeout": 0}})
    replies += await server.bayeux("agent1", {**connect, "id": "5", "advice": {"timeout": 0}})
    return left["successful"] is True and any(r.get("channel") == "/v2/me/channels" for r in replies)


@probe("disconnect-keeps-client")
async def sees_disconnect_keeps_client(server: Server) -> bool:
    client_id = (await server.handshake("agent1"))["clientId"]
    (gone,) = await server.bayeux("agent1", {"channel": "/meta/disconnect", "clientId": client_id, "id": "2"})
    connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling", "id": "3"}
    (after,) = await server.bayeux("agent1", {**connect, "advice": {"timeout": 0}})
    return gone["successful"] is True and after["successful"] is True


@probe("bayeux-subpaths-404")
async def sees_bayeux_subpaths_404(server: Server) -> bool:
    handshake = {"channel": "/meta/handshake", "id": "1", "version": "1.0"}
    response = await server.client.post(NOTIFICATIONS + "/handshake", json=[handshake], auth=CREDENTIALS["agent1"])
    return response.status_code == 404


@probe("wildcard-subscriptions-refused")
async def sees_wildcard_subscriptions_refused(server: Server) -> bool:
    client_id = (await server.handshake("agent1"))["clientId"]
    subscribe = {"channel": "/meta/subscribe", "clientId": client_id, "subscription": "/v2/me/*", "id": "2"}
    (reply,) = await server.bayeux("agent1", subscribe)
    return reply["successful"] is False and reply["subscription"] == "/v2/me/*"


@probe("connect-timeout-zero-held")
async def sees_connect_timeout_zero_held(server: Server) -> bool:
    client_id = (await server.handshake("agent1"))["clientId"]
    connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"}
    await server.bayeux("agent1", {**connect, "id": "2"})  # the first connect is answered at once
    second = asyncio.create_task(server.bayeux("agent1", {**connect, "id": "3", "advice": {"timeout": 0}}))
    # As for connect-never-held: "held" is "not answered yet" after a short bound.
    done, _ = await asyncio.wait({second}, timeout=0.3)
    if not done:
        await server.bayeux("agent1", {"channel": "/meta/disconnect", "clientId": client_id, "id": "4"})
    await second
    return not done


# session and list isolation (E97, E98)


@probe("foreign-client-accepted")
async def sees_foreign_client_accepted(server: Server) -> bool:
    client_id = (await server.handshake("agent1"))["clientId"]
    connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling", "id": "2"}
    (reply,) = await server.bayeux("agent2", {**connect, "advice": {"timeout": 0}})
    return reply["successful"] is True


@probe("users-list-leaks-devices")
async def sees_users_list_leaks_devices(server: Server) -> bool:
    users = (await server.get("agent1", "/users", fields="*", subresources="devices"))["users"]
    others = [u for u in users if u["id"] != USER_ID["agent1"]]
    assert others and any("devices" in u for u in users)  # agent1's own entry keeps its devices
    return any("devices" in u for u in others)


# GWS-HOST (E93-E96): an unplanned 500 surfaces through ASGITransport as the exception itself.


async def _crashes(call: Awaitable[httpx.Response]) -> bool:
    try:
        response = await call
    except Exception:
        return True
    return response.status_code >= 500


@probe("credentials-undecodable-500")
async def sees_credentials_undecodable_500(server: Server) -> bool:
    return await _crashes(server.client.get(API + "/me", headers={"Authorization": b"Basic \xff\xfe\xfd"}))


@probe("deep-json-500")
async def sees_deep_json_500(server: Server) -> bool:
    deep = b"[" * 10_000 + b"]" * 10_000
    return await _crashes(server.client.post(NOTIFICATIONS, content=deep, headers={"Content-Type": "application/json"}))


@probe("lone-surrogate-accepted")
async def sees_lone_surrogate_accepted(server: Server) -> bool:
    handshake = b'[{"channel":"/meta/handshake","id":"\\ud800","supportedConnectionTypes":["long-polling"]}]'
    response = await server.client.post(
        NOTIFICATIONS, content=handshake, headers={"Content-Type": "application/json"}, auth=CREDENTIALS["agent1"]
    )
    return response.status_code == 200 and response.json()[0]["successful"] is True


@probe("bayeux-no-body-limit")
async def sees_bayeux_no_body_limit(server: Server) -> bool:
    oversized = b"[" + b" " * (1024 * 1024) + b"]"
    response = await server.client.post(NOTIFICATIONS, content=oversized, headers={"Content-Type": "application/json"})
    return response.status_code != 413


@probe("no-session-limit")
async def sees_no_session_limit(server: Server) -> bool:
    first = (await server.handshake("agent1"))["clientId"]
    for _ in range(100):
        await server.handshake("agent1")
    connect = {"channel": "/meta/connect", "clientId": first, "id": "2", "advice": {"timeout": 0}}
    (reply,) = await server.bayeux("agent1", {**connect, "connectionType": "long-polling"})
    return reply["successful"] is True


@probe("control-bytes-500")
async def sees_control_bytes_500(server: Server) -> bool:
    return await _crashes(server.client.get(API + "/me", params={"fields": "id\x00"}, auth=CREDENTIALS["agent1"]))


@probe("no-header-limit")
async def sees_no_header_limit(server: Server) -> bool:
    response = await server.client.get(API + "/me", headers={"X-Probe": "a" * 256 * 1024}, auth=CREDENTIALS["agent1"])
    return response.status_code == 200


@probe("hostile-no-query-limit")
async def sees_hostile_no_query_limit(server: Server) -> bool:
    response = await server.client.get(API + "/me", params={"_": "a" * 16 * 1024}, auth=CREDENTIALS["agent1"])
    return response.status_code != 414


@probe("hostile-websocket-drop")
async def sees_hostile_websocket_drop(server: Server) -> bool:
    """A frame past the limit, straight through ASGI: a clean server closes with 1009; the faulty one's exception
    leaves the socket to be dropped (what uvicorn does with an app that raises)."""
    user, password = CREDENTIALS["agent1"]
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    scope = {
        "type": "websocket",
        "path": NOTIFICATIONS,
        "raw_path": NOTIFICATIONS.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"authorization", f"Basic {token}".encode())],
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "subprotocols": [],
        "root_path": "",
        "asgi": {"version": "3.0"},
    }
    incoming = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "[" + " " * (1024 * 1024) + "]"},
        {"type": "websocket.disconnect", "code": 1000},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        await server.app(scope, receive, send)
    except RuntimeError:
        return True
    return not any(m["type"] == "websocket.close" and m.get("code") == 1009 for m in sent)


# Session security (E102, E103).


@probe("session-survives-password-change")
async def sees_session_survives_password_change(server: Server) -> bool:
    await server.client.get(API + "/me", auth=CREDENTIALS["agent3"])  # the Basic sign-in opens a cookie session
    cookie = f"GWS_SESSIONID={server.client.cookies['GWS_SESSIONID']}"
    reset = {"operationName": "ResetPassword", "newPassword": base64.b64encode(b"Changed-3").decode()}
    assert (await server.post("admin", f"/users/{USER_ID['agent3']}", reset))["statusCode"] == 0
    return (await server.client.get(API + "/me", headers={"Cookie": cookie})).status_code == 200


@probe("session-csrf-not-checked")
async def sees_session_csrf_not_checked(server: Server) -> bool:
    signed_in = await server.client.get(API + "/me", auth=CREDENTIALS["agent1"])
    forged = await server.client.post(API + "/me", json={"operationName": "NotReady"})  # the cookie alone, no token
    return "X-CSRF-TOKEN" in signed_in.headers and forged.json()["statusCode"] == 0


@probe("session-interactions-listed-to-everyone")
async def sees_session_interactions_listed_to_everyone(server: Server) -> bool:
    assert (await server.post("agent2", "/me/channels/email", {"operationName": "Ready"}))["statusCode"] == 0
    email = {"fromAddress": "c@example.test", "toAddress": "s@example.test", "subject": "probe"}
    offered = await server.stimulate("/emails", {**email, "agentId": USER_ID["agent2"]})
    listed = await server.get("agent1", "/interactions", fields="*")
    return any(ix.get("id") == offered["interactionId"] for ix in listed.get("interactions", []))


async def channel_states(server: Server, toggles: int) -> list[str]:
    """agent1 goes Ready and NotReady in turn ``toggles`` times: the voice states its channel messages report."""
    inbox = server.listen("agent1")
    for index in range(toggles):
        assert (await server.post("agent1", "/me", {"operationName": ("Ready", "NotReady")[index % 2]}))[
            "statusCode"
        ] == 0
    return [
        next(c["userState"]["state"] for c in m["channels"] if c["channel"] == "voice")
        for m in inbox.take("/v2/me/channels")
    ]


@probe("load-drop-one-in-thousand")
async def sees_load_drop(server: Server) -> bool:
    return len(await channel_states(server, 12)) < 12


@probe("load-duplicate-one-in-thousand")
async def sees_load_duplicate(server: Server) -> bool:
    return len(await channel_states(server, 12)) > 12


@probe("load-reorder-one-in-thousand")
async def sees_load_reorder(server: Server) -> bool:
    # The last message held back may still wait for a next one: only the order of what arrived is compared.
    states = await channel_states(server, 12)
    return len(states) >= 10 and states != (["Ready", "NotReady"] * 6)[: len(states)]


# passive conformance: sequence rules (issue 12)


@probe("call-revived-after-release")
async def sees_call_revived_after_release(server: Server) -> bool:
    inbox = server.listen("agent2")
    mine = await established_call(server)
    assert (await server.post("agent1", f"/me/calls/{mine}", {"operationName": "Hangup"}))["statusCode"] == 0
    states = [data["call"]["state"] for data in inbox.take("/v2/me/calls")]
    return "Released" in states and states[states.index("Released") + 1 :] != []


@probe("message-redelivered")
async def sees_message_redelivered(server: Server) -> bool:
    client = (await server.handshake("agent2"))["clientId"]
    await server.bayeux(
        "agent2", {"channel": "/meta/subscribe", "id": "2", "clientId": client, "subscription": "/v2/me/calls"}
    )
    await ringing_call(server)
    connect = {"channel": "/meta/connect", "id": "3", "clientId": client, "connectionType": "long-polling"}
    replies = await server.bayeux("agent2", {**connect, "advice": {"timeout": 0}})
    ids = [m.get("id") for m in replies if m.get("channel") == "/v2/me/calls"]
    return len(ids) != len(set(ids))


# -- the tests -------------------------------------------------------------------------------------------


def test_every_fault_has_a_probe() -> None:
    assert sorted(PROBES) == sorted(REGISTRY)


@pytest.mark.parametrize("name", sorted(REGISTRY))
async def test_the_fault_happens_only_when_active(name: str) -> None:
    async with served(SPECS.get(name, name)) as faulty:
        assert await PROBES[name](faulty), f"{name} active, yet its violation did not happen"
    async with served() as clean:
        assert not await PROBES[name](clean), f"the clean server shows the violation {name} probes for"


# Requests every fault must leave answered (by a planned answer, never an unplanned 5xx).
SMOKE = [
    ("agent1", "GET", "/me", None),
    ("admin", "GET", "/users", None),
    ("admin", "GET", "/users/no-such-user", None),
    ("admin", "POST", "/users", {}),
    ("agent1", "POST", "/me", {"operationName": "NotReady"}),
]


@pytest.mark.parametrize("name", sorted(REGISTRY))
async def test_a_fault_leaves_the_rest_of_the_server_answering(name: str) -> None:
    async with served(SPECS.get(name, name)) as server:
        for who, method, path, body in SMOKE:
            status, reply = await server.request(who, method, path, body)
            assert isinstance(reply, dict)
            assert status < 500 or name == "server-error-for-bad-input", (method, path, status, reply)
        assert (await server.handshake("agent1"))["successful"] is True


def test_the_registry_spans_every_category_with_at_least_30_faults() -> None:
    assert len(REGISTRY) >= 30
    assert {fault.category for fault in REGISTRY.values()} == set(CATEGORIES)


def test_every_fault_names_requirements_of_the_catalogue() -> None:
    known = {r["id"] for r in contract.load_document("requirements.yaml")["requirements"]}
    for fault in REGISTRY.values():
        assert fault.requirements, fault.name
        assert set(fault.requirements) <= known, (fault.name, set(fault.requirements) - known)


def test_every_fault_is_described_in_one_sentence_with_the_check_that_should_catch_it() -> None:
    for fault in REGISTRY.values():
        assert fault.description.endswith(".") and fault.caught_by.startswith("Caught by "), fault.name
        assert fault.name == fault.name.lower() and " " not in fault.name


def test_fault_list_prints_every_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--fault", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == describe()
    for name in REGISTRY:
        assert name in out


def test_an_unknown_fault_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--fault", "no-such-fault"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "no-such-fault" in captured.err


def test_fault_values_are_checked() -> None:
    assert Faults.parse(["notification-late=2.5"]).names == ("notification-late",)
    for spec in ("nope", "hold-not-applied=3", "notification-late=soon", "notification-late=-1"):
        with pytest.raises(UnknownFault):
            Faults.parse([spec])
    with pytest.raises(UnknownFault):
        create_app(Store.from_file(), faults=("nope",))


def test_no_fault_means_no_seam_is_installed() -> None:
    app = create_app(Store.from_file())
    assert not app.state.faults and app.state.faults.publish_filter() is None
    assert app.state.faults.bayeux_filters() == {}
