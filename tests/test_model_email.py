"""E-mail interactions: transitions as a table, the reply rules, exact capabilities, payload schemas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from model_support import Office, assert_capabilities_exact, assert_notifications_valid, assert_refused_unchanged

from conformance.notifications import classify
from reference_impl.model import InvalidOperation, Machine, MissingAttribute
from reference_impl.model.email import EmailInteraction, create_email, quoted, receive_email

ORIGINAL_TEXT = "This is email body.\r\nTesting, hopefully this will work"
OUT = "SimpleEmailOutQueue"


def arrived(office: Office, **overrides: Any) -> EmailInteraction:
    fields = {
        "from_address": "Customer1@ci-vm106",
        "to_address": "support@ci-vm106",
        "subject": "test_reply",
        "text": ORIGINAL_TEXT,
        "cc_addresses": "boss@ci-vm106",
        **overrides,
    }
    return receive_email(office.center, **fields)


# -- scenarios: (office, the e-mail the test acts on) -----------------------------------------------------


def invited() -> tuple[Office, EmailInteraction]:
    office = Office()
    email = arrived(office)
    email.offer("agent1")
    return office, email


def accepted() -> tuple[Office, EmailInteraction]:
    office, email = invited()
    email.apply("Accept")
    return office, email


def reply_created() -> tuple[Office, EmailInteraction]:
    office, email = accepted()
    [(_, _, data)] = email.apply("Reply", queueName="SimpleEmailOutQueue")
    return office, office.interactions[data["id"]]


def created() -> tuple[Office, EmailInteraction]:
    office = Office()
    email, _ = create_email(office.center, "agent1", queueName="SimpleEmailOutQueue")
    return office, email


def in_workbin() -> tuple[Office, EmailInteraction]:
    office, email = accepted()
    email.apply("PlaceInWorkbin", workbin="TestWorkbin")
    return office, email


def pulled_inbound() -> tuple[Office, EmailInteraction]:
    office, email = in_workbin()
    office.workbins["agent1"].apply("PullInteractionFromWorkbin", interactionId=email.id)
    return office, email


def pulled_outbound() -> tuple[Office, EmailInteraction]:
    office, email = reply_created()
    email.apply("PlaceInWorkbin", workbin=office.workbins["agent1"].id)
    office.workbins["agent1"].apply("PullInteractionFromWorkbin", interactionId=email.id)
    return office, email


def revoked() -> tuple[Office, EmailInteraction]:
    office, email = invited()
    email.revoke()
    return office, email


SCENARIOS: dict[str, Callable[[], tuple[Office, EmailInteraction]]] = {
    f.__name__: f
    for f in (invited, accepted, reply_created, created, in_workbin, pulled_inbound, pulled_outbound, revoked)
}


# -- the transition table ---------------------------------------------------------------------------------
# (scenario, operation, attributes) -> state and owner afterwards, (user, kind) of each message sent

# fmt: off
TRANSITIONS: list[tuple[str, str, dict[str, Any], str, str | None, list[tuple[str, str]]]] = [
    ("invited", "Accept", {}, "Accepted", "agent1", [("agent1", "EmailAccepted")]),
    ("invited", "Reject", {}, "Invited", "agent2", [("agent2", "EmailInvited")]),
    ("accepted", "Transfer", {"targetId": "agent3"}, "Invited", "agent3", [("agent3", "EmailInvited")]),
    ("accepted", "Reply", {"queueName": OUT}, "Accepted", "agent1", [("agent1", "EmailReplyCreated")]),
    ("accepted", "ReplyAll", {"queueName": OUT}, "Accepted", "agent1", [("agent1", "EmailReplyCreated")]),
    ("accepted", "Forward", {"toAddress": "legal@corp"}, "Accepted", "agent1", [("agent1", "EmailReplyCreated")]),
    ("accepted", "StopProcessing", {}, "Stopped", None, []),
    ("accepted", "PlaceInQueue", {"queue": "SimpleEmailOutQueue"}, "Queued", None, []),
    ("accepted", "PlaceInWorkbin", {"workbin": "TestWorkbin"}, "Queued", None, []),
    ("accepted", "UpdateProperties", {"properties": {"Disposition": "Solved"}}, "Accepted", "agent1", []),
    ("reply_created", "Send", {}, "Sent", None, []),
    ("reply_created", "CancelReplyEmail", {}, "Cancelled", None, []),
    ("reply_created", "PlaceInWorkbin", {"workbin": "TestWorkbin"}, "Queued", None, []),
    ("created", "Send", {"email_object": {"toAddress": "c@x", "subject": "Hi", "text": "Hello"}}, "Sent", None, []),
    ("pulled_inbound", "ReplyAll", {"queueName": OUT}, "Pulled", "agent1", [("agent1", "EmailReplyCreated")]),
    ("pulled_outbound", "Send", {}, "Sent", None, []),
]
# fmt: on


@pytest.mark.parametrize(
    ("scenario", "operation", "attributes", "state", "owner", "sent"),
    TRANSITIONS,
    ids=[f"{t[0]}-{t[1]}" for t in TRANSITIONS],
)
def test_transition(
    scenario: str,
    operation: str,
    attributes: dict[str, Any],
    state: str,
    owner: str | None,
    sent: list[tuple[str, str]],
) -> None:
    office, email = SCENARIOS[scenario]()
    seen = office.seen_states()
    notifications = email.apply(operation, **attributes)
    assert (email.state, email.owner) == (state, owner)
    assert [(user, classify(topic, data)) for user, topic, data in notifications] == sent
    assert_notifications_valid(notifications, seen)


def test_invitation_and_acceptance_messages() -> None:
    office = Office()
    email = arrived(office)
    [(user, topic, invitation)] = email.offer("agent1")
    assert (user, topic) == ("agent1", "/v2/me/interactions")
    assert invitation["capabilities"] == ["Accept", "Reject"]
    assert invitation["email_object"] == {"interactionId": email.id, "subject": "test_reply"}
    assert (invitation["interactionType"], invitation["interactionSubType"]) == ("Inbound", "InboundNew")
    assert invitation["currentQueue"] == "SimpleEmailInQueue"
    [(_, _, acceptance)] = email.apply("Accept")
    assert acceptance["email_object"]["toAddress"] == "support@ci-vm106"
    assert acceptance["email_object"]["text"] == ORIGINAL_TEXT
    assert acceptance["capabilities"] == [
        "Transfer",
        "Reply",
        "ReplyAll",
        "Forward",
        "StopProcessing",
        "PlaceInQueue",
        "PlaceInWorkbin",
        "UpdateProperties",
    ]
    assert email.view_for("agent1") is email and email.view_for("agent2") is None


# -- the reply rules --------------------------------------------------------------------------------------

# (operation, attributes, original overrides) -> to, from, cc, subject, text of the new e-mail
# fmt: off
REPLIES: list[tuple[str, dict[str, Any], dict[str, Any], tuple[str, str, str, str, str]]] = [
    ("Reply", {}, {}, ("Customer1@ci-vm106", "support@ci-vm106", "", "test_reply", "")),
    ("Reply", {}, {"reply_to_address": "replies@customer"},
     ("replies@customer", "support@ci-vm106", "", "test_reply", "")),
    ("Reply", {"subjectPrefix": "Re: "}, {}, ("Customer1@ci-vm106", "support@ci-vm106", "", "Re: test_reply", "")),
    ("Reply", {"quoteOriginal": True, "indentCharacter": "> "}, {},
     ("Customer1@ci-vm106", "support@ci-vm106", "", "test_reply",
      "> This is email body.\r\n> Testing, hopefully this will work")),
    ("Reply", {"quoteOriginal": "true", "replyToStartLine": "Customer1 wrote:"}, {"text": "a\nb"},
     ("Customer1@ci-vm106", "support@ci-vm106", "", "test_reply", "Customer1 wrote:\na\nb")),
    ("ReplyAll", {}, {"text": "one line"},
     ("Customer1@ci-vm106", "support@ci-vm106", "boss@ci-vm106", "test_reply", "one line")),
    ("ReplyAll", {"quoteOriginal": False, "subjectPrefix": "RE: "}, {},
     ("Customer1@ci-vm106", "support@ci-vm106", "boss@ci-vm106", "RE: test_reply", "")),
    ("ReplyAll", {"indentCharacter": ">", "replyToStartLine": "On Friday:"}, {"text": "x\r\ny"},
     ("Customer1@ci-vm106", "support@ci-vm106", "boss@ci-vm106", "test_reply", "On Friday:\r\n>x\r\n>y")),
    ("Forward", {"toAddress": "legal@corp", "subjectPrefix": "Fwd: "}, {},
     ("legal@corp", "support@ci-vm106", "", "Fwd: test_reply", "")),
    ("Forward", {}, {}, ("", "support@ci-vm106", "", "test_reply", "")),
]
# fmt: on


@pytest.mark.parametrize(("operation", "attributes", "original", "expected"), REPLIES)
def test_reply_rules(
    operation: str, attributes: dict[str, Any], original: dict[str, Any], expected: tuple[str, str, str, str, str]
) -> None:
    office = Office()
    email = arrived(office, **original)
    email.offer("agent1")
    email.apply("Accept")
    [(user, _, data)] = email.apply(operation, queueName=OUT, **attributes)
    reply = office.interactions[data["id"]]
    content = reply.content
    assert (content.to_address, content.from_address, content.cc_addresses, content.subject, content.text) == expected
    assert (user, reply.owner, reply.state, reply.parent_id) == ("agent1", "agent1", "ReplyCreated", email.id)
    assert data["parentId"] == email.id and data["interactionType"] == "Outbound"
    assert data["interactionSubType"] == ("OutboundRedirect" if operation == "Forward" else "OutboundReply")
    assert data["capabilities"] == ["CancelReplyEmail", "Send", "PlaceInWorkbin", "UpdateProperties"]
    assert data["email_object"]["subject"] == expected[3] and data["currentQueue"] == OUT


def test_quoting_keeps_blank_lines_and_needs_no_start_line() -> None:
    assert quoted("a\n\nb", "", "> ") == "> a\n> \n> b"
    assert quoted("", "Start", ">") == "Start"


def test_forward_needs_an_address_by_send_time() -> None:
    office, email = accepted()
    [(_, _, data)] = email.apply("Forward")
    forward = office.interactions[data["id"]]
    assert_refused_unchanged(office, Office.snapshot, lambda: forward.apply("Send"), MissingAttribute, "toAddress")
    forward.apply("Send", email_object={"toAddress": "legal@corp", "ccAddress": "x@corp", "bccAddress": "y@corp"})
    assert (forward.state, forward.content.to_address, forward.content.cc_addresses) == ("Sent", "legal@corp", "x@corp")


def test_create_email_is_a_new_outbound_in_reply_created() -> None:
    office = Office()
    email, [(user, topic, data)] = create_email(office.center, "agent2")
    assert (user, classify(topic, data)) == ("agent2", "EmailReplyCreated")
    assert (data["interactionType"], data["interactionSubType"], data["parentId"]) == ("Outbound", "OutboundNew", None)
    assert office.interactions[email.id] is email
    assert_notifications_valid([(user, topic, data)])
    with pytest.raises(InvalidOperation):
        create_email(office.center, "agent2", interactionType="Inbound")


# -- routing: Reject, Transfer, revoke -----------------------------------------------------------------------


def test_reject_goes_to_the_next_ready_agent_who_has_not_rejected() -> None:
    office, email = invited()
    office.routing.ready = {"agent1", "agent3"}
    email.apply("Reject")
    assert email.owner == "agent3"
    email.apply("Reject")
    waiting = office.interactions[email.id]
    assert (waiting.state, waiting.owner) == ("Queued", None)  # agent1 and agent3 rejected; nobody else ready
    assert email.view_for("agent3") is None
    office.routing.ready.add("agent4")
    assert [u for u, _, _ in email.offer("agent4")] == ["agent4"]


def test_revoke_takes_the_invitation_back() -> None:
    _office, email = invited()
    [(user, topic, data)] = email.revoke()
    assert (user, data["state"], data["capabilities"]) == ("agent1", "Revoked", [])
    assert classify(topic, data) == "EmailRevoked" and email.view_for("agent1") is None
    assert_notifications_valid([(user, topic, data)])
    with pytest.raises(InvalidOperation):
        email.revoke()
    email.offer("agent2")
    assert email.owner == "agent2"


# -- attachments and properties -------------------------------------------------------------------------------


def test_attachments_show_in_the_email_object() -> None:
    _office, email = accepted()
    attachment = email.add_attachment("invoice.pdf", "application/pdf", 1024)
    [(_, _, _data)] = email.apply("Transfer", targetId="agent2")
    email.apply("Accept")
    assert email.body()["email_object"]["attachments"] == [attachment]
    email.remove_attachment(attachment["id"])
    assert "attachments" not in email.body()["email_object"]
    with pytest.raises(InvalidOperation):
        email.remove_attachment(attachment["id"])
    assert_notifications_valid([("agent2", "/v2/me/interactions", email.body())])


def test_update_properties_merges_into_user_data() -> None:
    _office, email = accepted()
    email.apply("UpdateProperties", properties={"Disposition": "Solved", "Subject": "changed"})
    assert email.user_data["Disposition"] == "Solved" and email.user_data["Subject"] == "changed"
    assert email.user_data["FromAddress"] == "Customer1@ci-vm106"


# -- refusals: statusCode and nothing changed ------------------------------------------------------------------

# fmt: off
REFUSALS: list[tuple[str, str, dict[str, Any], type[Exception], str]] = [
    ("invited", "Reply", {"queueName": OUT}, InvalidOperation, "not valid"),
    ("invited", "Reply", {}, MissingAttribute, "queueName"),  # a missing attribute is 1 in any state
    ("accepted", "ReplyAll", {}, MissingAttribute, "queueName"),
    ("invited", "Send", {}, InvalidOperation, "not valid"),
    ("accepted", "Accept", {}, InvalidOperation, "not valid"),
    ("accepted", "CancelReply", {}, InvalidOperation, "unknown operation"),
    ("accepted", "Transfer", {}, MissingAttribute, "targetId"),
    ("accepted", "Transfer", {"targetId": "agent1"}, InvalidOperation, "agent doing"),
    ("accepted", "Transfer", {"targetId": "nobody"}, InvalidOperation, "not an agent"),
    ("accepted", "PlaceInQueue", {}, MissingAttribute, "queue"),
    ("accepted", "PlaceInQueue", {"queue": "NoSuchQueue"}, InvalidOperation, "no queue"),
    ("accepted", "PlaceInWorkbin", {}, MissingAttribute, "workbin"),
    ("accepted", "PlaceInWorkbin", {"workbin": "Elsewhere"}, InvalidOperation, "no workbin"),
    ("accepted", "UpdateProperties", {}, MissingAttribute, "properties"),
    ("accepted", "UpdateProperties", {"properties": "x=1"}, InvalidOperation, "properties"),
    ("accepted", "Reply", {"queueName": OUT, "quoteOriginal": "maybe"}, InvalidOperation, "quoteOriginal"),
    ("accepted", "Reply", {"queueName": OUT, "subjectPrefix": 7}, InvalidOperation, "subjectPrefix"),
    ("reply_created", "Reply", {"queueName": OUT}, InvalidOperation, "not valid"),
    ("in_workbin", "Transfer", {}, MissingAttribute, "targetId"),
    ("reply_created", "Send", {"email_object": "to me"}, InvalidOperation, "email_object"),
    ("reply_created", "Send", {"email_object": {"toAddress": 5}}, InvalidOperation, "toAddress"),
    ("created", "Send", {}, MissingAttribute, "toAddress"),
    ("in_workbin", "Accept", {}, InvalidOperation, "not valid"),
    ("revoked", "Accept", {}, InvalidOperation, "not valid"),
]
# fmt: on


@pytest.mark.parametrize(
    ("scenario", "operation", "attributes", "error", "words"),
    REFUSALS,
    ids=[f"{r[0]}-{r[1]}-{i}" for i, r in enumerate(REFUSALS)],
)
def test_refusal_changes_nothing(
    scenario: str, operation: str, attributes: dict[str, Any], error: type[Exception], words: str
) -> None:
    office, email = SCENARIOS[scenario]()
    assert_refused_unchanged(office, Office.snapshot, lambda: email.apply(operation, **attributes), error, words)


# -- the property: capabilities are exactly what succeeds ------------------------------------------------------


def _valid_attributes(machine: Machine, operation: str) -> dict[str, Any]:
    valid: dict[str, dict[str, Any]] = {
        "Transfer": {"targetId": "agent4"},
        "PlaceInQueue": {"queue": "SimpleEmailOutQueue"},
        "PlaceInWorkbin": {"workbin": "TestWorkbin"},
        "UpdateProperties": {"properties": {"k": "v"}},
        "Forward": {"toAddress": "legal@corp"},
        "Reply": {"queueName": OUT},
        "ReplyAll": {"queueName": OUT},
        "Send": {"email_object": {"toAddress": "c@x"}},
    }
    return valid.get(operation, {})


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_capabilities_are_exactly_what_succeeds(scenario: str) -> None:
    office, email = SCENARIOS[scenario]()
    assert_capabilities_exact(
        office, lambda o: o.interactions[email.id], _valid_attributes, Office.snapshot, Office.seen_states
    )
