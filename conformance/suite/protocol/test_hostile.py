"""The hostile-input battery (GWS-HOST, errata E93-E96): raw requests an attacker sends, as data.

Each case goes over a plain socket (conformance/hostile.py: httpx refuses to send raw non-ASCII header bytes, a
Content-Length larger than the body, control bytes in the request target) to the configured target only, with
bounded sizes and timeouts. A case must be answered with a client error — a 4xx with a JSON statusCode on the
REST API, a Bayeux error reply at the notifications endpoint — or, where HTTP itself cannot carry the request, at
least never with a 5xx; and the server must go on answering a normal request afterwards. A case that would write
is read back: nothing of it may be stored.

The Bayeux cases speak only the protocol (marker ``bayeux``: they also judge a generic Bayeux server), except
what GWS decided beyond Bayeux: credentials, lone surrogates, limits (``gws_specific``). ``--gws-profile deep``
sends larger bodies.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import connect as websocket_connect

from conformance.bayeux import probe
from conformance.client import GwsClient, tls_context
from conformance.config import Settings
from conformance.fixtures.scenarios import NewUser
from conformance.hostile import RawReply, Target, raw_request
from conformance.suite.scenarios.support import require, should

DEEP = 10_000
DEEP_ARRAY = b"[" * DEEP + b"]" * DEEP
DEEP_OBJECT = b'{"a":' * DEEP + b"1" + b"}" * DEEP
HANDSHAKE = b'{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]'
JSON = b"Content-Type: application/json"
# Bodies past any sensible limit of a server whose documents are a few attributes; "deep" pushes harder.
OVERSIZED_BYTES = {"quick": 2 * 1024 * 1024, "default": 2 * 1024 * 1024, "deep": 8 * 1024 * 1024}
# GWS-HOST-005 (E96): one user's sessions the suite opens; a server holding them all has no limit below it.
SESSION_FLOOD = 101

# What a case must get back.
ERROR = "error"  # a 4xx with a JSON statusCode other than 0 (REST), a Bayeux error reply (notifications)
UNAUTHORIZED = "401"  # HTTP 401: wrong credentials
NO_5XX = "no-5xx"  # HTTP cannot carry it: any 4xx, or the connection closed, but never a 5xx


@dataclass(frozen=True)
class Case:
    name: str
    requirement: str
    method: bytes = b"POST"
    path: bytes = b""  # below the base URL (REST) or the notifications URL
    body: bytes = b""
    headers: tuple[bytes, ...] = (JSON,)
    auth: str | None = "agent1"  # whose valid Basic credentials go with it; None: none (or the case's own header)
    content_length: int | None = None  # declared when it is not the body's length
    half_close: bool = False
    expect: str = ERROR


def credentials(value: bytes) -> tuple[bytes, ...]:
    return (b"Authorization: Basic " + value,)


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
    Case("10,000 nested arrays", "GWS-HOST-002", path=b"/me", body=DEEP_ARRAY),
    Case("10,000 nested objects", "GWS-HOST-002", path=b"/me", body=DEEP_OBJECT),
    Case(
        "10,000 nested arrays, no credentials",
        "GWS-HOST-002",
        path=b"/me",
        body=DEEP_ARRAY,
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
    Case("a 64 KB query string", "GWS-HOST-006", b"GET", b"/me?fields=" + b"a" * 65_536, expect=NO_5XX),
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
    Case("10,000 nested arrays, no credentials", "GWS-HOST-002", body=DEEP_ARRAY, auth=None),
    Case("10,000 nested arrays", "GWS-HOST-002", body=DEEP_ARRAY),
    Case("a message 10,000 objects deep", "GWS-HOST-002", body=b"[" + HANDSHAKE + b',"ext":' + DEEP_OBJECT + b"}]"),
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


def basic(settings: Settings, role: str | None) -> str | None:
    """The Authorization value of ``role`` (None: no such account or no password, as on a generic Bayeux server)."""
    account = settings.users.get(role) if role else None
    if account is None or account.password is None:
        return None
    return "Basic " + base64.b64encode(f"{account.user}:{account.password}".encode()).decode()


def send(settings: Settings, url: str, case: Case) -> RawReply:
    authorization = basic(settings, case.auth)
    headers = case.headers if authorization is None else (*case.headers, f"Authorization: {authorization}".encode())
    return raw_request(
        Target(url),
        case.method,
        case.path,
        headers=headers,
        body=case.body,
        content_length=case.content_length,
        timeout_s=settings.request_timeout_s,
        half_close=case.half_close,
    )


def evidence(case: Case, reply: RawReply) -> str:
    return f"{case.method.decode()} {case.path[:80]!r} ({case.name}) -> {reply.describe()}"


def judge(case: Case, reply: RawReply, is_error_body: Callable[[Any], bool]) -> None:
    """The case's expectation: no 5xx (any case), then its own answer."""
    require(
        reply.status < 500,
        f"a hostile request ({case.name}) gets a server error",
        evidence(case, reply),
        case.requirement,
    )
    if case.expect == NO_5XX:
        return
    require(
        reply.status != 0, f"a hostile request ({case.name}) gets no answer", evidence(case, reply), case.requirement
    )
    if case.expect == UNAUTHORIZED:
        require(
            reply.status == 401,
            f"undecodable or missing credentials ({case.name}) are not answered 401",
            evidence(case, reply),
            case.requirement,
        )
        return
    require(
        400 <= reply.status < 500 or (reply.status == 200 and is_error_body(reply.json())),
        f"a hostile request ({case.name}) is not refused as a client error",
        evidence(case, reply),
        case.requirement,
    )
    if is_error_body is gws_error:
        # A reply without an integer statusCode breaks the rule every reply answers to, whatever provoked it.
        require(
            status_code(reply.json()) is not None,
            f"the refusal of a hostile request ({case.name}) carries no statusCode",
            evidence(case, reply),
            "GWS-GEN-001",
        )
    require(
        is_error_body(reply.json()),
        f"the refusal of a hostile request ({case.name}) carries no error reply",
        evidence(case, reply),
        case.requirement,
    )


