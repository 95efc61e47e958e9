"""Checks on every HTTP reply: statusCode, error shape, media type, HTTP status, schema, collection shape.

The rules come from the reference's "Return Values" section as resolved by the errata
(E01, E02, E12, E13, E80); shapes come from spec/ through ``conformance.contract`` — nothing here
restates a schema. ``is_json_media_type`` is the one test of a Content-Type label: the REST checks and
the Bayeux code judge labels with it.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from conformance import contract
from conformance.checks import CheckContext, register, violation
from conformance.errors import SuiteError
from conformance.failures import Level

if TYPE_CHECKING:
    from conformance.client import Response

__all__ = [
    "EXPECTED_HTTP_STATUS",
    "collection_shape",
    "error_body_members",
    "error_shape",
    "is_json_media_type",
    "json_content_type",
    "no_5xx_for_client_input",
    "response_matches_schema",
    "status_code_matches_http",
    "status_code_present",
    "strict_json",
]

# E12: the HTTP status each statusCode SHOULD come with (409 tolerated for a state conflict; 431 for a header section
# past the server's limit, E96, and 414 for a request target past it, E101: the passive judge sees those replies,
# which no active test runs this check on).
EXPECTED_HTTP_STATUS: dict[int, frozenset[int]] = {
    0: frozenset(range(200, 300)),
    1: frozenset({400}),
    2: frozenset({400, 409, 414, 431}),
    3: frozenset({403}),
    4: frozenset({500}),
    5: frozenset({403}),
    6: frozenset({404}),
}
ERROR_SCHEMA = "schemas/error.json"
MAX_REPORTED_SCHEMA_ERRORS = 20


def _content_type(response: Response) -> str:
    return str(response.headers.get("content-type", "absent"))


def is_json_media_type(content_type: str | None) -> bool:
    """Whether a Content-Type value names JSON: ``application/json`` or a structured ``+json`` type (RFC 6839),
    whatever its parameters (``charset=utf-8``) and case (E80)."""
    media_type = (content_type or "").partition(";")[0].strip().lower()
    kind, slash, subtype = media_type.partition("/")
    if not kind or not slash or not subtype:
        return False
    return (kind, subtype) == ("application", "json") or (subtype.endswith("+json") and len(subtype) > len("+json"))


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:200]


@register(Level.MUST)
def status_code_present(ctx: CheckContext, response: Response) -> None:
    """Every reply is a JSON object with an integer ``statusCode`` (a credential-less 401 may lack a body)."""
    if response.status_code == 401 and not ctx.credentials_valid and not response.is_json:
        return  # E12: the body of a 401 is optional
    if 200 <= response.status_code < 300 and not _success_is_json(ctx.operation):
        return  # an attachment download answers the file itself (GWS-GEN-001's one exception)
    if not response.is_json:
        raise violation(
            "status_code_present",
            ctx,
            response,
            title="Reply is not JSON",
            message=f"HTTP {response.status_code} with Content-Type {_content_type(response)!r} and a body that is "
            "not JSON; every method answers a JSON object carrying statusCode.",
        )
    body = response.json_body
    if not isinstance(body, dict):
        raise violation(
            "status_code_present",
            ctx,
            response,
            title="Reply is not a JSON object",
            message=f"The body is {_shown(body)}; every method answers a JSON object carrying statusCode.",
        )
    if "statusCode" not in body:
        raise violation(
            "status_code_present",
            ctx,
            response,
            title="Reply has no statusCode",
            message=f"The top level of the body has no statusCode (members: {', '.join(map(str, body)) or 'none'}); "
            "all methods ALWAYS return statusCode.",
        )
    if response.status_code_field is None:
        raise violation(
            "status_code_present",
            ctx,
            response,
            title="statusCode is not an integer",
            message=f"statusCode is {_shown(body['statusCode'])}; it must be an integer (0 success, 1..6 errors).",
        )


@register(Level.MUST)
def error_shape(ctx: CheckContext, response: Response) -> None:
    """An error reply (statusCode other than 0) carries statusCode 1..6 and a string statusMessage."""
    code = response.status_code_field
    if code is None or code == 0:
        return  # no statusCode is status_code_present's finding; 0 is a success
    problems = _validate(ERROR_SCHEMA, response.json_body)
    if problems:
        raise violation(
            "error_shape",
            ctx,
            response,
            title="Error reply is malformed",
            message=f"statusCode {code}: an error reply carries statusCode 1..6 and statusMessage (a string):\n"
            + "\n".join(f"  {p}" for p in problems),
        )


@register(Level.SHOULD)
def error_body_members(ctx: CheckContext, response: Response) -> None:
    """An error body says statusCode and statusMessage and nothing else (GWS-GEN-009): a SHOULD, so a
    server that adds members of its own (E02 tolerates them) is warned, never failed."""
    code = response.status_code_field
    body = response.json_body
    if code is None or code == 0 or not isinstance(body, dict):
        return
    extra = sorted(str(name) for name in body if name not in ("statusCode", "statusMessage"))
    if extra:
        raise violation(
            "error_body_members",
            ctx,
            response,
            title="Error reply carries other members",
            message=f"statusCode {code} comes with {', '.join(extra)} besides statusCode and statusMessage; an error "
            "body SHOULD carry those two only.",
        )


@register(Level.MUST)
def strict_json(ctx: CheckContext, response: Response) -> None:
    """A JSON body is RFC 8259 JSON (GWS-GEN-026). A lenient parser, Python's among them, also reads the
    literals NaN, Infinity and -Infinity, which no strict client accepts: they are looked for here."""
    if not response.is_json:
        return  # not JSON at all: status_code_present's finding
    try:
        json.loads(response.content, parse_constant=_not_json)
    except ValueError as exc:
        raise violation(
            "strict_json",
            ctx,
            response,
            title="Reply is not strict JSON",
            message=f"The body parses only leniently: {exc}. JSON (RFC 8259) has no NaN or Infinity literals.",
        ) from None


@register(Level.MUST)
def json_content_type(ctx: CheckContext, response: Response) -> None:
    """A JSON body is labelled with a JSON media type (GWS-GEN-028, E80). Whether the body is JSON is decided by
    parsing it; the label is judged here, on its own: a client that reads the header before the body (the C# GWS
    client; a browser client that checks it before ``response.json()``) refuses a JSON body called text/plain."""
    if not response.is_json:
        return  # no JSON body (a body-less 401, a servlet's HTML page): status_code_present judges what is missing
    if 200 <= response.status_code < 300 and not _success_is_json(ctx.operation):
        return  # an attachment download is the file itself, labelled with the file's own type
    label = response.headers.get("content-type")
    if is_json_media_type(label):
        return
    shown = repr(label) if label is not None else "absent"
    raise violation(
        "json_content_type",
        ctx,
        response,
        title="JSON reply not labelled as JSON",
        message=f"HTTP {response.status_code} answers a JSON body with Content-Type {shown}. A client that reads "
        "the header before the body (the C# GWS client throws on a non-JSON media type; browser clients check it "
        "before response.json()) rejects this reply: every JSON reply is labelled application/json (a charset "
        "parameter is fine) or a +json type (E80).",
    )


def _not_json(literal: str) -> Any:
    raise ValueError(f"{literal} is not a JSON value")


@register(Level.SHOULD)
def status_code_matches_http(ctx: CheckContext, response: Response) -> None:
    """The HTTP status agrees with statusCode (E12); missing or wrong credentials answer 401."""
    if not ctx.credentials_valid:
        if response.status_code != 401:
            raise violation(
                "status_code_matches_http.unauthenticated",
                ctx,
                response,
                title="No 401 for missing or wrong credentials",
                message=f"The request carried missing or wrong credentials and got HTTP {response.status_code}; "
                "it SHOULD get 401 (E12).",
            )
        return
    code = response.status_code_field
    expected = EXPECTED_HTTP_STATUS.get(code) if code is not None else None
    if expected is None:
        return  # absent or out-of-range statusCode: status_code_present / error_shape report it
    if response.status_code not in expected:
        wanted = "2xx" if code == 0 else " or ".join(str(s) for s in sorted(expected))
        raise violation(
            "status_code_matches_http",
            ctx,
            response,
            title="HTTP status does not match statusCode",
            message=f"statusCode {code} came with HTTP {response.status_code}; "
            f"it SHOULD come with HTTP {wanted} (E12).",
        )


@register(Level.MUST)
def no_5xx_for_client_input(ctx: CheckContext, response: Response) -> None:
    """Invalid client input is the client's fault: never a 5xx, never statusCode 4 (E12, E13)."""
    if not ctx.client_input_invalid:
        return
    if response.status_code >= 500:
        raise violation(
            "no_5xx_for_client_input",
            ctx,
            response,
            title="Server error for invalid client input",
            message=f"The request carried invalid input and got HTTP {response.status_code}; invalid input answers "
            "statusCode 1 or 2 with a 4xx (E13), never a 5xx.",
        )
    if response.status_code_field == 4:
        raise violation(
            "no_5xx_for_client_input",
            ctx,
            response,
            title="Internal error (statusCode 4) for invalid client input",
            message="The request carried invalid input and got statusCode 4 (internal error); invalid input answers "
            "statusCode 1 or 2 (E13).",
        )


