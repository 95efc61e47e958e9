"""The results model: phases merged into one record per test, untested requirements, the summary line."""

from __future__ import annotations

from conformance.outcomes import Outcome
from conformance.plugin import _compact
from conformance.results import RunResults, TestResult, merge_phase


def test_the_phase_that_decides_wins() -> None:
    setup = TestResult("t", Outcome.PASSED, "setup", 0.1)
    call = TestResult("t", Outcome.FAILED, "call", 0.2)
    teardown = TestResult("t", Outcome.ERROR, "teardown", 0.3)
    merged = merge_phase(merge_phase(merge_phase(None, setup), call), teardown)
    assert (merged.outcome, merged.phase) == (Outcome.FAILED, "call")
    assert round(merged.duration_s, 3) == 0.6


def test_a_passing_call_replaces_a_passing_setup_and_a_broken_teardown_is_an_error() -> None:
    merged = merge_phase(TestResult("t", Outcome.PASSED, "setup"), TestResult("t", Outcome.PASSED, "call"))
    assert merged.phase == "call"
    merged = merge_phase(merged, TestResult("t", Outcome.ERROR, "teardown"))
    assert (merged.outcome, merged.phase) == (Outcome.ERROR, "teardown")


def test_untested_requirements_are_those_of_the_selection_no_test_carries() -> None:
    results = RunResults(selection={"areas": ["REC"], "requirements": []})
    results.add(TestResult("t", Outcome.NOT_APPLICABLE, "setup", requirements=["GWS-REC-001"]))
    assert [r["id"] for r in results.untested()] == ["GWS-REC-002", "GWS-REC-003", "GWS-REC-004"]
    assert results.summary()["not_applicable"] == 1 and results.summary()["total"] == 1


def test_untested_ids_are_listed_compactly() -> None:
    ids = ["GWS-GEN-004", "GWS-GEN-005", "GWS-GEN-006", "GWS-GEN-009", "GWS-AUTH-001"]
    assert _compact(ids) == "GEN 004-006 009; AUTH 001"