def status_code(body: Any) -> int | None:
    code = body.get("statusCode") if isinstance(body, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def gws_error(body: Any) -> bool:
    return status_code(body) not in (None, 0)


def bayeux_error(body: Any) -> bool:
    messages = body if isinstance(body, list) else [body]
    return bool(messages) and all(isinstance(m, dict) and m.get("successful") is False for m in messages)


def still_answering(client: GwsClient, case: Case) -> None:
    me = client.get("/me")
    require(
        me.status_code == 200,
        f"after a hostile request ({case.name}) GET /me is not answered",
        f"GET /me -> HTTP {me.status_code}: {me.text[:300]}",
        "GWS-HOST-006",
    )


def bayeux_still_answering(settings: Settings, case: Case) -> None:
    response, handshake = probe(settings, timeout_s=settings.request_timeout_s)
    require(
        response.status_code < 500 and handshake is not None,
        f"after a hostile request ({case.name}) a handshake is not answered",
        f"HTTP {response.status_code}: {response.text[:300]}",
        "GWS-HOST-006",
    )


# -- REST ------------------------------------------------------------------------------------------------------


@pytest.mark.requirement("GWS-HOST-001", "GWS-HOST-002", "GWS-HOST-003", "GWS-HOST-006", "GWS-GEN-001")
@pytest.mark.parametrize("case", REST_CASES, ids=lambda case: case.name)
def test_rest_refuses_hostile_input(case: Case, gws_settings: Settings, gws_agent1: GwsClient) -> None:
    reply = send(gws_settings, gws_settings.base_url, case)
    judge(case, reply, gws_error)
    still_answering(gws_agent1, case)


@pytest.mark.requirement("GWS-HOST-006", "GWS-GEN-001")
def test_rest_refuses_an_oversized_body(gws_settings: Settings, gws_agent1: GwsClient) -> None:
    size = OVERSIZED_BYTES[gws_settings.fuzz.profile]
    case = Case(
        f"a {size // 1024} KB body", "GWS-HOST-006", path=b"/me", body=b'{"operationName":"' + b"x" * size + b'"}'
    )
    judge(case, send(gws_settings, gws_settings.base_url, case), gws_error)
    still_answering(gws_agent1, case)


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


HEADER_FLOODS = [
    ("a 256 KB header", (b"X-Probe: " + b"a" * 256 * 1024,)),
    ("10,000 headers", tuple(b"X-Probe-%d: a" % i for i in range(10_000))),
]


@pytest.mark.requirement("GWS-HOST-007", "GWS-HOST-006")
@pytest.mark.parametrize("what, headers", HEADER_FLOODS, ids=[h[0] for h in HEADER_FLOODS])
def test_an_oversized_header_section_is_refused(
    what: str, headers: tuple[bytes, ...], gws_settings: Settings, gws_agent1: GwsClient
) -> None:
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
    size = OVERSIZED_BYTES[gws_settings.fuzz.profile]
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


# -- the notifications endpoint (websocket) ---------------------------------------------------------------------

WEBSOCKET_FRAMES = [
    pytest.param("10,000 nested arrays", "GWS-HOST-002", DEEP_ARRAY.decode(), id="10,000 nested arrays"),
    pytest.param(
        "a lone surrogate as the message id",
        "GWS-HOST-003",
        (b"[" + HANDSHAKE + b',"id":"\\ud800"}]').decode(),
        id="a lone surrogate as the message id",
        marks=pytest.mark.gws_specific("lone surrogates refused, GWS-HOST-003"),
    ),
]


@pytest.mark.bayeux
@pytest.mark.requirement("GWS-HOST-002", "GWS-HOST-003")
@pytest.mark.parametrize("what, requirement, frame", WEBSOCKET_FRAMES)
def test_a_hostile_websocket_frame_is_refused_with_a_close_code(
    what: str, requirement: str, frame: str, gws_settings: Settings
) -> None:
    url = gws_settings.cometd_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    authorization = basic(gws_settings, "agent1")
    headers = {"Authorization": authorization} if authorization else {}
    timeout = gws_settings.request_timeout_s
    try:
        socket = websocket_connect(url, additional_headers=headers, open_timeout=timeout, max_size=2**20)
    except (InvalidStatus, InvalidHandshake, OSError) as exc:
        pytest.skip(f"the notifications endpoint offers no websocket here: {exc}")
    with socket:
        socket.send(frame)
        try:
            answer: str | bytes | None = socket.recv(timeout=timeout)
        except ConnectionClosed as closed:
            answer = None
            require(
                closed.rcvd is not None,
                f"a hostile websocket frame ({what}) drops the socket without a close frame",
                f"closed: {closed!r}",
                requirement,
            )
        except TimeoutError:
            require(
                False, f"a hostile websocket frame ({what}) is not answered", f"no answer in {timeout} s", requirement
            )
    if answer is not None:
        try:
            body = json.loads(answer)
        except ValueError:
            body = None
        require(
            bayeux_error(body),
            f"a hostile websocket frame ({what}) is answered, not refused",
            f"answer: {str(answer)[:300]}",
            requirement,
        )


# -- limits -----------------------------------------------------------------------------------------------------


@pytest.mark.gws_specific("a per-user session limit, GWS-HOST-005")
@pytest.mark.requirement("GWS-HOST-005")
def test_one_users_sessions_are_limited(gws_new_user: Callable[..., NewUser], gws_settings: Settings) -> None:
    """SESSION_FLOOD handshakes of one user, then the first session's connect: a server with a limit refused a
    handshake past it, or ended the oldest session (E96). The user is new, so no other test's session is in the way."""
    user = gws_new_user()
    timeout = httpx.Timeout(gws_settings.request_timeout_s)
    offer = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
    client_ids: list[str] = []
    refused: list[Any] = []
    with httpx.Client(auth=(user.user_name, user.password), timeout=timeout, verify=tls_context()) as http:

        def meta(message: dict[str, Any]) -> dict[str, Any]:
            response = http.post(gws_settings.cometd_url, json=[message])
            require(
                response.status_code < 500,
                f"{message['channel']} in a session flood gets a server error",
                f"HTTP {response.status_code}: {response.text[:300]}",
                "GWS-HOST-005",
            )
            try:
                replies = response.json()
            except ValueError:
                replies = None
            found = [m for m in replies if isinstance(m, dict)] if isinstance(replies, list) else []
            return found[0] if found else {"unreadable": response.text[:300]}

        try:
            for _ in range(SESSION_FLOOD):
                reply = meta(offer)
                if reply.get("successful") is True and isinstance(reply.get("clientId"), str):
                    client_ids.append(reply["clientId"])
                else:
                    refused.append(reply)
            connect = {"channel": "/meta/connect", "connectionType": "long-polling", "advice": {"timeout": 0}}
            first_alive = bool(client_ids) and meta({**connect, "clientId": client_ids[0]}).get("successful") is True
            should(
                bool(refused) or not first_alive,
                f"one user holds {SESSION_FLOOD} concurrent CometD sessions",
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
            for client_id in client_ids:
                http.post(gws_settings.cometd_url, json=[{"channel": "/meta/disconnect", "clientId": client_id}])
