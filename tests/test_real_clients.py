"""The data and rules behind conformance/suite/scenarios/real_clients.py, held to the contract.

E81: spec/openapi.yaml admits null for every optional member of a request body, so the negative fuzzer (which
judges a request as sent by that document, conformance/suite/fuzz/catalogue.request_breaches) never counts
such a null as invalid input, and never requires its refusal; a null for a required member still breaks it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from conformance import contract
from conformance.suite.fuzz.catalogue import operations, request_breaches
from conformance.suite.scenarios.permissions import operation_spec
from conformance.suite.scenarios.real_clients import NEW_AGENT, NULL_CASES, NullCase, _covers, filled

BASE = "http://gws.test/api/v2"


def _request_schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema a request body names, directly or through another request schema (name, schema)."""
    document = contract.load_document("openapi.yaml")
    schemas = document["components"]["schemas"]
    named: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                    name = value.rpartition("/")[2]
                    if name not in named:
                        named.add(name)
                        walk(schemas[name])
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for item in document["paths"].values():
        for spec in item.values():
            if isinstance(spec, dict) and "requestBody" in spec:
                walk(spec["requestBody"])
    yield from ((name, schemas[name]) for name in sorted(named))


def test_every_optional_request_member_admits_null_and_no_required_one_does() -> None:
    optional = 0
    for name, schema in _request_schemas():
        required = set(schema.get("required", []))
        for member in schema.get("properties", {}):
            admits_null = not contract.validate(f"openapi.yaml#/components/schemas/{name}/properties/{member}", None)
            assert admits_null == (member not in required), f"{name}.{member}: null admitted {admits_null} (E81)"
            optional += member not in required
    assert optional >= 30  # the walk found the request schemas


def _sent(case: NullCase, body: dict[str, Any]) -> list[str]:
    method, _, template = case.operation.partition("#")[0].partition(" ")
    url = BASE + template.format_map({name: "x1" for name in case.path})
    operation = operations()[f"{method} {template}"]
    return request_breaches(operation, url, "application/json", json.dumps(body).encode())


@pytest.mark.parametrize("case", NULL_CASES, ids=lambda case: case.operation)
def test_a_null_case_sends_optional_members_and_a_valid_body(case: NullCase) -> None:
    _, schema = operation_spec(case.operation)
    assert schema is not None
    required = set(schema.get("required", []))
    assert case.nulls and set(case.nulls) <= set(schema["properties"]) - required
    plain = filled(case.body)
    assert not _sent(case, plain)
    # The negative fuzzer judges the nulls as valid input, so it never requires their refusal.
    assert not _sent(case, {**plain, **dict.fromkeys(case.nulls)})
    # ... while a required member sent as null is still missing.
    for member in required & set(plain):
        assert _sent(case, {**plain, member: None}), member
    assert case.caller == NEW_AGENT or case.caller in ("admin", "supervisor", "agent1", "agent2", "agent3")
    assert set(case.path.values()) <= {NEW_AGENT}


def test_filled_makes_fresh_names_and_numbers_at_any_depth() -> None:
    first, second = filled({"a": ["x_{unique}"], "n": "{number}", "k": 5}), filled({"a": ["x_{unique}"]})
    assert first["a"][0] != second["a"][0] and first["a"][0].startswith("x_") and "{" not in first["a"][0]
    assert first["n"].isdigit() and len(first["n"]) == 10 and first["k"] == 5


@pytest.mark.parametrize(
    ("cookie_path", "request_path", "covered"),
    [
        ("", "/api/v2/me", True),  # no Path: the request's own directory
        ("/", "/api/v2/me", True),
        ("/api/v2", "/api/v2/me", True),
        ("/api/v2/", "/api/v2/me", True),
        ("/api", "/api/v2/me", True),
        ("/api/v2/me", "/api/v2/me", True),
        ("/api/v", "/api/v2/me", False),  # a prefix, but not at a "/"
        ("/stimulus", "/api/v2/me", False),
    ],
)
def test_a_cookie_path_covers_the_api_as_rfc_6265_matches_paths(
    cookie_path: str, request_path: str, covered: bool
) -> None:
    assert _covers(cookie_path, request_path) is covered
