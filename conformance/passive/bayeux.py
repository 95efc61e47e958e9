"""The Bayeux side of passive judging: every message of long-polling bodies and websocket frames.

Each message a server sent is held to what spec/topics.yaml and spec/notifications/ say of its channel, as the
suite's listeners hold what they receive (conformance.notifications, conformance.habits); a meta request's reply
must echo its channel and id. Traffic also proves what a single message cannot, per CometD session (clientId):

- a message on a topic the session never subscribed to (a session whose handshake is in the traffic: one that
  began before the recording may have subscribed unseen) breaks GWS-NOTIF-007;
- the same message (channel and id) delivered twice to a session, or a call leg reported again in a live state
  after it was Released, is a sequence the server broke (GWS-GEN-031, GWS-GEN-032).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance import contract, habits
from conformance.checks.http import is_json_media_type
from conformance.failures import Evidence, Level, Violation
from conformance.notifications import validate_notification
from conformance.passive.verdict import Verdict

__all__ = [
    "CALL_LEG_REQUIREMENT",
    "DUPLICATE_REQUIREMENT",
    "BayeuxJudge",
    "MessageEvidence",
]

SCHEMA_REQUIREMENT = "GWS-GEN-007"
ENVELOPE_REQUIREMENT = "GWS-NOTIF-001"
SUBSCRIBED_REQUIREMENT = "GWS-NOTIF-007"
META_ID_REQUIREMENT = "GWS-COMETD-012"
LABEL_REQUIREMENT = "GWS-COMETD-018"
CALL_LEG_REQUIREMENT = "GWS-GEN-031"
DUPLICATE_REQUIREMENT = "GWS-GEN-032"
CALLS = "/v2/me/calls"
INTERACTIONS = "/v2/me/interactions"


@dataclass(frozen=True)
class MessageEvidence:
    """A Bayeux message as evidence: which exchange (or websocket frame) carried it, and the message."""

    seq: int
    where: str  # "POST http://.../notifications (websocket frame 3)"
    user: str | None
    message: Any

    def render(self) -> str:
        shown = json.dumps(_bounded(self.message), ensure_ascii=False)
        return f"#{self.seq} {self.user or 'anonymous'} {self.where}: {shown[:2000]}"

    def to_dict(self) -> dict[str, Any]:
        message = _bounded(self.message)
        data = message.get("data") if isinstance(message, dict) else None
        return {
            "kind": "notification",
            "index": self.seq,
            "user": self.user,
            "topic": self.message.get("channel") if isinstance(self.message, dict) else None,
            "received_at": None,
            "where": self.where,
            "data": data if isinstance(data, dict) else message,
            "schema_errors": [],
        }


# Evidence is copied, written as JSON and shown: each walks the message recursively, so a message nested as deep as
# Python's parser allows (a hostile client's, some hundreds of levels) is cut here, far below the recursion limit.
EVIDENCE_DEPTH = 32


def _bounded(value: Any, depth: int = EVIDENCE_DEPTH) -> Any:
    """``value`` with whatever lies deeper than ``depth`` levels replaced by a note saying so."""
    if not isinstance(value, dict | list):
        return value
    if depth == 0:
        return f"[nested deeper than {EVIDENCE_DEPTH} levels: not shown]"
    if isinstance(value, dict):
        return {key: _bounded(item, depth - 1) for key, item in value.items()}
    return [_bounded(item, depth - 1) for item in value]


@dataclass
class _Session:
    user: str | None
    handshake_seen: bool
    subscriptions: set[str] = field(default_factory=set)
    delivered: dict[tuple[str, str], MessageEvidence] = field(default_factory=dict)
    call_states: dict[str, str] = field(default_factory=dict)  # call id -> last state
    interaction_states: dict[str, str] = field(default_factory=dict)  # id -> last state (ChatAccepted or Notification)


class BayeuxJudge:
    """Judges Bayeux traffic in the order it happened; keeps what it learnt of every session."""

    def __init__(self) -> None:
        self._sessions: dict[str, _Session] = {}

    def judge_batch(
        self,
        requests: Sequence[Any],
        replies: Sequence[Any],
        *,
        seq: int,
        where: str,
        user: str | None,
        http_evidence: Evidence | None,
        client_id: str | None = None,
    ) -> list[Verdict]:
        """The ``replies`` a server sent for ``requests`` (one long-polling exchange, or the frames of a websocket
        between two client frames); ``client_id``: the session when the requests do not name it."""
        verdicts: list[Verdict] = []
        session_id = client_id or _client_id(requests)
        for index, reply in enumerate(replies):
            evidence = MessageEvidence(seq, f"{where} reply {index}", user, reply)
            support = [evidence, *([http_evidence] if http_evidence is not None else [])]
            channel = reply.get("channel") if isinstance(reply, dict) else None
            if not isinstance(channel, str) or channel.startswith("/meta/"):
                verdicts += self._meta(reply, requests, user, support)
                if isinstance(reply, dict) and reply.get("channel") == "/meta/handshake":
                    session_id = _handshake_client(reply) or session_id
            else:
                verdicts += self._delivery(channel, reply, session_id, user, support)
        return verdicts

    def judge_label(self, content_type: str | None, evidence: Evidence) -> Verdict:
        """A long-polling reply's Content-Type (GWS-COMETD-018, SHOULD)."""
        if is_json_media_type(content_type):
            return Verdict("bayeux_content_type", (LABEL_REQUIREMENT,))
        return Verdict(
            "bayeux_content_type",
            (LABEL_REQUIREMENT,),
            Violation(
                title="A Bayeux reply is not labelled as JSON",
                message=f"The notifications endpoint answered a JSON body with Content-Type {content_type or 'absent'!r};"
                " clients that read Bayeux replies as JSON by their label refuse it (E80).",
                requirement_ids=(LABEL_REQUIREMENT,),
                level=Level.SHOULD,
                evidence=[evidence],
                check="bayeux_content_type",
            ),
        )

    # -- meta replies ------------------------------------------------------------------------------------

    def _meta(self, reply: Any, requests: Sequence[Any], user: str | None, support: list[Evidence]) -> list[Verdict]:
        channel = reply.get("channel") if isinstance(reply, dict) else None
        if not isinstance(channel, str) or channel not in contract.topics():
            problems = validate_notification("/**", reply)
            requirements = (ENVELOPE_REQUIREMENT,)
            return [
                _verdict("bayeux_envelope", requirements, problems, "A Bayeux message breaks the envelope", support)
            ]
        requirements = (SCHEMA_REQUIREMENT,)
        problems = validate_notification(channel, reply)
        verdicts = [
            _verdict("meta_reply_schema", requirements, problems, f"A {channel} reply breaks its schema", support)
        ]
        asked = [r for r in requests if isinstance(r, dict) and r.get("channel") == channel]
        if asked and isinstance(asked[0].get("id"), str):
            ids = {r.get("id") for r in asked}
            echoed = (
                []
                if reply.get("id") in ids
                else [f"the reply has id {reply.get('id')!r}; sent {sorted(str(i) for i in ids)}"]
            )
            verdicts.append(
                _verdict(
                    "meta_reply_id", (META_ID_REQUIREMENT,), echoed, f"A {channel} reply does not echo its id", support
                )
            )
        if channel == "/meta/handshake" and reply.get("successful") is True:
            client_id = _handshake_client(reply)
            if client_id is not None:
                self._sessions[client_id] = _Session(user, handshake_seen=True)
        if channel == "/meta/subscribe" and reply.get("successful") is True:
            session = self._session(reply.get("clientId") or _client_id(requests), user)
            wanted = reply.get("subscription") or [r.get("subscription") for r in asked]
            session.subscriptions.update(s for s in _strings(wanted))
        if channel == "/meta/unsubscribe" and reply.get("successful") is True:
            session = self._session(reply.get("clientId") or _client_id(requests), user)
            session.subscriptions.difference_update(_strings(reply.get("subscription")))
        return verdicts

    # -- deliveries ---------------------------------------------------------------------------------------

    def _delivery(
        self, channel: str, message: Any, session_id: str | None, user: str | None, support: list[Evidence]
    ) -> list[Verdict]:
        envelope = validate_notification("/**", message)
        verdicts = [
            _verdict(
                "bayeux_envelope",
                (ENVELOPE_REQUIREMENT,),
                envelope,
                f"A message on {channel} breaks the envelope",
                support,
            )
        ]
        data = message.get("data")
        if envelope or not isinstance(data, dict) or "successful" in message:
            return verdicts  # a publish reply, or nothing further to read
        session = self._session(session_id, user)
        if channel in contract.topics():
            # An interaction message is the interaction itself (id, state at the top of data).
            previous = session.interaction_states.get(str(data.get("id"))) if channel == INTERACTIONS else None
            requirements = (SCHEMA_REQUIREMENT,)
            problems = validate_notification(channel, data, previous_state=previous)
            verdicts.append(
                _verdict(
                    "notification_schema", requirements, problems, f"A message on {channel} breaks its schema", support
                )
            )
            verdicts += _habits(channel, data, support)
            if channel == INTERACTIONS and isinstance(data.get("state"), str):
                session.interaction_states[str(data.get("id"))] = data["state"]
        if session_id is not None and session.handshake_seen:
            verdicts.append(self._subscribed(channel, session, support))
        if session_id is not None:
            verdicts.append(self._not_twice(channel, message, session, support))
        if channel == CALLS:
            verdicts += _call_leg(session, data, support)
        return verdicts

    def _subscribed(self, channel: str, session: _Session, support: list[Evidence]) -> Verdict:
        covered = any(_matches(pattern, channel) for pattern in session.subscriptions)
        problems = (
            []
            if covered
            else [
                f"{channel} reached a session that subscribed to {sorted(session.subscriptions) or 'nothing'} since its "
                "handshake"
            ]
        )
        return _verdict(
            "subscribed_topics", (SUBSCRIBED_REQUIREMENT,), problems, "A message on a topic not subscribed to", support
        )

    def _not_twice(
        self, channel: str, message: Mapping[str, Any], session: _Session, support: list[Evidence]
    ) -> Verdict:
        message_id = message.get("id")
        if not isinstance(message_id, str):
            return Verdict("no_duplicate_message", (DUPLICATE_REQUIREMENT,))
        key = (channel, message_id)
        first = session.delivered.get(key)
        if first is None:
            first_seen = support[0]
            if isinstance(first_seen, MessageEvidence):
                session.delivered[key] = first_seen
            return Verdict("no_duplicate_message", (DUPLICATE_REQUIREMENT,))
        problems = [f"message id {message_id!r} on {channel} was delivered before (#{first.seq}, {first.where})"]
        return _verdict(
            "no_duplicate_message", (DUPLICATE_REQUIREMENT,), problems, "A message delivered twice", [first, *support]
        )

    def _session(self, client_id: Any, user: str | None) -> _Session:
        key = client_id if isinstance(client_id, str) else ""
        if key not in self._sessions:
            # Begun before the recording: what it subscribed to is unknown.
            self._sessions[key] = _Session(user, handshake_seen=False)
        return self._sessions[key]


