"""The machinery under every helper: one decorated method per operation of spec/openapi.yaml.

``@operation("POST /me#Ready")`` registers the method as *the* helper of that operation (a test
holds the registry to the contract: every operationId and operationName has exactly one) and
tells ``_send`` which operation it performs, so a helper's body is only its request:

    @operation("POST /me#NotReady")
    def not_ready(self, *, work_mode=None, reason=None, expect=OK) -> Reply:
        return self._send(json=body("NotReady", workMode=work_mode, reason=reason), expect=expect)

``_send`` runs the registered HTTP checks on every reply (statusCode present, its media type, error shape, the
HTTP status of E12 as SHOULD, the reply's schema from openapi.yaml, the collection shape of list
GETs) and then the caller's expectation of the statusCode. MUST findings raise at once; SHOULD
findings go to the test's Findings (conformance.findings) and end as a warning.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, ParamSpec, TypeVar
from urllib.parse import quote

from conformance import contract, findings
from conformance.checks import CheckContext, run_checks
from conformance.client import Exchange, GwsClient, Response
from conformance.errors import SuiteError
from conformance.failures import Level, Violation

__all__ = [
    "ANY",
    "HELPERS",
    "OK",
    "Expect",
    "Raw",
    "Reply",
    "Resource",
    "UnauthenticatedClient",
    "body",
    "check",
    "check_response",
    "checks_of",
    "operation",
    "reply_schema",
]

OK: Final = 0
ANY: Final = None  # no expectation: the caller judges the statusCode itself
Expect = int | Collection[int] | None

# "METHOD /path[#operationName]" -> "Class.method" of its one helper.
HELPERS: dict[str, str] = {}

_CURRENT_OPERATION: contextvars.ContextVar[str | None] = contextvars.ContextVar("gws_operation", default=None)
_BASE_CHECKS = (
    "status_code_present",
    "strict_json",
    "json_content_type",
    "error_shape",
    "error_body_members",
    "status_code_matches_http",
)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Reply:
    """A parsed reply: the body as a dict (empty when it is not a JSON object) and the exchange."""

    operation: str
    response: Response

    @property
    def body(self) -> dict[str, Any]:
        body = self.response.json_body
        return body if isinstance(body, dict) else {}

    @property
    def status_code(self) -> int | None:
        """The body's statusCode (None when absent or not an integer)."""
        return self.response.status_code_field

    @property
    def ok(self) -> bool:
        return self.status_code == 0

    @property
    def exchange(self) -> Exchange:
        return self.response.exchange

    def __getitem__(self, key: str) -> Any:
        return self.body[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)

    def items(self, collection: str) -> list[dict[str, Any]]:
        """The objects of a list reply read with fields=* (``collection``: "users", "devices", ...)."""
        value = self.body.get(collection)
        return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []

    def uris(self) -> list[str]:
        value = self.body.get("uris")
        return [u for u in value if isinstance(u, str)] if isinstance(value, list) else []


