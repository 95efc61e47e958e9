"""Voice calls between devices: the /me/calls operations and the /v2/me/calls notifications.

``Telephony`` is the switch: it places calls (Dial on POST /devices/{id}/calls) and takes the
outside world's events (a far end answers or hangs up, an outside caller rings a device). Each
party on a call has its own ``CallLeg`` -- the machine behind POST /me/calls/{id} -- with its own
id and uri (like a T-Server connection seen from one DN); the parties of one conversation share
a ``Call`` with one ``callUuid`` and one set of user data.

Decisions where the seed is silent (written up in the errata):
- Ids: one leg id per party (so /me/calls/{id} is always the caller's own view); callUuid shared.
- An outside number is a participant without a leg. When dialled (Dial, InitiateConference) the
  dialling leg stays Dialing until ``Telephony.far_end_answers``; when added by SingleStepTransfer
  or SingleStepConference it is connected at once (nobody on our side would see it ring).
- Do Not Disturb on the device reached (after forwarding): the request is accepted (statusCode 0,
  the operation is asynchronous) and fails by notification -- a CallOperationError message
  (errorMessage, deviceUri, connectionId, callUuid) on the requesting party. A dialling leg
  (Dial, InitiateConference) shows Dialing and then Released with the error; for
  SingleStepTransfer/SingleStepConference the leg keeps its state and only the error arrives.
- Forwarding: a device with forwarding on sends the call to its forwardTo number, one hop (the
  forward target's own forwarding is not followed, which also rules out loops).
- One active call per device: Dial, Answer and Retrieve are refused while the device already has
  a Dialing or Established call (hold it first, or use SwapCalls).
- SendDtmf digits: only 0..9, as the seed says ("each character is a digit 0..9").
- AttachUserData and UpdateUserData both merge into the call's user data (T-Server's attach
  appends, which JSON objects cannot show); DeleteUserDataPair of an absent key is refused.
- ``ani`` is the number the call came from (the seed's example has it on an internal call).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from . import (
    Context,
    InvalidOperation,
    Machine,
    Notification,
    check_phone_number,
    destination,
    last_path_segment,
    require,
)

__all__ = ["CALL_STATES", "Call", "CallLeg", "Endpoint", "Telephony"]

CALLS_TOPIC = "/v2/me/calls"
CALL_STATES = ("Dialing", "Ringing", "Established", "Held", "Released")
_USER_DATA_OPS = ("AttachUserData", "UpdateUserData", "DeleteUserData", "DeleteUserDataPair")
_BUSY = ("Dialing", "Established")  # a device with a leg in one of these has its one active call
_DTMF_DIGITS = frozenset("0123456789")


class Endpoint(Protocol):
    """What the switch needs to know about a device (agent_state.DeviceState provides it)."""

    @property
    def id(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def phone_number(self) -> str: ...
    @property
    def do_not_disturb(self) -> bool: ...
    @property
    def forward_to(self) -> str | None: ...


@dataclass(eq=False)
class Call:
    """One conversation: its parties, uuid and user data."""

    uuid: str
    ani: str
    dnis: str
    call_type: str  # Internal | Outbound | Inbound (the capture's callType)
    legs: list[CallLeg] = field(default_factory=list)
    externals: list[str] = field(default_factory=list)  # outside numbers on the call
    unanswered: str | None = None  # an outside number dialled and not answered yet
    user_data: dict[str, Any] = field(default_factory=dict)

    def active_legs(self) -> list[CallLeg]:
        return [leg for leg in self.legs if leg.state != "Released"]


class CallLeg(Machine):
    """One party's view of a call: POST /me/calls/{id}."""

    # fmt: off
    TABLE: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "Dialing": ("Hangup", "SendDtmf", *_USER_DATA_OPS),
        "Ringing": ("Answer", "Hangup", *_USER_DATA_OPS),
        "Established": ("Hangup", "Hold", "MuteCall", "UnmuteCall", "SendDtmf", "SingleStepTransfer",
                        "SingleStepConference", "InitiateConference", "CompleteConference",
                        "RemoveParticipantFromConference", "SwapCalls", "MergeWithOtherCall", *_USER_DATA_OPS),
        "Held": ("Retrieve", "Hangup", "CompleteConference", "MergeWithOtherCall", *_USER_DATA_OPS),
        "Released": (),
    }
    # fmt: on
    REQUIRED: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "SendDtmf": ("digits",),
        "AttachUserData": ("userData",),
        "UpdateUserData": ("userData",),
        "DeleteUserDataPair": ("key",),
        "SingleStepTransfer": ("destination",),
        "SingleStepConference": ("destination",),
        "InitiateConference": ("destination",),
        "CompleteConference": ("consultCallUri",),
        "RemoveParticipantFromConference": ("participant",),
        "SwapCalls": ("otherCallUri",),
        "MergeWithOtherCall": ("otherCallUri",),
    }

    def __init__(self, telephony: Telephony, call: Call, device: Endpoint, state: str) -> None:
        self.telephony = telephony
        self.id = telephony.context.new_id()
        self.call = call
        self.device = device
        self.state = state
        self.muted = False
        self.started_at = telephony.context.clock()
        self.consult: CallLeg | None = None  # the consultation this leg started (InitiateConference)
        self.consult_of: CallLeg | None = None  # the main leg, when this leg is a consultation
        call.legs.append(self)

    # -- what the leg sees -----------------------------------------------------------------------

    @property
    def uri(self) -> str:
        return f"{self.telephony.api_base}/me/calls/{self.id}"

    def participants(self) -> list[str]:
        numbers = [leg.device.phone_number for leg in self.call.active_legs() if leg is not self]
        return numbers + self.call.externals

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "callUuid": self.call.uuid,
            "deviceUri": self.telephony.device_uri(self.device),
            "uri": self.uri,
            "participants": self.participants(),
            "participantsInfo": [_participant_info(number) for number in self.participants()],
            "ani": self.call.ani,
            "dnis": self.call.dnis,
            "callType": self.call.call_type,
            "capabilities": self.capabilities(),
            "duration": str(max(0, int(self.telephony.context.clock() - self.started_at))),
            "mute": "On" if self.muted else "Off",
            "userData": dict(self.call.user_data),
        }

    def message(self, notification_type: str) -> Notification:
        return (
            self.device.user_id,
            CALLS_TOPIC,
            {
                "messageType": "CallStateChangeMessage",
                "notificationType": notification_type,
                "call": self.to_wire(),
                "phoneNumber": self.device.phone_number,
            },
        )

    def error(self, error_message: str) -> Notification:
        """The CallOperationError message: the call as it now is, plus what went wrong."""
        user_id, topic, data = self.message("StatusChange")
        data.update(
            deviceUri=self.telephony.device_uri(self.device),
            errorMessage=error_message,
            connectionId=self.id,
            callUuid=self.call.uuid,
        )
        return (user_id, topic, data)

    # -- guards ------------------------------------------------------------------------------------

    def _device_legs(self, *states: str) -> list[CallLeg]:
        return [leg for leg in self.telephony.legs_on(self.device.id) if leg is not self and leg.state in states]

    def _can_Answer(self) -> bool:
        return not self._device_legs(*_BUSY)

    _can_Retrieve = _can_Answer

    def _can_MuteCall(self) -> bool:
        return not self.muted

    def _can_UnmuteCall(self) -> bool:
        return self.muted

    def _can_InitiateConference(self) -> bool:
        return self.consult is None and self.consult_of is None and not self._device_legs("Dialing")

    def _can_CompleteConference(self) -> bool:
        consult = self.consult
        return consult is not None and consult.state in ("Established", "Held") and _connected(consult)

    def _can_RemoveParticipantFromConference(self) -> bool:
        return len(self.participants()) >= 2

    def _can_SwapCalls(self) -> bool:
        return bool(self._device_legs("Held"))

    def _can_MergeWithOtherCall(self) -> bool:
        return _connected(self) and any(_connected(leg) for leg in self._device_legs("Established", "Held"))

    # -- operations ----------------------------------------------------------------------------

    def _op_Answer(self, **attributes: Any) -> list[Notification]:
        dialing = [leg for leg in self.call.active_legs() if leg.state == "Dialing"]
        return self._set_states((self, "Established"), *((leg, "Established") for leg in dialing))

    def _op_Hangup(self, **attributes: Any) -> list[Notification]:
        return self.telephony.depart(self)

    def _op_Hold(self, **attributes: Any) -> list[Notification]:
        return self._set_states((self, "Held"))

    def _op_Retrieve(self, **attributes: Any) -> list[Notification]:
        return self._set_states((self, "Established"))

    def _op_MuteCall(self, **attributes: Any) -> list[Notification]:
        self.muted = True
        return [self.message("StatusChange")]

    def _op_UnmuteCall(self, **attributes: Any) -> list[Notification]:
        self.muted = False
        return [self.message("StatusChange")]

    def _op_SendDtmf(self, **attributes: Any) -> list[Notification]:
        digits = require(attributes, "digits")
        if not set(digits) <= _DTMF_DIGITS:
            raise InvalidOperation(f"digits must be 0..9 only, got {digits!r}")
        return [self.message("DtmfSent")]

    def _op_AttachUserData(self, **attributes: Any) -> list[Notification]:
        self.call.user_data.update(require(attributes, "userData", dict))
        return self._user_data_changed()

    _op_UpdateUserData = _op_AttachUserData

    def _op_DeleteUserData(self, **attributes: Any) -> list[Notification]:
        self.call.user_data.clear()
        return self._user_data_changed()

    def _op_DeleteUserDataPair(self, **attributes: Any) -> list[Notification]:
        key = require(attributes, "key")
        if key not in self.call.user_data:
            raise InvalidOperation(f"the call has no user data key {key!r}")
        del self.call.user_data[key]
        return self._user_data_changed()

    def _op_SingleStepTransfer(self, **attributes: Any) -> list[Notification]:
        number, endpoint = self._new_party(destination(attributes))
        if endpoint is not None and endpoint.do_not_disturb:
            return [self.error(f"destination {number} is in Do Not Disturb: transfer refused")]
        self.state = "Released"
        self._unlink()
        notifications = [self.message("StatusChange")]
        notifications += self.telephony.join(self.call, number, endpoint)
        return notifications

    def _op_SingleStepConference(self, **attributes: Any) -> list[Notification]:
        number, endpoint = self._new_party(destination(attributes))
        if endpoint is not None and endpoint.do_not_disturb:
            return [self.error(f"destination {number} is in Do Not Disturb: conference refused")]
        return self.telephony.join(self.call, number, endpoint)

    def _op_InitiateConference(self, **attributes: Any) -> list[Notification]:
        number, endpoint = self._new_party(destination(attributes))
        if endpoint is not None and endpoint.do_not_disturb:
            return self.telephony.refused_dial(self.device, number, self.call.user_data)
        notifications = self._set_states((self, "Held"))
        consult, more = self.telephony.place(self.device, number, endpoint, user_data=self.call.user_data)
        consult.consult_of, self.consult = self, consult
        return notifications + more

    def _op_CompleteConference(self, **attributes: Any) -> list[Notification]:
        consult = self.consult
        assert consult is not None  # the guard holds
        if last_path_segment(require(attributes, "consultCallUri")) != consult.id:
            raise InvalidOperation(f"consultCallUri must be this call's consultation, {consult.uri}")
        return self._merge(consult)

    def _op_MergeWithOtherCall(self, **attributes: Any) -> list[Notification]:
        other = self._other_leg(require(attributes, "otherCallUri"), ("Established", "Held"))
        if not _connected(other):
            raise InvalidOperation("the other call has nobody connected to merge")
        if set(other.participants()) & set(self.participants()):
            raise InvalidOperation("the two calls share a participant")
        return self._merge(other)

    def _op_SwapCalls(self, **attributes: Any) -> list[Notification]:
        other = self._other_leg(require(attributes, "otherCallUri"), ("Held",))
        return self._set_states((self, "Held"), (other, "Established"))

    def _op_RemoveParticipantFromConference(self, **attributes: Any) -> list[Notification]:
        participant = require(attributes, "participant")
        if participant not in self.participants():
            raise InvalidOperation(f"{participant!r} is not a participant (participants: {self.participants()})")
        notifications = []
        for leg in self.call.active_legs():
            if leg is not self and leg.device.phone_number == participant:
                leg.state = "Released"
                leg._unlink()
                notifications.append(leg.message("StatusChange"))
                break
        else:
            self.call.externals.remove(participant)
        return notifications + [leg.message("ParticipantsUpdated") for leg in self.call.active_legs()]

    # -- helpers -----------------------------------------------------------------------------------

    def _set_states(self, *changes: tuple[CallLeg, str]) -> list[Notification]:
        for leg, state in changes:
            leg.state = state
        return [leg.message("StatusChange") for leg, _ in changes]

    def _user_data_changed(self) -> list[Notification]:
        return [leg.message("AttachedDataChanged") for leg in self.call.active_legs()]

    def _new_party(self, dialled: str) -> tuple[str, Endpoint | None]:
        """Route the destination of a party to add to this call; refuse this device and present parties."""
        number, endpoint = self.telephony.route(dialled)
        if self.device.phone_number in (number, dialled):
            raise InvalidOperation(f"destination {dialled} is this device")
        if number in self.participants():
            raise InvalidOperation(f"destination {number} is already on the call")
        return number, endpoint

    def _other_leg(self, uri: str, states: tuple[str, ...]) -> CallLeg:
        leg_id = last_path_segment(uri)
        for leg in self._device_legs(*states):
            if leg.id == leg_id:
                return leg
        raise InvalidOperation(f"{uri!r} is not another {'/'.join(states)} call on this device")

    def _merge(self, other: CallLeg) -> list[Notification]:
        """Bring the other call's parties into this call; the other leg is released."""
        moving = [leg for leg in other.call.active_legs() if leg is not other]
        self.call.externals += other.call.externals
        other.call.externals = []
        for leg in moving:
            other.call.legs.remove(leg)
            leg.call = self.call
            self.call.legs.append(leg)
        other.state = "Released"
        other._unlink()
        notifications = [other.message("StatusChange")]
        if self.state == "Held":
            notifications += self._set_states((self, "Established"))
        return notifications + [leg.message("ParticipantsUpdated") for leg in self.call.active_legs()]

    def _unlink(self) -> None:
        """A released leg stops being anyone's consultation (and stops having one)."""
        if self.consult_of is not None:
            self.consult_of.consult = None
        if self.consult is not None:
            self.consult.consult_of = None
        self.consult = self.consult_of = None