@register(Level.MUST)
def response_matches_schema(ctx: CheckContext, response: Response) -> None:
    """The reply matches the schema the caller names in ``ctx.schema_ref`` (none named: nothing to check)."""
    if ctx.schema_ref is None:
        return
    if not response.is_json:
        raise violation(
            "response_matches_schema",
            ctx,
            response,
            title="Reply is not JSON",
            message=f"The reply must match {ctx.schema_ref}, but its body (Content-Type "
            f"{_content_type(response)!r}) is not JSON.",
            include_caller_ids=True,
        )
    if ctx.field_schemas is not None:
        problems = _partial_problems(ctx, response.json_body)
    else:
        problems = _validate(ctx.schema_ref, response.json_body)
    if problems:
        shown = problems[:MAX_REPORTED_SCHEMA_ERRORS]
        more = len(problems) - len(shown)
        raise violation(
            "response_matches_schema",
            ctx,
            response,
            title="Reply does not match its schema",
            message=f"The reply breaks {ctx.schema_ref}:\n"
            + "\n".join(f"  {p}" for p in shown)
            + (f"\n  … and {more} more" if more else ""),
            include_caller_ids=True,
        )


@register(Level.MUST)
def collection_shape(ctx: CheckContext, response: Response) -> None:
    """A successful list GET answers ``uris`` (absolute URIs) or an array of objects named after the resource."""
    body = response.json_body
    if not isinstance(body, dict) or response.status_code_field != 0:
        return  # an error reply carries no collection
    name = ctx.collection or _collection_name(ctx.operation, response.exchange.request.url)
    if "uris" not in body and name not in body:
        raise violation(
            "collection_shape",
            ctx,
            response,
            title="List reply has no collection",
            message=f'A list reply carries either "uris" (URIs) or {name!r} (objects); this one has neither '
            f"(members: {', '.join(map(str, body))}).",
        )
    if "uris" in body:
        uris = body["uris"]
        bad = [u for u in uris if not _is_absolute_uri(u)] if isinstance(uris, list) else None
        if bad is None or bad:
            detail = (
                f"it is {_shown(uris)}" if bad is None else "not absolute: " + ", ".join(_shown(u) for u in bad[:5])
            )
            raise violation(
                "collection_shape.uris",
                ctx,
                response,
                title='"uris" is not a list of absolute URIs',
                message=f'"uris" must be an array of absolute http(s) URIs; {detail}.',
            )
    if name in body:
        items = body[name]
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise violation(
                "collection_shape.objects",
                ctx,
                response,
                title=f"{name!r} is not a list of objects",
                message=f"With fields, a list reply names an array of objects after the resource ({name!r}); "
                f"it is {_shown(items)}.",
            )


