"""What the model tests share: the exact-capabilities property and notification schema checks."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import pytest

from reference_impl.model import InvalidOperation, Machine, Notification

World = TypeVar("World")


def assert_capabilities_exact(world: World, locate: Callable[[World], Machine],
                              attributes_for: Callable[[Machine, str], dict[str, Any]],
                              snapshot: Callable[[World], Any],
                              seen_states: Callable[[World], dict[tuple[str, str], str]] | None = None) -> None:
    """Every operation in capabilities() succeeds on a copy of the world; every other one is
    refused with statusCode 2 and leaves the world as it was.

    ``world`` is everything the machine touches (deep-copied per operation), ``locate`` finds the
    machine in a copy, ``attributes_for`` gives valid attributes for an operation, ``snapshot``
    renders the world for comparison, ``seen_states`` tells which state each (user, interaction id)
    was last shown in (what a listener knows when it classifies the next message).
    """
    machine = locate(world)
    capabilities = machine.capabilities()
    assert len(set(capabilities)) == len(capabilities), f"duplicate capabilities: {capabilities}"
    assert set(capabilities) <= set(machine.operations())
    for operation in machine.operations():
        clone = copy.deepcopy(world)
        target = locate(clone)
        before = snapshot(clone)
        if operation in capabilities:
            seen = seen_states(clone) if seen_states else {}
            notifications = target.apply(operation, **attributes_for(target, operation))
            assert_notifications_valid(notifications, seen)
        else:
            with pytest.raises(InvalidOperation):
                target.apply(operation, **attributes_for(target, operation))
            assert snapshot(clone) == before, f"refused {operation} changed the world"


def assert_refused_unchanged(world: World, snapshot: Callable[[World], Any], action: Callable[[], object],
                             error: type[Exception], words: str = "") -> None:
    before = snapshot(world)
    with pytest.raises(error) as refused:
        action()
    assert words.lower() in str(refused.value).lower()
    assert snapshot(world) == before


def _validator() -> Callable[..., list[str]] | None:
    try:
        from conformance.notifications import validate_notification
    except ImportError:  # written by the notification engineer; absent in an early checkout
        return None
    return validate_notification  # type: ignore[no-any-return]


def assert_notifications_valid(notifications: Iterable[Notification],
                               seen_states: dict[tuple[str, str], str] | None = None) -> None:
    """Each message keeps the schema of its kind. ``seen_states`` ((user, interaction id) -> state of
    the previous message, updated here) is what tells ChatAccepted from ChatNotification."""
    validate = _validator()
    seen = {} if seen_states is None else seen_states
    for user_id, topic, data in notifications:
        assert isinstance(user_id, str) and user_id
        key = (user_id, str(data.get("id")))
        if validate is not None:
            problems = validate(topic, data, previous_state=seen.get(key))
            assert not problems, f"{topic} message fails its schema: {problems}\n{data}"
        if topic == "/v2/me/interactions":
            seen[key] = data["state"]
