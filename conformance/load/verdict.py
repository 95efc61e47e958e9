"""The verdict of a load run: each counter and the p99 delivery latency against its threshold.

Each criterion names the requirements it judges, as the suite's tests do, so that a failed load run says
which rule broke under load. REST violations are the checks registry's own requirements (in the report,
by check); a server error under load (HTTP 5xx, statusCode 4) is GWS-GEN-004's "never a 5xx" seen from
valid input.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.load.ledger import Totals
from conformance.load.options import Thresholds
from conformance.load.rest import is_server_error

__all__ = ["CRITERIA", "Criterion", "judge"]

# counter -> (threshold field, requirement IDs, what it means)
CRITERIA: dict[str, tuple[str, tuple[str, ...], str]] = {
    "lost": ("max_lost", ("GWS-LOAD-001", "GWS-GEN-020"), "owed notifications never received"),
    "duplicated": ("max_duplicated", ("GWS-LOAD-001",), "notifications received more than once"),
    "reordered": (
        "max_reordered",
        ("GWS-LOAD-002",),
        "an earlier state of a call, device or channel received after a later one",
    ),
    "misrouted": ("max_misrouted", ("GWS-NOTIF-005",), "notifications about another agent's device or call"),
    "late": ("max_late", ("GWS-GEN-020",), "notifications received after the deadline"),
    "schema_invalid": ("max_schema_invalid", ("GWS-NOTIF-002",), "notifications breaking their kind's schema"),
    "rest_violations": ("max_rest_violations", ("GWS-GEN-001", "GWS-GEN-007"), "REST replies breaking a MUST check"),
    "rest_errors": ("max_rest_errors", ("GWS-GEN-004",), "REST replies with HTTP 5xx or statusCode 4"),
}


@dataclass(frozen=True)
class Criterion:
    name: str
    value: float | None
    limit: float
    passed: bool
    requirements: tuple[str, ...]
    meaning: str


def _rest_errors(totals: Totals) -> int:
    count = 0
    for key, n in totals.rest_status.items():
        http, _, code = key.partition(" / statusCode ")
        status = int(http.removeprefix("HTTP "))
        count += n if is_server_error(status, int(code) if code.lstrip("-").isdigit() else None) else 0
    return count


def judge(totals: Totals, thresholds: Thresholds) -> list[Criterion]:
    values = dict(totals.counters)
    values["rest_violations"] = sum(totals.rest_violations.values())
    values["rest_errors"] = _rest_errors(totals)
    criteria = []
    for name, (field, ids, meaning) in CRITERIA.items():
        limit = float(getattr(thresholds, field))
        value = float(values.get(name, 0))
        criteria.append(Criterion(name, value, limit, value <= limit, ids, meaning))
    p99 = totals.percentile_ms(0.99)
    criteria.append(
        Criterion(
            "p99_delivery_ms",
            p99,
            thresholds.p99_delivery_ms,
            p99 is not None and p99 <= thresholds.p99_delivery_ms,
            (),
            "99th percentile of REST request sent -> notification received: an objective of the configuration, "
            "not a rule of the API (none delivered: failed)",
        )
    )
    return criteria
