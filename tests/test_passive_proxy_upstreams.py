"""``gws-conformance proxy`` in front of upstreams that make its one rewrite harder (conformance.passive.rewrite):
an https upstream with a private CA, one that compresses its replies, one that scopes its cookies to its own
host. Through each, the client must keep talking to the proxy, and the judge must read what the client read."""

from __future__ import annotations

import base64
import gzip
import json
import os
import ssl
import subprocess
import sys
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from headless_chromium import chromium_available, open_page
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from tls_support import PrivateCa, make_private_ca
from websockets.sync.client import connect as websocket

from conformance.client import _tls_context
from conformance.passive.judge import Judge
from conformance.passive.proxy import Proxy
from conformance.passive.rewrite import Addresses, decoded, forwarded
from reference_impl.app import create_app
from reference_impl.embedded import serve_in_thread
from tests.live_reference import PASSWORDS
from tests.passive_support import record_call_session

AGENT1 = ("agent1", PASSWORDS["agent1"])
BASIC = "Basic " + base64.b64encode(f"agent1:{PASSWORDS['agent1']}".encode()).decode()


def outcomes(judge: Judge) -> dict[str, str]:
    return {t.nodeid.removeprefix("passive::"): str(t.outcome) for t in judge.results().tests.values()}


def websocket_handshake(origin: str) -> dict[str, Any]:
    """A Bayeux handshake over a websocket to ``origin`` (the proxy): its reply."""
    url = origin.replace("http", "ws", 1) + "/api/v2/notifications"
    with websocket(url, additional_headers={"Authorization": BASIC}, open_timeout=10) as socket:
        offer = {"channel": "/meta/handshake", "id": "1", "version": "1.0", "supportedConnectionTypes": ["websocket"]}
        socket.send(json.dumps([offer]))
        (reply,) = json.loads(socket.recv(timeout=10))
    return dict(reply)