def _connected(leg: CallLeg) -> bool:
    """Has the leg someone answered on the other end (so it can be merged)?"""
    others = [other for other in leg.call.active_legs() if other is not leg]
    answered_externals = [n for n in leg.call.externals if n != leg.call.unanswered]
    return bool(answered_externals) or any(other.state in ("Established", "Held") for other in others)


def _participant_info(number: str) -> dict[str, Any]:
    # The capture's fields and the seed's (E164digits, formattedPhoneNumber, isValidNumber, country);
    # no numbering plan is modelled, so every number is shown as dialled.
    return {
        "digits": number,
        "e164Number": number,
        "formattedPhoneNumber": number,
        "E164digits": number,
        "isValidNumber": False,
        "country": {"name": "", "code": "", "callingCode": ""},
    }


class Telephony:
    """The switch: every leg, dialling, routing (forwarding, DND) and the outside world's events."""

    def __init__(
        self,
        endpoints: Callable[[str], Endpoint | None],
        context: Context | None = None,
        api_base: str = "http://localhost:8080/api/v2",
    ) -> None:
        """``endpoints`` finds the device that owns a phone number (None: an outside number)."""
        self.endpoints = endpoints
        self.context = context or Context()
        self.api_base = api_base.rstrip("/")
        self.legs: dict[str, CallLeg] = {}

    def device_uri(self, device: Endpoint) -> str:
        return f"{self.api_base}/devices/{device.id}"

    def legs_on(self, device_id: str) -> list[CallLeg]:
        """The calls of a device that GET /me/calls lists (not Released)."""
        return [leg for leg in self.legs.values() if leg.device.id == device_id and leg.state != "Released"]

    def route(self, destination: str) -> tuple[str, Endpoint | None]:
        """Where a call to ``destination`` rings: forwarding followed one hop."""
        endpoint = self.endpoints(destination)
        if endpoint is not None and endpoint.forward_to:
            return endpoint.forward_to, self.endpoints(endpoint.forward_to)
        return destination, endpoint

    # -- Dial (POST /devices/{id}/calls) -------------------------------------------------------

    def dial(self, device: Endpoint, **attributes: Any) -> list[Notification]:
        dialled = destination(attributes)
        if [leg for leg in self.legs_on(device.id) if leg.state in _BUSY]:
            raise InvalidOperation("the device already has an active call: hold it first")
        number, endpoint = self.route(dialled)
        if device.phone_number in (dialled, number):
            raise InvalidOperation(f"destination {dialled} is the dialling device")
        if endpoint is not None and endpoint.do_not_disturb:
            return self.refused_dial(device, number)
        return self.place(device, number, endpoint)[1]

    def place(
        self, device: Endpoint, number: str, endpoint: Endpoint | None, user_data: dict[str, Any] | None = None
    ) -> tuple[CallLeg, list[Notification]]:
        """A new call from ``device`` to ``number``: the caller Dialing, an agent callee Ringing."""
        call = self._new_call(device.phone_number, number, "Internal" if endpoint else "Outbound", user_data)
        caller = self._new_leg(call, device, "Dialing")
        if endpoint is None:
            call.externals.append(number)
            call.unanswered = number
        else:
            self._new_leg(call, endpoint, "Ringing")
        # Both sides exist before either message is built: each shows the other as participant.
        return caller, [leg.message("StatusChange") for leg in call.legs]

    def refused_dial(
        self, device: Endpoint, number: str, user_data: dict[str, Any] | None = None
    ) -> list[Notification]:
        call = self._new_call(device.phone_number, number, "Internal", user_data)
        caller = self._new_leg(call, device, "Dialing")
        call.externals.append(number)  # shown as the dialled participant; no leg rings
        dialing = caller.message("StatusChange")
        call.externals = []
        caller.state = "Released"
        return [dialing, caller.error(f"destination {number} is in Do Not Disturb: call refused")]

    # -- parties joining and leaving -------------------------------------------------------------

    def join(self, call: Call, number: str, endpoint: Endpoint | None) -> list[Notification]:
        """A party added by SingleStepTransfer/SingleStepConference: an agent rings, an outsider is on."""
        notifications = []
        if endpoint is None:
            call.externals.append(number)
        else:
            notifications.append(self._new_leg(call, endpoint, "Ringing").message("StatusChange"))
        return notifications + [
            leg.message("ParticipantsUpdated") for leg in call.active_legs() if leg.state != "Ringing"
        ]

    def depart(self, leg: CallLeg) -> list[Notification]:
        """``leg`` hangs up: a conference goes on without it, a two-party call ends for everyone."""
        call = leg.call
        if len(leg.participants()) >= 2:
            leg.state = "Released"
            leg._unlink()
            return [leg.message("StatusChange")] + [
                other.message("ParticipantsUpdated") for other in call.active_legs()
            ]
        return self._release_all(call)

    def _release_all(self, call: Call) -> list[Notification]:
        ending = call.active_legs()
        for leg in ending:
            leg.state = "Released"
            leg._unlink()
        call.externals = []
        call.unanswered = None
        return [leg.message("StatusChange") for leg in ending]

    # -- the outside world (stimulus) -----------------------------------------------------------

    def far_end_answers(self, leg_id: str) -> list[Notification]:
        """The outside number a Dialing leg called answers: the leg is Established."""
        leg = self._leg(leg_id)
        if leg.state != "Dialing" or leg.call.unanswered is None:
            raise InvalidOperation(f"call {leg_id} is not dialling an outside number")
        leg.call.unanswered = None
        return leg._set_states((leg, "Established"))

    def far_end_hangs_up(self, leg_id: str, number: str | None = None) -> list[Notification]:
        """An outside party of the leg's call hangs up (the only one, unless ``number`` says which)."""
        call = self._leg(leg_id).call
        if number is None and len(call.externals) == 1:
            number = call.externals[0]
        if number is None or number not in call.externals:
            raise InvalidOperation(f"no outside party {number!r} on call {leg_id}")
        remaining = len(call.active_legs()) + len(call.externals) - 1
        if remaining < 2:
            return self._release_all(call)
        call.externals.remove(number)
        call.unanswered = None if call.unanswered == number else call.unanswered
        return [leg.message("ParticipantsUpdated") for leg in call.active_legs()]

    def inbound_call(self, from_number: str, to_number: str) -> list[Notification]:
        """An outside caller dials an agent's number: that device (or its forward target) rings."""
        check_phone_number("from", from_number)
        number, endpoint = self.route(to_number)
        if endpoint is None:
            raise InvalidOperation(f"{to_number} is not the number of a device")
        if endpoint.do_not_disturb:
            raise InvalidOperation(f"{number} is in Do Not Disturb: the call is not delivered")
        call = self._new_call(from_number, to_number, "Inbound", None)
        call.externals.append(from_number)
        return [self._new_leg(call, endpoint, "Ringing").message("StatusChange")]

    # -- construction --------------------------------------------------------------------------

    def _leg(self, leg_id: str) -> CallLeg:
        try:
            return self.legs[leg_id]
        except KeyError:
            raise InvalidOperation(f"no call {leg_id}") from None

    def _new_call(self, ani: str, dnis: str, call_type: str, user_data: dict[str, Any] | None) -> Call:
        return Call(
            uuid=self.context.new_id().upper(), ani=ani, dnis=dnis, call_type=call_type, user_data=dict(user_data or {})
        )

    def _new_leg(self, call: Call, device: Endpoint, state: str) -> CallLeg:
        leg = CallLeg(self, call, device, state)
        self.legs[leg.id] = leg
        return leg

    def snapshot(self) -> list[dict[str, Any]]:
        """Every leg as GET would show it: what a refused operation must leave unchanged."""
        return [leg.to_wire() | {"consult": leg.consult and leg.consult.id} for leg in self.legs.values()]
