"""The reference server under hostile input (issue 14, GWS-HOST, errata E93-E96): raw bytes on a real socket, because
httpx refuses to send most of them. Every case is answered with a GWS or Bayeux error, never a 500 or a dropped
connection, leaves no traceback in the server log, and changes nothing another user can read."""

from __future__ import annotations

import base64
import json
import logging
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from live_reference import PASSWORDS, LiveTarget, serve
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from reference_impl.bayeux import MAX_BODY_BYTES as MAX_BAYEUX_BODY_BYTES
from reference_impl.bayeux import MAX_SESSIONS_PER_USER
from reference_impl.embedded import INVALID_REQUEST
from reference_impl.http import MAX_BODY_BYTES
from reference_impl.jsonio import MAX_DEPTH
from reference_impl.limits import MAX_HEADER_BYTES, MAX_HEADERS, MAX_QUERY_BYTES

DEADLINE_S = 10.0
NOTIFICATIONS = "/api/v2/notifications"
DEEP = b"[" * 10_000 + b"]" * 10_000


def basic(user: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{user}:{PASSWORDS[user]}".encode())


class Reply:
    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].split()
        self.status = int(status_line[1]) if len(status_line) > 1 else 0

    def json(self) -> object:
        return json.loads(self.body)


def exchange(target: LiveTarget, request: bytes, *, half_close: bool = False) -> Reply:
    """One raw HTTP/1.1 exchange (the request says Connection: close); ``half_close``: stop sending after it."""
    url = urlsplit(target.origin)
    with socket.create_connection((url.hostname, url.port), timeout=DEADLINE_S) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = bytearray()
        while chunk := sock.recv(65536):
            received.extend(chunk)
    return Reply(bytes(received))


