"""The hostile-input battery (GWS-HOST, errata E93-E101): raw requests an attacker sends, as data (docs/hostile.md).

Each case goes over a plain socket (conformance/hostile.py: httpx refuses to send raw non-ASCII header bytes, a
Content-Length larger than the body, control bytes in the request target) to the configured target only, with
bounded sizes and timeouts. What a case must get back, and how state is read back around a case that could write:
hostile_support.py. This module: the REST API, the notifications endpoint over long-polling, and the limits;
websocket and session-addressed messages in test_hostile_websocket.py, the stimulus API in test_hostile_stimulus.py.

The Bayeux cases speak only the protocol (marker ``bayeux``: they also judge a generic Bayeux server), except
what GWS decided beyond Bayeux: credentials, lone surrogates, limits (``gws_specific``). ``--profile`` scales
sizes, depth and counts, never the cases (hostile_support.PUSH).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conformance import casting
from conformance.client import GwsClient, tls_context
from conformance.config import Settings
from conformance.fixtures.scenarios import NewUser
from conformance.overlap import LIMIT, at_once
from conformance.suite.protocol.hostile_support import (
    HANDSHAKE,
    JSON,
    NO_5XX,
    PUSH,
    UNAUTHORIZED,
    Case,
    agent_state,
    answering_and_unchanged,
    bayeux_error,
    bayeux_still_answering,
    credentials,
    deep_array,
    deep_object,
    evidence,
    gws_error,
    judge,
    send,
    still_answering,
)
from conformance.suite.scenarios.support import require, should

BAD_CREDENTIALS = [
    ("raw non-ASCII bytes", b"\xff\xfe\xfd"),
    ("raw UTF-8 bytes", b"\xc3\xa9g=="),
    ("not base64", b"###"),
    ("bad base64 padding", b"YWdlbnQxOnNlY3JldA"),
    ("no colon", b"YWdlbnQx"),
    ("empty", b""),
]

REST_CASES = [
    *(
        Case(
            f"credentials: {what}",
            "GWS-HOST-001",
            b"GET",
            b"/me",
            headers=credentials(v),
            auth=None,
            expect=UNAUTHORIZED,
        )
        for what, v in BAD_CREDENTIALS
    ),
    Case("deeply nested arrays", "GWS-HOST-002", path=b"/me", body=deep_array),
    Case("deeply nested objects", "GWS-HOST-002", path=b"/me", body=deep_object),
    Case(
        "deeply nested arrays, no credentials",
        "GWS-HOST-002",
        path=b"/me",
        body=deep_array,
        auth=None,
        expect=UNAUTHORIZED,
    ),
    Case("a lone surrogate echoed", "GWS-HOST-003", path=b"/me", body=b'{"operationName":"\\ud800"}'),
    Case(
        "a lone surrogate as a member name",
        "GWS-HOST-003",
        path=b"/me",
        body=b'{"operationName":"NoSuchOperation","\\udc00":1}',
    ),
    Case("invalid UTF-8 in the body", "GWS-HOST-006", path=b"/me", body=b'{"operationName":"\xff\xfe"}'),
    Case("a raw NUL in a JSON string", "GWS-HOST-006", path=b"/me", body=b'{"operationName":"Re\x00ady"}'),
    Case("a body that is not JSON", "GWS-HOST-006", path=b"/me", body=b"\x00\x01\x02\x03"),
    Case("a percent-encoded NUL in the query", "GWS-HOST-006", b"GET", b"/me?fields=id%00", expect=NO_5XX),
    Case("a percent-encoded newline in the query", "GWS-HOST-006", b"GET", b"/me?subresources=%0d%0a", expect=NO_5XX),
    Case("invalid UTF-8 in the query", "GWS-HOST-006", b"GET", b"/me?fields=%ff%fe", expect=NO_5XX),
    Case("a raw NUL in the path", "GWS-HOST-006", b"GET", b"/me\x00", expect=NO_5XX),
    Case("a control byte in a header", "GWS-HOST-006", b"GET", b"/me", headers=(b"X-Probe: a\x01b",), expect=NO_5XX),
    Case("an unknown method", "GWS-HOST-006", b"BREW", b"/me", expect=NO_5XX),
    Case("a 64 KB header", "GWS-HOST-006", b"GET", b"/me", headers=(b"X-Probe: " + b"a" * 65_536,), expect=NO_5XX),
    Case(
        "a Content-Length that is not a number",
        "GWS-HOST-006",
        path=b"/me",
        headers=(JSON, b"Content-Length: ten"),
        expect=NO_5XX,
    ),
    Case(
        "a Content-Length larger than the body",
        "GWS-HOST-006",
        path=b"/me",
        body=b'{"op',
        content_length=100,
        half_close=True,
        expect=NO_5XX,
    ),
]

BAYEUX_CASES = [
    Case("deeply nested arrays, no credentials", "GWS-HOST-002", body=deep_array, auth=None),
    Case("deeply nested arrays", "GWS-HOST-002", body=deep_array),
    Case(
        "a message nested deeply in its ext",
        "GWS-HOST-002",
        body=lambda push: b"[" + HANDSHAKE + b',"ext":' + deep_object(push) + b"}]",
    ),
    Case("invalid UTF-8", "GWS-HOST-006", body=b'[{"channel":"/meta/handshake","id":"\xff\xfe"}]'),
    Case("a body that is not JSON", "GWS-HOST-006", body=b"\x00\x01\x02\x03"),
    Case(
        "a Content-Length larger than the body",
        "GWS-HOST-006",
        body=b'[{"chan',
        content_length=100,
        half_close=True,
        expect=NO_5XX,
    ),
]

# GWS's own decisions (E93, E95): Basic credentials, and lone surrogates refused where Bayeux servers may echo them.
GWS_BAYEUX_CASES = [
    Case("a lone surrogate as the message id", "GWS-HOST-003", body=b"[" + HANDSHAKE + b',"id":"\\ud800"}]'),
    Case(
        "a lone surrogate in a subscription",
        "GWS-HOST-003",
        body=b'[{"channel":"/meta/subscribe","clientId":"x","id":"1","subscription":"/v2/me/\\udc00"}]',
    ),
    *(
        Case(
            f"credentials: {what}",
            "GWS-HOST-001",
            body=b"[" + HANDSHAKE + b"}]",
            headers=(JSON, *credentials(v)),
            auth=None,
            expect=UNAUTHORIZED,
        )
        for what, v in BAD_CREDENTIALS[:3]
    ),
]


# -- REST ------------------------------------------------------------------------------------------------------


STATE = "{}'s state (GET /me?subresources=*, GET /me/calls?fields=*)"


def refused_without_trace(
    case: Case,
    settings: Settings,
    client_for: Callable[[str], GwsClient],
    exclusive: Callable[..., None],
    url: str | None = None,
) -> None:
    """Send ``case`` as agent1, judge the answer, check the server still answers, and — for a case that could
    write — read agent1's state back: it holds agent1 meanwhile, so no other test's change is taken for the case's.
    With a pool any free agent plays agent1 (the test is marked ``recast``): the case goes with its credentials."""
    if case.writes:
        exclusive("agent1")
    agent1 = client_for("agent1")
    before = agent_state(agent1) if case.writes else None
    judge(case, send(settings, url or settings.base_url, case), gws_error)
    if before is None:
        still_answering(agent1, case)
    else:
        answering_and_unchanged(agent1, case, STATE.format(casting.account("agent1")), before)


@pytest.mark.recast
@pytest.mark.requirement("GWS-HOST-001", "GWS-HOST-002", "GWS-HOST-003", "GWS-HOST-006", "GWS-GEN-001")
@pytest.mark.parametrize("case", REST_CASES, ids=lambda case: case.name)
def test_rest_refuses_hostile_input(
    case: Case, gws_settings: Settings, gws_client: Callable[[str], GwsClient], gws_exclusive: Callable[..., None]
) -> None:
    refused_without_trace(case, gws_settings, gws_client, gws_exclusive)


@pytest.mark.recast
@pytest.mark.requirement("GWS-HOST-006", "GWS-GEN-001")
def test_rest_refuses_an_oversized_body(
    gws_settings: Settings, gws_client: Callable[[str], GwsClient], gws_exclusive: Callable[..., None]
) -> None:
    size = PUSH[gws_settings.fuzz.profile].body_bytes
    case = Case(
        f"a {size // 1024} KB body", "GWS-HOST-006", path=b"/me", body=b'{"operationName":"' + b"x" * size + b'"}'
    )
    refused_without_trace(case, gws_settings, gws_client, gws_exclusive)


@pytest.mark.requirement("GWS-HOST-003", "GWS-GEN-001")
def test_a_lone_surrogate_is_not_stored(gws_settings: Settings, gws_admin: GwsClient, gws_agent1: GwsClient) -> None:
    """A contact named with a lone surrogate: refused, and every user's contact list still reads (E95)."""
    body = b'{"name":"hostile-\\udfff","phoneNumber":"5550199","type":"Custom"}'
    case = Case("a contact named with a lone surrogate", "GWS-HOST-003", path=b"/contacts", body=body, auth="admin")
    reply = send(gws_settings, gws_settings.base_url, case)
    created = reply.json() if reply.status == 200 else None
    try:
        judge(case, reply, gws_error)
        listed = gws_agent1.get("/contacts", params={"fields": "*"})
        names = [c.get("name") for c in (listed.json_body or {}).get("contacts", []) if isinstance(c, dict)]
        require(
            listed.status_code == 200 and not any(str(n).startswith("hostile-") for n in names),
            "a contact named with a lone surrogate is stored, or the contact list no longer reads",
            f"GET /contacts?fields=* -> HTTP {listed.status_code}: {listed.text[:300]}",
            "GWS-HOST-003",
        )
    finally:
        uri = created.get("uri") if isinstance(created, dict) else None
        if isinstance(uri, str):
            gws_admin.delete(uri, expect_json=False)


