"""Every HTTP check passes a good reply and fails a deliberately broken one, with its requirements and evidence."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from conformance import contract
from conformance.checks import CHECK_REQUIREMENTS, CHECKS, CheckContext, run_checks
from conformance.checks.http import is_json_media_type
from conformance.client import GwsClient, Response
from conformance.config import load_settings
from conformance.errors import SuiteError
from conformance.failures import Level, Violation

PASSWORD = "ag1-Secret-pw"
BASE = "http://gws.test/api/v2"


def reply(
    status: int = 200,
    body: Any = None,
    *,
    content: bytes | None = None,
    method: str = "GET",
    path: str = "/me",
    content_type: str | None = "application/json",
) -> Response:
    """A real round trip through the client, so the evidence is a genuine recorded exchange."""
    raw = content if content is not None else httpx.Response(200, json=body).content

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=raw, headers={"Content-Type": content_type} if content_type else {})

    settings = load_settings(env={"GWS_BASE_URL": BASE, "GWS_AGENT1_PASSWORD": PASSWORD, "GWS_SEED": "1"})
    with GwsClient(settings, settings.credentials("agent1"), transport=httpx.MockTransport(handler)) as client:
        return client.request(
            method, path, json={"operationName": "Ready"} if method == "POST" else None, expect_json=False
        )


def fails(check: str, ctx: CheckContext, response: Response, rule: str | None = None) -> Violation:
    """Run ``check``; it must raise a Violation carrying ``rule``'s requirements and the exchange."""
    with pytest.raises(Violation) as raised:
        CHECKS[check](ctx, response)
    broken = raised.value
    assert broken.check == check
    assert broken.requirement_ids[: len(CHECK_REQUIREMENTS[rule or check])] == CHECK_REQUIREMENTS[rule or check]
    assert broken.level is CHECKS[check].level
    assert broken.evidence == (response.exchange,)
    text = broken.render()
    assert text.splitlines()[-1].startswith(f"Reproduce with: curl -sS -i -X {response.exchange.request.method} ")
    assert PASSWORD not in text and "Secret" not in text
    return broken


def passes(check: str, ctx: CheckContext, response: Response) -> None:
    CHECKS[check](ctx, response)


PLAIN = CheckContext()


# --- the registry ---------------------------------------------------------------------------------


def test_every_check_is_mapped_to_requirements_in_one_place() -> None:
    assert set(CHECKS) == {key.partition(".")[0] for key in CHECK_REQUIREMENTS}
    for ids in CHECK_REQUIREMENTS.values():
        assert ids and all(re.fullmatch(r"GWS-[A-Z]+-\d{3}", i) for i in ids)


def test_requirement_ids_and_levels_are_the_catalogues() -> None:
    catalogue = {entry["id"]: entry for entry in contract.requirements()}
    for rule, ids in CHECK_REQUIREMENTS.items():
        for requirement in ids:
            assert requirement in catalogue, f"{rule}: {requirement} is not in spec/requirements.yaml"
            assert catalogue[requirement]["level"] == CHECKS[rule.partition(".")[0]].level, (rule, requirement)


def test_levels() -> None:
    should = {"status_code_matches_http", "error_body_members"}
    assert all(CHECKS[name].level is Level.SHOULD for name in should)
    assert all(c.level is Level.MUST for name, c in CHECKS.items() if name not in should)


# --- status_code_present ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [{"statusCode": 0}, {"statusCode": 0, "status": "ok"}, {"statusCode": 6, "statusMessage": "x"}]
)
def test_status_code_present_passes(body: dict[str, Any]) -> None:
    passes("status_code_present", PLAIN, reply(body=body))


@pytest.mark.parametrize(
    ("response", "title"),
    [
        (reply(body={"status": "ok"}), "Reply has no statusCode"),  # the seed's defective success example (E01)
        (reply(400, body={"status": "error", "errorDescription": "bad"}), "Reply has no statusCode"),  # E02
        (reply(body={"statusCode": "0"}), "statusCode is not an integer"),
        (reply(body={"statusCode": True}), "statusCode is not an integer"),
        (reply(body=[{"statusCode": 0}]), "Reply is not a JSON object"),
        (reply(content=b"<html>OK</html>", content_type="text/html"), "Reply is not JSON"),
        (reply(content=b""), "Reply is not JSON"),
    ],
)
def test_status_code_present_fails(response: Response, title: str) -> None:
    assert fails("status_code_present", PLAIN, response).title == title


def test_an_attachment_download_answers_the_file_itself() -> None:
    download = CheckContext(operation="GET /me/interactions/{id}/attachments/{attachmentId}")
    passes("status_code_present", download, reply(content=b"%PDF-1.4", content_type="application/pdf"))
    fails("status_code_present", download, reply(404, content=b"<html>Not Found</html>", content_type="text/html"))


