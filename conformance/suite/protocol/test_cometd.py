"""The CometD (Bayeux) protocol at the notifications endpoint, spoken by hand: one POST per meta message.

The scenarios reach notifications through a CometD client library, which hides the protocol (it
re-handshakes after a 402, it never shows how long a connect was held). These tests send each meta
message themselves and read the reply as the specification words it: handshake fields, connect advice
and holding, subscriptions granted and refused by role, the 402 for an unknown clientId and the
recovery after it.

Tests marked ``bayeux`` speak only the protocol, so they also judge a generic Bayeux server
(GWS_TARGET_KIND=bayeux: tests/test_third_party_cometd.py runs them against the CometD project's own
Node server); those marked ``gws_specific`` judge what GWS asks beyond Bayeux and CometD.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import pytest

from conformance import casting
from conformance.api import Channel, Device
from conformance.bayeux import ADVICE, HOLD_MS, HOLD_TOLERANCE, Bayeux, Message
from conformance.client import GwsClient
from conformance.config import Settings
from conformance.outcomes import not_applicable
from conformance.overlap import at_once
from conformance.suite.scenarios.lifecycle import best_effort
from conformance.suite.scenarios.support import Me, require, should

OWN_TOPICS = ("/v2/me", "/v2/me/channels", "/v2/me/devices", "/v2/me/calls")
CHANNELS, DEVICES = "/v2/me/channels", "/v2/me/devices"
USERS_TOPIC = "/v2/users"


@pytest.mark.bayeux
@pytest.mark.requirement("GWS-COMETD-001", "GWS-COMETD-002", "GWS-COMETD-012")
def test_handshake_reply_fields(gws_bayeux: Any) -> None:
    session = gws_bayeux("agent1")
    reply = session.handshake()
    types = reply.get("supportedConnectionTypes")
    require(
        isinstance(reply.get("version"), str) and isinstance(types, list) and "long-polling" in types,
        "the handshake reply lacks a version or long-polling among supportedConnectionTypes",
        f"{reply!r}",
        "GWS-COMETD-002",
        "GWS-COMETD-001",
    )


@pytest.mark.gws_specific("credentials on the handshake, GWS-COMETD-003")
@pytest.mark.requirement("GWS-COMETD-003")
def test_handshake_without_credentials_is_refused(gws_bayeux: Any) -> None:
    response, replies = gws_bayeux(None).send(
        "/meta/handshake", version="1.0", supportedConnectionTypes=["long-polling"]
    )
    accepted = [m for m in replies if m.get("successful") is True]
    require(
        response.status_code == 401 or not accepted,
        "a handshake without credentials is accepted",
        f"HTTP {response.status_code}: {response.text[:500]}",
        "GWS-COMETD-003",
    )


@pytest.mark.bayeux
@pytest.mark.requirement("GWS-COMETD-004", "GWS-COMETD-006")
def test_connect_has_advice_and_an_idle_connect_is_held(gws_bayeux: Any) -> None:
    session = gws_bayeux("agent1")
    session.handshake()
    first = session.connect(advice={"timeout": 0})
    require(
        first.get("successful") is True and isinstance(first.get("advice"), dict),
        "the first /meta/connect reply is not successful with an advice",
        f"{first!r}",
        "GWS-COMETD-004",
    )
    # Nothing is published to this fresh session: the second connect must wait the (shortened) timeout.
    started = time.monotonic()
    second = session.connect(advice={"timeout": HOLD_MS})
    held_s = time.monotonic() - started
    require(
        second.get("successful") is True and isinstance(second.get("advice"), dict),
        "a held /meta/connect reply is not successful with an advice",
        f"{second!r}",
        "GWS-COMETD-004",
    )
    require(
        held_s >= HOLD_TOLERANCE * HOLD_MS / 1000,
        "an idle /meta/connect is answered at once instead of held",
        f"asked to hold at most {HOLD_MS} ms with nothing to deliver; answered after {held_s * 1000:.0f} ms",
        "GWS-COMETD-006",
    )


@pytest.mark.gws_specific("the reference's advice values, GWS-COMETD-005")
@pytest.mark.requirement("GWS-COMETD-005")
def test_connect_advice_is_the_references(gws_bayeux: Any) -> None:
    session = gws_bayeux("agent1")
    session.handshake()
    first = session.connect(advice={"timeout": 0})
    advice = first.get("advice")
    advised = {key: advice.get(key) for key in ADVICE} if isinstance(advice, dict) else advice
    should(
        advised == ADVICE,
        "the /meta/connect advice is not the reference's",
        f"advised {advised}; the reference's servers advise {ADVICE}",
        "GWS-COMETD-005",
    )


@pytest.mark.bayeux
@pytest.mark.requirement("GWS-COMETD-007")
def test_subscribe_to_own_topics(gws_bayeux: Any) -> None:
    session = gws_bayeux("agent1")
    session.handshake()
    for topic in OWN_TOPICS:
        reply = session.meta("/meta/subscribe", subscription=topic)
        require(
            reply.get("successful") is True and reply.get("subscription") in (topic, [topic]),
            f"subscribing to {topic} is not granted with the subscription echoed",
            f"{reply!r}",
            "GWS-COMETD-007",
        )


@pytest.mark.gws_specific("refusing topics the reference does not define, GWS-COMETD-013")
@pytest.mark.requirement("GWS-COMETD-013")
def test_a_topic_the_reference_does_not_define_is_refused(gws_bayeux: Any) -> None:
    session = gws_bayeux("agent1")
    session.handshake()
    reply = session.meta("/meta/subscribe", subscription="/v2/me/no-such-topic")
    should(
        reply.get("successful") is False,
        "a subscription to a topic the reference does not define is granted",
        f"{reply!r}",
        "GWS-COMETD-013",
    )


@pytest.mark.gws_specific("topics by role, GWS-COMETD-008")
@pytest.mark.requirement("GWS-COMETD-008", "GWS-NOTIF-006")
def test_users_topic_is_refused_to_agents_and_granted_to_supervisors(gws_bayeux: Any) -> None:
    def subscribed(session: Bayeux) -> Message:
        session.handshake()
        return session.meta("/meta/subscribe", subscription=USERS_TOPIC)

    # The agent's session and the supervisor's are independent: both at once, judged in turn.
    refused, granted = at_once([functools.partial(subscribed, gws_bayeux(role)) for role in ("agent1", "supervisor")])
    require(
        refused.get("successful") is False,
        f"an agent's subscription to {USERS_TOPIC} is granted",
        f"{refused!r}",
        "GWS-COMETD-008",
        "GWS-NOTIF-006",
    )
    require(
        granted.get("successful") is True,
        f"a supervisor's subscription to {USERS_TOPIC} is refused",
        f"{granted!r}",
        "GWS-COMETD-008",
    )


def _refused_as_unknown(reply: Message, *, with_handshake_advice: bool) -> bool:
    """Refused as an unknown client: successful false with an error; the handshake advice is asked only of a
    /meta/connect reply (E87). The error's code is judged apart: 402 is CometD's, not Bayeux's."""
    advice = reply.get("advice")
    advised = isinstance(advice, dict) and advice.get("reconnect") == "handshake"
    error = reply.get("error")
    return (
        reply.get("successful") is False
        and isinstance(error, str)
        and bool(error)
        and (advised or not with_handshake_advice)
    )


