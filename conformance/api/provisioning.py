"""Provisioning: features, settings, users, skills, contacts, devices of users, recordings, routing templates.

``Session`` holds the operations any authenticated user may try (reads of the directory, the
agent-state definitions, ChangePassword on /users/{id}); ``Admin`` adds what the reference grants
the Contact Center Admin. The class only groups helpers: the permission matrix calls
``Admin(agent_client).create_user(...)`` to see an agent refused.
"""

from __future__ import annotations

import base64
from typing import Any

from conformance.api._core import OK, Expect, Reply, Resource, body, operation

__all__ = ["Admin", "Session", "b64"]


def b64(text: str | None, encoded: bool = False) -> str | None:
    """A password as the password operations send it (Asynchronous Operations — base64); None stays None
    (a missing attribute on purpose), and ``encoded`` text is sent as is (an invalid encoding on purpose)."""
    if text is None or encoded:
        return text
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


class Session(Resource):
    """Operations of every role: features, agent-state definitions, the directory, users' passwords."""

    # -- features ----------------------------------------------------------------------------------

    @operation("GET /features", collection="features")
    def list_features(self, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"fields": fields}, expect=expect)

    @operation("GET /features/{id}")
    def get_feature(self, feature_id: str, *, expect: Expect = OK) -> Reply:
        return self._send(path={"id": feature_id}, expect=expect)

    # -- settings everyone reads -------------------------------------------------------------------

    @operation("GET /settings/agent-states")
    def list_agent_states(self, *, expect: Expect = OK) -> Reply:
        return self._send(expect=expect)

    # -- users -------------------------------------------------------------------------------------

    @operation("GET /users", collection="users")
    def list_users(self, *, fields: str | None = None, subresources: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"fields": fields, "subresources": subresources}, expect=expect)

    @operation("GET /users/{id}")
    def get_user(
        self, user_id: str, *, fields: str | None = None, subresources: str | None = None, expect: Expect = OK
    ) -> Reply:
        return self._send(path={"id": user_id}, params={"fields": fields, "subresources": subresources}, expect=expect)

    @operation("POST /users/{id}#ChangePassword")
    def change_user_password(
        self, user_id: str, old: str | None, new: str | None, *, encoded: bool = False, expect: Expect = OK
    ) -> Reply:
        """ChangePassword of another user (supervisor, admin); passwords in clear text, sent base64."""
        payload = body("ChangePassword", oldPassword=b64(old, encoded), newPassword=b64(new, encoded))
        return self._send(path={"id": user_id}, json=payload, expect=expect)

    # -- contacts ----------------------------------------------------------------------------------

    @operation("GET /contacts", collection="contacts")
    def list_contacts(self, *, fields: str | None = None, expect: Expect = OK, **filters: str) -> Reply:
        """``filters``: contact attributes as query parameters (type=Custom, name=...), AND-combined."""
        return self._send(params={"fields": fields, **filters}, expect=expect)

    @operation("GET /contacts/{id}")
    def get_contact(self, contact_id: str, *, expect: Expect = OK) -> Reply:
        return self._send(path={"id": contact_id}, expect=expect)

    # -- devices and interactions everyone may list (an agent sees its own) ------------------------

    @operation("GET /devices", collection="devices")
    def list_devices(self, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"fields": fields}, expect=expect)

    @operation("GET /interactions", collection="interactions")
    def list_interactions(self, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"fields": fields}, expect=expect)

    # -- recordings (admin, supervisor) ------------------------------------------------------------

    @operation("GET /recordings", collection="recordings")
    def list_recordings(self, *, expect: Expect = OK, **params: Any) -> Reply:
        """``params``: startTime, endTime, callerPhoneNumber, dialedPhoneNumber, userName, offset, limit, fields."""
        return self._send(params=params, expect=expect)