def _call_leg(session: _Session, data: Mapping[str, Any], support: list[Evidence]) -> list[Verdict]:
    call = data.get("call")
    if not isinstance(call, dict) or not isinstance(call.get("id"), str) or not isinstance(call.get("state"), str):
        return []
    call_id, state = call["id"], call["state"]
    previous = session.call_states.get(call_id)
    session.call_states[call_id] = state
    if previous is None:
        return []
    problems = []
    if previous == "Released" and state != "Released":
        problems = [f"call {call_id!r} was reported Released, then {state} on the same leg"]
    return [_verdict("call_leg_states", (CALL_LEG_REQUIREMENT,), problems, "A released call comes back", support)]


def _habits(channel: str, data: Mapping[str, Any], support: list[Evidence]) -> list[Verdict]:
    judged = {habits.MESSAGE_TYPE}
    if channel == habits.CALLS and isinstance(data.get("call"), Mapping):
        judged.add(habits.CALL_CAPABILITIES)
    if channel == habits.INTERACTIONS:
        judged.add(habits.INTERACTION_CAPABILITIES)
    broken = {breach.requirement: breach for breach in habits.notification_breaches(channel, data)}
    verdicts = []
    for requirement in sorted(judged):
        breach = broken.get(requirement)
        violation = None
        if breach is not None:
            violation = Violation(
                title=breach.title,
                message=breach.detail,
                requirement_ids=(requirement,),
                level=breach.level,
                evidence=support,
                check="client_habit",
            )
        verdicts.append(Verdict(f"client_habit.{requirement}", (requirement,), violation))
    return verdicts


