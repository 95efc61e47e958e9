"""Chat: invitation, Accept with a nickname (the history so far), the customer's and the agent's messages,
typing notifications, RequestChatHistory, consultation completed as a transfer or as a conference,
StartConference/EndConference (InvitedConference, LeftConference), revocation, StopProcessing.

Seed: Interactions On Chat Channel, Interaction Notifications (Chat Invited/Revoked/Accepted/
Notifications), Interactions API Operations (StartConference, EndConference); errata E04, E30, E51,
E69-E73. The customer is a stimulus (without an adapter these scenarios report "needs stimulus").
Each scenario holds its agents (lifecycle.Cast), makes the one the customer reaches Ready on chat,
claims every message its agents receive on /v2/me/interactions and ends the chat, even on failure.

Events an agent's own action causes on the chat (its message, its typing notices) may come back to it
as ChatNotifications: the message echo is a SHOULD (GWS-CHAT-007), the notices' echo is not graded.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from conformance.api import Interaction
from conformance.failures import Violation
from conformance.stimulus import StimulusAdapter
from conformance.suite.scenarios.interaction_steps import INTERACTIONS, Interactions, handled, ready_on
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

CAPABILITIES = ("GWS-IXN-020",)
SPELLING = ("GWS-IXN-022", "GWS-CHAT-018")
# E70: valid on an accepted chat whether or not listed; capabilities SHOULD list them (InitiateConsultation
# too, but only while the agent is alone on the chat).
CHAT_OPERATIONS = ("SendMessage", "SendNotification", "RequestChatHistory")


cast = cast_fixture()


# -- reading chat messages ------------------------------------------------------------------------------


def events(message: dict[str, Any]) -> list[dict[str, Any]]:
    value = message.get("chat_notifications")
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def texts(message: dict[str, Any]) -> list[Any]:
    return [e.get("MessageText") for e in events(message) if e.get("MessageType") == "NEW_MESSAGE"]


def carries(kind: str, **members: Any) -> Callable[[dict[str, Any]], bool]:
    """A message whose chat_notifications hold an event of MessageType ``kind`` with these members."""
    return lambda data: any(
        e.get("MessageType") == kind and all(e.get(k) == v for k, v in members.items()) for e in events(data)
    )


# -- the steps ------------------------------------------------------------------------------------------


class Chat:
    """One customer's chat: the stimulus that plays the customer and what the agents hear about it."""

    def __init__(self, cast: Cast, stimulus: StimulusAdapter, *parties: Party) -> None:
        self.cast = cast
        self.stimulus = stimulus
        self.customer = f"Customer-{uuid.uuid4().hex[:6]}"
        self.heard = Interactions(cast, *parties, spelling=SPELLING, capabilities=CAPABILITIES)
        self.id = ""

    def open(self, party: Party, *typed: str) -> dict[str, Any]:
        """The customer opens a chat (having typed ``typed``), offered to ``party``: ChatInvited."""
        ready_on(self.cast, party, "chat")
        caused = self.stimulus.inbound_chat(nickname=self.customer, messages=typed, agent=party.stimulus_party())
        invite = self.heard.hear_invitation(
            party, caused, "the chat invitation", where=lambda data: data.get("channel") == "chat"
        )
        require(
            invite.get("channel") == "chat" and {"Accept", "Reject"} <= set(capabilities_of(invite)),
            "A chat invitation without channel chat or without Accept and Reject",
            f"{invite!r}",
            "GWS-CHAT-001",
        )
        self.id = str(invite["id"])
        return invite

    def accept(self, party: Party, invite: dict[str, Any], nickname: str, *typed: str) -> dict[str, Any]:
        """Accept with a nickname: ChatAccepted, its chat_notifications the history so far."""
        require_listed("Accept", invite, f"chat {self.id}", *CAPABILITIES)
        Interaction(party.client, self.id).accept(nickname=nickname)
        accepted = self.heard.hear(
            party,
            "the chat Accepted with its history",
            interaction_id=self.id,
            state="Accepted",
            where=lambda data: "chat_notifications" in data,
        )
        history = events(accepted)
        require(
            list(typed) == texts(accepted)[: len(typed)]
            and any(e.get("MessageType") == "PARTY_JOINED" and e.get("NickName") == nickname for e in history),
            "ChatAccepted does not hold the history so far with the agent joined under its nickname",
            f"typed by the customer: {list(typed)}, nickname {nickname!r}; chat_notifications {history!r}",
            "GWS-CHAT-003",
        )
        ids = [e.get("EventId") for e in history]
        numbers = [i for i in ids if isinstance(i, int)]
        require(
            numbers == ids and numbers == sorted(set(numbers)),
            "Chat events are not in EventId order",
            f"EventIds {ids}",
            "GWS-CHAT-004",
        )
        listed = capabilities_of(accepted)
        should(
            set(CHAT_OPERATIONS) <= set(listed),
            "An accepted chat does not list the chat operations",
            f"capabilities {listed}; E70 expects {list(CHAT_OPERATIONS)}",
            "GWS-CHAT-018",
        )
        return accepted

    def customer_says(self, text: str, *parties: Party) -> dict[Party, dict[str, Any]]:
        """The customer writes: a ChatNotification with the NEW_MESSAGE for every agent on the chat."""
        caused = self.stimulus.customer_chat_message(self.id, text)
        return {
            party: self.heard.hear(
                party,
                "the customer's message",
                interaction_id=self.id,
                state="Accepted",
                where=carries("NEW_MESSAGE", MessageText=text),
                timeout_s=caused.wait_s,
            )
            for party in parties
        }

    def hear_event(self, party: Party, description: str, kind: str, **members: Any) -> dict[str, Any]:
        return self.heard.hear(
            party, description, interaction_id=self.id, state="Accepted", where=carries(kind, **members)
        )

    def allow_echoes(self, party: Party, since: int, predicate: Callable[[dict[str, Any]], bool]) -> None:
        """Echoes of the agent's own actions since listener index ``since`` (not graded: the server may send
        them or not), up to the message just claimed: the server answered those actions first, and CometD
        delivers in order, so any echo has arrived by now — no window to wait."""
        party.messages.allow(
            INTERACTIONS,
            lambda data: data.get("id") == self.id and predicate(data),
            after=since,
            before=party.messages.claimed(INTERACTIONS)[-1].index,
        )

    def joined(self, inviter: Party, invitee: Party, invitation: dict[str, Any], nickname: str) -> dict[str, Any]:
        """The invited agent accepts: its ChatAccepted; the agent already on the chat sees it join."""
        accepted = self.accept(invitee, invitation, nickname)
        self.hear_event(inviter, "the other agent joining", "PARTY_JOINED", NickName=nickname)
        return accepted

    def gone(self, party: Party, why: str, *ids: str) -> None:
        require(
            not handled(party, self.id),
            f"After {why} the chat is still the agent's",
            f"GET /me/interactions of {party.role} still lists {self.id}",
            *ids,
        )


