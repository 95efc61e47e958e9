"""Voice: devices (/devices, Do Not Disturb, forwarding, Dial) and calls (/me/calls/{id} call control).

A destination is a phone number; ``{"phoneNumber": ...}`` is the other form the contract accepts
(E50) — pass a dict to send it.
"""

from __future__ import annotations

from typing import Any

from conformance.api._core import OK, Expect, Reply, Resource, body, operation
from conformance.client import GwsClient

__all__ = ["Call", "Device"]

Destination = str | dict[str, str]


class Device(Resource):
    """One device: /devices/{id} and the Dial operations on it."""

    def __init__(self, client: GwsClient, device_id: str) -> None:
        super().__init__(client)
        self.id = device_id

    def _path_params(self) -> dict[str, str]:
        return {"id": self.id}

    @operation("GET /devices/{id}")
    def get(self, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"fields": fields}, expect=expect)

    @operation("POST /devices/{id}#DoNotDisturbOn")
    def dnd_on(self, *, expect: Expect = OK) -> Reply:
        return self._send(json=body("DoNotDisturbOn"), expect=expect)

    @operation("POST /devices/{id}#DoNotDisturbOff")
    def dnd_off(self, *, expect: Expect = OK) -> Reply:
        return self._send(json=body("DoNotDisturbOff"), expect=expect)

    @operation("POST /devices/{id}#ForwardCallsOn")
    def forward_calls_on(self, destination: Destination | None, *, expect: Expect = OK) -> Reply:
        return self._send(json=body("ForwardCallsOn", destination=destination), expect=expect)

    @operation("POST /devices/{id}#ForwardCallsOff")
    def forward_calls_off(self, *, expect: Expect = OK) -> Reply:
        return self._send(json=body("ForwardCallsOff"), expect=expect)

    @operation("POST /devices/{id}/calls#Dial")
    def dial(self, destination: Destination | None, *, expect: Expect = OK) -> Reply:
        """Dial (8.5.0 path, E10)."""
        return self._send(json=body("Dial", destination=destination), expect=expect)

    @operation("POST /me/devices/{id}/calls#Dial")
    def dial_from_my_device(self, destination: Destination | None, *, expect: Expect = OK) -> Reply:
        """Dial on the later releases' path (E10: a server MAY accept it)."""
        return self._send(json=body("Dial", destination=destination), expect=expect)


class Call(Resource):
    """One call of the current user: /me/calls/{id}."""

    def __init__(self, client: GwsClient, call_id: str) -> None:
        super().__init__(client)
        self.id = call_id

    def _path_params(self) -> dict[str, str]:
        return {"id": self.id}

    def _operate(self, name: str, expect: Expect, **attributes: Any) -> Reply:
        return self._send(json=body(name, **attributes), expect=expect)

    @operation("GET /me/calls/{id}")
    def get(self, *, expect: Expect = OK) -> Reply:
        return self._send(expect=expect)

    @operation("POST /me/calls/{id}#Answer")
    def answer(self, *, expect: Expect = OK) -> Reply:
        return self._operate("Answer", expect)

    @operation("POST /me/calls/{id}#Hangup")
    def hangup(self, *, expect: Expect = OK) -> Reply:
        return self._operate("Hangup", expect)

    @operation("POST /me/calls/{id}#Hold")
    def hold(self, *, expect: Expect = OK) -> Reply:
        return self._operate("Hold", expect)

    @operation("POST /me/calls/{id}#Retrieve")
    def retrieve(self, *, expect: Expect = OK) -> Reply:
        return self._operate("Retrieve", expect)

    @operation("POST /me/calls/{id}#SingleStepTransfer")
    def single_step_transfer(self, destination: Destination | None, *, expect: Expect = OK) -> Reply:
        return self._operate("SingleStepTransfer", expect, destination=destination)

    @operation("POST /me/calls/{id}#SingleStepConference")
    def single_step_conference(self, destination: Destination | None, *, expect: Expect = OK) -> Reply:
        return self._operate("SingleStepConference", expect, destination=destination)

    @operation("POST /me/calls/{id}#InitiateConference")
    def initiate_conference(self, destination: Destination | None, *, expect: Expect = OK) -> Reply:
        return self._operate("InitiateConference", expect, destination=destination)

    @operation("POST /me/calls/{id}#CompleteConference")
    def complete_conference(self, consult_call_uri: str | None, *, expect: Expect = OK) -> Reply:
        return self._operate("CompleteConference", expect, consultCallUri=consult_call_uri)

    @operation("POST /me/calls/{id}#SendDtmf")
    def send_dtmf(self, digits: str | None, *, expect: Expect = OK) -> Reply:
        return self._operate("SendDtmf", expect, digits=digits)

    @operation("POST /me/calls/{id}#RemoveParticipantFromConference")
    def remove_participant_from_conference(self, participant: str | None, *, expect: Expect = OK) -> Reply:
        return self._operate("RemoveParticipantFromConference", expect, participant=participant)

    @operation("POST /me/calls/{id}#MuteCall")
    def mute(self, *, expect: Expect = OK) -> Reply:
        return self._operate("MuteCall", expect)

    @operation("POST /me/calls/{id}#UnmuteCall")
    def unmute(self, *, expect: Expect = OK) -> Reply:
        return self._operate("UnmuteCall", expect)

    @operation("POST /me/calls/{id}#SwapCalls")
    def swap_calls(self, other_call_uri: str | None, *, expect: Expect = OK) -> Reply:
        return self._operate("SwapCalls", expect, otherCallUri=other_call_uri)

    @operation("POST /me/calls/{id}#MergeWithOtherCall")
    def merge_with_other_call(self, other_call_uri: str | None, *, expect: Expect = OK) -> Reply:
        return self._operate("MergeWithOtherCall", expect, otherCallUri=other_call_uri)

    @operation("POST /me/calls/{id}#AttachUserData")
    def attach_user_data(self, user_data: dict[str, Any] | None, *, expect: Expect = OK) -> Reply:
        return self._operate("AttachUserData", expect, userData=user_data)

    @operation("POST /me/calls/{id}#UpdateUserData")
    def update_user_data(self, user_data: dict[str, Any] | None, *, expect: Expect = OK) -> Reply:
        return self._operate("UpdateUserData", expect, userData=user_data)

    @operation("POST /me/calls/{id}#DeleteUserData")
    def delete_user_data(self, user_data: dict[str, Any] | None, *, expect: Expect = OK) -> Reply:
        return self._operate("DeleteUserData", expect, userData=user_data)

    @operation("POST /me/calls/{id}#DeleteUserDataPair")
    def delete_user_data_pair(self, key: str | None, *, expect: Expect = OK) -> Reply:
        return self._operate("DeleteUserDataPair", expect, key=key)
