from __future__ import annotations

import base64
import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from conformance.client import MAX_RECORDED_BODY, Exchange, GwsClient, Recorder
from conformance.config import REDACTED, Credentials, Settings, load_settings
from conformance.errors import SuiteError, TargetProtocolError, TargetTimeout, TargetUnreachable

BASE = "http://gws.test/api/v2"
PASSWORDS = {"admin": "adm-Secret-pw", "agent1": "ag1-Secret-pw", "agent2": "ag2-Secret-pw"}
TOKEN = "csrf-Secret-token-0001"
SESSION = "sess-Secret-cookie-0001"

Handler = Callable[[httpx.Request], httpx.Response]


def make_settings(**env: str) -> Settings:
    base = {
        "GWS_BASE_URL": BASE,
        "GWS_SEED": "1",
        **{f"GWS_{role.upper()}_PASSWORD": password for role, password in PASSWORDS.items()},
    }
    return load_settings(env={**base, **env})


def client_for(handler: Handler, role: str = "agent1", recorder: Recorder | None = None, **env: str) -> GwsClient:
    settings = make_settings(**env)
    return GwsClient(settings, settings.credentials(role), transport=httpx.MockTransport(handler), recorder=recorder)


def ok(**extra: object) -> httpx.Response:
    return httpx.Response(200, json={"statusCode": 0, **extra})


def no_secret_in(text: str) -> bool:
    return "Secret" not in text


class CsrfServer:
    """Issues a session cookie and a CSRF token on GET, and insists on both for POST/PUT/DELETE."""

    def __init__(self, header_name: str = "X-CSRF-TOKEN") -> None:
        self.header_name = header_name
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if request.method == "GET":
            return httpx.Response(
                200,
                json={"statusCode": 0, "user": {"userName": "agent1"}},
                headers={
                    "X-CSRF-HEADER": self.header_name,
                    self.header_name: TOKEN,
                    "Set-Cookie": f"JSESSIONID={SESSION}; Path=/; HttpOnly",
                },
            )
        if request.headers.get(self.header_name) != TOKEN:
            return httpx.Response(403, json={"statusCode": 3, "statusMessage": "CSRF token missing"})
        if f"JSESSIONID={SESSION}" not in request.headers.get("cookie", ""):
            return httpx.Response(403, json={"statusCode": 3, "statusMessage": "no session"})
        return ok()


def test_basic_auth_and_json_helpers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        expected = base64.b64encode(f"agent1:{PASSWORDS['agent1']}".encode()).decode()
        assert request.headers["authorization"] == f"Basic {expected}"
        assert str(request.url) == f"{BASE}/me/devices?fields=%2A"
        return ok(devices=[{"id": "d1"}])

    with client_for(handler) as client:
        response = client.get("/me/devices", params={"fields": "*"})
    assert response.status_code == 200
    assert response.json_body == {"statusCode": 0, "devices": [{"id": "d1"}]}
    assert response.status_code_field == 0
    assert response.exchange.response is not None and response.exchange.response.status_code == 200


def test_absolute_uri_from_the_target_is_followed() -> None:
    with client_for(lambda r: ok(url=str(r.url))) as client:
        response = client.get(f"{BASE}/devices/abc")
    assert response.json_body["url"] == f"{BASE}/devices/abc"


def test_csrf_token_and_cookie_captured_and_sent_back_on_unsafe_methods() -> None:
    server = CsrfServer()
    with client_for(server) as client:
        client.get("/me")
        assert client.csrf_token == TOKEN
        for method in ("POST", "PUT", "DELETE"):
            assert client.request(method, "/me", json={"operationName": "Ready"}).status_code_field == 0
    get, *unsafe = server.seen
    assert "x-csrf-token" not in get.headers
    assert all(r.headers["x-csrf-token"] == TOKEN and SESSION in r.headers["cookie"] for r in unsafe)


def test_csrf_header_named_by_the_server_is_used_and_redacted() -> None:
    server = CsrfServer(header_name="X-Custom-Csrf")
    with client_for(server) as client:
        client.get("/me")
        response = client.post("/me", json={"operationName": "Ready"})
    assert server.seen[-1].headers["x-custom-csrf"] == TOKEN
    assert response.exchange.request.header("X-Custom-Csrf") == REDACTED
    assert no_secret_in(client.recorder.to_jsonl())


