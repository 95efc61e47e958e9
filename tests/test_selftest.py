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
from pathlib import Path
from typing import Any

import pytest

from conformance.selftest import CI_SUBSET, MATRIX_HTML, MATRIX_JSON, caught_by, judge, render_html, should_only
from reference_impl.faults import CATEGORIES, REGISTRY

RUN_TIMEOUT_S = 900


@pytest.fixture(scope="module")
def ci_matrix(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict[str, Any], Path]:
    reports = tmp_path_factory.mktemp("selftest")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")}
    result = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "selftest", "--subset", "ci", "--report-dir", str(reports)],
        env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
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
            {"nodeid": "a", "outcome": "failed", "requirements": ["GWS-GEN-001"], "violated": ["GWS-GEN-002"],
             "findings": [{"requirement_ids": ["GWS-GEN-004"]}]},
            {"nodeid": "b", "outcome": "passed", "requirements": ["GWS-USER-001"], "violated": [], "findings": []},
        ]
    }
    assert caught_by(results) == (["GWS-GEN-001", "GWS-GEN-002", "GWS-GEN-004"], ["a"])


def test_a_fault_that_breaks_only_should_rules_is_killed_by_a_warning_on_them(tmp_path: Path) -> None:
    warned = {"nodeid": "w", "outcome": "warning", "requirements": ["GWS-GEN-029"], "violated": ["GWS-GEN-029"],
              "findings": []}
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"tests": [warned]}), encoding="utf-8")
    should_fault, must_fault = REGISTRY["null-member-refused"], REGISTRY["content-type-text-plain"]
    assert should_only(should_fault) and not should_only(must_fault)
    row = judge(should_fault, 0, results, 1.0)
    assert row.killed and row.on_rule and row.failed_tests == ["w"] and row.verdict == "killed"
    # A MUST rule is killed by a failure only: a warning leaves it standing.
    assert not judge(must_fault, 0, results, 1.0).killed
    # Nothing warned: a SHOULD fault survives too.
    results.write_text(json.dumps({"tests": [{**warned, "outcome": "passed"}]}), encoding="utf-8")
    assert not judge(should_fault, 0, results, 1.0).killed


def test_a_surviving_fault_is_marked_in_the_page() -> None:
    row = {"fault": "x<y", "category": "errors", "verdict": "survived", "killed": False, "on_rule": False,
           "requirements": ["GWS-GEN-001"], "caught_by": [], "failed_tests": [], "selection": "rule",
           "report": "x", "seconds": 1.0}
    page = render_html({"faults": [row], "summary": "0/1", "generated_at": "now"})
    assert '<tr class="survived">' in page and "x&lt;y" in page
