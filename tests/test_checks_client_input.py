"""negative_input_rejected: input that breaks the contract is refused with statusCode 1 or 2 (E13)."""

from __future__ import annotations

import pytest
from test_checks_http import reply

from conformance.checks import CHECK_REQUIREMENTS, CHECKS, CheckContext
from conformance.failures import Level, Violation

BAD_INPUT = CheckContext(operation="POST /skills", client_input_invalid=True)
GOOD_INPUT = CheckContext(operation="POST /skills")
check = CHECKS["negative_input_rejected"]


def test_mapped_to_the_e13_requirements_at_must_level() -> None:
    assert CHECK_REQUIREMENTS["negative_input_rejected"] == ("GWS-GEN-011", "GWS-GEN-012", "GWS-GEN-014")
    assert check.level is Level.MUST


@pytest.mark.parametrize("code", [1, 2])
def test_passes_a_rejection(code: int) -> None:
    check(BAD_INPUT, reply(400, {"statusCode": code, "statusMessage": "bad"}, method="POST"))


@pytest.mark.parametrize(
    ("http", "body"),
    [
        (200, {"statusCode": 4, "statusMessage": "internal"}),  # no_5xx_for_client_input's finding
        (200, {"status": "ok"}),  # no statusCode: status_code_present's finding
    ],
)
def test_leaves_other_checks_findings_alone(http: int, body: dict[str, object]) -> None:
    check(BAD_INPUT, reply(http, body, method="POST"))


def test_says_nothing_about_valid_input() -> None:
    check(GOOD_INPUT, reply(200, {"statusCode": 0}, method="POST"))


@pytest.mark.parametrize(
    ("http", "body", "said"),
    [
        (200, {"statusCode": 0}, "accepted it (statusCode 0)"),
        (404, {"statusCode": 6, "statusMessage": "no skill"}, "answered statusCode 6"),
        (403, {"statusCode": 5, "statusMessage": "no"}, "answered statusCode 5"),
    ],
)
def test_fails_input_that_was_not_rejected(http: int, body: dict[str, object], said: str) -> None:
    response = reply(http, body, method="POST")
    with pytest.raises(Violation) as raised:
        check(BAD_INPUT, response)
    broken = raised.value
    assert broken.requirement_ids == CHECK_REQUIREMENTS["negative_input_rejected"]
    assert broken.level is Level.MUST and broken.evidence == (response.exchange,)
    assert said in broken.message and broken.title.endswith("[POST /skills]")
    assert broken.reproduction is not None and broken.reproduction.startswith("curl ")
