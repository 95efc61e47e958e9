"""The report's view of a run: verdict, scores, requirement matrix, failures, coverage.

Built from the results file (conformance/results.schema.json), the run journal
(conformance.reporting.journal) and the run context the CLI knows (server version, baseline). Every
writer — HTML, Markdown, the CLI's closing lines — reads this model, so they never disagree.

How a requirement's outcome is decided from the tests that carry it (``requirement`` markers) or name
it in a failure (``violated``):

    failed           a test's MUST violation names it, or a test carrying it failed without naming any
    warning          a SHOULD/MAY violation names it (and nothing failed it)
    passed           a test carrying it passed (or warned about something else)
    error            only suite errors: no verdict
    inconclusive     its tests failed on other requirements before reaching it
    needs stimulus / not applicable / skipped    its tests could not run here
    untested         no test of this run carries it
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import contract
from conformance.reporting.coverage import declared_notification_kinds, declared_operations

__all__ = [
    "AREA_NAMES",
    "ClientHabit",
    "CoverageView",
    "FailureGroup",
    "Report",
    "RequirementView",
    "TestView",
    "Verdict",
    "build_report",
    "load_journal",
    "requirement_area",
]

# Precedence when several tests speak about one requirement (the first listed wins).
REQUIREMENT_PRECEDENCE = (
    "failed",
    "warning",
    "passed",
    "error",
    "inconclusive",
    "needs_stimulus",
    "not_applicable",
    "skipped",
    "untested",
)
OUTCOME_LABELS = {
    "passed": "Passed",
    "failed": "Failed",
    "warning": "Warning",
    "error": "Suite error",
    "inconclusive": "Inconclusive",
    "needs_stimulus": "Needs stimulus",
    "not_applicable": "Not applicable",
    "skipped": "Skipped",
    "untested": "Untested",
    "xfailed": "Expected failure",
    "xpassed": "Unexpected pass",
}


def requirement_area(requirement_id: str) -> str:
    parts = requirement_id.split("-")
    return parts[1] if len(parts) == 3 else ""


def _areas() -> dict[str, str]:
    return dict(contract.load_document("requirements.yaml").get("areas", {}))


AREA_NAMES: Mapping[str, str] = _areas()


@dataclass
class TestView:
    __test__ = False  # not a pytest test class

    nodeid: str
    outcome: str
    requirements: list[str]
    violated: list[str]
    level: str | None
    title: str | None
    message: str | None
    reproduce: str | None
    evidence: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    duration_s: float
    phase: str
    timeline: list[dict[str, Any]] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)
    known: str | None = None  # the baseline's reason, when this failure is a known one

    @property
    def kind(self) -> str:
        """ "fuzz" or "scenario": where in conformance.suite the test lives."""
        return "fuzz" if self.nodeid.startswith("fuzz/") or "/fuzz/" in self.nodeid else "scenario"

    @property
    def anchor(self) -> str:
        return "t-" + "".join(c if c.isalnum() else "-" for c in self.nodeid)[-120:]

    @property
    def evidence_seqs(self) -> set[int]:
        return {e["seq"] for e in self.evidence if isinstance(e.get("seq"), int)}


@dataclass
class FailureGroup:
    """Tests that failed the same way (same title, requirements and level): one story, told once."""

    tests: list[TestView]

    @property
    def first(self) -> TestView:
        return self.tests[0]

    @property
    def outcome(self) -> str:
        return self.first.outcome


@dataclass(frozen=True)
class ClientHabit:
    """What a real client does that a server could break (a ``clients`` entry of spec/requirements.yaml)."""

    repo: str  # owner/name on GitHub
    path: str  # the file in that repository
    where: str  # the function or line
    habit: str  # one line: what the client does

    @classmethod
    def from_catalogue(cls, entry: Mapping[str, Any]) -> ClientHabit:
        return cls(*(str(entry.get(key, "")) for key in ("repo", "path", "where", "habit")))


@dataclass
class RequirementView:
    id: str
    level: str
    section: str
    text: str
    outcome: str = "untested"
    tests: list[str] = field(default_factory=list)  # nodeids that carry or name it
    failing: list[str] = field(default_factory=list)  # nodeids whose failure or warning names it
    known: bool = False  # every failure of it is a known one (baseline)
    clients: list[ClientHabit] = field(default_factory=list)  # the client habits it protects

    @property
    def area(self) -> str:
        return requirement_area(self.id)


@dataclass
class Score:
    level: str
    passed: int = 0
    failed: int = 0  # failed, or warning for SHOULD
    other: int = 0  # no verdict: untested, not applicable, needs stimulus, error, inconclusive
    total: int = 0

    @property
    def judged(self) -> int:
        return self.passed + self.failed

    @property
    def percent(self) -> float | None:
        return 100.0 * self.passed / self.judged if self.judged else None

    def text(self) -> str:
        if self.percent is None:
            return "—"
        return f"{self.percent:.1f}%".replace(".0%", "%")


@dataclass
class CoverageView:
    operations_declared: list[str]
    operations_exercised: dict[str, int]  # operation -> number of tests that called it
    kinds_declared: list[str]
    kinds_exercised: dict[str, int]
    journal_found: bool

    @property
    def operations_hit(self) -> int:
        return sum(1 for op in self.operations_declared if op in self.operations_exercised)

    @property
    def kinds_hit(self) -> int:
        return sum(1 for kind in self.kinds_declared if kind in self.kinds_exercised)


@dataclass
class Verdict:
    code: str  # conformant | not_conformant | suite_error | interrupted
    headline: str
    detail: str


@dataclass
class Report:
    results: dict[str, Any]
    tests: list[TestView]
    requirements: list[RequirementView]
    must: Score
    should: Score
    coverage: CoverageView
    verdict: Verdict
    server: str | None = None
    baseline: dict[str, Any] | None = None  # conformance.reporting.baseline.BaselineOutcome.to_dict()
    command: str | None = None
    # Every requirement of the catalogue that names the clients it protects, whether selected or not:
    # broken ones first (failed, then warning), each as this run judged it ("untested" outside the selection).
    client_requirements: list[RequirementView] = field(default_factory=list)

    @property
    def target(self) -> Mapping[str, Any]:
        return self.results.get("target") or {}

    def tests_with(self, *outcomes: str) -> list[TestView]:
        return [t for t in self.tests if t.outcome in outcomes]

    @property
    def new_failures(self) -> list[TestView]:
        return [t for t in self.tests if t.outcome == "failed" and t.known is None]

    @property
    def known_failures(self) -> list[TestView]:
        return [t for t in self.tests if t.outcome == "failed" and t.known is not None]

    def groups(self, *outcomes: str) -> list[FailureGroup]:
        """The tests with ``outcomes``, grouped by how they failed (same title, requirements and level)."""
        grouped: dict[tuple[Any, ...], list[TestView]] = {}
        ordered = sorted(
            self.tests_with(*outcomes),
            # The representative of a group: a scenario over a fuzz case, a failing call over a setup.
            key=lambda t: (t.known is not None, t.kind != "scenario", t.phase != "call", t.nodeid),
        )
        for test in ordered:
            key = (test.outcome, test.title, tuple(test.violated), test.level, test.known is None)
            grouped.setdefault(key, []).append(test)
        groups = [FailureGroup(tests) for tests in grouped.values()]
        # New before known, scenarios before fuzz cases, then the most widespread failure first.
        groups.sort(key=lambda g: (g.first.known is not None, g.first.kind != "scenario", -len(g.tests)))
        return groups

    def test(self, nodeid: str) -> TestView | None:
        return next((t for t in self.tests if t.nodeid == nodeid), None)

    def outcome_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for test in self.tests:
            counts[test.outcome] = counts.get(test.outcome, 0) + 1
        return counts

    def requirement_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for requirement in self.requirements:
            counts[requirement.outcome] = counts.get(requirement.outcome, 0) + 1
        return counts


def load_journal(path: Path) -> dict[str, dict[str, Any]]:
    """Journal lines by nodeid (a file, or a folder of per-worker files); missing: empty."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else ([path] if path.is_file() else [])
    entries: dict[str, dict[str, Any]] = {}
    for file in files:
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                entries[str(entry["nodeid"])] = entry
    return entries


