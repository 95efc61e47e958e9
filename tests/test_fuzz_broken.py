"""The fuzz suite against deliberately broken variants of the reference server.

Each variant breaks one rule; the run must fail the tests that meet it, naming the right
requirement, with the exchange as evidence and a curl command that repeats the request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from faulty_targets import rewriting
from fuzz_support import by_name, fuzz_env, node, run_fuzz
from live_reference import serve

from reference_impl.app import create_app

pytest_plugins = ["pytester"]

Rewrite = Callable[[str, str, int, Any], tuple[int, Any]]


def drop_status_code(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    if isinstance(body, dict):
        body.pop("statusCode", None)
    return status, body


def server_error_for_bad_input(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    if status == 400:
        return 500, {"statusCode": 4, "statusMessage": "NullPointerException"}
    return status, body


def accept_bad_input(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    if status == 400:
        return 200, {"statusCode": 0}
    return status, body


def wrong_collection_shape(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    if isinstance(body, dict) and "uris" in body:
        body["items"] = body.pop("uris")
    return status, body


def wrong_attribute_type(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    if isinstance(body, dict) and isinstance(body.get("user"), dict):
        body["user"]["roles"] = "ROLE_AGENT"  # a string where the contract has an array
    return status, body


@pytest.fixture
def broken(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Rewrite], None]]:
    """``broken(rewrite)``: serve the reference through ``rewrite`` and point the suite at it."""
    stack: list[Any] = []

    def start(rewrite: Rewrite) -> None:
        context = serve(rewriting(create_app(), rewrite))
        target = context.__enter__()
        stack.append(context)
        fuzz_env(monkeypatch, target.base_url)

    yield start
    for context in stack:
        context.__exit__(None, None, None)


def assert_fails_with(pytester: pytest.Pytester, test: str, requirement: str, *, title: str) -> dict[str, Any]:
    kind, _, rest = test.partition(":")
    label, _, role = rest.rpartition(" as ")
    result, results = run_fuzz(pytester, "--gws-seed=3", node(kind, label, role))
    record = by_name(results)[f"test_{kind}_data[{label} as {role}]"]
    assert record["outcome"] == "failed", record
    assert requirement in record["violated"]
    finding = next(f for f in record["findings"] if requirement in f["requirement_ids"])
    assert title in finding["title"]
    assert finding["reproduce"].startswith("curl -sS -i -X ")
    assert record["evidence"] and record["evidence"][0]["kind"] == "http"
    result.stdout.fnmatch_lines([f"*{requirement}*", "*Reproduce with: curl -sS -i -X *"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    return record


def test_a_missing_status_code_fails_gen_001(pytester: pytest.Pytester, broken: Callable[[Rewrite], None]) -> None:
    broken(drop_status_code)
    assert_fails_with(pytester, "positive:GET /users as admin", "GWS-GEN-001", title="Reply has no statusCode")


def test_a_5xx_for_bad_input_fails_gen_004(pytester: pytest.Pytester, broken: Callable[[Rewrite], None]) -> None:
    broken(server_error_for_bad_input)
    record = assert_fails_with(
        pytester, "negative:POST /skills as admin", "GWS-GEN-004", title="Server error for invalid client input"
    )
    assert record["level"] == "MUST"


def test_accepted_bad_input_fails_the_e13_requirements(
    pytester: pytest.Pytester, broken: Callable[[Rewrite], None]
) -> None:
    broken(accept_bad_input)
    record = assert_fails_with(
        pytester, "negative:POST /skills as admin", "GWS-GEN-012", title="Invalid input not rejected"
    )
    assert {"GWS-GEN-011", "GWS-GEN-014"} <= set(record["violated"])


def test_a_wrong_collection_shape_fails_gen_005(pytester: pytest.Pytester, broken: Callable[[Rewrite], None]) -> None:
    broken(wrong_collection_shape)
    assert_fails_with(pytester, "positive:GET /skills as admin", "GWS-GEN-005", title="List reply has no collection")


def test_a_wrong_attribute_type_fails_the_schema_checks(
    pytester: pytest.Pytester, broken: Callable[[Rewrite], None]
) -> None:
    broken(wrong_attribute_type)
    record = assert_fails_with(pytester, "positive:GET /me as agent", "GWS-GEN-007", title="does not match its schema")
    # Both judges see it: the registered check and schemathesis' response_schema_conformance.
    assert {f["check"] for f in record["findings"]} >= {"response_matches_schema", "response_schema_conformance"}


def test_selection_by_requirement_runs_only_the_tests_that_prove_it(
    pytester: pytest.Pytester, broken: Callable[[Rewrite], None]
) -> None:
    broken(accept_bad_input)
    _, results = run_fuzz(pytester, "--gws-requirement=GWS-GEN-014", "-kskills")
    names = set(by_name(results))
    assert names and all(name.startswith("test_negative_data[") for name in names)
    assert all(record["outcome"] == "failed" for record in results["tests"])
