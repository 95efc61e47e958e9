"""Users: /users, /users/{id} (with ResetPassword and ChangePassword), /users/{id}/skills, /users/{id}/devices.

Password operations are asynchronous (Asynchronous Operations — Change Password, Reset Password):
a request that is well formed is answered statusCode 0, and the outcome (success, or errorCode 1
"does not meet security guidelines" / 2 "did not enter old password correctly") is published on
/v2/me for a user changing its own password and on /v2/users, to every supervisor and admin, for a
change made through /users/{id}. Only a malformed request (missing attribute, not base64) is refused
in the HTTP reply itself.

A password that changes (ChangePassword, ResetPassword, PUT /users/{id} with a password) ends the user's sessions
(E102): every cookie session, and every CometD session once it has delivered what was queued for it before (the
outcome of the change itself). Basic credentials are checked on every request, so only the new password opens new
ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reference_impl.handlers.devices import device_json, device_listing
from reference_impl.handlers.skills import skill_json
from reference_impl.http import ROLE_NAMES, ApiError, Context, StatusCode, found
from reference_impl.store import Device, User, new_id

__all__ = [
    "USER_SUBRESOURCES",
    "assign_user_skill",
    "change_password",
    "create_user",
    "create_user_device",
    "delete_user",
    "get_user",
    "get_user_skill",
    "list_user_devices",
    "list_user_skills",
    "list_users",
    "post_user_operation",
    "unassign_user_skill",
    "update_user",
    "user_json",
    "user_skills",
]

ME_TOPIC = "/v2/me"
USERS_TOPIC = "/v2/users"
# Channels a new agent gets (the fixture's agents have the same three).
DEFAULT_CHANNELS = ["voice", "email", "chat"]
DEFAULT_SKILL_LEVEL = "0"  # the level the Skills API example shows

Subresource = Callable[[Context, User], Any]


def user_skills(ctx: Context, user: User, base: str) -> list[dict[str, Any]]:
    """The user's skills with their levels; ``base`` is the collection path they are read under."""
    skills = ctx.store.skills
    return [skill_json(skills[sid], ctx.uri(f"{base}/{sid}"), level) for sid, level in user.skill_levels.items()]


def _settings(ctx: Context, user: User) -> dict[str, Any]:
    # The capture's "htcc" group: the user's roles as the settings service sees them.
    names = sorted({name for role in user.roles for name in ROLE_NAMES.get(role, ())})
    return {"htcc": {"roles": ",".join(names)}}


USER_SUBRESOURCES: dict[str, Subresource] = {
    "skills": lambda ctx, user: user_skills(ctx, user, f"/users/{user.id}/skills"),
    "devices": lambda ctx, user: [device_json(ctx, d) for d in ctx.store.devices_of(user.id)],
    "settings": _settings,
}


def user_json(ctx: Context, user: User, subresources: dict[str, Subresource], wanted: set[str]) -> dict[str, Any]:
    presence = ctx.store.presence.get(user.id)
    wire: dict[str, Any] = {
        "id": user.id,
        "userName": user.user_name,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "roles": list(user.roles),
        "enabled": True,
        "changePasswordOnFirstLogin": user.change_password_on_first_login,
        "doNotDisturb": "On" if presence is not None and presence.do_not_disturb else "Off",
    }
    if user.email_address is not None:
        wire["emailAddress"] = user.email_address
    if user.employee_id is not None:
        wire["employeeId"] = user.employee_id
    for name, render in subresources.items():
        if name in wanted:
            wire[name] = render(ctx, user)
    wire["uri"] = ctx.uri(f"/users/{user.id}")
    return wire


# -- /users and /users/{id} -----------------------------------------------------------------------


async def list_users(ctx: Context) -> dict[str, Any]:
    wanted = ctx.subresources(USER_SUBRESOURCES)
    # E97: the list grants every caller the users' own attributes, but a user's subresources (devices with their
    # agent state, skills, settings) only to a caller whose GET /users/{id} of that user is granted: an admin, or
    # the user itself (the same rule as x-gws-scope: own on getUser).
    sees_all = "admin" in ctx.roles or ctx.faults.waives("list-owner")
    users = [
        user_json(ctx, u, USER_SUBRESOURCES, wanted if sees_all or u.id == ctx.user.id else set())
        for u in ctx.store.users.values()
    ]
    if ctx.fields is None and wanted:
        # "subresources=*: Will return all fields and all subresources ... for every user."
        return {"users": users}
    return ctx.listing("users", users)


