"""Calls: Dial (POST /devices/{id}/calls, and POST /me/devices/{id}/calls of later releases, E10),
GET /me/calls, GET /me/calls/{id} and the call control operations of POST /me/calls/{id}.

Telephony is asynchronous (Asynchronous Operations): a request the switch accepts is answered
statusCode 0 and what it did arrives on /v2/me/calls, each party's user receiving its own side of
the call (reference_impl/model/call.py builds those messages). A refused request (an operation not
in the call's capabilities, a bad attribute) changes nothing and publishes nothing.

A call id is one party's leg of the call (model/call.py): an agent reads and operates only the legs
on its own devices (x-gws-scope: own; another agent's call -> statusCode 5, E14). A released call
leaves GET /me/calls but stays readable by id, in state Released with no capabilities, so a client
that missed the last message can still learn how the call ended.
"""

from __future__ import annotations

from typing import Any

from reference_impl.handlers.devices import device_state, operation_attributes, perform
from reference_impl.http import ApiError, Context, StatusCode, found
from reference_impl.model.call import CallLeg, Telephony
from reference_impl.store import Device, User

__all__ = [
    "calls_of",
    "dial",
    "dial_from_my_device",
    "get_my_call",
    "list_my_calls",
    "post_call_operation",
    "switch",
]


def switch(ctx: Context) -> Telephony:
    """The store's switch, building its uris (call uri, deviceUri) on the base URL of this request.

    The model keeps one base for every uri it writes; the request that causes a message is the best
    guess of the host its parties use (uris are built from the request, brief "Store").
    """
    telephony = ctx.store.telephony
    telephony.api_base = ctx.uri("")
    return telephony


def calls_of(ctx: Context, user: User) -> list[CallLeg]:
    """The calls GET /me/calls lists for ``user``: the unreleased legs on its devices."""
    telephony = switch(ctx)
    return [leg for device in ctx.store.devices_of(user.id) for leg in telephony.legs_on(device.id)]


async def list_my_calls(ctx: Context) -> dict[str, Any]:
    if ctx.own_only:
        legs = calls_of(ctx, ctx.user)
    else:  # an administrator sees every call of the contact center
        legs = [leg for leg in switch(ctx).legs.values() if leg.state != "Released"]
    return ctx.listing("calls", [leg.to_wire() for leg in legs])


def _my_call(ctx: Context) -> CallLeg:
    leg = found(switch(ctx).legs, ctx.path_params["id"], "call")
    ctx.require_owner(leg.device.user_id, f"call {leg.id}")
    return leg


async def get_my_call(ctx: Context) -> dict[str, Any]:
    return {"call": ctx.select(_my_call(ctx).to_wire())}


async def post_call_operation(ctx: Context) -> dict[str, Any]:
    leg = _my_call(ctx)
    name = ctx.operation_name
    assert name is not None  # the body schema has operationName variants
    return perform(ctx, lambda: leg.apply(name, **operation_attributes(ctx)))


async def dial(ctx: Context) -> dict[str, Any]:
    device = found(ctx.store.devices, ctx.path_params["id"], "device")
    ctx.require_owner(device.user_id, f"device {device.id}")
    return _dial(ctx, device)


async def dial_from_my_device(ctx: Context) -> dict[str, Any]:
    device = found(ctx.store.devices, ctx.path_params["id"], "device")
    if device.user_id != ctx.user.id:
        raise ApiError(StatusCode.NOT_FOUND, f"no device {device.id} among this user's devices")
    return _dial(ctx, device)


def _dial(ctx: Context, device: Device) -> dict[str, Any]:
    caller = device_state(ctx, device)
    telephony = switch(ctx)
    return perform(ctx, lambda: telephony.dial(caller, **operation_attributes(ctx)))
