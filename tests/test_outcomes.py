"""Which outcome an exception means: the target's failures, warnings, skips of their own, the suite's errors."""

from __future__ import annotations

import pytest

from conformance.cometd import ExpectationFailed, ListenerError
from conformance.errors import ConfigError, SuiteError, TargetTimeout
from conformance.failures import Level, Violation
from conformance.outcomes import NeedsStimulus, NotApplicable, Outcome, classify


def violation(level: Level) -> Violation:
    return Violation(title="t", message="m", requirement_ids=["GWS-GEN-001"], level=level)


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (None, Outcome.PASSED),
        (violation(Level.MUST), Outcome.FAILED),
        (violation(Level.SHOULD), Outcome.WARNING),
        (violation(Level.MAY), Outcome.WARNING),
        (AssertionError("plain assert"), Outcome.FAILED),
        (ExpectationFailed("no message", []), Outcome.FAILED),
        (TargetTimeout("no answer"), Outcome.FAILED),
        (ListenerError("no handshake"), Outcome.FAILED),
        (pytest.fail.Exception("pytest.fail"), Outcome.FAILED),
        (NotApplicable("feature"), Outcome.NOT_APPLICABLE),
        (NeedsStimulus("adapter"), Outcome.NEEDS_STIMULUS),
        (pytest.skip.Exception("plain skip"), Outcome.SKIPPED),
        (KeyError("bug"), Outcome.ERROR),
        (SuiteError("schema missing"), Outcome.ERROR),
        (ConfigError("GWS_BASE_URL"), Outcome.ERROR),
        (ExceptionGroup("two", [violation(Level.SHOULD), violation(Level.MUST)]), Outcome.FAILED),
        (ExceptionGroup("two", [violation(Level.SHOULD), violation(Level.MAY)]), Outcome.WARNING),
        (ExceptionGroup("mixed", [violation(Level.SHOULD), KeyError("bug")]), Outcome.ERROR),
    ],
)
def test_classify(exc: BaseException | None, outcome: Outcome) -> None:
    assert classify(exc) is outcome
