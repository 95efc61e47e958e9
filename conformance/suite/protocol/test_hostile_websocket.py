"""The hostile-input battery over websocket, and hostile messages addressed to a live session (GWS-HOST, E94, E95,
E101).

Websocket: the long-polling battery's Bayeux cases as frames on a websocket of agent1's, and the upgrade itself with
undecodable credentials. A frame no handler can read ends the socket with a close frame whose code says why (1007
for a payload that is not the JSON it should be, 1009 past the size limit; 1011, an internal error, is the
websocket's 5xx), or is answered with a Bayeux error reply; never a dropped socket, never a success.

Sessions: what a hostile message addressed to a live session (its clientId) could change is that session — ended
by a disconnect, its subscriptions changed by an unsubscribe or a subscribe. A witness session of agent1 subscribes
to /v2/me/devices; each case, over long-polling and over websocket, carries its clientId; after each the witness
must still connect and still receive the message agent1's next DND change causes (the read-back of E94's "failed to
modify the data").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as websocket_connect

from conformance import casting
from conformance.api import Device
from conformance.bayeux import Bayeux
from conformance.client import GwsClient, tls_context
from conformance.config import Settings
from conformance.outcomes import not_applicable
from conformance.suite.protocol.hostile_support import (
    HANDSHAKE,
    PUSH,
    UNAUTHORIZED,
    Case,
    Push,
    basic,
    bayeux_error,
    bayeux_still_answering,
    credentials,
    deep_array,
    deep_object,
    dnd_is,
    judge,
    send,
)
from conformance.suite.scenarios.lifecycle import best_effort
from conformance.suite.scenarios.support import Me, require, should

DEVICES = "/v2/me/devices"
# RFC 6455 §7.4.1: 1011 is the server's own failure (its 5xx); the codes of a refused frame are the others.
INTERNAL_ERROR = 1011
Frame = str | bytes | Callable[[Push], str | bytes]


@dataclass(frozen=True)
class WebSocketCase:
    name: str
    requirement: str  # what a failure, a dropped socket or a success breaks
    frame: Frame
    dropped_breaks: str = ""  # the rule a socket dropped without a close frame breaks (default: ``requirement``)

    def payload(self, push: Push) -> str | bytes:
        return self.frame(push) if callable(self.frame) else self.frame


def _text(body: Callable[[Push], bytes]) -> Callable[[Push], str]:
    return lambda push: body(push).decode()


GENERIC_FRAMES = [WebSocketCase("deeply nested arrays", "GWS-HOST-002", _text(deep_array))]

# GWS's own rules (E94, E95, E101): a Bayeux server may accept a deep ext or answer a frame it cannot read otherwise.
GWS_FRAMES = [
    WebSocketCase(
        "a message nested deeply in its ext",
        "GWS-HOST-002",
        _text(lambda push: b"[" + HANDSHAKE + b',"ext":' + deep_object(push) + b"}]"),
    ),
    WebSocketCase(
        "a lone surrogate as the message id", "GWS-HOST-003", (b"[" + HANDSHAKE + b',"id":"\\ud800"}]').decode()
    ),
    WebSocketCase(
        "a lone surrogate in a subscription",
        "GWS-HOST-003",
        '[{"channel":"/meta/subscribe","clientId":"x","id":"1","subscription":"/v2/me/\\udc00"}]',
    ),
    WebSocketCase(
        "invalid UTF-8 (a binary frame)",
        "GWS-HOST-006",
        b'[{"channel":"/meta/handshake","id":"\xff\xfe"}]',
        dropped_breaks="GWS-HOST-009",
    ),
    WebSocketCase(
        "a binary frame that is not JSON", "GWS-HOST-006", b"\x00\x01\x02\x03", dropped_breaks="GWS-HOST-009"
    ),
    WebSocketCase("a text frame that is not JSON", "GWS-HOST-006", "{[", dropped_breaks="GWS-HOST-009"),
    WebSocketCase(
        "an oversized frame",
        "GWS-HOST-006",
        lambda push: "[" + " " * push.body_bytes + "]",
        dropped_breaks="GWS-HOST-009",
    ),
]


def websocket_url(settings: Settings) -> str:
    return "ws" + settings.cometd_url.removeprefix("http")


def open_websocket(settings: Settings, role: str, *, max_size: int = 2**20) -> ClientConnection:
    """A websocket of ``role`` at the notifications endpoint; the test is skipped where the endpoint offers none
    (websocket is a MAY of E77, and a generic Bayeux server may offer long-polling only)."""
    authorization = basic(settings, role)
    url = websocket_url(settings)
    try:
        return websocket_connect(
            url,
            additional_headers={"Authorization": authorization} if authorization else {},
            ssl=tls_context() if url.startswith("wss") else None,
            open_timeout=settings.request_timeout_s,
            max_size=max_size,
        )
    except (InvalidStatus, InvalidHandshake, OSError) as exc:
        pytest.skip(f"the notifications endpoint offers no websocket here: {exc}")


def refuse_frame(settings: Settings, case: WebSocketCase, frame: str | bytes) -> None:
    """Send ``frame`` on a new websocket of agent1's and judge what comes back (module docstring)."""
    timeout = settings.request_timeout_s
    with open_websocket(settings, "agent1") as socket:
        try:
            socket.send(frame)
            answer: str | bytes | None = socket.recv(timeout=timeout)
        except ConnectionClosed as closed:
            answer = None
            code = closed.rcvd.code if closed.rcvd is not None else None
            require(
                code != INTERNAL_ERROR,
                f"a hostile websocket frame ({case.name}) is an internal error",
                f"closed: {closed!r}",
                case.requirement,
            )
            dropped = case.dropped_breaks or case.requirement
            dropped_evidence = f"closed: {closed!r}; RFC 6455 §7.1.7: a close frame with a code (E94, E101)"
            message = f"a hostile websocket frame ({case.name}) drops the socket without a close frame"
            if dropped == case.requirement:
                require(code is not None, message, dropped_evidence, dropped)
            else:
                should(code is not None, message, dropped_evidence, dropped)
        except TimeoutError:
            require(
                False,
                f"a hostile websocket frame ({case.name}) is not answered",
                f"no answer in {timeout} s",
                case.requirement,
            )
    if answer is not None:
        try:
            body = json.loads(answer)
        except ValueError:
            body = None
        require(
            bayeux_error(body),
            f"a hostile websocket frame ({case.name}) is answered, not refused",
            f"answer: {str(answer)[:300]}",
            case.requirement,
        )