async def get_user(ctx: Context) -> dict[str, Any]:
    user = found(ctx.store.users, ctx.path_params["id"], "user")
    ctx.require_owner(user.id, f"user {user.id}")
    wanted = ctx.subresources(USER_SUBRESOURCES)
    return {"user": ctx.select(user_json(ctx, user, USER_SUBRESOURCES, wanted))}


def _roles(ctx: Context) -> list[str] | None:
    roles = ctx.body.get("roles")
    # The schema checked each role; a repeated one is the same role.
    return None if roles is None else list(dict.fromkeys(roles))


async def create_user(ctx: Context) -> dict[str, Any]:
    user_name = ctx.required_text("userName")
    if ctx.store.user_by_name(user_name) is not None:
        raise ApiError(StatusCode.INVALID_PARAMETER, f"a user named '{user_name}' already exists")
    roles = _roles(ctx) or ["ROLE_AGENT"]
    user = User(
        id=new_id(),
        user_name=user_name,
        password=ctx.required_text("password"),
        first_name=ctx.text("firstName") or "",
        last_name=ctx.text("lastName") or "",
        roles=roles,
        change_password_on_first_login=ctx.body.get("changePasswordOnFirstLogin") is True,
        channels=list(DEFAULT_CHANNELS) if {"ROLE_AGENT", "ROLE_SUPERVISOR"} & set(roles) else [],
    )
    ctx.store.users[user.id] = user
    ctx.store.start_presence(user)
    return {"id": user.id, "uri": ctx.uri(f"/users/{user.id}")}


async def update_user(ctx: Context) -> dict[str, Any]:
    """E11: PUT changes password, firstName, lastName, roles (replaced, not merged); nothing else."""
    user = found(ctx.store.users, ctx.path_params["id"], "user")
    password, first_name, last_name = (ctx.text(name) for name in ("password", "firstName", "lastName"))
    roles = _roles(ctx)
    if password is not None:
        user.password = password
        _credentials_changed(ctx, user)
    if first_name is not None:
        user.first_name = first_name
    if last_name is not None:
        user.last_name = last_name
    if roles is not None:
        user.roles = roles
    return {}


async def delete_user(ctx: Context) -> dict[str, Any]:
    user = found(ctx.store.users, ctx.path_params["id"], "user")
    if user.id == ctx.user.id:
        raise ApiError(StatusCode.FORBIDDEN, "a user cannot delete itself")
    ctx.store.delete_user(user.id)
    return {}


async def post_user_operation(ctx: Context) -> dict[str, Any]:
    user = found(ctx.store.users, ctx.path_params["id"], "user")
    if ctx.operation_name == "ResetPassword":
        _reset_password(ctx, user)
    else:
        change_password(ctx, user, notify=_notify_users)
    return {}


# -- passwords ------------------------------------------------------------------------------------

Notify = Callable[[Context, User, dict[str, Any]], None]


def _notify_me(ctx: Context, user: User, outcome: dict[str, Any]) -> None:
    ctx.publish(user.id, ME_TOPIC, outcome)


def _notify_users(ctx: Context, user: User, outcome: dict[str, Any]) -> None:
    data = {**outcome, "userUri": ctx.uri(f"/users/{user.id}"), "userId": user.id}
    for recipient in ctx.store.supervisors_and_admins():
        ctx.publish(recipient.id, USERS_TOPIC, data)


def _password_problem(user: User, password: str) -> str | None:
    """The reference server's password rules (the reference leaves them to Configuration Server)."""
    if password.casefold() == user.user_name.casefold():
        return "the password must differ from the user name"
    return None


# E83: the seed names no type for these messages, but clients dispatch every message on messageType.
MESSAGE_TYPE = "PasswordChangeMessage"


def _error(code: int, message: str) -> dict[str, Any]:
    return {
        "messageType": MESSAGE_TYPE,
        "notificationType": "PasswordChangeError",
        "errorCode": code,
        "errorMessage": message,
    }


SUCCESS = {"messageType": MESSAGE_TYPE, "notificationType": "PasswordChangeSuccessful"}


