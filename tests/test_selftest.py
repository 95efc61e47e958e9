"""``gws-conformance selftest``: the CI subset of fault modes, each killed on its own rule; the matrix files.

The subset runs once per module, as the real command in a child process (``python -m conformance.cli``),
against the embedded reference server with each fault in turn. The full matrix is
benchmarks/kill_matrix.py, not a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from conformance.selftest import CI_SUBSET, MATRIX_HTML, MATRIX_JSON, caught_by, judge, render_html, warned_on
from reference_impl.faults import CATEGORIES, REGISTRY

RUN_TIMEOUT_S = 900


@pytest.fixture(scope="module")
def ci_matrix(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict[str, Any], Path]:
    reports = tmp_path_factory.mktemp("selftest")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")}
    result = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "selftest", "--subset", "ci", "--report-dir", str(reports)],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    matrix = json.loads((reports / MATRIX_JSON).read_text(encoding="utf-8"))
    return result.returncode, result.stdout, matrix, reports


def test_the_ci_subset_spans_every_category() -> None:
    assert {REGISTRY[name].category for name in CI_SUBSET} == set(CATEGORIES)


def test_every_ci_fault_is_killed_by_a_test_of_its_rule(ci_matrix: tuple[int, str, dict[str, Any], Path]) -> None:
    code, out, matrix, _ = ci_matrix
    rows = {row["fault"]: row for row in matrix["faults"]}
    assert list(rows) == list(CI_SUBSET)
    for name, row in rows.items():
        assert row["killed"], f"{name} survived: {row}"
        assert set(row["caught_by"]) & set(REGISTRY[name].requirements), f"{name} caught off its rule: {row}"
    assert code == 0, out[-3000:]
    assert f"{len(CI_SUBSET)}/{len(CI_SUBSET)} faults killed" in out


def test_the_matrix_page_is_offline(ci_matrix: tuple[int, str, dict[str, Any], Path]) -> None:
    page = (ci_matrix[3] / MATRIX_HTML).read_text(encoding="utf-8")
    assert "default-src 'none'" in page
    assert "http://" not in page and "https://" not in page
    for name in CI_SUBSET:
        assert name in page


def test_caught_by_reads_markers_violations_and_findings() -> None:
    results = {
        "tests": [
            {
                "nodeid": "a",
                "outcome": "failed",
                "requirements": ["GWS-GEN-001"],
                "violated": ["GWS-GEN-002"],
                "findings": [{"requirement_ids": ["GWS-GEN-004"]}],
            },
            {"nodeid": "b", "outcome": "passed", "requirements": ["GWS-USER-001"], "violated": [], "findings": []},
        ]
    }
    assert caught_by(results) == (["GWS-GEN-001", "GWS-GEN-002", "GWS-GEN-004"], ["a"])


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("bayeux-subpaths-404", "GWS-COMETD-015"),
        ("wildcard-subscriptions-refused", "GWS-COMETD-016"),
        ("connect-timeout-zero-held", "GWS-COMETD-017"),
    ],
)
def test_a_client_habit_fault_is_killed_by_the_warning_of_its_should_rule(tmp_path: Path, name: str, rule: str) -> None:
    own = {"nodeid": "own", "outcome": "warning", "requirements": [rule], "violated": [rule], "findings": []}
    # GWS-COMETD-013 is a SHOULD too, but not this fault's: its warning proves nothing about it.
    other = {
        "nodeid": "other",
        "outcome": "warning",
        "requirements": [],
        "violated": ["GWS-COMETD-013"],
        "findings": [],
    }
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"tests": [own, other]}), encoding="utf-8")
    row = judge(REGISTRY[name], 0, results, 1.0)
    assert (row.killed, row.on_rule, row.warned_tests, row.caught_by) == (True, True, ["own"], [rule])
    results.write_text(json.dumps({"tests": [other]}), encoding="utf-8")
    assert not judge(REGISTRY[name], 0, results, 1.0).killed
    assert warned_on({"tests": [own, other]}, {rule}) == ([rule], ["own"])


def test_a_fault_that_breaks_only_should_rules_is_killed_by_a_warning_on_them(tmp_path: Path) -> None:
    warned = {
        "nodeid": "w",
        "outcome": "warning",
        "requirements": ["GWS-GEN-029"],
        "violated": ["GWS-GEN-029"],
        "findings": [],
    }
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"tests": [warned]}), encoding="utf-8")
    should_fault, must_fault = REGISTRY["null-member-refused"], REGISTRY["content-type-text-plain"]
    row = judge(should_fault, 0, results, 1.0)
    assert row.killed and row.on_rule and row.warned_tests == ["w"] and row.verdict == "killed"
    # A MUST rule is killed by a failure only: a warning leaves it standing.
    assert not judge(must_fault, 0, results, 1.0).killed
    # Nothing warned: a SHOULD fault survives too.
    results.write_text(json.dumps({"tests": [{**warned, "outcome": "passed"}]}), encoding="utf-8")
    assert not judge(should_fault, 0, results, 1.0).killed


def test_a_surviving_fault_is_marked_in_the_page() -> None:
    row = {
        "fault": "x<y",
        "category": "errors",
        "verdict": "survived",
        "killed": False,
        "on_rule": False,
        "requirements": ["GWS-GEN-001"],
        "caught_by": [],
        "failed_tests": [],
        "selection": "rule",
        "report": "x",
        "seconds": 1.0,
    }
    page = render_html({"faults": [row], "summary": "0/1", "generated_at": "now"})
    assert '<tr class="survived">' in page and "x&lt;y" in page


def _results_file(tmp_path: Path, tests: list[dict[str, Any]]) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"tests": tests}), encoding="utf-8")
    return path


def test_a_should_fault_is_killed_by_a_warning_naming_its_rule(tmp_path: Path) -> None:
    fault = REGISTRY["message-without-message-type"]
    warned = {
        "nodeid": "w",
        "outcome": "warning",
        "requirements": ["GWS-AGST-012"],
        "violated": ["GWS-NOTIF-009"],
        "findings": [],
    }
    other = {"nodeid": "o", "outcome": "warning", "requirements": [], "violated": ["GWS-NOTIF-003"], "findings": []}
    row = judge(fault, 0, _results_file(tmp_path, [warned, other]), 1.0)
    assert (row.killed, row.on_rule, row.verdict) == (True, True, "killed")
    assert (row.warned_tests, row.failed_tests, row.caught_by) == (["w"], [], ["GWS-NOTIF-009"])
    assert "+ 1 warned" in render_html(
        {"faults": [{**asdict(row), "verdict": row.verdict}], "summary": "", "generated_at": "now"}
    )


def test_a_warning_on_another_rule_or_about_a_must_fault_kills_nothing(tmp_path: Path) -> None:
    other = {"nodeid": "o", "outcome": "warning", "requirements": [], "violated": ["GWS-NOTIF-003"], "findings": []}
    assert not judge(REGISTRY["message-without-message-type"], 0, _results_file(tmp_path, [other]), 1.0).killed
    # A MUST broken must fail the run: a warning naming it (there is none such) would not do.
    must = {"nodeid": "m", "outcome": "warning", "requirements": [], "violated": ["GWS-CALL-032"], "findings": []}
    assert not judge(REGISTRY["released-call-without-capabilities"], 0, _results_file(tmp_path, [must]), 1.0).killed
    assert warned_on({"tests": [must]}, {"GWS-CALL-032"}) == (["GWS-CALL-032"], ["m"])
