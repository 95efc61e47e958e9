"""The current user: GET|POST /me, /me/devices, /me/skills.

POST /me carries several operations (errata E04/E13 name them): ChangePassword is handled here;
Ready, NotReady, DoNotDisturbOn|Off and custom agent states go to the user's agent-state model
(reference_impl/model/agent_state.py), whose notifications are published as they come;
StartContactCenterSession and EndContactCenterSession (Presence) are the two functions of that
name below, each documenting how it simplifies the seed's steps.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from reference_impl.handlers.calls import calls_of
from reference_impl.handlers.devices import device_json, device_listing, operation_attributes, perform
from reference_impl.handlers.features import feature_json
from reference_impl.handlers.interactions import interactions_of
from reference_impl.handlers.skills import skill_json
from reference_impl.handlers.users import (
    USER_SUBRESOURCES,
    Subresource,
    change_password,
    user_json,
    user_skills,
)
from reference_impl.http import SESSION_COOKIE, ApiError, Context, StatusCode, found
from reference_impl.model import Notification
from reference_impl.model.agent_state import DEVICES_TOPIC
from reference_impl.store import Device

__all__ = [
    "ME_SUBRESOURCES",
    "end_contact_center_session",
    "get_me",
    "get_my_device",
    "get_my_skill",
    "list_my_devices",
    "list_my_skills",
    "post_me_operation",
    "start_contact_center_session",
]

ME_SUBRESOURCES: dict[str, Subresource] = {
    **USER_SUBRESOURCES,
    # Read under /me, a skill is one of "my" skills: a uri the caller may follow.
    "skills": lambda ctx, user: user_skills(ctx, user, "/me/skills"),
    "channels": lambda ctx, user: [c.to_wire() for c in ctx.store.presence[user.id].channels.values()],
    "features": lambda ctx, user: [feature_json(ctx, ctx.store.features[f]) for f in ctx.store.assigned_features],
    "calls": lambda ctx, user: [leg.to_wire() for leg in calls_of(ctx, user)],
    "interactions": interactions_of,
}


async def get_me(ctx: Context) -> dict[str, Any]:
    wanted = ctx.subresources(ME_SUBRESOURCES)
    return {"user": ctx.select(user_json(ctx, ctx.user, ME_SUBRESOURCES, wanted))}


async def post_me_operation(ctx: Context) -> dict[str, Any] | JSONResponse:
    name = ctx.operation_name
    assert name is not None  # the body schema has operationName variants
    if name == "ChangePassword":
        change_password(ctx, ctx.user)
        return {}
    if name == "StartContactCenterSession":
        return start_contact_center_session(ctx)
    if name == "EndContactCenterSession":
        return end_contact_center_session(ctx)
    presence = ctx.store.presence[ctx.user.id]
    return perform(ctx, lambda: presence.apply(name, **operation_attributes(ctx)))


# -- Presence -------------------------------------------------------------------------------------


def start_contact_center_session(ctx: Context) -> dict[str, Any]:
    """StartContactCenterSession (Asynchronous Operations — Presence) in the reference's simplified world.

    There is no Configuration Server or SIP Server behind this server, so the seed's five steps become:

    1. The place: the fixture defines no places, so every device is a place of its own, named by its
       phone number (``"place": "5001"``). Without ``place``, the user's own place: the devices its
       last EndContactCenterSession released (a user who never ended a session keeps what it has).
       A place that names no device -> statusCode 2.
    2. A device of the place held by another user -> statusCode 2 and nothing is assigned (E56).
    3. The place's devices are assigned to the user (GET /me/devices lists them again).
    4-5. There are no agent logins or ACD queues: ``loginCode`` and ``queue`` are accepted and ignored.
       "RequestAgentLogin" moves every logged-out (state Logout) channel named in ``channels`` -- and the
       voice channel whenever the user has devices -- to NotReady, the state T-Server reports after a
       login; the agent then makes itself Ready. New devices are Active and NotReady. What is already
       logged in keeps its state, so a session started on a working agent changes nothing else.

    ``channels`` must name channels of the user (statusCode 2 otherwise). The changes are reported with
    DeviceStateChanged and ChannelStateChanged messages, as any agent-state change.
    """
    store, user = ctx.store, ctx.user
    presence = store.presence[user.id]
    channels: list[str] = list(dict.fromkeys(ctx.body["channels"]))  # the schema checked: strings, at least one
    unknown = [name for name in channels if name not in presence.channels]
    if unknown:
        raise ApiError(
            StatusCode.INVALID_PARAMETER,
            f"not a channel of this user: {', '.join(unknown)} (its channels: {', '.join(presence.channels)})",
        )
    devices = _place_devices(ctx, ctx.text("place"))
    taken = [device for device in devices if device.user_id not in (None, user.id)]
    if taken:
        raise ApiError(
            StatusCode.INVALID_PARAMETER,
            f"device {taken[0].phone_number} of the place is assigned to another user",
        )

    new = [device for device in devices if device.user_id is None]
    for device in new:
        device.user_id = user.id
        store.add_device(device)
    store.released_places.pop(user.id, None)
    if store.devices_of(user.id) and "voice" in presence.channels and "voice" not in channels:
        channels.append("voice")
    notifications: list[Notification] = []
    for name in channels:
        channel = presence.channels[name]
        if channel.user_state.state == "Logout":
            notifications += channel.apply("NotReady")
    reported = {d["id"] for _, topic, data in notifications if topic == DEVICES_TOPIC for d in data["devices"]}
    unreported = [presence.devices[device.id] for device in new if device.id not in reported]
    if unreported:
        notifications.append(presence.devices_changed(unreported))
    for user_id, topic, data in notifications:
        ctx.publish(user_id, topic, data)
    return {}


def _place_devices(ctx: Context, place: str | None) -> list[Device]:
    store = ctx.store
    if place is None:
        return [store.devices[i] for i in store.released_places.get(ctx.user.id, []) if i in store.devices]
    devices = [device for device in store.devices.values() if device.phone_number == place]
    if not devices:
        raise ApiError(
            StatusCode.INVALID_PARAMETER, f"no place {place!r} (a place is named by the phone number of its device)"
        )
    return devices


def end_contact_center_session(ctx: Context) -> JSONResponse:
    """EndContactCenterSession (Asynchronous Operations — Presence) in the reference's simplified world.

    1. "RequestAgentLogout" for each device: every device and channel of the user takes the agent
       state whose state is Logout (the built-in Offline definition); the devices become Inactive,
       with no capabilities left.
    2. The devices are unassigned from the user (GET /me/devices no longer lists them); the server
       remembers them as the user's place for the next StartContactCenterSession without ``place``.
    3. The HTTP session is invalidated: every cookie session of the user is dropped (every Basic sign-in
       opens one, E88), so a request carrying only such a cookie gets 401 (E56). Basic credentials keep
       working, and StartContactCenterSession gives the devices back.

    Refused with statusCode 2, changing nothing, while a device of the user has a call that is not
    released: a logout does not drop calls; hang them up first.
    """
    store, user = ctx.store, ctx.user
    calls = [leg.id for leg in calls_of(ctx, user)]
    if calls:
        raise ApiError(StatusCode.INVALID_PARAMETER, f"the user still has calls ({', '.join(calls)}): hang up first")
    presence = store.presence[user.id]
    logout = next((s.operation_name for s in store.agent_state_settings.values() if s.state == "Logout"), None)
    notifications = [n for n in (presence.apply(logout) if logout else []) if n[1] != DEVICES_TOPIC]
    devices = store.devices_of(user.id)
    if devices:
        ended = presence.devices_changed([presence.devices[device.id] for device in devices])
        for wire in ended[2]["devices"]:
            wire.update(deviceState="Inactive", capabilities=[])
        notifications.insert(0, ended)
        for device in devices:
            del presence.devices[device.id]
            device.user_id = None
        store.released_places[user.id] = [device.id for device in devices]
    for user_id, topic, data in notifications:
        ctx.publish(user_id, topic, data)

    store.end_sessions(user.id)
    ctx.request.state.session = None  # nothing to renew on this reply
    response = JSONResponse({"statusCode": 0})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


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