def nickname(party: Party) -> str:
    return f"{party.role}-{uuid.uuid4().hex[:4]}"


# -- scenarios ------------------------------------------------------------------------------------------

TYPED = ("Hello?", "My parcel is lost.")


@pytest.mark.requirement(
    "GWS-IXN-024",  # every interaction message it claims carries capabilities (conformance.habits)
    "GWS-CHAT-001",
    "GWS-CHAT-003",
    "GWS-CHAT-004",
    "GWS-CHAT-005",
    "GWS-CHAT-006",
    "GWS-CHAT-007",
    "GWS-CHAT-008",
    "GWS-CHAT-009",
    "GWS-CHAT-010",
    "GWS-CHAT-017",
    "GWS-CHAT-018",
    "GWS-IXN-008",
    "GWS-IXN-010",
    "GWS-IXN-020",
    "GWS-IXN-021",
    "GWS-GEN-011",
    "GWS-GEN-012",
    *REFUSAL,
)
def test_chat_accept_messages_history(cast: Cast, gws_stimulus: StimulusAdapter) -> None:
    """Invited -> Accept(nickname) with the history -> the customer's message -> SendMessage, typing
    notifications -> RequestChatHistory from an event -> StopProcessing."""
    a, outsider = cast.take("agent3", "agent2")
    chat = Chat(cast, gws_stimulus, a, outsider)
    invite = chat.open(a, *TYPED)
    chat.heard.refuse(a, invite, "StopProcessing")
    accepted = chat.accept(a, invite, nickname(a), *TYPED)
    chat.heard.refuse(a, accepted, "CompleteTransfer")

    latest = chat.customer_says("Are you there?", a)[a]
    chat.heard.refuse(a, latest, "Accept")

    me = Interaction(a.client, chat.id)
    me.send_message("Yes, looking into it.")
    try:
        chat.hear_event(a, "the agent's own message echoed", "NEW_MESSAGE", MessageText="Yes, looking into it.")
    except Violation as missing:
        should(False, "The agent's message is not echoed as a ChatNotification", missing.message, "GWS-CHAT-007")
    me.send_message(None, expect=1)
    notices = a.listener.mark()
    me.send_notification("TypingStarted")
    me.send_notification("TypingStopped")
    me.send_notification("Dancing", expect=2)

    second = next(e["EventId"] for e in events(accepted) if e.get("MessageText") == TYPED[1])
    me.request_chat_history(event_id=second)
    history = chat.heard.hear(
        a,
        "the history from an event on",
        interaction_id=chat.id,
        state="Accepted",
        where=lambda data: bool(events(data)) and events(data)[0].get("EventId") == second,
    )
    chat.allow_echoes(
        a, notices, lambda data: bool(events(data)) and all(e.get("MessageType") != "NEW_MESSAGE" for e in events(data))
    )
    wanted = [TYPED[1], "Are you there?", "Yes, looking into it."]
    require(
        texts(history) == wanted,
        "RequestChatHistory does not send the history from the event asked for",
        f"from EventId {second} the messages {wanted} were expected; chat_notifications {events(history)!r}",
        "GWS-CHAT-009",
    )
    Interaction(outsider.client, chat.id).request_chat_history(expect=(5, 6))
    chat.heard.refuse(a, history, "Accept")

    require_listed("StopProcessing", history, f"chat {chat.id}", *CAPABILITIES)
    me.stop_processing()
    chat.gone(a, "StopProcessing", "GWS-IXN-010")
    quiet(a, outsider)


