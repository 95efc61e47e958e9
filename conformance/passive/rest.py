"""One REST exchange judged as the active suite judges its own: the checks registry and the contract.

Which operation an exchange was comes from its method, path and operationName (conformance.reporting.coverage);
whether the request kept the contract, from the fuzzer's own reading, discriminator-aware
(conformance.suite.fuzz.catalogue). A request that breaks the contract is the client's business, not the
server's: it is counted, and it makes the rules about refusing bad input apply (E13: statusCode 1 or 2, never a
5xx). Rules that need what traffic cannot show are left out: ``negative_input_rejected`` is judged only where
the server's answer could not have been about something else than the input (statusCode 3, 5 and 6 may come
first, E14).

A reply to a field list (``fields=a,b``) holds partial objects, so their schema's ``required`` members do not bind
it (E32): ``response_matches_schema`` judges each object on the members asked for (CheckContext.field_schemas).
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.checks import CHECKS, CheckContext, run_checks
from conformance.checks.capabilities import CALL_READS
from conformance.passive.har import Entry
from conformance.passive.verdict import Verdict
from conformance.reporting.coverage import operation_key
from conformance.suite.fuzz.catalogue import Operation, field_list, operations, request_breaches

__all__ = ["RestJudgement", "judge_rest"]

# Answers that may precede any judgement of the input: not authorised, no such object, not allowed (E14).
_BEFORE_INPUT = frozenset({3, 5, 6})


@dataclass(frozen=True)
class RestJudgement:
    operation: str | None  # "POST /me#Ready"; None: no operation of the contract
    request_problems: tuple[str, ...]  # how the request broke the contract (the client's doing)
    verdicts: tuple[Verdict, ...]


def judge_rest(entry: Entry, base_path: str) -> RestJudgement:
    """Every registry check that applies to ``entry`` (whose response the HAR holds)."""
    response = entry.response
    assert response is not None  # the judge leaves out entries without a recorded response
    request = entry.exchange.request
    body_text = entry.request_body.decode("utf-8", errors="replace") if entry.request_body else None
    key = operation_key(request.method, request.url, body_text, base_path)
    operation = operations().get(key.partition("#")[0]) if key else None
    problems: list[str] = []
    if operation is not None:
        problems = request_breaches(operation, request.url, request.header("content-type"), entry.request_body)
    invalid = bool(problems)
    fields = field_list(request.url)
    ctx = CheckContext(
        operation=key,
        schema_ref=operation.reply_schema(response.status_code) if operation is not None and response.is_json else None,
        field_schemas=operation.field_schemas(fields) if operation is not None and fields else None,
        collection=operation.collection if operation is not None else None,
        client_input_invalid=invalid,
        # A 401 is the server saying the credentials are missing or wrong; traffic cannot know better (E12).
        credentials_valid=bool(request.header("authorization") or request.header("cookie"))
        and response.status_code != 401,
    )
    names = [name for name in CHECKS if _applies(name, operation, invalid, response.status_code_field, ctx)]
    found = {violation.check: violation for violation in run_checks(ctx, response, names)}
    verdicts = tuple(Verdict(name, CHECKS[name].requirement_ids, found.get(name)) for name in names)
    return RestJudgement(key, tuple(problems), verdicts)


def _applies(name: str, operation: Operation | None, invalid: bool, code: int | None, ctx: CheckContext) -> bool:
    if name == "collection_shape":
        return operation is not None and operation.collection is not None and operation.method == "GET"
    if name == "response_matches_schema":
        return ctx.schema_ref is not None
    if name == "call_capabilities":
        return (ctx.operation or "").partition("#")[0] in CALL_READS
    if name == "no_5xx_for_client_input":
        return invalid
    if name == "negative_input_rejected":
        return invalid and code not in _BEFORE_INPUT
    return True
