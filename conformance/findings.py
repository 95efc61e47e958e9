"""What one test found besides its own assertions: SHOULD-level violations and the stimuli it caused.

A scenario must not stop at the first SHOULD broken (an HTTP 200 where 400 was due is worth a
warning, not the end of the workflow), yet the warning must reach the report. So the helpers of
``conformance.api`` and ``conformance.inbox`` add warnings to the current test's ``Findings``, and
the scenario fixtures raise them all, merged into one SHOULD ``Violation``, when the test body
returns without failing (outcome: warning). A MUST broken is raised at once, as always.

The current ``Findings`` lives in a context variable that the fixture hooks set around each test;
code running outside a test (a unit test calling a helper directly) gets none, and then a SHOULD
violation is raised at once — strict, so nothing is lost silently.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from conformance.failures import Evidence, Level, Violation

__all__ = ["Findings", "activate", "collecting", "current", "requirement_ids", "warn"]


@dataclass
class Findings:
    """One test's requirement IDs (its markers), SHOULD violations and stimulus records."""

    requirement_ids: tuple[str, ...] = ()
    warnings: list[Violation] = field(default_factory=list)
    stimuli: list[Any] = field(default_factory=list)  # conformance.stimulus.Stimulus records
    # A test may judge in several threads at once (conformance.overlap): the check for a repeat and the append
    # are one step.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def warn(self, violation: Violation) -> None:
        # The same check failing on every step of a workflow is one finding, not twenty.
        key = (violation.check, violation.title)
        with self._lock:
            if all((w.check, w.title) != key for w in self.warnings):
                self.warnings.append(violation)

    def merged_warning(self) -> Violation | None:
        """Every warning as one SHOULD Violation (None when there is none)."""
        if not self.warnings:
            return None
        if len(self.warnings) == 1:
            return self.warnings[0]
        ids = tuple(dict.fromkeys(i for w in self.warnings for i in w.requirement_ids))
        evidence: list[Evidence] = [e for w in self.warnings for e in w.evidence]
        message = "\n\n".join(f"{n}. {w.title}: {w.message}" for n, w in enumerate(self.warnings, 1))
        return Violation(
            title=f"{len(self.warnings)} SHOULD requirements not met",
            message=message,
            requirement_ids=ids,
            level=Level.SHOULD,
            evidence=evidence,
            check="scenario",
        )


_CURRENT: ContextVar[Findings | None] = ContextVar("gws_findings", default=None)


def current() -> Findings | None:
    return _CURRENT.get()


def requirement_ids() -> tuple[str, ...]:
    """The requirement IDs of the running test (empty outside a test)."""
    findings = _CURRENT.get()
    return findings.requirement_ids if findings is not None else ()


def warn(violation: Violation) -> None:
    """Report a SHOULD violation: kept for the end of the test, or raised at once outside one."""
    findings = _CURRENT.get()
    if findings is None:
        raise violation
    findings.warn(violation)


@contextlib.contextmanager
def collecting(ids: Iterable[str] = ()) -> Iterator[Findings]:
    """Make a new Findings current for the block (tests of the helpers use this directly)."""
    findings = Findings(tuple(ids))
    token = _CURRENT.set(findings)
    try:
        yield findings
    finally:
        _CURRENT.reset(token)


def activate(findings: Findings | None) -> None:
    """Make ``findings`` current (None: no test runs); for hooks that span setup, call and teardown."""
    _CURRENT.set(findings)
