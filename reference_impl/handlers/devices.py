"""Devices: GET /devices, GET|POST /devices/{id}, and the device shape every other reader shares.

POST /devices/{id} (Device/Channel Management: DoNotDisturbOn|Off, ForwardCallsOn|Off) goes to the
device's agent-state machine (reference_impl/model/agent_state.py); the DeviceStateChanged message it
returns goes to the device's user on /v2/me/devices. ``perform`` is that bridge for every handler
that drives a model machine: a refusal becomes the reply's statusCode, and nothing is published.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reference_impl.http import ApiError, Context, StatusCode, found
from reference_impl.model import ModelError, Notification
from reference_impl.model.agent_state import DeviceState
from reference_impl.store import Device

__all__ = [
    "device_json",
    "device_listing",
    "device_state",
    "get_device",
    "list_devices",
    "operation_attributes",
    "perform",
    "post_device_operation",
]


def perform(ctx: Context, operation: Callable[[], list[Notification]]) -> dict[str, Any]:
    """Run one model operation; publish what it reports, or turn its refusal into statusCode 1 or 2."""
    try:
        notifications = operation()
    except ModelError as error:
        raise ApiError(StatusCode(error.status_code), str(error)) from None
    for user_id, topic, data in notifications:
        ctx.publish(user_id, topic, data)
    return {}


def operation_attributes(ctx: Context) -> dict[str, Any]:
    """The body's attributes for a model's ``apply`` (the operationName travels separately)."""
    return {name: value for name, value in ctx.body.items() if name != "operationName"}


def device_state(ctx: Context, device: Device) -> DeviceState:
    """The machine of an assigned device; an unassigned device has nobody logged in to operate it."""
    presence = ctx.store.presence.get(device.user_id or "")
    state = presence.devices.get(device.id) if presence else None
    if state is None:
        raise ApiError(StatusCode.INVALID_PARAMETER, f"device {device.id} is not assigned to a user")
    return state


def device_json(ctx: Context, device: Device) -> dict[str, Any]:
    """A device as GWS shows it; DND, forwarding and userState come from its user's agent-state model."""
    presence = ctx.store.presence.get(device.user_id or "")
    state = presence.devices.get(device.id) if presence else None
    if state is not None:
        wire = state.to_wire()
    else:
        # Nobody's device (its user was deleted, or EndContactCenterSession released it): no agent is
        # logged in on it, so it is Inactive, has no user state and nothing can be switched on it.
        wire = {
            **device.static_attributes(),
            "id": device.id,
            "deviceState": "Inactive",
            "phoneNumber": device.phone_number,
            "e164Number": device.phone_number,
            "doNotDisturb": "Off",
            "capabilities": [],
        }
    wire["uri"] = ctx.uri(f"/devices/{device.id}")
    return wire


def device_listing(ctx: Context, devices: list[Device]) -> dict[str, Any]:
    return ctx.listing("devices", [device_json(ctx, d) for d in devices])


async def list_devices(ctx: Context) -> dict[str, Any]:
    devices = list(ctx.store.devices.values())
    if ctx.own_only:
        devices = [d for d in devices if d.user_id == ctx.user.id]
    return device_listing(ctx, devices)


async def get_device(ctx: Context) -> dict[str, Any]:
    device = found(ctx.store.devices, ctx.path_params["id"], "device")
    ctx.require_owner(device.user_id, f"device {device.id}")
    return {"device": ctx.select(device_json(ctx, device))}


async def post_device_operation(ctx: Context) -> dict[str, Any]:
    device = found(ctx.store.devices, ctx.path_params["id"], "device")
    ctx.require_owner(device.user_id, f"device {device.id}")
    state = device_state(ctx, device)
    name = ctx.operation_name
    assert name is not None  # the body schema has operationName variants
    return perform(ctx, lambda: state.apply(name, **operation_attributes(ctx)))
