"""The current user: GET|POST /me, /me/devices, /me/skills.

POST /me carries several operations (errata E04/E13 name them): ChangePassword is handled here;
Ready, NotReady, DoNotDisturbOn|Off and custom agent states go to the user's agent-state model
(reference_impl/model/agent_state.py), whose notifications are published as they come.
"""

from __future__ import annotations

from typing import Any

from reference_impl.handlers.devices import device_json, device_listing
from reference_impl.handlers.features import feature_json
from reference_impl.handlers.skills import skill_json
from reference_impl.handlers.users import (
    USER_SUBRESOURCES,
    Subresource,
    change_password,
    user_json,
    user_skills,
)
from reference_impl.http import ApiError, Context, StatusCode, found
from reference_impl.model import ModelError

__all__ = [
    "ME_SUBRESOURCES",
    "get_me",
    "get_my_device",
    "get_my_skill",
    "list_my_devices",
    "list_my_skills",
    "post_me_operation",
]

ME_SUBRESOURCES: dict[str, Subresource] = {
    **USER_SUBRESOURCES,
    # Read under /me, a skill is one of "my" skills: a uri the caller may follow.
    "skills": lambda ctx, user: user_skills(ctx, user, "/me/skills"),
    "channels": lambda ctx, user: [c.to_wire() for c in ctx.store.presence[user.id].channels.values()],
    "features": lambda ctx, user: [feature_json(ctx, ctx.store.features[f]) for f in ctx.store.assigned_features],
}


async def get_me(ctx: Context) -> dict[str, Any]:
    wanted = ctx.subresources(ME_SUBRESOURCES)
    return {"user": ctx.select(user_json(ctx, ctx.user, ME_SUBRESOURCES, wanted))}


async def post_me_operation(ctx: Context) -> dict[str, Any]:
    name = ctx.operation_name
    assert name is not None  # the body schema has operationName variants
    if name == "ChangePassword":
        change_password(ctx, ctx.user)
        return {}
    if name in ("StartContactCenterSession", "EndContactCenterSession"):
        # Not modelled yet (no places or agent logins in the fixture).
        raise ApiError(StatusCode.INVALID_PARAMETER, f"{name} is not supported by this server yet")
    attributes = {k: v for k, v in ctx.body.items() if k != "operationName"}
    try:
        notifications = ctx.store.presence[ctx.user.id].apply(name, **attributes)
    except ModelError as error:
        raise ApiError(StatusCode(error.status_code), str(error)) from None
    for user_id, topic, data in notifications:
        ctx.publish(user_id, topic, data)
    return {}


async def list_my_devices(ctx: Context) -> dict[str, Any]:
    return device_listing(ctx, ctx.store.devices_of(ctx.user.id))


async def get_my_device(ctx: Context) -> dict[str, Any]:
    device = found(ctx.store.devices, ctx.path_params["id"], "device")
    if device.user_id != ctx.user.id:
        raise ApiError(StatusCode.NOT_FOUND, f"no device {device.id} among this user's devices")
    return {"device": ctx.select(device_json(ctx, device))}


async def list_my_skills(ctx: Context) -> dict[str, Any]:
    skills = user_skills(ctx, ctx.user, "/me/skills")
    return ctx.listing("skills", skills)


async def get_my_skill(ctx: Context) -> dict[str, Any]:
    skill_id = ctx.path_params["id"]
    level = ctx.user.skill_levels.get(skill_id)
    if level is None:
        raise ApiError(StatusCode.NOT_FOUND, f"skill {skill_id} is not assigned to this user")
    return {"skill": ctx.select(skill_json(ctx.store.skills[skill_id], ctx.uri(f"/me/skills/{skill_id}"), level))}
