"""Agent state: per device and per channel, with Do Not Disturb and call forwarding.

Three machines share one agent:

- ``AgentState``   POST /me                     Ready, NotReady, DoNotDisturbOn|Off, custom agent states
                                                (every device and every channel at once)
- ``ChannelState`` POST /me/channels/{channel}  the same operations, one channel
- ``DeviceState``  POST /devices/{id}           DoNotDisturbOn|Off, ForwardCallsOn|Off

A user state is (state, workMode, reason). It is shown with the ``id`` and ``displayName`` of the
agent-state definition (GET /settings/agent-states) whose state, workMode and reason all match; a
custom operationName (e.g. ``OutToLunch``) sets exactly its definition's triple.

Decisions where the seed is silent (written up in the errata):
- Do Not Disturb is a flag beside the user state, never a change of it: with DND on, the userState
  still says what the agent set (the seed's second channel sample, dndState On + NotReady, fits),
  and routing treats the agent as unavailable (``AgentState.available``).
- Ready and NotReady are valid in every state, Logout included (a GWS Ready logs the agent in), and
  repeating the current state is accepted; the toggles DoNotDisturbOn|Off and ForwardCallsOn|Off are
  valid only from the opposite setting, as the device capabilities list them.
- The channel named ``voice`` is the agent's devices seen as a channel: setting it sets the devices.
- deviceState stays ``Active``: device registration is not modelled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from . import InvalidOperation, Machine, Notification, destination, optional

__all__ = [
    "DEFAULT_AGENT_STATES",
    "WORK_MODES",
    "AgentState",
    "ChannelState",
    "DeviceState",
    "UserState",
]

DEVICES_TOPIC = "/v2/me/devices"
CHANNELS_TOPIC = "/v2/me/channels"

# "For Ready: ManualIn/AutoIn/ReturnBack. For NotReady: AfterCallWork/AuxWork/LegalGuard/
# NoCallDisconnect/WalkAway. This should be enforced by the API." (Settings, Agent States)
WORK_MODES: Mapping[str, tuple[str, ...]] = {
    "Ready": ("ManualIn", "AutoIn", "ReturnBack"),
    "NotReady": ("AfterCallWork", "AuxWork", "LegalGuard", "NoCallDisconnect", "WalkAway"),
    "Logout": (),
}

# The five read-only definitions every contact center starts with (seed, Settings > Agent States).
# fmt: off
DEFAULT_AGENT_STATES: tuple[Mapping[str, str], ...] = (
    {"displayName": "AfterCallWork", "id": "D3663509-3D82-4DD3-A82E-2EA8EFA02AEF",
     "operationName": "AfterCallWork", "state": "NotReady", "workMode": "AfterCallWork"},
    {"displayName": "AuxWork", "id": "2B36138D-C564-4562-A8CB-3C32D564F296",
     "operationName": "AuxWork", "state": "NotReady", "workMode": "AuxWork"},
    {"displayName": "Not Ready", "id": "900D55CC-2BB0-431F-8BF9-D3525B383BE6",
     "operationName": "NotReady", "state": "NotReady"},
    {"displayName": "Offline", "id": "0F7F5003-EF26-4D13-A6Ef-D0C7EC819BEB",
     "operationName": "Offline", "state": "Logout"},
    {"displayName": "Ready", "id": "9430250E-0A1B-421F-B372-F29E69366DED",
     "operationName": "Ready", "state": "Ready"},
)
# fmt: on

Definitions = Callable[[], Iterable[Mapping[str, Any]]]
"""The current agent-state definitions; a callable so that settings changed by an admin apply at once."""

_DND_OPS = ("DoNotDisturbOn", "DoNotDisturbOff")


@dataclass(frozen=True)
class UserState:
    state: str = "NotReady"
    work_mode: str | None = None
    reason: str | None = None

    def matches(self, definition: Mapping[str, Any]) -> bool:
        return (definition.get("state"), definition.get("workMode"), definition.get("reason")) == (
            self.state,
            self.work_mode,
            self.reason,
        )

    def to_wire(self, definitions: Definitions) -> dict[str, Any]:
        wire: dict[str, Any] = {"state": self.state}
        if self.work_mode is not None:
            wire["workMode"] = self.work_mode
        if self.reason is not None:
            wire["reason"] = self.reason
        for definition in definitions():
            if self.matches(definition):
                wire = {"id": definition["id"], "displayName": definition["displayName"], **wire}
                break
        return wire


def _flag(on: bool) -> str:
    return "On" if on else "Off"


class _StateSetter(Machine):
    """What /me and /me/channels/{channel} share: Ready, NotReady, custom states and DND."""

    _definitions: Definitions

    def operations(self) -> tuple[str, ...]:
        return ("Ready", "NotReady", *self._custom_operations(), *_DND_OPS)

    def capabilities(self) -> list[str]:
        return ["Ready", "NotReady", *self._custom_operations(), *(op for op in _DND_OPS if self._dnd_valid(op))]

    def _custom_operations(self) -> list[str]:
        builtin = {"Ready", "NotReady", *_DND_OPS}
        return [d["operationName"] for d in self._definitions() if d.get("operationName") not in builtin]

    def _dnd_valid(self, operation_name: str) -> bool:
        raise NotImplementedError

    def _handler(self, operation_name: str) -> Callable[..., list[Notification]]:
        if operation_name in ("Ready", "NotReady"):
            return lambda **attributes: self._set(_requested_state(operation_name, attributes))
        if operation_name in _DND_OPS:
            return lambda **attributes: self._set_dnd(operation_name == "DoNotDisturbOn")
        definition = next(d for d in self._definitions() if d.get("operationName") == operation_name)
        custom = UserState(definition["state"], definition.get("workMode"), definition.get("reason"))
        return lambda **attributes: self._set(custom)

    def _set(self, user_state: UserState) -> list[Notification]:
        raise NotImplementedError

    def _set_dnd(self, on: bool) -> list[Notification]:
        raise NotImplementedError


def _requested_state(state: str, attributes: Mapping[str, Any]) -> UserState:
    work_mode = optional(attributes, "workMode")
    if work_mode is not None and work_mode not in WORK_MODES[state]:
        raise InvalidOperation(
            f"workMode {work_mode!r} does not apply to {state} (valid: {', '.join(WORK_MODES[state])})"
        )
    return UserState(state, work_mode, optional(attributes, "reason"))


class DeviceState(Machine):
    """One voice device of an agent: POST /devices/{id}. Also what call.py asks about a callee."""

    TABLE: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "Active": ("DoNotDisturbOn", "DoNotDisturbOff", "ForwardCallsOn", "ForwardCallsOff")
    }
    REQUIRED: ClassVar[Mapping[str, tuple[str, ...]]] = {"ForwardCallsOn": ("destination",)}
    state = "Active"  # the deviceState; registration is not modelled, so a device is always Active

    def __init__(
        self, agent: AgentState, device_id: str, phone_number: str, attributes: Mapping[str, Any] | None = None
    ) -> None:
        self.agent = agent
        self.id = device_id
        self.phone_number = phone_number
        self.attributes = dict(attributes or {})  # static fields the store keeps (model, vendor, ...)
        self.user_state = UserState()
        self.do_not_disturb = False
        self.forward_to: str | None = None

    @property
    def user_id(self) -> str:
        return self.agent.user_id

    def _can_DoNotDisturbOn(self) -> bool:
        return not self.do_not_disturb

    def _can_DoNotDisturbOff(self) -> bool:
        return self.do_not_disturb

    def _can_ForwardCallsOn(self) -> bool:
        return self.forward_to is None

    def _can_ForwardCallsOff(self) -> bool:
        return self.forward_to is not None

    def _op_DoNotDisturbOn(self, **attributes: Any) -> list[Notification]:
        self.do_not_disturb = True
        return [self.agent.devices_changed([self])]

    def _op_DoNotDisturbOff(self, **attributes: Any) -> list[Notification]:
        self.do_not_disturb = False
        return [self.agent.devices_changed([self])]

    def _op_ForwardCallsOn(self, **attributes: Any) -> list[Notification]:
        forward_to = destination(attributes)
        if forward_to == self.phone_number:
            raise InvalidOperation("a device cannot forward its calls to itself")
        self.forward_to = forward_to
        return [self.agent.devices_changed([self])]

    def _op_ForwardCallsOff(self, **attributes: Any) -> list[Notification]:
        self.forward_to = None
        return [self.agent.devices_changed([self])]

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            **self.attributes,
            "id": self.id,
            "deviceState": self.state,
            "userState": self.user_state.to_wire(self.agent.definitions),
            "phoneNumber": self.phone_number,
            "e164Number": self.attributes.get("e164Number", self.phone_number),
            "doNotDisturb": _flag(self.do_not_disturb),
            "capabilities": self.capabilities(),
        }
        if self.forward_to is not None:
            wire["forwardTo"] = self.forward_to
        return wire


class ChannelState(_StateSetter):
    """One media channel of an agent: POST /me/channels/{channel}."""

    def __init__(self, agent: AgentState, name: str) -> None:
        self.agent = agent
        self.name = name
        self.user_state = UserState()
        self.dnd = False

    @property
    def state(self) -> str:  # type: ignore[override]
        return self.user_state.state

    @property
    def _definitions(self) -> Definitions:  # type: ignore[override]
        return self.agent.definitions

    def _linked_devices(self) -> list[DeviceState]:
        return list(self.agent.devices.values()) if self.name == "voice" else []

    def _dnd_valid(self, operation_name: str) -> bool:
        return self.dnd != (operation_name == "DoNotDisturbOn")

    def _set(self, user_state: UserState) -> list[Notification]:
        self.user_state = user_state
        for device in self._linked_devices():
            device.user_state = user_state
        return self.agent.changed(self._linked_devices(), [self])

    def _set_dnd(self, on: bool) -> list[Notification]:
        self.dnd = on
        for device in self._linked_devices():
            device.do_not_disturb = on
        return self.agent.changed(self._linked_devices(), [self])

    def to_wire(self) -> dict[str, Any]:
        return {
            "channel": self.name,
            "userState": self.user_state.to_wire(self.agent.definitions),
            "dndState": _flag(self.dnd),
        }


class AgentState(_StateSetter):
    """All devices and channels of one agent: POST /me."""

    def __init__(
        self,
        user_id: str,
        definitions: Definitions,
        *,
        devices: Sequence[tuple[str, str] | tuple[str, str, Mapping[str, Any]]] = (),
        channels: Sequence[str] = (),
        initial: UserState | None = None,
    ) -> None:
        """``devices`` are (device_id, phone_number[, static attributes]); ``channels`` are names."""
        self.user_id = user_id
        self.definitions = definitions
        self.devices: dict[str, DeviceState] = {}
        for device_id, phone_number, *extra in devices:
            self.devices[device_id] = DeviceState(self, device_id, phone_number, *extra)
        self.channels: dict[str, ChannelState] = {name: ChannelState(self, name) for name in channels}
        for target in self._targets():
            target.user_state = initial or UserState()

    @property
    def _definitions(self) -> Definitions:  # type: ignore[override]
        return self.definitions

    @property
    def state(self) -> str:  # type: ignore[override]
        """The state every device and channel shares, or ``Mixed`` once a channel was set alone."""
        states = {target.user_state.state for target in self._targets()}
        return states.pop() if len(states) == 1 else "Mixed"

    @property
    def do_not_disturb(self) -> bool:
        """The user's doNotDisturb (GET /users/{id}): on when every device and channel has it on."""
        flags = [self._dnd_of(target) for target in self._targets()]
        return bool(flags) and all(flags)

    def available(self, channel: str) -> bool:
        """May routing offer this agent an interaction on ``channel``? Ready and not in DND."""
        target = self.channels.get(channel)
        return target is not None and target.user_state.state == "Ready" and not target.dnd

    def _targets(self) -> list[DeviceState | ChannelState]:
        return [*self.devices.values(), *self.channels.values()]

    @staticmethod
    def _dnd_of(target: DeviceState | ChannelState) -> bool:
        return target.do_not_disturb if isinstance(target, DeviceState) else target.dnd

    def _dnd_valid(self, operation_name: str) -> bool:
        wanted = operation_name == "DoNotDisturbOn"
        return any(self._dnd_of(target) != wanted for target in self._targets())

    def _set(self, user_state: UserState) -> list[Notification]:
        for target in self._targets():
            target.user_state = user_state
        return self.changed(list(self.devices.values()), list(self.channels.values()))

    def _set_dnd(self, on: bool) -> list[Notification]:
        for device in self.devices.values():
            device.do_not_disturb = on
        for channel in self.channels.values():
            channel.dnd = on
        return self.changed(list(self.devices.values()), list(self.channels.values()))

    # -- notifications -------------------------------------------------------------------------

    def devices_changed(self, devices: Sequence[DeviceState]) -> Notification:
        return (
            self.user_id,
            DEVICES_TOPIC,
            {"messageType": "DeviceStateChangeMessage", "devices": [d.to_wire() for d in devices]},
        )

    def channels_changed(self, channels: Sequence[ChannelState]) -> Notification:
        return (
            self.user_id,
            CHANNELS_TOPIC,
            {"messageType": "ChannelStateChangeMessage", "channels": [c.to_wire() for c in channels]},
        )

    def changed(self, devices: Sequence[DeviceState], channels: Sequence[ChannelState]) -> list[Notification]:
        notifications = []
        if devices:
            notifications.append(self.devices_changed(devices))
        if channels:
            notifications.append(self.channels_changed(channels))
        return notifications
