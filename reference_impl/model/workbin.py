"""Workbins: an agent's private storage for interactions, and the /v2/me/workbins messages.

One ``Workbin`` per (workbin type, agent) -- the seed lists only private views ("TestWorkbin/
PrivateView"). Its operations:

    Subscribe | Unsubscribe           POST /me/workbins/{workbinId}                 (E16)
    AddInteractionToWorkbin           POST /me/workbins/{workbinId}/interactions    {"interactionId"}
    PullInteractionFromWorkbin        POST /me/interactions                         {"uri": ".../interactions/{id}"}

An interaction placed in (by PlaceInWorkbin or AddInteractionToWorkbin) is Queued in the workbin;
pulled out it is Pulled and belongs to the agent again. A subscribed agent gets a WorkbinEvent for
each: workbinContentOperation PlacedIn / TakenOut.

Decisions where the seed is silent (written up in the errata):
- ``operation`` is Create for PlacedIn and Delete for TakenOut (the seed shows only Create+PlacedIn).
- Subscribe is valid only when not subscribed and Unsubscribe only when subscribed, like the other
  toggles of the API (device DND, forwarding).
- workbinId is the base64 of the view name, as the seed's ids are ("TestWorkbin/PrivateView").
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from . import InvalidOperation, Machine, Notification, require

__all__ = ["WORKBINS_TOPIC", "Workbin", "parse_item_uri", "workbin_id_for"]

WORKBINS_TOPIC = "/v2/me/workbins"


class Storable(Protocol):
    """An interaction as a workbin sees it (email.EmailInteraction is one)."""

    id: str
    channel: str
    interaction_type: str
    sub_type: str
    current_queue: str | None
    user_data: dict[str, Any]

    def view_for(self, user_id: str) -> Machine | None: ...
    def summary(self) -> dict[str, Any]: ...
    def pulled_by(self, user_id: str) -> list[Notification]: ...


def workbin_id_for(name: str) -> str:
    return base64.b64encode(f"{name}/PrivateView".encode()).decode()


def parse_item_uri(uri: str) -> tuple[str, str]:
    """(workbinId, interactionId) of ``.../me/workbins/{workbinId}/interactions/{interactionId}``."""
    parts = uri.rstrip("/").split("/")
    if len(parts) < 4 or parts[-4] != "workbins" or parts[-2] != "interactions":
        raise InvalidOperation(f"uri {uri!r} is not .../workbins/{{workbinId}}/interactions/{{interactionId}}")
    return parts[-3], parts[-1]


class Workbin(Machine):
    # fmt: off
    TABLE: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "Unsubscribed": ("Subscribe", "AddInteractionToWorkbin", "PullInteractionFromWorkbin"),
        "Subscribed": ("Unsubscribe", "AddInteractionToWorkbin", "PullInteractionFromWorkbin"),
    }
    # fmt: on
    REQUIRED: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "AddInteractionToWorkbin": ("interactionId",),
        "PullInteractionFromWorkbin": ("interactionId",),
    }

    def __init__(
        self,
        name: str,
        owner: str,
        interactions: Mapping[str, Storable],
        *,
        agent_id: str | None = None,
        workbin_id: str | None = None,
    ) -> None:
        """``interactions`` is the store's registry; ``agent_id`` the owner as Interaction Server
        names it (workbinAgentId; defaults to the user id)."""
        self.name = name
        self.owner = owner
        self.agent_id = agent_id or owner
        self.id = workbin_id or workbin_id_for(name)
        self.interactions = interactions
        self.items: list[str] = []
        self.subscribed = False

    @property
    def state(self) -> str:  # type: ignore[override]
        return "Subscribed" if self.subscribed else "Unsubscribed"

    def info(self) -> dict[str, Any]:
        """The workbin as GET /me/workbins lists it (GetWorkbinTypesInfo)."""
        return {
            "workbinId": self.id,
            "active": 1,
            "workbinName": self.name,
            "viewName": f"{self.name}/PrivateView",
            "workbinType": 1,
        }

    def content(self) -> list[dict[str, Any]]:
        """GET /me/workbins/{id}/interactions?fields=*: Interaction Server property maps."""
        return [
            {
                **item.user_data,
                "InteractionId": item.id,
                "MediaType": item.channel,
                "InteractionType": item.interaction_type,
                "InteractionSubtype": item.sub_type,
                "Queue": item.current_queue or "",
                "Workbin": self.name,
                "WorkbinAgentId": self.agent_id,
            }
            for item in map(self.interactions.__getitem__, self.items)
        ]

    # -- guards and operations -----------------------------------------------------------------------

    def _placeable(self) -> list[Machine]:
        views = (item.view_for(self.owner) for item in self.interactions.values())
        return [view for view in views if view is not None and "PlaceInWorkbin" in view.capabilities()]

    def _can_AddInteractionToWorkbin(self) -> bool:
        return bool(self._placeable())

    def _can_PullInteractionFromWorkbin(self) -> bool:
        return bool(self.items)

    def _op_Subscribe(self, **attributes: Any) -> list[Notification]:
        self.subscribed = True
        return []

    def _op_Unsubscribe(self, **attributes: Any) -> list[Notification]:
        self.subscribed = False
        return []

    def _op_AddInteractionToWorkbin(self, **attributes: Any) -> list[Notification]:
        interaction_id = require(attributes, "interactionId")
        item = self.interactions.get(interaction_id)
        view = item.view_for(self.owner) if item is not None else None
        if view is None or view not in self._placeable():
            raise InvalidOperation(f"interaction {interaction_id!r} is not one this agent can place in a workbin")
        # The interaction owns its move (state, queue, owner); it calls placed() below.
        return view.apply("PlaceInWorkbin", workbin=self.id)

    def _op_PullInteractionFromWorkbin(self, **attributes: Any) -> list[Notification]:
        interaction_id = require(attributes, "interactionId")
        if interaction_id not in self.items:
            raise InvalidOperation(f"interaction {interaction_id!r} is not in workbin {self.name}")
        item = self.interactions[interaction_id]
        self.items.remove(interaction_id)
        return item.pulled_by(self.owner) + self._event("Delete", "TakenOut", item, self.owner)

    # -- called by interactions ----------------------------------------------------------------------

    def placed(self, item: Storable, actor: str) -> list[Notification]:
        self.items.append(item.id)
        return self._event("Create", "PlacedIn", item, actor)

    def _event(self, operation: str, content_operation: str, item: Storable, actor: str) -> list[Notification]:
        if not self.subscribed:
            return []
        return [
            (
                self.owner,
                WORKBINS_TOPIC,
                {
                    "messageType": "workbinNotificationResource",
                    "operation": operation,
                    "workbinContentOperation": content_operation,
                    "interaction": item.summary(),
                    "workbinInfo": {
                        "workbinTypeId": self.name,
                        "workbinGroupId": None,
                        "workbinPlaceGroupId": None,
                        "workbinAgentId": self.agent_id,
                        "workbinPlaceId": None,
                    },
                    "actorInfo": {
                        "agentId": actor,
                        "actorMediaServerId": None,
                        "actorType": "Agent",
                        "actorPlaceId": None,
                    },
                },
            )
        ]
