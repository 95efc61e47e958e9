"""Field lists (``fields=id,state``, E32): a reply holds partial objects, judged on the members asked for.

The contract (conformance.suite.fuzz.catalogue) names each member's schema in a collection's objects; the registry's
``response_matches_schema`` holds each asked member to it and nothing else; the fuzzer asks for lists of real member
names; the passive judge reads them from the recorded URL (tests/test_passive_validate.py).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from test_checks_http import fails, passes, reply

from conformance.checks import CheckContext
from conformance.suite.fuzz.catalogue import field_list, operations
from conformance.suite.fuzz.runner import _field_lists

DEVICES = operations()["GET /me/devices"]


def partial(*fields: str) -> CheckContext:
    return CheckContext(
        operation="GET /me/devices",
        schema_ref=DEVICES.reply_schema(200),
        collection="devices",
        field_schemas=DEVICES.field_schemas(fields),
    )


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("http://h/api/v2/me/devices?fields=id,phoneNumber", ["id", "phoneNumber"]),
        ("http://h/api/v2/me/devices?fields=%20id%20,,state", ["id", "state"]),
        ("http://h/api/v2/me/devices?fields=*", []),
        ("http://h/api/v2/me/devices", []),
    ],
)
def test_field_list_reads_the_names_asked_for(url: str, fields: list[str]) -> None:
    assert field_list(url) == fields


def test_each_member_has_its_schema_in_the_collections_objects() -> None:
    assert "phoneNumber" in DEVICES.members and "id" in DEVICES.members
    assert DEVICES.field_schemas(["id", "nothing"]) == {"id": "schemas/device.json#/properties/id", "nothing": None}
    assert operations()["GET /me"].members == ()  # not a list


def test_a_partial_object_passes_when_its_asked_members_keep_their_schemas() -> None:
    body = {"statusCode": 0, "devices": [{"phoneNumber": "5001"}]}
    passes("response_matches_schema", partial("phoneNumber"), reply(body=body, path="/me/devices"))
    # The whole-object reading would refuse it: a device requires its id.
    whole = CheckContext(operation="GET /me/devices", schema_ref=DEVICES.reply_schema(200), collection="devices")
    fails("response_matches_schema", whole, reply(body=body, path="/me/devices"))


def test_an_asked_member_that_breaks_its_schema_is_one_finding() -> None:
    body = {"statusCode": 0, "devices": [{"id": "d1", "phoneNumber": 5001}]}
    found = fails("response_matches_schema", partial("id", "phoneNumber"), reply(body=body, path="/me/devices"))
    assert "$.devices[0].phoneNumber: 5001 is not of type 'string'" in found.message
    assert found.message.count("\n  $") == 1, found.message


def test_members_not_asked_for_are_not_judged_and_uris_or_errors_are_judged_whole() -> None:
    odd = {"statusCode": 0, "devices": [{"id": "d1", "phoneNumber": 5001}]}
    passes("response_matches_schema", partial("id"), reply(body=odd, path="/me/devices"))
    fails("response_matches_schema", partial("id"), reply(body={"statusCode": 0, "uris": "nope"}, path="/me/devices"))
    fails("response_matches_schema", partial("id"), reply(body={"statusCode": 6}, path="/me/devices"))


def case(query: dict[str, Any], path: str = "/me/devices") -> Any:
    return SimpleNamespace(query=dict(query), method="GET", path=path)


def test_the_fuzzer_turns_a_generated_value_into_a_list_of_real_members() -> None:
    chosen = _field_lists(case({"fields": "x7"})).query["fields"].split(",")
    assert chosen and set(chosen) <= set(DEVICES.members)
    assert _field_lists(case({"fields": "x7"})).query == _field_lists(case({"fields": "x7"})).query  # repeatable
    assert _field_lists(case({"fields": "*"})).query == {"fields": "*"}
    assert _field_lists(case({})).query == {}
    assert _field_lists(case({"fields": "x7"}, "/system/routing-templates")).query == {"fields": "*"}