@pytest.mark.bayeux
@pytest.mark.requirement("GWS-HOST-002")
@pytest.mark.parametrize("case", GENERIC_FRAMES, ids=lambda case: case.name)
def test_a_hostile_websocket_frame_is_refused_with_a_close_code(case: WebSocketCase, gws_settings: Settings) -> None:
    refuse_frame(gws_settings, case, case.payload(PUSH[gws_settings.fuzz.profile]))
    bayeux_still_answering(gws_settings, Case(case.name, case.requirement))


@pytest.mark.gws_specific("hostile websocket frames refused (E94, E95, E101), GWS-HOST-002, -003, -006, -009")
@pytest.mark.requirement("GWS-HOST-002", "GWS-HOST-003", "GWS-HOST-006", "GWS-HOST-009")
@pytest.mark.parametrize("case", GWS_FRAMES, ids=lambda case: case.name)
def test_the_websocket_refuses_gws_hostile_frames(case: WebSocketCase, gws_settings: Settings) -> None:
    refuse_frame(gws_settings, case, case.payload(PUSH[gws_settings.fuzz.profile]))
    bayeux_still_answering(gws_settings, Case(case.name, case.requirement))


UPGRADE = (
    b"Upgrade: websocket",
    b"Connection: Upgrade",
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    b"Sec-WebSocket-Version: 13",
)
BAD_UPGRADE_CREDENTIALS = [("raw non-ASCII bytes", b"\xff\xfe\xfd"), ("not base64", b"###"), ("no colon", b"YWdlbnQx")]


@pytest.mark.gws_specific("Basic credentials on the websocket upgrade, GWS-HOST-001")
@pytest.mark.requirement("GWS-HOST-001")
@pytest.mark.parametrize("what, value", BAD_UPGRADE_CREDENTIALS, ids=[c[0] for c in BAD_UPGRADE_CREDENTIALS])
def test_a_websocket_upgrade_with_undecodable_credentials_is_refused(
    what: str, value: bytes, gws_settings: Settings
) -> None:
    case = Case(
        f"websocket upgrade, credentials: {what}",
        "GWS-HOST-001",
        b"GET",
        headers=(*UPGRADE, *credentials(value)),
        auth=None,
        expect=UNAUTHORIZED,
    )
    judge(case, send(gws_settings, gws_settings.cometd_url, case), bayeux_error)
    bayeux_still_answering(gws_settings, case)


# -- hostile messages addressed to a live session ------------------------------------------------------------------

CLIENT_ID = "@CLIENT_ID@"  # replaced by the witness session's clientId


