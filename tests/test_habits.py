"""conformance.habits: capabilities arrays (GWS-CALL-032, GWS-IXN-024) and messageType (GWS-NOTIF-009),
judged on every message the inbox claims and on every call a REST read returns, each under its own rule."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from inbox_support import Feed
from test_checks_http import fails, passes, reply

from conformance import findings, habits
from conformance.checks import CheckContext
from conformance.failures import Level, Violation

CALLS = "/v2/me/calls"
INTERACTIONS = "/v2/me/interactions"
CHANNELS = "/v2/me/channels"
ME = "/v2/me"

RELEASED: dict[str, Any] = {
    "messageType": "CallStateChangeMessage",
    "notificationType": "StatusChange",
    "phoneNumber": "1",
    "call": {"id": "c1", "state": "Released", "capabilities": [], "participants": []},
}
REVOKED: dict[str, Any] = {
    "messageType": "InteractionStateMessage",
    "id": "i1",
    "state": "Revoked",
    "channel": "chat",
    "capabilities": [],
}
CHANNEL_READY: dict[str, Any] = {
    "messageType": "ChannelStateChangeMessage",
    "channels": [{"channel": "chat", "userState": {"state": "Ready"}}],
}
PASSWORD_OK: dict[str, Any] = {"messageType": "PasswordChangeMessage", "notificationType": "PasswordChangeSuccessful"}


def without(message: dict[str, Any], *path: str) -> dict[str, Any]:
    """A deep copy of ``message`` with the member at ``path`` removed."""
    changed = copy.deepcopy(message)
    holder = changed
    for key in path[:-1]:
        holder = holder[key]
    del holder[path[-1]]
    return changed


# -- the rules themselves -----------------------------------------------------------------------------


def test_a_released_call_with_an_empty_array_keeps_the_rule_and_one_without_breaks_it() -> None:
    assert habits.notification_breaches(CALLS, RELEASED) == []
    [breach] = habits.notification_breaches(CALLS, without(RELEASED, "call", "capabilities"))
    assert (breach.requirement, breach.level) == ("GWS-CALL-032", Level.MUST)
    assert breach.title == "Released call message without capabilities: a client that iterates capabilities crashes"
    assert "'c1'" in breach.detail and "E82" in breach.detail


@pytest.mark.parametrize("value", [None, "Hangup", {"Hangup": True}])
def test_capabilities_that_are_not_an_array_break_the_rule_in_any_state(value: Any) -> None:
    message = copy.deepcopy(RELEASED)
    message["call"].update(state="Established", capabilities=value)
    breach = habits.capabilities_breach(CALLS, message)
    assert breach is not None and breach.requirement == "GWS-CALL-032"
    assert breach.title.startswith("Established call message whose capabilities is ")


def test_a_call_error_without_a_call_object_is_not_a_call() -> None:
    error = {
        "messageType": "CallStateChangeMessage",
        "errorMessage": "x",
        "deviceUri": "d",
        "connectionId": "c",
        "callUuid": "u",
    }
    assert habits.capabilities_breach(CALLS, error) is None


def test_a_revoked_interaction_without_capabilities_breaks_its_own_rule() -> None:
    assert habits.capabilities_breach(INTERACTIONS, REVOKED) is None
    breach = habits.capabilities_breach(INTERACTIONS, without(REVOKED, "capabilities"))
    assert breach is not None
    assert (breach.requirement, breach.level) == ("GWS-IXN-024", Level.MUST)
    assert breach.title.startswith("Revoked interaction message without capabilities: ")


def test_capabilities_are_asked_only_of_calls_and_interactions() -> None:
    assert habits.capabilities_breach(CHANNELS, CHANNEL_READY) is None
    assert habits.capabilities_breach("/v2/me/workbins", {"messageType": "x", "interactions": [{"id": "i"}]}) is None


@pytest.mark.parametrize("topic", [CHANNELS, ME, "/v2/users", CALLS, INTERACTIONS, "/v2/me/devices"])
def test_every_data_topic_asks_for_message_type(topic: str) -> None:
    breach = habits.message_type_breach(topic, {"notificationType": "PasswordChangeSuccessful"})
    assert breach is not None
    assert (breach.requirement, breach.level) == ("GWS-NOTIF-009", Level.SHOULD)
    assert (
        breach.title == f"A message on {topic} without messageType: a client that dispatches on data.messageType "
        "throws or drops it"
    )


def test_message_type_must_be_a_non_empty_string_and_type_name_alone_is_not_enough() -> None:
    assert habits.message_type_breach(ME, PASSWORD_OK) is None
    assert habits.message_type_breach(ME, {**PASSWORD_OK, "messageType": ""}) is not None
    only_name = habits.message_type_breach(CALLS, {"messageTypeName": "CallStateChangeMessage"})
    assert only_name is not None and "only messageTypeName 'CallStateChangeMessage'" in only_name.detail


def test_meta_replies_are_not_data_messages() -> None:
    assert habits.message_type_breach("/meta/connect", {"successful": True}) is None


def test_breaches_come_must_first() -> None:
    both = without(without(RELEASED, "call", "capabilities"), "messageType")
    assert [b.requirement for b in habits.notification_breaches(CALLS, both)] == ["GWS-CALL-032", "GWS-NOTIF-009"]


# -- where the suite applies them: the inbox --------------------------------------------------------------


def new_feed() -> Feed:
    return Feed(CALLS, INTERACTIONS, CHANNELS, ME)


def test_the_inbox_fails_a_released_call_without_capabilities_on_its_rule_alone() -> None:
    feed = new_feed()
    inbox = feed.inbox()
    feed.deliver(CALLS, without(RELEASED, "call", "capabilities"))
    # The test's other requirements about call messages are not named: the failure is the habit's.
    with findings.collecting(["GWS-CALL-010", "GWS-CALL-032"]), pytest.raises(Violation) as broken:
        inbox.expect(CALLS, lambda data: data["call"]["state"] == "Released")
    assert broken.value.requirement_ids == ("GWS-CALL-032",)
    assert broken.value.level is Level.MUST and broken.value.check == "client_habit"
    assert broken.value.title == (
        "agent1: Released call message without capabilities: a client that iterates capabilities crashes"
    )
    assert broken.value.evidence[0].to_dict()["data"]["call"]["id"] == "c1"


def test_the_inbox_names_the_interaction_rule_before_the_schema_that_also_breaks() -> None:
    feed = new_feed()
    inbox = feed.inbox()
    feed.deliver(INTERACTIONS, without(REVOKED, "capabilities"))
    assert feed.listener.records()[0].schema_errors  # ChatRevoked requires capabilities too
    with findings.collecting(["GWS-CHAT-002"]), pytest.raises(Violation) as broken:
        inbox.expect(INTERACTIONS)
    assert broken.value.requirement_ids == ("GWS-IXN-024",)


def test_an_allowed_message_is_held_to_the_rule_too() -> None:
    feed = new_feed()
    inbox = feed.inbox()
    inbox.allow(CALLS, lambda data: True)
    feed.deliver(CALLS, without(RELEASED, "call", "capabilities"))
    with findings.collecting(), pytest.raises(Violation, match=r"GWS-CALL-032|without capabilities"):
        inbox.assert_quiet(window_s=0)


def test_a_message_without_message_type_is_a_warning_and_the_scenario_goes_on() -> None:
    feed = new_feed()
    inbox = feed.inbox()
    feed.deliver(ME, {"notificationType": "PasswordChangeSuccessful"})
    feed.deliver(ME, {"notificationType": "PasswordChangeSuccessful"})
    with findings.collecting(["GWS-PWD-001", "GWS-NOTIF-009"]) as found:
        inbox.expect(ME)
        inbox.expect(ME)
        inbox.assert_quiet()
    [warning] = found.warnings  # one finding for the topic, not one per message
    assert warning.requirement_ids == ("GWS-NOTIF-009",) and warning.level is Level.SHOULD


def test_a_late_message_never_names_a_habit_rule() -> None:
    inbox = new_feed().inbox()
    with findings.collecting(["GWS-CALL-032", "GWS-CALL-010"]), pytest.raises(Violation) as missing:
        inbox.expect(CALLS, description="the call Released")
    assert missing.value.requirement_ids == ("GWS-CALL-010",)


def test_well_formed_messages_pass_without_a_word() -> None:
    feed = new_feed()
    inbox = feed.inbox()
    for topic, data in ((CALLS, RELEASED), (INTERACTIONS, REVOKED), (CHANNELS, CHANNEL_READY), (ME, PASSWORD_OK)):
        feed.deliver(topic, data)
    with findings.collecting() as found:
        for topic in (CALLS, INTERACTIONS, CHANNELS, ME):
            inbox.expect(topic)
        inbox.assert_quiet()
    assert found.warnings == []


# -- and the REST reads of calls -----------------------------------------------------------------------------


def test_a_call_read_without_capabilities_fails_call_032() -> None:
    call = without(RELEASED, "call", "capabilities")["call"]
    one = fails(
        "call_capabilities",
        CheckContext(operation="GET /me/calls/{id}"),
        reply(body={"statusCode": 0, "call": call}, path="/me/calls/c1"),
    )
    assert one.title.startswith("Released call without capabilities: a client that iterates capabilities crashes")
    listed = fails(
        "call_capabilities",
        CheckContext(operation="GET /me/calls"),
        reply(body={"statusCode": 0, "calls": [RELEASED["call"], call]}, path="/me/calls"),
    )
    assert "'c1'" in listed.message


def test_a_field_list_without_capabilities_is_not_held_to_them_and_one_with_them_is() -> None:
    """E32: ``GET /me/calls?fields=id,state`` answers the members asked for; a server that leaves capabilities out
    of that reply is right (a correct reference failed here when a fuzz test read an admin's live call)."""
    call = without(RELEASED, "call", "capabilities")["call"]
    body = {"statusCode": 0, "calls": [{"id": call["id"], "state": call["state"]}]}
    asked = {"id": None, "state": "schemas/call.json#/properties/state"}
    passes("call_capabilities", CheckContext(operation="GET /me/calls", field_schemas=asked), reply(body=body))
    with_capabilities = CheckContext(operation="GET /me/calls", field_schemas={**asked, "capabilities": None})
    listed = fails("call_capabilities", with_capabilities, reply(body=body, path="/me/calls"))
    assert listed.requirement_ids[:1] == ("GWS-CALL-032",)


def test_call_reads_with_arrays_uris_or_errors_and_other_operations_pass() -> None:
    read = CheckContext(operation="GET /me/calls/{id}")
    passes("call_capabilities", read, reply(body={"statusCode": 0, "call": RELEASED["call"]}))
    passes(
        "call_capabilities",
        CheckContext(operation="GET /me/calls"),
        reply(body={"statusCode": 0, "uris": ["http://gws.test/api/v2/me/calls/c1"]}),
    )
    passes("call_capabilities", read, reply(404, body={"statusCode": 6, "statusMessage": "no such call"}))
    passes("call_capabilities", CheckContext(operation="GET /me"), reply(body={"statusCode": 0, "call": {"id": "x"}}))
