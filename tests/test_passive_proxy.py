"""``gws-conformance proxy``: a recording proxy that judges live (conformance.passive.proxy).

It must carry every kind of GWS traffic unchanged but for the upstream's own address (REST, binary attachments
both ways, long-polling, websocket), judge it as ``validate`` judges a recording of it, keep a HAR that validates
to the same findings, and report a broken server. The CometD JavaScript client (tests/js) goes through it too.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bayeux_live import PASSWORDS as BAYEUX_PASSWORDS
from bayeux_live import PUBLISH_PATH
from bayeux_live import serve as serve_bayeux

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
        with serve_in_thread(proxy) as server:
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
        with serve_in_thread(proxy) as server:
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


def test_a_broken_server_is_reported_with_the_exchange(tmp_path: Path) -> None:
    with serve(faults=("reply-without-status-code",)) as target:
        proxy = Proxy(target.origin, Judge())
        with serve_in_thread(proxy) as server:
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
