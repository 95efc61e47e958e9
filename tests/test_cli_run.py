"""``gws-conformance run`` end to end: against the embedded reference (passes) and a broken target (fails).

Each run is one child process of the real command (``python -m conformance.cli``), made once per test
session — pytest-xdist workers share it through a locked folder — and the tests read what it printed,
its exit code and the reports it wrote. The broken target is the
reference server with the ``reply-without-status-code`` fault (reference_impl/faults.py): successful
replies lose their statusCode, which GWS-GEN-001 forbids.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
from live_reference import serve

from conformance.cli import EXIT_FAILURES, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from conformance.reporting.allure_labels import FUZZ_EPIC
from conformance.results import RESULTS_SCHEMA

RUN_TIMEOUT_S = 900
SEED = "20260105"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    reports: Path

    def read(self, name: str) -> str:
        return (self.reports / name).read_text(encoding="utf-8")

    def results(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.read("results.json"))


def _run(reports: Path, *options: str, env: dict[str, str] | None = None) -> Run:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")}
    clean.update(env or {})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "run",
            "--report-dir",
            str(reports),
            "--progress",
            "plain",
            "--seed",
            SEED,
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=clean,
        check=False,
    )
    return Run(result.returncode, result.stdout, result.stderr, reports)


def _once(request: pytest.FixtureRequest, name: str, make: Callable[[Path], Run]) -> Run:
    """``make``'s run, made by the first xdist worker that asks and read back by the others."""
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    base = factory.getbasetemp()
    shared = base.parent if hasattr(request.config, "workerinput") else base  # the session's folder
    folder, done = shared / f"cli-run-{name}", shared / f"cli-run-{name}.json"
    with (shared / f"cli-run-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.is_file():
            folder.mkdir(exist_ok=True)
            run = make(folder)
            done.write_text(json.dumps({"code": run.code, "out": run.out, "err": run.err}), encoding="utf-8")
    saved = json.loads(done.read_text(encoding="utf-8"))
    return Run(saved["code"], saved["out"], saved["err"], folder)


def _run_broken(folder: Path) -> Run:
    with serve(stimulus=True, faults=["reply-without-status-code"]) as live:
        return _run(
            folder, "--target", live.base_url, "--profile", "quick", "-n", "2", env=live.env(GWS_STIMULUS="reference")
        )


@pytest.fixture(scope="module")
def embedded_run(request: pytest.FixtureRequest) -> Run:
    return _once(request, "embedded", lambda folder: _run(folder, "--profile", "quick", "-n", "2"))


@pytest.fixture(scope="module")
def broken_run(request: pytest.FixtureRequest) -> Run:
    return _once(request, "broken", _run_broken)


# -- the embedded reference passes ---------------------------------------------------------------------


def test_the_embedded_reference_passes(embedded_run: Run) -> None:
    assert embedded_run.code == EXIT_OK, embedded_run.out + embedded_run.err
    assert "(embedded reference server)" in embedded_run.out
    assert "CONFORMANT" in embedded_run.out and "NOT CONFORMANT" not in embedded_run.out
    assert f"seed {SEED}" in embedded_run.out and "progress:" in embedded_run.out


def test_every_report_is_written(embedded_run: Run) -> None:
    reports = embedded_run.reports
    for name in ("report.html", "summary.md", "junit.xml", "results.json", "run.json", "pytest-output.txt"):
        assert (reports / name).is_file(), name
    assert list((reports / "journal").glob("gw*.jsonl"))
    assert embedded_run.read("summary.md").startswith("### ✅ GWS conformance: Conformant")
    assert "gws-reference" in embedded_run.read("report.html")  # the server says what it is


def test_the_journal_times_each_test_and_its_wait_for_accounts(embedded_run: Run) -> None:
    """What benchmarks/remote.py reads to say where a run's time went: when each test ran, and how long it waited
    for accounts other tests held (two workers share agent1..agent3: some test waits)."""
    entries = [
        json.loads(line)
        for journal in (embedded_run.reports / "journal").glob("gw*.jsonl")
        for line in journal.read_text(encoding="utf-8").splitlines()
    ]
    assert entries and all(0 <= entry["ended"] - entry["started"] < 600 for entry in entries)
    waits = [entry for entry in entries if "waited_for_accounts_s" in entry]
    assert waits and all(entry["waited_for_accounts_s"] >= 0 and entry["settling_s"] >= 0 for entry in waits)
    assert all(entry["ended"] - entry["started"] >= entry["waited_for_accounts_s"] for entry in waits)


def test_the_results_file_follows_its_schema(embedded_run: Run) -> None:
    results = embedded_run.results()
    jsonschema.validate(results, json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8")))
    assert results["seed"] == int(SEED) and results["profile"] == "quick"
    assert results["summary"]["failed"] == 0 and results["summary"]["passed"] > 0


def test_junit_carries_the_gws_outcome_of_every_test(embedded_run: Run) -> None:
    root = ET.fromstring(embedded_run.read("junit.xml"))
    cases = root.findall(".//testcase")
    assert len(cases) == embedded_run.results()["summary"]["total"]
    outcomes = {p.get("value") for p in root.findall(".//testcase/properties/property[@name='gws_outcome']")}
    assert "passed" in outcomes and "failed" not in outcomes


def test_allure_results_keep_every_fuzz_case_apart(embedded_run: Run) -> None:
    results = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in (embedded_run.reports / "allure-results").glob("*-result.json")
    ]
    fuzz = [r for r in results if {"name": "epic", "value": FUZZ_EPIC} in r["labels"]]
    fuzz_tests = [t for t in embedded_run.results()["tests"] if t["nodeid"].startswith("fuzz/")]
    assert len(fuzz) == len(fuzz_tests) > 50  # one result per operation and role, never one for all
    assert all({"name": "parentSuite", "value": "fuzz"} in r["labels"] for r in fuzz)


def test_the_report_shows_contract_coverage(embedded_run: Run) -> None:
    html = embedded_run.read("report.html")
    assert "operations exercised" in html
    hits = html.count('class="op hit"')
    assert hits > 30


CSRF_TEST = "scenarios/sessions.py::test_a_cookie_only_request_needs_its_own_sessions_csrf_token"


def test_reference_csrf_judges_the_csrf_rules(embedded_run: Run, tmp_path: Path) -> None:
    # Without the option the embedded reference issues no CSRF token: the rule is not applicable (E103).
    plain = {t["nodeid"]: t["outcome"] for t in embedded_run.results()["tests"]}
    assert plain[CSRF_TEST] == "not_applicable"
    run = _run(tmp_path, "--reference-csrf", "--requirement", "GWS-AUTH-008", "-n", "0")
    outcomes = {t["nodeid"]: t["outcome"] for t in run.results()["tests"]}
    assert run.code == EXIT_OK and outcomes == {CSRF_TEST: "passed"}, run.out[-3000:]
    assert "in CSRF mode" in run.out


def test_reference_csrf_needs_the_embedded_reference(tmp_path: Path) -> None:
    run = _run(tmp_path, "--reference-csrf", "--target", "http://127.0.0.1:9/api/v2")
    assert run.code == EXIT_USAGE and run.err.strip().count("\n") == 0 and "--reference-csrf" in run.err, run.err


# -- a broken target fails, and the report says what broke and how to repeat it ------------------------------


def test_a_broken_target_fails_with_exit_1(broken_run: Run) -> None:
    assert broken_run.code == EXIT_FAILURES, broken_run.out + broken_run.err
    assert "NOT CONFORMANT" in broken_run.out and "GWS-GEN-001" in broken_run.out


def test_the_results_name_the_requirement_and_the_curl(broken_run: Run) -> None:
    failed = [t for t in broken_run.results()["tests"] if t["outcome"] == "failed"]
    assert failed and all("GWS-GEN-001" in t["violated"] for t in failed if t["violated"])
    assert any(t["reproduce"] and t["reproduce"].startswith("curl ") for t in failed)


def test_the_html_report_shows_what_broke_and_how_to_reproduce_it(broken_run: Run) -> None:
    html = broken_run.read("report.html")
    assert "Not conformant" in html
    assert "Reply has no statusCode" in html and "GWS-GEN-001" in html
    assert "integer statusCode at its top level" in html  # the requirement's sentence
    assert "curl -sS -i -X GET" in html and "$GWS_ADMIN_PASSWORD" in html
    assert "admin-secret" not in html and "agent1-secret" not in html  # secrets never reach a report
    assert "Timeline of the test" in html


def test_the_markdown_summary_lists_the_failures(broken_run: Run) -> None:
    summary = broken_run.read("summary.md")
    assert summary.startswith("### ❌ GWS conformance: Not conformant")
    assert "| GWS-GEN-001" in summary and "```sh\ncurl " in summary


# -- baseline and diff over the two runs --------------------------------------------------------------------------


def _report_with_baseline(run: Run, tmp_path: Path, entries: str) -> subprocess.CompletedProcess[str]:
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text("known_failures:\n" + entries, encoding="utf-8")
    copy = tmp_path / "reports"
    copy.mkdir()
    for name in ("results.json", "run.json"):
        (copy / name).write_text(run.read(name), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "conformance.cli", "report", str(copy), "--baseline", str(baseline)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_baseline_of_every_broken_requirement_turns_the_run_green(broken_run: Run, tmp_path: Path) -> None:
    violated = sorted({rid for t in broken_run.results()["tests"] if t["outcome"] == "failed" for rid in t["violated"]})
    entries = "".join(f"  - {{requirement: {rid}, reason: 'VENDOR-42 statusCode missing'}}\n" for rid in violated)
    entries += "  - {requirement: GWS-GEN-005, reason: 'fixed long ago'}\n"
    result = _report_with_baseline(broken_run, tmp_path, entries)
    assert result.returncode == EXIT_OK, result.stdout + result.stderr
    summary = (tmp_path / "reports" / "summary.md").read_text(encoding="utf-8")
    assert "Conformant (known failures)" in summary
    assert "stale: `GWS-GEN-005`" in summary


def test_a_failure_the_baseline_does_not_list_still_fails(broken_run: Run, tmp_path: Path) -> None:
    result = _report_with_baseline(broken_run, tmp_path, "  - {requirement: GWS-GEN-007, reason: 'VENDOR-7'}\n")
    assert result.returncode == EXIT_FAILURES


def test_diff_finds_the_regressions_and_the_fixes(embedded_run: Run, broken_run: Run) -> None:
    def diff(old: Run, new: Run) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "conformance.cli",
                "diff",
                str(old.reports / "results.json"),
                str(new.reports / "results.json"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    worse, better = diff(embedded_run, broken_run), diff(broken_run, embedded_run)
    assert worse.returncode == EXIT_FAILURES and "requirements now failing: " in worse.stdout
    assert "GWS-GEN-001  (passed -> failed)" in worse.stdout
    assert better.returncode == EXIT_OK and "regressions (tests that fail now): 0" in better.stdout


# -- Ctrl-C ----------------------------------------------------------------------------------------------------------


def test_ctrl_c_stops_the_run_and_still_writes_the_reports(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")}
    command = [sys.executable, "-m", "conformance.cli", "run", "--report-dir", str(tmp_path), "--progress", "plain"]
    process = subprocess.Popen(
        [*command, "--seed", SEED], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean
    )
    watchdog = threading.Timer(RUN_TIMEOUT_S, process.kill)  # a run that never shows progress fails, never hangs
    watchdog.start()
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:  # the first progress line: tests are running
            seen.append(line)
            if line.startswith("running "):
                total = int(line.split()[1])
            if line.startswith("progress:"):
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        watchdog.cancel()
    out = "".join(seen) + out
    assert process.returncode == EXIT_INTERRUPTED, out + err
    assert "interrupted" in out and "Traceback" not in out + err
    ran = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["tests"]
    assert 0 < len(ran) < total, f"{len(ran)} of {total} tests in the results"
    assert "Interrupted" in (tmp_path / "report.html").read_text(encoding="utf-8")
    assert (tmp_path / "junit.xml").is_file()