def _is_absolute_uri(value: object) -> bool:
    if not isinstance(value, str) or value != value.strip() or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a malformed port, like the "http: //demosrv: 8080" capture artefact
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


@functools.cache
def _success_is_json(operation: str | None) -> bool:
    # spec/openapi.yaml says which operations answer something other than JSON on success.
    if not operation or " " not in operation:
        return True
    method, _, target = operation.partition(" ")
    path = target.partition("#")[0]
    described = contract.load_document("openapi.yaml").get("paths", {}).get(path, {}).get(method.lower())
    if not isinstance(described, dict):
        return True
    for status, reply in described.get("responses", {}).items():
        content = reply.get("content") if isinstance(reply, dict) else None
        if str(status).startswith("2") and content and "application/json" not in content:
            return False
    return True


def _partial_problems(ctx: CheckContext, body: Any) -> list[str]:
    """A reply to a field list (E32): a success carries its collection, and each object's members that were asked
    for keep their schemas; an error reply is an error reply, judged whole."""
    if not isinstance(body, dict) or body.get("statusCode") != 0:
        return _validate(ctx.schema_ref or ERROR_SCHEMA, body)
    name = ctx.collection
    items = body.get(name) if name else None
    if "uris" in body:
        return _validate(ctx.schema_ref or ERROR_SCHEMA, body)  # no objects: the whole reply's schema applies
    if not isinstance(items, list):
        # One object (GET /me?fields=id, as the reference honours): partial too. The whole reply is judged, but for
        # the members its objects lack, which were not asked for.
        return _validate(ctx.schema_ref or ERROR_SCHEMA, body, partial_objects=True)
    problems = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(f"$.{name}[{index}]: {_shown(item)} is not an object")
            continue
        for field, schema in (ctx.field_schemas or {}).items():
            if schema is not None and field in item:
                problems += [f"$.{name}[{index}].{field}{line[1:]}" for line in _validate(schema, item[field])]
    return problems


def _collection_name(operation: str | None, url: str) -> str:
    # "GET /users/{id}/skills" -> "skills"; without an operation, the last segment of the URL path.
    path = operation.split(" ", 1)[1].partition("#")[0] if operation and " " in operation else urlsplit(url).path
    segments = [s for s in path.split("/") if s and not s.startswith("{")]
    if not segments:
        raise SuiteError(f"collection_shape: cannot tell the collection name of {operation or url!r}")
    return segments[-1]


def _validate(schema_ref: str, instance: Any, *, partial_objects: bool = False) -> list[str]:
    """Every way ``instance`` breaks the schema (contract.validate); with ``partial_objects``, a member missing from
    an object inside the reply is none (the reply's own members, statusCode and its object, still are)."""
    try:
        if not partial_objects:
            return contract.validate(schema_ref, instance)
        errors = sorted(contract.validator(schema_ref).iter_errors(instance), key=lambda e: list(e.absolute_path))
        return [f"{e.json_path}: {e.message}" for e in errors if not (e.validator == "required" and e.absolute_path)]
    except Exception as exc:  # a missing or broken schema (unresolvable $ref, invalid keyword) is the suite's fault
        raise SuiteError(f"cannot check against {schema_ref}: {type(exc).__name__}: {exc}") from exc