def test_a_401_without_json_is_fine_only_for_missing_or_wrong_credentials() -> None:
    page = reply(401, content=b"<html>Unauthorized</html>", content_type="text/html")
    passes("status_code_present", CheckContext(credentials_valid=False), page)
    fails("status_code_present", PLAIN, page)


# --- error_shape --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"statusCode": 0},
        {"statusCode": 2, "statusMessage": "Invalid state"},
        {"statusCode": 6, "statusMessage": "Not found", "extra": 1},  # extra members tolerated (E02)
        {"status": "error"},  # no statusCode at all: status_code_present's finding, not this one's
    ],
)
def test_error_shape_passes(body: dict[str, Any]) -> None:
    passes("error_shape", PLAIN, reply(400, body=body))


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"statusCode": 1}, "'statusMessage' is a required property"),
        ({"statusCode": 7, "statusMessage": "?"}, "7 is greater than the maximum of 6"),
        ({"statusCode": -1, "statusMessage": "?"}, "-1 is less than the minimum of 1"),
        ({"statusCode": 3, "statusMessage": 42}, "42 is not of type 'string'"),
    ],
)
def test_error_shape_fails(body: dict[str, Any], complaint: str) -> None:
    assert complaint in fails("error_shape", PLAIN, reply(400, body=body)).message


# --- error_body_members (SHOULD) and strict_json -----------------------------------------------------


@pytest.mark.parametrize(
    "body", [{"statusCode": 0, "extra": 1}, {"statusCode": 2, "statusMessage": "Invalid state"}, {"status": "x"}]
)
def test_error_body_members_passes(body: dict[str, Any]) -> None:
    passes("error_body_members", PLAIN, reply(400, body=body))


def test_error_body_members_warns_about_other_members() -> None:
    broken = fails("error_body_members", PLAIN, reply(404, body={"statusCode": 6, "statusMessage": "x", "trace": []}))
    assert broken.is_warning and "trace" in broken.message


@pytest.mark.parametrize(
    "content", [b'{"statusCode": 0, "n": 1.5e300, "s": "NaN"}', b'{"statusCode":0,"v":[true,false,null]}']
)
def test_strict_json_passes(content: bytes) -> None:
    passes("strict_json", PLAIN, reply(content=content))


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_strict_json_fails_on_literals_only_a_lenient_parser_reads(literal: bytes) -> None:
    response = reply(content=b'{"statusCode": 0, "value": ' + literal + b"}")
    assert response.is_json  # the client itself reads it: only the check tells
    assert literal.decode().lstrip("-") in fails("strict_json", PLAIN, response).message


# --- json_content_type (E80) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "label",
    [
        "application/json",
        "application/json; charset=UTF-8",
        "Application/JSON;charset=utf-8",
        "application/problem+json",
        "application/vnd.genesys.gws+json; charset=utf-8",
    ],
)
def test_json_content_type_passes(label: str) -> None:
    passes("json_content_type", PLAIN, reply(body={"statusCode": 0}, content_type=label))


@pytest.mark.parametrize(
    "label", ["text/plain", "text/plain; charset=utf-8", "text/html", "text/json", "application/+json", "json", None]
)
def test_json_content_type_fails_on_a_json_body_labelled_otherwise(label: str | None) -> None:
    response = reply(body={"statusCode": 0}, content_type=label)
    assert response.is_json  # the body parses: only the label is wrong
    broken = fails("json_content_type", PLAIN, response)
    assert broken.title == "JSON reply not labelled as JSON"
    assert (repr(label) if label else "absent") in broken.message
    assert "reads the header before the body" in broken.message  # names the client habit it breaks


def test_json_content_type_also_judges_errors_and_401s_with_a_json_body() -> None:
    fails(
        "json_content_type", PLAIN, reply(404, body={"statusCode": 6, "statusMessage": "x"}, content_type="text/plain")
    )
    anonymous = CheckContext(credentials_valid=False)
    fails("json_content_type", anonymous, reply(401, body={"statusCode": 3, "statusMessage": "x"}, content_type=None))