def _session_messages(push: Push) -> list[tuple[str, str, bytes]]:
    """(name, requirement, body): each, if acted on, would end the witness session or change its subscriptions."""
    cid = CLIENT_ID.encode()
    unsubscribe = b'{"channel":"/meta/unsubscribe","clientId":"' + cid + b'","subscription":"' + DEVICES.encode() + b'"'
    disconnect = b'{"channel":"/meta/disconnect","clientId":"' + cid + b'"'
    return [
        ("an unsubscribe with a lone surrogate id", "GWS-HOST-003", b"[" + unsubscribe + b',"id":"\\ud800"}]'),
        (
            "an unsubscribe nested deeply in its ext",
            "GWS-HOST-002",
            b"[" + unsubscribe + b',"ext":' + deep_object(push) + b"}]",
        ),
        ("a disconnect with invalid UTF-8", "GWS-HOST-006", b"[" + disconnect + b',"id":"\xff\xfe"}]'),
        (
            "a valid unsubscribe batched with a deeply nested message",
            "GWS-HOST-002",
            b"[" + unsubscribe + b"}," + deep_array(push) + b"]",
        ),
        (
            "a valid disconnect batched with a lone surrogate",
            "GWS-HOST-003",
            b"["
            + disconnect
            + b'},{"channel":"/meta/subscribe","clientId":"'
            + cid
            + b'","subscription":"/v2/me/\\udc00"}]',
        ),
    ]


SESSION_CASE_NAMES = [name for name, _, _ in _session_messages(PUSH["quick"])]


@dataclass
class Witness:
    """Agent1's witness session, subscribed to its devices, and the device whose DND change it must hear."""

    session: Bayeux
    device: Device
    dnd: str  # the device's doNotDisturb now ("On", "Off")

    def toggle_dnd(self) -> str:
        self.dnd = "Off" if self.dnd == "On" else "On"
        (self.device.dnd_on if self.dnd == "On" else self.device.dnd_off)()
        return self.dnd


@pytest.fixture
def witness(
    gws_settings: Settings,
    gws_bayeux: Callable[..., Bayeux],
    gws_client: Callable[[str], GwsClient],
    gws_exclusive: Callable[..., None],
) -> Iterator[Witness]:
    gws_exclusive("agent1")  # agent1's DND changes: no scenario may be listening meanwhile
    agent1 = gws_client("agent1")  # with a pool, whichever agent is free (the test is marked ``recast``)
    devices = [d for d in Me.read(agent1).user.get("devices", []) if isinstance(d, dict) and d.get("id")]
    if not devices:
        not_applicable(
            f"{casting.account('agent1')} has no device: a DND change is how the witness session's subscription is "
            "read back"
        )
    initial = "On" if devices[0].get("doNotDisturb") == "On" else "Off"
    session = gws_bayeux("agent1")
    session.handshake()
    session.subscribe(DEVICES, "GWS-COMETD-007")
    session.connect(advice={"timeout": 0})
    witness = Witness(session, Device(agent1, str(devices[0]["id"])), initial)
    try:
        yield witness
    finally:
        if witness.dnd != initial:
            best_effort(witness.toggle_dnd)


def _send_on_websocket(settings: Settings, case: Case, body: bytes) -> None:
    refuse_frame(settings, WebSocketCase(case.name, case.requirement, body), body)


@pytest.mark.recast
@pytest.mark.gws_specific(
    "hostile messages refused whole (E94, E95), then a DND change read back, GWS-HOST-002, -003, -006"
)
@pytest.mark.feature("api-voice")
@pytest.mark.requirement("GWS-HOST-002", "GWS-HOST-003", "GWS-HOST-006")
@pytest.mark.parametrize("transport", ["long-polling", "websocket"])
def test_a_session_keeps_its_state_through_hostile_messages(
    transport: str, witness: Witness, gws_settings: Settings
) -> None:
    session = witness.session
    push = PUSH[gws_settings.fuzz.profile]
    for name, requirement, template in _session_messages(push):
        body = template.replace(CLIENT_ID.encode(), str(session.client_id).encode())
        case = Case(f"{name} ({transport})", requirement, body=body)
        if transport == "websocket":
            _send_on_websocket(gws_settings, case, body)
        else:
            judge(case, send(gws_settings, gws_settings.cometd_url, case), bayeux_error)
        alive = session.connect(advice={"timeout": 0})
        require(
            alive.get("successful") is True,
            f"a hostile message ({case.name}) ended the session it named",
            f"the witness session's next /meta/connect: {alive!r}",
            requirement,
        )
        dnd = witness.toggle_dnd()
        received = session.receive_until(DEVICES, gws_settings.notification_timeout_s, dnd_is(dnd))
        require(
            any(m.get("channel") == DEVICES and dnd_is(dnd)(m) for m in received),
            f"a hostile message ({case.name}) changed the subscriptions of the session it named",
            f"after DoNotDisturb{dnd} the witness session, subscribed to {DEVICES}, received {received!r}",
            requirement,
        )