def test_csrf_off_never_sends_a_token() -> None:
    server = CsrfServer()
    with client_for(server, GWS_CSRF="off") as client:
        client.get("/me")
        assert client.post("/me", json={"operationName": "Ready"}).status_code_field == 3
    assert "x-csrf-token" not in server.seen[-1].headers


def test_csrf_on_fetches_a_token_before_the_first_unsafe_request() -> None:
    server = CsrfServer()
    with client_for(server, GWS_CSRF="on") as client:
        assert client.post("/me", json={"operationName": "Ready"}).status_code_field == 0
    assert [(r.method, r.url.path) for r in server.seen] == [("GET", "/api/v2/me"), ("POST", "/api/v2/me")]


def test_csrf_on_without_a_token_from_the_target_is_a_protocol_error() -> None:
    with client_for(lambda r: ok(), GWS_CSRF="on") as client, pytest.raises(TargetProtocolError, match="no CSRF token"):
        client.post("/me", json={"operationName": "Ready"})


def test_every_exchange_is_recorded_in_order_in_a_shared_recorder() -> None:
    recorder = Recorder()
    handler: Handler = lambda r: ok()  # noqa: E731
    with client_for(handler, "agent1", recorder) as one, client_for(handler, "agent2", recorder) as two:
        one.get("/me")
        mark = recorder.mark()
        two.post("/me", json={"operationName": "NotReady", "reasonCode": "Lunch"})
        one.delete("/me/calls/c1")
    exchanges = recorder.exchanges
    assert [e.seq for e in exchanges] == [1, 2, 3]
    assert [(e.role, e.request.method) for e in exchanges] == [
        ("agent1", "GET"),
        ("agent2", "POST"),
        ("agent1", "DELETE"),
    ]
    assert exchanges[0].timestamp <= exchanges[1].timestamp <= exchanges[2].timestamp
    assert json.loads(exchanges[1].request.body or "") == {"operationName": "NotReady", "reasonCode": "Lunch"}
    assert exchanges[1].response is not None and json.loads(exchanges[1].response.body or "") == {"statusCode": 0}
    assert [e.seq for e in recorder.since(mark)] == [2, 3]
    lines = recorder.to_jsonl().splitlines()
    assert [json.loads(line)["request"]["method"] for line in lines] == ["GET", "POST", "DELETE"]


def test_the_recorder_knows_when_the_target_was_last_changed() -> None:
    recorder = Recorder()
    with client_for(lambda r: ok(), "agent1", recorder) as client:
        client.get("/me")
        assert recorder.last_change_monotonic is None  # a GET changes nothing
        before = time.monotonic()
        client.post("/me", json={"operationName": "Ready"})
        posted = recorder.last_change_monotonic
        assert posted is not None and posted >= before
        client.get("/me/calls")
        assert recorder.last_change_monotonic == posted
    recorder.note_change()  # a stimulus, which the recorder does not see
    assert (recorder.last_change_monotonic or 0) > posted