def test_json_content_type_exempts_what_is_not_a_json_reply() -> None:
    passes("json_content_type", CheckContext(credentials_valid=False), reply(401, content=b"", content_type=None))
    page = reply(401, content=b"<html>Unauthorized</html>", content_type="text/html")
    passes("json_content_type", CheckContext(credentials_valid=False), page)
    # An attachment download answers the file with the file's own type, even when the file happens to be JSON.
    download = CheckContext(operation="GET /me/interactions/{id}/attachments/{attachmentId}")
    passes("json_content_type", download, reply(content=b'{"a": 1}', content_type="application/octet-stream"))
    # ... but its error replies are GWS replies again.
    fails(
        "json_content_type",
        download,
        reply(404, body={"statusCode": 6, "statusMessage": "x"}, content_type="text/plain"),
    )


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("application/json", True),
        ("application/geo+json;x=1", True),
        (" APPLICATION/JSON ", True),
        ("application/jsonp", False),
        ("text/plain", False),
        ("", False),
        (None, False),
        ("+json", False),
    ],
)
def test_is_json_media_type(label: str | None, expected: bool) -> None:
    assert is_json_media_type(label) is expected


# --- status_code_matches_http (SHOULD) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "http"), [(0, 200), (0, 201), (1, 400), (2, 400), (2, 409), (3, 403), (4, 500), (5, 403), (6, 404)]
)
def test_status_code_matches_http_passes(code: int, http: int) -> None:
    passes("status_code_matches_http", PLAIN, reply(http, body={"statusCode": code, "statusMessage": "m"}))


@pytest.mark.parametrize(("code", "http"), [(1, 200), (6, 200), (0, 404), (5, 401), (2, 500), (4, 400)])
def test_status_code_matches_http_warns(code: int, http: int) -> None:
    broken = fails("status_code_matches_http", PLAIN, reply(http, body={"statusCode": code, "statusMessage": "m"}))
    assert broken.is_warning and broken.level is Level.SHOULD
    assert f"statusCode {code} came with HTTP {http}" in broken.message


def test_missing_or_wrong_credentials_should_get_401() -> None:
    anonymous = CheckContext(credentials_valid=False)
    passes("status_code_matches_http", anonymous, reply(401, body={"statusCode": 3, "statusMessage": "no"}))
    broken = fails(
        "status_code_matches_http",
        anonymous,
        reply(403, body={"statusCode": 3, "statusMessage": "no"}),
        rule="status_code_matches_http.unauthenticated",
    )
    assert broken.is_warning
    assert not set(CHECK_REQUIREMENTS["status_code_matches_http"]) & set(broken.requirement_ids)


# --- no_5xx_for_client_input -------------------------------------------------------------------------

BAD_INPUT = CheckContext(operation="POST /me#Ready", client_input_invalid=True)


@pytest.mark.parametrize(("http", "code"), [(400, 1), (400, 2), (409, 2)])
def test_no_5xx_for_client_input_passes(http: int, code: int) -> None:
    passes(
        "no_5xx_for_client_input",
        BAD_INPUT,
        reply(http, body={"statusCode": code, "statusMessage": "m"}, method="POST"),
    )


def test_a_5xx_is_fine_when_the_input_was_valid() -> None:
    passes("no_5xx_for_client_input", PLAIN, reply(500, body={"statusCode": 4, "statusMessage": "Cassandra down"}))


@pytest.mark.parametrize(
    ("response", "title"),
    [
        (
            reply(500, body={"statusCode": 4, "statusMessage": "NullPointerException"}, method="POST"),
            "Server error for invalid client input",
        ),
        (
            reply(503, content=b"Service Unavailable", content_type="text/plain", method="POST"),
            "Server error for invalid client input",
        ),
        (
            reply(400, body={"statusCode": 4, "statusMessage": "oops"}, method="POST"),
            "Internal error (statusCode 4) for invalid client input",
        ),
    ],
)
def test_no_5xx_for_client_input_fails(response: Response, title: str) -> None:
    broken = fails("no_5xx_for_client_input", BAD_INPUT, response)
    assert broken.title == f"{title} [POST /me#Ready]"
    assert not broken.is_warning


# --- response_matches_schema --------------------------------------------------------------------------

URI_LIST = CheckContext(operation="GET /skills", schema_ref="schemas/uri-list.json", requirement_ids=("GWS-SKILL-001",))


def test_response_matches_schema_passes() -> None:
    passes("response_matches_schema", URI_LIST, reply(body={"statusCode": 0, "uris": [f"{BASE}/skills/1"]}))
    passes("response_matches_schema", PLAIN, reply(body={"anything": True}))  # no schema named: nothing to check


@pytest.mark.parametrize(
    ("response", "complaint"),
    [
        (reply(body={"statusCode": 0, "uris": f"{BASE}/skills/1"}), "$.uris: "),
        (reply(body={"statusCode": 0}), "'uris' is a required property"),
        (reply(content=b"not json", content_type="text/plain"), "is not JSON"),
    ],
)
def test_response_matches_schema_fails_with_the_callers_requirements(response: Response, complaint: str) -> None:
    broken = fails("response_matches_schema", URI_LIST, response)
    assert complaint in broken.message
    assert "GWS-SKILL-001" in broken.requirement_ids


