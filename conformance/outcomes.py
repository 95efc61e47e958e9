"""The six outcomes of a conformance test, and how a raised exception maps onto them.

An outcome says *whose* fault a result is, so a report never blames the target for the suite's
own faults (the OCI conformance redesign keeps these apart too):

    passed            the target kept every requirement the test proves
    failed            a MUST broken (Violation, AssertionError) or the target unusable (TargetError)
    warning           only SHOULD/MAY requirements broken: reported, never fails the run
    not applicable    the feature the test needs is not assigned to the contact center (GET /features)
    needs stimulus    the test needs outside-world events and no stimulus adapter is configured
    error             the suite itself broke: never counted against the target

``NotApplicable`` and ``NeedsStimulus`` are pytest skips, so every tool that understands a skip
(JUnit, IDEs, xdist) still sees a test that did not run; the plugin gives them their own status.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NoReturn

import pytest

from conformance.errors import TargetError
from conformance.failures import Violation

__all__ = [
    "STATUS",
    "NeedsStimulus",
    "NotApplicable",
    "Outcome",
    "classify",
    "needs_stimulus",
    "not_applicable",
]


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    NOT_APPLICABLE = "not_applicable"
    NEEDS_STIMULUS = "needs_stimulus"
    ERROR = "error"
    SKIPPED = "skipped"  # a plain pytest skip: neither the target's result nor the suite's fault
    XFAILED = "xfailed"
    XPASSED = "xpassed"


# What pytest_report_teststatus answers: (stats category, progress letter, verbose word). The
# categories are the words of pytest's last line ("3 passed, 1 warned, 2 not applicable"); "warned"
# and not "warning" so it never reads as one of pytest's own Python warnings.
STATUS: dict[Outcome, tuple[str, str, str]] = {
    Outcome.PASSED: ("passed", ".", "PASSED"),
    Outcome.FAILED: ("failed", "F", "FAILED"),
    Outcome.WARNING: ("warned", "W", "WARNING"),
    Outcome.NOT_APPLICABLE: ("not applicable", "N", "NOT APPLICABLE"),
    Outcome.NEEDS_STIMULUS: ("needs stimulus", "S", "NEEDS STIMULUS"),
    Outcome.ERROR: ("error", "E", "ERROR"),
    Outcome.SKIPPED: ("skipped", "s", "SKIPPED"),
}


class NotApplicable(pytest.skip.Exception):  # type: ignore[name-defined]
    """The test needs a feature (or a role) the target does not offer."""


class NeedsStimulus(pytest.skip.Exception):  # type: ignore[name-defined]
    """The test needs outside-world events and no stimulus adapter is configured."""


def not_applicable(reason: str) -> NoReturn:
    # Reported at the test's own location, like a skip marker, not at this line.
    raise NotApplicable(reason, _use_item_location=True)


def needs_stimulus(reason: str) -> NoReturn:
    raise NeedsStimulus(reason, _use_item_location=True)


def _target_failure(exc: BaseException) -> bool:
    # Imported here: the listener pulls in aiocometd, which a run that never listens need not load.
    from conformance.cometd import ListenerError

    if isinstance(exc, (AssertionError, TargetError, ListenerError, pytest.fail.Exception)):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_target_failure(inner) for inner in exc.exceptions)
    return False


def _violations(exc: BaseException) -> list[Violation]:
    if isinstance(exc, Violation):
        return [exc]
    if isinstance(exc, BaseExceptionGroup):
        return [v for inner in exc.exceptions for v in _violations(inner)]
    return []


def classify(exc: BaseException | None) -> Outcome:
    """The outcome of a test phase that raised ``exc`` (None: it returned)."""
    if exc is None:
        return Outcome.PASSED
    if isinstance(exc, NotApplicable):
        return Outcome.NOT_APPLICABLE
    if isinstance(exc, NeedsStimulus):
        return Outcome.NEEDS_STIMULUS
    if isinstance(exc, pytest.skip.Exception):
        return Outcome.SKIPPED
    if _target_failure(exc):
        violations = _violations(exc)
        only_violations = len(violations) == _leaf_count(exc)
        if only_violations and all(v.is_warning for v in violations):
            return Outcome.WARNING
        return Outcome.FAILED
    return Outcome.ERROR


def _leaf_count(exc: BaseException) -> int:
    if isinstance(exc, BaseExceptionGroup):
        return sum(_leaf_count(inner) for inner in exc.exceptions)
    return 1
