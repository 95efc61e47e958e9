"""The report model, the HTML and Markdown writers, baselines and diffs, on small results files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from reporting_samples import CLIENTS, catalogue_with_clients, exchange, failure, make_test, results, timeline_for

from conformance.delivery import DeliveryClock, summarise
from conformance.reporting import write_reports
from conformance.reporting.baseline import Baseline, BaselineError, ResultsFileError, diff_results, load_results
from conformance.reporting.coverage import declared_notification_kinds, declared_operations, operation_key
from conformance.reporting.html import render_html
from conformance.reporting.junit import mark_suite_errors
from conformance.reporting.markdown import render_markdown
from conformance.reporting.model import build_report


def _requirement(report, rid):  # type: ignore[no-untyped-def]
    return next(r for r in report.requirements if r.id == rid)


# -- requirement outcomes, scores, verdict ------------------------------------------------------------------


def test_a_must_violation_fails_its_requirement_and_the_verdict() -> None:
    report = build_report(
        results(
            [
                failure("scenarios/a.py::test_a", ["GWS-GEN-001"], requirements=["GWS-GEN-001", "GWS-GEN-002"]),
                make_test("scenarios/b.py::test_b", requirements=["GWS-GEN-002"]),
            ]
        )
    )
    assert _requirement(report, "GWS-GEN-001").outcome == "failed"
    assert _requirement(report, "GWS-GEN-002").outcome == "passed"  # named by no failure, proven elsewhere
    assert report.verdict.code == "not_conformant"
    assert report.must.failed == 1 and report.must.passed == 1 and report.must.text() == "50%"


def test_a_requirement_only_a_failing_test_carries_is_inconclusive() -> None:
    report = build_report(
        results(
            [
                failure("scenarios/a.py::test_a", ["GWS-GEN-001"], requirements=["GWS-GEN-001", "GWS-GEN-002"]),
            ]
        )
    )
    assert _requirement(report, "GWS-GEN-002").outcome == "inconclusive"


def test_an_unattributed_failure_fails_every_requirement_the_test_carries() -> None:
    report = build_report(
        results(
            [
                make_test(
                    "scenarios/a.py::test_a",
                    "failed",
                    requirements=["GWS-GEN-001", "GWS-GEN-002"],
                    title="TargetTimeout",
                    level="MUST",
                ),
            ]
        )
    )
    assert {_requirement(report, r).outcome for r in ("GWS-GEN-001", "GWS-GEN-002")} == {"failed"}


def test_should_violations_warn_and_do_not_break_the_verdict() -> None:
    report = build_report(results([failure("scenarios/a.py::test_a", ["GWS-GEN-003"], level="SHOULD")]))
    assert _requirement(report, "GWS-GEN-003").outcome == "warning"
    assert report.verdict.code == "conformant"
    assert report.should.failed == 1 and report.should.text() == "0%"


def test_untested_not_applicable_and_needs_stimulus_have_no_verdict() -> None:
    report = build_report(
        results(
            [
                make_test("scenarios/a.py::test_a", "not_applicable", requirements=["GWS-CALL-001"]),
                make_test("scenarios/b.py::test_b", "needs_stimulus", requirements=["GWS-EMAIL-001"]),
            ]
        )
    )
    assert _requirement(report, "GWS-CALL-001").outcome == "not_applicable"
    assert _requirement(report, "GWS-EMAIL-001").outcome == "needs_stimulus"
    assert _requirement(report, "GWS-CHAT-001").outcome == "untested"
    assert report.must.percent is None and report.must.text() == "—"


def test_suite_errors_alone_make_the_verdict_a_suite_error() -> None:
    report = build_report(results([make_test("scenarios/a.py::test_a", "error", requirements=["GWS-GEN-001"])]))
    assert report.verdict.code == "suite_error"
    assert _requirement(report, "GWS-GEN-001").outcome == "error"


def test_an_interrupted_run_has_no_verdict_and_says_how_far_it_got(tmp_path: Path) -> None:
    ran = results([make_test("scenarios/a.py::test_a"), failure("scenarios/b.py::test_b", ["GWS-GEN-002"])])
    report = build_report(ran, interrupted=True)
    assert report.verdict.code == "interrupted"
    assert "after 2 test(s)" in report.verdict.detail and "1 of them failed" in report.verdict.detail
    assert _requirement(report, "GWS-GEN-002").outcome == "failed"  # what ran is shown as it ran
    (tmp_path / "results.json").write_text(json.dumps(ran), encoding="utf-8")
    files = write_reports(tmp_path, context={"interrupted": True})
    assert 'class="top v-interrupted"' in files.html.read_text(encoding="utf-8")
    assert "Interrupted" in files.markdown.read_text(encoding="utf-8")
    # A regeneration from the same folder (gws-conformance report) keeps it.
    assert write_reports(tmp_path).report.verdict.code == "interrupted"


def test_the_matrix_holds_the_selection_and_every_requirement_a_failure_names() -> None:
    report = build_report(
        results([failure("fuzz/test_fuzz.py::test_x", ["GWS-GEN-011"])], requirements=["GWS-GEN-004"])
    )
    assert {r.id for r in report.requirements} == {"GWS-GEN-004", "GWS-GEN-011"}


def test_identical_failures_are_grouped_and_scenarios_lead() -> None:
    report = build_report(
        results(
            [
                failure("fuzz/test_fuzz.py::test_positive_data[GET /me as agent]", ["GWS-GEN-001"]),
                failure("scenarios/s.py::test_ready", ["GWS-GEN-001"]),
                failure("fuzz/test_fuzz.py::test_other", ["GWS-GEN-002"], title="Error reply without statusMessage"),
            ]
        )
    )
    groups = report.groups("failed")
    assert [len(g.tests) for g in groups] == [2, 1]
    assert groups[0].first.nodeid == "scenarios/s.py::test_ready"


# -- coverage -----------------------------------------------------------------------------------------------


def test_declared_operations_split_by_operation_name() -> None:
    declared = declared_operations()
    assert "POST /me#Ready" in declared and "POST /me/calls/{id}#Hold" in declared and "GET /users/{id}" in declared
    assert "POST /me" in declared  # the custom agent state variant
    assert "CallStatusChange" in declared_notification_kinds()


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("GET", "/api/v2/me", None, "GET /me"),
        ("POST", "/api/v2/me", '{"operationName": "Ready"}', "POST /me#Ready"),
        ("POST", "/api/v2/me", '{"operationName": "Lunch"}', "POST /me"),
        ("GET", "/api/v2/me/devices", None, "GET /me/devices"),
        ("GET", "/api/v2/users/u1/skills/s1", None, "GET /users/{id}/skills/{skillId}"),
        ("POST", "/api/v2/me/calls/c1", "not json", "POST /me/calls/{id}"),
        ("GET", "/api/v2/not/declared", None, None),
        ("GET", "/elsewhere/me", None, None),
    ],
)
def test_a_recorded_request_is_named_after_its_declared_operation(
    method: str, path: str, body: str | None, expected: str | None
) -> None:
    assert operation_key(method, "http://h:1" + path + "?fields=*", body, "/api/v2") == expected


# -- HTML and Markdown ---------------------------------------------------------------------------------------


def _broken_report():  # type: ignore[no-untyped-def]
    data = results(
        [
            failure(
                "scenarios/s.py::test_ready",
                ["GWS-GEN-001"],
                evidence=[exchange(response_body='{"user": {"name": "<script>alert(1)</script>"}}')],
            ),
            make_test("scenarios/s.py::test_fine", requirements=["GWS-GEN-002"]),
        ]
    )
    journal = {
        "scenarios/s.py::test_ready": {
            "nodeid": "scenarios/s.py::test_ready",
            "timeline": timeline_for(),
            "operations": ["GET /me", "POST /me#Ready"],
            "notifications": ["ChannelStateChanged"],
        }
    }
    return build_report(data, journal, server="ExampleGWS/8.5.1")


def test_the_html_report_is_self_contained_and_escapes_what_the_target_sent() -> None:
    page = render_html(_broken_report())
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    for external in ("http://fonts", "https://", "<link ", 'src="http', "@import"):
        assert external not in page
    assert page.count("<script>") == 1  # the page's own filters


def test_the_html_report_shows_requirement_curl_timeline_and_coverage() -> None:
    page = render_html(_broken_report())
    assert "Not conformant" in page and "ExampleGWS/8.5.1" in page
    assert "GWS-GEN-001" in page and "The server answers every API request" in page  # the sentence
    assert "Return Values" in page  # its reference section
    assert "curl -sS -i -X GET http://gws.example.test:8080/api/v2/me" in page
    assert "ChannelStateChanged" in page and 'class="http hot"' in page  # timeline, evidence highlighted
    assert 'id="r-GWS-CHAT-001"' in page and 'data-outcome="untested"' in page  # every requirement, untested too
    assert "operations exercised" in page


def test_the_html_report_shows_the_measured_delivery_the_windows_and_each_late_message_by_name() -> None:
    clock = DeliveryClock(2.0, fixed=False, change_before=lambda moment: moment - 0.004)
    for moment in (1.0, 2.0, 3.0):
        clock.observe(moment)
    clock.spend()
    clock.late("#12 agent2 /v2/me/calls: {'call': {'state': 'Released'}} <after the quiet window>")
    drained = clock.drain()
    assert drained is not None
    data = results([make_test("scenarios/s.py::test_fine", requirements=["GWS-GEN-002"])])
    data["delivery"] = summarise([drained])
    page = render_html(build_report(data, {}))
    section = page.split('<section id="delivery"', 1)[1].split("</section>", 1)[0]
    assert "3 messages" in section and "median 4.0 ms" in section and "p99 4.0 ms" in section
    assert "1 window, median 0.3 s" in section  # 3 x 4 ms, raised to the floor
    assert "3 &times; the largest of the recent latencies, at least 0.3 s and at most 5 s" in section
    assert "&le; 5.6 ms: 3" in section and "&le; 3.2 ms: 0" in section  # the histogram: one bin, the empty one below
    assert "#12 agent2 /v2/me/calls" in section and "&lt;after the quiet window&gt;" in section  # named, escaped
    assert 'href="#delivery">Delivery <b>1 late</b>' in page and "1 late message(s)" in page
    without = results([make_test("scenarios/s.py::test_fine", requirements=["GWS-GEN-002"])])
    assert 'id="delivery"' not in render_html(build_report(without, {}))  # a run that waited for nothing


def test_the_markdown_summary_fits_a_pull_request_comment() -> None:
    text = render_markdown(_broken_report())
    assert text.startswith("### ❌ GWS conformance: Not conformant")
    assert "| GWS-GEN-001 | `scenarios/s.py::test_ready` | Reply has no statusCode |" in text
    assert "```sh\ncurl -sS -i -X GET" in text
    assert len(text.splitlines()) < 60


# -- what breaks real clients ---------------------------------------------------------------------------------


def _clients_report():  # type: ignore[no-untyped-def]
    """GEN-001 (MUST) failed, GEN-003 (SHOULD) warned, COMETD-001 outside the selection (areas GEN)."""
    data = results(
        [
            failure("scenarios/s.py::test_status", ["GWS-GEN-001"]),
            failure("scenarios/s.py::test_http", ["GWS-GEN-003"], level="SHOULD", title="HTTP 200 for statusCode 2"),
            make_test("scenarios/s.py::test_fine", requirements=["GWS-GEN-002"]),
        ],
        areas=["GEN"],
    )
    with catalogue_with_clients():
        return build_report(data)


def test_the_model_lists_every_requirement_with_clients_broken_first() -> None:
    report = _clients_report()
    assert [(r.id, r.outcome) for r in report.client_requirements] == [
        ("GWS-GEN-001", "failed"),
        ("GWS-GEN-003", "warning"),
        ("GWS-COMETD-001", "untested"),  # not selected: still listed, without a verdict
    ]
    gen3 = report.client_requirements[1]
    assert gen3.level == "SHOULD" and gen3.failing == ["scenarios/s.py::test_http"]
    assert [(c.repo, c.path, c.where, c.habit) for c in gen3.clients] == [
        (c["repo"], c["path"], c["where"], c["habit"]) for c in CLIENTS["GWS-GEN-003"]
    ]
    assert all(not r.clients for r in report.requirements if r.id not in CLIENTS)


def test_without_clients_in_the_catalogue_the_section_says_so() -> None:
    with catalogue_with_clients({}):
        report = build_report(results([make_test("scenarios/s.py::test_fine", requirements=["GWS-GEN-002"])]))
    assert report.client_requirements == []
    assert "No requirement of the catalogue names the clients it protects." in render_html(report)
    assert "What breaks real clients" not in render_markdown(report)


def test_the_html_report_shows_what_breaks_real_clients() -> None:
    report = _clients_report()
    page = render_html(report)
    section = page[page.index('<section id="clients"') : page.index('<section id="requirements"')]
    assert '<a href="#clients">Real clients <b>2</b></a>' in page  # two broken
    rows = section.split("<tr data-client-outcome=")[1:]
    assert [row.split('"')[1] for row in rows] == ["failed", "warning", "untested"]
    failed, warned, untested = rows
    anchor = report.test("scenarios/s.py::test_status").anchor
    assert 'href="#r-GWS-GEN-001"' in failed and f'href="#{anchor}"' in failed and "l-MUST" in failed
    assert "reads statusCode from every reply &lt;and throws without it&gt;" in failed  # escaped
    assert "<code>example/gws-csharp</code> · <code>src/GwsClient.cs</code> · function ReadStatus" in failed
    assert 'class="badge o-warning"' in warned and "l-SHOULD" in warned and warned.count("<li>") >= 2
    assert "maps HTTP 4xx to exceptions" in warned and "line 42" in warned
    assert 'href="#r-GWS-COMETD-001"' not in untested  # outside the matrix: no dead link
    assert "Untested" in untested and "posts the handshake to the notifications path" in untested


def test_the_markdown_summary_lists_what_breaks_real_clients() -> None:
    text = render_markdown(_clients_report())
    assert "#### What breaks real clients (2 of 3 broken)" in text
    lines = [line for line in text.splitlines() if line.startswith("| **GWS-")]
    assert [line.split("**")[1] for line in lines] == ["GWS-GEN-001", "GWS-GEN-003", "GWS-COMETD-001"]
    assert "| MUST | Failed<br>`scenarios/s.py::test_status` |" in lines[0]
    assert "| SHOULD | Warning<br>`scenarios/s.py::test_http` |" in lines[1]
    assert "treats an HTTP 200 as success without reading statusCode<br>maps HTTP 4xx to exceptions" in lines[1]
    assert "`example/gws-java` `src/main/java/Gws.java` (method send)" in lines[1]


def test_write_reports_reads_the_journal_and_keeps_the_run_context(tmp_path: Path) -> None:
    data = results([failure("scenarios/s.py::test_ready", ["GWS-GEN-001"])])
    (tmp_path / "results.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "journal").mkdir()
    entry = {
        "nodeid": "scenarios/s.py::test_ready",
        "worker": "gw0",
        "outcome": "failed",
        "operations": ["GET /me"],
        "notifications": [],
        "timeline": timeline_for(),
    }
    (tmp_path / "journal" / "gw0.jsonl").write_text(json.dumps(entry) + "\n", encoding="utf-8")
    files = write_reports(tmp_path, context={"server": "ExampleGWS", "command": "gws-conformance run"})
    assert files.report.coverage.operations_exercised == {"GET /me": 1}
    again = write_reports(tmp_path)  # a later regeneration finds the context in run.json
    assert again.report.server == "ExampleGWS" and "ExampleGWS" in again.html.read_text(encoding="utf-8")


# -- baseline --------------------------------------------------------------------------------------------------


def _baseline(tmp_path: Path, text: str) -> Baseline:
    path = tmp_path / "baseline.yaml"
    path.write_text(text, encoding="utf-8")
    return Baseline.load(path)


def test_a_baseline_sorts_failures_into_known_and_new_and_finds_stale_entries(tmp_path: Path) -> None:
    baseline = _baseline(
        tmp_path,
        """
