"""The passive judge: every entry of recorded traffic through the REST and Bayeux rules, findings per rule.

Entries are judged in the order they happened (the HAR reader sorts them, the proxy feeds them as they end), so
the sequence rules see what a client saw. What is not GWS traffic (another host's page, a font, a path outside
the base path) is counted and left alone; so is an entry whose response body the recording does not hold.

The findings become a run's results (``Judge.results``): one result per rule that the traffic let the judge
apply, passed when it always held, failed (MUST) or warned (SHOULD) with each distinct finding, its first
evidence and how often it happened. So ``validate`` and ``proxy`` write the reports ``run`` writes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from conformance.failures import Level, Violation
from conformance.outcomes import Outcome
from conformance.passive.bayeux import BayeuxJudge
from conformance.passive.har import Entry
from conformance.passive.rest import judge_rest
from conformance.passive.verdict import Verdict
from conformance.results import RunResults, TestResult, failure_details

__all__ = ["DEFAULT_BASE_PATH", "Judge", "Tally"]

DEFAULT_BASE_PATH = "/api/v2"
NODE_PREFIX = "passive::"
MAX_FINDINGS_SHOWN = 12


@dataclass
class Tally:
    """What the judge saw, beyond its findings: shown by the CLI and in the report's header."""

    entries: int = 0
    rest: int = 0
    bayeux: int = 0
    websocket_frames: int = 0
    not_gws: int = 0
    not_recorded: int = 0  # GWS entries whose response (or body) the recording lacks
    invalid_requests: list[str] = field(default_factory=list)  # "#12 POST /me#Ready: body ..."
    operations: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        parts = [
            f"{self.entries} entries",
            f"{self.rest} REST",
            f"{self.bayeux} Bayeux" + (f" ({self.websocket_frames} websocket frames)" if self.websocket_frames else ""),
            f"{self.not_gws} not GWS (ignored)",
        ]
        if self.not_recorded:
            parts.append(f"{self.not_recorded} without a recorded response (not judged)")
        if self.invalid_requests:
            parts.append(f"{len(self.invalid_requests)} requests that break the contract")
        return ", ".join(parts)


@dataclass
class _Rule:
    requirements: tuple[str, ...]
    judged: int = 0
    findings: dict[tuple[str | None, str], list[Violation]] = field(default_factory=dict)


