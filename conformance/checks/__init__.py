"""The checks registry: small named functions, one signature, each raising a Violation.

Every check is ``check(ctx: CheckContext, response: Response) -> None``. A check that does not
apply to a response (an error shape check on a success, a collection check without a collection)
returns without a word; a check that finds the target at fault raises ``Violation``; a check the
suite misuses raises ``SuiteError``.

``CHECK_REQUIREMENTS`` is the one place where checks meet the requirement catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conformance.errors import SuiteError
from conformance.failures import Level, Violation

if TYPE_CHECKING:
    from conformance.client import Response

__all__ = [
    "CHECKS",
    "CHECK_REQUIREMENTS",
    "Check",
    "CheckContext",
    "RegisteredCheck",
    "register",
    "run_checks",
    "violation",
]

# Check (or "check.rule" where one check proves several requirements) -> requirement IDs.
# The IDs name entries of spec/requirements.yaml, and a check's level is its requirements' level there;
# tests/test_checks_http.py holds both to the catalogue.
CHECK_REQUIREMENTS: dict[str, tuple[str, ...]] = {
    # Return Values — All Methods: every reply carries an integer statusCode (E01, E23).
    "status_code_present": ("GWS-GEN-001",),
    # Return Values — All Methods: errors carry statusCode 1..6 and statusMessage (E02).
    "error_shape": ("GWS-GEN-002",),
    # Return Values: an error body holds statusCode and statusMessage only (SHOULD; E02 tolerates more).
    "error_body_members": ("GWS-GEN-009",),
    # Every JSON body is strict RFC 8259 JSON, whatever notation the reference's examples use (E07, E28).
    "strict_json": ("GWS-GEN-026",),
    # E80: a JSON body comes labelled application/json (or a +json type); clients read the header first.
    "json_content_type": ("GWS-GEN-028",),
    # E12: the HTTP status SHOULD match the statusCode.
    "status_code_matches_http": ("GWS-GEN-003",),
    # E12 / User Authentication: missing or wrong credentials SHOULD answer 401.
    "status_code_matches_http.unauthenticated": ("GWS-AUTH-002",),
    # E12 / E13: client input never yields a 5xx or statusCode 4.
    "no_5xx_for_client_input": ("GWS-GEN-004",),
    # Return Values — GET (1) and (2): a list is "uris" (absolute URIs) or an array named after the resource;
    # a reply with neither breaks both.
    "collection_shape": ("GWS-GEN-005", "GWS-GEN-006"),
    "collection_shape.uris": ("GWS-GEN-005",),
    "collection_shape.objects": ("GWS-GEN-006",),
    # Every reply matches the schema its operation declares in spec/openapi.yaml (defined types and values);
    # the caller adds the operation's own requirements through CheckContext.requirement_ids.
    "response_matches_schema": ("GWS-GEN-007",),
    # E13: a request that breaks the contract (missing operationName or attribute, wrong type, invalid
    # value, malformed JSON, wrong content type) is refused with statusCode 1 or 2.
    "negative_input_rejected": ("GWS-GEN-011", "GWS-GEN-012", "GWS-GEN-014"),
    # E82: every call a read returns carries capabilities as an array, in every state (clients iterate it).
    "call_capabilities": ("GWS-CALL-032",),
}


@dataclass(frozen=True)
class CheckContext:
    """What a check needs to know about the request beyond the recorded exchange."""

    operation: str | None = None  # "POST /me#Ready", as named in spec/openapi.yaml
    # The schema the reply must match (relative to spec/, e.g. "schemas/user.json" or
    # "openapi.yaml#/components/schemas/FeatureList"); the caller picks it for the reply's status.
    schema_ref: str | None = None
    # The array a list GET names after its resource ("users"); default: the last fixed path segment.
    collection: str | None = None
    client_input_invalid: bool = False  # the request carried deliberately invalid data
    credentials_valid: bool = True  # False when sent without or with wrong credentials
    requirement_ids: tuple[str, ...] = ()  # what the caller's test proves beyond the check itself
    # A reply to a field list (fields=id,state) holds partial objects (E32): the objects of ``collection`` are judged
    # on the members asked for, each against its schema (field -> schema ref; None: the object schema has no such
    # member, so it is not judged), never against the whole object's required members.
    field_schemas: Mapping[str, str | None] | None = None


Check = Callable[[CheckContext, "Response"], None]


@dataclass(frozen=True)
class RegisteredCheck:
    name: str
    level: Level
    requirement_ids: tuple[str, ...]
    function: Check

    def __call__(self, ctx: CheckContext, response: Response) -> None:
        self.function(ctx, response)


CHECKS: dict[str, RegisteredCheck] = {}


def register(level: Level) -> Callable[[Check], Check]:
    """Add a check under its function name; its requirement IDs come from CHECK_REQUIREMENTS."""

    def decorate(function: Check) -> Check:
        name = function.__name__
        if name not in CHECK_REQUIREMENTS:
            raise SuiteError(f"check {name!r} has no entry in CHECK_REQUIREMENTS")
        CHECKS[name] = RegisteredCheck(name, level, CHECK_REQUIREMENTS[name], function)
        return function

    return decorate


def violation(
    rule: str,
    ctx: CheckContext,
    response: Response,
    *,
    title: str,
    message: str,
    include_caller_ids: bool = False,
) -> Violation:
    """The Violation for ``rule`` ("check" or "check.rule"), with the response as evidence."""
    check = rule.partition(".")[0]
    ids = CHECK_REQUIREMENTS[rule] + (ctx.requirement_ids if include_caller_ids else ())
    operation = f" [{ctx.operation}]" if ctx.operation else ""
    return Violation(
        title=title + operation,
        message=message,
        requirement_ids=tuple(dict.fromkeys(ids)),
        level=CHECKS[check].level,
        evidence=[response.exchange],
        check=check,
    )


def run_checks(ctx: CheckContext, response: Response, names: Sequence[str] | None = None) -> list[Violation]:
    """Run ``names`` (default: every registered check) and return every violation found, in order."""
    found: list[Violation] = []
    for check in _select(names):
        try:
            check(ctx, response)
        except Violation as broken:
            found.append(broken)
    return found


def _select(names: Sequence[str] | None) -> Iterable[RegisteredCheck]:
    if names is None:
        return list(CHECKS.values())
    unknown = [name for name in names if name not in CHECKS]
    if unknown:
        raise SuiteError(f"unknown check(s): {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    return [CHECKS[name] for name in names]


# Registration happens on import; the modules import the names above, so they come last.
from conformance.checks import capabilities as capabilities  # noqa: E402
from conformance.checks import client_input as client_input  # noqa: E402
from conformance.checks import http as http  # noqa: E402
