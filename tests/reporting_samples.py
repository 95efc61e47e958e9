"""Results files as the plugin writes them (conformance/results.schema.json), made small for report tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from conformance import contract

BASE = "http://gws.example.test:8080/api/v2"


def exchange(
    seq: int = 7,
    *,
    method: str = "GET",
    path: str = "/me",
    status: int = 200,
    response_body: str | None = '{"user": {"id": "u1"}}',
    request_body: str | None = None,
    role: str = "agent1",
) -> dict[str, Any]:
    curl = f'curl -sS -i -X {method} {BASE}{path} -u "{role}:$GWS_{role.upper()}_PASSWORD"'
    return {
        "kind": "http",
        "seq": seq,
        "timestamp": "2026-01-05T10:00:01.250000+00:00",
        "elapsed_s": 0.012,
        "role": role,
        "user": role,
        "request": {
            "method": method,
            "url": BASE + path,
            "headers": [["Accept", "application/json"], ["Authorization", "Basic ***"]],
            "body": request_body,
        },
        "response": {
            "status_code": status,
            "headers": [["content-type", "application/json"]],
            "body": response_body,
        },
        "error": None,
        "curl": curl,
    }


def make_test(nodeid: str, outcome: str = "passed", **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "nodeid": nodeid,
        "outcome": outcome,
        "phase": "call",
        "duration_s": 0.25,
        "requirements": [],
        "feature": None,
        "violated": [],
        "level": None,
        "title": None,
        "message": None,
        "reproduce": None,
        "evidence": [],
        "findings": [],
    }
    result.update(fields)
    return result


def failure(
    nodeid: str,
    violated: list[str],
    *,
    level: str = "MUST",
    title: str = "Reply has no statusCode",
    evidence: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    evidence = evidence if evidence is not None else [exchange()]
    return make_test(
        nodeid,
        "failed" if level == "MUST" else "warning",
        requirements=fields.pop("requirements", list(violated)),
        violated=violated,
        level=level,
        title=title,
        message="The top level of the body has no statusCode (members: user).",
        reproduce=evidence[-1]["curl"] if evidence else None,
        evidence=evidence,
        **fields,
    )


def results(
    tests: list[dict[str, Any]], *, areas: list[str] | None = None, requirements: list[str] | None = None
) -> dict[str, Any]:
    summary: dict[str, int] = {}
    for test in tests:
        summary[test["outcome"]] = summary.get(test["outcome"], 0) + 1
    summary["total"] = len(tests)
    return {
        "version": 1,
        "tool": {"name": "gws-conformance", "version": "0.1.0"},
        "started_at": "2026-01-05T10:00:00+00:00",
        "finished_at": "2026-01-05T10:00:42+00:00",
        "duration_s": 42.0,
        "target": {
            "base_url": BASE,
            "cometd_url": BASE + "/notifications",
            "users": {"agent1": {"user": "agent1", "password": "***"}},
            "stimulus": "none",
            "fuzz": {"profile": "quick", "max_examples": 10},
            "seed": 1234,
            "origins": {"GWS_BASE_URL": "environment"},
        },
        "configuration_error": None,
        "seed": 1234,
        "profile": "quick",
        "selection": {"areas": areas or [], "requirements": requirements or []},
        "summary": summary,
        "requirements": {"selected": 0, "tested": 0, "untested": []},
        "tests": tests,
    }


def timeline_for(seq: int = 7) -> list[dict[str, Any]]:
    return [
        {
            "kind": "http",
            "at": "2026-01-05T10:00:01.000000+00:00",
            "seq": seq - 1,
            "who": "agent1",
            "method": "POST",
            "path": "/me",
            "operation": "POST /me#Ready",
            "http_status": 200,
            "status_code": 0,
            "elapsed_s": 0.01,
            "error": None,
        },
        {
            "kind": "notification",
            "at": "2026-01-05T10:00:01.100000+00:00",
            "who": "agent1",
            "topic": "/v2/me/channels",
            "notification": "ChannelStateChanged",
            "detail": {"messageType": "ChannelStateChanged"},
            "schema_errors": [],
        },
        {
            "kind": "http",
            "at": "2026-01-05T10:00:01.250000+00:00",
            "seq": seq,
            "who": "agent1",
            "method": "GET",
            "path": "/me",
            "operation": "GET /me",
            "http_status": 200,
            "status_code": None,
            "elapsed_s": 0.012,
            "error": None,
        },
    ]


# The ``clients`` entries a catalogue may carry (spec/requirements.yaml), made up for the report tests: a
# MUST, a SHOULD and a requirement outside a run's selection. The lead's catalogue holds the real ones.
CLIENTS: dict[str, list[dict[str, str]]] = {
    "GWS-GEN-001": [
        {
            "repo": "example/gws-csharp",
            "path": "src/GwsClient.cs",
            "where": "function ReadStatus",
            "habit": "reads statusCode from every reply <and throws without it>",
        },
    ],
    "GWS-GEN-003": [
        {
            "repo": "example/gws-js",
            "path": "lib/client.js",
            "where": "line 42",
            "habit": "treats an HTTP 200 as success without reading statusCode",
        },
        {
            "repo": "example/gws-java",
            "path": "src/main/java/Gws.java",
            "where": "method send",
            "habit": "maps HTTP 4xx to exceptions",
        },
    ],
    "GWS-COMETD-001": [
        {
            "repo": "example/cometd-client",
            "path": "cometd.js",
            "where": "function handshake",
            "habit": "posts the handshake to the notifications path",
        },
    ],
}


@contextlib.contextmanager
def catalogue_with_clients(clients: dict[str, list[dict[str, str]]] | None = None) -> Iterator[None]:
    """spec/requirements.yaml as the report reads it, with exactly these ``clients`` (default: CLIENTS)."""
    chosen = CLIENTS if clients is None else clients
    bare = [{key: value for key, value in r.items() if key != "clients"} for r in contract.requirements()]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            contract,
            "requirements",
            lambda: [{**r, "clients": chosen[r["id"]]} if r["id"] in chosen else r for r in bare],
        )
        yield