@pytest.mark.requirement(
    "GWS-CHAT-005",
    "GWS-CHAT-011",
    "GWS-CHAT-012",
    "GWS-CHAT-014",
    "GWS-CHAT-017",
    "GWS-IXN-008",
    *REFUSAL,
)
def test_chat_consultation_completed_as_transfer(cast: Cast, gws_stimulus: StimulusAdapter) -> None:
    """InitiateConsultation -> the consulted agent invited and joining -> CompleteTransfer: the chat is theirs."""
    a, b = cast.take("agent3", "agent2")
    chat = Chat(cast, gws_stimulus, a, b)
    invite = chat.open(a, *TYPED)
    chat.accept(a, invite, nickname(a), *TYPED)
    invitation = consult(chat, a, b)
    joined_as = nickname(b)
    chat.joined(a, b, invitation, joined_as)
    latest = chat.customer_says("Hello both?", a, b)

    require_listed("CompleteTransfer", latest[a], f"chat {chat.id}", *CAPABILITIES)
    Interaction(a.client, chat.id).complete_transfer()
    chat.hear_event(b, "the consulting agent leaving", "PARTY_LEFT")
    chat.gone(a, "CompleteTransfer", "GWS-CHAT-014")
    require(
        handled(b, chat.id),
        "After CompleteTransfer the consulted agent does not have the chat",
        f"GET /me/interactions of {b.role} does not list {chat.id}",
        "GWS-CHAT-014",
    )
    only_b = chat.customer_says("Thanks!", b)[b]
    chat.heard.refuse(b, only_b, "Accept")
    Interaction(b.client, chat.id).stop_processing()
    quiet(a, b)