# -- an https upstream ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCa:
    return make_private_ca(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_upstream(private_ca: PrivateCa, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The reference over TLS (its certificate signed by the private CA); no TLS option set for the suite."""
    monkeypatch.delenv("GWS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("GWS_INSECURE", raising=False)
    _tls_context.cache_clear()  # a CA file of an earlier test may have the same name
    with serve_in_thread(create_app(), tls_certificate=str(private_ca.server_certificate)) as upstream:
        assert upstream.origin.startswith("https://")
        yield upstream.origin


def test_an_https_upstream_carries_rest_long_polling_and_wss_once_its_ca_is_trusted(
    https_upstream: str, private_ca: PrivateCa, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GWS_CA_BUNDLE", str(private_ca.ca_bundle))  # as for `gws-conformance run`
    proxy = Proxy(https_upstream, Judge())
    with serve_in_thread(proxy, server_headers=False) as front:
        here = front.origin
        trusted = ssl.create_default_context(cafile=private_ca.ca_bundle)
        direct = httpx.get(f"{https_upstream}/api/v2/me/devices", auth=AGENT1, verify=trusted)
        proxied = httpx.get(f"{here}/api/v2/me/devices", auth=AGENT1)
        assert proxied.status_code == 200, proxied.text
        # https://127.0.0.1:P in the reply became the proxy's plain http origin: the client stays with the proxy.
        assert proxied.content == direct.content.replace(https_upstream.encode(), here.encode())
        (device,) = proxied.json()["uris"]
        assert device.startswith(here + "/api/v2/devices/")
        record_call_session(here)  # long-polling: a whole call between two agents
        reply = websocket_handshake(here)  # ws to the proxy, wss from it to the upstream
    assert reply["successful"] is True and reply["clientId"], reply
    judged = outcomes(proxy.judged())
    assert {"notification_schema", "call_leg_states", "meta_reply_id"} <= set(judged)
    assert set(judged.values()) == {"passed"}, judged
    assert proxy.judged().tally.websocket_frames >= 2


def test_an_https_upstream_is_verified_by_default(https_upstream: str, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = Proxy(https_upstream, Judge())
    with serve_in_thread(proxy, server_headers=False) as front:
        refused = httpx.get(f"{front.origin}/api/v2/me", auth=AGENT1)
        assert refused.status_code == 502
        assert "CERTIFICATE_VERIFY_FAILED" in refused.json()["statusMessage"], refused.text
        with pytest.raises(Exception, match="502"):
            websocket_handshake(front.origin)
    # GWS_INSECURE=1 turns verification off, for the proxy as for a run.
    monkeypatch.setenv("GWS_INSECURE", "1")
    proxy = Proxy(https_upstream, Judge())
    with serve_in_thread(proxy, server_headers=False) as front:
        assert httpx.get(f"{front.origin}/api/v2/me", auth=AGENT1).json()["statusCode"] == 0
        assert websocket_handshake(front.origin)["successful"] is True


# -- a compressing upstream ----------------------------------------------------------------------------------

# gzip at level 9 with a set mtime: bytes the proxy's own encoder (level 6, mtime 0) would not produce.
FIXED_GZIP = gzip.compress(b'{"statusCode":0,"text":"no address here"}', compresslevel=9, mtime=1234567)


def fixed_gzip(_: Request) -> Response:
    return Response(FIXED_GZIP, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})


@pytest.fixture
def gzip_upstream() -> Iterator[str]:
    """The reference with every reply gzip-compressed for a client that accepts it, plus a fixed gzip reply."""
    reference = GZipMiddleware(create_app(stimulus=True), minimum_size=0)
    fixed = Starlette(routes=[Route("/fixed", fixed_gzip)])

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await (fixed if scope.get("path") == "/fixed" else reference)(scope, receive, send)

    with serve_in_thread(app) as upstream:
        yield upstream.origin


def test_a_compressed_reply_that_names_the_upstream_is_rewritten_and_compressed_again(gzip_upstream: str) -> None:
    proxy = Proxy(gzip_upstream, Judge())
    with serve_in_thread(proxy, server_headers=False) as front, httpx.Client(auth=AGENT1) as client:
        here = front.origin
        with client.stream("GET", f"{here}/api/v2/me/devices") as reply:
            raw = b"".join(reply.iter_raw())
        assert reply.headers["content-encoding"] == "gzip" and int(reply.headers["content-length"]) == len(raw)
        plain = gzip.decompress(raw)
        (device,) = json.loads(plain)["uris"]
        assert device.startswith(here + "/api/v2/devices/") and gzip_upstream.encode() not in plain
        direct = client.get(f"{gzip_upstream}/api/v2/me/devices")
        assert plain == direct.content.replace(gzip_upstream.encode(), here.encode())
        record_call_session(here)  # long-polling replies compressed too
    recorded = [e["response"]["content"].get("text", "") for e in proxy.entries]
    assert any('"uris"' in text for text in recorded)  # the judge's copy: decoded JSON, as the client read it
    assert not any(gzip_upstream in text for text in recorded)
    judged = outcomes(proxy.judged())
    assert {"notification_schema", "call_leg_states"} <= set(judged)
    assert set(judged.values()) == {"passed"}, judged


def test_a_compressed_reply_that_names_no_address_passes_byte_for_byte(gzip_upstream: str) -> None:
    proxy = Proxy(gzip_upstream, Judge())
    with serve_in_thread(proxy, server_headers=False) as front, httpx.Client() as client:
        with client.stream("GET", f"{front.origin}/fixed") as reply:
            raw = b"".join(reply.iter_raw())
    assert raw == FIXED_GZIP
    (entry,) = proxy.entries
    assert json.loads(entry["response"]["content"]["text"])["text"] == "no address here"


def test_a_binary_attachment_through_a_compressing_upstream_arrives_unchanged(gzip_upstream: str) -> None:
    binary = bytes(range(256)) * 8 + gzip_upstream.encode()[:9]  # even a prefix of the address stays as it is
    proxy = Proxy(gzip_upstream, Judge())
    with serve_in_thread(proxy, server_headers=False) as front, httpx.Client(auth=AGENT1) as agent:
        api = f"{front.origin}/api/v2"
        agent_id = agent.get(f"{api}/me").json()["user"]["id"]
        agent.post(f"{api}/me", json={"operationName": "Ready"})
        email = {"fromAddress": "c@example.test", "toAddress": "s@example.test", "subject": "s", "text": "t"}
        interaction = httpx.post(f"{gzip_upstream}/stimulus/emails", json={**email, "agentId": agent_id}).json()
        ixn = interaction["interactionId"]
        assert agent.post(f"{api}/me/interactions/{ixn}", json={"operationName": "Accept"}).json()["statusCode"] == 0
        files = {"attachment": ("b.bin", binary, "application/octet-stream")}
        uploaded = agent.post(f"{api}/me/interactions/{ixn}/attachments", files=files).json()
        got = agent.get(uploaded["uri"])
    assert uploaded["uri"].startswith(front.origin) and got.content == binary
    assert got.headers["content-encoding"] == "gzip"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "deflate, gzip"])
def test_every_coding_the_proxy_decodes_it_encodes_again(coding: str) -> None:
    if coding == "br":
        brotli = pytest.importorskip("brotli")
    rewrite = Addresses("http://upstream.test:8080", "http://127.0.0.1:8081")
    body = b'{"uri":"http:\\/\\/upstream.test:8080\\/api\\/v2\\/me","other":"http://upstream.test:80800/x"}'
    encoded = body
    for one in coding.split(", "):
        encoded = {"gzip": gzip.compress, "deflate": zlib.compress}.get(one, lambda b: brotli.compress(b))(encoded)
    sent, client_reads = forwarded(encoded, rewrite, coding)
    expected = body.replace(b"upstream.test:8080\\/", b"127.0.0.1:8081\\/")
    assert client_reads == expected and decoded(sent, coding) == expected
    # Not compressed as labelled, or a coding the proxy cannot encode: passed on as it came.
    for label in ("gzip", "zstd"):
        assert forwarded(body, rewrite, label) == (body, body)


@pytest.mark.parametrize(
    ("upstream", "text", "expected"),
    [
        ("https://gws.test", "https://gws.test:443/api/v2/me", "http://p:1/api/v2/me"),
        ("https://gws.test:443", "https://gws.test/api/v2/me", "http://p:1/api/v2/me"),
        ("http://gws.test:80", "http://gws.test:8080/api", "http://gws.test:8080/api"),
        ("http://gws.test", "http://gws.test.evil.test/api", "http://gws.test.evil.test/api"),
        ("http://[::1]:8080", '"http:\\/\\/[::1]:8080\\/api"', '"http:\\/\\/p:1\\/api"'),
    ],
)
def test_an_origin_is_rewritten_in_each_spelling_and_nowhere_else(upstream: str, text: str, expected: str) -> None:
    rewrite = Addresses(upstream, "http://p:1")
    assert rewrite.text(text) == expected
    assert rewrite.body(text.encode()) == expected.encode()


# -- cookies scoped to the upstream --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("set_cookie", "expected"),
    [
        ("JSESSIONID=a; Domain=gws.example.test; Path=/; HttpOnly", "JSESSIONID=a; Path=/; HttpOnly"),
        ("s=1;domain=.Example.test;Secure", "s=1;Secure"),  # a parent domain, any case, a leading dot
        ("s=1; Path=/; Domain=other.test", "s=1; Path=/; Domain=other.test"),  # not the upstream's: left
        ("s=1; Domain=test.example.test", "s=1; Domain=test.example.test"),
        ("s=domain=gws.example.test; Path=/", "s=domain=gws.example.test; Path=/"),  # a value, no attribute
    ],
)
def test_a_cookie_scoped_to_the_upstream_becomes_the_proxys(set_cookie: str, expected: str) -> None:
    assert Addresses("https://gws.example.test", "http://127.0.0.1:8081").cookie(set_cookie) == expected


def cookie_app(secure: bool) -> Starlette:
    flags = "; Secure" if secure else ""

    def page(_: Request) -> Response:
        return HTMLResponse("<!doctype html><title>cookies</title>")

    def set_cookies(_: Request) -> Response:
        response = PlainTextResponse("set")
        response.headers.append("Set-Cookie", f"scoped=1; Domain=localhost; Path=/; HttpOnly{flags}")
        response.headers.append("Set-Cookie", f"hostonly=2; Path=/{flags}")
        return response

    def echo(request: Request) -> Response:
        return PlainTextResponse(request.headers.get("cookie", ""))

    return Starlette(routes=[Route("/page", page), Route("/set", set_cookies), Route("/echo", echo)])


@pytest.mark.skipif(not chromium_available(), reason="chromium is not installed (.ci/run installs Debian's)")
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_browser_sends_the_upstreams_scoped_cookie_back_to_the_proxy(
    scheme: str, private_ca: PrivateCa, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The upstream is addressed as localhost and scopes its cookie to it; the browser talks to the proxy on
    # 127.0.0.1, a host that cookie's Domain would not match. An https upstream marks its cookies Secure, which the
    # proxy leaves: a browser keeps and returns Secure cookies over plain http on loopback, where the proxy listens.
    monkeypatch.setenv("GWS_CA_BUNDLE", str(private_ca.ca_bundle))
    tls = str(private_ca.server_certificate) if scheme == "https" else None
    with serve_in_thread(cookie_app(secure=scheme == "https"), tls_certificate=tls) as upstream:
        proxy = Proxy(f"{scheme}://localhost:{upstream.port}", Judge())
        with serve_in_thread(proxy, server_headers=False) as front, open_page(front.origin + "/page") as page:
            sent_back = page.evaluate(
                "fetch('/set', {credentials: 'same-origin'})"
                ".then(() => fetch('/echo', {credentials: 'same-origin'})).then(r => r.text())"
            )
    assert sorted(str(sent_back).split("; ")) == ["hostonly=2", "scoped=1"], sent_back


def proxy_command(*options: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")} | env
    command = [sys.executable, "-m", "conformance.cli", "proxy", *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, env=environment)


def test_the_command_takes_the_suites_tls_settings() -> None:
    missing = proxy_command("--upstream", "https://127.0.0.1:1", GWS_CA_BUNDLE="/nonexistent.pem")
    assert missing.returncode == 2, missing.stderr
    assert missing.stderr.strip().splitlines() == [
        "gws-conformance: GWS_CA_BUNDLE='/nonexistent.pem' (environment): no such file"
    ]
    insecure = proxy_command("--upstream", "https://127.0.0.1:1", "--listen", "nowhere", GWS_INSECURE="1")
    warning, error = insecure.stderr.strip().splitlines()
    assert insecure.returncode == 2 and "TLS certificates are NOT verified" in warning and "HOST:PORT" in error
