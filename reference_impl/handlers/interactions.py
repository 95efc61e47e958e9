"""Interactions: GET /interactions, GET|PUT /interactions/{id}, GET|POST /me/interactions,
POST /me/interactions/{id}.

Every operation runs through the interaction's model (reference_impl/model/email.py, chat.py,
workbin.py): the model decides whether it is valid now, changes the interaction and names the
messages to send; this module finds the interaction, publishes those messages and shapes the reply.
A refused operation (statusCode 1 or 2) changes nothing and sends nothing.

Decisions where the seed is silent (for the errata):
- GET /interactions: an administrator sees every active interaction of the contact center (E57);
  a supervisor or agent sees the interactions it handles (the MAY of GWS-IXN-004).
- PUT /interactions/{id} (effect undefined, E57): the body's members are merged into the
  interaction's userData -- UpdateProperties with the body as ``properties``, valid when
  UpdateProperties is.
- GetWorkbinContent on POST /me/interactions/{id} (MAY, E59): the caller must handle the interaction
  (invitations excepted); the content comes in the reply as ``interactions`` (the items of
  GET /me/workbins/{id}/interactions?fields=*), since no message kind is defined for it. It reads and
  changes nothing, so the models do not list it among capabilities.
- CreateEmail answers the new interaction's ``id`` and ``uri`` (Return Values: a create answers both)
  beside the EmailReplyCreated message (E18).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reference_impl.handlers.multimedia import (
    interaction_json,
    model_error,
    multimedia,
    own_interaction,
    publish,
)
from reference_impl.handlers.workbins import refuse_foreign_interaction
from reference_impl.http import ApiError, Context, StatusCode
from reference_impl.model import ModelError, Notification
from reference_impl.model.email import create_email
from reference_impl.model.interaction import INTERACTIONS_TOPIC
from reference_impl.model.workbin import parse_item_uri
from reference_impl.store import User

__all__ = [
    "get_interaction",
    "interactions_of",
    "list_interactions",
    "list_my_interactions",
    "post_interaction_operation",
    "post_my_interactions_operation",
    "update_interaction",
]

# Operations whose reply names the outbound e-mail they create (E24).
_CREATING = ("Reply", "ReplyAll", "Forward")
_INVITED = ("Invited", "InvitedConference")


async def list_interactions(ctx: Context) -> dict[str, Any]:
    center = multimedia(ctx.store)
    # E97 (GWS-AUTH-009): never an interaction GET /interactions/{id} refuses the caller.
    everyone = "admin" in ctx.roles or ctx.faults.waives("interaction-list-owner")
    interactions = center.active() if everyone else center.handled_by(ctx.user.id)
    return ctx.listing("interactions", [interaction_json(ctx, ix, ctx.user.id) for ix in interactions])


async def list_my_interactions(ctx: Context) -> dict[str, Any]:
    return ctx.listing("interactions", interactions_of(ctx, ctx.user))


def interactions_of(ctx: Context, user: User) -> list[dict[str, Any]]:
    """The interactions ``user`` handles, as GET /me/interactions?fields=* shows them (also the
    ``interactions`` subresource of GET /me: none while api-multimedia is not assigned)."""
    if "api-multimedia" not in ctx.store.assigned_features:
        return []
    return [interaction_json(ctx, ix, user.id) for ix in multimedia(ctx.store).handled_by(user.id)]


async def get_interaction(ctx: Context) -> dict[str, Any]:
    interaction, _ = own_interaction(ctx, ctx.path_params["id"])
    return {"interaction": ctx.select(interaction_json(ctx, interaction, ctx.user.id))}


async def update_interaction(ctx: Context) -> dict[str, Any]:
    _, view = own_interaction(ctx, ctx.path_params["id"])
    _run(ctx, lambda: view.apply("UpdateProperties", properties=dict(ctx.body)))
    return {}


async def post_my_interactions_operation(ctx: Context) -> dict[str, Any]:
    name = ctx.operation_name
    attributes = _attributes(ctx)
    center = multimedia(ctx.store)
    if name == "CreateEmail":
        created: dict[str, Any] = {}

        def create() -> list[Notification]:
            email, notifications = create_email(center.center, ctx.user.id, **attributes)
            created.update(id=email.id, uri=ctx.uri(f"/interactions/{email.id}"))
            return notifications

        _run(ctx, create)
        return created
    assert name == "PullInteractionFromWorkbin"  # the body schema admits these two only
    try:
        workbin_id, interaction_id = parse_item_uri(ctx.required_text("uri"))
    except ModelError as error:
        raise model_error(error) from None
    workbin = center.workbin(ctx, workbin_id)
    refuse_foreign_interaction(ctx, workbin, interaction_id)
    _run(ctx, lambda: workbin.apply("PullInteractionFromWorkbin", interactionId=interaction_id))
    return {}


async def post_interaction_operation(ctx: Context) -> dict[str, Any]:
    name = ctx.operation_name
    assert name is not None  # the body schema has operationName variants
    interaction, view = own_interaction(ctx, ctx.path_params["id"])
    attributes = _attributes(ctx)
    if name == "GetWorkbinContent":
        if view.state in _INVITED:
            raise ApiError(StatusCode.INVALID_PARAMETER, "GetWorkbinContent is not valid on an invitation")
        workbin = multimedia(ctx.store).find_workbin(ctx.user.id, ctx.required_text("workbin"))
        if workbin is None:
            raise ApiError(StatusCode.INVALID_PARAMETER, f"no workbin {attributes['workbin']!r} for this agent")
        return {"interactions": workbin.content()}
    notifications = _run(ctx, lambda: view.apply(name, **attributes))
    if name in _CREATING:
        created = [data["id"] for _, topic, data in notifications if topic == INTERACTIONS_TOPIC]
        created = [ix_id for ix_id in created if ix_id != interaction.id]
        if created:
            return {"replyInteractionId": created[0]}
    return {}


def _attributes(ctx: Context) -> dict[str, Any]:
    return {key: value for key, value in ctx.body.items() if key != "operationName"}


def _run(ctx: Context, operation: Callable[[], list[Notification]]) -> list[Notification]:
    """Apply a model operation and publish what it says; a model refusal becomes the error reply."""
    try:
        notifications = operation()
    except ModelError as error:
        raise model_error(error) from None
    publish(ctx.bus, notifications)
    return notifications
