"""The fuzz runner: schemathesis' schema check reports every way a reply breaks its schema; a run judges every case."""

from __future__ import annotations

import json
from typing import Any, cast

import httpx
import hypothesis.core
import pytest

from conformance.client import GwsClient, Response
from conformance.config import load_settings
from conformance.suite.fuzz.catalogue import operations
from conformance.suite.fuzz.runner import (
    SCHEMA_CONFORMANCE,
    SCHEMA_REQUIREMENTS,
    hypothesis_settings,
    judge,
    load_schema,
    run_cases,
)

BASE = "http://gws.test/api/v2"
USER = {
    "id": "53f0ad8d0e0d4111a0681f7bf586434e",
    "userName": "agent1",
    "firstName": "Alice",
    "lastName": "Agent",
    "roles": ["ROLE_AGENT"],
    "enabled": True,
    "uri": f"{BASE}/users/53f0ad8d0e0d4111a0681f7bf586434e",
}


def _reply(body: Any, content_type: str | None = "application/json") -> Response:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": content_type} if content_type else {}
        return httpx.Response(200, content=json.dumps(body).encode(), headers=headers)

    settings = load_settings(env={"GWS_BASE_URL": BASE, "GWS_AGENT1_PASSWORD": "agent1-secret", "GWS_SEED": "1"})
    with GwsClient(settings, settings.credentials("agent1"), transport=httpx.MockTransport(handler)) as client:
        return client.get("/me", expect_json=False)


def _schema_findings(body: Any, content_type: str | None = "application/json") -> list[Any]:
    case = load_schema()["/me"]["GET"].Case()
    reply = _reply(body, content_type)
    verdict = judge(operations()["GET /me"], "agent", case, reply, negative=False, path_bound=True)
    return [f for f in verdict.findings if f.check == SCHEMA_CONFORMANCE]


def test_a_reply_that_keeps_its_schema_has_no_schemathesis_finding() -> None:
    assert _schema_findings({"statusCode": 0, "user": USER}) == []


def test_one_broken_rule_is_one_finding_with_the_exchange() -> None:
    findings = _schema_findings({"statusCode": 0, "user": {**USER, "roles": "ROLE_AGENT"}})
    assert len(findings) == 1
    finding = findings[0]
    assert finding.requirement_ids == SCHEMA_REQUIREMENTS
    assert finding.title.endswith("[GET /me] (schemathesis)")
    assert finding.evidence[0].request.url == f"{BASE}/me"


def test_two_broken_rules_are_two_findings() -> None:
    findings = _schema_findings({"statusCode": 0, "user": {**USER, "roles": "ROLE_AGENT"}}, content_type=None)
    assert sorted(f.title for f in findings) == [
        "Missing Content-Type header [GET /me] (schemathesis)",
        "Response violates schema [GET /me] (schemathesis)",
    ]


class _NoGuard:
    def refuses(self, operation: Any, path_values: Any, body: Any) -> None:
        return None


class _NoWorld:
    def adopt(self, operation: Any, sent: Any, reply: Any) -> None:
        return None


def test_run_cases_judges_every_case_without_digesting_its_own_source(monkeypatch: pytest.MonkeyPatch) -> None:
    # With no example database the digest Hypothesis keys it by is never used (and cost 2 ms a test).
    def no_digest(function: Any) -> bytes:
        raise AssertionError(f"function_digest({function.__name__}) computed")

    monkeypatch.setattr(hypothesis.core, "function_digest", no_digest)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"statusCode": 0, "user": USER})

    settings = load_settings(env={"GWS_BASE_URL": BASE, "GWS_AGENT1_PASSWORD": "agent1-secret", "GWS_SEED": "1"})
    with GwsClient(settings, settings.credentials("agent1"), transport=httpx.MockTransport(handler)) as client:
        state = run_cases(
            strategy=load_schema()["/me"]["GET"].as_strategy(),
            operation=operations()["GET /me"],
            role="agent",
            mode="positive",
            client=client,
            guard=cast(Any, _NoGuard()),
            world=cast(Any, _NoWorld()),
            path_bound=lambda case: True,
            settings=hypothesis_settings(3),
            seed=1,
        )
    assert state.sent >= 1 and state.target_error is None
    assert state.findings == []
