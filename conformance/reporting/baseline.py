"""Known failures (``--baseline FILE``) and the difference between two runs (``gws-conformance diff``).

A baseline is a YAML (or JSON) file of failures a team knows about and accepts for now, each with
its reason:

    known_failures:
      - test: "fuzz/test_fuzz.py::test_negative_data[POST /me as agent]"
        reason: "VENDOR-123: malformed JSON answers 500; fixed in 8.5.2"
      - requirement: GWS-GEN-003
        reason: "HTTP status codes are always 200 on this server (tracked in VENDOR-77)"

A failing test is *known* when an entry names the test, or when every requirement its failure names
is listed. A known failure does not fail the run; any other failure does. An entry whose test ran
and did not fail, or whose requirement was judged and nothing failed it, is *stale*: reported, so it
can be removed — a baseline only ever shrinks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance import contract

__all__ = [
    "Baseline",
    "BaselineEntry",
    "BaselineError",
    "BaselineOutcome",
    "ReportInputError",
    "ResultsFileError",
    "RunDiff",
    "diff_results",
    "load_results",
]


class ReportInputError(Exception):
    """A file the reporting reads cannot be used; the message names the file and the problem."""


class BaselineError(ReportInputError):
    """The baseline file cannot be used (unreadable, malformed, an entry without a reason...)."""


class ResultsFileError(ReportInputError):
    """A results file cannot be read, or is not one."""


@dataclass(frozen=True)
class BaselineEntry:
    reason: str
    test: str | None = None
    requirement: str | None = None

    @property
    def label(self) -> str:
        return f"test {self.test}" if self.test else f"requirement {self.requirement}"


@dataclass
class BaselineOutcome:
    """What the baseline did to one run."""

    known: dict[str, str] = field(default_factory=dict)  # failing nodeid -> reason
    new: list[str] = field(default_factory=list)  # failing nodeids the baseline does not cover
    stale: list[BaselineEntry] = field(default_factory=list)
    unexercised: list[BaselineEntry] = field(default_factory=list)  # not in this run's selection

    def to_dict(self) -> dict[str, Any]:
        def entry(e: BaselineEntry) -> dict[str, str]:
            return {k: v for k, v in (("test", e.test), ("requirement", e.requirement), ("reason", e.reason)) if v}

        return {
            "known": [{"test": nodeid, "reason": reason} for nodeid, reason in self.known.items()],
            "new": list(self.new),
            "stale": [entry(e) for e in self.stale],
            "unexercised": [entry(e) for e in self.unexercised],
        }


@dataclass(frozen=True)
class Baseline:
    path: Path
    entries: tuple[BaselineEntry, ...]

    @classmethod
    def load(cls, path: Path) -> Baseline:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise BaselineError(f"baseline {path}: cannot read it: {exc.strerror or exc}") from None
        try:
            document = contract.load_yaml(text)
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            at = f" (line {where.line + 1})" if where is not None else ""
            raise BaselineError(f"baseline {path}: not valid YAML{at}") from None
        if document is None:
            document = {"known_failures": []}
        if not isinstance(document, dict) or not isinstance(document.get("known_failures"), list):
            raise BaselineError(f"baseline {path}: expected a mapping with a list 'known_failures'")
        known_ids = {r["id"] for r in contract.requirements()}
        entries = []
        for index, raw in enumerate(document["known_failures"]):
            where = f"baseline {path}: known_failures[{index}]"
            if not isinstance(raw, dict):
                raise BaselineError(f"{where}: expected a mapping with 'test' or 'requirement' and 'reason'")
            unknown = sorted(set(raw) - {"test", "requirement", "reason"})
            if unknown:
                raise BaselineError(f"{where}: unknown key(s) {', '.join(unknown)}")
            reason = raw.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                raise BaselineError(f"{where}: every known failure needs a 'reason'")
            test, requirement = raw.get("test"), raw.get("requirement")
            if (test is None) == (requirement is None):
                raise BaselineError(f"{where}: name exactly one of 'test' or 'requirement'")
            if requirement is not None and requirement not in known_ids:
                raise BaselineError(f"{where}: {requirement!r} is not a requirement of spec/requirements.yaml")
            if test is not None and not isinstance(test, str):
                raise BaselineError(f"{where}: 'test' must be a test id (a string)")
            entries.append(BaselineEntry(reason=reason.strip(), test=test, requirement=requirement))
        return cls(path, tuple(entries))

    def apply(self, results: Mapping[str, Any]) -> BaselineOutcome:
        """Sort the run's failures into known and new; find the stale entries."""
        outcome = BaselineOutcome()
        tests = list(results.get("tests", []))
        by_test = {e.test: e for e in self.entries if e.test}
        by_requirement = {e.requirement: e for e in self.entries if e.requirement}
        for test in tests:
            if test["outcome"] != "failed":
                continue
            nodeid, violated = str(test["nodeid"]), list(test.get("violated") or [])
            if nodeid in by_test:
                outcome.known[nodeid] = by_test[nodeid].reason
            elif violated and all(rid in by_requirement for rid in violated):
                outcome.known[nodeid] = "; ".join(dict.fromkeys(by_requirement[rid].reason for rid in violated))
            else:
                outcome.new.append(nodeid)
        ran = {str(t["nodeid"]): t["outcome"] for t in tests}
        carried = {rid for t in tests for rid in (*(t.get("requirements") or []), *(t.get("violated") or []))}
        failed_requirements = {rid for t in tests if t["outcome"] == "failed" for rid in (t.get("violated") or [])}
        for entry in self.entries:
            if entry.test is not None:
                if entry.test not in ran:
                    outcome.unexercised.append(entry)
                elif ran[entry.test] != "failed":
                    outcome.stale.append(entry)
            elif entry.requirement not in carried:
                outcome.unexercised.append(entry)
            elif entry.requirement not in failed_requirements:
                outcome.stale.append(entry)
        return outcome


