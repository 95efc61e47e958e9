"""What CometD clients add to every Bayeux message: ext (ack, timesync), a timestamp, client advice (E90).

The official JavaScript client's extensions put ``ext.ack`` on the handshake and every connect and an
RFC 1123 ``timestamp`` on every message; its handshake carries ``minimumVersion`` and an advice. Bayeux
makes all of them optional members of any message, so a server must answer them as it would without.
Nothing here is GWS-specific: any correct Bayeux server passes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate
from typing import Any

import pytest

from conformance.bayeux import Bayeux, Message
from conformance.suite.scenarios.support import require

# The subscription every Bayeux server grants (no GWS topic rule involved).
ANY_TOPIC = "/v2/me"


def _client_fields(**ext: Any) -> dict[str, Any]:
    return {"ext": ext, "timestamp": formatdate(usegmt=True)}


@pytest.mark.bayeux
@pytest.mark.requirement("GWS-COMETD-019")
def test_ext_timestamp_and_client_advice_are_ignored(gws_bayeux: Callable[..., Bayeux]) -> None:
    session = gws_bayeux("agent1")
    now_ms = int(time.time() * 1000)
    # The JavaScript client's handshake: its own advice and minimumVersion, the ack and timesync extensions.
    session.handshake(
        "GWS-COMETD-019",
        advice={"timeout": 60000, "interval": 0},
        **_client_fields(ack=True, timesync={"tc": now_ms, "l": 0, "o": 0}),
    )
    subscribe = session.meta("/meta/subscribe", subscription=ANY_TOPIC, **_client_fields(vendor={"trace": "x1"}))
    require(
        subscribe.get("successful") is True,
        "a /meta/subscribe carrying ext and a timestamp is refused",
        f"{subscribe!r}",
        "GWS-COMETD-019",
    )
    connect = session.connect(advice={"timeout": 0}, **_client_fields(ack=0))
    require(
        connect.get("successful") is True,
        "a /meta/connect carrying ext.ack and a timestamp is refused",
        f"{connect!r}; the ack extension numbers every connect in ext.ack",
        "GWS-COMETD-019",
    )


# Long enough that a subscribe answered at once comes back well before the held connect does.
HELD_CONNECT_MS = 4000


# Each attempt is one held connect and one subscribe; a server that answers a client's requests one at a time
# is caught unless its subscribe overtook the connect on the way in, which the barrier makes rare and the
# second attempt rarer still.
ATTEMPTS = 2


@pytest.mark.bayeux
@pytest.mark.requirement("GWS-COMETD-020", "GWS-COMETD-006")
def test_a_subscribe_is_answered_while_the_connect_is_held(gws_bayeux: Callable[..., Bayeux]) -> None:
    for _ in range(ATTEMPTS):
        subscribe, answered_while_held = _subscribe_while_the_connect_is_held(gws_bayeux("agent1"))
        require(
            subscribe.get("successful") is True and answered_while_held,
            "a /meta/subscribe waits for the client's held /meta/connect",
            f"subscribe reply {subscribe!r} came {'while' if answered_while_held else 'only after'} the connect "
            f"(held up to {HELD_CONNECT_MS} ms) was pending; CometD clients subscribe on a second connection while "
            "the first holds the connect (Bayeux: two requests at once)",
            "GWS-COMETD-020",
        )


def _subscribe_while_the_connect_is_held(session: Bayeux) -> tuple[Message, bool]:
    """The reply to a subscribe sent while the session's connect is held, and whether the connect was still held."""
    session.handshake()
    session.connect(advice={"timeout": 0})
    connect_sent = threading.Event()

    def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith("send_request_body.complete"):
            connect_sent.set()

    held = {
        "channel": "/meta/connect",
        "clientId": session.client_id,
        "connectionType": "long-polling",
        "advice": {"timeout": HELD_CONNECT_MS},
        "id": "held-connect",
    }
    with ThreadPoolExecutor(max_workers=1) as pool:
        connect = pool.submit(session.http.post, session.url, json=[held], extensions={"trace": trace})
        if not connect_sent.wait(HELD_CONNECT_MS / 1000):
            connect.result()  # the reason the connect never left (a transport error) is the suite's to report
        # A barrier: one round trip of a request no session owns, so the server has taken in the connect sent
        # before it by the time the subscribe goes out.
        session.http.post(session.url, json=[{**held, "clientId": "no-such-client-barrier", "id": "barrier"}])
        require(
            not connect.done(),
            "an idle /meta/connect is answered at once instead of held",
            f"asked to hold {HELD_CONNECT_MS} ms with nothing to deliver; answered before the next request was sent",
            "GWS-COMETD-006",
        )
        subscribe = session.meta("/meta/subscribe", subscription=ANY_TOPIC)
        answered_while_held = not connect.done()
        # Ending the session releases the held connect at once (its outcome is GWS-COMETD-010's business).
        session.send("/meta/disconnect")
        session.client_id = None
        connect.result()
    return subscribe, answered_while_held
