"""The CometD server (reference_impl/bayeux.py) against raw HTTP/websocket exchanges and aiocometd-noloop.

Each test serves a tiny app (Bayeux routes + a publish route) with uvicorn on 127.0.0.1. Waiting is on
awaited events with deadlines; the only durations measured are the ones the protocol defines (the held
connect's timeout), and their bounds are loose.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any, Self

import aiocometd_noloop as aiocometd
import bayeux_live
import httpx
import pytest
import websockets
from aiocometd_noloop.exceptions import ServerError
from bayeux_live import (
    PUBLISH_PATH,
    LiveServer,
    basic,
    contract_errors,
    contract_schemas_present,
    serve,
)

from reference_impl.bayeux import SERVER_ID_PREFIX, channel_matches

pytestmark = [
    pytest.mark.anyio,
    # aiocometd-noloop passes arguments aiohttp has deprecated; not ours to fix, and not a server fault.
    pytest.mark.filterwarnings("ignore:float parameter 'receive_timeout' is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:ssl=None is deprecated:DeprecationWarning"),
]

TIMEOUT_MS = 2000
DEADLINE_S = 10.0  # no single wait in these tests may take longer


@pytest.fixture
def live() -> Iterator[LiveServer]:
    with serve(timeout_ms=TIMEOUT_MS) as server:
        yield server


# raw protocol helpers ------------------------------------------------------------------------------


class Bayeux:
    """A hand-driven long-polling client: every reply it sees is checked against the contract."""

    def __init__(self, live: LiveServer, user: str) -> None:
        self.live = live
        self.http = httpx.AsyncClient(headers={"Authorization": basic(user)}, timeout=DEADLINE_S)
        self.client_id: str | None = None
        self._ids = iter(range(1, 1_000_000))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def send(self, *messages: dict[str, Any], suffix: str = "") -> list[dict[str, Any]]:
        payload = [{"id": str(next(self._ids)), "clientId": self.client_id, **m} for m in messages]
        response = await self.http.post(self.live.url + suffix, json=payload)
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = response.json()
        for reply in replies:
            assert contract_errors(reply) == [], reply
        return replies

    async def handshake(self) -> dict[str, Any]:
        [reply] = await self.send(
            {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
        )
        self.client_id = reply["clientId"]
        return reply

    async def connect(self, suffix: str = "") -> list[dict[str, Any]]:
        return await self.send({"channel": "/meta/connect", "connectionType": "long-polling"}, suffix=suffix)

    async def subscribe(self, topic: str) -> dict[str, Any]:
        [reply] = await self.send({"channel": "/meta/subscribe", "subscription": topic})
        return reply


async def publish(
    live: LiveServer, user: str, data: dict[str, Any], *, for_user: str | None = None, topic: str = "/v2/me/calls"
) -> None:
    body: dict[str, Any] = {"topic": topic, "data": data}
    if for_user is not None:
        body["user"] = for_user
    async with httpx.AsyncClient(headers={"Authorization": basic(user)}, timeout=DEADLINE_S) as http:
        response = await http.post(live.base_url + PUBLISH_PATH, json=body)
    assert response.status_code == 200, response.text


def only(replies: list[dict[str, Any]], channel: str) -> dict[str, Any]:
    [reply] = [r for r in replies if r["channel"] == channel]
    return reply


def events(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in replies if not r["channel"].startswith("/meta/")]


# handshake and authentication ----------------------------------------------------------------------


async def test_handshake_reply_offers_served_transports_and_advice(live: LiveServer) -> None:
    async with Bayeux(live, "agent1") as bayeux:
        reply = await bayeux.handshake()
    assert reply["successful"] is True
    assert reply["channel"] == "/meta/handshake"
    assert reply["id"] == "1"
    assert reply["version"] == "1.0"
    assert reply["supportedConnectionTypes"] == ["websocket", "long-polling"]
    assert reply["advice"] == {"reconnect": "retry", "interval": 0, "timeout": TIMEOUT_MS}
    assert isinstance(reply["clientId"], str) and reply["clientId"]


@pytest.mark.parametrize("authorization", [None, basic("agent1", "wrong")])
async def test_unauthenticated_handshake_is_refused_with_401(live: LiveServer, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with httpx.AsyncClient(headers=headers, timeout=DEADLINE_S) as http:
        response = await http.post(live.url, json=[{"channel": "/meta/handshake", "id": "1", "version": "1.0"}])
    assert response.status_code == 401
    [reply] = response.json()
    assert reply["successful"] is False
    assert reply["error"].startswith("401:")
    assert reply["id"] == "1"
    assert live.bayeux.client_count == 0


async def test_every_meta_message_is_answered_at_its_message_type_sub_path(live: LiveServer) -> None:
    # Where the CometD JavaScript client (appendMessageTypeToURL) and the Java client post them (E84).
    async with Bayeux(live, "agent1") as bayeux:
        [handshake] = await bayeux.send(
            {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]},
            suffix="/handshake",
        )
        bayeux.client_id = handshake["clientId"]
        subscribe = {"channel": "/meta/subscribe", "subscription": "/v2/me/calls"}
        [subscribed] = await bayeux.send(subscribe, suffix="/subscribe")
        assert subscribed["successful"] is True
        assert only(await bayeux.connect(suffix="/connect"), "/meta/connect")["successful"] is True
        await publish(live, "agent1", {"marker": "at the sub-path"})
        delivered = await bayeux.connect(suffix="/connect")
        [left] = await bayeux.send({**subscribe, "channel": "/meta/unsubscribe"}, suffix="/unsubscribe")
        [gone] = await bayeux.send({"channel": "/meta/disconnect"}, suffix="/disconnect")
    assert [e["data"] for e in events(delivered)] == [{"marker": "at the sub-path"}]
    assert left["successful"] is True and gone["successful"] is True
    assert live.bayeux.client_count == 0


async def test_malformed_body_is_a_400(live: LiveServer) -> None:
    async with httpx.AsyncClient(headers={"Authorization": basic("agent1")}, timeout=DEADLINE_S) as http:
        response = await http.post(live.url, content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


# connect: immediate first, then held ---------------------------------------------------------------


async def test_first_connect_answers_at_once_and_the_next_is_held_until_the_timeout(
    live: LiveServer, record_property: Any
) -> None:
    loop = asyncio.get_running_loop()
    async with Bayeux(live, "agent1") as bayeux:
        await bayeux.handshake()
        started = loop.time()
        first = only(await bayeux.connect(), "/meta/connect")
        first_s = loop.time() - started
        started = loop.time()
        held = await bayeux.connect()
        held_s = loop.time() - started
    record_property("first_connect_s", round(first_s, 3))
    record_property("held_connect_s", round(held_s, 3))
    assert first["successful"] is True and first["advice"]["reconnect"] == "retry"
    assert first_s < 0.5 * TIMEOUT_MS / 1000
    assert only(held, "/meta/connect")["successful"] is True
    assert events(held) == []
    assert 0.9 * TIMEOUT_MS / 1000 <= held_s <= TIMEOUT_MS / 1000 + 1.5


async def test_held_connect_returns_early_with_a_published_message(live: LiveServer, record_property: Any) -> None:
    loop = asyncio.get_running_loop()
    async with Bayeux(live, "agent1") as bayeux:
        await bayeux.handshake()
        assert (await bayeux.subscribe("/v2/me/calls"))["successful"] is True
        await bayeux.connect()
        held = live.request_seen("/connect", loop)
        connect = asyncio.create_task(bayeux.connect(suffix="/connect"))
        await asyncio.wait_for(held.wait(), DEADLINE_S)
        published = loop.time()
        await publish(live, "agent1", {"marker": "early"})
        replies = await asyncio.wait_for(connect, DEADLINE_S)
        latency_s = loop.time() - published
    record_property("held_connect_early_return_s", round(latency_s, 4))
    [event] = events(replies)
    assert event["channel"] == "/v2/me/calls" and event["data"] == {"marker": "early"}
    assert event["id"].startswith(SERVER_ID_PREFIX)
    assert only(replies, "/meta/connect")["successful"] is True
    assert latency_s < 0.5 * TIMEOUT_MS / 1000


async def test_a_new_connect_releases_the_held_one(live: LiveServer) -> None:
    loop = asyncio.get_running_loop()
    async with Bayeux(live, "agent1") as bayeux:
        await bayeux.handshake()
        await bayeux.connect()
        held = live.request_seen("/connect", loop)
        first = asyncio.create_task(bayeux.connect(suffix="/connect"))
        await asyncio.wait_for(held.wait(), DEADLINE_S)
        started = loop.time()
        second = asyncio.create_task(bayeux.connect())
        replies = await asyncio.wait_for(first, DEADLINE_S)
        released_s = loop.time() - started
        assert only(replies, "/meta/connect")["successful"] is True
        assert released_s < 0.5 * TIMEOUT_MS / 1000
        await asyncio.wait_for(second, DEADLINE_S)


async def test_messages_published_before_the_subscription_are_not_delivered(live: LiveServer) -> None:
    async with Bayeux(live, "agent1") as bayeux:
        await bayeux.handshake()
        await publish(live, "agent1", {"marker": "too early"})
        await bayeux.subscribe("/v2/me/calls")
        await publish(live, "agent1", {"marker": "after"})
        replies = await bayeux.connect()
    assert [e["data"]["marker"] for e in events(replies)] == ["after"]


# sessions: unknown, foreign, expired, disconnected -------------------------------------------------


def assert_unknown_client(reply: dict[str, Any]) -> None:
    assert reply["successful"] is False
    assert reply["error"].startswith("402:")
    assert reply["advice"]["reconnect"] == "handshake"


@pytest.mark.parametrize("channel", ["/meta/connect", "/meta/subscribe", "/meta/unsubscribe", "/meta/disconnect"])
async def test_unknown_client_id_is_402_with_handshake_advice(live: LiveServer, channel: str) -> None:
    async with Bayeux(live, "agent1") as bayeux:
        bayeux.client_id = uuid.uuid4().hex
        [reply] = await bayeux.send({"channel": channel, "connectionType": "long-polling", "subscription": "/v2/me"})
    assert reply["channel"] == channel
    assert_unknown_client(reply)


async def test_a_client_id_is_unknown_to_another_user(live: LiveServer) -> None:
    async with Bayeux(live, "agent1") as owner, Bayeux(live, "agent2") as intruder:
        await owner.handshake()
        intruder.client_id = owner.client_id
        assert_unknown_client(await intruder.subscribe("/v2/me/calls"))
        assert_unknown_client(only(await intruder.connect(), "/meta/connect"))
        assert only(await owner.connect(), "/meta/connect")["successful"] is True


async def test_an_idle_session_expires(live: LiveServer) -> None:
    async with Bayeux(live, "agent1") as bayeux:
        await bayeux.handshake()
        await bayeux.connect()
        live.clock.now += live.bayeux.session_idle_ms / 1000 - 1
        assert (await bayeux.subscribe("/v2/me/calls"))["successful"] is True  # idle, but not for long enough
        live.clock.now += live.bayeux.session_idle_ms / 1000 + 1
        assert_unknown_client(only(await bayeux.connect(), "/meta/connect"))
    assert live.bayeux.client_count == 0


async def test_disconnect_ends_the_session(live: LiveServer) -> None:
    async with Bayeux(live, "agent1") as bayeux:
        await bayeux.handshake()
        [reply] = await bayeux.send({"channel": "/meta/disconnect"})
        assert reply["successful"] is True
        assert_unknown_client(only(await bayeux.connect(), "/meta/connect"))


async def test_a_revoked_session_delivers_what_was_queued_before_and_then_is_unknown(live: LiveServer) -> None:
    # E102: a password change revokes the user's sessions; the outcome queued before it still reaches them.
    async with Bayeux(live, "agent1") as bayeux:
        await bayeux.handshake()
        await bayeux.subscribe("/v2/me/calls")
        await bayeux.connect()
        await publish(live, "agent1", {"marker": "before"})
        assert live.bayeux.revoke_clients("agent1") == 1
        await publish(live, "agent1", {"marker": "after"})
        assert_unknown_client(await bayeux.subscribe("/v2/me"))  # only a connect may still take what was left
        replies = await bayeux.connect()
        assert [e["data"]["marker"] for e in events(replies)] == ["before"]
        assert_unknown_client(only(replies, "/meta/connect"))
        assert_unknown_client(only(await bayeux.connect(), "/meta/connect"))
    assert live.bayeux.client_count == 0


async def test_a_revoked_session_with_nothing_queued_ends_at_once(live: LiveServer) -> None:
    async with Bayeux(live, "agent1") as bayeux, Bayeux(live, "agent2") as other:
        await bayeux.handshake()
        await other.handshake()
        assert live.bayeux.revoke_clients("agent1") == 1
        assert live.bayeux.client_count == 1  # agent2's session is not agent1's
        assert_unknown_client(only(await bayeux.connect(), "/meta/connect"))
        assert only(await other.connect(), "/meta/connect")["successful"] is True


async def test_a_websocket_whose_credentials_changed_is_refused_and_closed(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # E102: every frame is authenticated again with what the upgrade carried, as every long-polling POST is.
    url = live.url.replace("http://", "ws://")
    async with websockets.connect(url, additional_headers={"Authorization": basic("agent1")}) as ws:
        handshake = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["websocket"]}
        await ws.send(json.dumps([{**handshake, "id": "1"}]))
        [reply] = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
        assert reply["successful"] is True
        monkeypatch.setitem(bayeux_live.PASSWORDS, "agent1", "changed-pw")
        await ws.send(json.dumps([{**handshake, "id": "2"}]))
        [refused] = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
        assert refused["successful"] is False and refused["error"].startswith("401:") and refused["id"] == "2"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), DEADLINE_S)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


# topics ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "topic", "allowed"),
    [
        ("agent1", "/v2/me/calls", True),
        ("agent1", "/v2/me/*", True),
        ("agent1", "/v2/me/**", True),
        ("agent1", "/**", True),
        ("agent1", "/v2/no-such/*", False),  # a pattern matching no topic of the user is an unknown topic
        ("agent1", "/v2/users", False),
        ("supervisor", "/v2/users", True),
        ("agent1", "/v2/unknown", False),
        ("agent1", "/meta/connect", False),
    ],
)
async def test_subscription_is_limited_to_the_user_topics(
    live: LiveServer, user: str, topic: str, allowed: bool
) -> None:
    async with Bayeux(live, user) as bayeux:
        await bayeux.handshake()
        reply = await bayeux.subscribe(topic)
    assert reply["subscription"] == topic
    assert reply["successful"] is allowed
    if not allowed:
        assert reply["error"].startswith("403::") and topic in reply["error"]


async def test_unsubscribed_topic_stops_delivery(live: LiveServer) -> None:
    async with Bayeux(live, "agent1") as bayeux:
        await bayeux.handshake()
        await bayeux.subscribe("/v2/me/calls")
        [reply] = await bayeux.send({"channel": "/meta/unsubscribe", "subscription": "/v2/me/calls"})
        assert reply["successful"] is True and reply["subscription"] == "/v2/me/calls"
        await publish(live, "agent1", {"marker": "unwanted"})
        assert events(await bayeux.connect()) == []


async def test_clients_cannot_publish(live: LiveServer) -> None:
    async with Bayeux(live, "agent1") as bayeux:
        await bayeux.handshake()
        [reply] = await bayeux.send({"channel": "/v2/me/calls", "data": {"forged": True}})
    assert reply["successful"] is False and reply["error"].startswith("403:")


@pytest.mark.parametrize(
    ("pattern", "channel", "matches"),
    [
        ("/v2/me/*", "/v2/me/calls", True),
        ("/v2/me/*", "/v2/me", False),
        ("/v2/*", "/v2/me/calls", False),
        ("/v2/**", "/v2/me/calls", True),
        ("/v2/me", "/v2/me", True),
        ("/v2/me", "/v2/me/calls", False),
    ],
)
def test_channel_globbing(pattern: str, channel: str, matches: bool) -> None:
    assert channel_matches(pattern, channel) is matches


# websocket, raw ----------------------------------------------------------------------------------


async def test_websocket_pushes_messages_without_waiting_for_the_held_connect(live: LiveServer) -> None:
    loop = asyncio.get_running_loop()
    url = live.url.replace("http://", "ws://")
    async with websockets.connect(url, additional_headers={"Authorization": basic("agent1")}) as ws:

        async def exchange(*messages: dict[str, Any]) -> list[dict[str, Any]]:
            await ws.send(json.dumps(list(messages)))
            replies: list[dict[str, Any]] = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
            for reply in replies:
                assert contract_errors(reply) == [], reply
            return replies

        [handshake] = await exchange({"channel": "/meta/handshake", "id": "1", "version": "1.0"})
        client_id = handshake["clientId"]
        [subscribed] = await exchange(
            {"channel": "/meta/subscribe", "id": "2", "clientId": client_id, "subscription": "/v2/me/calls"}
        )
        assert subscribed["successful"] is True
        connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "websocket"}
        [first] = await exchange({**connect, "id": "3"})
        assert first["successful"] is True
        started = loop.time()
        await ws.send(json.dumps([{**connect, "id": "4"}]))
        await publish(live, "agent1", {"marker": "pushed"})
        [pushed] = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
        assert pushed["channel"] == "/v2/me/calls" and pushed["data"] == {"marker": "pushed"}
        assert pushed["id"].startswith(SERVER_ID_PREFIX)
        [held] = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
        held_s = loop.time() - started
        assert held["channel"] == "/meta/connect" and held["id"] == "4" and held["successful"] is True
        assert 0.9 * TIMEOUT_MS / 1000 <= held_s <= TIMEOUT_MS / 1000 + 1.5


async def test_websocket_upgrade_requires_authentication(live: LiveServer) -> None:
    url = live.url.replace("http://", "ws://")
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url, additional_headers={"Authorization": basic("agent1", "wrong")}):
            pass
    assert refused.value.response.status_code in (401, 403)


# aiocometd-noloop ----------------------------------------------------------------------------------

CONNECTION_TYPES = [aiocometd.ConnectionType.LONG_POLLING, aiocometd.ConnectionType.WEBSOCKET]


class Recorder(aiocometd.Extension):
    """Sends Basic credentials and keeps every message the server sent, to check them and to await recovery."""

    def __init__(self, user: str) -> None:
        self._authorization = basic(user)
        self.received: list[dict[str, Any]] = []
        self.handshakes = 0
        self.reconnected = asyncio.Event()

    async def outgoing(self, payload: list[dict[str, Any]], headers: dict[str, str]) -> None:
        headers["Authorization"] = self._authorization

    async def incoming(self, payload: list[dict[str, Any]], headers: Any = None) -> None:
        for message in payload:
            self.received.append(message)
            if message.get("channel") == "/meta/handshake" and message.get("successful"):
                self.handshakes += 1
            if message.get("channel") == "/meta/connect" and message.get("successful") and self.handshakes > 1:
                self.reconnected.set()


def cometd_client(live: LiveServer, recorder: Recorder, connection_type: aiocometd.ConnectionType) -> aiocometd.Client:
    return aiocometd.Client(
        live.url, connection_types=[connection_type], connection_timeout=DEADLINE_S, extensions=[recorder]
    )


async def receive(client: aiocometd.Client) -> dict[str, Any]:
    message: dict[str, Any] = await asyncio.wait_for(client.receive(), DEADLINE_S)
    return message


@pytest.mark.parametrize("connection_type", CONNECTION_TYPES, ids=lambda c: c.value)
async def test_aiocometd_receives_a_published_message(
    live: LiveServer, connection_type: aiocometd.ConnectionType
) -> None:
    recorder = Recorder("agent1")
    async with cometd_client(live, recorder, connection_type) as client:
        assert client.connection_type is connection_type
        await client.subscribe("/v2/me/calls")
        await publish(live, "agent1", {"marker": "hello"})
        message = await receive(client)
    assert message["channel"] == "/v2/me/calls" and message["data"] == {"marker": "hello"}
    assert [m for m in recorder.received if contract_errors(m)] == []


@pytest.mark.parametrize("connection_type", CONNECTION_TYPES, ids=lambda c: c.value)
async def test_aiocometd_never_receives_another_users_message(
    live: LiveServer, connection_type: aiocometd.ConnectionType
) -> None:
    async with (
        cometd_client(live, Recorder("agent1"), connection_type) as agent1,
        cometd_client(live, Recorder("agent2"), connection_type) as agent2,
    ):
        await agent1.subscribe("/v2/me/calls")
        await agent2.subscribe("/v2/me/calls")
        await publish(live, "supervisor", {"marker": "for agent2"}, for_user="agent2")
        await publish(live, "supervisor", {"marker": "for agent1"}, for_user="agent1")
        assert (await receive(agent1))["data"] == {"marker": "for agent1"}
        assert (await receive(agent2))["data"] == {"marker": "for agent2"}
        # Messages for one user keep their order: had agent2's reached agent1, it would have come first.
        await publish(live, "supervisor", {"marker": "again"}, for_user="agent1")
        assert (await receive(agent1))["data"] == {"marker": "again"}
        assert agent1.pending_count == 0 and agent2.pending_count == 0


@pytest.mark.parametrize("connection_type", CONNECTION_TYPES, ids=lambda c: c.value)
async def test_aiocometd_rehandshakes_after_402_and_keeps_its_subscriptions(
    live: LiveServer, connection_type: aiocometd.ConnectionType
) -> None:
    recorder = Recorder("agent1")
    async with cometd_client(live, recorder, connection_type) as client:
        await client.subscribe("/v2/me/calls")
        assert live.bayeux.drop_clients() == 1
        await asyncio.wait_for(recorder.reconnected.wait(), DEADLINE_S)
        await publish(live, "agent1", {"marker": "after recovery"})
        message = await receive(client)
    assert message["data"] == {"marker": "after recovery"}
    refusals = [m for m in recorder.received if m.get("error", "").startswith("402:")]
    assert refusals and all(m["advice"]["reconnect"] == "handshake" for m in refusals)
    assert recorder.handshakes == 2


async def test_aiocometd_forbidden_subscription_raises(live: LiveServer) -> None:
    async with cometd_client(live, Recorder("agent1"), aiocometd.ConnectionType.LONG_POLLING) as client:
        with pytest.raises(ServerError) as refused:
            await client.subscribe("/v2/users")
    assert refused.value.error_code == 403


# contract ----------------------------------------------------------------------------------------


async def test_meta_replies_validate_against_the_contract(live: LiveServer) -> None:
    if not contract_schemas_present():
        pytest.skip("spec/notifications/Bayeux*Reply.json not written yet")
    async with Bayeux(live, "agent1") as bayeux:  # every reply Bayeux.send sees is validated
        await bayeux.handshake()
        await bayeux.subscribe("/v2/me/calls")
        await bayeux.subscribe("/v2/users")
        await publish(live, "agent1", {"messageType": "CallStateChangeMessage"})
        await bayeux.connect()
        await bayeux.send({"channel": "/meta/unsubscribe", "subscription": "/v2/me/calls"})
        await bayeux.send({"channel": "/meta/disconnect"})
        await bayeux.connect()


# client habits: wildcards, advice timeout 0 (E85, E86) ---------------------------------------------


@pytest.mark.parametrize("pattern", ["/v2/me/*", "/v2/me/**", "/**"])
async def test_a_pattern_and_a_topic_it_matches_deliver_each_message_once(live: LiveServer, pattern: str) -> None:
    async with Bayeux(live, "agent1") as bayeux:
        await bayeux.handshake()
        assert (await bayeux.subscribe(pattern))["successful"] is True
        assert (await bayeux.subscribe("/v2/me/calls"))["successful"] is True
        await bayeux.connect()
        await publish(live, "agent1", {"marker": "once"})
        await publish(live, "agent1", {"marker": "by the pattern"}, topic="/v2/me/devices")
        delivered = events(await bayeux.connect())
    assert [(e["channel"], e["data"]["marker"]) for e in delivered] == [
        ("/v2/me/calls", "once"),
        ("/v2/me/devices", "by the pattern"),
    ]


async def test_a_catch_all_pattern_delivers_users_messages_to_supervisors_only(live: LiveServer) -> None:
    async with Bayeux(live, "agent1") as agent, Bayeux(live, "supervisor") as supervisor:
        for bayeux in (agent, supervisor):
            await bayeux.handshake()
            assert (await bayeux.subscribe("/**"))["successful"] is True
            await bayeux.connect()
        for user in ("agent1", "supervisor"):
            await publish(live, "supervisor", {"marker": "users"}, for_user=user, topic="/v2/users")
            await publish(live, "supervisor", {"marker": "after"}, for_user=user)
        for_agent, for_supervisor = events(await agent.connect()), events(await supervisor.connect())
    assert [e["channel"] for e in for_agent] == ["/v2/me/calls"]
    assert [e["channel"] for e in for_supervisor] == ["/v2/users", "/v2/me/calls"]


async def test_websocket_pushes_a_message_matched_by_a_pattern_and_its_topic_once(live: LiveServer) -> None:
    url = live.url.replace("http://", "ws://")
    async with websockets.connect(url, additional_headers={"Authorization": basic("agent1")}) as ws:

        async def exchange(*messages: dict[str, Any]) -> list[dict[str, Any]]:
            await ws.send(json.dumps(list(messages)))
            replies: list[dict[str, Any]] = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
            return replies

        [handshake] = await exchange({"channel": "/meta/handshake", "id": "1", "version": "1.0"})
        client_id = handshake["clientId"]
        subscription = ["/**", "/v2/me/calls"]
        [subscribed] = await exchange(
            {"channel": "/meta/subscribe", "id": "2", "clientId": client_id, "subscription": subscription}
        )
        assert subscribed["successful"] is True and subscribed["subscription"] == subscription
        connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "websocket"}
        await exchange({**connect, "id": "3"})
        await ws.send(json.dumps([{**connect, "id": "4"}]))
        await publish(live, "agent1", {"marker": "once"})
        await publish(live, "agent1", {"marker": "last"})
        pushed: list[dict[str, Any]] = []
        # One user's messages keep their order: a second copy of the first would come before the last.
        while not any(m["data"] == {"marker": "last"} for m in pushed):
            pushed += events(json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S)))
    assert [m["data"]["marker"] for m in pushed] == ["once", "last"]


async def test_a_later_connect_advising_timeout_0_is_answered_at_once(live: LiveServer, record_property: Any) -> None:
    loop = asyncio.get_running_loop()
    async with Bayeux(live, "agent1") as bayeux:
        await bayeux.handshake()
        await bayeux.connect()  # the first: answered at once anyway
        started = loop.time()
        replies = await bayeux.send(
            {"channel": "/meta/connect", "connectionType": "long-polling", "advice": {"timeout": 0}}
        )
        answered_s = loop.time() - started
    record_property("timeout_0_connect_s", round(answered_s, 3))
    assert only(replies, "/meta/connect")["successful"] is True
    assert answered_s < 0.25 * TIMEOUT_MS / 1000  # an idle connect without that advice is held TIMEOUT_MS
