"""What the model tests share: the exact-capabilities property and notification schema checks."""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterable
from typing import Any, TypeVar

import pytest

from conformance.habits import notification_breaches
from conformance.notifications import validate_notification
from reference_impl.model import InvalidOperation, Machine, Notification

World = TypeVar("World")


def assert_capabilities_exact(
    world: World,
    locate: Callable[[World], Machine],
    attributes_for: Callable[[Machine, str], dict[str, Any]],
    snapshot: Callable[[World], Any],
    seen_states: Callable[[World], dict[tuple[str, str], str]] | None = None,
) -> None:
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


def assert_refused_unchanged(
    world: World,
    snapshot: Callable[[World], Any],
    action: Callable[[], object],
    error: type[Exception],
    words: str = "",
) -> None:
    before = snapshot(world)
    with pytest.raises(error) as refused:
        action()
    assert words.lower() in str(refused.value).lower()
    assert snapshot(world) == before


def assert_notifications_valid(
    notifications: Iterable[Notification], seen_states: dict[tuple[str, str], str] | None = None
) -> None:
    """Each message keeps the schema of its kind. ``seen_states`` ((user, interaction id) -> state of
    the previous message, updated here) is what tells ChatAccepted from ChatNotification."""
    seen = {} if seen_states is None else seen_states
    for user_id, topic, data in notifications:
        assert isinstance(user_id, str) and user_id
        key = (user_id, str(data.get("id")))
        problems = validate_notification(topic, data, previous_state=seen.get(key))
        problems += [breach.line() for breach in notification_breaches(topic, data)]
        assert not problems, f"{topic} message fails its schema: {problems}\n{data}"
        if topic == "/v2/me/interactions":
            seen[key] = data["state"]


# -- a contact center for the interaction machines --------------------------------------------------


class FakeRouting:
    """Agents agent1..agent4 (nicknames Agent1..), queues of the fixture; ``ready`` says who routing may pick."""

    def __init__(self) -> None:
        self.agents = ["agent1", "agent2", "agent3", "agent4"]
        self.ready: set[str] = set(self.agents)
        self.queues = {"SimpleEmailInQueue", "SimpleEmailOutQueue", "SimpleChatInQueue"}

    def is_agent(self, user_id: str) -> bool:
        return user_id in self.agents

    def next_ready(self, channel: str, exclude: Collection[str]) -> str | None:
        return next((a for a in self.agents if a in self.ready and a not in exclude), None)

    def nickname(self, user_id: str) -> str:
        return user_id.capitalize()

    def has_queue(self, name: str) -> bool:
        return name in self.queues


class Office:
    """The world of the interaction tests: registry, routing and each agent's TestWorkbin."""

    def __init__(self) -> None:
        from reference_impl.model import Context, counter_ids
        from reference_impl.model.interaction import ContactCenter
        from reference_impl.model.workbin import Workbin

        self.routing = FakeRouting()
        self.interactions: dict[str, Any] = {}
        self.workbins = {agent: Workbin("TestWorkbin", agent, self.interactions) for agent in self.routing.agents}
        self.center = ContactCenter(
            Context(lambda: 1374277382.0, counter_ids("ix")), self.routing, self.interactions, self.find_workbin
        )

    def find_workbin(self, owner: str, name: str) -> Any:
        workbin = self.workbins.get(owner)
        return workbin if workbin is not None and name in (workbin.id, workbin.name) else None

    def snapshot(self) -> Any:
        """Everything an operation could change, as plain data."""
        return (
            {i: _describe(x) for i, x in self.interactions.items()},
            {a: (w.state, list(w.items)) for a, w in self.workbins.items()},
        )

    def seen_states(self) -> dict[tuple[str, str], str]:
        """(user, interaction id) -> the state that user last saw (what a listener would know)."""
        seen = {}
        for interaction in self.interactions.values():
            for user in self.routing.agents:
                view = interaction.view_for(user)
                if view is not None:
                    seen[(user, interaction.id)] = view.state
        return seen


def _describe(interaction: Any) -> dict[str, Any]:
    described = {
        name: copy.deepcopy(getattr(interaction, name, None))
        for name in (
            "state",
            "owner",
            "current_queue",
            "user_data",
            "content",
            "attachments",
            "rejected_by",
            "events",
            "invitation",
            "conference",
            "closed",
            "customer_present",
        )
    }
    described["workbin"] = getattr(getattr(interaction, "workbin", None), "name", None)
    described["views"] = {u: (v.state, v.party_id) for u, v in getattr(interaction, "views", {}).items()}
    return described