HEADER_FLOODS = {
    "one oversized header": lambda size, _: (b"X-Probe: " + b"a" * size,),
    "a header flood": lambda _, count: tuple(b"X-Probe-%d: a" % i for i in range(count)),
}


@pytest.mark.requirement("GWS-HOST-007", "GWS-HOST-006")
@pytest.mark.parametrize("what", HEADER_FLOODS)
def test_an_oversized_header_section_is_refused(what: str, gws_settings: Settings, gws_agent1: GwsClient) -> None:
    push = PUSH[gws_settings.fuzz.profile]
    headers = HEADER_FLOODS[what](push.header_bytes, push.header_count)
    what = f"{what} ({len(headers)} fields, {sum(map(len, headers)) // 1024} KB)"
    case = Case(what, "GWS-HOST-006", b"GET", b"/me", headers=headers, expect=NO_5XX)
    reply = send(gws_settings, gws_settings.base_url, case)
    judge(case, reply, gws_error)
    should(
        400 <= reply.status < 500 or reply.status == 0,
        f"a request with {what} is served",
        evidence(case, reply) + "; E96: a header section past the server's limit is refused (431)",
        "GWS-HOST-007",
    )
    still_answering(gws_agent1, case)


@pytest.mark.requirement("GWS-HOST-008", "GWS-HOST-006", "GWS-GEN-001")
def test_an_oversized_query_string_is_refused(gws_settings: Settings, gws_agent1: GwsClient) -> None:
    # An undeclared parameter (a cache buster, as jQuery's ``_=``) is ignored (E99): only the length can refuse it.
    size = PUSH[gws_settings.fuzz.profile].query_bytes
    case = Case(f"a {size // 1024} KB query string", "GWS-HOST-006", b"GET", b"/me?_=" + b"a" * size, expect=NO_5XX)
    reply = send(gws_settings, gws_settings.base_url, case)
    judge(case, reply, gws_error)
    should(
        400 <= reply.status < 500 and gws_error(reply.json()),
        f"a request with {case.name} is served, or refused without a JSON statusCode",
        evidence(case, reply) + "; E101: a query string past the server's limit (Jetty's and Tomcat's default: "
        "8 KB for the whole request line) is refused with a JSON error (414, statusCode 2)",
        "GWS-HOST-008",
    )
    still_answering(gws_agent1, case)


