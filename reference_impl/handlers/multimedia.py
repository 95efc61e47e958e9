"""The store's multimedia side, shared by the interaction, attachment, workbin and stimulus handlers.

The store keeps the interactions (``store.interactions``, id -> model interaction) and the attachment
bytes (``store.attachments``). What the models need besides -- routing over the agents' channel states,
the model's ``ContactCenter`` and one workbin machine per (agent, workbin) -- is built here, once per
store, and built again after ``Store.reset()``. A reset replaces ``store.interactions`` with a new dict:
that identity is how it is noticed, so the store needs to know nothing of this module.

Decisions where the seed is silent (for the errata):
- Routing offers an interaction to an agent whose channel is Ready and not in Do Not Disturb
  (GWS-IXN-007); among several, the one handling the fewest interactions, then fixture order.
- A workbin's ``workbinId`` is the fixture's id of the workbin type (fixtures/contact-center.yaml), the
  same for every agent; each agent has its own private view of every workbin type. A PlaceInWorkbin or
  GetWorkbinContent ``workbin`` may name it by workbinId, workbinName or viewName.
- A chat nickname defaults to the agent's first name (Accept without ``nickname``).
- An interaction the caller does not handle now is answered with statusCode 5 (E14); one that does
  not exist, or that nobody handles any more (sent, cancelled, stopped), with statusCode 6.
"""

from __future__ import annotations

import weakref
from collections.abc import Collection, Iterable
from typing import Any

from reference_impl.events import EventBus
from reference_impl.http import ApiError, Context, StatusCode
from reference_impl.model import Context as ModelContext
from reference_impl.model import Machine, ModelError, Notification
from reference_impl.model.interaction import FINISHED, ContactCenter, Interaction
from reference_impl.model.workbin import Workbin
from reference_impl.store import Store

__all__ = [
    "Multimedia",
    "StoreRouting",
    "interaction_json",
    "model_error",
    "multimedia",
    "own_interaction",
    "publish",
]


class StoreRouting:
    """The model's Routing protocol answered from the store: agents, their channel states, queues."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def is_agent(self, user_id: str) -> bool:
        user = self.store.users.get(user_id)
        return user is not None and "ROLE_AGENT" in user.roles

    def available(self, user_id: str, channel: str) -> bool:
        presence = self.store.presence.get(user_id)
        return self.is_agent(user_id) and presence is not None and presence.available(channel)

    def next_ready(self, channel: str, exclude: Collection[str]) -> str | None:
        candidates = [u for u in self.store.users if u not in exclude and self.available(u, channel)]
        if not candidates:
            return None
        load = {u: sum(1 for ix in self._active() if ix.view_for(u) is not None) for u in candidates}
        return min(candidates, key=lambda u: load[u])  # min() keeps the first of equals: fixture order

    def nickname(self, user_id: str) -> str:
        user = self.store.users.get(user_id)
        return (user.first_name or user.user_name) if user else user_id

    def has_queue(self, name: str) -> bool:
        return any(queue.name == name for queue in self.store.queues.values())

    def _active(self) -> Iterable[Interaction]:
        return (ix for ix in self.store.interactions.values() if ix.state not in FINISHED)


class Multimedia:
    """The model's contact center over one store (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.interactions: dict[str, Any] = store.interactions
        self.routing = StoreRouting(store)
        self.center = ContactCenter(ModelContext(), self.routing, store.interactions, self.find_workbin)
        self._workbins: dict[tuple[str, str], Workbin] = {}

    def active(self) -> list[Interaction]:
        """Every interaction somebody or some queue still holds (sent, cancelled, stopped ones are gone)."""
        return [ix for ix in self.interactions.values() if ix.state not in FINISHED]

    def handled_by(self, user_id: str) -> list[Interaction]:
        return [ix for ix in self.active() if ix.view_for(user_id) is not None]

    # -- workbins ------------------------------------------------------------------------------------

    def workbins_of(self, user_id: str) -> list[Workbin]:
        """The user's view of every workbin type, in fixture order (made on first use)."""
        result = []
        for definition in self.store.workbins.values():
            key = (user_id, definition.id)
            if key not in self._workbins:
                self._workbins[key] = Workbin(
                    definition.workbin_name, user_id, self.interactions, workbin_id=definition.id
                )
            result.append(self._workbins[key])
        return result

    def all_workbins(self) -> list[Workbin]:
        """Every agent's workbin views made so far (what a snapshot of the contact center covers)."""
        return list(self._workbins.values())

    def find_workbin(self, owner: str, name: str) -> Workbin | None:
        """The owner's workbin named by workbinId, workbinName or viewName (the model calls this)."""
        for definition, workbin in zip(self.store.workbins.values(), self.workbins_of(owner), strict=True):
            if name in (definition.id, definition.workbin_name, definition.view_name):
                return workbin
        return None

    def workbin(self, ctx: Context, workbin_id: str) -> Workbin:
        """The caller's workbin ``workbin_id`` (a workbinId of GET /me/workbins), or statusCode 6."""
        if workbin_id in self.store.workbins:
            return self.workbins_of(ctx.user.id)[list(self.store.workbins).index(workbin_id)]
        raise ApiError(StatusCode.NOT_FOUND, f"no workbin {workbin_id} among this user's workbins")


_BY_STORE: weakref.WeakKeyDictionary[Store, Multimedia] = weakref.WeakKeyDictionary()


def multimedia(store: Store) -> Multimedia:
    """The store's Multimedia, made again when the store was reset since the last call."""
    current = _BY_STORE.get(store)
    if current is None or current.interactions is not store.interactions:
        current = _BY_STORE[store] = Multimedia(store)
    return current


# -- what the handlers share -------------------------------------------------------------------------


def own_interaction(ctx: Context, interaction_id: str) -> tuple[Interaction, Machine]:
    """The interaction ``interaction_id`` and the machine the caller operates on for it.

    Unknown or finished -> statusCode 6; somebody else's (or nobody's now) -> statusCode 5 (E14).
    """
    interaction: Interaction | None = multimedia(ctx.store).interactions.get(interaction_id)
    if interaction is None or interaction.state in FINISHED:
        raise ApiError(StatusCode.NOT_FOUND, f"no interaction {interaction_id}")
    view = interaction.view_for(ctx.user.id)
    if view is None:
        raise ApiError(StatusCode.NO_PERMISSION, f"interaction {interaction_id} is not handled by this user")
    return interaction, view


def interaction_json(ctx: Context, interaction: Interaction, user_id: str | None = None) -> dict[str, Any]:
    """The interaction in the /v2/me/interactions message format (GET /me/interactions?fields=*).

    As ``user_id`` sees it when that user handles it (its state and capabilities); otherwise as it
    stands, with no capabilities (an administrator listing the contact center can do nothing to it).
    """
    view = interaction.view_for(user_id) if user_id else None
    message = getattr(view, "message", None)  # EmailInteraction and ChatView both build their message
    if callable(message):
        body: dict[str, Any] = message()[2]
        body.pop("chat_notifications", None)  # the transcript travels in messages, not in reads
    else:
        body = interaction.body(interaction.state, [])
    body["uri"] = ctx.uri(f"/interactions/{interaction.id}")
    return body


def model_error(error: ModelError) -> ApiError:
    """A model refusal as the reply it stands for (statusCode 1 or 2; nothing changed)."""
    return ApiError(StatusCode(error.status_code), str(error))


def publish(bus: EventBus, notifications: Iterable[Notification]) -> None:
    for user_id, topic, data in notifications:
        bus.publish(user_id, topic, data)
