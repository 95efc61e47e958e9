"""The suite's notification listener (conformance/cometd.py) against the reference Bayeux server."""

from __future__ import annotations

import asyncio
import gc
import socket
import warnings
from collections.abc import Iterator

import httpx
import pytest
from bayeux_live import PUBLISH_PATH, LiveServer, basic, serve

from conformance.cometd import ExpectationFailed, ListenerError, NotificationListener, QuietnessBroken
from conformance.notifications import validate_notification

pytestmark = [
    pytest.mark.filterwarnings("ignore:float parameter 'receive_timeout' is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:ssl=None is deprecated:DeprecationWarning"),
]

DTMF = {
    "messageType": "CallStateChangeMessage",
    "notificationType": "DtmfSent",
    "phoneNumber": "5001",
    "call": {"id": "c1", "state": "Established", "capabilities": ["Hangup"], "participants": ["5002"]},
}


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    with serve(timeout_ms=1000) as server:
        yield server


def publish(live: LiveServer, user: str, data: dict, topic: str = "/v2/me/calls", *, as_user: str = "agent1") -> None:
    response = httpx.post(
        live.base_url + PUBLISH_PATH,
        json={"user": user, "topic": topic, "data": data},
        headers={"Authorization": basic(as_user)},
    )
    assert response.json() == {"statusCode": 0}


@pytest.mark.parametrize("connection_type", ["long-polling", "websocket"])
def test_expect_returns_the_matching_message_with_its_schema_verdict(live: LiveServer, connection_type: str) -> None:
    with NotificationListener(
        live.url,
        "agent1",
        "agent1-pw",
        ["/v2/me/calls"],
        connection_type=connection_type,
        schema_check=validate_notification,
    ) as listener:
        cursor = listener.mark()
        publish(live, "agent1", {**DTMF, "call": {**DTMF["call"], "state": "Exploded"}})
        publish(live, "agent1", DTMF)
        bad = listener.expect("/v2/me/calls", timeout_s=5, after=cursor)
        good = listener.expect("/v2/me/calls", lambda d: d["call"]["state"] == "Established", timeout_s=5, after=cursor)
    assert bad.schema_errors, "an unknown call state must fail the notification schema"
    assert good.schema_errors == ()
    assert good.index > bad.index and good.user == "agent1"


def test_expect_fails_with_what_arrived_when_nothing_matches(live: LiveServer) -> None:
    with NotificationListener(live.url, "agent1", "agent1-pw", ["/v2/me/calls"]) as listener:
        cursor = listener.mark()
        publish(live, "agent1", DTMF)
        listener.expect("/v2/me/calls", timeout_s=5, after=cursor)
        with pytest.raises(ExpectationFailed) as failure:
            listener.expect("/v2/me/calls", lambda d: d["call"]["state"] == "Held", timeout_s=0.3, after=cursor)
    assert "DtmfSent" in str(failure.value)
    assert len(failure.value.received) == 1


def test_assert_quiet_catches_a_duplicate_and_passes_when_quiet(live: LiveServer) -> None:
    with NotificationListener(live.url, "agent2", "agent2-pw", ["/v2/me/calls"]) as listener:
        cursor = listener.mark()
        publish(live, "agent1", DTMF)  # another user's message must never reach agent2
        listener.assert_quiet("/v2/me/calls", window_s=0.3, after=cursor)
        publish(live, "agent2", DTMF, as_user="agent2")
        first = listener.expect("/v2/me/calls", timeout_s=5, after=cursor)
        publish(live, "agent2", DTMF, as_user="agent2")
        with pytest.raises(QuietnessBroken):
            listener.assert_quiet("/v2/me/calls", window_s=5, after=first.index + 1, description="no duplicate")


def test_start_fails_clearly_for_wrong_credentials(live: LiveServer) -> None:
    with pytest.raises(ListenerError, match="agent1"):
        NotificationListener(live.url, "agent1", "wrong", ["/v2/me/calls"], connect_timeout_s=5).start()


def test_start_fails_clearly_for_an_unreachable_target() -> None:
    with pytest.raises(ListenerError):
        NotificationListener(
            "http://127.0.0.1:9/api/v2/notifications", "a", "b", ["/v2/me"], connect_timeout_s=3
        ).start()


def test_a_start_that_times_out_leaves_no_http_session_open() -> None:
    """A server that takes the connection and never answers the handshake: start gives up at its deadline, and
    the listener's aiohttp session is closed with it (aiohttp warns "Unclosed client session" otherwise)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api/v2/notifications"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(ListenerError, match="within 1s"):
                NotificationListener(url, "a", "b", ["/v2/me"], connect_timeout_s=1).start()
            gc.collect()
    unclosed = [str(warning.message) for warning in caught if "Unclosed" in str(warning.message)]
    assert unclosed == []


def test_client_habits_advise_timeout_0_once_per_handshake_and_rehandshake_on_a_402_connect() -> None:
    from conformance.cometd import _CometdClientHabits

    habits = _CometdClientHabits()

    def sent(*channels: str) -> list[dict]:
        payload = [{"channel": channel} for channel in channels]
        asyncio.run(habits.outgoing(payload, {}))
        return payload

    # Before any handshake a connect is the library's own; after one, only the first connect gets the advice.
    assert "advice" not in sent("/meta/connect")[0]
    sent("/meta/handshake")
    first, subscribe = sent("/meta/connect", "/meta/subscribe")
    assert first["advice"] == {"timeout": 0} and "advice" not in subscribe
    assert "advice" not in sent("/meta/connect")[0]

    # A 402 to a connect without advice gets the handshake advice the library acts on; others stay as sent.
    replies = [
        {"channel": "/meta/connect", "successful": False, "error": "402::session_unknown"},
        {"channel": "/meta/subscribe", "successful": False, "error": "402::session_unknown"},
        {"channel": "/meta/connect", "successful": False, "error": "403::denied", "advice": {"reconnect": "none"}},
    ]
    asyncio.run(habits.incoming(replies))
    assert replies[0]["advice"] == {"reconnect": "handshake"}
    assert "advice" not in replies[1] and replies[2]["advice"] == {"reconnect": "none"}
