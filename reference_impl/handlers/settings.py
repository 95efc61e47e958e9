"""Settings: /settings, /settings/general-settings and the agent-state descriptors /settings/agent-states.

Agent-state descriptors are identified in PUT and DELETE bodies by the group's key, operationName.
The five built-in descriptors are read-only ("They cannot be deleted or modified"): changing one is
refused with statusCode 3, "The operation is forbidden" — forbidden to everyone, unlike statusCode 5
which is about the caller's role.
"""

from __future__ import annotations

import uuid
from typing import Any

from conformance import contract
from reference_impl.http import ApiError, Context, StatusCode, found, operations
from reference_impl.store import AgentStateSetting

__all__ = [
    "create_agent_state",
    "delete_agent_state",
    "get_general_settings",
    "list_agent_states",
    "list_settings_groups",
    "update_agent_state",
]

KEY = "operationName"
GROUPS = {"general-settings": "General", "agent-states": "Agent States"}


async def list_settings_groups(ctx: Context) -> dict[str, Any]:
    return {"settings": [{"displayName": name, "uri": ctx.uri(f"/settings/{path}")} for path, name in GROUPS.items()]}


async def get_general_settings(ctx: Context) -> dict[str, Any]:
    return {"settings": [dict(ctx.store.general_settings)]}


async def list_agent_states(ctx: Context) -> dict[str, Any]:
    return {"key": KEY, "settings": ctx.store.agent_state_definitions()}


def _reserved_names() -> set[str]:
    """operationNames POST /me already gives a meaning to: a custom state may not take one."""
    return set(operations()[("POST", "/me")].variants)


def _check_unique_reason(ctx: Context, setting: AgentStateSetting) -> None:
    # "reason ... if specified, it must be unique as it will be used as a reason code".
    if setting.reason is not None and any(
        s.reason == setting.reason and s.operation_name != setting.operation_name
        for s in ctx.store.agent_state_settings.values()
    ):
        raise ApiError(
            StatusCode.INVALID_PARAMETER, f"reason '{setting.reason}' is already used by another agent state"
        )


def _existing(ctx: Context, *, for_change: str) -> AgentStateSetting:
    name = ctx.required_text(KEY)
    setting = found(ctx.store.agent_state_settings, name, "agent state with operationName")
    if setting.read_only:
        raise ApiError(StatusCode.FORBIDDEN, f"agent state '{name}' is built in and cannot be {for_change}")
    return setting


async def create_agent_state(ctx: Context) -> dict[str, Any]:
    name = ctx.required_text(KEY)
    if name in ctx.store.agent_state_settings or name in _reserved_names():
        raise ApiError(StatusCode.INVALID_PARAMETER, f"operationName '{name}' is already in use")
    setting = AgentStateSetting(
        # The reference's descriptors carry upper-case GUIDs; new ones look the same.
        id=str(uuid.uuid4()).upper(),
        operation_name=name,
        display_name=ctx.required_text("displayName"),
        state=ctx.required_text("state"),
        work_mode=ctx.text("workMode"),
        reason=ctx.text("reason"),
    )
    _check_unique_reason(ctx, setting)
    ctx.store.agent_state_settings[name] = setting
    return {"id": setting.id, "uri": ctx.uri("/settings/agent-states")}


async def update_agent_state(ctx: Context) -> dict[str, Any]:
    """The attributes given replace the descriptor's; the result must still pair workMode with state.

    A workMode belongs to its state: changing the state without naming a workMode drops the old one.
    """
    setting = _existing(ctx, for_change="modified")
    state = ctx.text("state") or setting.state
    kept_work_mode = setting.work_mode if state == setting.state else None
    changed = AgentStateSetting(
        id=setting.id,
        operation_name=setting.operation_name,
        display_name=ctx.text("displayName") if "displayName" in ctx.body else setting.display_name,  # type: ignore[arg-type]
        state=state,
        work_mode=ctx.text("workMode") if "workMode" in ctx.body else kept_work_mode,
        reason=ctx.text("reason") if "reason" in ctx.body else setting.reason,
    )
    errors = contract.validate("schemas/agent-state-descriptor.json", changed.to_wire())
    if errors:
        raise ApiError(StatusCode.INVALID_PARAMETER, f"the changed agent state would be invalid: {errors[0]}")
    _check_unique_reason(ctx, changed)
    ctx.store.agent_state_settings[setting.operation_name] = changed
    return {}


async def delete_agent_state(ctx: Context) -> dict[str, Any]:
    setting = _existing(ctx, for_change="deleted")
    del ctx.store.agent_state_settings[setting.operation_name]
    return {}