# -- the notifications endpoint (long-polling) ------------------------------------------------------------------


@pytest.mark.bayeux
@pytest.mark.requirement("GWS-HOST-006")
@pytest.mark.parametrize("case", BAYEUX_CASES, ids=lambda case: case.name)
def test_the_notifications_endpoint_survives_hostile_input(case: Case, gws_settings: Settings) -> None:
    # What any Bayeux server owes such a request: no server error, and the next client still served. CometD's
    # Node server and Faye accept a 10,000-deep ext and decode invalid UTF-8 leniently, and answer a body that
    # is not JSON with a bare 400: correct servers, so refusing is GWS's rule (E94), judged below.
    survived = dataclasses.replace(case, requirement="GWS-HOST-006", expect=NO_5XX)
    judge(survived, send(gws_settings, gws_settings.cometd_url, survived), bayeux_error)
    bayeux_still_answering(gws_settings, survived)


@pytest.mark.gws_specific("hostile input refused with a Bayeux error reply (E94), GWS-HOST-002, GWS-HOST-006")
@pytest.mark.requirement("GWS-HOST-002", "GWS-HOST-003", "GWS-HOST-006")
@pytest.mark.parametrize("case", BAYEUX_CASES, ids=lambda case: case.name)
def test_the_notifications_endpoint_refuses_hostile_input(case: Case, gws_settings: Settings) -> None:
    judge(case, send(gws_settings, gws_settings.cometd_url, case), bayeux_error)
    bayeux_still_answering(gws_settings, case)