def request(
    method: str, path: str, body: bytes = b"", headers: tuple[bytes, ...] = (), length: int | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close", *headers]
    if body or length is not None:
        lines += [b"Content-Type: application/json", b"Content-Length: %d" % (len(body) if length is None else length)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@pytest.fixture(scope="module")
def target() -> Iterator[LiveTarget]:
    with serve() as live:
        yield live


@pytest.fixture
def server_errors() -> Iterator[list[logging.LogRecord]]:
    """What the server logs at ERROR (uvicorn's "Exception in ASGI application", the app's last resort)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "reference_impl.http")]
    for logger in loggers:
        logger.addHandler(handler)
    yield records
    for logger in loggers:
        logger.removeHandler(handler)


def bayeux_error(reply: Reply, code: str) -> None:
    [message] = reply.json()  # type: ignore[misc]
    assert message["successful"] is False and message["error"].startswith(f"{code}::"), message


# E93 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("credentials", [b"Basic \xff\xfe\xfd", b"Basic \xc3\xa9bc", b"Basic ###", b"Basic YQ"])
@pytest.mark.parametrize("where", ["rest", "bayeux"])
def test_undecodable_credentials_are_wrong_credentials(
    target: LiveTarget, server_errors: list[logging.LogRecord], credentials: bytes, where: str
) -> None:
    header = (b"Authorization: " + credentials,)
    if where == "rest":
        reply = exchange(target, request("GET", "/api/v2/me", headers=header))
        assert reply.status == 401 and reply.json() == {"statusCode": 3, "statusMessage": "Invalid credentials"}
    else:
        reply = exchange(target, request("POST", NOTIFICATIONS, b'[{"channel":"/meta/handshake"}]', header))
        assert reply.status == 401
        bayeux_error(reply, "401")
    assert server_errors == []


# E94 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", [None, "agent1"])
@pytest.mark.parametrize("path", ["/api/v2/me", NOTIFICATIONS])
def test_deep_json_is_refused(
    target: LiveTarget, server_errors: list[logging.LogRecord], user: str | None, path: str
) -> None:
    headers = (b"Authorization: " + basic(user),) if user else ()
    reply = exchange(target, request("POST", path, DEEP, headers))
    if path == NOTIFICATIONS:
        assert reply.status == 400
        bayeux_error(reply, "400")
    else:
        assert reply.status == (400 if user else 401)
        assert reply.json()["statusCode"] == (2 if user else 3)  # type: ignore[index]
    assert server_errors == []


def test_json_just_deeper_than_the_limit_is_refused_and_at_the_limit_is_read(target: LiveTarget) -> None:
    header = (b"Authorization: " + basic("agent1"),)

    def nested(depth: int) -> bytes:
        return b'{"operationName":"Ready","x":' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"

    refused = exchange(target, request("POST", "/api/v2/me", nested(MAX_DEPTH + 1), header))
    assert refused.status == 400 and "deeper" in refused.json()["statusMessage"]  # type: ignore[index]
    read = exchange(target, request("POST", "/api/v2/me", nested(MAX_DEPTH), header))
    assert "deeper" not in read.json().get("statusMessage", "")  # type: ignore[union-attr]


def websocket_url(target: LiveTarget) -> str:
    return target.origin.replace("http://", "ws://") + NOTIFICATIONS


@pytest.mark.parametrize("frame", [DEEP.decode(), '[{"channel":"/meta/handshake","id":"\\ud800"}]'])
def test_a_hostile_websocket_frame_closes_the_socket_with_a_code(
    target: LiveTarget, server_errors: list[logging.LogRecord], frame: str
) -> None:
    headers = {"Authorization": basic("agent1").decode()}
    with ws_connect(websocket_url(target), additional_headers=headers, open_timeout=DEADLINE_S) as ws:
        ws.send(frame)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=DEADLINE_S)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
    assert server_errors == []


# E95 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v2/me", b'{"operationName":"\\ud800"}'),
        ("/api/v2/contacts", b'{"firstName":"\\udfff","lastName":"x"}'),
        ("/api/v2/me", b'{"\\ud800":1,"operationName":"Ready"}'),
        (NOTIFICATIONS, b'[{"channel":"/meta/handshake","id":"\\ud800"}]'),
        (NOTIFICATIONS, b'[{"channel":"/meta/subscribe","subscription":"/v2/me/\\udc00"}]'),
    ],
)
def test_a_lone_surrogate_is_refused_at_input(
    target: LiveTarget, server_errors: list[logging.LogRecord], path: str, body: bytes
) -> None:
    user = "admin" if "contacts" in path else "agent1"
    reply = exchange(target, request("POST", path, body, (b"Authorization: " + basic(user),)))
    assert reply.status == 400
    if path == NOTIFICATIONS:
        bayeux_error(reply, "400")
    else:
        assert reply.json()["statusCode"] == 2 and "surrogate" in reply.json()["statusMessage"]  # type: ignore[index]
    assert server_errors == []


def test_a_surrogate_pair_is_text_and_is_accepted(target: LiveTarget) -> None:
    header = (b"Authorization: " + basic("agent1"),)
    reply = exchange(target, request("POST", "/api/v2/me", b'{"operationName":"\\ud83d\\ude00"}', header))
    assert reply.status == 400 and "\U0001f600" in reply.json()["statusMessage"]  # type: ignore[index]


def test_replies_stay_valid_json_whatever_a_string_holds() -> None:
    from reference_impl.jsonio import dumps

    assert json.loads(dumps({"name": "\ud800é"})) == {"name": "\ud800é"}
    assert dumps({"name": "é"}) == '{"name":"é"}'.encode()


# E96 -------------------------------------------------------------------------------------------------------


def test_an_oversized_bayeux_body_is_refused_before_it_is_read_or_authenticated(target: LiveTarget) -> None:
    declared = exchange(target, request("POST", NOTIFICATIONS, b"", length=MAX_BODY_BYTES + 1), half_close=True)
    assert declared.status == 413
    bayeux_error(declared, "413")
    body = b"[" + b" " * MAX_BODY_BYTES + b"]"
    chunked = (
        b"POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
        % NOTIFICATIONS.encode()
        + b"%x\r\n" % len(body)
        + body
        + b"\r\n0\r\n\r\n"
    )
    sent = exchange(target, chunked)
    assert sent.status == 413
    bayeux_error(sent, "413")


@pytest.mark.parametrize(("path", "limit"), [("/api/v2/me", MAX_BODY_BYTES), (NOTIFICATIONS, MAX_BAYEUX_BODY_BYTES)])
def test_a_body_refused_before_it_arrived_is_read_on_until_the_client_closes(
    target: LiveTarget, path: str, limit: int
) -> None:
    # RFC 9112 9.6: a server that closes with the body unread resets the connection, and across a network the reset
    # can overtake the refusal (seen at 50 ms round trip). On loopback the client reads the refusal first, but what
    # it sends after it meets the reset: a lingering server reads it on and closes cleanly once the client is done.
    body = b'{"operationName":"' + b"x" * limit + b'"}'
    head = request("POST", path, headers=(b"Authorization: " + basic("agent1"),), length=len(body))
    url = urlsplit(target.origin)
    with socket.create_connection((url.hostname, url.port), timeout=DEADLINE_S) as sock:
        sock.sendall(head + body[:1024])
        received = bytearray()
        while b"statusCode" not in received and b"413::" not in received:  # the refusal, sent before the body is in
            chunk = sock.recv(65536)
            assert chunk, f"the connection ended after {bytes(received)!r}"
            received.extend(chunk)
        assert Reply(bytes(received)).status in (400, 413), received[:200]
        sock.sendall(body[1024:])  # a reset connection refuses this (BrokenPipe / ConnectionReset)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):
            pass  # the rest of the refusal, then the server's clean close (b"")


@pytest.mark.parametrize("path", ["/api/v2/me", NOTIFICATIONS])
def test_a_content_length_lie_leaves_no_trace(
    target: LiveTarget, server_errors: list[logging.LogRecord], path: str
) -> None:
    lie = request("POST", path, b'{"op', (b"Authorization: " + basic("agent1"),), length=100)
    exchange(target, lie, half_close=True)  # the server can answer nothing useful: the body never arrives
    me = exchange(target, request("GET", "/api/v2/me", headers=(b"Authorization: " + basic("agent1"),)))
    assert me.status == 200
    assert server_errors == []


def handshake(target: LiveTarget, user: str) -> str:
    reply = exchange(
        target, request("POST", NOTIFICATIONS, b'[{"channel":"/meta/handshake"}]', (b"Authorization: " + basic(user),))
    )
    [message] = reply.json()  # type: ignore[misc]
    client_id: str = message["clientId"]
    return client_id


def connect(target: LiveTarget, user: str, client_id: str) -> dict[str, object]:
    body = json.dumps([{"channel": "/meta/connect", "clientId": client_id, "advice": {"timeout": 0}}]).encode()
    [message] = exchange(target, request("POST", NOTIFICATIONS, body, (b"Authorization: " + basic(user),))).json()  # type: ignore[misc]
    reply: dict[str, object] = message
    return reply


def test_past_the_session_limit_a_handshake_ends_the_users_oldest_session() -> None:
    with serve() as live:
        first = handshake(live, "agent2")
        others = [handshake(live, "agent2") for _ in range(MAX_SESSIONS_PER_USER - 1)]
        bystander = handshake(live, "agent3")
        assert connect(live, "agent2", first)["successful"] is True
        handshake(live, "agent2")
        assert connect(live, "agent2", first)["error"] == "402::Unknown client"
        assert connect(live, "agent2", others[0])["successful"] is True
        assert connect(live, "agent3", bystander)["successful"] is True


@pytest.mark.parametrize(
    "headers",
    [(b"X-Probe: " + b"a" * (MAX_HEADER_BYTES + 1),), tuple(b"X-Probe-%d: a" % i for i in range(MAX_HEADERS + 1))],
    ids=["one large header", "many headers"],
)
def test_a_header_section_past_the_limit_is_refused_with_431(target: LiveTarget, headers: tuple[bytes, ...]) -> None:
    reply = exchange(target, request("GET", "/api/v2/me", headers=(b"Authorization: " + basic("agent1"), *headers)))
    assert reply.status == 431 and reply.json()["statusCode"] == 2  # type: ignore[index]
    below = exchange(target, request("GET", "/api/v2/me", headers=(b"Authorization: " + basic("agent1"),)))
    assert below.status == 200


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /api/v2/me\x00 HTTP/1.1",
        b"GET /api/v2/me?fields=" + b"a" * 65_536 + b" HTTP/1.1",
        b"BREW /api/v2/me HTTP/1.1",
    ],
    ids=["a raw NUL in the path", "a 64 KB request target", "an unknown method"],
)
def test_what_http_cannot_parse_is_answered_as_a_gws_error(target: LiveTarget, raw: bytes) -> None:
    reply = exchange(target, raw + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert reply.status == 400 and reply.json() == {"statusCode": 2, "statusMessage": "Invalid HTTP request received."}


# E101 ------------------------------------------------------------------------------------------------------


def test_a_query_string_past_the_limit_is_refused_with_414(target: LiveTarget) -> None:
    header = (b"Authorization: " + basic("agent1"),)
    # "_" is an undeclared parameter, ignored (E99): only the length decides.
    past = exchange(target, request("GET", "/api/v2/me?_=" + "a" * (MAX_QUERY_BYTES - 1), headers=header))
    assert past.status == 414 and past.json()["statusCode"] == 2  # type: ignore[index]
    at = exchange(target, request("GET", "/api/v2/me?_=" + "a" * (MAX_QUERY_BYTES - 2), headers=header))
    assert at.status == 200


@pytest.fixture(scope="module")
def h11_target() -> Iterator[LiveTarget]:
    with serve(parser="h11") as live:
        yield live


@pytest.mark.parametrize(
    "raw",
    [b"GET /api/v2/me\x00 HTTP/1.1", b"GET /api/v2/me HTTP/1.1\r\na header line without a colon"],
    ids=["a raw NUL in the path", "a header line without a colon"],
)
def test_what_h11_cannot_parse_is_answered_as_a_gws_error(h11_target: LiveTarget, raw: bytes) -> None:
    reply = exchange(h11_target, raw + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert reply.status == 400 and reply.json() == {"statusCode": 2, "statusMessage": INVALID_REQUEST}


@pytest.mark.parametrize("parser", ["httptools", "h11"])
def test_an_unreadable_request_is_logged_at_info_not_warning(
    target: LiveTarget, h11_target: LiveTarget, parser: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        exchange(h11_target if parser == "h11" else target, b"GET /api/v2/me\x00 HTTP/1.1\r\nHost: x\r\n\r\n")
    levels = {r.levelname for r in caplog.records if r.getMessage() == INVALID_REQUEST}
    assert levels == {"INFO"}
