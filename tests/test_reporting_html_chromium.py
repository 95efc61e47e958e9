"""The HTML report in headless Chromium: it renders, its matrix and a failure's details show, its filters
work, it logs no console error and it asks for nothing beyond its own file.

Chromium comes from Debian (``apt-get install chromium``, done by .ci/run); without it these tests skip.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from headless_chromium import Page, chromium_available, open_page
from reporting_samples import catalogue_with_clients, exchange, failure, make_test, results, timeline_for

from conformance.reporting import write_reports

pytestmark = pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium (apt-get install chromium)")

FAILING = "scenarios/agent_state.py::test_ready_everywhere"

_VISIBLE = """(selector) => {
  const node = document.querySelector(selector);
  if (!node) { return false; }
  const box = node.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && getComputedStyle(node).visibility !== 'hidden';
}"""


def _visible(page: Page, selector: str) -> bool:
    return bool(page.evaluate(f"({_VISIBLE})({json.dumps(selector)})"))


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Page, Path]]:
    directory = tmp_path_factory.mktemp("report")
    evidence = [exchange(7, response_body='{"user": {"id": "u1", "note": "<img src=http://evil.example/x>"}}')]
    data = results(
        [
            failure(FAILING, ["GWS-GEN-001"], evidence=evidence, requirements=["GWS-GEN-001", "GWS-AGST-007"]),
            failure(
                "scenarios/agent_state.py::test_http_status",
                ["GWS-GEN-003"],
                level="SHOULD",
                title="statusCode 2 answered with HTTP 200",
            ),
            make_test("scenarios/agent_state.py::test_not_ready", requirements=["GWS-AGST-008"]),
            make_test(
                "scenarios/voice.py::test_dial",
                "needs_stimulus",
                requirements=["GWS-CALL-010"],
                message="no stimulus adapter is configured",
            ),
            *[
                make_test(f"fuzz/test_fuzz.py::test_positive_data[GET /op{i} as agent]", requirements=["GWS-GEN-002"])
                for i in range(30)
            ],
        ]
    )
    (directory / "results.json").write_text(json.dumps(data), encoding="utf-8")
    (directory / "journal").mkdir()
    entry = {
        "nodeid": FAILING,
        "worker": "main",
        "outcome": "failed",
        "operations": ["GET /me", "POST /me#Ready"],
        "notifications": ["ChannelStateChanged"],
        "timeline": timeline_for(7),
    }
    (directory / "journal" / "main.jsonl").write_text(json.dumps(entry) + "\n", encoding="utf-8")
    with catalogue_with_clients():  # GEN-001 failed and GEN-003 warned name the clients they break
        files = write_reports(directory, context={"server": "ExampleGWS/8.5.1", "command": "gws-conformance run"})
    with open_page(files.html.resolve().as_uri()) as page:
        yield page, files.html


def test_it_renders_the_verdict_and_the_summary(report_page: tuple[Page, Path]) -> None:
    page, _ = report_page
    assert page.evaluate("document.querySelector('header.top h1').innerText") == "Not conformant"
    assert _visible(page, "#summary .score")
    assert "ExampleGWS/8.5.1" in page.evaluate("document.querySelector('header.top').innerText")


def test_the_requirement_matrix_is_visible_with_every_requirement(report_page: tuple[Page, Path]) -> None:
    page, _ = report_page
    assert _visible(page, "#requirements table.matrix")
    assert _visible(page, "#r-GWS-GEN-001") and _visible(page, "#r-GWS-CHAT-001")
    outcomes = page.evaluate(
        "Object.fromEntries(['GWS-GEN-001','GWS-GEN-003','GWS-AGST-008','GWS-CALL-010','GWS-CHAT-001']"
        ".map(id => [id, document.getElementById('r-' + id).dataset.outcome]))"
    )
    assert outcomes == {
        "GWS-GEN-001": "failed",
        "GWS-GEN-003": "warning",
        "GWS-AGST-008": "passed",
        "GWS-CALL-010": "needs_stimulus",
        "GWS-CHAT-001": "untested",
    }
    rows = page.evaluate("document.querySelectorAll('#requirements tr[data-outcome]').length")
    assert rows == page.evaluate("document.querySelectorAll('.hm-cells .cell').length") > 300


def test_a_failure_shows_its_requirement_exchange_curl_and_timeline(report_page: tuple[Page, Path]) -> None:
    page, _ = report_page
    article = "#failures article.failure"
    assert _visible(page, article)
    text = page.evaluate(f"document.querySelector('{article}').innerText")
    assert "Reply has no statusCode" in text and "GWS-GEN-001" in text
    assert "The server answers every API request" in text and "Return Values" in text
    assert _visible(page, f"{article} .curl pre")
    assert page.evaluate(f"document.querySelector('{article} .curl pre').innerText").startswith(
        "curl -sS -i -X GET http://gws.example.test:8080/api/v2/me"
    )
    assert _visible(page, f"{article} pre.res") and "Authorization: Basic ***" in text
    page.evaluate(f"document.querySelector('{article} details.timeline').open = true")
    assert _visible(page, f"{article} details.timeline tr.hot")
    assert "ChannelStateChanged" in page.evaluate(f"document.querySelector('{article} details.timeline').innerText")


def test_what_breaks_real_clients_shows_each_requirement_its_outcome_and_habits(report_page: tuple[Page, Path]) -> None:
    page, _ = report_page
    assert _visible(page, "#clients table.clients")
    rows = page.evaluate(
        "[...document.querySelectorAll('#clients tr[data-client-outcome]')]"
        ".map(r => [r.querySelector('code').innerText, r.dataset.clientOutcome, r.innerText])"
    )
    assert [(rid, outcome) for rid, outcome, _ in rows] == [
        ("GWS-GEN-001", "failed"),
        ("GWS-GEN-003", "warning"),
        ("GWS-COMETD-001", "untested"),
    ]
    assert "reads statusCode from every reply <and throws without it>" in rows[0][2]  # shown as text, escaped
    assert "example/gws-csharp" in rows[0][2] and "function ReadStatus" in rows[0][2]
    assert "maps HTTP 4xx to exceptions" in rows[1][2]
    # The failing test's link leads to its failure card, the ID's link to the matrix row.
    page.evaluate("document.querySelector('#clients tr[data-client-outcome=\"failed\"] td:nth-child(3) a').click()")
    page.settle()
    assert page.evaluate("location.hash") == "#" + page.evaluate(
        "document.querySelector('#failures article.failure').id"
    )
    page.evaluate("document.querySelector('#clients a[href=\"#r-GWS-GEN-003\"]').click()")
    page.settle()
    assert page.evaluate("location.hash") == "#r-GWS-GEN-003" and _visible(page, "#r-GWS-GEN-003")


def test_the_outcome_filters_and_the_search_narrow_the_matrix(report_page: tuple[Page, Path]) -> None:
    page, _ = report_page
    page.evaluate('document.querySelector(\'.chip[data-filter="req"][data-value="failed"]\').click()')
    shown = page.evaluate(
        "[...document.querySelectorAll('#requirements tr[data-outcome]')]"
        ".filter(r => r.getBoundingClientRect().height > 0).map(r => r.dataset.outcome)"
    )
    assert shown == ["failed"]
    assert not _visible(page, "#requirements .area[data-area='CHAT']")
    page.evaluate('document.querySelector(\'.chip[data-filter="req"][data-value="all"]\').click()')
    page.evaluate(
        "(() => { const box = document.querySelector('input[data-search=\"req\"]');"
        " box.value = 'GWS-CALL-010'; box.dispatchEvent(new Event('input')); })()"
    )
    visible_ids = page.evaluate(
        "[...document.querySelectorAll('#requirements tr[data-outcome]')]"
        ".filter(r => r.getBoundingClientRect().height > 0).map(r => r.id)"
    )
    assert visible_ids == ["r-GWS-CALL-010"]


def test_no_console_error_and_no_request_leaves_the_page(report_page: tuple[Page, Path]) -> None:
    page, html = report_page
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.settle()
    assert page.console_errors() == []
    assert set(page.requested_urls()) == {html.resolve().as_uri()}
