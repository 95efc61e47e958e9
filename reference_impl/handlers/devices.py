"""Devices: GET /devices, GET /devices/{id}, and the device shape every other reader shares."""

from __future__ import annotations

from typing import Any

from reference_impl.http import Context, found
from reference_impl.store import Device

__all__ = ["device_json", "device_listing", "get_device", "list_devices"]


def device_json(ctx: Context, device: Device) -> dict[str, Any]:
    """A device as GWS shows it; DND, forwarding and userState come from its user's agent-state model."""
    presence = ctx.store.presence.get(device.user_id or "")
    state = presence.devices.get(device.id) if presence else None
    if state is not None:
        wire = state.to_wire()
    else:
        # Nobody's device (its user was deleted): no user state, nothing to switch on.
        wire = {
            **device.static_attributes(),
            "id": device.id,
            "deviceState": "Active",
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