# -- diff ---------------------------------------------------------------------------------------------

_BAD = frozenset({"failed"})


@dataclass
class RunDiff:
    """Per test: what got worse, what got better, what appeared or went away."""

    regressions: list[tuple[str, str, str]] = field(default_factory=list)  # (nodeid, old, new)
    fixes: list[tuple[str, str, str]] = field(default_factory=list)
    new_warnings: list[tuple[str, str, str]] = field(default_factory=list)
    other_changes: list[tuple[str, str, str]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    requirement_regressions: list[tuple[str, str, str]] = field(default_factory=list)
    requirement_fixes: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def has_regressions(self) -> bool:
        return bool(self.regressions or self.requirement_regressions)

    def render_text(self, old_label: str, new_label: str) -> str:
        lines = [f"gws-conformance diff {old_label} -> {new_label}"]

        def section(title: str, rows: Sequence[tuple[str, str, str]]) -> None:
            lines.append(f"{title}: {len(rows)}")
            lines.extend(f"  {nodeid}  ({old} -> {new})" for nodeid, old, new in rows)

        section("regressions (tests that fail now)", self.regressions)
        section("requirements now failing", self.requirement_regressions)
        section("fixes (tests that failed and pass now)", self.fixes)
        section("requirements fixed", self.requirement_fixes)
        section("new warnings", self.new_warnings)
        section("other outcome changes", self.other_changes)
        lines.append(f"tests only in the new run: {len(self.added)}")
        lines.extend(f"  {nodeid}" for nodeid in self.added)
        lines.append(f"tests only in the old run: {len(self.removed)}")
        lines.extend(f"  {nodeid}" for nodeid in self.removed)
        return "\n".join(lines)

    def render_markdown(self, old_label: str, new_label: str) -> str:
        status = "regressions found" if self.has_regressions else "no regression"
        lines = [f"### gws-conformance diff: {status}", "", f"`{old_label}` → `{new_label}`", ""]

        def table(title: str, rows: Sequence[tuple[str, str, str]]) -> None:
            if not rows:
                return
            lines.extend([f"**{title}** ({len(rows)})", "", "| Test | Before | Now |", "|---|---|---|"])
            lines.extend(f"| `{_cell(n)}` | {o} | {w} |" for n, o, w in rows)
            lines.append("")

        table("Regressions", self.regressions)
        table("Requirements now failing", self.requirement_regressions)
        table("Fixes", self.fixes)
        table("Requirements fixed", self.requirement_fixes)
        table("New warnings", self.new_warnings)
        if self.added or self.removed:
            lines.append(f"{len(self.added)} test(s) only in the new run, {len(self.removed)} only in the old one.")
        return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def _requirement_outcomes(results: Mapping[str, Any]) -> dict[str, str]:
    from conformance.reporting.model import build_report

    return {r.id: r.outcome for r in build_report(dict(results)).requirements}


def diff_results(old: Mapping[str, Any], new: Mapping[str, Any]) -> RunDiff:
    diff = RunDiff()
    before = {str(t["nodeid"]): str(t["outcome"]) for t in old.get("tests", [])}
    after = {str(t["nodeid"]): str(t["outcome"]) for t in new.get("tests", [])}
    for nodeid, now in after.items():
        was = before.get(nodeid)
        if was is None:
            diff.added.append(nodeid)
            if now in _BAD:
                diff.regressions.append((nodeid, "absent", now))
            continue
        if was == now:
            continue
        row = (nodeid, was, now)
        if now in _BAD:
            diff.regressions.append(row)
        elif was in _BAD and now in ("passed", "warning"):
            diff.fixes.append(row)
        elif now == "warning":
            diff.new_warnings.append(row)
        else:
            diff.other_changes.append(row)
    diff.removed = [nodeid for nodeid in before if nodeid not in after]
    old_requirements, new_requirements = _requirement_outcomes(old), _requirement_outcomes(new)
    for rid, now in new_requirements.items():
        was = old_requirements.get(rid, "untested")
        if now == "failed" and was != "failed":
            diff.requirement_regressions.append((rid, was, now))
        elif was == "failed" and now == "passed":
            diff.requirement_fixes.append((rid, was, now))
    return diff


def load_results(path: Path) -> dict[str, Any]:
    """A results file (conformance/results.schema.json); ResultsFileError when it is not one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultsFileError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ResultsFileError(f"{path}: not JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("tests"), list) or "version" not in document:
        raise ResultsFileError(f"{path}: not a gws-conformance results file (no 'version' and 'tests')")
    return document
