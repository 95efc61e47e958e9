"""What the multimedia tests share: agents at their desks, the stimulus API, a snapshot of the contact
center's multimedia side. Every REST reply is checked against spec/openapi.yaml (reference_support.Api)
and every notification against spec/topics.yaml + spec/notifications/ as it is read."""

from __future__ import annotations

import json
from typing import Any

from reference_support import Api

from conformance.habits import notification_breaches
from conformance.notifications import validate_notification
from reference_impl.events import Subscription
from reference_impl.handlers.multimedia import multimedia

INTERACTIONS = "/v2/me/interactions"
WORKBINS = "/v2/me/workbins"
CALLS = "/v2/me/calls"

# The fixture's agents (fixtures/contact-center.yaml).
AGENTS = {
    "agent1": ("53f0ad8d0e0d4111a0681f7bf586434e", "agent1-secret"),
    "agent2": ("b1ce6166bbe64ab885164d64b36a95ff", "agent2-secret"),
    "agent3": ("43363db1e27641309aecd413527937f9", "agent3-secret"),
    "agent4": ("d73de3d527c344aa951753b92cc1ca1e", "agent4-secret"),
    "supervisor": ("d1b56d3a3a9849dc8a8d6874123270ab", "supervisor-secret"),
}
TEST_WORKBIN = "e7f4d4a1222f4a0295b23ff034ba4c1f"
EMAIL = {
    "fromAddress": "customer@example.test",
    "toAddress": "support@example.test",
    "subject": "My order",
    "text": "Where is it?\nIt was due Monday.",
}


