"""Checks on replies to requests that break the contract on purpose (negative fuzzing, bad-input tests).

E13: a missing operationName or required attribute answers statusCode 1; an unknown operationName,
a wrong type or an invalid value answers 2; malformed JSON or a wrong content type answers 1 or 2.
Whether the HTTP status is then a 4xx is status_code_matches_http's (SHOULD) and a 5xx
no_5xx_for_client_input's (MUST) finding, not this check's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.checks import CheckContext, register, violation
from conformance.failures import Level

if TYPE_CHECKING:
    from conformance.client import Response

__all__ = ["negative_input_rejected"]

REJECTION_CODES = frozenset({1, 2})


@register(Level.MUST)
def negative_input_rejected(ctx: CheckContext, response: Response) -> None:
    """Input that breaks the contract is refused with statusCode 1 or 2 (only when ``ctx.client_input_invalid``).

    The caller runs it where nothing but the input can be wrong: the path names objects that exist and
    that the caller may reach. Elsewhere statusCode 5 or 6 is a legitimate first answer (E14).
    """
    if not ctx.client_input_invalid:
        return
    code = response.status_code_field
    if code is None or code in REJECTION_CODES or code == 4:
        return  # no usable statusCode is status_code_present's finding, statusCode 4 no_5xx_for_client_input's
    accepted = "accepted it (statusCode 0)" if code == 0 else f"answered statusCode {code}"
    raise violation(
        "negative_input_rejected",
        ctx,
        response,
        title="Invalid input not rejected with statusCode 1 or 2",
        message=f"The request breaks the contract, and the server {accepted} with HTTP {response.status_code}; "
        "a missing attribute answers statusCode 1, a wrong type, an invalid value or malformed JSON answers "
        "statusCode 1 or 2 (E13).",
    )
