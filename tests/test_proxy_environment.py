"""The suite behind an HTTP proxy, as a vendor behind a corporate proxy runs it: ``HTTPS_PROXY`` / ``HTTP_PROXY``
/ ``NO_PROXY`` hold for every client of the suite, the CometD listeners as well as httpx's REST requests.

The proxy is one nobody here wrote (npm "proxy", tests/js/forward_proxy.mjs). It alone resolves the target's
name (``gws.test``), so a client that goes around it reaches nothing, and it tells which tunnels it carried.
Before, the listeners (aiohttp, under aiocometd) ignored the environment and went direct: behind a proxy that
is the only way out, every notification test failed while REST passed.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from forward_proxy import SKIP_REASON, ForwardProxy, serve
from live_reference import LiveTarget, run_suite
from tls_support import PrivateCa, make_private_ca

from conformance.client import Proxy, _tls_context, environment_proxy, tls_context
from conformance.cometd import NotificationListener
from conformance.errors import TargetUnreachable
from conformance.hostile import Target, raw_request
from reference_impl.app import create_app
from reference_impl.embedded import EmbeddedServer, serve_in_thread

AGENT1 = ("agent1", "agent1-secret")
CHANNELS = "/v2/me/channels"
NAME = "gws.test"  # the target's name, which only the proxy resolves
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
SELECTION = (
    "conformance/suite/scenarios/agent_state.py::test_ready_and_not_ready_on_all_channels",
    "conformance/suite/scenarios/voice.py::test_dial_answer_hangup",
    "conformance/suite/protocol/test_cometd_hijack.py",
    "conformance/suite/protocol/test_cometd.py",
    # Raw requests (conformance/hostile.py): through a CONNECT tunnel, byte for byte.
    "conformance/suite/protocol/test_hostile.py::test_rest_refuses_an_oversized_body",
    "conformance/suite/protocol/test_hostile.py::test_rest_refuses_hostile_input",
)

needs_proxy = pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")


@pytest.fixture(autouse=True)
def no_proxy_of_our_own(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCa:
    return make_private_ca(tmp_path_factory.mktemp("tls"), NAME)


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    with serve(resolves={NAME: "127.0.0.1"}) as running:
        yield running


@pytest.fixture
def https_server(private_ca: PrivateCa, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedServer]:
    """The reference over TLS, its certificate (for gws.test too) signed by a private CA the suite trusts."""
    monkeypatch.setenv("GWS_CA_BUNDLE", str(private_ca.ca_bundle))
    monkeypatch.delenv("GWS_INSECURE", raising=False)
    _tls_context.cache_clear()
    with serve_in_thread(create_app(stimulus=True), tls_certificate=str(private_ca.server_certificate)) as server:
        yield server
    _tls_context.cache_clear()


def _hears_a_state_change(origin: str, connection_type: str) -> None:
    """A listener of agent1 opens, subscribes and receives the message a REST change causes."""
    listener = NotificationListener(
        f"{origin}/api/v2/notifications", *AGENT1, [CHANNELS], connection_type=connection_type, connect_timeout_s=5
    ).start()
    try:
        with httpx.Client(auth=AGENT1, verify=tls_context()) as http:
            answer = http.post(f"{origin}/api/v2/me", json={"operationName": "NotReady"}).json()
            assert answer["statusCode"] == 0, answer
        listener.expect(CHANNELS, timeout_s=10, description="the NotReady state change")
    finally:
        listener.stop()


@needs_proxy
@pytest.mark.parametrize("connection_type", ["long-polling", "websocket"])
def test_a_listener_reaches_an_https_target_through_the_proxy_https_proxy_names(
    proxy: ForwardProxy, https_server: EmbeddedServer, connection_type: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.origin)
    _hears_a_state_change(f"https://{NAME}:{https_server.port}", connection_type)
    tunnels = [target for method, target in proxy.carried if method == "CONNECT"]
    # One tunnel for the REST request (httpx); the listener's own (aiohttp) besides it.
    assert len(tunnels) >= 2 and set(tunnels) == {f"{NAME}:{https_server.port}"}, proxy.carried


@needs_proxy
def test_no_proxy_sends_the_listener_direct(
    proxy: ForwardProxy, https_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.origin)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    _hears_a_state_change(https_server.origin, "long-polling")
    assert proxy.carried == []


@needs_proxy
def test_a_listener_reaches_a_plain_http_target_through_the_proxy_http_proxy_names(
    proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long-polling, forwarded in absolute form. (A websocket to a plain-http target through a forward proxy is
    not: aiohttp sends its Upgrade in absolute form instead of through CONNECT, which RFC 6455 section 4.1 asks
    for, and this proxy, like Squid, forwards no Upgrade: docs/remote-targets.md.)"""
    monkeypatch.setenv("HTTP_PROXY", proxy.origin)
    with serve_in_thread(create_app()) as server:
        origin = f"http://{NAME}:{server.port}"
        _hears_a_state_change(origin, "long-polling")
    assert ("POST", f"{origin}/api/v2/notifications") in proxy.carried, proxy.carried


