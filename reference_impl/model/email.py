"""E-mail interactions: inbound invitations, replies and forwards, outbound e-mails, workbins.

    Invited --Accept--> Accepted --Reply/ReplyAll/Forward--> (a new interaction in ReplyCreated)
       |                   |--Transfer--> Invited (at the target agent)
       |--Reject--> Invited at the next ready agent, or Queued when nobody is ready
       '--revoke (system)--> Revoked
    Accepted/ReplyCreated --PlaceInWorkbin--> Queued (in the workbin) --pull--> Pulled
    Accepted --PlaceInQueue--> Queued ; --StopProcessing--> Stopped
    ReplyCreated --Send--> Sent ; --CancelReplyEmail--> Cancelled

A reply follows the seed's rules (Interactions On E-mail Channel > Reply, ReplyAll): to = the
original's reply-to address (its from address when it has none), from = the original's to address,
subject = subjectPrefix + the original subject, body empty unless quoteOriginal (default false for
Reply and Forward, true for ReplyAll), then replyToStartLine and the original text with
indentCharacter before every line; ReplyAll copies the original CC. Forward is a Reply to the
address the agent gives (``toAddress``, optional: E24 lets Send supply it).

Decisions where the seed is silent (written up in the errata):
- indentCharacter goes at the start of every line of the original (the seed: "before each newline"),
  the first included; lines keep the original's line break (CRLF or LF).
- A Forward interaction has interactionSubType ``OutboundRedirect`` (Genesys's subtype for a
  forward), a Reply/ReplyAll ``OutboundReply``.
- Reject offers the e-mail to the next Ready agent not in DND that has not rejected it; with none
  left it waits in its queue (state Queued, no owner).
- A Pulled e-mail has the capabilities of the state it was placed from: an inbound one those of
  Accepted, an outbound one those of ReplyCreated.
- UpdateProperties merges ``properties`` into userData, one level deep; no message (E18).
- The id of the interaction a Reply/ReplyAll/Forward/CreateEmail creates is the ``id`` of the
  EmailReplyCreated message returned (the handler replies it as replyInteractionId, E24).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from . import InvalidOperation, MissingAttribute, Notification, optional
from .interaction import INTERACTIONS_TOPIC, ContactCenter, Interaction, truthy

__all__ = ["EmailContent", "EmailInteraction", "create_email", "receive_email"]


@dataclass(frozen=True)
class EmailContent:
    to_address: str = ""
    from_address: str = ""
    cc_addresses: str = ""
    bcc_addresses: str = ""
    reply_to_address: str = ""
    subject: str = ""
    text: str = ""
    mime_type: str = "text/plain"


# email_object member of a Send request (lowerCamelCase, E06) -> EmailContent field
_SEND_FIELDS = {
    "toAddress": "to_address",
    "fromAddress": "from_address",
    "ccAddress": "cc_addresses",
    "bccAddress": "bcc_addresses",
    "subject": "subject",
    "text": "text",
}
_WORKING = ("Accepted", "ReplyCreated", "Pulled")  # the states in which the owner works on it


class EmailInteraction(Interaction):
    """POST /me/interactions/{id} on an e-mail."""

    channel = "email"
    # fmt: off
    TABLE: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "Invited": ("Accept", "Reject"),
        "Accepted": ("Transfer", "Reply", "ReplyAll", "Forward", "StopProcessing", "PlaceInQueue",
                     "PlaceInWorkbin", "UpdateProperties"),
        "ReplyCreated": ("CancelReplyEmail", "Send", "PlaceInWorkbin", "UpdateProperties"),
    }
    # fmt: on
    # queueName on Reply/ReplyAll: E65 makes it required (the seed does not mark it optional).
    REQUIRED: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "Transfer": ("targetId",),
        "Reply": ("queueName",),
        "ReplyAll": ("queueName",),
        "PlaceInQueue": ("queue",),
        "PlaceInWorkbin": ("workbin",),
        "UpdateProperties": ("properties",),
    }

    def __init__(
        self,
        center: ContactCenter,
        content: EmailContent,
        *,
        inbound: bool,
        state: str,
        owner: str | None,
        sub_type: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            center,
            interaction_type="Inbound" if inbound else "Outbound",
            sub_type=sub_type,
            state=state,
            owner=owner,
            **kwargs,
        )
        self.content = content
        self.inbound = inbound
        self.rejected_by: set[str] = set()
        self.attachments: list[dict[str, Any]] = []

    def _row(self) -> str:
        if self.state == "Pulled":
            return "Accepted" if self.inbound else "ReplyCreated"
        return self.state

    def view_for(self, user_id: str) -> EmailInteraction | None:
        return self if self.owner == user_id and self.state in ("Invited", *_WORKING) else None

    # -- messages ------------------------------------------------------------------------------------

    def email_object(self) -> dict[str, Any]:
        content = self.content
        if self.state in ("Invited", "Revoked", "Queued"):  # the seed's invitation shows only these
            return {"interactionId": self.id, "subject": content.subject}
        email: dict[str, Any] = {
            "interactionId": self.id,
            "toAddress": content.to_address,
            "fromAddress": content.from_address,
            "subject": content.subject,
            "text": content.text,
            "mimeType": content.mime_type,
        }
        if content.cc_addresses:
            email["ccAddresses"] = content.cc_addresses
        if self.attachments:
            email["attachments"] = [dict(a) for a in self.attachments]
        return email

    def body(self, state: str | None = None, capabilities: list[str] | None = None) -> dict[str, Any]:
        body = super().body(state or self.state, self.capabilities() if capabilities is None else capabilities)
        body["email_object"] = self.email_object()
        return body

    def message(self, user_id: str | None = None) -> Notification:
        user = user_id or self.owner
        assert user is not None
        return (user, INTERACTIONS_TOPIC, self.body())

    # -- the outside world (stimulus) and routing ------------------------------------------------------

    def offer(self, user_id: str) -> list[Notification]:
        """Routing delivers the waiting e-mail to an agent: Invited."""
        if self.state not in ("Queued", "Revoked") or self.workbin is not None:
            raise InvalidOperation(f"e-mail {self.id} is not waiting in a queue (state {self.state})")
        self.state, self.owner = "Invited", user_id
        return [self.message()]

    def revoke(self) -> list[Notification]:
        """The system takes an invitation back (agent inactivity): Revoked, capabilities []."""
        if self.state != "Invited":
            raise InvalidOperation(f"e-mail {self.id} is not an invitation (state {self.state})")
        agent, self.state = self.owner, "Revoked"
        self.owner = None
        assert agent is not None
        return [self.message(agent)]

    def pulled_by(self, user_id: str) -> list[Notification]:
        """Taken out of its workbin by ``user_id`` (workbin.py calls this): Pulled."""
        self.state, self.owner, self.workbin = "Pulled", user_id, None
        return [self.message()]

    def add_attachment(self, name: str, mimetype: str, size: int) -> dict[str, Any]:
        """A document uploaded to this e-mail (the bytes stay in the store); its id is the documentId."""
        attachment = {"id": self.center.context.new_id(), "name": name, "size": size, "mimetype": mimetype}
        self.attachments.append(attachment)
        return attachment

    def remove_attachment(self, attachment_id: str) -> None:
        if not any(a["id"] == attachment_id for a in self.attachments):
            raise InvalidOperation(f"e-mail {self.id} has no attachment {attachment_id!r}")
        self.attachments = [a for a in self.attachments if a["id"] != attachment_id]

    # -- operations ----------------------------------------------------------------------------------

    def _op_Accept(self, **attributes: Any) -> list[Notification]:
        self.state = "Accepted"
        return [self.message()]

    def _op_Reject(self, **attributes: Any) -> list[Notification]:
        assert self.owner is not None
        self.rejected_by.add(self.owner)
        following = self.center.routing.next_ready(self.channel, exclude=set(self.rejected_by))
        self.state, self.owner = ("Invited", following) if following else ("Queued", None)
        return [self.message()] if following else []

    def _op_Transfer(self, **attributes: Any) -> list[Notification]:
        assert self.owner is not None
        self.owner = self._checked_agent(attributes, "targetId", self.owner)
        self.state = "Invited"
        return [self.message()]

    def _op_Reply(self, **attributes: Any) -> list[Notification]:
        return self._respond(attributes, quote_by_default=False, cc=False)

    def _op_ReplyAll(self, **attributes: Any) -> list[Notification]:
        return self._respond(attributes, quote_by_default=True, cc=True)

    def _op_Forward(self, **attributes: Any) -> list[Notification]:
        to_address = self._optional_text(attributes, "toAddress")
        return self._respond(attributes, quote_by_default=False, cc=False, to_address=to_address)

    def _op_StopProcessing(self, **attributes: Any) -> list[Notification]:
        self.state, self.owner = "Stopped", None
        return []

    def _op_PlaceInQueue(self, **attributes: Any) -> list[Notification]:
        self._queued(self._checked_queue(attributes))
        return []

    def _op_PlaceInWorkbin(self, **attributes: Any) -> list[Notification]:
        assert self.owner is not None
        actor = self.owner
        workbin = self._checked_workbin(attributes, actor)
        self._queued(f"{workbin.name}/PrivateQueue")
        self.workbin = workbin
        return workbin.placed(self, actor)

    def _op_UpdateProperties(self, **attributes: Any) -> list[Notification]:
        return self._update_properties(attributes)

    def _op_Send(self, **attributes: Any) -> list[Notification]:
        email = optional(attributes, "email_object", dict, {})
        changes = {}
        for member, field_name in _SEND_FIELDS.items():
            value = optional(email, member, str, blank_ok=True)
            if value is not None:
                changes[field_name] = value
        content = replace(self.content, **changes)
        if not content.to_address:
            raise MissingAttribute("the e-mail has no toAddress: give email_object.toAddress")
        queue = optional(attributes, "queueName")
        self.content, self.state, self.owner = content, "Sent", None
        self.current_queue = queue or self.current_queue
        return []

    def _op_CancelReplyEmail(self, **attributes: Any) -> list[Notification]:
        self.state, self.owner = "Cancelled", None
        return []

    # -- helpers -------------------------------------------------------------------------------------

    def _respond(
        self, attributes: dict[str, Any], *, quote_by_default: bool, cc: bool, to_address: str | None = None
    ) -> list[Notification]:
        """Reply, ReplyAll and Forward: a new outbound e-mail, parentId = this one, in ReplyCreated."""
        prefix = self._optional_text(attributes, "subjectPrefix")
        start_line = self._optional_text(attributes, "replyToStartLine")
        indent = self._optional_text(attributes, "indentCharacter")
        quote = attributes.get("quoteOriginal")
        quote_original = quote_by_default if quote is None else truthy("quoteOriginal", quote)
        queue = optional(attributes, "queueName")
        original = self.content
        content = EmailContent(
            to_address=(original.reply_to_address or original.from_address) if to_address is None else to_address,
            from_address=original.to_address,
            cc_addresses=original.cc_addresses if cc else "",
            subject=prefix + original.subject,
            text=quoted(original.text, start_line, indent) if quote_original else "",
            mime_type=original.mime_type,
        )
        sub_type = "OutboundReply" if to_address is None else "OutboundRedirect"
        reply = EmailInteraction(
            self.center,
            content,
            inbound=False,
            state="ReplyCreated",
            owner=self.owner,
            sub_type=sub_type,
            queue=queue,
            parent_id=self.id,
        )
        return [reply.message()]


def quoted(text: str, start_line: str, indent: str) -> str:
    """The original text as a reply quotes it: the start line, then every line behind the indent."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = [f"{indent}{line}" for line in text.splitlines()]
    return newline.join([start_line, *lines] if start_line else lines)


