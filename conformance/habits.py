"""What real clients rely on in every call, interaction and message, whatever its kind (E82, E83).

The schemas of spec/notifications/ judge what the seed defines per kind, and their failures name
GWS-GEN-007 and the kind's requirements. The rules here hold across kinds and states, and each names
its own requirement and the client habit it protects, so a report says which client a server breaks:

- GWS-CALL-032 / GWS-IXN-024 (MUST): every call (REST and /v2/me/calls) and every interaction on
  /v2/me/interactions carries ``capabilities`` as an array, ``[]`` when nothing is possible; clients
  iterate it on every message, Released and Revoked included, and crash on a missing one.
- GWS-NOTIF-009 (SHOULD): every data message names its type in ``messageType``; clients dispatch
  every message on ``data.messageType``.

The suite applies them where it judges what it receives (conformance.inbox, conformance.checks.capabilities);
the reference's own tests apply them to everything the reference publishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.failures import Level

__all__ = [
    "CALLS",
    "INTERACTIONS",
    "RULES",
    "Breach",
    "calls_without_capabilities",
    "capabilities_breach",
    "message_type_breach",
    "notification_breaches",
]

CALLS = "/v2/me/calls"
INTERACTIONS = "/v2/me/interactions"
CALL_CAPABILITIES = "GWS-CALL-032"
INTERACTION_CAPABILITIES = "GWS-IXN-024"
MESSAGE_TYPE = "GWS-NOTIF-009"
RULES = frozenset({CALL_CAPABILITIES, INTERACTION_CAPABILITIES, MESSAGE_TYPE})

ITERATES = "a client that iterates capabilities crashes"
DISPATCHES = "a client that dispatches on data.messageType throws or drops it"


@dataclass(frozen=True)
class Breach:
    """One broken client habit: the requirement, its level, a title naming the habit, the detail."""

    requirement: str
    level: Level
    title: str
    detail: str

    def line(self) -> str:
        return f"{self.requirement}: {self.title}: {self.detail}"


def _capabilities_gap(item: Mapping[str, Any]) -> str | None:
    """What is wrong with ``item``'s capabilities (None: an array, as clients need)."""
    if "capabilities" not in item:
        return "without capabilities"
    if not isinstance(item["capabilities"], list):
        return f"whose capabilities is {type(item['capabilities']).__name__}, not an array"
    return None


def _object_breach(requirement: str, what: str, item: Mapping[str, Any], where: str) -> Breach | None:
    gap = _capabilities_gap(item)
    if gap is None:
        return None
    state = item.get("state")
    shown = state if isinstance(state, str) and state else "stateless"
    return Breach(
        requirement,
        Level.MUST,
        f"{shown} {what} {gap}: {ITERATES}",
        f"{where}: {what} {item.get('id')!r} in state {state!r} carries "
        f"{'no capabilities' if 'capabilities' not in item else repr(item['capabilities'])}; every {what} carries "
        "capabilities as an array in every state, [] when nothing is possible (E82).",
    )


def capabilities_breach(topic: str, data: Any) -> Breach | None:
    """A call (in the ``call`` member of a /v2/me/calls message) or an interaction (a /v2/me/interactions
    message) without a capabilities array; None on other topics and on messages that carry no call."""
    if not isinstance(data, Mapping):
        return None
    if topic == CALLS:
        call = data.get("call")
        return _object_breach(CALL_CAPABILITIES, "call message", call, topic) if isinstance(call, Mapping) else None
    if topic == INTERACTIONS:
        return _object_breach(INTERACTION_CAPABILITIES, "interaction message", data, topic)
    return None


def calls_without_capabilities(body: Any, operation: str) -> Breach | None:
    """The first call of a GET /me/calls?fields=* (``calls``) or GET /me/calls/{id} (``call``) reply
    without a capabilities array; a list of uris carries no call object and passes."""
    if not isinstance(body, Mapping):
        return None
    listed = body.get("calls")
    calls = [c for c in listed if isinstance(c, Mapping)] if isinstance(listed, list) else []
    if isinstance(body.get("call"), Mapping):
        calls.append(body["call"])
    return next(
        (breach for call in calls if (breach := _object_breach(CALL_CAPABILITIES, "call", call, operation))), None
    )


def message_type_breach(topic: str, data: Any) -> Breach | None:
    """A data message (a /v2/ topic) that does not name its type in a non-empty string messageType."""
    if not topic.startswith("/v2/") or not isinstance(data, Mapping):
        return None
    value = data.get("messageType")
    if isinstance(value, str) and value:
        return None
    has = "no messageType" if "messageType" not in data else f"messageType {value!r}"
    alternative = f" (only messageTypeName {data['messageTypeName']!r})" if "messageTypeName" in data else ""
    return Breach(
        MESSAGE_TYPE,
        Level.SHOULD,
        f"A message on {topic} without messageType: {DISPATCHES}",
        f"{topic}: the message carries {has}{alternative}; every data message SHOULD name its type in "
        "messageType, on every topic (E83).",
    )


def notification_breaches(topic: str, data: Any) -> list[Breach]:
    """Every client habit a message on ``topic`` breaks, MUST first."""
    found = [capabilities_breach(topic, data), message_type_breach(topic, data)]
    return [breach for breach in found if breach is not None]
