"""``gws-conformance proxy``: a recording proxy that judges live (conformance.passive.proxy).

It must carry every kind of GWS traffic unchanged but for the upstream's own address (REST, binary attachments
both ways, long-polling, websocket), judge it as ``validate`` judges a recording of it, keep a HAR that validates
to the same findings, and report a broken server. The CometD JavaScript client (tests/js) goes through it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bayeux_live import PASSWORDS as BAYEUX_PASSWORDS
from bayeux_live import PUBLISH_PATH
from bayeux_live import serve as serve_bayeux
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as websocket
from websockets.sync.server import ServerConnection
from websockets.sync.server import serve as websocket_server

from conformance.bayeux import basic_authorization
from conformance.passive.har import har_document, read_hars
from conformance.passive.judge import Judge
from conformance.passive.proxy import Proxy
from reference_impl.embedded import serve_in_thread
from tests.live_reference import PASSWORDS, serve
from tests.passive_support import record_call_session

JS_DIR = Path(__file__).parent / "js"
NODE = shutil.which("node")
AGENT1 = ("agent1", PASSWORDS["agent1"])
EMAIL = {"fromAddress": "customer@example.test", "toAddress": "support@example.test", "subject": "Hi", "text": "Hi"}
BINARY = bytes(range(256)) * 4 + b"\r\n\r\n--not-a-boundary\r\n"


@pytest.fixture
def through() -> Iterator[tuple[str, str, Proxy]]:
    """(the reference's origin, the proxy's origin, the proxy) for one test."""
    with serve(stimulus=True) as target:
        proxy = Proxy(target.origin, Judge())
        with serve_in_thread(proxy, server_headers=False) as server:
            yield target.origin, server.origin, proxy


def outcomes(judge: Judge) -> dict[str, str]:
    return {t.nodeid.removeprefix("passive::"): str(t.outcome) for t in judge.results().tests.values()}


def test_rest_replies_change_only_by_the_upstream_address(through: tuple[str, str, Proxy]) -> None:
    upstream, here, proxy = through
    direct = httpx.get(f"{upstream}/api/v2/me/devices", auth=AGENT1)
    proxied = httpx.get(f"{here}/api/v2/me/devices", auth=AGENT1)
    assert proxied.content == direct.content.replace(upstream.encode(), here.encode())
    assert proxied.content != direct.content  # the reply names a device by URI: it was rewritten
    assert proxied.headers["content-type"] == direct.headers["content-type"]
    (device,) = proxied.json()["uris"]
    assert device.startswith(here) and httpx.get(device, auth=AGENT1).json()["statusCode"] == 0
    # Nothing that names no address is touched, byte for byte.
    direct, proxied = (httpx.get(f"{o}/api/v2/me/calls/no-such-call", auth=AGENT1) for o in (upstream, here))
    assert (proxied.status_code, proxied.content) == (direct.status_code, direct.content)
    assert proxy.judged().tally.rest == 3 and set(outcomes(proxy.judged()).values()) == {"passed"}


def test_a_binary_attachment_goes_both_ways_unchanged(through: tuple[str, str, Proxy]) -> None:
    upstream, here, proxy = through
    api = f"{here}/api/v2"
    agent = httpx.get(f"{api}/me", auth=AGENT1).json()["user"]["id"]
    assert httpx.post(f"{api}/me", json={"operationName": "Ready"}, auth=AGENT1).json()["statusCode"] == 0
    email = httpx.post(f"{upstream}/stimulus/emails", json={**EMAIL, "agentId": agent}).json()
    interaction = email["interactionId"]
    accepted = httpx.post(f"{api}/me/interactions/{interaction}", json={"operationName": "Accept"}, auth=AGENT1)
    assert accepted.json()["statusCode"] == 0
    files = {"attachment": ("bytes.bin", BINARY, "application/octet-stream")}
    uploaded = httpx.post(f"{api}/me/interactions/{interaction}/attachments", files=files, auth=AGENT1).json()
    assert uploaded["uri"].startswith(here)
    got = httpx.get(uploaded["uri"], auth=AGENT1)
    assert (got.status_code, got.content) == (200, BINARY)
    direct = httpx.get(uploaded["uri"].replace(here, upstream), auth=AGENT1)
    assert direct.content == BINARY  # the upload reached the server byte for byte
    recorded = [e for e in proxy.entries if e["request"]["url"] == uploaded["uri"]]
    assert recorded[0]["response"]["content"]["encoding"] == "base64"
    assert set(outcomes(proxy.judged()).values()) == {"passed"}, proxy.judged().results().tests


def test_the_recording_validates_to_the_findings_judged_live(through: tuple[str, str, Proxy], tmp_path: Path) -> None:
    _, here, proxy = through
    record_call_session(here)  # REST and long-polling, a whole call between two agents
    live = outcomes(proxy.judged())
    assert {"notification_schema", "call_leg_states", "meta_reply_id"} <= set(live)
    assert set(live.values()) == {"passed"}
    recording = tmp_path / "recording.har"
    recording.write_text(json.dumps(har_document(proxy.entries)))
    again = Judge()
    again.judge_all(read_hars([recording]))
    assert outcomes(again) == live
    assert again.tally.line() == proxy.judged().tally.line()


def test_a_chat_session_is_judged_message_by_message(through: tuple[str, str, Proxy]) -> None:
    upstream, here, proxy = through
    api, bayeux = f"{here}/api/v2", f"{here}/api/v2/notifications"
    with httpx.Client(auth=AGENT1, timeout=10) as agent:
        (shook,) = agent.post(
            bayeux,
            json=[
                {
                    "channel": "/meta/handshake",
                    "id": "1",
                    "version": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                }
            ],
        ).json()
        client = shook["clientId"]
        agent.post(
            bayeux,
            json=[{"channel": "/meta/subscribe", "id": "2", "clientId": client, "subscription": "/v2/me/interactions"}],
        )
        me = agent.get(f"{api}/me").json()["user"]["id"]
        assert agent.post(f"{api}/me/channels/chat", json={"operationName": "Ready"}).json()["statusCode"] == 0
        chat = httpx.post(f"{upstream}/stimulus/chats", json={"nickname": "Cus", "agentId": me}).json()
        chat_id = chat["interactionId"]
        agent.post(f"{api}/me/interactions/{chat_id}", json={"operationName": "Accept"})
        httpx.post(f"{upstream}/stimulus/chats/{chat_id}/messages", json={"text": "hello"})
        states = []
        for number in range(3, 12):
            connect = {
                "channel": "/meta/connect",
                "id": str(number),
                "clientId": client,
                "connectionType": "long-polling",
                "advice": {"timeout": 0 if number == 3 else 500},
            }
            states += [
                m["data"].get("state")
                for m in agent.post(bayeux, json=[connect]).json()
                if m.get("channel") == "/v2/me/interactions"
            ]
            if states.count("Accepted") >= 2:
                break
    assert states[:1] == ["Invited"] and states.count("Accepted") >= 2, states  # ChatAccepted, ChatNotification
    judged = outcomes(proxy.judged())
    assert judged["notification_schema"] == "passed" and judged["client_habit.GWS-IXN-024"] == "passed", judged
    assert set(judged.values()) == {"passed"}, judged


@pytest.mark.skipif(NODE is None or not (JS_DIR / "node_modules" / "cometd").is_dir(), reason="needs tests/js")
@pytest.mark.parametrize("transport", ["long-polling", "websocket"])
def test_the_cometd_javascript_client_works_through_the_proxy(transport: str) -> None:
    assert NODE is not None
    with serve_bayeux(timeout_ms=2000) as live:
        proxy = Proxy(live.base_url, Judge())
        with serve_in_thread(proxy, server_headers=False) as server:
            notifications = live.url.replace(live.base_url, server.origin)
            result = subprocess.run(
                [
                    NODE,
                    "interop.mjs",
                    notifications,
                    "agent1",
                    BAYEUX_PASSWORDS["agent1"],
                    transport,
                    live.base_url + PUBLISH_PATH,
                ],
                cwd=JS_DIR,
                capture_output=True,
                text=True,
                timeout=30,
            )
    assert result.returncode == 0 and result.stdout.startswith("OK:"), f"{result.stdout} {result.stderr}"
    judged = outcomes(proxy.judged())
    # The test server publishes a bare marker, no GWS message: the judge says so, for the message it carried.
    assert judged["notification_schema"] == "failed" and judged["meta_reply_id"] == "passed"
    if transport == "websocket":
        assert proxy.judged().tally.websocket_frames >= 6
        (socket,) = [e for e in proxy.entries if e.get("_webSocketMessages")]
        assert any("marker" in frame["data"] for frame in socket["_webSocketMessages"])


def test_the_reply_headers_are_the_upstreams_not_doubled(through: tuple[str, str, Proxy]) -> None:
    upstream, here, _ = through
    direct, proxied = (httpx.get(f"{o}/api/v2/me", auth=AGENT1) for o in (upstream, here))
    # One Date and one Server, the upstream's: the proxy's own server adds none.
    assert sorted(n for n, _ in proxied.headers.raw) == sorted(n for n, _ in direct.headers.raw)
    assert proxied.headers.get_list("server") == direct.headers.get_list("server")
    # A HEAD reply's Content-Length is the representation's, as the upstream gave it (no body to count).
    direct, proxied = (httpx.head(f"{o}/api/v2/me", auth=AGENT1) for o in (upstream, here))
    assert proxied.headers["content-length"] == direct.headers["content-length"] != "0"


def test_the_hostile_batterys_refusals_through_the_proxy_are_judged_conformant(through: tuple[str, str, Proxy]) -> None:
    # The HOST battery's deep messages ended `gws-conformance proxy` with a RecursionError at its next report, and its
    # 414 drew a warning (E12's table missed E101).
    _, here, proxy = through
    nested = "[" * 10_000 + "]" * 10_000
    for path in ("/api/v2/me", "/api/v2/notifications"):
        refused = httpx.post(f"{here}{path}", content=nested, headers={"Content-Type": "application/json"}, auth=AGENT1)
        assert 400 <= refused.status_code < 500, refused.text
    # The query string limit (GWS-HOST-008, E101): 414 with statusCode 2, which E12's table allows too.
    too_long = httpx.get(f"{here}/api/v2/me", params={"_": "a" * 9000}, auth=AGENT1)
    assert (too_long.status_code, too_long.json()["statusCode"]) == (414, 2)
    results = proxy.judged().results()
    assert proxy.judged().tally.rest == 2 and proxy.judged().tally.bayeux == 1
    assert all(str(t.outcome) == "passed" for t in results.tests.values()), results.tests
    assert httpx.get(f"{here}/api/v2/me", auth=AGENT1).json()["statusCode"] == 0


# -- websockets: how they end ------------------------------------------------------------------------------


def ws(origin: str) -> str:
    return origin.replace("http", "ws", 1) + "/api/v2/notifications"


def closed_by(url: str, frame: str, **headers: str) -> tuple[int | None, str]:
    """The close code and reason a websocket to ``url`` gets after sending ``frame``."""
    with websocket(url, additional_headers=headers, open_timeout=10) as socket:
        socket.send(frame)
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    received = closed.value.rcvd
    return (received.code, received.reason) if received is not None else (None, "")


def test_a_websocket_ends_as_the_upstream_ended_it(through: tuple[str, str, Proxy]) -> None:
    upstream, here, _ = through
    basic = {"Authorization": basic_authorization(*AGENT1)}
    direct = closed_by(ws(upstream), "{[", **basic)
    assert direct[0] == 1007  # the reference refuses a frame that is no JSON with 1007 (GWS-HOST-009)
    assert closed_by(ws(here), "{[", **basic) == direct
    # A refused upgrade is the upstream's reply, status, headers and body.
    wrong = {"Authorization": basic_authorization("agent1", "wrong")}
    refusals = []
    for origin in (upstream, here):
        with pytest.raises(InvalidStatus) as refused:
            websocket(ws(origin), additional_headers=wrong, open_timeout=10)
        refusals.append(refused.value.response)
    assert refusals[1].status_code == refusals[0].status_code == 401
    assert refusals[1].body == refusals[0].body and refusals[1].body
    assert refusals[1].headers.get_all("www-authenticate") == refusals[0].headers.get_all("www-authenticate")


def test_a_websocket_close_code_goes_both_ways_and_a_dropped_upstream_is_1014() -> None:
    received: list[tuple[int, str]] = []

    def handler(connection: ServerConnection) -> None:
        if connection.request is not None and connection.request.path == "/drop":
            connection.recv()
            connection.socket.shutdown(socket.SHUT_RDWR)  # no close frame: the connection just ends
            return
        with contextlib.suppress(ConnectionClosed):
            for _ in connection:
                pass
        close = connection.protocol.close_rcvd
        received.append((close.code, close.reason) if close is not None else (0, ""))

    with websocket_server(handler, "127.0.0.1", 0) as upstream:
        thread = threading.Thread(target=upstream.serve_forever, daemon=True)
        thread.start()
        proxy = Proxy(f"http://127.0.0.1:{upstream.socket.getsockname()[1]}", Judge())
        try:
            with serve_in_thread(proxy, server_headers=False) as front:
                front_ws = front.origin.replace("http", "ws", 1)
                with websocket(f"{front_ws}/wait", open_timeout=10) as client:
                    client.send("hello")
                    client.close(4001, "the client's reason")
                with websocket(f"{front_ws}/drop", open_timeout=10) as client:
                    client.send("hello")
                    with pytest.raises(ConnectionClosed) as dropped:
                        client.recv(timeout=10)
        finally:
            upstream.shutdown()
            thread.join(10)
    assert received == [(4001, "the client's reason")]
    assert dropped.value.rcvd is not None and dropped.value.rcvd.code == 1014


def test_a_broken_server_is_reported_with_the_exchange(tmp_path: Path) -> None:
    with serve(faults=("reply-without-status-code",)) as target:
        proxy = Proxy(target.origin, Judge())
        with serve_in_thread(proxy, server_headers=False) as server:
            httpx.get(f"{server.origin}/api/v2/me", auth=AGENT1)
    test = proxy.judged().results().tests["passive::status_code_present"]
    assert str(test.outcome) == "failed" and "GWS-GEN-001" in test.violated
    assert test.evidence[0]["request"]["url"].endswith("/api/v2/me")


# -- the command ------------------------------------------------------------------------------------------


def test_the_command_serves_until_interrupted_and_writes_every_report(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    with serve() as target:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "conformance.cli",
                "proxy",
                "--upstream",
                f"{target.base_url}",
                "--listen",
                "127.0.0.1:0",
                "--report-dir",
                str(reports),
                "--report-every",
                "0.2",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stdout is not None
        first = process.stdout.readline()
        origin = first.split("proxy on ", 1)[1].split("/api/v2", 1)[0]
        entries = len(record_call_session(origin)["log"]["entries"])
        # The periodic report comes while the proxy runs, once the session's last exchange is judged.
        for line in process.stdout:
            if f"{entries} entries" in line and "reports in" in line:
                break
        assert json.loads((reports / "results.json").read_text())["tests"]
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0, first + rest
    assert "CONFORMANT" in rest
    for name in ("report.html", "summary.md", "junit.xml", "results.json", "recording.har"):
        assert (reports / name).is_file(), name
    har = json.loads((reports / "recording.har").read_text())
    assert any(e["request"]["url"].endswith("/notifications") for e in har["log"]["entries"])


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--upstream", "ftp://x"], "not an http(s) URL"),
        (["--upstream", "http://127.0.0.1:1", "--listen", "nowhere"], "expected HOST:PORT"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(options: list[str], says: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "proxy", *options], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_proxy_stopping_while_a_client_waits_says_nothing_of_it(capfd: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C with a request held upstream (a browser's /meta/connect): no traceback per waiting client."""
    arrived, release = threading.Event(), threading.Event()

    async def held(scope: dict[str, Any], receive: Any, send: Any) -> None:
        arrived.set()
        await asyncio.to_thread(release.wait, 30)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"[]"})

    def wait_through(origin: str) -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(f"{origin}/api/v2/notifications", json=[], timeout=30)

    with serve_in_thread(held) as upstream:
        with serve_in_thread(Proxy(upstream.origin, Judge()), server_headers=False) as server:
            client = threading.Thread(target=wait_through, args=(server.origin,), daemon=True)
            client.start()
            assert arrived.wait(10)
        release.set()
        client.join(10)
    assert "Exception in ASGI application" not in capfd.readouterr().err
