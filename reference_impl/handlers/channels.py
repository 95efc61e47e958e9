"""The current user's channels: GET /me/channels, GET|POST /me/channels/{channel}.

``{channel}`` is the channel's name (voice, email, chat; E05, E33); a channel the user does not have
answers statusCode 6. POST sets one channel (Ready, NotReady, a custom agent state from
/settings/agent-states, DoNotDisturbOn|Off) through the user's agent-state model, which also moves
the devices when the channel is voice; the ChannelStateChanged (and DeviceStateChanged) messages it
returns go to the user.
"""

from __future__ import annotations

from typing import Any

from reference_impl.handlers.devices import operation_attributes, perform
from reference_impl.http import Context, found
from reference_impl.model.agent_state import ChannelState

__all__ = ["get_my_channel", "list_my_channels", "post_my_channel_operation"]


def _channel_json(ctx: Context, channel: ChannelState) -> dict[str, Any]:
    # A channel is known by its name, not by an id: the name stays whatever fields were asked for.
    return {**ctx.select(channel.to_wire()), "channel": channel.name}


def _my_channel(ctx: Context) -> ChannelState:
    return found(ctx.store.presence[ctx.user.id].channels, ctx.path_params["channel"], "channel of this user named")


async def list_my_channels(ctx: Context) -> dict[str, Any]:
    # Always the objects: a channel has no uri of its own to list (and the seed's example lists objects).
    channels = ctx.store.presence[ctx.user.id].channels.values()
    return {"channels": [_channel_json(ctx, channel) for channel in channels]}


async def get_my_channel(ctx: Context) -> dict[str, Any]:
    return {"channel": _channel_json(ctx, _my_channel(ctx))}


async def post_my_channel_operation(ctx: Context) -> dict[str, Any]:
    channel = _my_channel(ctx)
    name = ctx.operation_name
    assert name is not None  # the body schema has operationName variants
    return perform(ctx, lambda: channel.apply(name, **operation_attributes(ctx)))