def _unknown_client(gws_bayeux: Any, channel: str) -> tuple[Any, Message]:
    """A session with a made-up clientId, and the reply to its ``channel`` message."""
    session = gws_bayeux("agent1")
    session.client_id = "made-up-client-id-0000"
    fields: dict[str, Any] = (
        {"connectionType": "long-polling", "advice": {"timeout": 0}}
        if channel == "/meta/connect"
        else {"subscription": "/v2/me"}
    )
    return session, session.meta(channel, **fields)


@pytest.mark.bayeux
@pytest.mark.parametrize("channel", ["/meta/connect", "/meta/subscribe"])
@pytest.mark.requirement("GWS-COMETD-011")
def test_unknown_client_id_is_refused_and_the_client_recovers(gws_bayeux: Any, channel: str) -> None:
    session, reply = _unknown_client(gws_bayeux, channel)
    connect = channel == "/meta/connect"
    require(
        _refused_as_unknown(reply, with_handshake_advice=connect),
        f"a {channel} with an unknown clientId is not refused with an error"
        + (" and the advice reconnect handshake" if connect else ""),
        f"{reply!r}",
        "GWS-COMETD-011",
    )
    # A new handshake — the connect's advice, and what a client does on the refusal alone (E87) — gives a
    # session that works.
    session.client_id = None
    session.handshake()
    session.subscribe("/v2/me", "GWS-COMETD-011")


