"""The suite's CometD clients and protocol tests against Bayeux servers nobody here wrote.

The targets (tests/third_party_bayeux.py), each with its stock options: the CometD project's own Node
server (npm cometd-nodejs-server: long-polling only, sessions kept by its BAYEUX_BROWSER cookie on an
IP-address host, every /meta/connect held 30 s unless the client advises otherwise, the handshake advice
only on a 402 to a handshake or a connect) and Faye (npm faye: long-polling and websocket, connects held
60 s, 401 for an unknown client). The listener (conformance/cometd.py) and the raw Bayeux session of the
protocol tests (conformance/bayeux.py) must open at once, receive what is published and recover from a
forgotten session there; the protocol tests run against each with GWS_TARGET_KIND=bayeux and every test
that is not GWS-specific passes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from third_party_bayeux import IMPLEMENTATIONS, SKIP_REASON, ThirdPartyServer, serve

from conformance.bayeux import Bayeux
from conformance.cli import EXIT_OK, EXIT_TARGET, EXIT_USAGE
from conformance.cometd import ListenerError, NotificationListener
from conformance.config import Settings, load_settings
from conformance.suite.protocol.test_hostile import BAYEUX_CASES

pytestmark = [
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
    # aiocometd-noloop passes arguments aiohttp has deprecated; not ours to fix, and not a server fault.
    pytest.mark.filterwarnings("ignore:float parameter 'receive_timeout' is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:ssl=None is deprecated:DeprecationWarning"),
]

TOPIC = "/third-party/news"
DEADLINE_S = 10.0  # no single wait here may take longer
RUN_TIMEOUT_S = 180


def _open_bound_s(server: ThirdPartyServer) -> float:
    # A session that opens within a sixth of the server's hold was not held: the bound proves the first
    # connect's advice worked without depending on this machine's speed (measured: 10-60 ms, printed).
    return server.hold_s / 6


@pytest.fixture(scope="module", params=IMPLEMENTATIONS)
def server(request: pytest.FixtureRequest) -> Iterator[ThirdPartyServer]:
    with serve(request.param) as running:
        yield running


@pytest.fixture(scope="module", params=IMPLEMENTATIONS)
def sub_path_server(request: pytest.FixtureRequest) -> Iterator[ThirdPartyServer]:
    with serve(request.param, require_sub_paths=True) as running:
        yield running


def _marker() -> dict[str, str]:
    return {"marker": uuid.uuid4().hex}


# the listener -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "connection_type"),
    [("cometd", "long-polling"), ("faye", "long-polling"), ("faye", "websocket")],
    indirect=["server"],
)
def test_listener_opens_at_once_receives_and_recovers_from_a_forgotten_session(
    server: ThirdPartyServer, connection_type: str
) -> None:
    started = time.monotonic()
    with NotificationListener(
        server.url, "agent1", "unused", [TOPIC], connection_type=connection_type, connect_timeout_s=DEADLINE_S
    ) as listener:
        opened_s = time.monotonic() - started
        print(
            f"{server.implementation} over {connection_type}: listener open (handshake, first connect, "
            f"subscribe) after {opened_s * 1000:.0f} ms"
        )
        assert opened_s < _open_bound_s(server), f"open after {opened_s:.1f} s: the first /meta/connect was held"
        assert listener.used_url_style == "plain"

        mark, data = listener.mark(), _marker()
        assert server.publish(TOPIC, data) == 1
        assert listener.expect(TOPIC, lambda d: d == data, timeout_s=DEADLINE_S, after=mark).data == data

        # The server forgets every session: the listener's next connect is refused, it handshakes again and
        # subscribes again; the publish waits for that subscription, so its message proves the recovery.
        assert server.forget() >= 1
        mark, data = listener.mark(), _marker()
        assert server.publish(TOPIC, data) == 1, "no subscriber came back after the session was forgotten"
        assert listener.expect(TOPIC, lambda d: d == data, timeout_s=DEADLINE_S, after=mark).data == data
        assert listener.failure is None


def test_the_server_holds_an_unadvised_first_connect(server: ThirdPartyServer) -> None:
    # The control for the bound above: without the advice, this server holds even the first connect.
    with httpx.Client(timeout=httpx.Timeout(DEADLINE_S)) as http:
        handshake = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
        [reply] = http.post(server.url, json=[handshake]).json()
        connect = {"channel": "/meta/connect", "clientId": reply["clientId"], "connectionType": "long-polling"}
        with pytest.raises(httpx.ReadTimeout):
            http.post(server.url, json=[connect], timeout=httpx.Timeout(DEADLINE_S, read=2.0))


@pytest.mark.parametrize("server", ["cometd"], indirect=True)
def test_listener_asked_for_websocket_says_the_server_offers_only_long_polling(server: ThirdPartyServer) -> None:
    listener = NotificationListener(server.url, "agent1", "unused", [TOPIC], connection_type="websocket")
    with pytest.raises(ListenerError, match=r"offers only \['long-polling'\].*long-polling-only server"):
        listener.start()


def test_listener_posts_to_sub_paths_when_the_endpoint_url_is_refused(sub_path_server: ThirdPartyServer) -> None:
    with NotificationListener(sub_path_server.url, "agent1", "unused", [TOPIC]) as listener:
        assert listener.used_url_style == "sub-path"
        mark, data = listener.mark(), _marker()
        assert sub_path_server.publish(TOPIC, data) == 1
        assert listener.expect(TOPIC, lambda d: d == data, timeout_s=DEADLINE_S, after=mark).data == data


def test_listener_told_to_use_the_plain_url_says_there_is_no_bayeux_answer(sub_path_server: ThirdPartyServer) -> None:
    listener = NotificationListener(sub_path_server.url, "agent1", "unused", [TOPIC], url_style="plain")
    with pytest.raises(ListenerError, match=r"no Bayeux answer at .*plain URL"):
        listener.start()


# the raw Bayeux session of the protocol tests ---------------------------------------------------------------


def _settings(server: ThirdPartyServer) -> Settings:
    return load_settings(env={"GWS_COMETD_URL": server.url, "GWS_TARGET_KIND": "bayeux"})


@pytest.fixture
def session(server: ThirdPartyServer) -> Iterator[Bayeux]:
    bayeux = Bayeux(_settings(server), "agent1")
    yield bayeux
    bayeux.close()


def _delivered(session: Bayeux, server: ThirdPartyServer) -> list[dict[str, Any]]:
    data = _marker()
    assert server.publish(TOPIC, data) == 1
    received = session.receive_until(TOPIC, DEADLINE_S)
    return [m for m in received if m.get("channel") == TOPIC and m.get("data") == data]


def test_bayeux_session_opens_at_once_and_receives(session: Bayeux, server: ThirdPartyServer) -> None:
    session.handshake()
    if server.session_cookie is not None:
        assert server.session_cookie in session.http.cookies, "the session cookie of an IP-address host was dropped"
    assert "Authorization" not in session.http.headers  # a generic Bayeux target without passwords: none sent
    started = time.monotonic()
    first = session.connect()  # no advice chosen: the helper advises timeout 0
    answered_s = time.monotonic() - started
    print(f"{server.implementation}: first /meta/connect answered after {answered_s * 1000:.0f} ms")
    assert first.get("successful") is True, first
    assert answered_s < _open_bound_s(server)
    session.subscribe(TOPIC)
    assert len(_delivered(session, server)) == 1


def test_bayeux_session_recovers_from_a_forgotten_session(session: Bayeux, server: ThirdPartyServer) -> None:
    session.handshake()
    session.connect()
    session.subscribe(TOPIC)
    assert server.forget() >= 1
    # Refused with an error (402 from CometD, 401 from Faye); the handshake advice comes with the connect's.
    refused = session.meta("/meta/subscribe", subscription=TOPIC)
    assert refused.get("successful") is False and refused.get("error"), refused
    connect = session.connect(advice={"timeout": 0})
    assert connect.get("successful") is False and connect.get("error"), connect
    assert connect.get("advice", {}).get("reconnect") == "handshake", connect
    session.handshake()
    session.connect()
    session.subscribe(TOPIC)
    assert len(_delivered(session, server)) == 1


def test_bayeux_session_posts_to_sub_paths(sub_path_server: ThirdPartyServer) -> None:
    settings = _settings(sub_path_server)
    plain = Bayeux(settings, "agent1")
    sub_paths = Bayeux(settings, "agent1", sub_paths=True)
    try:
        handshake: dict[str, Any] = {"version": "1.0", "supportedConnectionTypes": ["long-polling"]}
        assert plain.send("/meta/handshake", **handshake)[0].status_code == 404
        # One message at a chosen sub-path, then a whole session at the sub-paths of its meta messages.
        response, replies = plain.send("/meta/handshake", path_suffix="/handshake", **handshake)
        assert response.status_code == 200 and replies[0].get("successful") is True, replies
        sub_paths.handshake()
        assert sub_paths.connect().get("successful") is True
        sub_paths.subscribe(TOPIC)
        assert len(_delivered(sub_paths, sub_path_server)) == 1
    finally:
        plain.close()
        sub_paths.close()


# the protocol tests -----------------------------------------------------------------------------------------


# Every test of the suite's test_cometd.py, by outcome against a correct generic CometD server.
PASSES = {
    "test_handshake_reply_fields",
    "test_connect_has_advice_and_an_idle_connect_is_held",
    "test_subscribe_to_own_topics",
    "test_unknown_client_id_is_refused_and_the_client_recovers[/meta/connect]",
    "test_unknown_client_id_is_refused_and_the_client_recovers[/meta/subscribe]",
    "test_disconnect_is_successful_and_forgets_the_client",
}
GWS_SPECIFIC = {
    "test_handshake_without_credentials_is_refused": "GWS-COMETD-003",
    "test_connect_advice_is_the_references": "GWS-COMETD-005",
    "test_a_topic_the_reference_does_not_define_is_refused": "GWS-COMETD-013",
    "test_users_topic_is_refused_to_agents_and_granted_to_supervisors": "GWS-COMETD-008",
    "test_unknown_client_id_error_is_402[/meta/connect]": "GWS-COMETD-011",
    "test_unknown_client_id_error_is_402[/meta/subscribe]": "GWS-COMETD-011",
}
NEEDS_REST = {"test_no_message_on_a_topic_the_client_left_or_never_joined"}
# Requests shaped as real clients send them (E84, E86, E90, E91): no GWS rule in them, so they pass.
CLIENT_HABITS_PASS = {
    "protocol/test_cometd_clients.py::test_a_whole_session_on_the_message_type_sub_paths",
    "protocol/test_cometd_clients.py::test_a_connect_advising_timeout_0_is_answered_at_once",
    "protocol/test_cometd_extensions.py::test_ext_timestamp_and_client_advice_are_ignored",
    "protocol/test_cometd_extensions.py::test_a_subscribe_is_answered_while_the_connect_is_held",
}


def test_protocol_tests_judge_the_third_party_server(server: ThirdPartyServer, tmp_path: Path) -> None:
    # The AUTH area: tests of the REST API, which a generic Bayeux server does not have.
    result = _run_generic(
        "--cometd-url",
        server.url,
        "--area",
        "COMETD",
        "--area",
        "AUTH",
        "--area",
        "HOST",
        "-n",
        "0",
        "--progress",
        "plain",
        report_dir=tmp_path,
    )
    assert result.returncode == EXIT_OK, f"{result.stdout}\n{result.stderr}"
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results["target"]["target_kind"] == "bayeux"
    outcomes = {
        name: test
        for test in results["tests"]
        for module, _, name in [test["nodeid"].partition("::")]
        if module.endswith("protocol/test_cometd.py")
    }
    assert set(outcomes) == PASSES | set(GWS_SPECIFIC) | NEEDS_REST
    for name in PASSES:
        assert outcomes[name]["outcome"] == "passed", outcomes[name]
    for name, requirement in GWS_SPECIFIC.items():
        assert outcomes[name]["outcome"] == "not_applicable", outcomes[name]
        assert outcomes[name]["message"].startswith("GWS-specific") and requirement in outcomes[name]["message"]
    for name in NEEDS_REST:
        assert outcomes[name]["outcome"] == "not_applicable", outcomes[name]
        assert "needs the GWS REST API" in outcomes[name]["message"]
    habits = {test["nodeid"]: test["outcome"] for test in results["tests"] if test["nodeid"] in CLIENT_HABITS_PASS}
    assert habits == dict.fromkeys(CLIENT_HABITS_PASS, "passed"), habits
    # Hostile input any Bayeux server must survive (E94): no server error, the next client still served.
    survived = [
        t for t in results["tests"] if "::test_the_notifications_endpoint_survives_hostile_input[" in t["nodeid"]
    ]
    assert len(survived) == len(BAYEUX_CASES) and all(t["outcome"] == "passed" for t in survived), survived
    # Protocol tests of other modules follow the same rule: they pass, or say why they do not apply; the
    # others need the REST API.
    others = [t for t in results["tests"] if not t["nodeid"].startswith("protocol/")]
    assert others, "the AUTH area selected no test"
    for test in results["tests"]:
        message = test.get("message") or ""
        if test in others:
            assert test["outcome"] == "not_applicable" and "needs the GWS REST API" in message, test
        elif test["outcome"] == "skipped":  # a websocket case where the server offers long-polling only
            assert not server.websocket and "no websocket" in message, test
        else:
            assert test["outcome"] == "passed" or (
                test["outcome"] == "not_applicable" and ("GWS-specific" in message or "GWS REST API" in message)
            ), test


def _run_generic(*options: str, report_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "run",
            "--target-kind",
            "bayeux",
            *options,
            "--report-dir",
            str(report_dir),
        ],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=env,
        check=False,
    )


def test_a_generic_target_that_is_not_bayeux_or_has_no_endpoint_is_refused_before_the_run(
    sub_path_server: ThirdPartyServer, tmp_path: Path
) -> None:
    # That server's endpoint URL itself answers 404 text/plain: no Bayeux there.
    refused = _run_generic("--cometd-url", sub_path_server.url, report_dir=tmp_path)
    assert refused.returncode == EXIT_TARGET, refused.stderr
    assert "does not look like a Bayeux server" in refused.stderr and "HTTP 404" in refused.stderr
    unnamed = _run_generic(report_dir=tmp_path)
    assert unnamed.returncode == EXIT_USAGE, unnamed.stderr
    assert "--cometd-url" in unnamed.stderr