def change_password(ctx: Context, user: User, *, notify: Notify = _notify_me) -> None:
    """ChangePassword on /me (notify on /v2/me) or /users/{id} (notify on /v2/users)."""
    old_password = ctx.base64_text("oldPassword")
    new_password = ctx.base64_text("newPassword")
    if old_password != user.password:
        notify(ctx, user, _error(2, "the old password is not correct"))
    elif problem := _password_problem(user, new_password):
        notify(ctx, user, _error(1, problem))
    else:
        user.password = new_password
        user.change_password_on_first_login = False
        notify(ctx, user, SUCCESS)
        _credentials_changed(ctx, user)


def _reset_password(ctx: Context, user: User) -> None:
    new_password = ctx.base64_text("newPassword")
    if problem := _password_problem(user, new_password):
        _notify_users(ctx, user, _error(1, problem))
        return
    user.password = new_password
    # "...login first time after user's creation or changing of user's password by an administrator".
    user.change_password_on_first_login = True
    _notify_users(ctx, user, SUCCESS)
    _credentials_changed(ctx, user)


def _credentials_changed(ctx: Context, user: User) -> None:
    """E102: whoever holds a session opened with the old password (a cookie, a clientId, a websocket) loses it.
    After the outcome is published: the user's CometD sessions deliver it before they end."""
    if ctx.faults.waives("session-revocation"):
        return
    ctx.store.end_sessions(user.id)
    if ctx.request.state.session is not None and ctx.request.state.session.user_id == user.id:
        ctx.request.state.session = None  # the caller's own cookie session ended with the others: none to renew
    ctx.request.app.state.bayeux.revoke_clients(user.id)


# -- /users/{id}/skills -----------------------------------------------------------------------------


def _assigned_level(ctx: Context, user: User) -> tuple[str, str]:
    skill_id = ctx.path_params["skillId"]
    if skill_id not in user.skill_levels:
        raise ApiError(StatusCode.NOT_FOUND, f"skill {skill_id} is not assigned to user {user.id}")
    return skill_id, user.skill_levels[skill_id]


async def list_user_skills(ctx: Context) -> dict[str, Any]:
    user = found(ctx.store.users, ctx.path_params["id"], "user")
    skills = user_skills(ctx, user, f"/users/{user.id}/skills")
    return ctx.listing("skills", skills)


async def get_user_skill(ctx: Context) -> dict[str, Any]:
    user = found(ctx.store.users, ctx.path_params["id"], "user")
    skill_id, level = _assigned_level(ctx, user)
    uri = ctx.uri(f"/users/{user.id}/skills/{skill_id}")
    return {"skill": ctx.select(skill_json(ctx.store.skills[skill_id], uri, level))}


async def assign_user_skill(ctx: Context) -> dict[str, Any]:
    """POST to assign: assigning an assigned skill again sets its level."""
    user = found(ctx.store.users, ctx.path_params["id"], "user")
    skill_id = ctx.required_text("id")
    if skill_id not in ctx.store.skills:
        raise ApiError(StatusCode.INVALID_PARAMETER, f"'id': no skill {skill_id}")
    user.skill_levels[skill_id] = ctx.text("level") or DEFAULT_SKILL_LEVEL
    return {}


async def unassign_user_skill(ctx: Context) -> dict[str, Any]:
    user = found(ctx.store.users, ctx.path_params["id"], "user")
    skill_id, _ = _assigned_level(ctx, user)
    del user.skill_levels[skill_id]
    return {}


# -- /users/{id}/devices ----------------------------------------------------------------------------


async def list_user_devices(ctx: Context) -> dict[str, Any]:
    user = found(ctx.store.users, ctx.path_params["id"], "user")
    return device_listing(ctx, ctx.store.devices_of(user.id))


async def create_user_device(ctx: Context) -> dict[str, Any]:
    """Hybrid create-and-assign: the reply carries the new device's id and uri."""
    user = found(ctx.store.users, ctx.path_params["id"], "user")
    phone_number = ctx.required_text("phoneNumber")
    if any(d.phone_number == phone_number for d in ctx.store.devices.values()):
        raise ApiError(StatusCode.INVALID_PARAMETER, f"phone number {phone_number} already belongs to a device")
    device = Device(
        id=new_id(),
        phone_number=phone_number,
        user_id=user.id,
        telephony_network=ctx.text("telephonyNetwork") or "Private",
        model=ctx.text("model"),
    )
    ctx.store.add_device(device)
    return {"id": device.id, "uri": ctx.uri(f"/devices/{device.id}")}
