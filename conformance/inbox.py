"""What one user receives during one scenario: expected in order, checked against its schema, nothing else.

A scenario opens an ``Inbox`` on a user's listener before its first step; from then on every message
that user receives must be claimed by an expectation:

    inbox = Inbox(listener, settings)
    agent.ready()
    inbox.expect("/v2/me/devices", lambda d: state_of(d) == "Ready", "the devices Ready")
    ...
    inbox.assert_quiet()   # nothing unclaimed arrived (no duplicate, no stray), within the quiet window

``expect`` takes the first unclaimed matching message after the last one claimed on the same topic,
so the messages of one topic must come in the order the scenario expects them; a message it skips
stays unclaimed and fails ``assert_quiet``. A claimed message that breaks its schema fails the step
(MUST, GWS-GEN-007 and the scenario's requirements about that kind of message). Before its schema, every
claimed or allowed message is held to the habits real clients rely on (conformance.habits): a call or
interaction without a capabilities array fails the step under its own requirement (GWS-CALL-032,
GWS-IXN-024), a message without messageType is a warning (GWS-NOTIF-009). Only one window is
spent per ``assert_quiet`` call, whatever the number of topics. Messages the contract leaves to the
server (it may send them or not) are let through by ``allow``, never by waiting to see.

Why one window per scenario is enough: ``assert_quiet`` judges every unclaimed message since the inbox
opened, not only those since the last check, and every message must be claimed by exactly one
expectation. So a check between steps judges what has arrived without waiting (``window_s=0``) and the
scenario's last check waits the window for anything late: a stray or duplicated message leaves at
least one message unclaimed (one more message than expectations), even when a later expectation
claims the stray in place of the real message, which then stays unclaimed. CometD delivers one
client's messages in order, so once a later expected message has arrived, whatever was published
before it has too. What a late stray loses is the step it is blamed on; the failure still shows the
message itself, with its index and time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from conformance import contract, findings, habits
from conformance.cometd import ExpectationFailed, NotificationListener, NotificationRecord, QuietnessBroken
from conformance.config import Settings
from conformance.delivery import DeliveryClock
from conformance.failures import Level, Violation
from conformance.notifications import classify

__all__ = ["Inbox", "NotificationEvidence"]

Predicate = Callable[[dict[str, Any]], bool]
SCHEMA_REQUIREMENT = "GWS-GEN-007"


@dataclass(frozen=True)
class NotificationEvidence:
    """A received message as failure evidence (the Evidence protocol of conformance.failures)."""

    record: NotificationRecord

    @property
    def seq(self) -> int:
        return self.record.index

    def render(self) -> str:
        return "notification " + self.record.describe()

    def to_dict(self) -> dict[str, Any]:
        r = self.record
        return {
            "kind": "notification",
            "index": r.index,
            "user": r.user,
            "topic": r.topic,
            "received_at": r.received_at.isoformat(),
            "data": r.data,
            "schema_errors": list(r.schema_errors),
        }


@dataclass(frozen=True)
class _Allowance:
    """Messages the server may send or not: those on ``topic`` that satisfy ``predicate``, within indexes."""

    topic: str
    predicate: Predicate
    after: int
    before: int | None

    def covers(self, record: NotificationRecord) -> bool:
        return (
            record.topic == self.topic
            and self.after <= record.index
            and (self.before is None or record.index < self.before)
            and _holds(self.predicate, record.data)
        )


class Inbox:
    """One user's messages from now on, claimed by expectations."""

    def __init__(
        self,
        listener: NotificationListener,
        settings: Settings | None = None,
        *,
        topics: Iterable[str] | None = None,
        ignore: Predicate | None = None,
        timeout_s: float | None = None,
        quiet_window_s: float | None = None,
        clock: DeliveryClock | None = None,
    ) -> None:
        """``topics``: the topics watched (default: all the listener subscribed); ``ignore``: messages
        that belong to someone else's business (e.g. /v2/users messages about other users); ``clock``: the
        run's measured delivery, which each expected message feeds and which sizes the quiet window (unless
        ``quiet_window_s`` is given)."""
        self.listener = listener
        self.topics = tuple(topics if topics is not None else listener.topics)
        self.ignore = ignore
        self.timeout_s = timeout_s or (settings.notification_timeout_s if settings else 10.0)
        self._quiet_window_s = quiet_window_s
        self._configured_window_s = settings.quiet_window_s if settings else 2.0
        self.clock = clock
        self.mark = listener.mark()
        self._claimed: list[NotificationRecord] = []
        self._cursor: dict[str, int] = {}
        self._allowances: list[_Allowance] = []

    @property
    def user(self) -> str:
        return self.listener.user

    @property
    def quiet_window_s(self) -> float:
        """The window a quiet check would wait now: as given, else sized by the clock, else as configured."""
        if self._quiet_window_s:
            return self._quiet_window_s
        return self.clock.window_s() if self.clock is not None else self._configured_window_s

    def spend_window(self) -> float:
        """``quiet_window_s``, recorded as spent by the clock (the report's distribution of windows)."""
        if self._quiet_window_s or self.clock is None:
            return self.quiet_window_s
        return self.clock.spend()

    def _unclaimed(self, data: dict[str, Any]) -> bool:
        if any(record.data is data for record in self._claimed):
            return False
        if self.ignore is not None and _holds(self.ignore, data):
            return False
        if any(_holds(a.predicate, data) for a in self._allowances):  # then whether it is within their range
            return not any(record.data is data for record in self._allowed())
        return True

    def _allowed(self) -> list[NotificationRecord]:
        return [r for r in self.listener.records(after=self.mark) if any(a.covers(r) for a in self._allowances)]

    def allow(self, topic: str, predicate: Predicate, *, after: int | None = None, before: int | None = None) -> None:
        """Messages the server may send or not (the contract leaves it to the server): those on ``topic`` that
        satisfy ``predicate``, with listener index ``after`` <= index < ``before`` (default: since the inbox
        opened, no end), count as claimed, whether already here or still to come; their schema is judged by
        ``assert_quiet``. Keep it narrow (one object's id, an index range): what it lets through cannot be
        caught as a stray."""
        self._allowances.append(_Allowance(topic, predicate, self.mark if after is None else after, before))

    def expect(
        self,
        topic: str,
        predicate: Predicate = lambda data: True,
        description: str = "a message",
        *,
        timeout_s: float | None = None,
        in_order: bool = True,
    ) -> NotificationRecord:
        """Claim the next message on ``topic`` that satisfies ``predicate``; fail the step if none comes."""
        after = self._cursor.get(topic, self.mark) if in_order else self.mark
        full_s = timeout_s or self.timeout_s
        clock = self.clock
        try:
            record = self.listener.expect(
                topic,
                lambda data: self._unclaimed(data) and predicate(data),
                timeout_s=full_s,
                after=after,
                description=description,
                # Shortened, even while it waits, once an expectation on the topic has failed anywhere in the run.
                timeout_of=None if clock is None else lambda: clock.expect_timeout_s(topic, full_s),
            )
        except ExpectationFailed as missing:
            waited_s = full_s if clock is None else clock.expect_timeout_s(topic, full_s)
            if clock is not None:
                clock.missed(topic)
            shortened = (
                f"\n(waited {waited_s:g} s, not {full_s:g} s: an expectation on {topic} in this run had timed out)"
                if waited_s < full_s
                else ""
            )
            raise Violation(
                title=f"{self.user}: no {description} on {topic}",
                message=str(missing) + shortened,
                requirement_ids=_ids_for(topic, None),
                level=Level.MUST,
                evidence=[NotificationEvidence(r) for r in missing.received[-20:]],
                check="notification_expected",
            ) from None
        self._claimed.append(record)
        self._cursor[topic] = record.index + 1
        if self.clock is not None:
            self.clock.observe(record.monotonic)
        _judge(record)
        return record

    def expect_sequence(self, topic: str, steps: Sequence[tuple[str, Predicate]]) -> list[NotificationRecord]:
        """Claim one message per (description, predicate), in this order."""
        return [self.expect(topic, predicate, description) for description, predicate in steps]

    def assert_quiet(self, topics: Iterable[str] | None = None, *, window_s: float | None = None) -> None:
        """Nothing unclaimed arrived on the watched topics since the inbox opened, nor within the window."""
        deadline = time.monotonic() + (window_s if window_s is not None else self.spend_window())
        for topic in topics if topics is not None else self.topics:
            try:
                self.listener.assert_quiet(
                    topic,
                    self._unclaimed,
                    window_s=max(deadline - time.monotonic(), 0.0),
                    after=self.mark,
                    description="no message the scenario did not expect",
                )
            except QuietnessBroken as stray:
                raise Violation(
                    title=f"{self.user}: unexpected or duplicated message on {topic}",
                    message=str(stray),
                    requirement_ids=_ids_for(topic, stray.offending[0].data if stray.offending else None),
                    level=Level.MUST,
                    evidence=[NotificationEvidence(r) for r in stray.offending],
                    check="notification_quiet",
                ) from None
        for record in self._allowed():
            _judge(record)

    def claimed(self, topic: str | None = None) -> list[NotificationRecord]:
        return [r for r in self._claimed if topic is None or r.topic == topic]


