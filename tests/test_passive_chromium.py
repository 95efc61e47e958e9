"""The passive judge proved with a real browser: Chromium runs an agent-desktop page (the official CometD JavaScript
client and fetch, tests/js/passive/index.html) against the reference through ``gws-conformance proxy``'s app.

The proxy carries the session without breaking it and finds it conformant; the HAR Chromium's own network events
make of the same session (tests/cdp_har.py) validates to the same findings; against a reference started with a
fault, both report it, with the exchange that showed it. Needs Debian's chromium and tests/js/node_modules.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cdp_har import har_from_cdp
from headless_chromium import chromium_available, open_page
from starlette.staticfiles import StaticFiles

from conformance.passive.har import read_hars
from conformance.passive.judge import Judge
from conformance.passive.proxy import Proxy
from reference_impl.app import create_app
from reference_impl.embedded import serve_in_thread

JS_DIR = Path(__file__).parent / "js"

pytestmark = [
    pytest.mark.skipif(not chromium_available(), reason="chromium is not installed (.ci/run installs Debian's)"),
    pytest.mark.skipif(
        not (JS_DIR / "node_modules" / "cometd").is_dir(),
        reason="tests/js/node_modules missing: run `(cd tests/js && npm ci)`",
    ),
]


def with_page(reference: Any) -> Callable[..., Any]:
    """The reference, plus the page and the CometD client under /page/ (same origin: no CORS in the way)."""
    page = StaticFiles(directory=JS_DIR / "passive")
    cometd = StaticFiles(directory=JS_DIR / "node_modules" / "cometd")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/page/cometd/"):
            await cometd({**scope, "path": path.removeprefix("/page/cometd")}, receive, send)
        elif scope["type"] == "http" and path.startswith("/page/"):
            await page({**scope, "path": path.removeprefix("/page")}, receive, send)
        else:
            await reference(scope, receive, send)

    return app


def browse(*faults: str, transport: str = "long-polling") -> tuple[str, Judge, dict[str, Any]]:
    """The page's outcome, the proxy's judge, and Chromium's HAR of the session."""
    with serve_in_thread(with_page(create_app(faults=faults))) as upstream:
        proxy = Proxy(upstream.origin, Judge())
        url = f"/page/index.html?transport={transport}"
        with serve_in_thread(proxy, server_headers=False) as front, open_page(front.origin + url) as page:
            outcome = page.evaluate("window.done")
            har = har_from_cdp(page)
    return str(outcome), proxy.judged(), har


def verdicts(judge: Judge) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each rule's outcome and its findings' titles."""
    return {
        t.nodeid: (str(t.outcome), tuple(sorted(f["title"] for f in t.findings)))
        for t in judge.results().tests.values()
    }


def validated(har: dict[str, Any], tmp_path: Path) -> Judge:
    path = tmp_path / "chromium.har"
    path.write_text(json.dumps(har))
    judge = Judge()
    judge.judge_all(read_hars([path]))
    return judge


@pytest.mark.parametrize("transport", ["long-polling", "websocket"])
def test_a_browser_session_through_the_proxy_is_conformant_and_its_har_agrees(tmp_path: Path, transport: str) -> None:
    outcome, live, har = browse(transport=transport)
    assert outcome.startswith("OK:"), outcome
    # GET /me twice, GET /me/devices, Dial, Answer, Hangup; the Bayeux traffic; the page and the client library
    assert live.tally.rest == 6 and live.tally.bayeux >= 1 and live.tally.not_gws >= 2
    if transport == "websocket":
        assert live.tally.websocket_frames >= 6 and any(e.get("_webSocketMessages") for e in har["log"]["entries"])
    live_verdicts = verdicts(live)
    assert {o for o, _ in live_verdicts.values()} == {"passed"}, live_verdicts
    assert {"passive::notification_schema", "passive::call_leg_states", "passive::meta_reply_id"} <= set(live_verdicts)
    recorded = validated(har, tmp_path)
    assert verdicts(recorded) == live_verdicts
    assert (recorded.tally.rest, recorded.tally.bayeux) == (live.tally.rest, live.tally.bayeux)


def test_a_fault_is_reported_by_the_proxy_and_by_the_browsers_har(tmp_path: Path) -> None:
    outcome, live, har = browse("released-call-without-capabilities")
    assert outcome.startswith("OK:"), outcome  # this client never reads capabilities: it keeps working
    rule = "passive::client_habit.GWS-CALL-032"
    for judge in (live, validated(har, tmp_path)):
        test = judge.results().tests[rule]
        assert str(test.outcome) == "failed" and test.violated == ["GWS-CALL-032"], test
        assert any('"Released"' in json.dumps(e) for e in test.evidence), test.evidence
    assert verdicts(validated(har, tmp_path)) == verdicts(live)
