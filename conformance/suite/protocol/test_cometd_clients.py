"""Bayeux requests shaped the way real CometD clients send them (E84-E86), spoken by hand like test_cometd.py.

- Sub-path URLs (GWS-COMETD-015): the official JavaScript client (``appendMessageTypeToURL``, on by default)
  and the Java client post each meta message to the endpoint URL with the channel's last segment appended.
- Wildcard subscriptions (GWS-COMETD-016): a client that wants "everything for me" subscribes to ``/v2/me/*``
  or ``/**`` and still expects each message once.
- ``advice.timeout: 0`` (GWS-COMETD-017): the CometD clients advise it on their first connect and wait for
  its reply before they report the session open.

The sub-path and timeout-0 tests ask nothing GWS defines (a subscription to a channel any Bayeux server
creates on demand, any successful reply): they pass against any correct CometD server. The wildcard test
needs GWS: the agent role, its /v2/me topics and a REST operation that causes a message on one of them.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conformance import casting
from conformance.api import Device
from conformance.bayeux import HOLD_MS, HOLD_TOLERANCE, Bayeux, Message
from conformance.client import GwsClient
from conformance.config import Settings
from conformance.delivery import DeliveryClock
from conformance.outcomes import not_applicable
from conformance.overlap import at_once
from conformance.suite.scenarios.lifecycle import best_effort
from conformance.suite.scenarios.support import Me, require, should

DEVICES, USERS = "/v2/me/devices", "/v2/users"
# A channel every Bayeux server lets a client subscribe to (a GWS server defines it for every user).
ANY_SERVER_TOPIC = "/v2/me"
SUB_PATH_HABIT = (
    "the CometD JavaScript client (appendMessageTypeToURL, its default) and the Java client post meta messages "
    "to the endpoint URL with the channel's last segment appended, or with a trailing slash (E84)"
)
# The same bound test_cometd.py's hold test uses: a connect answered sooner than this was not held.
AT_ONCE_S = HOLD_TOLERANCE * HOLD_MS / 1000
PATTERNS = ("/v2/me/*", "/v2/me/**", "/**")


# -- sub-path URLs ----------------------------------------------------------------------------------------


def _step(session: Bayeux, channel: str, path_suffix: str | None = None, **fields: Any) -> Message | None:
    """The successful reply to ``channel`` posted at its sub-path; None (and a warning) when there is none."""
    url = session.url_for(channel, path_suffix)
    response, replies = session.send(channel, path_suffix=path_suffix, **fields)
    found = [m for m in replies if m.get("channel") == channel]
    reply = found[-1] if found else None
    answered = response.status_code == 200 and reply is not None and reply.get("successful") is True
    should(
        answered,
        f"a {channel} posted to {url.removeprefix(session.url.rstrip('/')) or 'the endpoint'!r} is not answered as "
        "at the endpoint",
        f"POST {url} got HTTP {response.status_code}: {response.text[:500]}; {SUB_PATH_HABIT}",
        "GWS-COMETD-015",
    )
    return reply if answered else None


@pytest.mark.bayeux
@pytest.mark.requirement("GWS-COMETD-015")
def test_a_whole_session_on_the_message_type_sub_paths(gws_bayeux: Callable[..., Bayeux]) -> None:
    session = gws_bayeux("agent1", sub_paths=True)
    handshake = _step(
        session, "/meta/handshake", version="1.0", minimumVersion="1.0", supportedConnectionTypes=["long-polling"]
    )
    if handshake is None:
        return
    client_id = handshake.get("clientId")
    require(
        isinstance(client_id, str) and bool(client_id),
        "the handshake reply has no clientId",
        f"{handshake!r}",
        "GWS-COMETD-002",
    )
    session.client_id = client_id
    # The Java and .NET clients post each meta message to its own sub-path; the JavaScript client posts
    # /meta/subscribe and /meta/unsubscribe to the endpoint with a trailing slash ("/").
    steps: list[tuple[str, str | None, dict[str, Any]]] = [
        ("/meta/subscribe", None, {"subscription": ANY_SERVER_TOPIC}),
        ("/meta/connect", None, {"connectionType": "long-polling", "advice": {"timeout": 0}}),
        ("/meta/unsubscribe", "/", {"subscription": ANY_SERVER_TOPIC}),
        ("/meta/subscribe", "/", {"subscription": ANY_SERVER_TOPIC}),
        ("/meta/unsubscribe", None, {"subscription": ANY_SERVER_TOPIC}),
        ("/meta/disconnect", None, {}),
    ]
    for channel, path_suffix, fields in steps:
        if _step(session, channel, path_suffix, **fields) is None:
            return
    session.client_id = None  # disconnected: nothing left to end


# -- advice timeout 0 ---------------------------------------------------------------------------------------


def _timed_connect(session: Bayeux) -> tuple[float, Message | None, str]:
    """A connect advising timeout 0: (seconds to its reply, the reply or None, what went wrong)."""
    started = time.monotonic()
    try:
        response, replies = session.send("/meta/connect", connectionType="long-polling", advice={"timeout": 0})
    except httpx.TimeoutException:
        return time.monotonic() - started, None, "no reply before the client gave up"
    elapsed = time.monotonic() - started
    found = [m for m in replies if m.get("channel") == "/meta/connect"]
    return elapsed, found[-1] if found else None, f"HTTP {response.status_code}: {response.text[:500]}"


@pytest.mark.bayeux
@pytest.mark.requirement("GWS-COMETD-017")
def test_a_connect_advising_timeout_0_is_answered_at_once(gws_bayeux: Callable[..., Bayeux]) -> None:
    session = gws_bayeux("agent1")
    session.handshake()
    # The first connect (what the CometD clients wait for before they report the session open), then one
    # a server would otherwise hold: nothing is subscribed, so nothing can end its hold early.
    for which in ("first", "second"):
        elapsed, reply, problem = _timed_connect(session)
        require(
            reply is not None and reply.get("successful") is True,
            f"the {which} /meta/connect advising timeout 0 is not answered successful",
            f"{reply!r}" if reply is not None else problem,
            "GWS-COMETD-004",
        )
        should(
            elapsed < AT_ONCE_S,
            f"the {which} /meta/connect advising timeout 0 is held",
            f"answered after {elapsed * 1000:.0f} ms (at once is under {AT_ONCE_S * 1000:.0f} ms); the CometD clients "
            "advise timeout 0 on their first connect and report the session open only when it is answered (E86)",
            "GWS-COMETD-017",
        )


# -- wildcard subscriptions ---------------------------------------------------------------------------------


def _events(session: Bayeux, hold_ms: int) -> list[Message]:
    _, replies = session.send("/meta/connect", connectionType="long-polling", advice={"timeout": hold_ms})
    return [m for m in replies if not str(m.get("channel", "")).startswith("/meta/")]


def _received(session: Bayeux, topic: str, settings: Settings, delivery: DeliveryClock) -> list[Message]:
    """Every message up to the first on ``topic`` and then until a quiet window passes with nothing more.

    The window is what the scenarios' Inbox.assert_quiet waits for a duplicate (sized from the run's measured
    delivery): one client's messages come in order, so what comes later than that is a stray, judged like one.
    """
    received: list[Message] = []
    deadline = time.monotonic() + settings.notification_timeout_s
    while time.monotonic() < deadline and not any(m.get("channel") == topic for m in received):
        received += _events(session, HOLD_MS)
    while time.monotonic() < deadline:
        late = _events(session, max(1, round(delivery.spend() * 1000)))
        if not late:
            break
        received += late
    return received


def _on(topic: str, messages: list[Message]) -> list[Any]:
    return [m.get("data") for m in messages if m.get("channel") == topic]


@pytest.mark.recast  # with a pool, whichever agent is free plays agent1
@pytest.mark.feature("api-voice")
@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.requirement("GWS-COMETD-016")
def test_a_wildcard_subscription_delivers_each_message_once(
    pattern: str,
    gws_bayeux: Callable[..., Bayeux],
    gws_exclusive: Callable[..., None],
    gws_client: Callable[[str], GwsClient],
    gws_settings: Settings,
    gws_delivery: DeliveryClock,
) -> None:
    gws_exclusive("agent1")  # its device changes: no scenario may be listening meanwhile
    agent1 = gws_client("agent1")
    me = Me.read(agent1)
    if not me.device_ids:
        not_applicable(
            f"{casting.account('agent1')} has no device: the test changes a device's Do Not Disturb to cause a message"
        )
    device = Device(agent1, me.device_ids[0])
    # Three sessions of agent1: the pattern alone, the pattern and the plain topic it matches, the plain topic
    # alone. The last one says how many messages the change causes; each other must get exactly those.
    wild, both, plain = gws_bayeux("agent1"), gws_bayeux("agent1"), gws_bayeux("agent1")
    # The three sessions are independent: each step goes to all of them at once, one message per session in
    # flight, and is judged in the order it was once sent in.
    at_once([session.handshake for session in (wild, both, plain)])
    subscribed = at_once([functools.partial(s.meta, "/meta/subscribe", subscription=pattern) for s in (wild, both)])
    for granted in subscribed:
        should(
            granted.get("successful") is True,
            f"the wildcard subscription {pattern} is refused",
            f"{granted!r}; a client that wants every message of its user subscribes with a pattern, which matches "
            "topics the agent may receive (E85)",
            "GWS-COMETD-016",
        )
        if granted.get("successful") is not True:
            return
    at_once([functools.partial(session.subscribe, DEVICES, "GWS-COMETD-007") for session in (both, plain)])
    at_once([functools.partial(session.connect, advice={"timeout": 0}) for session in (wild, both, plain)])
    try:
        device.dnd_on()
        # Each session reads its own messages until its own quiet window passes: the windows overlap.
        heard = at_once(
            [functools.partial(_received, s, DEVICES, gws_settings, gws_delivery) for s in (plain, wild, both)]
        )
        expected = _on(DEVICES, heard[0])
        require(
            bool(expected),
            f"no {DEVICES} message after DoNotDisturbOn",
            f"a session subscribed to {DEVICES} received nothing on it within {gws_settings.notification_timeout_s} s",
            "GWS-AGST-011",
        )
        for received, how in zip(heard[1:], (f"{pattern} alone", f"{pattern} and {DEVICES}"), strict=True):
            got = _on(DEVICES, received)
            should(
                got == expected,
                f"a client subscribed to {how} gets no {DEVICES} message"
                if not got
                else f"a client subscribed to {how} does not get each {DEVICES} message once",
                f"got {len(got)} {DEVICES} message(s) where a client subscribed to {DEVICES} got {len(expected)}: "
                f"{got!r}",
                "GWS-COMETD-016",
            )
            leaked = _on(USERS, received)
            require(
                not leaked,
                f"an agent's wildcard subscription {pattern} delivers {USERS} messages",
                f"received {leaked!r}",
                "GWS-NOTIF-006",
            )
    finally:
        best_effort(device.dnd_off)
