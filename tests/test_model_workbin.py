"""Workbins: subscription, placing and pulling, the WorkbinEvent messages, exact capabilities."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from model_support import Office, assert_capabilities_exact, assert_notifications_valid, assert_refused_unchanged

from conformance.notifications import classify
from reference_impl.model import InvalidOperation, Machine, MissingAttribute
from reference_impl.model.email import EmailInteraction, receive_email
from reference_impl.model.workbin import Workbin, parse_item_uri, workbin_id_for


def accepted_email(office: Office, agent: str = "agent1") -> EmailInteraction:
    email = receive_email(office.center, from_address="c@x", to_address="support@corp", subject="Subject")
    email.offer(agent)
    email.apply("Accept")
    return email


def test_info_is_the_seed_shape_with_a_base64_view_id() -> None:
    workbin = Office().workbins["agent1"]
    assert workbin.info() == {
        "workbinId": workbin.id,
        "active": 1,
        "workbinName": "TestWorkbin",
        "viewName": "TestWorkbin/PrivateView",
        "workbinType": 1,
    }
    assert base64.b64decode(workbin_id_for("TestWorkbin")).decode() == "TestWorkbin/PrivateView"


# (subscribed?, operation) -> state afterwards, or refused
# fmt: off
SUBSCRIPTIONS = [
    (False, "Subscribe", "Subscribed"),
    (True, "Unsubscribe", "Unsubscribed"),
    (True, "Subscribe", None),
    (False, "Unsubscribe", None),
]
# fmt: on


@pytest.mark.parametrize(("subscribed", "operation", "after"), SUBSCRIPTIONS)
def test_subscription_toggles(subscribed: bool, operation: str, after: str | None) -> None:
    office = Office()
    workbin = office.workbins["agent1"]
    workbin.subscribed = subscribed
    if after is None:
        assert_refused_unchanged(office, Office.snapshot, lambda: workbin.apply(operation), InvalidOperation)
    else:
        assert workbin.apply(operation) == [] and workbin.state == after


def test_placed_and_taken_out_reach_the_subscribed_owner() -> None:
    office = Office()
    workbin = office.workbins["agent1"]
    workbin.apply("Subscribe")
    email = accepted_email(office)
    [(user, topic, placed)] = email.apply("PlaceInWorkbin", workbin=workbin.id)
    assert (user, topic, classify(topic, placed)) == ("agent1", "/v2/me/workbins", "WorkbinEvent")
    assert (placed["operation"], placed["workbinContentOperation"]) == ("Create", "PlacedIn")
    assert placed["interaction"]["state"] == "Queued" and placed["interaction"]["id"] == email.id
    assert placed["interaction"]["currentQueue"] == "TestWorkbin/PrivateQueue"
    assert (
        placed["workbinInfo"]["workbinTypeId"] == "TestWorkbin" and placed["workbinInfo"]["workbinAgentId"] == "agent1"
    )
    assert workbin.items == [email.id] and email.view_for("agent1") is None

    pulled, taken_out = workbin.apply("PullInteractionFromWorkbin", interactionId=email.id)
    assert (pulled[0], classify(pulled[1], pulled[2])) == ("agent1", "InteractionPulled")
    assert pulled[2]["state"] == "Pulled" and pulled[2]["channel"] == "email"
    assert (taken_out[2]["operation"], taken_out[2]["workbinContentOperation"]) == ("Delete", "TakenOut")
    assert workbin.items == [] and email.view_for("agent1") is email
    assert_notifications_valid([(user, topic, placed), pulled, taken_out])


def test_no_event_without_a_subscription() -> None:
    office = Office()
    email = accepted_email(office)
    assert email.apply("PlaceInWorkbin", workbin="TestWorkbin") == []
    assert office.workbins["agent1"].items == [email.id]


def test_add_interaction_to_workbin_moves_the_interaction() -> None:
    office = Office()
    workbin = office.workbins["agent1"]
    workbin.apply("Subscribe")
    email = accepted_email(office)
    [(_, _, placed)] = workbin.apply("AddInteractionToWorkbin", interactionId=email.id)
    assert placed["workbinContentOperation"] == "PlacedIn" and email.state == "Queued" and email.workbin is workbin


def test_content_is_interaction_server_properties() -> None:
    office = Office()
    email = accepted_email(office)
    email.apply("PlaceInWorkbin", workbin="TestWorkbin")
    [item] = office.workbins["agent1"].content()
    assert item["InteractionId"] == email.id and item["MediaType"] == "email" and item["Workbin"] == "TestWorkbin"
    assert item["InteractionSubtype"] == "InboundNew" and item["Subject"] == "Subject"


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("http://h:8080/api/v2/me/workbins/V2I=/interactions/0000Ba8Y08X9001E", ("V2I=", "0000Ba8Y08X9001E")),
        ("/me/workbins/wb/interactions/ix1/", ("wb", "ix1")),
    ],
)
def test_item_uri(uri: str, parts: tuple[str, str]) -> None:
    assert parse_item_uri(uri) == parts


@pytest.mark.parametrize("uri", ["http://h/api/v2/me/interactions/ix1", "ix1", "/me/workbins/wb"])
def test_item_uri_refused(uri: str) -> None:
    with pytest.raises(InvalidOperation):
        parse_item_uri(uri)


# fmt: off
REFUSALS: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("AddInteractionToWorkbin", {}, MissingAttribute, "interactionId"),
    ("AddInteractionToWorkbin", {"interactionId": "nope"}, InvalidOperation, "nope"),
    ("AddInteractionToWorkbin", {"interactionId": "<agent2's>"}, InvalidOperation, "can place"),
    ("PullInteractionFromWorkbin", {}, MissingAttribute, "interactionId"),
    ("PullInteractionFromWorkbin", {"interactionId": "<agent2's>"}, InvalidOperation, "not in workbin"),
    ("Create", {}, InvalidOperation, "unknown operation"),
]
# fmt: on


@pytest.mark.parametrize(("operation", "attributes", "error", "words"), REFUSALS)
def test_refusal_changes_nothing(
    operation: str, attributes: dict[str, Any], error: type[Exception], words: str
) -> None:
    office = Office()
    accepted_email(office, "agent1")
    accepted_email(office, "agent1").apply("PlaceInWorkbin", workbin="TestWorkbin")  # one item to pull
    other = accepted_email(office, "agent2")
    resolved = {k: other.id if v == "<agent2's>" else v for k, v in attributes.items()}
    workbin = office.workbins["agent1"]
    assert_refused_unchanged(office, Office.snapshot, lambda: workbin.apply(operation, **resolved), error, words)


# -- the property: capabilities are exactly what succeeds -------------------------------------------------


def _empty() -> Office:
    return Office()


def _with_placeable_and_content() -> Office:
    office = Office()
    accepted_email(office)
    accepted_email(office).apply("PlaceInWorkbin", workbin="TestWorkbin")
    office.workbins["agent1"].apply("Subscribe")
    return office


def _content_only() -> Office:
    office = Office()
    accepted_email(office).apply("PlaceInWorkbin", workbin="TestWorkbin")
    return office


def _valid_attributes(machine: Machine, operation: str) -> dict[str, Any]:
    assert isinstance(machine, Workbin)
    if operation == "PullInteractionFromWorkbin":
        return {"interactionId": (machine.items or ["none"])[0]}
    if operation == "AddInteractionToWorkbin":
        placeable = [i for i in machine.interactions if machine.interactions[i].view_for(machine.owner)]
        return {"interactionId": (placeable or ["none"])[0]}
    return {}


@pytest.mark.parametrize("world", [_empty, _with_placeable_and_content, _content_only])
def test_capabilities_are_exactly_what_succeeds(world: Any) -> None:
    office = world()
    assert_capabilities_exact(
        office, lambda o: o.workbins["agent1"], _valid_attributes, Office.snapshot, Office.seen_states
    )
