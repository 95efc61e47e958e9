"""The results of a run as data: one record per test, the run's header, untested requirements.

The plugin fills a ``RunResults`` from pytest's reports and writes it with ``--gws-results FILE``;
the report writers read that file, never pytest's internals. Its shape is
conformance/results.schema.json (``RESULTS_VERSION`` changes whenever a reader would have to).
Everything in it is redacted already: evidence comes from the Recorder, settings from
``Settings.redacted()``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from conformance import contract
from conformance.delivery import summarise
from conformance.errors import TargetError
from conformance.failures import Violation
from conformance.outcomes import Outcome

__all__ = [
    "RESULTS_SCHEMA",
    "RESULTS_VERSION",
    "RunResults",
    "TestResult",
    "failure_details",
    "merge_phase",
    "tool_version",
]

RESULTS_VERSION = 1
RESULTS_SCHEMA = Path(str(files("conformance"))) / "results.schema.json"
MAX_MESSAGE = 20_000

# Which phase's outcome wins when setup, call and teardown disagree: the first that is not a pass,
# except that a teardown problem never hides a failure of the call.
_SEVERITY = {
    Outcome.PASSED: 0,
    Outcome.XFAILED: 0,
    Outcome.XPASSED: 0,
    Outcome.SKIPPED: 1,
    Outcome.NOT_APPLICABLE: 1,
    Outcome.NEEDS_STIMULUS: 1,
    Outcome.WARNING: 2,
    Outcome.ERROR: 3,
    Outcome.FAILED: 3,
}


@dataclass
class TestResult:
    """One test's result as the results file holds it."""

    __test__ = False  # a dataclass named Test*, not a test

    nodeid: str
    outcome: Outcome
    phase: str  # the phase that decided the outcome: setup, call or teardown
    duration_s: float = 0.0
    requirements: list[str] = field(default_factory=list)  # what the test proves (its markers)
    feature: str | None = None
    violated: list[str] = field(default_factory=list)  # requirement IDs its failure or warning names
    level: str | None = None  # MUST / SHOULD / MAY of the violation, when there is one
    title: str | None = None
    message: str | None = None
    reproduce: str | None = None  # curl command of the offending request, when there is one
    evidence: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)  # distinct findings of a fuzz test

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = str(self.outcome)
        return data


def failure_details(exc: BaseException | None, outcome: Outcome, fallback: str | None) -> dict[str, Any]:
    """What a report says about the exception that decided a phase (plain, JSON-ready data)."""
    if isinstance(exc, Violation):
        return {
            "violated": list(exc.requirement_ids),
            "level": str(exc.level),
            "title": exc.title,
            "message": _clip(exc.message),
            "reproduce": exc.reproduction,
            "evidence": [e.to_dict() for e in exc.evidence],
            "findings": [_finding(f) for f in getattr(exc, "findings", ())],
        }
    if isinstance(exc, TargetError):
        exchange = exc.exchange
        return {
            "level": "MUST",
            "title": type(exc).__name__,
            "message": _clip(str(exc)),
            "reproduce": exchange.to_curl() if exchange is not None else None,
            "evidence": [exchange.to_dict()] if exchange is not None else [],
        }
    if exc is None or outcome is Outcome.PASSED:
        return {}
    evidence = [_record(r) for r in (*getattr(exc, "received", ()), *getattr(exc, "offending", ()))]
    text = str(exc) or fallback or type(exc).__name__
    level = "MUST" if outcome is Outcome.FAILED else None
    first_line = str(exc).strip().partition("\n")[0][:200]
    title = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
    return {"level": level, "title": title, "message": _clip(text), "evidence": evidence}


def _finding(violation: Violation) -> dict[str, Any]:
    return {
        "title": violation.title,
        "check": violation.check,
        "level": str(violation.level),
        "requirement_ids": list(violation.requirement_ids),
        "message": _clip(violation.message),
        "reproduce": violation.reproduction,
    }


def _record(record: Any) -> dict[str, Any]:
    # A notification record (conformance.cometd.NotificationRecord) or anything with to_dict().
    if hasattr(record, "to_dict"):
        return dict(record.to_dict())
    if is_dataclass(record) and not isinstance(record, type):
        data = asdict(record)
        data["kind"] = "notification"
        plain: dict[str, Any] = json.loads(json.dumps(data, default=str))
        return plain
    return {"kind": "unknown", "repr": repr(record)}


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + f"\n…[{len(text) - MAX_MESSAGE} more characters]"


