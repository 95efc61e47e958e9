"""The Redactor alone: every secret it has learnt, longest first, in every text it cleans."""

from __future__ import annotations

from conformance.client import Redactor
from conformance.config import REDACTED


def test_a_longer_secret_is_replaced_whole_not_through_a_shorter_one_inside_it() -> None:
    redactor = Redactor(["pw-1234", "pw-1234-long-version"])
    assert redactor.text("a pw-1234-long-version b pw-1234") == f"a {REDACTED} b {REDACTED}"


def test_a_secret_learnt_later_is_redacted_from_then_on() -> None:
    redactor = Redactor(["first-secret"])
    assert redactor.text("new-secret-value") == "new-secret-value"
    redactor.add_secret("new-secret-value")
    redactor.add_secret("new-secret-value")  # learning it twice changes nothing
    assert redactor.text("x new-secret-value first-secret") == f"x {REDACTED} {REDACTED}"


def test_a_secret_is_redacted_as_escaped_inside_json_too() -> None:
    redactor = Redactor(['quo"te-secret'])
    assert redactor.text('{"echo": "quo\\"te-secret"}') == f'{{"echo": "{REDACTED}"}}'


def test_values_too_short_to_scrub_are_not_learnt() -> None:
    redactor = Redactor(["abc"])
    assert redactor.text("abc abcd") == "abc abcd"
