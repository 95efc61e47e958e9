"""State machines of the reference server: agent state, calls, e-mail, chat, workbins.

Pure Python, no I/O: the store holds the instances and the HTTP layer turns a refusal into a reply.
Every machine has the same face:

    machine.state                  the current state name
    machine.capabilities()         exactly the wire operationNames that would succeed now
    machine.apply(op, **attrs)     -> list of (user_id, topic, data) notifications to publish

A refusal is an exception and leaves the machine (and everything it touches) unchanged:

    ModelError
     ├── MissingAttribute     statusCode 1  a required attribute is absent
     └── InvalidOperation     statusCode 2  unknown operation, not valid in this state, bad value or type

``apply`` checks in this order, so that each refusal has one statusCode whatever the state (E13):
an unknown operationName (2); a required attribute absent or null (1, from the machine's REQUIRED
table -- GWS-CALL-028 grades a missing attribute as 1 in any state); the operation not valid now
(2, not in capabilities()); then the attribute values (wrong type, bad value: 2).
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "PHONE_CHARACTERS",
    "Context",
    "InvalidOperation",
    "Machine",
    "MissingAttribute",
    "ModelError",
    "Notification",
    "check_phone_number",
    "counter_ids",
    "last_path_segment",
    "optional",
    "require",
]

Notification = tuple[str, str, dict[str, Any]]
"""(user_id, topic, data): one CometD message for one user; the bus wraps it in a Bayeux envelope."""


class ModelError(Exception):
    """An operation the model refuses; ``status_code`` is the GWS statusCode of the reply."""

    status_code: ClassVar[int] = 2


class MissingAttribute(ModelError):
    status_code = 1


class InvalidOperation(ModelError):
    status_code = 2


@dataclass(frozen=True)
class Context:
    """What every machine needs from outside: time and fresh ids, injected so tests are deterministic."""

    clock: Callable[[], float] = time.time
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)


def counter_ids(prefix: str = "id") -> Callable[[], str]:
    """Deterministic id generator for tests and fixtures: ``id1``, ``id2``, ..."""
    counter = itertools.count(1)
    return lambda: f"{prefix}{next(counter)}"


class Machine:
    """Table-driven dispatch shared by every state machine.

    A subclass declares ``TABLE`` (state -> operations that state allows, in capability order),
    ``REQUIRED`` (operation -> attributes it cannot do without) and, for operations that depend on
    more than the state, a guard method ``_can_<Operation>``. The
    handler of an operation is the method ``_op_<Operation>``; it validates its attributes before it
    changes anything, so a refusal never leaves a half-applied change behind.
    """

    TABLE: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    REQUIRED: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    state: str

    def operations(self) -> tuple[str, ...]:
        """Every operation this kind of machine knows, in any state (a custom state adds its own)."""
        seen: dict[str, None] = {}
        for ops in self.TABLE.values():
            seen.update(dict.fromkeys(ops))
        return tuple(seen)

    def capabilities(self) -> list[str]:
        return [op for op in self.TABLE.get(self._row(), ()) if self._guard(op)]

    def _row(self) -> str:
        """The TABLE row that applies now: the state, unless a machine reads it with more context."""
        return self.state

    def apply(self, operation_name: str, **attributes: Any) -> list[Notification]:
        if operation_name not in self.operations():
            raise InvalidOperation(f"unknown operation {operation_name!r}")
        for name in self.REQUIRED.get(operation_name, ()):
            if attributes.get(name) is None:
                raise MissingAttribute(f"{operation_name} needs the attribute {name!r}")
        if operation_name not in self.capabilities():
            raise InvalidOperation(
                f"{operation_name} is not valid in state {self.state} ({self._why_not(operation_name)})"
            )
        return self._handler(operation_name)(**attributes)

    def _guard(self, operation_name: str) -> bool:
        guard = getattr(self, f"_can_{operation_name}", None)
        return True if guard is None else bool(guard())

    def _why_not(self, operation_name: str) -> str:
        if operation_name in self.TABLE.get(self._row(), ()):
            return "its precondition does not hold"
        return f"allowed: {', '.join(self.capabilities()) or 'nothing'}"

    def _handler(self, operation_name: str) -> Callable[..., list[Notification]]:
        handler: Callable[..., list[Notification]] = getattr(self, f"_op_{operation_name}")
        return handler


_MISSING = object()


def require(attributes: Mapping[str, Any], name: str, kind: type | tuple[type, ...] = str) -> Any:
    """A required attribute: absent or null -> statusCode 1, wrong JSON type or blank -> statusCode 2."""
    value = attributes.get(name, _MISSING)
    if value is _MISSING or value is None:
        raise MissingAttribute(f"missing required attribute {name!r}")
    return _typed(name, value, kind)


def optional(
    attributes: Mapping[str, Any],
    name: str,
    kind: type | tuple[type, ...] = str,
    default: Any = None,
    *,
    blank_ok: bool = False,
) -> Any:
    """An optional attribute (absent or null -> ``default``); ``blank_ok`` for text such as an indent."""
    value = attributes.get(name)
    return default if value is None else _typed(name, value, kind, blank_ok)


def _typed(name: str, value: Any, kind: type | tuple[type, ...], blank_ok: bool = False) -> Any:
    # bool is an int in Python but not in JSON: never let true pass for a number.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, (int,))):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InvalidOperation(f"attribute {name!r} must be a {expected}, got {type(value).__name__}")
    if isinstance(value, str) and not blank_ok and not value.strip():
        raise InvalidOperation(f"attribute {name!r} must not be empty")
    return value


def last_path_segment(uri: str) -> str:
    """The id at the end of a resource uri (``.../me/calls/abc`` -> ``abc``); a bare id passes through."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


# A destination is a number someone could dial: digits with the usual separators, an optional
# leading "+". The seed gives no grammar; this rejects what is plainly not a number (letters, empty).
PHONE_CHARACTERS = frozenset("0123456789+*#-(). ")


def check_phone_number(name: str, value: str) -> str:
    if not any(c.isdigit() for c in value) or not set(value) <= PHONE_CHARACTERS:
        raise InvalidOperation(f"attribute {name!r} is not a phone number: {value!r}")
    return value


def destination(attributes: Mapping[str, Any]) -> str:
    """The number of a ``destination`` attribute: a string or ``{"phoneNumber": "..."}`` (E50)."""
    value = require(attributes, "destination", (str, dict))
    if isinstance(value, dict):
        value = require(value, "phoneNumber")
    return check_phone_number("destination", value)