def operation(ref: str, *, collection: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Register the decorated method as the helper of ``ref``; ``collection``: a list GET's array name."""
    method, _, path = ref.partition("#")[0].partition(" ")
    if not _describes(method, path):
        raise SuiteError(f"helper for {ref!r}: spec/openapi.yaml has no {method} {path}")

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        if ref in HELPERS:
            raise SuiteError(f"two helpers for {ref}: {HELPERS[ref]} and {function.__qualname__}")
        HELPERS[ref] = function.__qualname__
        _COLLECTIONS[ref] = collection

        @functools.wraps(function)
        def helper(*args: P.args, **kwargs: P.kwargs) -> R:
            token = _CURRENT_OPERATION.set(ref)
            try:
                return function(*args, **kwargs)
            finally:
                _CURRENT_OPERATION.reset(token)

        helper.gws_operation = ref  # type: ignore[attr-defined]
        return helper

    return decorate


_COLLECTIONS: dict[str, str | None] = {}


def body(operation_name: str | None = None, **attributes: Any) -> dict[str, Any]:
    """A request body: the operationName first, then every attribute that is not None."""
    result: dict[str, Any] = {"operationName": operation_name} if operation_name is not None else {}
    result.update({name: value for name, value in attributes.items() if value is not None})
    return result


class UnauthenticatedClient(GwsClient):
    """A client whose credentials are missing or wrong on purpose: the checks expect a 401 (E12, GWS-AUTH-002)."""

    credentials_valid = False


class Resource:
    """Base of the helper classes: a client and the path parameters of one object."""

    def __init__(self, client: GwsClient) -> None:
        self.client = client

    def _path_params(self) -> dict[str, str]:
        return {}

    @property
    def credentials_valid(self) -> bool:
        # An anonymous or wrong-password client (UnauthenticatedClient) says so.
        return bool(getattr(self.client, "credentials_valid", True))

    def _send(
        self,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Mapping[str, Any] | None = None,
        expect: Expect = OK,
    ) -> Reply:
        ref = _CURRENT_OPERATION.get()
        if ref is None:
            raise SuiteError("Resource._send called outside an @operation helper")
        method, _, template = ref.partition("#")[0].partition(" ")
        values = {**self._path_params(), **(path or {})}
        try:
            url = template.format_map({k: quote(str(v), safe="") for k, v in values.items()})
        except KeyError as missing:
            raise SuiteError(f"{ref}: no value for path parameter {missing}") from None
        wanted = {k: v for k, v in (params or {}).items() if v is not None}
        json_expected = _success_is_json(method, template)
        response = self.client.request(
            method, url, params=wanted or None, json=json, files=files, expect_json=json_expected
        )
        reply = Reply(ref, response)
        check(reply, credentials_valid=self.credentials_valid)
        expect_status(reply, expect)
        return reply


class Raw(Resource):
    """Sends a body of the test's own making to any operation, through the same checks as the helpers: for tests
    whose subject is the request itself (the permission matrix's cells, optional members sent as null), which a
    helper, building its body from typed arguments, cannot send."""

    def send(
        self,
        ref: str,
        path: Mapping[str, str] | None = None,
        body: Any = None,
        *,
        files: Mapping[str, Any] | None = None,
        expect: Expect = ANY,
    ) -> Reply:
        """``ref``: "METHOD /template[#operationName]" of spec/openapi.yaml; ``path``: its path parameters."""
        method, _, template = ref.partition("#")[0].partition(" ")
        if not _describes(method, template):
            raise SuiteError(f"Raw.send: spec/openapi.yaml has no {method} {template}")
        try:
            url = template.format_map({k: quote(str(v), safe="") for k, v in (path or {}).items()})
        except KeyError as missing:
            raise SuiteError(f"{ref}: no value for path parameter {missing}") from None
        response = self.client.request(
            method, url, json=body, files=files, expect_json=_success_is_json(method, template)
        )
        reply = Reply(ref, response)
        check(reply, credentials_valid=self.credentials_valid)
        expect_status(reply, expect)
        return reply


def check(reply: Reply, *, credentials_valid: bool = True) -> None:
    """Run the registered HTTP checks on ``reply``: MUST findings raise, SHOULD findings are kept."""
    ref = reply.operation
    names, collection = checks_of(ref)
    ctx = CheckContext(
        operation=ref,
        schema_ref=reply_schema(ref) if reply.ok and reply.response.is_json else None,
        collection=collection,
        credentials_valid=credentials_valid,
        requirement_ids=findings.requirement_ids(),
    )
    _judge(ctx, reply.response, names)


def checks_of(ref: str) -> tuple[list[str], str | None]:
    """The registered checks a reply of operation ``ref`` passes, and the array a list GET names (or None)."""
    names = list(_BASE_CHECKS)
    collection = _COLLECTIONS.get(ref)
    if collection is not None:
        names.append("collection_shape")  # before the schema: it names the list rule that broke
    # Before the schema too: a call whose capabilities is not an array fails the rule clients rely on.
    names += ["call_capabilities", "response_matches_schema"]
    return names, collection


def check_response(response: Response, *, credentials_valid: bool = True) -> None:
    """The checks every reply passes, for a reply whose operation the caller cannot name (a URI the target
    returned, followed as it is): MUST findings raise, SHOULD findings are kept."""
    ctx = CheckContext(credentials_valid=credentials_valid, requirement_ids=findings.requirement_ids())
    _judge(ctx, response, _BASE_CHECKS)


def _judge(ctx: CheckContext, response: Response, names: Collection[str]) -> None:
    for violation in run_checks(ctx, response, list(names)):
        if violation.is_warning:
            findings.warn(violation)
        else:
            raise violation


def expect_status(reply: Reply, expect: Expect) -> None:
    """Fail the step unless the reply's statusCode is the expected one (or one of them)."""
    if expect is None:
        return
    wanted = {expect} if isinstance(expect, int) else set(expect)
    if reply.status_code in wanted:
        return
    shown = " or ".join(str(code) for code in sorted(wanted))
    got = reply.status_code if reply.status_code is not None else "no statusCode"
    message = reply.body.get("statusMessage")
    raise Violation(
        title=f"{reply.operation} answered statusCode {got}, expected {shown}",
        message=f"The step expects statusCode {shown}; the server answered {got} (HTTP "
        f"{reply.response.status_code})" + (f": {message}" if isinstance(message, str) else "."),
        requirement_ids=findings.requirement_ids(),
        level=Level.MUST,
        evidence=[reply.exchange],
        check="scenario",
    )


# -- what spec/openapi.yaml says about an operation -------------------------------------------------


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _operation_node(method: str, path: str) -> Any:
    return contract.load_document("openapi.yaml").get("paths", {}).get(path, {}).get(method.lower())


def _describes(method: str, path: str) -> bool:
    return isinstance(_operation_node(method, path), dict)


@functools.cache
def reply_schema(ref: str) -> str | None:
    """The schema (spec/-relative ref) a successful reply of ``ref`` must match; None if not JSON."""
    method, _, path = ref.partition("#")[0].partition(" ")
    node = _operation_node(method, path)
    for status, reply in sorted(node.get("responses", {}).items()):
        if not str(status).startswith("2"):
            continue
        if "$ref" in reply:  # a shared response: its content is under components
            return None
        if "application/json" in reply.get("content", {}):
            pointer = "/".join(
                [
                    "",
                    "paths",
                    _escape(path),
                    method.lower(),
                    "responses",
                    str(status),
                    "content",
                    _escape("application/json"),
                    "schema",
                ]
            )
            return f"openapi.yaml#{pointer}"
        return None
    return None


@functools.cache
def _success_is_json(method: str, path: str) -> bool:
    node = _operation_node(method, path)
    for status, reply in node.get("responses", {}).items():
        content = reply.get("content") if isinstance(reply, dict) else None
        if str(status).startswith("2") and content and "application/json" not in content:
            return False
    return True


def contract_operations() -> set[str]:
    """Every "METHOD /path" and "METHOD /path#operationName" of spec/openapi.yaml that a helper must cover.

    A POST whose body names operations by operationName is covered per operationName (the custom
    agent state, an open-ended name, as "METHOD /path#*"); every other operation as "METHOD /path".
    """
    document = contract.load_document("openapi.yaml")
    schemas = document.get("components", {}).get("schemas", {})
    wanted: set[str] = set()
    for path, item in document.get("paths", {}).items():
        for method, spec in item.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue
            label = f"{method.upper()} {path}"
            schema = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            mapping = schema.get("discriminator", {}).get("mapping", {}) if isinstance(schema, dict) else {}
            if not mapping:
                wanted.add(label)
                continue
            wanted.update(f"{label}#{name}" for name in mapping)
            mapped = set(mapping.values())
            for option in schema.get("oneOf", []):
                if option.get("$ref") not in mapped:  # an open variant, e.g. CustomAgentState
                    target = schemas.get(option.get("$ref", "").rpartition("/")[2], {})
                    if "const" not in target.get("properties", {}).get("operationName", {"const": None}):
                        wanted.add(f"{label}#*")
    return wanted