@needs_proxy
def test_a_run_through_the_proxy_judges_the_reference_conformant(
    proxy: ForwardProxy,
    https_server: EmbeddedServer,
    private_ca: PrivateCa,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Scenarios that change state by REST and wait for its notifications, every client of the suite (REST,
    listeners, the stimulus) able to reach the target only through the proxy."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.origin)
    target = LiveTarget(f"https://{NAME}:{https_server.port}", https_server.app)
    data = run_suite(target, tmp_path, *SELECTION, GWS_STIMULUS="reference", GWS_CA_BUNDLE=str(private_ca.ca_bundle))
    outcomes = {test["nodeid"]: test["outcome"] for test in data["tests"]}
    assert data["exit_code"] == 0 and set(outcomes.values()) == {"passed"}, f"{outcomes}\n{data['output']}"
    assert {target for method, target in proxy.carried if method == "CONNECT"} == {f"{NAME}:{https_server.port}"}


@pytest.mark.parametrize(
    ("environment", "url", "expected"),
    [
        ({"HTTPS_PROXY": "http://proxy.example:3128"}, "https://gws.example/api/v2/notifications", "proxy"),
        ({"HTTPS_PROXY": "http://proxy.example:3128"}, "http://gws.example/api/v2/notifications", None),
        ({"HTTP_PROXY": "proxy.example:3128"}, "http://gws.example/api/v2/notifications", "proxy"),
        ({"ALL_PROXY": "http://proxy.example:3128"}, "https://gws.example/api/v2/notifications", "proxy"),
        (
            {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": "gws.example"},
            "https://gws.example/api/v2/notifications",
            None,
        ),
    ],
)
def test_the_listeners_proxy_follows_the_environment_as_httpx_reads_it(
    environment: dict[str, str], url: str, expected: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert environment_proxy(url) == (None if expected is None else Proxy("http://proxy.example:3128", None))


def test_credentials_in_the_proxy_url_become_its_basic_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://alice:s%40cret@proxy.example:3128")
    # The credentials go in Proxy-Authorization, not in the URL.
    assert environment_proxy("https://gws.example/api/v2/notifications") == Proxy(
        "http://proxy.example:3128", ("alice", "s@cret")
    )


def test_a_raw_request_that_reaches_nothing_is_no_reply_of_the_target() -> None:
    """A hostile case's judge takes a closed connection for a refusal; a connection never made is not one. (Behind
    a proxy the raw cases once went around it and reached nothing, and the cases a close satisfies passed.)"""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed at once: nothing listens there
    with pytest.raises(TargetUnreachable, match=f"no connection to 127.0.0.1:{port}"):
        raw_request(Target(f"http://127.0.0.1:{port}/api/v2"), b"GET", b"/me", timeout_s=5)


@needs_proxy
def test_a_raw_request_goes_through_the_proxys_tunnel_byte_for_byte(
    proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.origin)
    with serve_in_thread(create_app()) as server:
        # A raw NUL in a JSON string: a forwarding proxy would parse the request; a tunnel passes it on unread.
        reply = raw_request(
            Target(f"http://{NAME}:{server.port}/api/v2"),
            b"POST",
            b"/me",
            headers=(b"Authorization: Basic YWdlbnQxOmFnZW50MS1zZWNyZXQ=", b"Content-Type: application/json"),
            body=b'{"operationName": "Not\x00Ready"}',
            timeout_s=10,
        )
    assert reply.status == 400 and proxy.carried == [("CONNECT", f"{NAME}:{server.port}")], (reply, proxy.carried)


def test_a_proxy_spoken_to_over_tls_is_no_tunnel_for_raw_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "https://proxy.example:3129")
    with pytest.raises(TargetUnreachable, match="http:// proxy only"):
        raw_request(Target("http://gws.example/api/v2"), b"GET", b"/me", timeout_s=5)