def _test_view(data: Mapping[str, Any], journal: Mapping[str, Any] | None) -> TestView:
    return TestView(
        nodeid=str(data["nodeid"]),
        outcome=str(data["outcome"]),
        requirements=list(data.get("requirements") or []),
        violated=list(data.get("violated") or []),
        level=data.get("level"),
        title=data.get("title"),
        message=data.get("message"),
        reproduce=data.get("reproduce"),
        evidence=list(data.get("evidence") or []),
        findings=list(data.get("findings") or []),
        duration_s=float(data.get("duration_s") or 0.0),
        phase=str(data.get("phase") or "call"),
        timeline=list((journal or {}).get("timeline") or []),
        operations=list((journal or {}).get("operations") or []),
    )


def _violation_level(test: TestView, requirement_id: str) -> str:
    for finding in test.findings:
        if requirement_id in finding.get("requirement_ids", ()):
            return str(finding.get("level") or test.level or "MUST")
    return str(test.level or "MUST")


def _contribution(test: TestView, requirement_id: str) -> str:
    """What one test says about one requirement."""
    outcome = test.outcome
    named = requirement_id in test.violated or any(
        requirement_id in f.get("requirement_ids", ()) for f in test.findings
    )
    if outcome in ("failed", "warning") and named:
        return "failed" if outcome == "failed" and _violation_level(test, requirement_id) == "MUST" else "warning"
    if outcome == "failed":
        return "inconclusive" if test.violated else "failed"
    if outcome in ("passed", "warning", "xfailed", "xpassed"):
        return "passed"
    if outcome in ("error", "needs_stimulus", "not_applicable", "skipped"):
        return outcome
    return "inconclusive"


