"""E-mail: invitations, Accept, Reply/ReplyAll/Forward, Send and CancelReplyEmail, CreateEmail, Reject,
revocation, Transfer, PlaceInQueue, UpdateProperties, StopProcessing, workbins and attachments.

Seed: Interactions API Operations, Interactions On E-mail Channel (+ Notifications), Interaction
Notifications, Attachments API, Workbins; errata E18, E24, E57-E68, E75. The customer's e-mail is a
stimulus (without an adapter these scenarios report "needs stimulus"); everything else is the agents'
own API calls. Each scenario holds the agents it uses (lifecycle.Cast), makes them Ready on e-mail,
listens to /v2/me/interactions (and /v2/me/workbins where workbins are used), claims every message
they receive there and ends every interaction it started, even when a step fails.

Queue names: the reference names SimpleEmailInQueue and SimpleEmailOutQueue; a reply is composed in
the ``outQueues`` queue the Accepted message names, else in SimpleEmailOutQueue, and PlaceInQueue puts
an e-mail back into the queue it came from (``currentQueue``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from conformance.api import ANY, Channel, Interaction, Session, Workbin
from conformance.config import Settings
from conformance.overlap import at_once
from conformance.stimulus import StimulusAdapter, StimulusUnavailable
from conformance.suite.scenarios.interaction_steps import INTERACTIONS, WORKBINS, Interactions, handled, ready_on
from conformance.suite.scenarios.lifecycle import (
    REFUSAL,
    Cast,
    Party,
    capabilities_of,
    cast_fixture,
    quiet,
    require_listed,
)
from conformance.suite.scenarios.support import require, should

pytestmark = [pytest.mark.feature("api-multimedia"), pytest.mark.needs_stimulus]

SUPPORT = "support@contact-center.example"
OUT_QUEUE = "SimpleEmailOutQueue"  # the seed's outbound queue (E-mail Accepted capture, outQueues)
CAPABILITIES = ("GWS-IXN-020",)
SPELLING = ("GWS-IXN-022", "GWS-EMAIL-018")
LOWER_CAMEL = {
    "toaddress": "toAddress",
    "fromaddress": "fromAddress",
    "ccaddresses": "ccAddresses",
    "subject": "subject",
    "text": "text",
}


cast = cast_fixture()


# -- reading e-mail messages ----------------------------------------------------------------------------


def field_of(message: dict[str, Any], name: str) -> Any:
    """A member of email_object whatever its casing (E06: ToAddress and toAddress are both seen)."""
    email = message.get("email_object")
    if not isinstance(email, dict):
        return None
    return next((value for key, value in email.items() if key.lower() == name.lower()), None)


def subject_of(message: dict[str, Any]) -> Any:
    """The subject of an e-mail message: email_object.subject, else userData.Subject (the capture's place)."""
    subject = field_of(message, "subject")
    user_data = message.get("userData")
    if subject is None and isinstance(user_data, dict):
        subject = user_data.get("Subject")
    return subject


def lines(text: Any) -> list[str]:
    """A body as lines, whatever the line breaks (CRLF in the capture, LF elsewhere)."""
    return str(text or "").replace("\r\n", "\n").rstrip("\n").split("\n") if text else []


def camel_case(message: dict[str, Any]) -> None:
    email = message.get("email_object")
    members = email if isinstance(email, dict) else {}
    other = [key for key in members if key.lower() in LOWER_CAMEL and key != LOWER_CAMEL[key.lower()]]
    should(
        not other,
        "email_object members not in lowerCamelCase",
        f"{message.get('state')} message of {message.get('id')}: {other}",
        "GWS-EMAIL-005",
    )


# -- the steps ------------------------------------------------------------------------------------------


class Mail:
    """One scenario's e-mail: the stimulus that sends customers' e-mails and what the agents hear."""

    def __init__(
        self, cast: Cast, stimulus: StimulusAdapter, *parties: Party, workbins: bool = False, ready: bool = True
    ) -> None:
        """``ready``: make the parties Ready on e-mail (else the scenario decides)."""
        self.stimulus = stimulus
        self.customer = f"customer-{uuid.uuid4().hex[:8]}@example.test"
        for party in parties if ready else ():
            ready_on(cast, party, "email")
        topics = (INTERACTIONS, WORKBINS) if workbins else (INTERACTIONS,)
        self.heard = Interactions(cast, *parties, topics=topics, spelling=SPELLING, capabilities=CAPABILITIES)

    def receive(
        self, party: Party, *, subject: str, text: str = "", cc: str = "", reply_to: str = ""
    ) -> dict[str, Any]:
        """A customer's e-mail offered to ``party``: EmailInvited, with Accept and Reject."""
        caused = self.stimulus.inbound_email(
            from_address=self.customer,
            to_address=SUPPORT,
            subject=subject,
            text=text,
            cc_addresses=cc,
            reply_to_address=reply_to,
            agent=party.stimulus_party(),
        )
        invite = self.heard.hear_invitation(
            party,
            caused,
            "the e-mail invitation",
            where=lambda data: (
                data.get("channel") == "email" and (caused.get("interactionId") or subject_of(data) == subject)
            ),
        )
        listed = capabilities_of(invite)
        require(
            {"Accept", "Reject"} <= set(listed) and isinstance(invite.get("email_object"), dict),
            "An e-mail invitation without Accept and Reject or without email_object",
            f"{invite!r}",
            "GWS-EMAIL-001",
        )
        should(
            field_of(invite, "subject") == subject,
            "The invitation's email_object has no subject",
            f"email_object {invite.get('email_object')!r}; the e-mail's subject is {subject!r}",
            "GWS-EMAIL-002",
        )
        return invite

    def accept(self, party: Party, invite: dict[str, Any], *, subject: str = "", text: str = "") -> dict[str, Any]:
        """Accept: statusCode 0 and the e-mail in state Accepted with its content."""
        require_listed("Accept", invite, f"e-mail {invite['id']}", *CAPABILITIES)
        Interaction(party.client, invite["id"]).accept()
        accepted = self.heard.hear(party, "the e-mail Accepted", interaction_id=invite["id"], state="Accepted")
        if subject:
            shown = {name: field_of(accepted, name) for name in ("toAddress", "fromAddress", "subject", "text")}
            require(
                shown["toAddress"] == SUPPORT
                and shown["fromAddress"] == self.customer
                and shown["subject"] == subject
                and lines(shown["text"]) == lines(text),
                "The Accepted e-mail does not carry the e-mail's addresses, subject and text",
                f"sent: to {SUPPORT}, from {self.customer}, subject {subject!r}, text {text!r}; "
                f"email_object shows {shown!r}",
                "GWS-EMAIL-004",
            )
        camel_case(accepted)
        return accepted

    def respond(self, party: Party, original: dict[str, Any], operation: str, **options: Any) -> dict[str, Any]:
        """Reply, ReplyAll or Forward: a new outbound e-mail in state ReplyCreated, with Send and a cancel."""
        require_listed(operation, original, f"e-mail {original['id']}", *CAPABILITIES)
        interaction = Interaction(party.client, original["id"])
        if operation == "Forward":
            reply = interaction.forward(**options)
        else:
            reply = {"Reply": interaction.reply, "ReplyAll": interaction.reply_all}[operation](
                compose_queue(original), **options
            )
        created_id = reply.get("replyInteractionId")
        should(
            isinstance(created_id, str),
            f"{operation} does not answer replyInteractionId",
            f"{reply.body!r}",
            "GWS-EMAIL-011",
            evidence=[reply.exchange],
        )
        created = self.heard.hear(
            party,
            f"the e-mail {operation} created",
            interaction_id=created_id if isinstance(created_id, str) else None,
            state="ReplyCreated",
            where=lambda data: data["id"] != original["id"],
        )
        listed = capabilities_of(created)
        require(
            "Send" in listed and ("CancelReplyEmail" in listed or "Cancel" in listed),
            "A created e-mail does not offer Send and its cancellation",
            f"capabilities {listed}",
            "GWS-EMAIL-017",
        )
        should(
            "CancelReplyEmail" in listed,
            "The cancel capability is not named CancelReplyEmail",
            f"capabilities {listed}",
            "GWS-EMAIL-018",
        )
        camel_case(created)
        return created

    def gone(self, party: Party, interaction_id: str, why: str, *ids: str) -> None:
        require(
            not handled(party, interaction_id),
            f"After {why} the e-mail is still the agent's",
            f"GET /me/interactions of {party.role} still lists {interaction_id}",
            *ids,
        )


def outgoing(created: dict[str, Any], text: str) -> dict[str, str]:
    """Send's email_object (E06 lowerCamelCase): the created e-mail as shown, with the agent's text; no
    toAddress when the e-mail has none (that Send must be refused, GWS-EMAIL-014)."""
    email = {
        "subject": str(field_of(created, "subject") or "(no subject)"),
        "text": text,
        "fromAddress": str(field_of(created, "fromAddress") or SUPPORT),
    }
    if field_of(created, "toAddress"):
        email["toAddress"] = str(field_of(created, "toAddress"))
    return email


def compose_queue(accepted: dict[str, Any]) -> str:
    out = accepted.get("outQueues")
    return next(iter(out), OUT_QUEUE) if isinstance(out, dict) and out else OUT_QUEUE


def subject(prefix: str = "gws") -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


# -- scenarios ------------------------------------------------------------------------------------------

ORIGINAL_TEXT = "Hello,\nmy order has not arrived.\nRegards"


@pytest.mark.requirement(
    "GWS-IXN-024",  # every interaction message it claims carries capabilities (conformance.habits)
    "GWS-EMAIL-001",
    "GWS-EMAIL-002",
    "GWS-EMAIL-004",
    "GWS-EMAIL-005",
    "GWS-EMAIL-006",
    "GWS-EMAIL-007",
    "GWS-EMAIL-008",
    "GWS-EMAIL-010",
    "GWS-EMAIL-011",
    "GWS-EMAIL-013",
    "GWS-EMAIL-017",
    "GWS-EMAIL-018",
    "GWS-IXN-001",
    "GWS-IXN-002",
    "GWS-IXN-003",
    "GWS-IXN-008",
    "GWS-IXN-010",
    "GWS-IXN-020",
    "GWS-IXN-021",
    "GWS-IXN-022",
    *REFUSAL,
)
def test_email_accept_reply_send(cast: Cast, gws_stimulus: StimulusAdapter, gws_client: Callable[[str], Any]) -> None:
    """Invited -> Accept -> Reply (addresses, subject prefix, quoting) -> Send; the original StopProcessing."""
    (a,) = cast.take("agent2")
    mail = Mail(cast, gws_stimulus, a)
    about = subject()
    invite = mail.receive(a, subject=about, text=ORIGINAL_TEXT)
    mail.heard.refuse(a, invite, "StopProcessing")
    require(
        handled(a, invite["id"]),
        "An invitation is not among the agent's interactions",
        f"GET /me/interactions of {a.role} does not list {invite['id']}",
        "GWS-IXN-001",
    )
    read = Interaction(a.client, invite["id"]).get().get("interaction") or {}
    require(
        read.get("id") == invite["id"],
        "GET /interactions/{id} does not answer the interaction",
        f"{read!r}",
        "GWS-IXN-002",
    )
    everyone = Session(gws_client("admin")).list_interactions(fields="*").items("interactions")
    require(
        any(item.get("id") == invite["id"] for item in everyone),
        "An administrator's GET /interactions does not list an active interaction",
        f"{invite['id']} not among {[item.get('id') for item in everyone]}",
        "GWS-IXN-003",
    )

    accepted = mail.accept(a, invite, subject=about, text=ORIGINAL_TEXT)
    mail.heard.refuse(a, accepted, "Accept")

    created = mail.respond(
        a,
        accepted,
        "Reply",
        subjectPrefix="Re: ",
        quoteOriginal=True,
        replyToStartLine="You wrote:",
        indentCharacter="> ",
    )
    require(
        created.get("interactionSubType") == "OutboundReply",
        "A reply is not OutboundReply",
        f"interactionSubType {created.get('interactionSubType')!r}",
        "GWS-EMAIL-006",
    )
    require(
        field_of(created, "toAddress") == mail.customer and field_of(created, "fromAddress") == SUPPORT,
        "The reply is not addressed back to the customer from the address written to",
        f"to {field_of(created, 'toAddress')!r} (expected {mail.customer}), from "
        f"{field_of(created, 'fromAddress')!r} (expected {SUPPORT})",
        "GWS-EMAIL-007",
    )
    require(
        field_of(created, "subject") == f"Re: {about}",
        "The reply's subject is not subjectPrefix + subject",
        f"{field_of(created, 'subject')!r}, expected {'Re: ' + about!r}",
        "GWS-EMAIL-008",
    )
    quoted = ["You wrote:", *(f"> {line}" for line in lines(ORIGINAL_TEXT))]
    require(
        lines(field_of(created, "text")) == quoted,
        "The reply does not quote the original as asked",
        f"text {field_of(created, 'text')!r}, expected the lines {quoted}",
        "GWS-EMAIL-010",
    )
    mail.heard.refuse(a, created, "Accept")

    require_listed("Send", created, f"e-mail {created['id']}", *CAPABILITIES)
    Interaction(a.client, created["id"]).send(OUT_QUEUE, outgoing(created, "We are on it."))
    mail.gone(a, created["id"], "Send", "GWS-EMAIL-013")
    require(
        handled(a, accepted["id"]),
        "Sending the reply ended the original",
        f"{accepted['id']} should still be handled",
        "GWS-EMAIL-013",
    )

    require_listed("StopProcessing", accepted, f"e-mail {accepted['id']}", *CAPABILITIES)
    Interaction(a.client, accepted["id"]).stop_processing()
    mail.gone(a, accepted["id"], "StopProcessing", "GWS-IXN-010")
    quiet(a)


@pytest.mark.requirement(
    "GWS-EMAIL-007",
    "GWS-EMAIL-008",
    "GWS-EMAIL-009",
    "GWS-EMAIL-010",
    "GWS-EMAIL-012",
    "GWS-EMAIL-013",
    "GWS-EMAIL-014",
    "GWS-EMAIL-015",
    "GWS-EMAIL-017",
    *REFUSAL,
)
def test_email_reply_all_forward_cancel(cast: Cast, gws_stimulus: StimulusAdapter) -> None:
    """ReplyAll (Reply-To, CC, no prefix, no quote) -> CancelReplyEmail; Forward -> Send; Send with no address."""
    (a,) = cast.take("agent2")
    mail = Mail(cast, gws_stimulus, a)
    about, cc, reply_to = subject(), "boss@example.test", f"replies-{uuid.uuid4().hex[:6]}@example.test"
    accepted = mail.accept(
        a,
        mail.receive(a, subject=about, text=ORIGINAL_TEXT, cc=cc, reply_to=reply_to),
        subject=about,
        text=ORIGINAL_TEXT,
    )

    created = mail.respond(a, accepted, "ReplyAll", quoteOriginal=False)
    shown = {name: field_of(created, name) for name in ("toAddress", "fromAddress", "ccAddresses", "subject", "text")}
    require(
        shown["toAddress"] == reply_to and shown["fromAddress"] == SUPPORT,
        "A reply does not go to the Reply-To address",
        f"{shown!r}; Reply-To {reply_to}",
        "GWS-EMAIL-007",
    )
    require(
        shown["ccAddresses"] == cc,
        "ReplyAll does not copy the CC addresses",
        f"{shown!r}; the original's CC {cc}",
        "GWS-EMAIL-009",
    )
    require(
        shown["subject"] == about,
        "A reply without subjectPrefix does not keep the subject",
        f"{shown!r}",
        "GWS-EMAIL-008",
    )
    require(not shown["text"], "A reply with quoteOriginal false is not empty", f"{shown!r}", "GWS-EMAIL-010")
    cancel = "CancelReplyEmail" if "CancelReplyEmail" in capabilities_of(created) else "Cancel"
    require_listed(cancel, created, f"e-mail {created['id']}", *CAPABILITIES)
    Interaction(a.client, created["id"]).cancel_reply_email()
    mail.gone(a, created["id"], "CancelReplyEmail", "GWS-EMAIL-015")

    forwarded_to = f"colleague-{uuid.uuid4().hex[:6]}@example.test"
    forward = mail.respond(a, accepted, "Forward", to_address=forwarded_to)
    require(
        field_of(forward, "toAddress") == forwarded_to,
        "Forward is not addressed to toAddress",
        f"toAddress {field_of(forward, 'toAddress')!r}, expected {forwarded_to}",
        "GWS-EMAIL-012",
    )
    Interaction(a.client, forward["id"]).send(OUT_QUEUE, outgoing(forward, "FYI"))
    mail.gone(a, forward["id"], "Send", "GWS-EMAIL-013")

    unaddressed = mail.respond(a, accepted, "Forward")
    if not field_of(unaddressed, "toAddress"):
        Interaction(a.client, unaddressed["id"]).send(OUT_QUEUE, outgoing(unaddressed, "FYI"), expect=1)
        mail.heard.refuse(a, unaddressed, "Accept")
    Interaction(a.client, unaddressed["id"]).cancel_reply_email()
    Interaction(a.client, accepted["id"]).stop_processing()
    quiet(a)


@pytest.mark.requirement("GWS-EMAIL-013", "GWS-EMAIL-014", "GWS-EMAIL-017", "GWS-EMAIL-019", "GWS-IXN-022", *REFUSAL)
def test_create_email_and_send(cast: Cast, gws_stimulus: StimulusAdapter) -> None:
    """CreateEmail: a new outbound e-mail (ReplyCreated, OutboundNew); Send needs an address, then it is gone."""
    (a,) = cast.take("agent2")
    mail = Mail(cast, gws_stimulus, a)
    reply = a.agent.create_email(OUT_QUEUE)
    known = reply.get("id")
    created = mail.heard.hear(
        a, "the new e-mail", interaction_id=known if isinstance(known, str) else None, state="ReplyCreated"
    )
    require(
        created.get("interactionSubType") == "OutboundNew",
        "CreateEmail's e-mail is not OutboundNew",
        f"interactionSubType {created.get('interactionSubType')!r}",
        "GWS-EMAIL-019",
    )
    listed = capabilities_of(created)
    require(
        "Send" in listed and ("CancelReplyEmail" in listed or "Cancel" in listed),
        "A created e-mail does not offer Send and its cancellation",
        f"capabilities {listed}",
        "GWS-EMAIL-017",
    )

    email = Interaction(a.client, created["id"])
    email.send(OUT_QUEUE, outgoing(created, "No address yet"), expect=1)
    mail.heard.refuse(a, created, "Accept")
    email.send(
        OUT_QUEUE,
        {
            "toAddress": mail.customer,
            "fromAddress": SUPPORT,
            "subject": subject("news"),
            "text": "Your order shipped.",
            "ccAddress": "boss@example.test",
        },
    )
    mail.gone(a, created["id"], "Send", "GWS-EMAIL-013")
    quiet(a)


@pytest.mark.requirement("GWS-IXN-009", "GWS-EMAIL-001", *REFUSAL)
def test_email_reject_offers_it_to_another_agent(cast: Cast, gws_stimulus: StimulusAdapter) -> None:
    """Reject: statusCode 0, the e-mail leaves the agent and is offered to the other Ready agent.

    The other configured agents are held and made NotReady on e-mail, so that the one Ready agent left
    is the one routing must choose (a target with more agents Ready on e-mail may choose another).
    """
    a, b, *others = cast.take("agent2", "agent3", "agent1", "supervisor", whole_pool=True)
    at_once([functools.partial(Channel(other.client, "email").not_ready, expect=ANY) for other in others])
    mail = Mail(cast, gws_stimulus, a, b)
    invite = mail.receive(a, subject=subject())
    require_listed("Reject", invite, f"e-mail {invite['id']}", *CAPABILITIES)
    Interaction(a.client, invite["id"]).reject()
    mail.gone(a, invite["id"], "Reject", "GWS-IXN-009")
    offered = mail.heard.hear(b, "the rejected e-mail offered", interaction_id=invite["id"], state="Invited")
    mail.heard.refuse(b, offered, "StopProcessing")
    accepted = mail.accept(b, offered)
    Interaction(b.client, accepted["id"]).stop_processing()
    quiet(a, b)


@pytest.mark.requirement("GWS-IXN-007", "GWS-EMAIL-001")
def test_email_offered_only_while_ready(cast: Cast, gws_stimulus: StimulusAdapter) -> None:
    """An e-mail arriving while every configured agent is NotReady on e-mail invites none of them; once the
    agent is Ready, routing offers it to that agent.

    The other configured agents are held and NotReady on e-mail throughout (a target with more agents
    Ready on e-mail may give the e-mail to one of those instead).
    """
    a, *others = cast.take("agent2", "agent3", "agent1", "supervisor", whole_pool=True)
    at_once([functools.partial(Channel(party.client, "email").not_ready, expect=ANY) for party in (a, *others)])
    mail = Mail(cast, gws_stimulus, a, *others, ready=False)
    about = subject()
    caused = gws_stimulus.inbound_email(from_address=mail.customer, to_address=SUPPORT, subject=about)
    # Nobody NotReady on e-mail is invited: a full window, as the invitation that must not come now is the
    # very message the next step expects, so the final check could not tell that it came too early.
    quiet(a, *others)

    ready_on(cast, a, "email")
    waiting = caused.get("interactionId")
    if isinstance(waiting, str):
        # A sandbox without a routing engine is told to route again; a real one offers the e-mail by itself.
        with contextlib.suppress(StimulusUnavailable):
            gws_stimulus.route(waiting)
    invite = mail.heard.hear(
        a,
        "the e-mail offered once Ready",
        state="Invited",
        timeout_s=caused.wait_s,
        where=lambda data: data["id"] == waiting or subject_of(data) == about,
    )
    accepted = mail.accept(a, invite)
    Interaction(a.client, accepted["id"]).stop_processing()
    quiet(a, *others)


@pytest.mark.requirement("GWS-IXN-024", "GWS-EMAIL-003", "GWS-IXN-021")
def test_email_revoked(cast: Cast, gws_stimulus: StimulusAdapter) -> None:
    """The system withdraws an unanswered invitation: EmailRevoked, no capabilities; it is no longer the agent's."""
    (a,) = cast.take("agent2")
    mail = Mail(cast, gws_stimulus, a)
    invite = mail.receive(a, subject=subject())
    caused = gws_stimulus.revoke(invite["id"], agent=a.stimulus_party())
    revoked = mail.heard.hear(
        a, "the invitation Revoked", interaction_id=invite["id"], state="Revoked", timeout_s=caused.wait_s
    )
    require(
        capabilities_of(revoked) == [] and isinstance(revoked.get("capabilities"), list),
        "A revoked invitation still offers operations",
        f"capabilities {revoked.get('capabilities')!r}",
        "GWS-EMAIL-003",
    )
    mail.gone(a, invite["id"], "the revocation", "GWS-EMAIL-003")
    Interaction(a.client, invite["id"]).accept(expect=(2, 5, 6))
    quiet(a)


@pytest.mark.requirement("GWS-IXN-016", "GWS-IXN-008", "GWS-GEN-011", *REFUSAL)
def test_email_transfer(cast: Cast, gws_stimulus: StimulusAdapter) -> None:
    """Transfer to another agent: the e-mail leaves the sender, the target is invited and accepts it."""
    a, b = cast.take("agent2", "agent3")
    mail = Mail(cast, gws_stimulus, a, b)
    about = subject()
    accepted = mail.accept(a, mail.receive(a, subject=about, text=ORIGINAL_TEXT), subject=about, text=ORIGINAL_TEXT)
    email = Interaction(a.client, accepted["id"])
    email.transfer(None, expect=1)
    mail.heard.refuse(a, accepted, "Accept")
    require_listed("Transfer", accepted, f"e-mail {accepted['id']}", *CAPABILITIES)
    email.transfer(b.id)
    mail.gone(a, accepted["id"], "Transfer", "GWS-IXN-016")
    invited = mail.heard.hear(b, "the transferred e-mail offered", interaction_id=accepted["id"], state="Invited")
    taken = mail.accept(b, invited, subject=about, text=ORIGINAL_TEXT)
    mail.heard.refuse(b, taken, "Accept")
    Interaction(b.client, taken["id"]).stop_processing()
    quiet(a, b)


@pytest.mark.requirement("GWS-IXN-006", "GWS-IXN-011", "GWS-IXN-012", "GWS-IXN-013", "GWS-GEN-011", *REFUSAL)
def test_email_update_properties_and_place_in_queue(cast: Cast, gws_stimulus: StimulusAdapter) -> None:
    """UpdateProperties (accepted; shown in userData), PlaceInQueue (queue required; the e-mail leaves the agent);
    an interaction id that does not exist is answered 6."""
    (a,) = cast.take("agent2")
    mail = Mail(cast, gws_stimulus, a)
    nowhere = Interaction(a.client, f"gws-no-such-{uuid.uuid4().hex[:12]}")
    nowhere.get(expect=6)
    nowhere.update({"gwsCase": "none"}, expect=6)
    nowhere.accept(expect=6)
    accepted = mail.accept(a, mail.receive(a, subject=subject()))
    email = Interaction(a.client, accepted["id"])
    case = f"case-{uuid.uuid4().hex[:8]}"
    require_listed("UpdateProperties", accepted, f"e-mail {accepted['id']}", *CAPABILITIES)
    email.update_properties({"gwsCase": case, "gwsPriority": "2"})
    user_data = (email.get().get("interaction") or {}).get("userData") or {}
    should(
        user_data.get("gwsCase") == case and user_data.get("gwsPriority") == "2",
        "UpdateProperties does not show in userData",
        f"userData after UpdateProperties: {user_data!r}",
        "GWS-IXN-013",
    )
    # E18: no message is defined for UpdateProperties; whatever the server sends about it stays unclaimed.
    email.place_in_queue(None, expect=1)
    mail.heard.refuse(a, accepted, "Accept")
    queue = accepted.get("currentQueue") if isinstance(accepted.get("currentQueue"), str) else "SimpleEmailInQueue"
    require_listed("PlaceInQueue", accepted, f"e-mail {accepted['id']}", *CAPABILITIES)
    email.place_in_queue(queue)
    mail.gone(a, accepted["id"], "PlaceInQueue", "GWS-IXN-011")
    quiet(a)


@pytest.mark.requirement(
    "GWS-WB-001",
    "GWS-WB-002",
    "GWS-WB-003",
    "GWS-WB-005",
    "GWS-WB-006",
    "GWS-WB-007",
    "GWS-WB-008",
    "GWS-WB-009",
    "GWS-IXN-014",
    "GWS-IXN-021",
    *REFUSAL,
)
def test_email_workbin_place_and_pull(cast: Cast, gws_stimulus: StimulusAdapter, gws_settings: Settings) -> None:
    """PlaceInWorkbin and AddInteractionToWorkbin, the workbin's content, PullInteractionFromWorkbin,
    WorkbinEvents while subscribed and none after Unsubscribe."""
    (a,) = cast.take("agent2")
    workbins = a.agent.list_my_workbins().items("workbins")
    require(
        bool(workbins)
        and all({"workbinId", "workbinName", "viewName", "active", "workbinType"} <= set(w) for w in workbins),
        "GET /me/workbins does not describe the agent's workbins",
        f"{workbins!r}",
        "GWS-WB-001",
    )
    chosen = next((w for w in workbins if w.get("workbinName") == "TestWorkbin"), workbins[0])
    workbin = Workbin(a.client, str(chosen["workbinId"]))
    workbin.subscribe()
    cast.on_cleanup(lambda: workbin.unsubscribe(expect=ANY))
    mail = Mail(cast, gws_stimulus, a, workbins=True)
    accepted = mail.accept(a, mail.receive(a, subject=subject()))
    email = Interaction(a.client, accepted["id"])
    entry = f"{gws_settings.base_url.rstrip('/')}/me/workbins/{workbin.id}/interactions/{accepted['id']}"

    def event(operation: str) -> dict[str, Any]:
        record = a.messages.expect(
            WORKBINS,
            lambda data: (
                data.get("workbinContentOperation") == operation and data["interaction"]["id"] == accepted["id"]
            ),
            f"the WorkbinEvent {operation}",
        )
        info = record.data.get("workbinInfo") or {}
        require(
            isinstance(record.data.get("operation"), str)
            and info.get("workbinTypeId") in (chosen.get("workbinName"), chosen.get("workbinId")),
            "A WorkbinEvent does not name its operation and workbin",
            f"{record.data!r}",
            "GWS-WB-008",
        )
        return record.data

    def in_workbin() -> bool:
        items = workbin.get_content(fields="*").items("interactions")
        return any(
            str(item.get("id", item.get("InteractionId", item.get("interactionId")))) == accepted["id"]
            for item in items
        )

    def pull(uri: str) -> dict[str, Any]:
        a.agent.pull_interaction_from_workbin(uri)
        pulled = mail.heard.hear(a, "the e-mail Pulled", interaction_id=accepted["id"], state="Pulled")
        require(
            handled(a, accepted["id"]),
            "A pulled e-mail is not the agent's again",
            f"{accepted['id']} not in GET /me/interactions",
            "GWS-WB-007",
        )
        return pulled

    require_listed("PlaceInWorkbin", accepted, f"e-mail {accepted['id']}", *CAPABILITIES)
    email.place_in_workbin(workbin.id)
    placed = event("PlacedIn")
    require(
        placed["interaction"].get("state") == "Queued",
        "An interaction in a workbin message is not Queued",
        f"{placed['interaction']!r}",
        "GWS-IXN-021",
    )
    mail.gone(a, accepted["id"], "PlaceInWorkbin", "GWS-IXN-014")
    require(
        in_workbin(),
        "The workbin's content does not list the e-mail placed in it",
        f"{accepted['id']} not in GET /me/workbins/{workbin.id}/interactions?fields=*",
        "GWS-IXN-014",
        "GWS-WB-005",
    )
    pulled = pull(entry)
    event("TakenOut")
    mail.heard.refuse(a, pulled, "Accept")

    require_listed("PlaceInWorkbin", pulled, f"e-mail {accepted['id']}", *CAPABILITIES)
    added = workbin.add_interaction(accepted["id"])
    require(
        isinstance(added.get("uri"), str),
        "AddInteractionToWorkbin does not answer the entry's uri",
        f"{added.body!r}",
        "GWS-WB-006",
        evidence=[added.exchange],
    )
    event("PlacedIn")
    require(
        in_workbin(),
        "The workbin's content does not list the e-mail added to it",
        f"{accepted['id']} not in the content",
        "GWS-WB-006",
        "GWS-WB-005",
    )
    pull(str(added["uri"]))
    event("TakenOut")

    workbin.unsubscribe()
    email.place_in_workbin(workbin.id)
    pull(entry)  # no WorkbinEvent now: the final quiet proves it
    Workbin(a.client, "gws-no-such-workbin").get_content(fields="*", expect=6)
    workbin.add_interaction(f"gws-no-such-{uuid.uuid4().hex[:8]}", expect=(2, 6))
    email.stop_processing()
    quiet(a)


@pytest.mark.requirement(
    "GWS-ATT-001",
    "GWS-ATT-003",
    "GWS-ATT-004",
    "GWS-ATT-005",
    "GWS-ATT-006",
    "GWS-ATT-007",
    "GWS-IXN-016",
)
def test_email_attachments(cast: Cast, gws_stimulus: StimulusAdapter) -> None:
    """Upload -> listed on the e-mail -> identical download -> listed for the agent it is transferred to ->
    delete -> gone."""
    a, b = cast.take("agent2", "agent3")
    mail = Mail(cast, gws_stimulus, a, b)
    accepted = mail.accept(a, mail.receive(a, subject=subject()))
    email = Interaction(a.client, accepted["id"])
    name, content, mime = f"gws-{uuid.uuid4().hex[:8]}.pdf", b"%PDF-1.4\n" + os.urandom(2048), "application/pdf"

    email.upload_attachment(name, content, part="document", expect=1)
    uploaded = email.upload_attachment(name, content, content_type=mime)
    document = uploaded.get("documentId")
    require(
        isinstance(document, str) and bool(document),
        "An upload does not answer its documentId",
        f"{uploaded.body!r}",
        "GWS-ATT-001",
        evidence=[uploaded.exchange],
    )
    listed = field_of(email.get().get("interaction") or {}, "attachments") or []
    should(
        any(isinstance(x, dict) and x.get("id") == document for x in listed),
        "An uploaded attachment is not listed on its e-mail",
        f"email_object.attachments {listed!r}",
        "GWS-ATT-007",
    )

    def downloads(party: Party) -> None:
        got = Interaction(party.client, accepted["id"]).get_attachment(str(document)).response
        media_type = got.headers.get("content-type", "").partition(";")[0].strip().lower()
        require(
            got.content == content and media_type == mime,
            "A download is not the uploaded file with its MIME type",
            f"{len(got.content)} bytes of type {media_type!r}; uploaded {len(content)} bytes of {mime}",
            "GWS-ATT-004",
            evidence=[got.exchange],
        )

    downloads(a)
    email.transfer(b.id)
    invited = mail.heard.hear(
        b, "the e-mail with its attachment offered", interaction_id=accepted["id"], state="Invited"
    )
    taken = mail.accept(b, invited)
    shown = [x for x in field_of(taken, "attachments") or [] if isinstance(x, dict) and x.get("id") == document]
    require(
        bool(shown) and {"id", "name", "size", "mimetype"} <= set(shown[0]) and shown[0].get("name") == name,
        "The Accepted e-mail does not list its attachment with id, name, size and mimetype",
        f"email_object.attachments {field_of(taken, 'attachments')!r}",
        "GWS-ATT-006",
    )
    downloads(b)

    mine = Interaction(b.client, accepted["id"])
    mine.delete_attachment(str(document))
    mine.get_attachment(str(document), expect=6)
    mine.stop_processing()
    quiet(a, b)