def test_a_missing_schema_is_the_suites_fault() -> None:
    with pytest.raises(SuiteError, match=r"schemas/no-such\.json"):
        CHECKS["response_matches_schema"](
            CheckContext(schema_ref="schemas/no-such.json"), reply(body={"statusCode": 0})
        )


# --- collection_shape ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ctx", "body"),
    [
        (
            CheckContext(operation="GET /skills"),
            {"statusCode": 0, "uris": [f"{BASE}/skills/1", "https://other.example/x"]},
        ),
        (CheckContext(operation="GET /skills"), {"statusCode": 0, "uris": []}),
        (CheckContext(operation="GET /users"), {"statusCode": 0, "users": [{"userName": "a"}, {"userName": "b"}]}),
        (CheckContext(operation="GET /users/{id}/skills"), {"statusCode": 0, "skills": [{"id": "s"}]}),
        (CheckContext(collection="interactions"), {"statusCode": 0, "interactions": []}),
        (CheckContext(operation="GET /users"), {"statusCode": 6, "statusMessage": "gone"}),  # errors carry no list
    ],
)
def test_collection_shape_passes(ctx: CheckContext, body: dict[str, Any]) -> None:
    passes("collection_shape", ctx, reply(body=body, path="/users"))


def test_collection_name_defaults_to_the_url() -> None:
    passes("collection_shape", PLAIN, reply(body={"statusCode": 0, "devices": []}, path="/me/devices?fields=*"))
    fails("collection_shape", PLAIN, reply(body={"statusCode": 0, "users": []}, path="/me/devices"))


NO_COLLECTION = ("collection_shape", "List reply has no collection")
BAD_URIS = ("collection_shape.uris", '"uris" is not a list of absolute URIs')
BAD_OBJECTS = ("collection_shape.objects", "'users' is not a list of objects")


@pytest.mark.parametrize(
    ("body", "broken"),
    [
        ({"statusCode": 0}, NO_COLLECTION),
        ({"statusCode": 0, "user": [{"userName": "a"}]}, NO_COLLECTION),
        ({"statusCode": 0, "uris": "http://gws.test/api/v2/users/1"}, BAD_URIS),
        ({"statusCode": 0, "uris": ["/api/v2/users/1"]}, BAD_URIS),
        ({"statusCode": 0, "uris": [" http://gws.test/api/v2/users/1 "]}, BAD_URIS),  # the seed's interactions example
        ({"statusCode": 0, "uris": ["http: //demosrv: 8080/api/v2/users/1"]}, BAD_URIS),  # the capture's artefact
        ({"statusCode": 0, "uris": [{"uri": "http://gws.test/x"}]}, BAD_URIS),
        ({"statusCode": 0, "users": {"userName": "a"}}, BAD_OBJECTS),
        ({"statusCode": 0, "users": ["http://gws.test/api/v2/users/1"]}, BAD_OBJECTS),
    ],
)
def test_collection_shape_fails(body: dict[str, Any], broken: tuple[str, str]) -> None:
    rule, title = broken
    found = fails("collection_shape", CheckContext(operation="GET /users"), reply(body=body, path="/users"), rule=rule)
    assert found.title == f"{title} [GET /users]"
    assert found.requirement_ids == CHECK_REQUIREMENTS[rule]


# --- running several checks ---------------------------------------------------------------------------


def test_run_checks_collects_every_violation_of_a_broken_reply() -> None:
    # statusCode 4 without statusMessage, as a 5xx, for invalid input; HTTP 500 does match statusCode 4 (E12).
    response = reply(500, body={"statusCode": 4}, method="POST")
    found = run_checks(BAD_INPUT, response)
    assert [v.check for v in found] == ["error_shape", "no_5xx_for_client_input"]
    assert all(v.evidence == (response.exchange,) for v in found)
    assert run_checks(PLAIN, reply(body={"statusCode": 0}), ["status_code_present", "error_shape"]) == []


def test_unknown_check_name_is_the_suites_fault() -> None:
    with pytest.raises(SuiteError, match="unknown check"):
        run_checks(PLAIN, reply(body={"statusCode": 0}), ["status_code_presnt"])


def test_violation_report_reads_top_down() -> None:
    broken = fails(
        "status_code_present", CheckContext(operation="POST /me#Ready"), reply(body={"status": "ok"}, method="POST")
    )
    lines = broken.render().splitlines()
    assert (
        lines[0]
        == f"[MUST] Reply has no statusCode [POST /me#Ready] ({', '.join(CHECK_REQUIREMENTS['status_code_present'])})"
    )
    assert "Evidence:" in lines
    assert "< HTTP 200" in lines
    assert str(broken) == broken.render()
    assert broken.to_dict()["reproduce"] == broken.reproduction