@pytest.mark.gws_specific("CometD's error code 402 for an unknown client, GWS-COMETD-011")
@pytest.mark.parametrize("channel", ["/meta/connect", "/meta/subscribe"])
@pytest.mark.requirement("GWS-COMETD-011")
def test_unknown_client_id_error_is_402(gws_bayeux: Any, channel: str) -> None:
    session, reply = _unknown_client(gws_bayeux, channel)
    session.client_id = None  # never a session: nothing to disconnect
    require(
        reply.get("successful") is False and str(reply.get("error", "")).startswith("402"),
        f"a {channel} with an unknown clientId is not refused with an error starting with 402",
        f"{reply!r}",
        "GWS-COMETD-011",
    )


@pytest.mark.bayeux
@pytest.mark.requirement("GWS-COMETD-010")
def test_disconnect_is_successful_and_forgets_the_client(gws_bayeux: Any) -> None:
    session = gws_bayeux("agent1")
    session.handshake()
    session.connect(advice={"timeout": 0})
    reply = session.meta("/meta/disconnect")
    require(reply.get("successful") is True, "/meta/disconnect is not successful", f"{reply!r}", "GWS-COMETD-010")
    after = session.connect(advice={"timeout": 0})
    session.client_id = None  # gone: nothing left to disconnect
    require(
        _refused_as_unknown(after, with_handshake_advice=True),
        "the clientId still works after /meta/disconnect",
        f"a /meta/connect with the disconnected clientId got {after!r}; the server must have forgotten it "
        "(refused, with the advice reconnect handshake)",
        "GWS-COMETD-010",
    )


def _dnd_on(message: Message) -> bool:
    devices = message.get("data", {}).get("devices") if isinstance(message.get("data"), dict) else None
    return isinstance(devices, list) and any(isinstance(d, dict) and d.get("doNotDisturb") == "On" for d in devices)


@pytest.mark.recast  # with a pool, whichever agent is free plays agent1
@pytest.mark.feature("api-voice")
@pytest.mark.requirement("GWS-COMETD-009", "GWS-NOTIF-007")
def test_no_message_on_a_topic_the_client_left_or_never_joined(
    gws_bayeux: Any, gws_exclusive: Any, gws_client: Any, gws_settings: Settings
) -> None:
    gws_exclusive("agent1")  # its state changes: no scenario may be listening meanwhile
    agent1: GwsClient = gws_client("agent1")
    me = Me.read(agent1)
    if not me.device_ids:
        not_applicable(
            f"{casting.account('agent1')} has no device: the test changes a device to mark the end of what it receives"
        )
    device, channel = Device(agent1, me.device_ids[0]), Channel(agent1, "voice")
    left, never = gws_bayeux("agent1"), gws_bayeux("agent1")

    def leave() -> None:
        left.handshake()
        left.subscribe(CHANNELS, "GWS-COMETD-007")
        left.subscribe(DEVICES, "GWS-COMETD-007")
        reply = left.meta("/meta/unsubscribe", subscription=CHANNELS)
        require(
            reply.get("successful") is True,
            f"/meta/unsubscribe from {CHANNELS} is not successful",
            f"{reply!r}",
            "GWS-COMETD-009",
        )

    def join() -> None:
        never.handshake()
        never.subscribe(DEVICES, "GWS-COMETD-007")

    # Two independent sessions: each one's steps in turn, the two at once (a failure of ``left`` comes first).
    at_once([leave, join])
    at_once([functools.partial(session.connect, advice={"timeout": 0}) for session in (left, never)])
    try:
        channel.ready()  # a message on /v2/me/channels, which neither session listens to
        # Then one on /v2/me/devices, which both do: one client's messages come in order, so once it is
        # here, a /v2/me/channels message would have come before it.
        device.dnd_on()
        # Ready may bring a /v2/me/devices message of its own before its /v2/me/channels one: only the DND
        # message marks the end (a server that leaves doNotDisturb out is judged on all that came). Each session
        # reads its own, both at once; judged in turn.
        heard = at_once(
            [
                functools.partial(session.receive_until, DEVICES, gws_settings.notification_timeout_s, _dnd_on)
                for session in (left, never)
            ]
        )
        for received, what, rid in (
            (heard[0], "unsubscribed from", "GWS-COMETD-009"),
            (heard[1], "never subscribed to", "GWS-NOTIF-007"),
        ):
            require(
                any(m.get("channel") == DEVICES for m in received),
                f"no {DEVICES} message after DoNotDisturbOn",
                f"received {received!r}",
                "GWS-NOTIF-007",
            )
            strays = [m for m in received if m.get("channel") == CHANNELS]
            require(not strays, f"a client {what} {CHANNELS} gets its messages", f"received {strays!r}", rid)
    finally:
        best_effort(device.dnd_off)
        best_effort(channel.not_ready)