def test_secrets_never_reach_the_record_the_curl_or_the_rendering(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        # A careless server echoing the request (password included) must not leak it either.
        return httpx.Response(
            400,
            json={"statusCode": 1, "statusMessage": f"bad: {request.content.decode()}", "password": "srv-Secret-echo"},
            headers={
                "X-CSRF-HEADER": "X-CSRF-TOKEN",
                "X-CSRF-TOKEN": TOKEN,
                "Set-Cookie": f"JSESSIONID={SESSION}; Path=/",
            },
        )

    with client_for(handler) as client:
        client.get("/me")
        client.post(
            "/me",
            json={
                "operationName": "ChangePassword",
                "oldPassword": PASSWORDS["agent1"],
                "newPassword": "new-Secret-pw",
            },
        )
        client.post(
            "/users/u1",
            content=b'{"operationName":"ChangePassword","password":"raw-Secret-pw",',
            headers={"Content-Type": "application/json"},
        )
        client.get("/users", params={"password": "query-Secret-pw"})
    recorder = client.recorder
    path = tmp_path / "exchanges.jsonl"
    recorder.write_jsonl(path)
    change = recorder.exchanges[1]
    assert json.loads(change.request.body or "") == {
        "operationName": "ChangePassword",
        "oldPassword": REDACTED,
        "newPassword": REDACTED,
    }
    assert change.request.header("Authorization") == f"Basic {REDACTED}"
    assert change.request.header("Cookie") == f"JSESSIONID={REDACTED}"
    assert change.request.header("X-CSRF-TOKEN") == REDACTED
    assert change.response is not None and change.response.header("Set-Cookie") == f"JSESSIONID={REDACTED}; Path=/"
    for text in (
        path.read_text(),
        *(e.render() for e in recorder.exchanges),
        *(e.to_curl() for e in recorder.exchanges),
    ):
        assert no_secret_in(text), text


def test_curl_reproduces_the_request_with_the_password_from_the_environment() -> None:
    with client_for(lambda r: ok()) as client:
        exchange = client.post("/me/calls/c1", json={"operationName": "Hold"}).exchange
    curl = exchange.to_curl()
    assert curl.startswith(f'curl -sS -i -X POST {BASE}/me/calls/c1 -u "agent1:$GWS_AGENT1_PASSWORD"')
    assert "-H 'Content-Type: application/json'" in curl
    assert curl.endswith("""--data-raw '{"operationName":"Hold"}'""")
    # The shell turns the command into exactly the request that was sent.
    argv = subprocess.run(
        ["bash", "-c", "printf '%s\\n' " + curl.removeprefix("curl ")],
        env={"GWS_AGENT1_PASSWORD": "it's $pecial"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert argv[argv.index("-u") + 1] == "agent1:it's $pecial"
    assert argv[argv.index("--data-raw") + 1] == '{"operationName":"Hold"}'
    assert argv[argv.index("-X") + 1 : argv.index("-X") + 3] == ["POST", f"{BASE}/me/calls/c1"]


def test_curl_for_ad_hoc_and_anonymous_credentials() -> None:
    settings = make_settings()
    transport = httpx.MockTransport(lambda r: httpx.Response(401))
    with GwsClient(settings, Credentials("", "agent1", "wrong-Secret"), transport=transport) as wrong:
        wrong_exchange = wrong.get("/me").exchange
    with GwsClient(settings, Credentials("", "nobody", None), transport=transport) as anonymous:
        anonymous_exchange = anonymous.get("/me").exchange
    assert "-u 'agent1:***'" in wrong_exchange.to_curl()
    assert no_secret_in(wrong_exchange.render())
    assert "-u" not in anonymous_exchange.to_curl().split()
    assert anonymous_exchange.request.header("Authorization") is None


def test_multipart_upload_is_recorded_and_reproduced_with_a_form_part() -> None:
    with client_for(lambda r: ok(documentId="doc1")) as client:
        exchange = client.post(
            "/me/interactions/i1/attachments",
            files={"attachment": ("report.pdf", b"%PDF-\xff\xfe binary", "application/pdf")},
        ).exchange
    assert exchange.request.body is not None and 'filename="report.pdf"' in exchange.request.body
    assert "-F attachment=@report.pdf" in exchange.to_curl()
    assert "multipart/form-data" not in exchange.to_curl()  # curl writes its own boundary


def test_large_and_binary_bodies_are_summarised() -> None:
    big = {"statusCode": 0, "blob": "x" * (MAX_RECORDED_BODY * 2)}
    with client_for(
        lambda r: ok(**big) if r.url.path.endswith("big") else httpx.Response(200, content=b"\xff\xfe\x00\x01" * 10)
    ) as client:
        recorded = client.get("/big").exchange.response
        binary = client.get("/bin", expect_json=False)
    assert recorded is not None and recorded.body is not None and "[truncated:" in recorded.body
    assert binary.json_body is None and binary.exchange.response is not None
    assert binary.exchange.response.body == "<40 bytes, not UTF-8 text>"


@pytest.mark.parametrize(
    ("raised", "expected", "words"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), TargetUnreachable, "Connection refused"),
        (httpx.ReadError("[Errno 104] Connection reset by peer"), TargetUnreachable, "reset by peer"),
        (httpx.ReadTimeout("timed out"), TargetTimeout, "no answer within"),
        (httpx.ConnectTimeout("timed out"), TargetTimeout, "no answer within"),
        (httpx.RemoteProtocolError("illegal status line"), TargetProtocolError, "illegal status line"),
    ],
)
def test_transport_failures_become_target_errors_with_a_recorded_exchange(
    raised: Exception, expected: type[Exception], words: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise raised

    with client_for(handler) as client, pytest.raises(expected) as caught:
        client.post("/me", json={"operationName": "Ready"})
    assert not isinstance(caught.value, httpx.HTTPError)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    (exchange,) = client.recorder.exchanges
    assert caught.value.exchange is exchange  # type: ignore[attr-defined]
    assert exchange.response is None and exchange.error is not None and words in exchange.error
    assert exchange.request.method == "POST" and exchange.request.body == '{"operationName":"Ready"}'
    rendered = caught.value.render()  # type: ignore[attr-defined]
    assert rendered.splitlines()[-1].startswith("Reproduce with: curl ")


def test_non_json_answer_is_a_protocol_error_with_the_response_recorded() -> None:
    page = b"<html><body>Internal error</body></html>"
    handler: Handler = lambda r: httpx.Response(200, content=page, headers={"Content-Type": "text/html"})  # noqa: E731
    with client_for(handler) as client:
        with pytest.raises(TargetProtocolError, match="not JSON") as caught:
            client.get("/me")
        relaxed = client.get("/me", expect_json=False)
    exchange: Exchange = caught.value.exchange  # type: ignore[assignment]
    assert exchange.response is not None and exchange.response.body == page.decode()
    assert relaxed.json_body is None and not relaxed.is_json and relaxed.exchange.error is None
    assert len(client.recorder.exchanges) == 2


def test_a_401_may_come_without_json() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, content=b"<html>Unauthorized</html>", headers={"WWW-Authenticate": "Basic"})

    with client_for(handler) as client:
        response = client.get("/me")
    assert response.status_code == 401 and response.json_body is None


def test_invalid_uri_from_the_target_is_a_protocol_error() -> None:
    with client_for(lambda r: ok()) as client, pytest.raises(TargetProtocolError, match="invalid URL"):
        client.get("http://demosrv:80a/api/v2/devices/1")
    assert client.recorder.exchanges[0].request.url == "http://demosrv:80a/api/v2/devices/1"


def test_suite_bug_in_a_relative_url_is_a_suite_error() -> None:
    with client_for(lambda r: ok()) as client, pytest.raises(SuiteError):
        client.get("/me/\x00bad")


# --- against real sockets: the timeouts hold when nothing is mocked -----------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections (via the backlog) and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


@pytest.fixture
def dripping_server() -> Iterator[int]:
    """Answers headers at once, then one body byte every 50 ms: each read is quick, the whole is not."""
    stop = threading.Event()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(5)

    def serve() -> None:
        try:
            connection, _ = server.accept()
        except OSError:
            return
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
            while not stop.wait(0.05):
                try:
                    connection.sendall(b" ")
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    server.close()
    thread.join(timeout=5)


def real_client(port: int) -> GwsClient:
    settings = load_settings(
        env={
            "GWS_BASE_URL": f"http://127.0.0.1:{port}/api/v2",
            "GWS_REQUEST_TIMEOUT_S": "0.3",
            "GWS_AGENT1_PASSWORD": PASSWORDS["agent1"],
        }
    )
    return GwsClient(settings, settings.credentials("agent1"))


def test_real_connection_refused() -> None:
    with real_client(free_port()) as client, pytest.raises(TargetUnreachable):
        client.get("/me")
    assert client.recorder.exchanges[0].error is not None


def test_real_silent_server_times_out_within_the_budget(silent_server: int) -> None:
    started = time.monotonic()
    with real_client(silent_server) as client, pytest.raises(TargetTimeout):
        client.get("/me")
    assert time.monotonic() - started < 2


def test_real_dripping_server_is_held_to_the_whole_exchange_deadline(dripping_server: int) -> None:
    started = time.monotonic()
    with real_client(dripping_server) as client, pytest.raises(TargetTimeout, match="took longer than"):
        client.get("/me")
    assert time.monotonic() - started < 2
    assert client.recorder.exchanges[0].error is not None
