"""What the passive judge says about one rule on one exchange or message: judged, and broken or not."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.failures import Violation

__all__ = ["Verdict"]


@dataclass(frozen=True)
class Verdict:
    """``rule`` was judged on something in the traffic; ``violation`` is how it broke (None: it held).

    A rule is a registry check ("status_code_present"), or a passive rule ("notification_schema"); its
    requirement IDs are what a report credits when it holds.
    """

    rule: str
    requirements: tuple[str, ...]
    violation: Violation | None = None