def receive_email(
    center: ContactCenter,
    *,
    from_address: str,
    to_address: str,
    subject: str,
    text: str = "",
    cc_addresses: str = "",
    reply_to_address: str = "",
    queue: str = "SimpleEmailInQueue",
    user_data: dict[str, Any] | None = None,
) -> EmailInteraction:
    """An e-mail arrives from a customer (stimulus): Queued until ``offer`` gives it to an agent."""
    content = EmailContent(
        to_address=to_address,
        from_address=from_address,
        cc_addresses=cc_addresses,
        reply_to_address=reply_to_address,
        subject=subject,
        text=text,
    )
    data = {"FromAddress": from_address, "To": to_address, "Subject": subject, **(user_data or {})}
    return EmailInteraction(
        center, content, inbound=True, state="Queued", owner=None, sub_type="InboundNew", queue=queue, user_data=data
    )


def create_email(center: ContactCenter, owner: str, **attributes: Any) -> tuple[EmailInteraction, list[Notification]]:
    """CreateEmail (POST /me/interactions): a new outbound e-mail, shown like a created reply (E18)."""
    queue = optional(attributes, "queueName")
    interaction_type = optional(attributes, "interactionType", str, "Outbound")
    sub_type = optional(attributes, "interactionSubType", str, "OutboundNew")
    if interaction_type != "Outbound":
        raise InvalidOperation(f"CreateEmail creates Outbound e-mails, not {interaction_type!r}")
    email = EmailInteraction(
        center, EmailContent(), inbound=False, state="ReplyCreated", owner=owner, sub_type=sub_type, queue=queue
    )
    return email, [email.message()]