known_failures:
  - test: "scenarios/s.py::test_known"
    reason: VENDOR-1
  - requirement: GWS-GEN-002
    reason: VENDOR-2
  - test: "scenarios/s.py::test_fixed"
    reason: VENDOR-3 (fixed since)
  - requirement: GWS-CALL-001
    reason: not in this run
""",
    )
    data = results(
        [
            failure("scenarios/s.py::test_known", ["GWS-GEN-001"]),
            failure("fuzz/test_fuzz.py::test_by_requirement", ["GWS-GEN-002"]),
            failure("scenarios/s.py::test_new", ["GWS-GEN-002", "GWS-GEN-004"]),
            make_test("scenarios/s.py::test_fixed", requirements=["GWS-GEN-005"]),
        ]
    )
    outcome = baseline.apply(data)
    assert outcome.known == {
        "scenarios/s.py::test_known": "VENDOR-1",
        "fuzz/test_fuzz.py::test_by_requirement": "VENDOR-2",
    }
    assert outcome.new == ["scenarios/s.py::test_new"]  # GWS-GEN-004 is not known
    assert [e.test for e in outcome.stale] == ["scenarios/s.py::test_fixed"]
    assert [e.requirement for e in outcome.unexercised] == ["GWS-CALL-001"]
    report = build_report(data, known_failures=outcome.known, baseline=outcome.to_dict())
    assert report.verdict.code == "not_conformant" and len(report.new_failures) == 1


def test_known_failures_alone_keep_the_run_conformant(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path, "known_failures:\n  - {requirement: GWS-GEN-001, reason: VENDOR-9}\n")
    data = results([failure("scenarios/s.py::test_a", ["GWS-GEN-001"])])
    outcome = baseline.apply(data)
    report = build_report(data, known_failures=outcome.known, baseline=outcome.to_dict())
    assert report.verdict.code == "conformant" and report.verdict.headline == "Conformant (known failures)"
    assert _requirement(report, "GWS-GEN-001").known


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("known_failures:\n  - {test: a}\n", "needs a 'reason'"),
        ("known_failures:\n  - {requirement: GWS-NOPE-001, reason: x}\n", "is not a requirement"),
        ("known_failures:\n  - {test: a, requirement: GWS-GEN-001, reason: x}\n", "exactly one of"),
        ("known_failures:\n  - {test: a, reason: x, colour: red}\n", "unknown key"),
        ("known_failures: [\n", "not valid YAML"),
        ("- a list\n", "expected a mapping"),
    ],
)
def test_a_bad_baseline_is_refused_with_its_problem(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(BaselineError, match=problem):
        _baseline(tmp_path, text)


# -- diff --------------------------------------------------------------------------------------------------------


def test_diff_lists_regressions_and_fixes() -> None:
    old = results(
        [make_test("a::x", requirements=["GWS-GEN-001"]), failure("a::y", ["GWS-GEN-002"]), make_test("a::gone")]
    )
    new = results(
        [
            failure("a::x", ["GWS-GEN-001"]),
            make_test("a::y", requirements=["GWS-GEN-002"]),
            failure("a::added", ["GWS-GEN-004"]),
        ]
    )
    diff = diff_results(old, new)
    assert [r[0] for r in diff.regressions] == ["a::x", "a::added"]
    assert [f[0] for f in diff.fixes] == ["a::y"]
    assert diff.removed == ["a::gone"] and diff.added == ["a::added"]
    assert ("GWS-GEN-001", "passed", "failed") in diff.requirement_regressions
    assert ("GWS-GEN-002", "failed", "passed") in diff.requirement_fixes
    assert "regressions (tests that fail now): 2" in diff.render_text("old", "new")
    assert "| `a::x` | passed | failed |" in diff.render_markdown("old", "new")
    assert not diff_results(new, new).has_regressions


def test_a_file_that_is_not_a_results_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(ResultsFileError, match="not a gws-conformance results file"):
        load_results(path)


# -- JUnit ------------------------------------------------------------------------------------------------------


def _case(name: str, outcome: str, failed: bool) -> str:
    failure = '<failure message="x">trace</failure>' if failed else ""
    return (
        f'<testcase classname="scenarios.a" name="{name}"><properties><property name="gws_outcome" '
        f'value="{outcome}" /></properties>{failure}</testcase>'
    )


def test_junit_shows_a_suite_error_as_an_error_and_a_conformance_failure_as_a_failure(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    cases = (
        _case("test_broke", "error", True) + _case("test_failed", "failed", True) + _case("test_ok", "passed", False)
    )
    junit.write_text(
        f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="gws-conformance" errors="0" '
        f'failures="2" skipped="0" tests="3">{cases}</testsuite></testsuites>',
        encoding="utf-8",
    )
    assert mark_suite_errors(junit) == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and (suite.get("failures"), suite.get("errors")) == ("1", "1")
    by_name = {case.get("name"): case for case in suite.iter("testcase")}
    assert by_name["test_broke"].find("error") is not None and by_name["test_broke"].find("failure") is None
    assert by_name["test_failed"].find("failure") is not None
    assert mark_suite_errors(junit) == 0  # nothing left to move
