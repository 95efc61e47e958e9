"""Chat: transitions as a table, the transcript, consultation and conference, exact capabilities, schemas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from model_support import Office, assert_capabilities_exact, assert_notifications_valid, assert_refused_unchanged

from conformance.notifications import classify
from reference_impl.model import InvalidOperation, Machine, MissingAttribute, Notification
from reference_impl.model.chat import ChatSession, ChatView, start_chat

CLIENT_MESSAGES = ("testmessage1fromclient", "testmessage2fromclient", "testmessage3fromclient")


def views(session: ChatSession) -> dict[str, str]:
    return {user: view.state for user, view in session.views.items()}


def kinds(notifications: list[Notification], seen: dict[tuple[str, str], str]) -> list[tuple[str, str | None]]:
    """(user, kind) of each message, classified as a listener that saw ``seen`` would."""
    found = []
    for user, topic, data in notifications:
        found.append((user, classify(topic, data, previous_state=seen.get((user, data["id"])))))
        seen[(user, data["id"])] = data["state"]
    return found


# -- scenarios ------------------------------------------------------------------------------------------


def invited() -> tuple[Office, ChatSession]:
    office = Office()
    session = start_chat(office.center, nickname="CustomerName!L", messages=CLIENT_MESSAGES)
    session.offer("agent1")
    return office, session


def accepted() -> tuple[Office, ChatSession]:
    office, session = invited()
    session.views["agent1"].apply("Accept", nickname="TestName")
    return office, session


def consultation_pending() -> tuple[Office, ChatSession]:
    office, session = accepted()
    session.views["agent1"].apply("InitiateConsultation", agentId="agent2")
    return office, session


def consulting() -> tuple[Office, ChatSession]:
    office, session = consultation_pending()
    session.views["agent2"].apply("Accept")
    return office, session


def conference() -> tuple[Office, ChatSession]:
    office, session = consulting()
    session.views["agent1"].apply("CompleteConference")
    return office, session


def conference_invited() -> tuple[Office, ChatSession]:
    office, session = accepted()
    session.views["agent1"].apply("StartConference", agentId="agent3")
    return office, session


def customer_left() -> tuple[Office, ChatSession]:
    office, session = accepted()
    session.customer_leaves()
    return office, session


def transferred() -> tuple[Office, ChatSession]:
    office, session = accepted()
    session.views["agent1"].apply("Transfer", targetId="agent2")
    return office, session


def revoked() -> tuple[Office, ChatSession]:
    office, session = invited()
    session.revoke("agent1")
    return office, session


SCENARIOS: dict[str, Callable[[], tuple[Office, ChatSession]]] = {
    f.__name__: f
    for f in (
        invited,
        accepted,
        consultation_pending,
        consulting,
        conference,
        conference_invited,
        customer_left,
        transferred,
        revoked,
    )
}


# -- the transition table -------------------------------------------------------------------------------
# (scenario, acting agent, operation, attributes) -> every agent's view state afterwards, (user, kind) sent

# fmt: off
TRANSITIONS: list[tuple[str, str, str, dict[str, Any], dict[str, str], list[tuple[str, str]]]] = [
    ("invited", "agent1", "Accept", {"nickname": "TestName"}, {"agent1": "Accepted"}, [("agent1", "ChatAccepted")]),
    ("invited", "agent1", "Reject", {}, {"agent1": "Rejected", "agent2": "Invited"}, [("agent2", "ChatInvited")]),
    ("accepted", "agent1", "SendMessage", {"text": "How can I help?"}, {"agent1": "Accepted"},
     [("agent1", "ChatNotification")]),
    ("accepted", "agent1", "SendNotification", {"notification": "TypingStarted"}, {"agent1": "Accepted"},
     [("agent1", "ChatNotification")]),
    ("accepted", "agent1", "RequestChatHistory", {"eventId": 2}, {"agent1": "Accepted"},
     [("agent1", "ChatNotification")]),
    ("accepted", "agent1", "Transfer", {"targetId": "agent2"}, {"agent1": "Left", "agent2": "Invited"},
     [("agent2", "ChatInvited")]),
    ("accepted", "agent1", "InitiateConsultation", {"agentId": "agent2"},
     {"agent1": "Accepted", "agent2": "Invited"}, [("agent2", "ChatInvited")]),
    ("accepted", "agent1", "StartConference", {"agentId": "agent3"},
     {"agent1": "Accepted", "agent3": "InvitedConference"}, [("agent3", "InteractionInvitedConference")]),
    ("accepted", "agent1", "StopProcessing", {}, {"agent1": "Left"}, []),
    ("accepted", "agent1", "PlaceInQueue", {"queue": "SimpleChatInQueue"}, {"agent1": "Left"}, []),
    ("accepted", "agent1", "UpdateProperties", {"properties": {"Disposition": "Solved"}}, {"agent1": "Accepted"}, []),
    ("consultation_pending", "agent2", "Accept", {}, {"agent1": "Accepted", "agent2": "Accepted"},
     [("agent1", "ChatNotification"), ("agent2", "ChatAccepted")]),
    ("consultation_pending", "agent2", "Reject", {}, {"agent1": "Accepted", "agent2": "Rejected"}, []),
    ("consulting", "agent1", "CompleteTransfer", {}, {"agent1": "Left", "agent2": "Accepted"},
     [("agent2", "ChatNotification")]),
    ("consulting", "agent1", "CompleteConference", {}, {"agent1": "Accepted", "agent2": "Accepted"}, []),
    ("consulting", "agent2", "EndConference", {}, {"agent1": "Accepted", "agent2": "Left"},
     [("agent1", "ChatNotification"), ("agent1", "InteractionLeftConference")]),
    ("consulting", "agent2", "SendMessage", {"text": "I can take it"}, {"agent1": "Accepted", "agent2": "Accepted"},
     [("agent1", "ChatNotification"), ("agent2", "ChatNotification")]),
    ("conference", "agent1", "EndConference", {"agentId": "agent1"}, {"agent1": "Left", "agent2": "Accepted"},
     [("agent2", "ChatNotification"), ("agent2", "InteractionLeftConference")]),
    ("conference_invited", "agent3", "Accept", {}, {"agent1": "Accepted", "agent3": "Accepted"},
     [("agent1", "ChatNotification"), ("agent3", "ChatAccepted")]),
    ("conference_invited", "agent3", "Reject", {}, {"agent1": "Accepted", "agent3": "Rejected"}, []),
    ("customer_left", "agent1", "StopProcessing", {}, {"agent1": "Left"}, []),
    ("transferred", "agent2", "Accept", {}, {"agent1": "Left", "agent2": "Accepted"}, [("agent2", "ChatAccepted")]),
    # an agent who left may be offered the chat again; one who rejected it may not
    ("transferred", "agent2", "Reject", {}, {"agent1": "Invited", "agent2": "Rejected"}, [("agent1", "ChatInvited")]),
]
# fmt: on


@pytest.mark.parametrize(
    ("scenario", "actor", "operation", "attributes", "after", "sent"),
    TRANSITIONS,
    ids=[f"{t[0]}-{t[1]}-{t[2]}" for t in TRANSITIONS],
)
def test_transition(
    scenario: str,
    actor: str,
    operation: str,
    attributes: dict[str, Any],
    after: dict[str, str],
    sent: list[tuple[str, str]],
) -> None:
    office, session = SCENARIOS[scenario]()
    seen = office.seen_states()
    notifications = session.views[actor].apply(operation, **attributes)
    assert views(session) == after
    assert kinds(notifications, dict(seen)) == sent
    assert_notifications_valid(notifications, seen)


# -- the transcript ---------------------------------------------------------------------------------------


def test_accept_sends_the_whole_history_with_the_agent_joined() -> None:
    _office, session = invited()
    [(_, _, data)] = session.views["agent1"].apply("Accept", nickname="TestName")
    events = data["chat_notifications"]
    assert [(e["EventId"], e["MessageType"], e["UserType"], e["NickName"], e["MessageText"]) for e in events] == [
        (1, "PARTY_JOINED", "Client", "CustomerName!L", None),
        (2, "NEW_MESSAGE", None, None, "testmessage1fromclient"),
        (3, "NEW_MESSAGE", None, None, "testmessage2fromclient"),
        (4, "NEW_MESSAGE", None, None, "testmessage3fromclient"),
        (5, "PARTY_JOINED", "Agent", "TestName", None),
    ]
    assert all(
        set(e)
        == {
            "EventId",
            "NoticeText",
            "NoticeType",
            "MessageText",
            "UserId",
            "MessageType",
            "UserType",
            "Visibility",
            "NickName",
        }
        for e in events
    )
    assert events[1]["UserId"] == events[0]["UserId"] != events[4]["UserId"]
    assert data["sessionId"] == data["id"] == session.id
    assert data["capabilities"] == [
        "SendMessage",
        "SendNotification",
        "RequestChatHistory",
        "Transfer",
        "InitiateConsultation",
        "StartConference",
        "PlaceInQueue",
        "UpdateProperties",
        "StopProcessing",
    ]


def test_nickname_defaults_to_the_agent_name() -> None:
    _office, session = invited()
    [(_, _, data)] = session.views["agent1"].apply("Accept")
    assert data["chat_notifications"][-1]["NickName"] == "Agent1"


def test_customer_messages_and_departure_reach_every_agent_on_the_chat() -> None:
    office, session = consulting()
    seen = office.seen_states()
    said = session.customer_says("are you there?")
    assert kinds(said, seen) == [("agent1", "ChatNotification"), ("agent2", "ChatNotification")]
    [event] = said[0][2]["chat_notifications"]
    assert (event["EventId"], event["MessageType"], event["MessageText"]) == (7, "NEW_MESSAGE", "are you there?")
    left = session.customer_leaves()
    assert [d["chat_notifications"][0]["MessageType"] for _, _, d in left] == ["PARTY_LEFT", "PARTY_LEFT"]
    assert_notifications_valid(said + left, office.seen_states())
    with pytest.raises(InvalidOperation):
        session.customer_says("hello?")


def test_agent_message_and_typing_notice_events() -> None:
    _office, session = accepted()
    agent = session.views["agent1"]
    [(_, _, message)] = agent.apply("SendMessage", text="Hello")
    [(_, _, notice)] = agent.apply("SendNotification", notification="TypingStopped")
    said, typed = message["chat_notifications"][0], notice["chat_notifications"][0]
    assert (said["EventId"], said["MessageType"], said["MessageText"], said["UserId"]) == (
        6,
        "NEW_MESSAGE",
        "Hello",
        agent.party_id,
    )
    assert (typed["EventId"], typed["MessageType"], typed["NoticeType"]) == (7, "NOTICE", "TypingStopped")


@pytest.mark.parametrize(("event_id", "first"), [(None, 1), (1, 1), (4, 4), ("5", 5)])
def test_history_from_an_event(event_id: Any, first: int) -> None:
    _office, session = accepted()
    attributes = {} if event_id is None else {"eventId": event_id}
    [(_, _, data)] = session.views["agent1"].apply("RequestChatHistory", **attributes)
    assert [e["EventId"] for e in data["chat_notifications"]] == list(range(first, 6))


def test_conference_ends_when_one_agent_is_left() -> None:
    _office, session = conference()
    remaining = session.views["agent2"]
    assert "EndConference" in remaining.capabilities() and "StopProcessing" not in remaining.capabilities()
    notifications = session.views["agent1"].apply("EndConference")
    left_message = notifications[-1][2]
    assert left_message["state"] == "LeftConference" and "StopProcessing" in left_message["capabilities"]
    assert remaining.state == "Accepted" and "EndConference" not in remaining.capabilities()


def test_revoke_and_reoffer() -> None:
    _office, session = invited()
    [(user, topic, data)] = session.revoke("agent1")
    assert (user, classify(topic, data), data["capabilities"]) == ("agent1", "ChatRevoked", [])
    assert_notifications_valid([(user, topic, data)])
    assert session.view_for("agent1") is None and session.state == "Queued"
    session.offer("agent3")
    assert views(session) == {"agent1": "Revoked", "agent3": "Invited"}


def test_revoking_a_consultation_invite_ends_the_consultation() -> None:
    _office, session = consultation_pending()
    session.revoke("agent2")
    assert "InitiateConsultation" in session.views["agent1"].capabilities()


def test_session_state_follows_its_agents() -> None:
    _office, session = invited()
    assert session.state == "Invited"
    session.views["agent1"].apply("Accept")
    assert session.state == "Accepted"
    session.views["agent1"].apply("PlaceInQueue", queue="SimpleChatInQueue")
    assert session.state == "Queued"
    session.offer("agent2")
    session.views["agent2"].apply("Accept")
    session.views["agent2"].apply("StopProcessing")
    assert session.state == "Stopped"
    with pytest.raises(InvalidOperation):
        session.offer("agent3")


# -- refusals: statusCode and nothing changed --------------------------------------------------------------

# fmt: off
REFUSALS: list[tuple[str, str, str, dict[str, Any], type[Exception], str]] = [
    ("invited", "agent1", "SendMessage", {"text": "hi"}, InvalidOperation, "not valid"),
    ("accepted", "agent1", "Accept", {}, InvalidOperation, "not valid"),
    ("accepted", "agent1", "SendMessage", {}, MissingAttribute, "text"),
    ("accepted", "agent1", "SendMessage", {"text": ["hi"]}, InvalidOperation, "text"),
    ("accepted", "agent1", "SendNotification", {}, MissingAttribute, "notification"),
    ("accepted", "agent1", "SendNotification", {"notification": "Typing"}, InvalidOperation, "TypingStarted"),
    ("accepted", "agent1", "RequestChatHistory", {"eventId": 0}, InvalidOperation, "eventId"),
    ("accepted", "agent1", "RequestChatHistory", {"eventId": 99}, InvalidOperation, "eventId"),
    ("accepted", "agent1", "RequestChatHistory", {"eventId": "first"}, InvalidOperation, "eventId"),
    ("accepted", "agent1", "RequestChatHistory", {"eventId": True}, InvalidOperation, "eventId"),
    ("accepted", "agent1", "InitiateConsultation", {}, MissingAttribute, "agentId"),
    ("accepted", "agent1", "InitiateConsultation", {"agentId": "agent1"}, InvalidOperation, "agent doing"),
    ("accepted", "agent1", "InitiateConsultation", {"agentId": "ghost"}, InvalidOperation, "not an agent"),
    ("accepted", "agent1", "StartChatConsultation", {"agentId": "agent2"}, InvalidOperation, "unknown operation"),
    ("accepted", "agent1", "Transfer", {"targetId": "x"}, InvalidOperation, "not an agent"),
    ("accepted", "agent1", "PlaceInQueue", {"queue": "Nowhere"}, InvalidOperation, "no queue"),
    ("accepted", "agent1", "CompleteTransfer", {}, InvalidOperation, "not valid"),
    ("accepted", "agent1", "EndConference", {}, InvalidOperation, "not valid"),
    ("consultation_pending", "agent1", "CompleteConference", {}, InvalidOperation, "not valid"),
    ("consultation_pending", "agent1", "StopProcessing", {}, InvalidOperation, "not valid"),
    ("consultation_pending", "agent1", "StartConference", {"agentId": "agent3"}, InvalidOperation, "not valid"),
    ("consulting", "agent2", "CompleteTransfer", {}, InvalidOperation, "not valid"),
    ("consulting", "agent1", "EndConference", {}, InvalidOperation, "not valid"),
    ("conference", "agent1", "EndConference", {"agentId": "agent2"}, InvalidOperation, "agentId"),
    ("conference", "agent1", "Transfer", {"targetId": "agent3"}, InvalidOperation, "not valid"),
    ("transferred", "agent1", "SendMessage", {"text": "still here?"}, InvalidOperation, "not valid"),
    ("revoked", "agent1", "Accept", {}, InvalidOperation, "not valid"),
]
# fmt: on


@pytest.mark.parametrize(
    ("scenario", "actor", "operation", "attributes", "error", "words"),
    REFUSALS,
    ids=[f"{r[0]}-{r[2]}-{i}" for i, r in enumerate(REFUSALS)],
)
def test_refusal_changes_nothing(
    scenario: str, actor: str, operation: str, attributes: dict[str, Any], error: type[Exception], words: str
) -> None:
    office, session = SCENARIOS[scenario]()
    view = session.views[actor]
    assert_refused_unchanged(office, Office.snapshot, lambda: view.apply(operation, **attributes), error, words)


# -- the property: capabilities are exactly what succeeds ---------------------------------------------------


def _valid_attributes(machine: Machine, operation: str) -> dict[str, Any]:
    assert isinstance(machine, ChatView)
    free = next(a for a in ("agent2", "agent3", "agent4") if machine.session.view_for(a) is None)
    valid: dict[str, dict[str, Any]] = {
        "Accept": {"nickname": "Nick"},
        "SendMessage": {"text": "hello"},
        "SendNotification": {"notification": "TypingStarted"},
        "RequestChatHistory": {"eventId": 1},
        "Transfer": {"targetId": free},
        "InitiateConsultation": {"agentId": free},
        "StartConference": {"agentId": free},
        "PlaceInQueue": {"queue": "SimpleChatInQueue"},
        "UpdateProperties": {"properties": {"k": "v"}},
    }
    return valid.get(operation, {})


def _every_view(scenario: str) -> list[tuple[str, str]]:
    return [(scenario, user) for user in SCENARIOS[scenario]()[1].views]


@pytest.mark.parametrize(("scenario", "user"), [case for name in SCENARIOS for case in _every_view(name)])
def test_capabilities_are_exactly_what_succeeds(scenario: str, user: str) -> None:
    office, session = SCENARIOS[scenario]()
    assert_capabilities_exact(
        office, lambda o: o.interactions[session.id].views[user], _valid_attributes, Office.snapshot, Office.seen_states
    )
