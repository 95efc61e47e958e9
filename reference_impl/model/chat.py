"""Chat interactions: one session (transcript, customer, user data), one view per agent.

A ``ChatSession`` is the interaction (its id is the same for every agent on it); each agent works
on a ``ChatView`` -- the machine behind POST /me/interactions/{id} for that agent:

    Invited --Accept(nickname)--> Accepted            (routing's offer, a Transfer, InitiateConsultation)
    InvitedConference --Accept--> Accepted            (StartConference)
    Accepted: SendMessage, SendNotification, RequestChatHistory, UpdateProperties, and
      alone on the chat:      Transfer, InitiateConsultation, StartConference, PlaceInQueue, StopProcessing
      consulting, once the consulted agent accepted:  CompleteTransfer, CompleteConference
      consulted, or in a conference:                  EndConference

The transcript is a list of events with EventIds 1, 2, 3, ... (PARTY_JOINED, NEW_MESSAGE,
PARTY_LEFT, NOTICE). Accepting sends the agent the whole transcript (ChatAccepted); every later
event goes to every agent on the chat as a ChatNotification.

Decisions where the seed is silent (written up in the errata):
- E18: the consulted agent (InitiateConsultation) is invited with state ``Invited`` (ChatInvited,
  as GWS-CHAT-012 expects), the agent asked by StartConference with ``InvitedConference`` (E71);
  both Accept or Reject. Declining either ends the request; nobody else is asked.
  CompleteConference makes the consultation a conference; CompleteTransfer makes the consulting
  agent leave.
- When an agent leaves a chat others stay on (EndConference, CompleteTransfer), the others get the
  PARTY_LEFT event and, for EndConference, an InteractionLeftConference message (state
  LeftConference, the capabilities they now have); their view stays Accepted.
- Typing notices (SendNotification) are events with MessageType ``NOTICE`` and NoticeType
  TypingStarted/TypingStopped; agents' NEW_MESSAGE events carry UserType and NickName null, as the
  seed's client messages do (the sender is known by UserId, from its PARTY_JOINED event).
- RequestChatHistory's eventId must be an EventId of the transcript (1..last); absent: from 1.
- EndConference's agentId, when given, must be the agent itself (an agent leaves; nobody is removed).
- CompleteConference sends nothing (the seed defines no message); the change shows in capabilities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from . import InvalidOperation, Machine, Notification, optional, require
from .interaction import INTERACTIONS_TOPIC, ContactCenter, Interaction

__all__ = ["ChatEvent", "ChatSession", "ChatView", "start_chat"]

_INVITED = ("Invited", "InvitedConference")
_NOTICES = ("TypingStarted", "TypingStopped")


@dataclass(frozen=True)
class ChatEvent:
    event_id: int
    message_type: str
    user_id: str
    user_type: str | None = None
    nickname: str | None = None
    text: str | None = None
    notice_type: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "EventId": self.event_id,
            "NoticeText": None,
            "NoticeType": self.notice_type,
            "MessageText": self.text,
            "UserId": self.user_id,
            "MessageType": self.message_type,
            "UserType": self.user_type,
            "Visibility": "All",
            "NickName": self.nickname,
        }


@dataclass(frozen=True)
class Invitation:
    inviter: str
    invitee: str
    kind: str  # "consultation" (InitiateConsultation) | "conference" (StartConference)


class ChatView(Machine):
    """One agent's side of a chat: POST /me/interactions/{id} on a chat."""

    # fmt: off
    TABLE: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "Invited": ("Accept", "Reject"),
        "InvitedConference": ("Accept", "Reject"),
        "Accepted": ("SendMessage", "SendNotification", "RequestChatHistory", "Transfer", "InitiateConsultation",
                     "StartConference", "CompleteTransfer", "CompleteConference", "EndConference",
                     "PlaceInQueue", "UpdateProperties", "StopProcessing"),
    }
    # fmt: on
    REQUIRED: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "SendMessage": ("text",),
        "SendNotification": ("notification",),
        "Transfer": ("targetId",),
        "InitiateConsultation": ("agentId",),
        "StartConference": ("agentId",),
        "PlaceInQueue": ("queue",),
        "UpdateProperties": ("properties",),
    }

    def __init__(self, session: ChatSession, user_id: str, state: str) -> None:
        self.session = session
        self.user_id = user_id
        self.state = state
        self.party_id: str | None = None  # the agent's UserId in the transcript, once joined

    # -- messages ------------------------------------------------------------------------------------

    def message(self, state: str | None = None, events: list[ChatEvent] | None = None) -> Notification:
        body = self.session.body(state or self.state, self.capabilities())
        if self.state == "Accepted":
            body["sessionId"] = self.session.id
        if events is not None:
            body["chat_notifications"] = [event.to_wire() for event in events]
        return (self.user_id, INTERACTIONS_TOPIC, body)

    # -- guards --------------------------------------------------------------------------------------

    def _alone(self) -> bool:
        return self.session.joined() == [self] and self.session.invitation is None

    _can_Transfer = _can_InitiateConsultation = _can_StartConference = _alone
    _can_PlaceInQueue = _can_StopProcessing = _alone

    def _consultation_answered(self) -> bool:
        invitation = self.session.invitation
        return (
            invitation is not None
            and invitation.kind == "consultation"
            and invitation.inviter == self.user_id
            and self.session.views[invitation.invitee].state == "Accepted"
        )

    _can_CompleteTransfer = _can_CompleteConference = _consultation_answered

    def _can_EndConference(self) -> bool:
        invitation = self.session.invitation
        consulted = invitation is not None and invitation.kind == "consultation" and invitation.invitee == self.user_id
        return consulted or (self.session.conference and len(self.session.joined()) >= 2)

    # -- operations ----------------------------------------------------------------------------------

    def _op_Accept(self, **attributes: Any) -> list[Notification]:
        session = self.session
        nickname = optional(attributes, "nickname") or session.center.routing.nickname(self.user_id)
        invitation = session.invitation
        if invitation is not None and invitation.kind == "conference" and invitation.invitee == self.user_id:
            session.invitation, session.conference = None, True
        self.state, self.party_id = "Accepted", session.new_party_id()
        joined = session.record("PARTY_JOINED", self.party_id, user_type="Agent", nickname=nickname)
        return [*session.broadcast(joined, skip=self), self.message(events=list(session.events))]

    def _op_Reject(self, **attributes: Any) -> list[Notification]:
        session = self.session
        if session.invitation is not None and session.invitation.invitee == self.user_id:
            session.invitation = None  # a declined consultation or conference: nobody else is asked
            self.state = "Rejected"
            return []
        self.state = "Rejected"
        session.rejected_by.add(self.user_id)
        on_chat = {user for user in session.views if session.view_for(user)}
        following = session.center.routing.next_ready("chat", exclude=session.rejected_by | on_chat)
        return session.invite(following, "Invited") if following else []

    def _op_SendMessage(self, **attributes: Any) -> list[Notification]:
        text = require(attributes, "text")
        return self.session.broadcast(self.session.record("NEW_MESSAGE", self._party(), text=text))

    def _op_SendNotification(self, **attributes: Any) -> list[Notification]:
        notice = require(attributes, "notification")
        if notice not in _NOTICES:
            raise InvalidOperation(f"notification must be one of {', '.join(_NOTICES)}, got {notice!r}")
        return self.session.broadcast(self.session.record("NOTICE", self._party(), notice_type=notice))

    def _op_RequestChatHistory(self, **attributes: Any) -> list[Notification]:
        first = optional(attributes, "eventId", (int, str), 1)
        last = len(self.session.events)
        if not (str(first).isdigit() and 1 <= int(first) <= last):
            raise InvalidOperation(f"eventId must be an EventId of this chat (1..{last}), got {first!r}")
        return [self.message(events=self.session.events[int(first) - 1 :])]

    def _op_Transfer(self, **attributes: Any) -> list[Notification]:
        target = self.session._checked_agent(attributes, "targetId", self.user_id)
        return self._leave() + self.session.invite(target, "Invited")

    def _op_InitiateConsultation(self, **attributes: Any) -> list[Notification]:
        return self._invite_to_join(self.session._checked_agent(attributes, "agentId", self.user_id), "consultation")

    def _op_StartConference(self, **attributes: Any) -> list[Notification]:
        return self._invite_to_join(self.session._checked_agent(attributes, "agentId", self.user_id), "conference")

    def _op_CompleteTransfer(self, **attributes: Any) -> list[Notification]:
        self.session.invitation = None
        return self._leave()

    def _op_CompleteConference(self, **attributes: Any) -> list[Notification]:
        self.session.invitation, self.session.conference = None, True
        return []

    def _op_EndConference(self, **attributes: Any) -> list[Notification]:
        agent = optional(attributes, "agentId")
        if agent is not None and agent != self.user_id:
            raise InvalidOperation("EndConference makes the agent itself leave: agentId must be the agent's own id")
        session = self.session
        if session.invitation is not None and session.invitation.invitee == self.user_id:
            session.invitation = None
        notifications = self._leave()
        remaining = session.joined()
        if len(remaining) < 2:
            session.conference = False
        return notifications + [view.message(state="LeftConference") for view in remaining]

    def _op_StopProcessing(self, **attributes: Any) -> list[Notification]:
        notifications = self._leave()
        self.session.closed = True
        return notifications

    def _op_PlaceInQueue(self, **attributes: Any) -> list[Notification]:
        queue = self.session._checked_queue(attributes)
        notifications = self._leave()
        self.session.current_queue = queue
        return notifications

    def _op_UpdateProperties(self, **attributes: Any) -> list[Notification]:
        return self.session._update_properties(attributes)

    # -- helpers -------------------------------------------------------------------------------------

    def _party(self) -> str:
        assert self.party_id is not None  # an Accepted view has joined
        return self.party_id

    def _invite_to_join(self, agent: str, kind: str) -> list[Notification]:
        self.session.invitation = Invitation(self.user_id, agent, kind)
        return self.session.invite(agent, "Invited" if kind == "consultation" else "InvitedConference")

    def _leave(self) -> list[Notification]:
        """The agent leaves the chat: a PARTY_LEFT event for the agents who stay."""
        self.state = "Left"
        return self.session.broadcast(self.session.record("PARTY_LEFT", self._party(), user_type="Agent"))