def merge_phase(current: TestResult | None, incoming: TestResult) -> TestResult:
    """The result of a test after one more of its phases reported."""
    if current is None:
        return incoming
    total = current.duration_s + incoming.duration_s
    winner = current
    worse = _SEVERITY[incoming.outcome] > _SEVERITY[current.outcome]
    same = _SEVERITY[incoming.outcome] == _SEVERITY[current.outcome]
    if (worse or (same and incoming.phase == "call")) and not (
        incoming.phase == "teardown" and current.outcome in (Outcome.FAILED, Outcome.ERROR)
    ):
        winner = incoming
    winner.duration_s = total
    return winner


@dataclass
class RunResults:
    """Everything ``--gws-results`` writes; filled while the run goes, written once at its end."""

    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    target: Mapping[str, Any] | None = None  # Settings.redacted()
    configuration_error: str | None = None
    seed: int | None = None
    profile: str | None = None
    selection: dict[str, list[str]] = field(default_factory=lambda: {"areas": [], "requirements": []})
    tests: dict[str, TestResult] = field(default_factory=dict)
    # What each test measured of notification delivery (DeliveryClock.drain), summarised when written.
    delivery: list[dict[str, Any]] = field(default_factory=list)

    def add(self, result: TestResult) -> None:
        self.tests[result.nodeid] = merge_phase(self.tests.get(result.nodeid), result)

    def summary(self) -> dict[str, int]:
        counts = {str(o): 0 for o in Outcome}
        for result in self.tests.values():
            counts[str(result.outcome)] += 1
        counts["total"] = len(self.tests)
        return counts

    def by_outcome(self, outcome: Outcome) -> list[TestResult]:
        return [r for r in self.tests.values() if r.outcome is outcome]

    def selected_count(self) -> int:
        return len(selected_requirements(self.selection["areas"], self.selection["requirements"]))

    def untested(self) -> list[dict[str, str]]:
        """Catalogue requirements (within the selection) that no test of this run carries."""
        covered = {rid for result in self.tests.values() for rid in result.requirements}
        return [
            {"id": r["id"], "level": r["level"], "text": r["text"]}
            for r in selected_requirements(self.selection["areas"], self.selection["requirements"])
            if r["id"] not in covered
        ]

    def to_dict(self) -> dict[str, Any]:
        finished = datetime.now(UTC)
        catalogue = selected_requirements(self.selection["areas"], self.selection["requirements"])
        untested = self.untested()
        return {
            "version": RESULTS_VERSION,
            "tool": {"name": "gws-conformance", "version": tool_version()},
            "started_at": self.started_at.isoformat(),
            "finished_at": finished.isoformat(),
            "duration_s": round((finished - self.started_at).total_seconds(), 3),
            "target": dict(self.target) if self.target is not None else None,
            "configuration_error": self.configuration_error,
            "seed": self.seed,
            "profile": self.profile,
            "selection": self.selection,
            "summary": self.summary(),
            "requirements": {
                "selected": len(catalogue),
                "tested": len(catalogue) - len(untested),
                "untested": untested,
            },
            "delivery": summarise(self.delivery),
            "tests": [r.to_dict() for r in self.tests.values()],
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def selected_requirements(areas: Sequence[str], ids: Sequence[str]) -> list[dict[str, Any]]:
    """The catalogue entries a selection names (everything when it names nothing)."""
    catalogue = contract.requirements()
    if not areas and not ids:
        return catalogue
    return [r for r in catalogue if requirement_area(r["id"]) in areas or r["id"] in ids]


def requirement_area(requirement_id: str) -> str:
    """``GWS-CALL-004`` -> ``CALL``."""
    parts = requirement_id.split("-")
    return parts[1] if len(parts) == 3 else ""


def known_requirement_ids() -> set[str]:
    return {r["id"] for r in contract.requirements()}


def known_areas() -> dict[str, str]:
    return dict(contract.load_document("requirements.yaml").get("areas", {}))


def matches_selection(requirement_ids: Iterable[str], areas: Sequence[str], ids: Sequence[str]) -> bool:
    return any(requirement_area(rid) in areas or rid in ids for rid in requirement_ids)


def tool_version() -> str:
    """The installed gws-conformance version (what results, HAR files and the embedded server report)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gws-conformance")
    except PackageNotFoundError:
        return "unknown"
