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
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from conformance.failures import Level, Violation
from conformance.outcomes import Outcome
from conformance.passive.bayeux import BayeuxJudge
from conformance.passive.har import Entry, Frame
from conformance.passive.rest import judge_rest
from conformance.passive.verdict import Verdict
from conformance.results import RunResults, TestResult, failure_details

__all__ = ["DEFAULT_BASE_PATH", "Judge", "Tally", "WebsocketState"]

DEFAULT_BASE_PATH = "/api/v2"
NODE_PREFIX = "passive::"
MAX_FINDINGS_SHOWN = 12
# The registry's checks name the operation at the end of a title: "Reply has no statusCode [GET /me]".
_OPERATION_SUFFIX = re.compile(r" \[([A-Z]+ [^\]]+)\]$")


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
class WebsocketState:
    """What the judge knows of one websocket while its frames come: the client's last messages, its session."""

    seq: int
    where: str
    user: str | None
    sent: list[Any] = field(default_factory=list)
    client_id: str | None = None
    frames: int = 0


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
        kind = self._kind(entry.exchange.request.url)
        if kind == "other":
            self.tally.not_gws += 1
            return
        if kind == "bayeux":
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
            label = judgement.operation or f"{entry.exchange.request.method} {entry.exchange.request.url}"
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
        state = WebsocketState(entry.exchange.seq, where, entry.exchange.user)
        for frame in entry.frames:
            self.judge_frame(state, frame)

    def open_websocket(self, seq: int, url: str, user: str | None) -> WebsocketState | None:
        """A websocket whose frames come one by one (the proxy); None when it is no GWS notifications endpoint."""
        self.tally.entries += 1
        if self._kind(url) != "bayeux":
            self.tally.not_gws += 1
            return None
        self.tally.bayeux += 1
        return WebsocketState(seq, f"GET {url}", user)

    def judge_frame(self, state: WebsocketState, frame: Frame) -> None:
        """One websocket frame: a client's messages are remembered, the server's judged against them."""
        self.tally.websocket_frames += 1
        number, state.frames = state.frames, state.frames + 1
        messages = _messages(frame.data.encode("utf-8"))
        if frame.sent:
            state.sent = messages
            state.client_id = _client_id(messages) or state.client_id
            return
        verdicts = self._bayeux.judge_batch(
            state.sent,
            messages,
            seq=state.seq,
            where=f"{state.where} (websocket frame {number})",
            user=state.user,
            http_evidence=None,
            client_id=state.client_id,
        )
        handshaken = [m for m in messages if isinstance(m, dict) and m.get("channel") == "/meta/handshake"]
        state.client_id = _client_id(handshaken) or state.client_id
        self._add(verdicts)

    def _kind(self, url: str) -> str:
        """ "bayeux", "rest" or "other" (not under the base path)."""
        path = unquote(urlsplit(url).path)
        if not path.startswith(self.base_path + "/"):
            return "other"
        notifications = self.base_path + "/notifications"
        return "bayeux" if path == notifications or path.startswith(notifications + "/") else "rest"

    def _add(self, verdicts: Iterable[Verdict]) -> None:
        for verdict in verdicts:
            rule = self._rules.setdefault(verdict.rule, _Rule(verdict.requirements))
            rule.requirements = tuple(dict.fromkeys((*rule.requirements, *verdict.requirements)))
            rule.judged += 1
            if verdict.violation is not None:
                # One finding per problem, whatever operation showed it: the operations are listed in it.
                key = (verdict.violation.check, _OPERATION_SUFFIX.sub("", verdict.violation.title))
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
    operations = list(dict.fromkeys(m.group(1) for v in group if (m := _OPERATION_SUFFIX.search(v.title))))
    times = f" (×{len(group)})" if len(group) > 1 else ""
    where = ""
    if len(operations) > 1:
        shown = ", ".join(operations[:MAX_FINDINGS_SHOWN]) + (" …" if len(operations) > MAX_FINDINGS_SHOWN else "")
        where = f"\nSeen in {len(operations)} operations: {shown}."
    title = first.title if len(operations) <= 1 else _OPERATION_SUFFIX.sub("", first.title)
    return Violation(
        title=title + times,
        message=first.message + where,
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
    except (ValueError, RecursionError):  # hostile nesting a client sent: no message to judge, and no crash
        return []
    return _listed(document)


def _client_id(messages: Iterable[Any]) -> str | None:
    return next((m["clientId"] for m in messages if isinstance(m, dict) and isinstance(m.get("clientId"), str)), None)


def _listed(document: Any) -> list[Any]:
    return document if isinstance(document, list) else [document] if document is not None else []