class ChatSession(Interaction):
    """The chat interaction itself: the transcript and who is on it. Agents act through ChatView."""

    channel = "chat"

    def __init__(self, center: ContactCenter, *, customer: str, queue: str, user_data: dict[str, Any]) -> None:
        super().__init__(
            center,
            interaction_type="Inbound",
            sub_type="InboundNew",
            state="Queued",
            owner=None,
            queue=queue,
            user_data=user_data,
        )
        self.views: dict[str, ChatView] = {}
        self.events: list[ChatEvent] = []
        self.invitation: Invitation | None = None
        self.conference = False
        self.closed = False
        self.rejected_by: set[str] = set()
        self.customer_party = self.new_party_id()
        self.customer = customer
        self.customer_present = True
        self.record("PARTY_JOINED", self.customer_party, user_type="Client", nickname=customer)

    @property
    def state(self) -> str:
        """Queued while no agent has it, Stopped once finished, else what its first agent sees."""
        if self.closed:
            return "Stopped"
        active = [view for view in self.views.values() if self.view_for(view.user_id)]
        return active[0].state if active else "Queued"

    @state.setter
    def state(self, value: str) -> None:  # the base class sets the initial state; it is derived here
        pass

    def view_for(self, user_id: str) -> ChatView | None:
        view = self.views.get(user_id)
        return view if view is not None and view.state in ("Accepted", *_INVITED) else None

    def joined(self) -> list[ChatView]:
        return [view for view in self.views.values() if view.state == "Accepted"]

    def new_party_id(self) -> str:
        return self.center.context.new_id()[:16].upper()

    def record(self, message_type: str, party_id: str, **details: Any) -> ChatEvent:
        event = ChatEvent(len(self.events) + 1, message_type, party_id, **details)
        self.events.append(event)
        return event

    def broadcast(self, event: ChatEvent, skip: ChatView | None = None) -> list[Notification]:
        return [view.message(events=[event]) for view in self.joined() if view is not skip]

    def invite(self, user_id: str, state: str) -> list[Notification]:
        view = self.views[user_id] = ChatView(self, user_id, state)
        return [view.message()]

    # -- the outside world (stimulus) ----------------------------------------------------------------

    def offer(self, user_id: str) -> list[Notification]:
        """Routing delivers the waiting chat to an agent: Invited."""
        if self.closed or any(self.view_for(view.user_id) for view in self.views.values()):
            raise InvalidOperation(f"chat {self.id} is not waiting in a queue")
        return self.invite(user_id, "Invited")

    def revoke(self, user_id: str) -> list[Notification]:
        """The system takes an invitation back: Revoked, capabilities []."""
        view = self.views.get(user_id)
        if view is None or view.state not in _INVITED:
            raise InvalidOperation(f"agent {user_id!r} has no invitation to chat {self.id}")
        if self.invitation is not None and self.invitation.invitee == user_id:
            self.invitation = None
        view.state = "Revoked"
        return [view.message()]

    def customer_says(self, text: str) -> list[Notification]:
        if not self.customer_present:
            raise InvalidOperation(f"the customer has left chat {self.id}")
        return self.broadcast(self.record("NEW_MESSAGE", self.customer_party, text=text))

    def customer_leaves(self) -> list[Notification]:
        if not self.customer_present:
            raise InvalidOperation(f"the customer has left chat {self.id}")
        self.customer_present = False
        return self.broadcast(
            self.record("PARTY_LEFT", self.customer_party, user_type="Client", nickname=self.customer)
        )


def start_chat(
    center: ContactCenter,
    *,
    nickname: str,
    messages: tuple[str, ...] = (),
    queue: str = "SimpleChatInQueue",
    subject: str = "Customersupport",
    user_data: dict[str, Any] | None = None,
) -> ChatSession:
    """A customer opens a chat (stimulus) and may already type: Queued until ``offer``."""
    session = ChatSession(center, customer=nickname, queue=queue, user_data={"Subject": subject, **(user_data or {})})
    for text in messages:
        session.record("NEW_MESSAGE", session.customer_party, text=text)
    return session