@pytest.mark.requirement(
    "GWS-CHAT-005",
    "GWS-CHAT-011",
    "GWS-CHAT-015",
    "GWS-IXN-017",
    "GWS-IXN-018",
    "GWS-IXN-020",
    "GWS-IXN-021",
    *REFUSAL,
)
def test_chat_conference(cast: Cast, gws_stimulus: StimulusAdapter) -> None:
    """InitiateConsultation -> CompleteConference (both on the chat) -> EndConference (LeftConference to the
    one who stays) -> StartConference (InvitedConference) -> EndConference by the first agent -> StopProcessing."""
    a, b = cast.take("agent3", "agent2")
    chat = Chat(cast, gws_stimulus, a, b)
    invite = chat.open(a, *TYPED)
    chat.accept(a, invite, nickname(a), *TYPED)
    invitation = consult(chat, a, b)
    chat.joined(a, b, invitation, nickname(b))
    before = chat.customer_says("Anyone?", a, b)

    require_listed("CompleteConference", before[a], f"chat {chat.id}", *CAPABILITIES)
    Interaction(a.client, chat.id).complete_conference()
    both = chat.customer_says("Two of you now?", a, b)  # both take part in the chat
    chat.heard.refuse(a, both[a], "StopProcessing")

    leave_conference(chat, b, a)
    require(
        handled(a, chat.id),
        "After EndConference the remaining agent does not have the chat",
        f"GET /me/interactions of {a.role} does not list {chat.id}",
        "GWS-IXN-018",
    )

    alone = chat.customer_says("Hello again", a)[a]
    require_listed("StartConference", alone, f"chat {chat.id}", *CAPABILITIES)
    Interaction(a.client, chat.id).start_conference(b.id)
    invited = chat.heard.hear(b, "the conference invitation", interaction_id=chat.id, state="InvitedConference")
    chat.heard.refuse(b, invited, "StopProcessing")
    chat.joined(a, b, invited, nickname(b))
    leave_conference(chat, a, b)
    chat.gone(a, "EndConference", "GWS-IXN-018")
    last = chat.customer_says("Bye", b)[b]
    require_listed("StopProcessing", last, f"chat {chat.id}", *CAPABILITIES)
    Interaction(b.client, chat.id).stop_processing()
    quiet(a, b)


@pytest.mark.requirement("GWS-IXN-024", "GWS-CHAT-002", "GWS-IXN-021")
def test_chat_revoked(cast: Cast, gws_stimulus: StimulusAdapter) -> None:
    """The system withdraws a chat invitation: ChatRevoked with no capabilities; the chat is not the agent's."""
    (a,) = cast.take("agent3")
    chat = Chat(cast, gws_stimulus, a)
    chat.open(a, *TYPED)
    caused = gws_stimulus.revoke(chat.id, agent=a.stimulus_party())
    revoked = chat.heard.hear(
        a, "the invitation Revoked", interaction_id=chat.id, state="Revoked", timeout_s=caused.wait_s
    )
    require(
        isinstance(revoked.get("capabilities"), list) and capabilities_of(revoked) == [],
        "A revoked chat invitation still offers operations",
        f"{revoked.get('capabilities')!r}",
        "GWS-CHAT-002",
    )
    chat.gone(a, "the revocation", "GWS-CHAT-002")
    quiet(a)


def consult(chat: Chat, a: Party, b: Party) -> dict[str, Any]:
    """InitiateConsultation: statusCode 0, the consulted agent invited (ChatInvited, SHOULD)."""
    Interaction(a.client, chat.id).initiate_consultation(None, expect=1)
    Interaction(a.client, chat.id).initiate_consultation(b.id)
    invitation = chat.heard.hear(
        b, "the consultation invitation", interaction_id=chat.id, state=("Invited", "InvitedConference")
    )
    should(
        invitation.get("state") == "Invited",
        "A consultation invitation is not a ChatInvited",
        f"state {invitation.get('state')!r}",
        "GWS-CHAT-012",
    )
    chat.heard.refuse(b, invitation, "StopProcessing")
    return invitation


def leave_conference(chat: Chat, leaving: Party, staying: Party) -> None:
    """EndConference: the agent leaves; the one who stays sees it leave and gets LeftConference."""
    Interaction(leaving.client, chat.id).end_conference(leaving.id)
    chat.hear_event(staying, "the other agent leaving", "PARTY_LEFT")
    left = chat.heard.hear(staying, "LeftConference", interaction_id=chat.id, state="LeftConference")
    chat.gone(leaving, "EndConference", "GWS-IXN-018")
    chat.heard.refuse(staying, left, "Accept")