def _holds(predicate: Predicate, data: dict[str, Any]) -> bool:
    try:
        return bool(predicate(data))
    except (KeyError, TypeError, IndexError, AttributeError, ValueError):
        return False


def _judge(record: NotificationRecord) -> None:
    # The habits first: a Released call without capabilities is valid against call.json, and an interaction
    # without them breaks its kind's schema too; either way the failure names the rule clients depend on.
    for breach in habits.notification_breaches(record.topic, record.data):
        violation = Violation(
            title=f"{record.user}: {breach.title}",
            message=breach.detail,
            requirement_ids=(breach.requirement,),
            level=breach.level,
            evidence=[NotificationEvidence(record)],
            check="client_habit",
        )
        if breach.level is Level.MUST:
            raise violation
        findings.warn(violation)
    _judge_schema(record)


def _judge_schema(record: NotificationRecord) -> None:
    if not record.schema_errors:
        return
    raise Violation(
        title=f"{record.user}: a message on {record.topic} breaks its schema",
        message="\n".join(record.schema_errors),
        requirement_ids=(SCHEMA_REQUIREMENT, *_ids_for(record.topic, record.data)),
        level=Level.MUST,
        evidence=[NotificationEvidence(record)],
        check="notification_schema",
    )


def _ids_for(topic: str, data: dict[str, Any] | None) -> tuple[str, ...]:
    """The running test's requirements about the kinds of message ``topic`` carries (else all of them).

    The client-habit rules are left out: only their own check names them (``_judge``), so a late or
    malformed message never reads as a missing capabilities array or messageType."""
    mine = tuple(i for i in findings.requirement_ids() if i not in habits.RULES)
    entry = contract.topics().get(topic, {})
    kinds = set(entry.get("kinds", {}))
    if data is not None and (kind := classify(topic, data)) is not None:
        kinds = {kind}
    about = {r["id"] for r in contract.requirements() if kinds & set(r.get("notifications") or ())}
    chosen = tuple(i for i in mine if i in about)
    return chosen or mine
