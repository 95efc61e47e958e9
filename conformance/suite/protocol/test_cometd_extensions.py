"""What CometD clients add to every Bayeux message: ext (ack, timesync), a timestamp, client advice (E90).

The official JavaScript client's extensions put ``ext.ack`` on the handshake and every connect and an
RFC 1123 ``timestamp`` on every message; its handshake carries ``minimumVersion`` and an advice. Bayeux
makes all of them optional members of any message, so a server must answer them as it would without.
Nothing here is GWS-specific: any correct Bayeux server passes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from conformance.bayeux import Bayeux
from conformance.config import Settings
from conformance.suite.scenarios.support import require

# The subscription every Bayeux server grants (no GWS topic rule involved).
ANY_TOPIC = "/v2/me"


@pytest.fixture
def extended_session(gws_settings: Settings) -> Iterator[Bayeux]:
    session = Bayeux(gws_settings, "agent1")
    yield session
    if session.client_id is not None:
        try:
            session.send("/meta/disconnect")
        except httpx.HTTPError:
            pass
    session.close()


def _client_fields(**ext: Any) -> dict[str, Any]:
    return {"ext": ext, "timestamp": formatdate(usegmt=True)}


@pytest.mark.requirement("GWS-COMETD-019")
def test_ext_timestamp_and_client_advice_are_ignored(extended_session: Bayeux) -> None:
    session = extended_session
    now_ms = int(time.time() * 1000)
    handshake = session.meta(
        "/meta/handshake",
        version="1.0",
        minimumVersion="1.0",
        supportedConnectionTypes=["long-polling"],
        advice={"timeout": 60000, "interval": 0},
        **_client_fields(ack=True, timesync={"tc": now_ms, "l": 0, "o": 0}),
    )
    client_id = handshake.get("clientId")
    require(
        handshake.get("successful") is True and isinstance(client_id, str) and bool(client_id),
        "a handshake carrying ext, a timestamp and client advice is refused",
        f"{handshake!r}; the CometD JavaScript client's ack and timesync extensions send exactly this",
        "GWS-COMETD-019",
    )
    session.client_id = client_id
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
