"""The current user: /me (agent state, Do Not Disturb, passwords, presence) and /me/channels/{channel}.

``Agent(client)`` is what an agent or supervisor does about itself; ``Channel(client, "email")`` is
one of its media channels. Passwords are given in clear text and sent base64-encoded.
"""

from __future__ import annotations

from conformance.api._core import OK, Expect, Reply, Resource, body, operation
from conformance.api.provisioning import Session, b64
from conformance.client import GwsClient

__all__ = ["Agent", "Channel"]


class Agent(Session):
    """POST /me operations and the /me reads."""

    @operation("GET /me")
    def get_me(self, *, subresources: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"subresources": subresources}, expect=expect)

    # -- agent state on every channel and device ---------------------------------------------------

    @operation("POST /me#Ready")
    def ready(self, *, work_mode: str | None = None, reason: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(json=body("Ready", workMode=work_mode, reason=reason), expect=expect)

    @operation("POST /me#NotReady")
    def not_ready(self, *, work_mode: str | None = None, reason: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(json=body("NotReady", workMode=work_mode, reason=reason), expect=expect)

    @operation("POST /me#*")
    def set_agent_state(self, operation_name: str, *, expect: Expect = OK) -> Reply:
        """A custom agent state: the operationName of a definition in /settings/agent-states."""
        return self._send(json=body(operation_name), expect=expect)

    @operation("POST /me#DoNotDisturbOn")
    def dnd_on(self, *, expect: Expect = OK) -> Reply:
        return self._send(json=body("DoNotDisturbOn"), expect=expect)

    @operation("POST /me#DoNotDisturbOff")
    def dnd_off(self, *, expect: Expect = OK) -> Reply:
        return self._send(json=body("DoNotDisturbOff"), expect=expect)

    # -- password and presence ---------------------------------------------------------------------

    @operation("POST /me#ChangePassword")
    def change_password(
        self,
        old: str | None,
        new: str | None,
        *,
        first_login: bool | str | None = None,
        encoded: bool = False,
        expect: Expect = OK,
    ) -> Reply:
        """Passwords in clear text (sent base64), or as sent when ``encoded``; ``first_login``: True/False,
        or a raw string to send as is (an invalid value on purpose)."""
        flag = first_login if isinstance(first_login, str) or first_login is None else str(first_login).lower()
        payload = body("ChangePassword", oldPassword=b64(old, encoded), newPassword=b64(new, encoded))
        return self._send(params={"firstLogin": flag}, json=payload, expect=expect)

    @operation("POST /me#StartContactCenterSession")
    def start_contact_center_session(
        self,
        channels: list[str],
        *,
        place: str | None = None,
        login_code: str | None = None,
        queue: str | None = None,
        expect: Expect = OK,
    ) -> Reply:
        payload = body("StartContactCenterSession", channels=channels, place=place, loginCode=login_code, queue=queue)
        return self._send(json=payload, expect=expect)

    @operation("POST /me#EndContactCenterSession")
    def end_contact_center_session(self, *, expect: Expect = OK) -> Reply:
        return self._send(json=body("EndContactCenterSession"), expect=expect)

    # -- what belongs to me ------------------------------------------------------------------------

    @operation("GET /me/devices", collection="devices")
    def list_my_devices(self, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"fields": fields}, expect=expect)

    @operation("GET /me/devices/{id}")
    def get_my_device(self, device_id: str, *, expect: Expect = OK) -> Reply:
        return self._send(path={"id": device_id}, expect=expect)

    @operation("GET /me/channels", collection="channels")
    def list_my_channels(self, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"fields": fields}, expect=expect)

    @operation("GET /me/skills", collection="skills")
    def list_my_skills(self, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"fields": fields}, expect=expect)

    @operation("GET /me/skills/{id}")
    def get_my_skill(self, skill_id: str, *, expect: Expect = OK) -> Reply:
        return self._send(path={"id": skill_id}, expect=expect)

    @operation("GET /me/calls", collection="calls")
    def list_my_calls(self, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"fields": fields}, expect=expect)

    def active_call_ids(self) -> list[str]:
        """The ids of the calls GET /me/calls lists and not Released, the answer unjudged (cleanup: a call whose
        messages never came is hung up all the same, so the next scenario on the device does not meet it)."""
        calls = self.list_my_calls(fields="*", expect=None).items("calls")
        return [
            str(call["id"]) for call in calls if call.get("state") != "Released" and isinstance(call.get("id"), str)
        ]

    @operation("GET /me/interactions", collection="interactions")
    def list_my_interactions(self, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"fields": fields}, expect=expect)

    @operation("POST /me/interactions#CreateEmail")
    def create_email(
        self,
        queue_name: str,
        *,
        interaction_type: str = "Outbound",
        interaction_sub_type: str = "OutboundNew",
        expect: Expect = OK,
    ) -> Reply:
        payload = body(
            "CreateEmail",
            queueName=queue_name,
            interactionType=interaction_type,
            interactionSubType=interaction_sub_type,
        )
        return self._send(json=payload, expect=expect)

    @operation("POST /me/interactions#PullInteractionFromWorkbin")
    def pull_interaction_from_workbin(self, uri: str, *, expect: Expect = OK) -> Reply:
        """``uri``: the interaction's uri as the workbin's content gives it."""
        return self._send(json=body("PullInteractionFromWorkbin", uri=uri), expect=expect)

    @operation("GET /me/workbins", collection="workbins")
    def list_my_workbins(self, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"fields": fields}, expect=expect)


class Channel(Resource):
    """One media channel of the current user: /me/channels/{channel}."""

    def __init__(self, client: GwsClient, name: str) -> None:
        super().__init__(client)
        self.name = name

    def _path_params(self) -> dict[str, str]:
        return {"channel": self.name}

    @operation("GET /me/channels/{channel}")
    def get(self, *, expect: Expect = OK) -> Reply:
        return self._send(expect=expect)

    @operation("POST /me/channels/{channel}#Ready")
    def ready(self, *, work_mode: str | None = None, reason: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(json=body("Ready", workMode=work_mode, reason=reason), expect=expect)

    @operation("POST /me/channels/{channel}#NotReady")
    def not_ready(self, *, work_mode: str | None = None, reason: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(json=body("NotReady", workMode=work_mode, reason=reason), expect=expect)

    @operation("POST /me/channels/{channel}#*")
    def set_agent_state(self, operation_name: str, *, expect: Expect = OK) -> Reply:
        return self._send(json=body(operation_name), expect=expect)

    @operation("POST /me/channels/{channel}#DoNotDisturbOn")
    def dnd_on(self, *, expect: Expect = OK) -> Reply:
        return self._send(json=body("DoNotDisturbOn"), expect=expect)

    @operation("POST /me/channels/{channel}#DoNotDisturbOff")
    def dnd_off(self, *, expect: Expect = OK) -> Reply:
        return self._send(json=body("DoNotDisturbOff"), expect=expect)
