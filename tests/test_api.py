"""conformance.api: one helper per operation, and every helper runs the checks and the step's expectation."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conformance import findings
from conformance.api import ANY, HELPERS, Admin, Agent, Call, Interaction, contract_operations, reply_schema
from conformance.client import GwsClient
from conformance.config import load_settings
from conformance.failures import Level, Violation

BASE = "http://gws.test/api/v2"


def client(handler: Callable[[httpx.Request], httpx.Response]) -> GwsClient:
    settings = load_settings(env={"GWS_BASE_URL": BASE, "GWS_AGENT1_PASSWORD": "pw", "GWS_ADMIN_PASSWORD": "pw"})
    return GwsClient(settings, settings.credentials("agent1"), transport=httpx.MockTransport(handler))


def answering(body: Any, status: int = 200, seen: list[httpx.Request] | None = None) -> GwsClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, json=body)

    return client(handler)


def test_every_operation_and_operation_name_has_exactly_one_helper() -> None:
    wanted = contract_operations()
    assert set(HELPERS) == wanted
    assert len(set(HELPERS.values())) == len(HELPERS)  # no helper serves two operations


def test_operation_names_include_the_open_custom_agent_state() -> None:
    assert {"POST /me#*", "POST /me/channels/{channel}#*", "POST /me/calls/{id}#Hold"} <= contract_operations()


def test_a_helper_sends_its_operation() -> None:
    seen: list[httpx.Request] = []
    Agent(answering({"statusCode": 0}, seen=seen)).not_ready(work_mode="AfterCallWork")
    Call(answering({"statusCode": 0}, seen=seen), "call/1").hold()
    assert [(r.method, r.url.raw_path) for r in seen] == [
        ("POST", b"/api/v2/me"),
        ("POST", b"/api/v2/me/calls/call%2F1"),
    ]
    assert json.loads(seen[0].content) == {"operationName": "NotReady", "workMode": "AfterCallWork"}
    assert json.loads(seen[1].content) == {"operationName": "Hold"}


def test_passwords_are_sent_base64_and_first_login_as_a_query_parameter() -> None:
    seen: list[httpx.Request] = []
    Agent(answering({"statusCode": 0}, seen=seen)).change_password("old", "new", first_login=True)
    assert seen[0].url.params["firstLogin"] == "true"
    assert json.loads(seen[0].content) == {
        "operationName": "ChangePassword",
        "oldPassword": "b2xk",
        "newPassword": "bmV3",
    }


def test_a_reply_without_status_code_fails_the_step() -> None:
    with pytest.raises(Violation) as raised, findings.collecting():
        Agent(answering({"status": "ok"})).ready()
    assert raised.value.check == "status_code_present" and raised.value.level is Level.MUST


def test_the_reply_schema_comes_from_the_contract() -> None:
    assert reply_schema("GET /users/{id}") == (
        "openapi.yaml#/paths/~1users~1{id}/get/responses/200/content/application~1json/schema"
    )
    with pytest.raises(Violation) as raised, findings.collecting():
        Admin(answering({"statusCode": 0, "user": {"id": 5}})).get_user("u1")
    assert raised.value.check == "response_matches_schema"


def test_a_list_reply_gets_the_collection_check() -> None:
    with pytest.raises(Violation) as raised, findings.collecting():
        Admin(answering({"statusCode": 0, "people": []})).list_users()
    assert raised.value.check == "collection_shape"


def test_a_should_finding_is_kept_for_the_end_of_the_test() -> None:
    with findings.collecting(["GWS-AGST-010"]) as found:
        reply = Agent(answering({"statusCode": 2, "statusMessage": "no"}, status=200)).set_agent_state("Nope", expect=2)
    assert reply.status_code == 2
    assert [w.check for w in found.warnings] == ["status_code_matches_http"]
    merged = found.merged_warning()
    assert merged is not None and merged.level is Level.SHOULD


def test_outside_a_test_a_should_finding_is_raised_at_once() -> None:
    findings.activate(None)  # as code running outside any test sees it
    with pytest.raises(Violation) as raised:
        Agent(answering({"statusCode": 2, "statusMessage": "no"}, status=200)).ready(expect=ANY)
    assert raised.value.level is Level.SHOULD


def test_an_unexpected_status_code_fails_the_step_with_the_tests_requirements() -> None:
    with pytest.raises(Violation) as raised, findings.collecting(["GWS-AGST-007"]):
        Agent(answering({"statusCode": 2, "statusMessage": "not now"}, status=400)).ready()
    assert raised.value.requirement_ids == ("GWS-AGST-007",)
    assert "expected 0" in raised.value.title and "not now" in raised.value.message


def test_expect_accepts_several_codes() -> None:
    with findings.collecting():
        reply = Interaction(answering({"statusCode": 6, "statusMessage": "?"}, status=404), "i1").get(expect={5, 6})
    assert reply.status_code == 6


def test_an_attachment_download_is_the_file() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"\x00\x01", headers={"Content-Type": "application/octet-stream"})

    with findings.collecting():
        reply = Interaction(client(handler), "i1").get_attachment("a1")
    assert reply.response.content == b"\x00\x01"
