"""Workbins: GET /me/workbins, POST /me/workbins/{workbinId} (Subscribe, Unsubscribe, E16),
GET|POST /me/workbins/{workbinId}/interactions (content, AddInteractionToWorkbin).

Each agent has its own view of every workbin type (reference_impl/handlers/multimedia.py); the
workbin model (reference_impl/model/workbin.py) keeps its content and subscription and names the
WorkbinEvent messages. Pulling an interaction out is POST /me/interactions (handlers/interactions.py).

Decisions where the seed is silent (for the errata):
- GET /me/workbins answers the ``workbins`` array with or without ``fields`` (GetWorkbinTypesInfo
  has no parameters and GWS-WB-001 asks for the array); a field list narrows each item, whose
  workbinId always stays.
- The content without ``fields`` is the uris of the workbin entries
  (``.../me/workbins/{workbinId}/interactions/{interactionId}``, the uri AddInteractionToWorkbin
  answers and PullInteractionFromWorkbin takes, E60); with ``fields=*`` the property maps (E64).
"""

from __future__ import annotations

from typing import Any

from reference_impl.handlers.multimedia import model_error, multimedia, publish
from reference_impl.http import ApiError, Context, StatusCode
from reference_impl.model import ModelError
from reference_impl.model.interaction import FINISHED
from reference_impl.model.workbin import Workbin

__all__ = [
    "add_to_workbin",
    "get_workbin_content",
    "list_my_workbins",
    "post_workbin_operation",
    "refuse_foreign_interaction",
]


async def list_my_workbins(ctx: Context) -> dict[str, Any]:
    workbins = [workbin.info() for workbin in multimedia(ctx.store).workbins_of(ctx.user.id)]
    if isinstance(ctx.fields, frozenset):
        wanted = ctx.fields | {"workbinId"}
        workbins = [{k: v for k, v in info.items() if k in wanted} for info in workbins]
    return {"workbins": workbins}


async def post_workbin_operation(ctx: Context) -> dict[str, Any]:
    workbin = multimedia(ctx.store).workbin(ctx, ctx.path_params["workbinId"])
    assert ctx.operation_name is not None  # the body schema has operationName variants
    _apply(ctx, workbin, ctx.operation_name)
    return {}


async def get_workbin_content(ctx: Context) -> dict[str, Any]:
    workbin = multimedia(ctx.store).workbin(ctx, ctx.path_params["workbinId"])
    if ctx.fields is None:
        return {"uris": [_entry_uri(ctx, workbin, interaction_id) for interaction_id in workbin.items]}
    items = workbin.content()
    if isinstance(ctx.fields, frozenset):
        wanted = ctx.fields | {"InteractionId"}
        items = [{k: v for k, v in item.items() if k in wanted} for item in items]
    return {"interactions": items}


async def add_to_workbin(ctx: Context) -> dict[str, Any]:
    workbin = multimedia(ctx.store).workbin(ctx, ctx.path_params["workbinId"])
    interaction_id = ctx.required_text("interactionId")
    refuse_foreign_interaction(ctx, workbin, interaction_id)
    _apply(ctx, workbin, "AddInteractionToWorkbin", interactionId=interaction_id)
    return {"uri": _entry_uri(ctx, workbin, interaction_id)}


def refuse_foreign_interaction(ctx: Context, workbin: Workbin, interaction_id: str) -> None:
    """E14 before the model's rules: an interaction that is neither in the caller's workbin nor handled by
    the caller -- another agent's, in its hands or its workbin -- is statusCode 5 (GWS-PERM-002). An
    unknown or finished one is left to the model (statusCode 2, which GWS-WB-009 allows)."""
    interaction = multimedia(ctx.store).interactions.get(interaction_id)
    if interaction is None or interaction.state in FINISHED:
        return
    if interaction_id not in workbin.items and interaction.view_for(ctx.user.id) is None:
        raise ApiError(StatusCode.NO_PERMISSION, f"interaction {interaction_id} is not this user's")


def _apply(ctx: Context, workbin: Workbin, operation_name: str, **attributes: Any) -> None:
    try:
        notifications = workbin.apply(operation_name, **attributes)
    except ModelError as error:
        raise model_error(error) from None
    publish(ctx.bus, notifications)


def _entry_uri(ctx: Context, workbin: Workbin, interaction_id: str) -> str:
    return ctx.uri(f"/me/workbins/{workbin.id}/interactions/{interaction_id}")