class Judge:
    """Feed it entries in order (``judge``), then ask for the results."""

    def __init__(self, base_path: str = DEFAULT_BASE_PATH) -> None:
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self.tally = Tally()
        self._bayeux = BayeuxJudge()
        self._rules: dict[str, _Rule] = {}

    def judge_all(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            self.judge(entry)

    def judge(self, entry: Entry) -> None:
        self.tally.entries += 1
        path = unquote(urlsplit(entry.exchange.request.url).path)
        if not path.startswith(self.base_path + "/"):
            self.tally.not_gws += 1
            return
        notifications = self.base_path + "/notifications"
        if path == notifications or path.startswith(notifications + "/"):
            self.tally.bayeux += 1
            self._judge_bayeux(entry)
            return
        self.tally.rest += 1
        if entry.response is None:
            self.tally.not_recorded += 1
            return
        judgement = judge_rest(entry, self.base_path)
        if judgement.operation is not None:
            self.tally.operations[judgement.operation] += 1
        if judgement.request_problems:
            shown = "; ".join(judgement.request_problems[:3])
            label = judgement.operation or f"{entry.exchange.request.method} {path}"
            self.tally.invalid_requests.append(f"#{entry.exchange.seq} ({entry.source}) {label}: {shown}")
        self._add(judgement.verdicts)

    def _judge_bayeux(self, entry: Entry) -> None:
        user = entry.exchange.user
        where = f"{entry.exchange.request.method} {entry.exchange.request.url}"
        if entry.frames:
            self._judge_frames(entry, where)
            return
        response = entry.response
        if response is None:
            self.tally.not_recorded += 1
            return
        requests = _messages(entry.request_body)
        if not response.is_json:
            return  # a refusal without a Bayeux body (a 401, a 413): the REST checks have nothing to say either
        self._add([self._bayeux.judge_label(response.headers.get("content-type"), entry.exchange)])
        self._add(
            self._bayeux.judge_batch(
                requests,
                _listed(response.json_body),
                seq=entry.exchange.seq,
                where=where,
                user=user,
                http_evidence=entry.exchange,
            )
        )

    def _judge_frames(self, entry: Entry, where: str) -> None:
        sent: list[Any] = []
        client_id: str | None = None
        for number, frame in enumerate(entry.frames):
            self.tally.websocket_frames += 1
            messages = _messages(frame.data.encode("utf-8"))
            if frame.sent:
                sent = messages
                client_id = next(
                    (m["clientId"] for m in messages if isinstance(m, dict) and isinstance(m.get("clientId"), str)),
                    client_id,
                )
                continue
            verdicts = self._bayeux.judge_batch(
                sent,
                messages,
                seq=entry.exchange.seq,
                where=f"{where} (websocket frame {number})",
                user=entry.exchange.user,
                http_evidence=None,
                client_id=client_id,
            )
            client_id = next(
                (
                    m["clientId"]
                    for m in messages
                    if isinstance(m, dict)
                    and m.get("channel") == "/meta/handshake"
                    and isinstance(m.get("clientId"), str)
                ),
                client_id,
            )
            self._add(verdicts)

    def _add(self, verdicts: Iterable[Verdict]) -> None:
        for verdict in verdicts:
            rule = self._rules.setdefault(verdict.rule, _Rule(verdict.requirements))
            rule.requirements = tuple(dict.fromkeys((*rule.requirements, *verdict.requirements)))
            rule.judged += 1
            if verdict.violation is not None:
                key = (verdict.violation.check, verdict.violation.title)
                rule.findings.setdefault(key, []).append(verdict.violation)

    # -- results --------------------------------------------------------------------------------------------

    def results(self) -> RunResults:
        """The rules judged as a run's results; ``selection`` names their requirements, so what traffic never
        showed is reported untested rather than every requirement of the catalogue."""
        results = RunResults()
        judged = sorted({rid for rule in self._rules.values() for rid in rule.requirements})
        results.selection = {"areas": [], "requirements": judged}
        for name, rule in sorted(self._rules.items()):
            results.add(_result(name, rule))
        return results


def _result(name: str, rule: _Rule) -> TestResult:
    violation = _merged(name, rule)
    if violation is None:
        outcome = Outcome.PASSED
    else:
        outcome = Outcome.WARNING if violation.is_warning else Outcome.FAILED
    details = failure_details(violation, outcome, None)
    return TestResult(
        nodeid=f"{NODE_PREFIX}{name}",
        outcome=outcome,
        phase="call",
        requirements=list(rule.requirements),
        **details,
    )


class _Findings(Violation):
    """A rule's distinct findings as one violation; ``findings`` is what the reports list one by one."""

    def __init__(self, name: str, rule: _Rule) -> None:
        groups = list(rule.findings.values())
        self.findings = [_counted(group) for group in groups]
        worst = Level.MUST if any(not g[0].is_warning for g in groups) else Level.SHOULD
        total = sum(len(g) for g in groups)
        lines = [
            f"{len(groups)} distinct finding(s) in {total} of {rule.judged} judgement(s) of {name}:",
            *(
                f"- {f.title}: {f.message.splitlines()[0] if f.message else ''}"
                for f in self.findings[:MAX_FINDINGS_SHOWN]
            ),
        ]
        super().__init__(
            title=groups[0][0].title if len(groups) == 1 else f"{len(groups)} distinct findings of {name}",
            message="\n".join(lines),
            requirement_ids=tuple(dict.fromkeys(i for g in groups for v in g for i in v.requirement_ids)),
            level=worst,
            evidence=[e for g in groups for e in g[0].evidence][: MAX_FINDINGS_SHOWN * 2],
            check=name,
        )


def _merged(name: str, rule: _Rule) -> Violation | None:
    if not rule.findings:
        return None
    return _Findings(name, rule)


def _counted(group: list[Violation]) -> Violation:
    first = group[0]
    times = f" (×{len(group)})" if len(group) > 1 else ""
    return Violation(
        title=first.title + times,
        message=first.message,
        requirement_ids=first.requirement_ids,
        level=first.level,
        evidence=first.evidence,
        check=first.check,
    )


def _messages(body: bytes | None) -> list[Any]:
    if not body:
        return []
    try:
        document = json.loads(body)
    except ValueError:
        return []
    return _listed(document)


def _listed(document: Any) -> list[Any]:
    return document if isinstance(document, list) else [document] if document is not None else []
