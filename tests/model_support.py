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
                              snapshot: Callable[[World], Any]) -> None:
    """Every operation in capabilities() succeeds on a copy of the world; every other one is
    refused with statusCode 2 and leaves the world as it was.

    ``world`` is everything the machine touches (deep-copied per operation), ``locate`` finds the
    machine in a copy, ``attributes_for`` gives valid attributes for an operation, ``snapshot``
    renders the world for comparison.
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
            notifications = target.apply(operation, **attributes_for(target, operation))
            assert_notifications_valid(notifications)
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


def _validator() -> Callable[[str, dict[str, Any]], list[str]] | None:
    try:
        from conformance.notifications import validate_notification
    except ImportError:  # written by the notification engineer; absent in an early checkout
        return None
    return validate_notification  # type: ignore[no-any-return]


def assert_notifications_valid(notifications: Iterable[Notification]) -> None:
    validate = _validator()
    if validate is None:
        return
    for user_id, topic, data in notifications:
        assert isinstance(user_id, str) and user_id
        problems = validate(topic, data)
        assert not problems, f"{topic} message fails its schema: {problems}\n{data}"