@pytest.mark.gws_specific(
    "Basic credentials and lone surrogates at the notifications endpoint, GWS-HOST-001, GWS-HOST-003"
)
@pytest.mark.requirement("GWS-HOST-001", "GWS-HOST-003")
@pytest.mark.parametrize("case", GWS_BAYEUX_CASES, ids=lambda case: case.name)
def test_the_notifications_endpoint_refuses_gws_hostile_input(case: Case, gws_settings: Settings) -> None:
    judge(case, send(gws_settings, gws_settings.cometd_url, case), bayeux_error)
    bayeux_still_answering(gws_settings, case)


@pytest.mark.gws_specific("the notifications body limit, GWS-HOST-004")
@pytest.mark.requirement("GWS-HOST-004")
def test_an_oversized_notifications_body_is_refused_before_authentication(gws_settings: Settings) -> None:
    size = PUSH[gws_settings.fuzz.profile].body_bytes
    case = Case(
        f"a {size // 1024} KB body, no credentials",
        "GWS-HOST-004",
        body=b"[" + b" " * size + b"]",
        auth=None,
        expect=NO_5XX,
    )
    reply = send(gws_settings, gws_settings.cometd_url, case)
    judge(case, reply, bayeux_error)
    should(
        reply.status == 413,
        "an oversized notifications body is not refused with 413 before authentication",
        evidence(case, reply) + "; E96: read no further than the limit, before the sender is authenticated",
        "GWS-HOST-004",
    )
    bayeux_still_answering(gws_settings, case)


# -- limits -----------------------------------------------------------------------------------------------------


OFFER = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
DISCONNECT = {"channel": "/meta/disconnect"}


def first_reply(answer: httpx.Response) -> dict[str, Any]:
    """The first message of a Bayeux reply, or what was unreadable in its place."""
    try:
        replies = answer.json()
    except ValueError:
        replies = None
    found = [m for m in replies if isinstance(m, dict)] if isinstance(replies, list) else []
    return found[0] if found else {"unreadable": answer.text[:300]}


