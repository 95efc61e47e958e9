"""What e-mail and chat interactions share: the contact center they live in and the message body.

An interaction is an InteractionStateMessage on /v2/me/interactions; GET /me/interactions?fields=*
returns the same body (seed: Interactions API Operations), so ``Interaction.body`` serves both.

States: the wire states of E18 (Invited, Revoked, Accepted, ReplyCreated, InvitedConference,
LeftConference, Pulled, Queued) and three internal ones for an interaction no agent handles any
more -- ``Stopped`` (StopProcessing), ``Sent`` (Send), ``Cancelled`` (CancelReplyEmail). Internal
states never reach a message (E18 defines no message for those operations); the store leaves such
interactions out of every listing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from . import Context, InvalidOperation, Machine, Notification, optional, require

if TYPE_CHECKING:
    from .workbin import Workbin

__all__ = ["FINISHED", "INTERACTIONS_TOPIC", "ContactCenter", "Interaction", "Routing", "truthy"]

INTERACTIONS_TOPIC = "/v2/me/interactions"
FINISHED = frozenset({"Stopped", "Sent", "Cancelled"})


class Routing(Protocol):
    """What interactions ask the contact center about its agents and queues (the store answers)."""

    def is_agent(self, user_id: str) -> bool: ...
    def next_ready(self, channel: str, exclude: Collection[str]) -> str | None: ...
    def nickname(self, user_id: str) -> str: ...
    def has_queue(self, name: str) -> bool: ...


@dataclass
class ContactCenter:
    """Everything an interaction touches outside itself, injected by the store.

    ``interactions`` is the store's registry (id -> interaction): interactions created by an
    operation (Reply, CreateEmail, ...) are added to it. ``workbins`` finds the workbin an agent
    names (by id or name) among that agent's workbins.
    """

    context: Context
    routing: Routing
    interactions: MutableMapping[str, Any]
    workbins: Callable[[str, str], Workbin | None]

    def received_at(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.context.clock()))


def truthy(name: str, value: Any) -> bool:
    """A JSON boolean, or the strings "true"/"false" (the seed's examples quote their booleans)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidOperation(f"attribute {name!r} must be a boolean, got {value!r}")


class Interaction(Machine):
    """One interaction of a channel; subclasses add the channel's operations and body members."""

    channel: str

    def __init__(
        self,
        center: ContactCenter,
        *,
        interaction_type: str,
        sub_type: str,
        state: str,
        owner: str | None,
        queue: str | None = None,
        user_data: dict[str, Any] | None = None,
        parent_id: str | None = None,
    ) -> None:
        self.center = center
        self.id = center.context.new_id()
        self.interaction_type = interaction_type
        self.sub_type = sub_type
        self.state = state
        self.owner = owner
        self.current_queue = queue
        self.user_data: dict[str, Any] = dict(user_data or {})
        self.parent_id = parent_id
        self.received_at = center.received_at()
        self.workbin: Workbin | None = None
        center.interactions[self.id] = self

    def view_for(self, user_id: str) -> Machine | None:
        """The machine ``user_id`` operates on for this interaction, or None if not theirs now."""
        raise NotImplementedError

    def summary(self) -> dict[str, Any]:
        """The interaction as nested in a workbin message (no message type, no capabilities)."""
        summary: dict[str, Any] = {
            "id": self.id,
            "state": self.state,
            "channel": self.channel,
            "interactionType": self.interaction_type,
            "interactionSubType": self.sub_type,
            "userData": dict(self.user_data),
            "parentId": self.parent_id,
        }
        if self.current_queue is not None:
            summary["currentQueue"] = self.current_queue
        return summary

    def body(self, state: str, capabilities: list[str]) -> dict[str, Any]:
        """The InteractionStateMessage members every channel shares."""
        return {
            "messageType": "InteractionStateMessage",
            **self.summary(),
            "state": state,
            "capabilities": capabilities,
            "receivedAt": self.received_at,
        }

    # -- operations both channels have --------------------------------------------------------------

    def _update_properties(self, attributes: dict[str, Any]) -> list[Notification]:
        # The seed defines no message for UpdateProperties (E18): the change shows in GET.
        self.user_data.update(require(attributes, "properties", dict))
        return []

    def _checked_queue(self, attributes: dict[str, Any], name: str = "queue") -> str:
        queue: str = require(attributes, name)
        if not self.center.routing.has_queue(queue):
            raise InvalidOperation(f"no queue named {queue!r}")
        return queue

    def _checked_agent(self, attributes: dict[str, Any], name: str, acting: str) -> str:
        agent: str = require(attributes, name)
        if agent == acting:
            raise InvalidOperation(f"{name} {agent!r} is the agent doing the operation")
        if not self.center.routing.is_agent(agent):
            raise InvalidOperation(f"{name} {agent!r} is not an agent of this contact center")
        return agent

    def _checked_workbin(self, attributes: dict[str, Any], owner: str) -> Workbin:
        name = require(attributes, "workbin")
        workbin = self.center.workbins(owner, name)
        if workbin is None:
            raise InvalidOperation(f"no workbin {name!r} for this agent")
        return workbin

    def _queued(self, queue: str) -> None:
        self.state, self.owner, self.current_queue = "Queued", None, queue

    def _optional_text(self, attributes: dict[str, Any], name: str) -> str:
        return str(optional(attributes, name, str, "", blank_ok=True))
