"""Checks on the calls a REST read returns: the capabilities array real clients iterate (E82).

The rule itself lives in conformance.habits, shared with the notification side (conformance.inbox), so
a Released call without capabilities fails GWS-CALL-032 whether it was read or received.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance import habits
from conformance.checks import CheckContext, register, violation
from conformance.failures import Level

if TYPE_CHECKING:
    from conformance.client import Response

__all__ = ["CALL_READS", "call_capabilities"]

# The operations whose successful reply carries call objects (spec/openapi.yaml paths).
CALL_READS = frozenset({"GET /me/calls", "GET /me/calls/{id}"})


@register(Level.MUST)
def call_capabilities(ctx: CheckContext, response: Response) -> None:
    """Every call of a successful GET /me/calls?fields=* or GET /me/calls/{id} carries a capabilities array (and of a
    reply to a field list, when the list names capabilities)."""
    if (ctx.operation or "").partition("#")[0] not in CALL_READS or response.status_code_field != 0:
        return
    if ctx.field_schemas is not None and "capabilities" not in ctx.field_schemas:
        return  # a field list without capabilities (fields=id,state) asks for partial calls (E32): none is due
    breach = habits.calls_without_capabilities(response.json_body, ctx.operation or "")
    if breach is not None:
        raise violation("call_capabilities", ctx, response, title=breach.title, message=breach.detail)