def session_of(reply: dict[str, Any]) -> str | None:
    """The clientId of the session a handshake reply opened; None: it opened none."""
    client_id = reply.get("clientId")
    return client_id if reply.get("successful") is True and isinstance(client_id, str) else None


@pytest.mark.gws_specific("a per-user session limit, GWS-HOST-005")
@pytest.mark.requirement("GWS-HOST-005")
def test_one_users_sessions_are_limited(gws_new_user: Callable[..., NewUser], gws_settings: Settings) -> None:
    """The profile's count of handshakes (101 but in ``deep``) of one user, then the first session's connect: a server with a limit refused a
    handshake past it, or ended the oldest session (E96). The user is new, so no other test's session is in the way.

    The first handshake goes alone, and only once it is answered the others, several at a time (overlap.LIMIT:
    one after another, each a round trip, 100 take 5 s over a 50 ms network): so the first session is the oldest
    whichever way the server orders the rest, and every other handshake is a request of its own (a new session,
    no clientId), which a Bayeux server answers whatever else is in flight. The disconnects of cleanup likewise."""
    flood = PUSH[gws_settings.fuzz.profile].sessions
    user = gws_new_user()
    timeout = httpx.Timeout(gws_settings.request_timeout_s)
    answers: list[httpx.Response | httpx.HTTPError] = []
    limits = httpx.Limits(max_connections=LIMIT, max_keepalive_connections=LIMIT)
    with httpx.Client(
        auth=(user.user_name, user.password), timeout=timeout, verify=tls_context(), limits=limits
    ) as http:

        def post(message: dict[str, Any]) -> httpx.Response | httpx.HTTPError:
            # A transport error comes back as a value and is raised in the test's own thread once every answer is
            # in: so that cleanup knows every session the flood opened.
            try:
                return http.post(gws_settings.cometd_url, json=[message])
            except httpx.HTTPError as error:
                return error

        def judged(channel: str, answer: httpx.Response | httpx.HTTPError) -> dict[str, Any]:
            if isinstance(answer, httpx.HTTPError):
                raise answer
            require(
                answer.status_code < 500,
                f"{channel} in a session flood gets a server error",
                f"HTTP {answer.status_code}: {answer.text[:300]}",
                "GWS-HOST-005",
            )
            return first_reply(answer)

        try:
            answers.append(post(OFFER))
            first = judged("/meta/handshake", answers[0])
            answers += at_once([functools.partial(post, OFFER)] * (flood - 1))
            replies = [first, *(judged("/meta/handshake", answer) for answer in answers[1:])]
            client_ids = [client_id for client_id in map(session_of, replies) if client_id is not None]
            refused = [reply for reply in replies if session_of(reply) is None]
            connect = {"channel": "/meta/connect", "connectionType": "long-polling", "advice": {"timeout": 0}}
            first_alive = (
                bool(client_ids)
                and judged("/meta/connect", post({**connect, "clientId": client_ids[0]})).get("successful") is True
            )
            should(
                bool(refused) or not first_alive,
                f"one user holds {flood} concurrent CometD sessions",
                f"{len(client_ids)} handshakes succeeded and the first session still connects; E96: past a "
                "per-user limit a handshake is refused or the oldest session ends",
                "GWS-HOST-005",
            )
            require(
                all(r.get("successful") is False and isinstance(r.get("error"), str) for r in refused),
                "a handshake past the session limit is refused without an error reply",
                f"{refused[:3]!r}",
                "GWS-HOST-005",
            )
        finally:
            opened = [session_of(first_reply(a)) for a in answers if isinstance(a, httpx.Response)]
            ended = at_once([functools.partial(post, {**DISCONNECT, "clientId": c}) for c in opened if c is not None])
            for answer in ended:
                if isinstance(answer, httpx.HTTPError):
                    raise answer