class Agent:
    """One fixture user at the desk: REST calls as that user, and its CometD messages."""

    def __init__(self, api: Api, name: str) -> None:
        self.api = api
        self.name = name
        self.id, password = AGENTS[name]
        self.auth = (name, password)
        self.inbox: Subscription = api.app.state.bus.subscribe(self.id)
        # interaction id -> the state this agent last saw it in: what classifies the next message
        self.seen: dict[str, str] = {}
        self.unread: list[tuple[str, dict[str, Any]]] = []

    async def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.api.call(None, method, path, auth=self.auth, **kwargs)
        body: dict[str, Any] = response.json()
        return body

    async def ok(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = await self.call(method, path, **kwargs)
        assert body["statusCode"] == 0, body
        return body

    async def refused(self, status_code: int | tuple[int, ...], method: str, path: str, **kwargs: Any) -> str:
        """The request is refused with ``status_code``, changes nothing and sends nobody anything."""
        before = snapshot(self.api)
        body = await self.call(method, path, **kwargs)
        codes = status_code if isinstance(status_code, tuple) else (status_code,)
        assert body["statusCode"] in codes, body
        assert snapshot(self.api) == before, f"refused {method} {path} changed the contact center"
        assert not self.messages(topic=None), "a refused request sent a message"
        message: str = body["statusMessage"]
        return message

    # -- operations, named as in the reference ----------------------------------------------------

    async def ready(self) -> None:
        await self.ok("POST", "/me", json_body={"operationName": "Ready"})
        self.messages(topic=None)  # the agent-state messages are not what these tests read

    async def not_ready(self) -> None:
        await self.ok("POST", "/me", json_body={"operationName": "NotReady"})
        self.messages(topic=None)

    async def operate(self, interaction_id: str, operation: str, **attributes: Any) -> dict[str, Any]:
        body = {"operationName": operation, **attributes}
        return await self.ok("POST", "/me/interactions/{id}", id=interaction_id, json_body=body)

    async def my_interactions(self) -> dict[str, dict[str, Any]]:
        """GET /me/interactions?fields=*, by id (and the uris without fields name the same ones)."""
        uris = (await self.ok("GET", "/me/interactions"))["uris"]
        objects = (await self.ok("GET", "/me/interactions", params={"fields": "*"}))["interactions"]
        assert sorted(uri.rsplit("/", 1)[1] for uri in uris) == sorted(o["id"] for o in objects)
        return {o["id"]: o for o in objects}

    # -- notifications ----------------------------------------------------------------------------

    def messages(self, topic: str | None = INTERACTIONS) -> list[dict[str, Any]]:
        """The messages on ``topic`` (on every topic when None) received since they were last read,
        each checked against its contract on arrival; those of other topics stay to be read."""
        for message_topic, data in self.inbox.drain():
            previous = self.seen.get(str(data.get("id"))) if message_topic == INTERACTIONS else None
            problems = validate_notification(message_topic, data, previous_state=previous)
            problems += [breach.line() for breach in notification_breaches(message_topic, data)]
            assert not problems, f"{self.name} got a message breaking its contract: {problems}\n{data}"
            if message_topic == INTERACTIONS:
                self.seen[data["id"]] = data["state"]
            self.unread.append((message_topic, data))
        taken = [data for message_topic, data in self.unread if topic is None or message_topic == topic]
        self.unread = [(t, data) for t, data in self.unread if not (topic is None or t == topic)]
        return taken

    def message(self, topic: str = INTERACTIONS) -> dict[str, Any]:
        """The one message queued on ``topic`` (no other message may be waiting there)."""
        messages = self.messages(topic)
        assert len(messages) == 1, f"{self.name}: expected one message on {topic}, got {messages}"
        return messages[0]

    def assert_quiet(self) -> None:
        assert self.messages(topic=None) == [], f"{self.name} got messages"


async def stimulate(api: Api, path: str, body: dict[str, Any] | None = None, *, status_code: int = 0) -> dict[str, Any]:
    """POST /stimulus/...: the outside world does something."""
    response = await api.client.post(f"/stimulus{path}", json=body if body is not None else {})
    reply: dict[str, Any] = response.json()
    assert reply["statusCode"] == status_code, reply
    assert response.status_code == {0: 200, 1: 400, 2: 400, 3: 403, 6: 404}[status_code]
    return reply


async def inbound_email(api: Api, **overrides: Any) -> str:
    reply = await stimulate(api, "/emails", {**EMAIL, **overrides})
    interaction_id: str = reply["interactionId"]
    return interaction_id


async def accepted_email(agent: Agent, **overrides: str) -> str:
    """An inbound e-mail offered to ``agent`` (Ready on email) and accepted: the id of the interaction."""
    interaction_id = await inbound_email(agent.api, agentId=agent.id, **overrides)
    assert agent.message()["state"] == "Invited"
    await agent.operate(interaction_id, "Accept")
    assert agent.message()["state"] == "Accepted"
    return interaction_id


def snapshot(api: Api) -> str:
    """Everything of the multimedia side an operation could change, as one comparable string."""
    store = api.store
    interactions = {}
    for interaction in store.interactions.values():
        views = getattr(interaction, "views", {})
        interactions[interaction.id] = {
            "state": interaction.state,
            "owner": getattr(interaction, "owner", None),
            "queue": interaction.current_queue,
            "userData": interaction.user_data,
            "content": repr(getattr(interaction, "content", None)),
            "attachments": getattr(interaction, "attachments", None),
            "events": len(getattr(interaction, "events", ())),
            "views": {user: (view.state, view.party_id) for user, view in views.items()},
            "invitation": repr(getattr(interaction, "invitation", None)),
            "conference": getattr(interaction, "conference", None),
            "workbin": getattr(getattr(interaction, "workbin", None), "id", None),
        }
    # Workbin views are made on first use: only those holding something or subscribed say anything.
    workbins = {
        f"{w.owner}/{w.id}": (w.subscribed, list(w.items))
        for w in multimedia(store).all_workbins()
        if w.subscribed or w.items
    }
    calls = {leg_id: (leg.state, list(leg.call.externals)) for leg_id, leg in store.telephony.legs.items()}
    return json.dumps(
        {"interactions": interactions, "workbins": workbins, "attachments": sorted(store.attachments), "calls": calls},
        sort_keys=True,
        default=str,
    )