def _verdict(
    rule: str, requirements: tuple[str, ...], problems: Sequence[str], title: str, support: Sequence[Evidence]
) -> Verdict:
    if not problems:
        return Verdict(rule, requirements)
    return Verdict(
        rule,
        requirements,
        Violation(
            title=title,
            message="\n".join(problems),
            requirement_ids=requirements,
            level=_level(requirements),
            evidence=support,
            check=rule,
        ),
    )


def _level(requirements: Sequence[str]) -> Level:
    """The catalogue's level of the strongest requirement: a SHOULD rule broken is a warning."""
    levels = {r["id"]: r["level"] for r in contract.requirements()}
    return Level.MUST if any(levels.get(rid, "MUST") == "MUST" for rid in requirements) else Level.SHOULD


def _client_id(messages: Iterable[Any]) -> str | None:
    return next((m["clientId"] for m in messages if isinstance(m, dict) and isinstance(m.get("clientId"), str)), None)


def _handshake_client(reply: Mapping[str, Any]) -> str | None:
    client_id = reply.get("clientId")
    return client_id if isinstance(client_id, str) and client_id else None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _matches(pattern: str, channel: str) -> bool:
    """Bayeux channel globbing: ``/a/*`` one segment below /a, ``/a/**`` any depth."""
    if pattern == channel:
        return True
    if pattern.endswith("/**"):
        return channel.startswith(pattern[:-2])
    if pattern.endswith("/*"):
        prefix = pattern[:-1]
        return channel.startswith(prefix) and "/" not in channel[len(prefix) :]
    return False