def _requirement_view(entry: Mapping[str, Any]) -> RequirementView:
    return RequirementView(
        id=entry["id"],
        level=entry["level"],
        section=entry.get("section", ""),
        text=entry.get("text", ""),
        clients=[ClientHabit.from_catalogue(c) for c in entry.get("clients") or () if isinstance(c, Mapping)],
    )


def _client_requirements(
    judged: Sequence[RequirementView], catalogue: Iterable[Mapping[str, Any]]
) -> list[RequirementView]:
    by_id = {r.id: r for r in judged}
    chosen = [by_id.get(r["id"]) or _requirement_view(r) for r in catalogue if r.get("clients")]
    return sorted(chosen, key=lambda r: REQUIREMENT_PRECEDENCE.index(r.outcome))


def _judge_requirements(tests: Sequence[TestView], catalogue: Iterable[Mapping[str, Any]]) -> list[RequirementView]:
    views = {r["id"]: _requirement_view(r) for r in catalogue}
    said: dict[str, list[str]] = {rid: [] for rid in views}
    for test in tests:
        ids = dict.fromkeys([*test.requirements, *test.violated])
        for finding in test.findings:
            ids.update(dict.fromkeys(finding.get("requirement_ids", ())))
        for rid in ids:
            if rid not in views:
                continue
            contribution = _contribution(test, rid)
            said[rid].append(contribution)
            views[rid].tests.append(test.nodeid)
            if contribution in ("failed", "warning"):
                views[rid].failing.append(test.nodeid)
    for rid, view in views.items():
        if said[rid]:
            view.outcome = min(said[rid], key=REQUIREMENT_PRECEDENCE.index)
    return list(views.values())


def _score(level: str, requirements: Iterable[RequirementView]) -> Score:
    score = Score(level)
    for requirement in requirements:
        if requirement.level != level:
            continue
        score.total += 1
        # A MUST requirement is broken only by a failure; a SHOULD one by a warning too.
        broken = ("failed",) if level == "MUST" else ("failed", "warning")
        if requirement.outcome in broken:
            score.failed += 1
        elif requirement.outcome in ("passed", "warning"):
            score.passed += 1
        else:
            score.other += 1
    return score


