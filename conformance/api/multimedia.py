"""Multimedia: interactions (general, e-mail and chat operations), their attachments, and workbins.

``Interaction(client, id)`` covers /interactions/{id} and /me/interactions/{id} (one interaction,
two views, E57); ``Workbin(client, id)`` covers /me/workbins/{workbinId}.
"""

from __future__ import annotations

from typing import Any

from conformance.api._core import OK, Expect, Reply, Resource, body, expect_status, operation
from conformance.client import GwsClient

__all__ = ["Interaction", "Workbin"]


class Interaction(Resource):
    """One interaction of the current user."""

    def __init__(self, client: GwsClient, interaction_id: str) -> None:
        super().__init__(client)
        self.id = interaction_id

    def _path_params(self) -> dict[str, str]:
        return {"id": self.id}

    def _operate(self, name: str, expect: Expect, **attributes: Any) -> Reply:
        return self._send(json=body(name, **attributes), expect=expect)

    # -- reading and updating ----------------------------------------------------------------------

    @operation("GET /interactions/{id}")
    def get(self, *, expect: Expect = OK) -> Reply:
        return self._send(expect=expect)

    @operation("PUT /interactions/{id}")
    def update(self, changes: dict[str, Any], *, expect: Expect = OK) -> Reply:
        return self._send(json=changes, expect=expect)

    # -- general operations ------------------------------------------------------------------------

    @operation("POST /me/interactions/{id}#Accept")
    def accept(self, *, nickname: str | None = None, expect: Expect = OK) -> Reply:
        return self._operate("Accept", expect, nickname=nickname)

    @operation("POST /me/interactions/{id}#Reject")
    def reject(self, *, expect: Expect = OK) -> Reply:
        return self._operate("Reject", expect)

    @operation("POST /me/interactions/{id}#StopProcessing")
    def stop_processing(self, *, expect: Expect = OK) -> Reply:
        return self._operate("StopProcessing", expect)

    @operation("POST /me/interactions/{id}#PlaceInQueue")
    def place_in_queue(self, queue: str | None, *, expect: Expect = OK) -> Reply:
        return self._operate("PlaceInQueue", expect, queue=queue)

    @operation("POST /me/interactions/{id}#UpdateProperties")
    def update_properties(self, properties: dict[str, Any] | None, *, expect: Expect = OK) -> Reply:
        return self._operate("UpdateProperties", expect, properties=properties)

    @operation("POST /me/interactions/{id}#PlaceInWorkbin")
    def place_in_workbin(self, workbin: str | None, *, expect: Expect = OK) -> Reply:
        return self._operate("PlaceInWorkbin", expect, workbin=workbin)

    @operation("POST /me/interactions/{id}#GetWorkbinContent")
    def get_workbin_content(self, workbin: str | None, *, expect: Expect = OK) -> Reply:
        return self._operate("GetWorkbinContent", expect, workbin=workbin)

    @operation("POST /me/interactions/{id}#Transfer")
    def transfer(self, target_id: str | None, *, expect: Expect = OK) -> Reply:
        return self._operate("Transfer", expect, targetId=target_id)

    @operation("POST /me/interactions/{id}#StartConference")
    def start_conference(self, agent_id: str | None, *, expect: Expect = OK) -> Reply:
        return self._operate("StartConference", expect, agentId=agent_id)

    @operation("POST /me/interactions/{id}#EndConference")
    def end_conference(self, agent_id: str | None, *, expect: Expect = OK) -> Reply:
        return self._operate("EndConference", expect, agentId=agent_id)

    # -- e-mail ------------------------------------------------------------------------------------

    @operation("POST /me/interactions/{id}#Reply")
    def reply(self, queue_name: str | None, *, expect: Expect = OK, **options: Any) -> Reply:
        """``options``: subjectPrefix, replyToStartLine, indentCharacter, quoteOriginal (wire names)."""
        return self._operate("Reply", expect, queueName=queue_name, **options)

    @operation("POST /me/interactions/{id}#ReplyAll")
    def reply_all(self, queue_name: str | None, *, expect: Expect = OK, **options: Any) -> Reply:
        return self._operate("ReplyAll", expect, queueName=queue_name, **options)

    @operation("POST /me/interactions/{id}#Forward")
    def forward(self, *, to_address: str | None = None, expect: Expect = OK) -> Reply:
        return self._operate("Forward", expect, toAddress=to_address)

    @operation("POST /me/interactions/{id}#Send")
    def send(self, queue_name: str | None, email_object: dict[str, Any] | None, *, expect: Expect = OK) -> Reply:
        """``email_object``: toAddress, fromAddress, subject, text, ccAddress, bccAddress (lowerCamelCase, E06)."""
        return self._operate("Send", expect, queueName=queue_name, email_object=email_object)

    @operation("POST /me/interactions/{id}#CancelReplyEmail")
    def cancel_reply_email(self, *, expect: Expect = OK) -> Reply:
        return self._operate("CancelReplyEmail", expect)

    # -- chat --------------------------------------------------------------------------------------

    @operation("POST /me/interactions/{id}#SendMessage")
    def send_message(self, text: str | None, *, expect: Expect = OK) -> Reply:
        return self._operate("SendMessage", expect, text=text)

    @operation("POST /me/interactions/{id}#SendNotification")
    def send_notification(self, notification: str | None, *, expect: Expect = OK) -> Reply:
        """``notification``: TypingStarted or TypingStopped."""
        return self._operate("SendNotification", expect, notification=notification)

    @operation("POST /me/interactions/{id}#RequestChatHistory")
    def request_chat_history(self, *, event_id: int | str | None = None, expect: Expect = OK) -> Reply:
        return self._operate("RequestChatHistory", expect, eventId=event_id)

    @operation("POST /me/interactions/{id}#InitiateConsultation")
    def initiate_consultation(self, agent_id: str | None, *, expect: Expect = OK) -> Reply:
        return self._operate("InitiateConsultation", expect, agentId=agent_id)

    @operation("POST /me/interactions/{id}#CompleteTransfer")
    def complete_transfer(self, *, expect: Expect = OK) -> Reply:
        return self._operate("CompleteTransfer", expect)

    @operation("POST /me/interactions/{id}#CompleteConference")
    def complete_conference(self, *, expect: Expect = OK) -> Reply:
        return self._operate("CompleteConference", expect)

    # -- attachments -------------------------------------------------------------------------------

    @operation("POST /me/interactions/{id}/attachments")
    def upload_attachment(
        self,
        filename: str,
        content: bytes,
        *,
        content_type: str = "application/octet-stream",
        part: str = "attachment",
        expect: Expect = OK,
    ) -> Reply:
        """Upload a file bound to the form part ``attachment`` (another ``part`` name: an upload without it,
        GWS-ATT-003); the reply carries documentId (E17)."""
        return self._send(files={part: (filename, content, content_type)}, expect=expect)

    @operation("GET /me/interactions/{id}/attachments/{attachmentId}")
    def get_attachment(self, attachment_id: str, *, expect: Expect = OK) -> Reply:
        """Download: on success the reply is the file itself (``reply.response.content``), not JSON."""
        reply = self._send(path={"attachmentId": attachment_id}, expect=None)
        downloaded = 200 <= reply.response.status_code < 300 and reply.status_code in (None, 0)
        if expect == OK and downloaded:
            return reply
        expect_status(reply, expect)
        return reply

    @operation("DELETE /me/interactions/{id}/attachments/{attachmentId}")
    def delete_attachment(self, attachment_id: str, *, expect: Expect = OK) -> Reply:
        return self._send(path={"attachmentId": attachment_id}, expect=expect)


class Workbin(Resource):
    """One workbin of the current user: /me/workbins/{workbinId}."""

    def __init__(self, client: GwsClient, workbin_id: str) -> None:
        super().__init__(client)
        self.id = workbin_id

    def _path_params(self) -> dict[str, str]:
        return {"workbinId": self.id}

    @operation("POST /me/workbins/{workbinId}#Subscribe")
    def subscribe(self, *, expect: Expect = OK) -> Reply:
        return self._send(json=body("Subscribe"), expect=expect)

    @operation("POST /me/workbins/{workbinId}#Unsubscribe")
    def unsubscribe(self, *, expect: Expect = OK) -> Reply:
        return self._send(json=body("Unsubscribe"), expect=expect)

    @operation("GET /me/workbins/{workbinId}/interactions")
    def get_content(self, *, fields: str | None = None, expect: Expect = OK) -> Reply:
        return self._send(params={"fields": fields}, expect=expect)

    @operation("POST /me/workbins/{workbinId}/interactions")
    def add_interaction(self, interaction_id: str | None, *, expect: Expect = OK) -> Reply:
        return self._send(json=body(None, interactionId=interaction_id), expect=expect)
