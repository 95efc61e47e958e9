"""Another user's clientId (E98, GWS-COMETD-021): agent2 presents agent1's clientId on every meta channel.

A clientId travels in every Bayeux message; a server that serves it to whoever sends it hands agent1's
notifications to agent2 and lets agent2 unsubscribe or end agent1's session. Agent2, with its own valid
credentials, sends /meta/connect, /meta/subscribe, /meta/unsubscribe and /meta/disconnect with agent1's
clientId, over long-polling and over a websocket of its own: each must be refused as an unknown clientId is
(GWS-COMETD-011). Then agent1 causes a message: agent1's session must still receive it (nothing agent2 sent
unsubscribed or ended it), agent2's hijacking requests must never have carried a message, and agent2's own
listener (the bystander inbox) must have received nothing of agent1's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from websockets.sync.client import ClientConnection

from conformance import casting
from conformance.api import Device
from conformance.bayeux import Bayeux, Message, WebSocketSession, basic_authorization, open_websocket
from conformance.client import GwsClient
from conformance.config import Settings
from conformance.inbox import Inbox
from conformance.outcomes import not_applicable
from conformance.suite.scenarios.lifecycle import best_effort
from conformance.suite.scenarios.support import Me, require

DEVICES, CHANNELS = "/v2/me/devices", "/v2/me/channels"
RULE = "GWS-COMETD-021"


def _steps(connection_type: str) -> list[tuple[str, dict[str, Any]]]:
    """What agent2 sends with agent1's clientId: each would, if served, leak or change agent1's session."""
    return [
        ("/meta/connect", {"connectionType": connection_type, "advice": {"timeout": 0}}),
        ("/meta/subscribe", {"subscription": CHANNELS}),
        ("/meta/unsubscribe", {"subscription": DEVICES}),  # agent1's own subscription
        ("/meta/disconnect", {}),
    ]


def _dnd_on(message: Message) -> bool:
    data = message.get("data")
    devices = data.get("devices") if isinstance(data, dict) else None
    return isinstance(devices, list) and any(isinstance(d, dict) and d.get("doNotDisturb") == "On" for d in devices)


class _Hijacker:
    """Agent2 sending messages that carry agent1's clientId; keeps every message that came back."""

    def __init__(self, transport: str, client_id: str) -> None:
        self.transport = transport
        self.client_id = client_id
        self.received: list[Message] = []  # replies and pushed messages alike

    def meta(self, channel: str, **fields: Any) -> Message | None:
        """The reply to one message on ``channel`` with agent1's clientId (None when none came)."""
        raise NotImplementedError

    def leaked(self) -> list[Message]:
        return [m for m in self.received if not str(m.get("channel", "")).startswith("/meta/")]


class _LongPollingHijacker(_Hijacker):
    def __init__(self, session: Bayeux, client_id: str) -> None:
        super().__init__("long-polling", client_id)
        self.session = session  # agent2's credentials, never handshaken: the fixture has nothing to end

    def meta(self, channel: str, **fields: Any) -> Message | None:
        _, replies = self.session.send(channel, clientId=self.client_id, **fields)
        self.received += replies
        paired = [m for m in replies if m.get("channel") == channel and m.get("id") == self.session.last_id]
        return paired[-1] if paired else None


class _WebSocketHijacker(_Hijacker):
    def __init__(self, socket: ClientConnection, client_id: str, timeout_s: float) -> None:
        super().__init__("websocket", client_id)
        self.session = WebSocketSession(socket, timeout_s, id_prefix="hijack")
        self.received = self.session.received  # one list: every message the socket brought

    def meta(self, channel: str, **fields: Any) -> Message | None:
        return self.session.request(channel, clientId=self.client_id, **fields)


def _websocket(settings: Settings, role: str) -> ClientConnection:
    account = settings.credentials(casting.account(role))
    socket = open_websocket(settings, {"Authorization": basic_authorization(account.user, str(account.password))})
    if socket is None:
        # Websocket is a MAY of E77: a server without it has nothing to hijack on it.
        not_applicable(f"the notifications endpoint does not accept a websocket from {role}")
    return socket


def _judge_refusal(channel: str, transport: str, reply: Message | None) -> None:
    connect_reply = channel == "/meta/connect"
    advice = reply.get("advice") if reply is not None else None
    advised = isinstance(advice, dict) and advice.get("reconnect") == "handshake"
    require(
        reply is not None
        and reply.get("successful") is False
        and str(reply.get("error", "")).startswith("402")
        and (advised or not connect_reply),
        f"agent2's {channel} with agent1's clientId ({transport}) is not refused as an unknown client",
        f"reply {reply!r}; another user's clientId must be answered as a made-up one: successful false, an error "
        "starting with 402" + (" and the advice reconnect handshake" if connect_reply else "") + " (E98)",
        RULE,
    )


@pytest.mark.recast  # with a pool, whichever agents are free play agent1 and agent2
@pytest.mark.gws_specific("two GWS users and a device state change, GWS-COMETD-021")
@pytest.mark.feature("api-voice")
@pytest.mark.parametrize("transport", ["long-polling", "websocket"])
@pytest.mark.requirement(RULE)
def test_another_users_client_id_is_refused_and_leaks_nothing(
    transport: str,
    gws_bayeux: Any,
    gws_exclusive: Callable[..., None],
    gws_client: Callable[[str], GwsClient],
    gws_inbox: Callable[..., Inbox],
    gws_settings: Settings,
) -> None:
    gws_exclusive("agent1", "agent2")  # agent1's device changes; agent2's listener must hear nothing
    agent1 = gws_client("agent1")
    me = Me.read(agent1)
    if not me.device_ids:
        not_applicable(
            f"{casting.account('agent1')} has no device: the test changes one to cause a message after the hijack "
            "attempt"
        )
    device = Device(agent1, me.device_ids[0])
    bystander = gws_inbox("agent2")
    owner: Bayeux = gws_bayeux("agent1")
    owner.handshake()
    owner.subscribe(DEVICES, "GWS-COMETD-007")
    owner.connect(advice={"timeout": 0})
    victim = str(owner.client_id)
    socket = _websocket(gws_settings, "agent2") if transport == "websocket" else None
    hijacker: _Hijacker = (
        _WebSocketHijacker(socket, victim, gws_settings.request_timeout_s)
        if socket is not None
        else _LongPollingHijacker(gws_bayeux("agent2"), victim)
    )
    try:
        for channel, fields in _steps(transport):
            _judge_refusal(channel, transport, hijacker.meta(channel, **fields))
        device.dnd_on()
        received = owner.receive_until(DEVICES, gws_settings.notification_timeout_s, _dnd_on)
        require(
            any(m.get("channel") == DEVICES and _dnd_on(m) for m in received),
            "agent1's session no longer receives its messages after agent2 presented its clientId",
            f"agent1's session received {received!r} after DoNotDisturbOn; agent2's unsubscribe or disconnect "
            "with agent1's clientId must not have reached it (E98)",
            RULE,
        )
        # After the message: one more connect with agent1's clientId is refused too, and nothing agent2 was
        # ever answered (over websocket: nothing pushed either) carries a message.
        connect_step = _steps(transport)[0]
        _judge_refusal(connect_step[0], transport, hijacker.meta(connect_step[0], **connect_step[1]))
        require(
            not hijacker.leaked(),
            f"agent2 received agent1's messages through agent1's clientId ({transport})",
            f"{hijacker.leaked()!r}",
            RULE,
        )
    finally:
        best_effort(device.dnd_off)
        if socket is not None:
            socket.close()
    bystander.assert_quiet()