class Admin(Session):
    """What the reference grants the Contact Center Admin."""

    # -- features and settings ---------------------------------------------------------------------

    @operation("DELETE /features/{id}")
    def delete_feature(self, feature_id: str, *, expect: Expect = OK) -> Reply:
        """Cloud Admin only (E26): declared so that the permission matrix can show others refused."""
        return self._send(path={"id": feature_id}, expect=expect)

    @operation("GET /system/features", collection="features")
    def list_system_features(self, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"fields": fields}, expect=expect)

    @operation("GET /settings")
    def list_settings_groups(self, *, expect: Expect = OK) -> Reply:
        return self._send(expect=expect)

    @operation("GET /settings/general-settings")
    def get_general_settings(self, *, expect: Expect = OK) -> Reply:
        return self._send(expect=expect)

    @operation("POST /settings/agent-states")
    def create_agent_state(
        self,
        operation_name: str | None,
        display_name: str | None,
        state: str | None,
        *,
        work_mode: str | None = None,
        reason: str | None = None,
        expect: Expect = OK,
        **extra: Any,
    ) -> Reply:
        descriptor = body(
            None, operationName=operation_name, displayName=display_name, state=state, workMode=work_mode, reason=reason
        )
        return self._send(json={**descriptor, **extra}, expect=expect)

    @operation("PUT /settings/agent-states")
    def update_agent_state(self, operation_name: str, *, expect: Expect = OK, **changes: Any) -> Reply:
        """``changes``: displayName, state, workMode, reason (wire names)."""
        return self._send(json={"operationName": operation_name, **changes}, expect=expect)

    @operation("DELETE /settings/agent-states")
    def delete_agent_state(self, operation_name: str, *, expect: Expect = OK) -> Reply:
        return self._send(json={"operationName": operation_name}, expect=expect)

    @operation("GET /system/routing-templates", collection="routingTemplates")
    def list_routing_templates(self, *, expect: Expect = OK, **params: Any) -> Reply:
        """``params``: channel, version, fields."""
        return self._send(params=params, expect=expect)

    # -- users -------------------------------------------------------------------------------------

    @operation("POST /users")
    def create_user(self, *, expect: Expect = OK, **attributes: Any) -> Reply:
        """``attributes`` in wire names: userName, password, firstName, lastName, roles, changePasswordOnFirstLogin."""
        return self._send(json=attributes, expect=expect)

    @operation("PUT /users/{id}")
    def update_user(self, user_id: str, *, expect: Expect = OK, **attributes: Any) -> Reply:
        return self._send(path={"id": user_id}, json=attributes, expect=expect)

    @operation("DELETE /users/{id}")
    def delete_user(self, user_id: str, *, expect: Expect = OK) -> Reply:
        return self._send(path={"id": user_id}, expect=expect)

    @operation("POST /users/{id}#ResetPassword")
    def reset_password(self, user_id: str, new: str | None, *, encoded: bool = False, expect: Expect = OK) -> Reply:
        return self._send(
            path={"id": user_id}, json=body("ResetPassword", newPassword=b64(new, encoded)), expect=expect
        )

    @operation("GET /users/{id}/skills", collection="skills")
    def list_user_skills(self, user_id: str, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(path={"id": user_id}, params={"fields": fields}, expect=expect)

    @operation("POST /users/{id}/skills")
    def assign_user_skill(self, user_id: str, skill_id: str, *, level: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(path={"id": user_id}, json=body(None, id=skill_id, level=level), expect=expect)

    @operation("GET /users/{id}/skills/{skillId}")
    def get_user_skill(self, user_id: str, skill_id: str, *, expect: Expect = OK) -> Reply:
        return self._send(path={"id": user_id, "skillId": skill_id}, expect=expect)

    @operation("DELETE /users/{id}/skills/{skillId}")
    def unassign_user_skill(self, user_id: str, skill_id: str, *, expect: Expect = OK) -> Reply:
        return self._send(path={"id": user_id, "skillId": skill_id}, expect=expect)

    @operation("GET /users/{id}/devices", collection="devices")
    def list_user_devices(self, user_id: str, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(path={"id": user_id}, params={"fields": fields}, expect=expect)

    @operation("POST /users/{id}/devices")
    def create_user_device(
        self,
        user_id: str,
        phone_number: str | None,
        *,
        model: str | None = None,
        telephony_network: str | None = None,
        expect: Expect = OK,
    ) -> Reply:
        device = body(None, phoneNumber=phone_number, model=model, telephonyNetwork=telephony_network)
        return self._send(path={"id": user_id}, json=device, expect=expect)

    # -- skills ------------------------------------------------------------------------------------

    @operation("GET /skills", collection="skills")
    def list_skills(self, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"fields": fields}, expect=expect)

    @operation("POST /skills")
    def create_skill(self, name: str | None, *, description: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(json=body(None, name=name, description=description), expect=expect)

    @operation("GET /skills/{id}")
    def get_skill(self, skill_id: str, *, expect: Expect = OK) -> Reply:
        return self._send(path={"id": skill_id}, expect=expect)

    @operation("DELETE /skills/{id}")
    def delete_skill(self, skill_id: str, *, expect: Expect = OK) -> Reply:
        return self._send(path={"id": skill_id}, expect=expect)

    # -- contacts ----------------------------------------------------------------------------------

    @operation("POST /contacts")
    def create_contact(self, *, expect: Expect = OK, **attributes: Any) -> Reply:
        """``attributes``: name, phoneNumber, type (Custom)."""
        return self._send(json=attributes, expect=expect)

    @operation("PUT /contacts/{id}")
    def update_contact(self, contact_id: str, *, expect: Expect = OK, **attributes: Any) -> Reply:
        return self._send(path={"id": contact_id}, json=attributes, expect=expect)

    @operation("DELETE /contacts/{id}")
    def delete_contact(self, contact_id: str, *, expect: Expect = OK) -> Reply:
        return self._send(path={"id": contact_id}, expect=expect)