def _coverage(tests: Sequence[TestView], journal: Mapping[str, Mapping[str, Any]]) -> CoverageView:
    operations: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for entry in journal.values():
        for op in entry.get("operations", ()):
            operations[op] = operations.get(op, 0) + 1
        for kind in entry.get("notifications", ()):
            kinds[kind] = kinds.get(kind, 0) + 1
    return CoverageView(
        operations_declared=list(declared_operations()),
        operations_exercised=operations,
        kinds_declared=list(declared_notification_kinds()),
        kinds_exercised=kinds,
        journal_found=bool(journal),
    )


def _verdict(results: Mapping[str, Any], tests: Sequence[TestView], must: Score, *, interrupted: bool) -> Verdict:
    new_failures = [t for t in tests if t.outcome == "failed" and t.known is None]
    known = [t for t in tests if t.outcome == "failed" and t.known is not None]
    errors = [t for t in tests if t.outcome == "error"]
    if interrupted:
        # What ran is shown as it ran, but a part of the selection says nothing about the whole.
        found = f"; {len(new_failures)} of them failed" if new_failures else ""
        return Verdict(
            "interrupted",
            "Interrupted",
            f"The run was stopped after {len(tests)} test(s){found}: no verdict on the selection.",
        )
    if results.get("configuration_error"):
        return Verdict(
            "suite_error", "Suite error", f"The configuration was unusable: {results['configuration_error']}"
        )
    if new_failures:
        failing_must = sorted({rid for t in new_failures for rid in (t.violated or t.requirements)})
        detail = f"{len(new_failures)} test(s) failed, breaking {len(failing_must)} requirement(s)"
        if errors:
            detail += f"; {len(errors)} test(s) could not be judged (suite errors)"
        return Verdict("not_conformant", "Not conformant", detail + ".")
    if errors:
        return Verdict(
            "suite_error",
            "Incomplete: suite errors",
            f"No conformance failure, but {len(errors)} test(s) broke in the suite itself and judged nothing.",
        )
    if not tests:
        return Verdict("suite_error", "Incomplete: no tests ran", "The selection ran no test.")
    detail = f"Every MUST requirement this run judged passed ({must.passed} of {must.total})."
    if known:
        known_note = f"; {len(known)} known failure(s) in the baseline."
        return Verdict("conformant", "Conformant (known failures)", detail[:-1] + known_note)
    return Verdict("conformant", "Conformant", detail)


def build_report(
    results: dict[str, Any],
    journal: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    server: str | None = None,
    known_failures: Mapping[str, str] | None = None,
    baseline: dict[str, Any] | None = None,
    command: str | None = None,
    interrupted: bool = False,
) -> Report:
    """The report of one run. ``known_failures``: nodeid -> the baseline's reason for that failure;
    ``interrupted``: the run was stopped (Ctrl-C) before its selection was through."""
    journal = journal or {}
    tests = [_test_view(t, journal.get(str(t["nodeid"]))) for t in results.get("tests", [])]
    for test in tests:
        if test.outcome == "failed" and known_failures and test.nodeid in known_failures:
            test.known = known_failures[test.nodeid]
    selection = results.get("selection") or {}
    areas, ids = selection.get("areas") or [], selection.get("requirements") or []
    # The selection's requirements, and any other one a failure of this run names (it broke, so it shows).
    named = {rid for t in tests for rid in t.violated}
    catalogue = [
        r
        for r in contract.requirements()
        if (not areas and not ids) or requirement_area(r["id"]) in areas or r["id"] in ids or r["id"] in named
    ]
    requirements = _judge_requirements(tests, catalogue)
    by_id = {t.nodeid: t for t in tests}
    for requirement in requirements:
        failed_by = [by_id[n] for n in requirement.failing if n in by_id and by_id[n].outcome == "failed"]
        requirement.known = bool(failed_by) and all(t.known is not None for t in failed_by)
    must, should = _score("MUST", requirements), _score("SHOULD", requirements)
    return Report(
        results=results,
        tests=tests,
        requirements=requirements,
        must=must,
        should=should,
        coverage=_coverage(tests, journal),
        verdict=_verdict(results, tests, must, interrupted=interrupted),
        server=server,
        baseline=baseline,
        command=command,
        client_requirements=_client_requirements(requirements, contract.requirements()),
    )
