"""What every REST handler shares: authentication, roles, request parsing, replies and errors.

A handler is a plain ``async def handler(ctx: Context) -> dict | Response``. ``endpoint()`` wraps
it so that, before the handler runs, the request has been authenticated (Basic, or the session
cookie every Basic sign-in opens, E88), the caller's roles checked against the operation's ``x-gws-roles`` in
spec/openapi.yaml, query parameters and the JSON body checked against the same document; after
it, a dict becomes ``{"statusCode": 0, ...}`` and an ``ApiError`` becomes
``{"statusCode": n, "statusMessage": ...}`` with the HTTP status of errata E12. Nothing in
Python restates a role or a request schema: both are read from the contract.

The fault modes of reference_impl/faults.py enter here through its named seams only (the request,
who an unauthenticated caller is, the role and owner checks, the handler call, the JSON reply).

Failure tree (everything a handler raises on purpose is an ApiError)::

    ApiError(status_code, message)          -> {"statusCode", "statusMessage"}, HTTP per E12
      status_code 1 MISSING_PARAMETER        missing operationName or required attribute (E13)
      status_code 2 INVALID_PARAMETER        malformed/unknown/wrong type/not valid now (E13)
      status_code 3 FORBIDDEN                not allowed for anyone (read-only object, CSRF, no login)
      status_code 5 NO_PERMISSION            not allowed for the caller's role or object (E14)
      status_code 6 NOT_FOUND                unknown path or id
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, TypeVar

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route

from conformance import contract
from reference_impl.events import EventBus
from reference_impl.faults import NO_FAULTS, Faults, faults_of
from reference_impl.jsonio import JsonInputError, SafeJSONResponse, parse
from reference_impl.limits import BodyIncomplete, BodyTooLarge, read_body
from reference_impl.store import Session, Store, User

__all__ = [
    "API_PREFIX",
    "CSRF_HEADER",
    "JSON_CHECKS",
    "MAX_BODY_BYTES",
    "ROLE_NAMES",
    "SESSION_COOKIE",
    "ApiError",
    "Context",
    "Handler",
    "Operation",
    "StatusCode",
    "allowed_topics",
    "authenticate",
    "caller_roles",
    "endpoint",
    "error_response",
    "found",
    "http_exception",
    "operations",
    "schema_at",
    "unexpected_exception",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")

API_PREFIX = "/api/v2"
# Bodies are JSON documents of a few attributes; anything bigger is refused before it is parsed.
MAX_BODY_BYTES = 1024 * 1024
SESSION_COOKIE = "GWS_SESSIONID"
CSRF_HEADER = "X-CSRF-TOKEN"
REALM = 'Basic realm="GWS"'

# The caller's GWS roles -> the role names of x-gws-roles. A supervisor may do everything an agent may.
ROLE_NAMES = {"ROLE_ADMIN": {"admin"}, "ROLE_SUPERVISOR": {"supervisor", "agent"}, "ROLE_AGENT": {"agent"}}


class StatusCode(IntEnum):
    OK = 0
    MISSING_PARAMETER = 1
    INVALID_PARAMETER = 2
    FORBIDDEN = 3
    INTERNAL_ERROR = 4
    NO_PERMISSION = 5
    NOT_FOUND = 6


# E12: the HTTP status that goes with each statusCode.
HTTP_STATUS = {0: 200, 1: 400, 2: 400, 3: 403, 4: 500, 5: 403, 6: 404}


class ApiError(Exception):
    def __init__(
        self,
        status_code: StatusCode,
        message: str,
        *,
        http_status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.http_status = http_status or HTTP_STATUS[status_code]
        self.headers = dict(headers or {})


def found(objects: Mapping[str, T], key: str, what: str) -> T:
    """``objects[key]``, or statusCode 6 naming what was not found."""
    value = objects.get(key)
    if value is None:
        raise ApiError(StatusCode.NOT_FOUND, f"no {what} {key}")
    return value


def error_response(error: ApiError) -> Response:
    return SafeJSONResponse(_error_body(error), status_code=error.http_status, headers=error.headers)


def _error_body(error: ApiError) -> dict[str, Any]:
    return {"statusCode": int(error.status_code), "statusMessage": error.message}


def _json_reply(
    request: Request, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    """A REST reply; the one path every JSON answer of ``endpoint`` takes (the faults' reply seam)."""
    status, body = faults_of(request).filter_reply(request, status, body)
    return SafeJSONResponse(body, status_code=status, headers=headers)


# -- the contract: one Operation per (method, path) of spec/openapi.yaml ------------------------------


@dataclass(frozen=True)
class Variant:
    """One operationName of a POST that carries several: its own roles and body schema."""

    name: str
    roles: frozenset[str]
    schema_ref: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    roles: frozenset[str]
    own_scope: bool  # x-gws-scope: own — a caller without the admin role reaches only its own objects
    feature: str | None
    body_ref: str | None  # the JSON request body schema, if the operation takes one
    body_required: bool = False  # requestBody.required: no body at all is a missing parameter
    query: Mapping[str, str] = field(default_factory=dict)  # query parameter -> its schema ref
    variants: Mapping[str, Variant] = field(default_factory=dict)  # operationName (and aliases) -> variant
    open_variant: Variant | None = None  # e.g. a custom agent state: any operationName its schema accepts

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _resolve(node: Any, ref: str) -> tuple[Any, str]:
    """Follow ``$ref`` chains from ``node`` (found at ``ref``) to the schema that holds the content."""
    while isinstance(node, dict) and set(node) - {"description", "summary"} == {"$ref"}:
        target = node["$ref"]
        file_part, _, pointer = target.partition("#")
        if file_part:
            base_dir = ref.partition("#")[0].rpartition("/")[0]
            file_part = f"{base_dir}/{file_part}" if base_dir else file_part
            file_part = _normalise(file_part)
        else:
            file_part = ref.partition("#")[0]
        node = contract.load_document(file_part)
        for part in [p for p in pointer.split("/") if p]:
            node = node[part.replace("~1", "/").replace("~0", "~")]
        ref = f"{file_part}#{pointer}"
    return node, ref


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == ".." and parts:
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def _variants(schema: Any, ref: str, default_roles: frozenset[str]) -> tuple[dict[str, Variant], Variant | None]:
    """The operationName variants of a body schema (oneOf/anyOf of objects naming their operationName)."""
    schema, ref = _resolve(schema, ref)
    named: dict[str, Variant] = {}
    open_variant = None
    for keyword in ("oneOf", "anyOf"):
        for i, option in enumerate(schema.get(keyword, []) if isinstance(schema, dict) else []):
            option, option_ref = _resolve(option, f"{ref}{_pointer(keyword, str(i))}")
            name_schema = option.get("properties", {}).get("operationName", {}) if isinstance(option, dict) else {}
            roles = frozenset(option.get("x-gws-roles", default_roles)) if isinstance(option, dict) else default_roles
            names = [name_schema["const"]] if "const" in name_schema else list(name_schema.get("enum", []))
            if not names:
                open_variant = Variant("*", roles, option_ref)
                continue
            for name in names:
                named[name] = Variant(name, roles, option_ref)
            for alias in option.get("x-gws-aliases", []):
                named.setdefault(alias, Variant(names[0], roles, option_ref))
    return named, open_variant


@functools.cache
def operations() -> dict[tuple[str, str], Operation]:
    """Every operation of spec/openapi.yaml, by (METHOD, path as written there)."""
    document = contract.load_document("openapi.yaml")
    result = {}
    for path, item in document.get("paths", {}).items():
        path_item, path_ref = _resolve(item, f"openapi.yaml#{_pointer('paths', path)}")
        shared_parameters = path_item.get("parameters", [])
        for method, spec in path_item.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue
            op_ref = f"{path_ref}{_pointer(method)}"
            roles = frozenset(spec.get("x-gws-roles", []))
            body_ref = None
            body_required = False
            variants: dict[str, Variant] = {}
            open_variant = None
            if "requestBody" in spec:
                body, body_ref_base = _resolve(spec["requestBody"], f"{op_ref}{_pointer('requestBody')}")
                content = body.get("content", {})
                body_required = bool(body.get("required", False))
                if "application/json" in content:
                    body_ref = f"{body_ref_base}{_pointer('content', 'application/json', 'schema')}"
                    variants, open_variant = _variants(content["application/json"].get("schema", {}), body_ref, roles)
            query = {}
            located = [(p, f"{path_ref}{_pointer('parameters', str(i))}") for i, p in enumerate(shared_parameters)]
            located += [
                (p, f"{op_ref}{_pointer('parameters', str(i))}") for i, p in enumerate(spec.get("parameters", []))
            ]
            for parameter, where in located:
                parameter, parameter_ref = _resolve(parameter, where)
                if parameter.get("in") == "query" and "schema" in parameter:
                    query[parameter["name"]] = f"{parameter_ref}{_pointer('schema')}"
            result[(method.upper(), path)] = Operation(
                method=method.upper(),
                path=path,
                roles=roles,
                own_scope=spec.get("x-gws-scope") == "own",
                feature=spec.get("x-gws-feature"),
                body_ref=body_ref,
                body_required=body_required,
                query=query,
                variants=variants,
                open_variant=open_variant,
            )
    return result


def schema_at(ref: str) -> Any:
    """The schema a contract reference (``file#pointer``) names, its own ``$ref``s followed."""
    file_part, _, pointer = ref.partition("#")
    return _resolve({"$ref": f"#{pointer}"}, f"{file_part}#")[0]


# -- authentication -------------------------------------------------------------------------------


def _basic_credentials(conn: HTTPConnection) -> tuple[str, str] | None:
    """The user name and password of a Basic Authorization header (REST and CometD alike); None when malformed."""
    header = conn.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        return None
    except ValueError:
        # E93: raw non-ASCII bytes in the header (read as ISO-8859-1 text) are not base64: wrong credentials.
        if faults_of(conn).waives("ascii-credentials"):
            raise
        return None
    # E89: RFC 7617 leaves the charset open. UTF-8 first; bytes that are not UTF-8 are ISO-8859-1, what .NET's and
    # browsers' Basic helpers send. Latin-1 reads any bytes, so what is neither is a wrong password: a 401.
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        if faults_of(conn).waives("latin-1-credentials"):
            return None
        decoded = raw.decode("iso-8859-1")
    user_name, colon, password = decoded.partition(":")
    return (user_name, password) if colon else None


def _store(conn: HTTPConnection) -> Store:
    store: Store = conn.app.state.store
    return store


async def authenticate(conn: HTTPConnection) -> str | None:
    """The user id behind a request or websocket upgrade (Basic credentials, else the session cookie)."""
    user, _ = _authenticated_user(conn)
    return user.id if user else None


def _authenticated_user(conn: HTTPConnection) -> tuple[User | None, bool]:
    """(user, authenticated by the session cookie?)."""
    store = _store(conn)
    if "authorization" in conn.headers:
        credentials = _basic_credentials(conn)
        user = store.user_by_name(credentials[0]) if credentials else None
        # Explicit credentials win over a cookie: wrong ones are refused even with a live session.
        if user and credentials and user.password == credentials[1]:
            return user, False
    else:
        session = store.sessions.get(conn.cookies.get(SESSION_COOKIE, ""))
        if session and session.user_id in store.users and _opens_sessions(conn):
            return store.users[session.user_id], True
    return faults_of(conn).unauthenticated(conn, store), False


def _opens_sessions(conn: HTTPConnection) -> bool:
    """E88: a Basic sign-in opens a cookie session (always with --csrf, which needs it for its tokens)."""
    return bool(conn.app.state.csrf) or not faults_of(conn).waives("session-cookie")


def allowed_topics(store: Store, user_id: str, faults: Faults = NO_FAULTS) -> set[str]:
    """The CometD topics a user may subscribe to (spec/topics.yaml: restricted roles, features)."""
    user = store.users.get(user_id)
    if user is None:
        return set()
    roles = caller_roles(user)
    allowed = set()
    for topic, spec in contract.topics().items():
        if topic.startswith("/meta") or "*" in topic:
            continue
        if spec.get("restricted") and not roles & set(spec.get("roles", [])) and not faults.waives("topic-role"):
            continue
        if spec.get("feature") and spec["feature"] not in store.assigned_features:
            continue
        allowed.add(topic)
    return allowed


def caller_roles(user: User) -> frozenset[str]:
    return frozenset(name for role in user.roles for name in ROLE_NAMES.get(role, ()))


# -- the request context handed to handlers ---------------------------------------------------------


@dataclass
class Context:
    request: Request
    store: Store
    bus: EventBus
    user: User
    roles: frozenset[str]
    operation: Operation
    body: dict[str, Any] = field(default_factory=dict)
    operation_name: str | None = None
    # True when x-gws-scope: own limits the caller to objects it owns.
    own_only: bool = False
    faults: Faults = NO_FAULTS

    @property
    def path_params(self) -> dict[str, str]:
        return dict(self.request.path_params)

    def uri(self, path: str) -> str:
        """Absolute URI of an API path, built from the request's own base URL (so behind any host name)."""
        return f"{str(self.request.base_url).rstrip('/')}{API_PREFIX}{path}"

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def require_owner(self, owner_id: str | None, what: str) -> None:
        """E14: an agent addressing another user's object gets statusCode 5; nothing happens."""
        if self.own_only and owner_id != self.user.id and not self.faults.waives("owner"):
            raise ApiError(StatusCode.NO_PERMISSION, f"{what} belongs to another user")

    def publish(self, user_id: str, topic: str, data: dict[str, Any]) -> None:
        self.bus.publish(user_id, topic, data)

    # Typed access to body attributes (the schema check ran first; these keep handlers total).
    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.body.get(name)
        if value is None:
            if required:
                raise ApiError(StatusCode.MISSING_PARAMETER, f"'{name}' is required")
            return None
        if not isinstance(value, str):
            raise ApiError(StatusCode.INVALID_PARAMETER, f"'{name}' must be a string")
        return value

    def required_text(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value

    def base64_text(self, name: str) -> str:
        """A required attribute sent base64-encoded (passwords), decoded."""
        encoded = self.required_text(name)
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise ApiError(StatusCode.INVALID_PARAMETER, f"'{name}' must be base64-encoded") from None
        # The contract's pattern admits any bytes (E99): read as Basic credentials are (E89, _basic_credentials),
        # so that a password set here signs in with the bytes a Latin-1 client sends.
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("iso-8859-1")

    # fields= and subresources= (Request Parameters).
    @functools.cached_property
    def fields(self) -> str | frozenset[str] | None:
        """None: no fields parameter (lists answer uris); "*": everything; else the requested names."""
        raw = self.query("fields")
        if not raw:
            return None
        if raw.strip() == "*":
            return "*"
        return frozenset(name.strip() for name in raw.split(",") if name.strip())

    def select(self, obj: dict[str, Any]) -> dict[str, Any]:
        """``obj`` restricted to the requested fields (the id always stays)."""
        if not isinstance(self.fields, frozenset):
            return obj
        return {k: v for k, v in obj.items() if k == "id" or k in self.fields}

    def subresources(self, known: Iterable[str]) -> set[str]:
        raw = self.query("subresources")
        known = list(known)
        if not raw:
            return set()
        if raw == "*":
            return set(known)
        # Exactly the contract's pattern (E99): a blank or padded name is as unknown as a misspelt one.
        names = raw.split(",")
        unknown = sorted({repr(name) if name != name.strip() or not name else name for name in names} - set(known))
        if unknown:
            raise ApiError(
                StatusCode.INVALID_PARAMETER,
                f"unknown subresource {', '.join(unknown)} (known: {', '.join(known)})",
            )
        return set(names)

    def listing(self, name: str, objects: Iterable[dict[str, Any]]) -> dict[str, Any]:
        """A collection: the objects' uris, or with fields= the objects under ``name`` (Return Values, GET 1, 2)."""
        if self.fields is None:
            return {"uris": [obj["uri"] for obj in objects]}
        return {name: [self.select(obj) for obj in objects]}


Handler = Callable[[Context], Awaitable["dict[str, Any] | Response"]]


def endpoint(method: str, path: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint running ``handler`` as ``METHOD path`` of spec/openapi.yaml."""
    try:
        operation = operations()[(method, path)]
    except KeyError:
        raise contract.ContractError(f"spec/openapi.yaml has no operation {method} {path}") from None

    async def run(request: Request) -> Response:
        faults = faults_of(request)
        request = faults.filter_request(request)
        try:
            ctx = await _open(request, operation)
            result = await faults.run_handler(ctx, handler)
            if isinstance(result, Response):
                response = result
            else:
                response = _json_reply(request, 200, {"statusCode": 0, **result})
        except ApiError as error:
            response = _json_reply(request, error.http_status, _error_body(error), error.headers)
        session: Session | None = getattr(request.state, "session", None)
        if session is not None:  # set once the caller is known, whatever the outcome
            _add_session(request, response, session)
        return response

    run.__name__ = handler.__name__
    return run


async def _open(request: Request, operation: Operation) -> Context:
    state = request.app.state
    store: Store = state.store
    user, by_cookie = _authenticated_user(request)
    if user is None:
        raise ApiError(
            StatusCode.FORBIDDEN,
            "Authentication required" if "authorization" not in request.headers else "Invalid credentials",
            http_status=401,
            headers={"WWW-Authenticate": REALM},
        )
    session = request.state.session = _session_for(request, store, user) if _opens_sessions(request) else None
    # Only the cookie rides along by itself on a forged request; Basic credentials need no token.
    unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
    token = request.headers.get(CSRF_HEADER)
    checked = state.csrf and not faults_of(request).waives("csrf-check")
    if by_cookie and checked and unsafe and session is not None and token != session.csrf_token:
        raise ApiError(StatusCode.FORBIDDEN, "CSRF token missing or invalid")
    roles = caller_roles(user)
    faults = faults_of(request)
    if not roles & operation.roles and not faults.waives("role"):
        raise ApiError(StatusCode.NO_PERMISSION, f"{operation} is not permitted to this user's roles")
    if operation.feature and operation.feature not in store.assigned_features:
        # E39: the feature's resources answer as absent (6); its operations (a POST carrying an
        # operationName) answer "invalid" (2, GWS-FEAT-008). Nothing is performed either way.
        missing = f"feature {operation.feature} is not enabled in this contact center"
        raise ApiError(StatusCode.INVALID_PARAMETER if operation.variants else StatusCode.NOT_FOUND, missing)
    _check_query(request, operation)
    ctx = Context(request, store, state.bus, user, roles, operation, faults=faults)
    # x-gws-scope: own binds every caller that does not reach the operation as an admin.
    ctx.own_only = operation.own_scope and "admin" not in roles & operation.roles
    if operation.body_ref is not None:
        ctx.body = await _json_body(request, required=operation.body_required)
        _check_body(ctx)
    return ctx


def _session_for(request: Request, store: Store, user: User) -> Session:
    """The caller's cookie session; a new one when it has none (or presents another user's)."""
    session = store.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
    return session if session and session.user_id == user.id else store.open_session(user.id)


def _add_session(request: Request, response: Response, session: Session) -> None:
    """The session cookie, unless the request carried it already; in --csrf mode also the token on safe reads."""
    if request.cookies.get(SESSION_COOKIE) != session.id:
        response.set_cookie(SESSION_COOKIE, session.id, path="/", httponly=True, samesite="strict")
    if request.app.state.csrf and request.method in ("GET", "HEAD"):
        response.headers["X-CSRF-HEADER"] = CSRF_HEADER
        response.headers[CSRF_HEADER] = session.csrf_token


def _check_query(request: Request, operation: Operation) -> None:
    for name, schema_ref in operation.query.items():
        values = request.query_params.getlist(name)
        if not values:
            continue
        if len(values) > 1:
            raise ApiError(StatusCode.INVALID_PARAMETER, f"query parameter '{name}' given more than once")
        value: Any = values[0]
        schema = schema_at(schema_ref)
        kind = schema.get("type") if isinstance(schema, dict) else None
        try:
            if kind == "integer":
                value = int(value)
            elif kind == "boolean":
                value = {"true": True, "false": False}[value]
        except (ValueError, KeyError):
            raise ApiError(StatusCode.INVALID_PARAMETER, f"query parameter '{name}' must be {_article(kind)}") from None
        errors = contract.validate(schema_ref, value)
        if errors:
            raise ApiError(StatusCode.INVALID_PARAMETER, f"query parameter '{name}': {errors[0].partition(': ')[2]}")


def _article(kind: str | None) -> str:
    return {"integer": "an integer", "boolean": "true or false"}.get(kind or "", "valid")


async def _json_body(request: Request, *, required: bool) -> dict[str, Any]:
    raw = await read_limited(request, MAX_BODY_BYTES)
    if not raw.strip():
        if required:
            raise ApiError(StatusCode.MISSING_PARAMETER, "a JSON request body is required")
        return {}
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ApiError(
            StatusCode.INVALID_PARAMETER, f"Content-Type must be application/json, not '{media_type or 'none'}'"
        )
    body = parse_json(request, raw)
    if not isinstance(body, dict):
        raise ApiError(StatusCode.INVALID_PARAMETER, f"request body must be a JSON object, not {type(body).__name__}")
    return body


# The checks of reference_impl/jsonio.py a fault mode may switch off.
JSON_CHECKS = ("json-depth", "lone-surrogate")


def parse_json(conn: HTTPConnection, raw: bytes | str) -> Any:
    """``raw`` as JSON (E94: not too deep; E95: no lone surrogate), else statusCode 2."""
    faults = faults_of(conn)
    try:
        return parse(raw, waived={check for check in JSON_CHECKS if faults.waives(check)})
    except JsonInputError as exc:
        raise ApiError(StatusCode.INVALID_PARAMETER, f"malformed JSON body: {exc}") from None


async def read_limited(request: Request, limit: int, what: str = "request body") -> bytes:
    """The body, refused (statusCode 2, E96) past ``limit`` bytes: declared or sent, before it is read whole.

    A client that goes away mid-body (a Content-Length larger than what it sent) is not the server's error: no reply
    can reach it, and nothing is logged.
    """
    try:
        return await read_body(request, limit)
    except BodyTooLarge:
        raise ApiError(StatusCode.INVALID_PARAMETER, f"{what} exceeds {limit} bytes") from None
    except BodyIncomplete:
        raise ApiError(StatusCode.INVALID_PARAMETER, f"the client went away before the whole {what} arrived") from None


def _check_body(ctx: Context) -> None:
    operation = ctx.operation
    schema_ref = operation.body_ref
    assert schema_ref is not None
    if operation.variants or operation.open_variant:
        name = ctx.body.get("operationName")
        if name is None:
            raise ApiError(StatusCode.MISSING_PARAMETER, "'operationName' is required")
        if not isinstance(name, str):
            raise ApiError(StatusCode.INVALID_PARAMETER, "'operationName' must be a string")
        variant = operation.variants.get(name)
        if variant is None and operation.open_variant is not None:
            # The open variant is a custom agent state: a name that is none of those configured names no
            # operation at all, whoever asks (2, not 5: there is nothing the caller lacks permission for).
            accepts = not contract.validate(f"{operation.open_variant.schema_ref}/properties/operationName", name)
            configured = name in ctx.store.agent_state_settings
            variant = operation.open_variant if accepts and configured else None
        if variant is None:
            known = ", ".join(sorted({v.name for v in operation.variants.values()}))
            raise ApiError(
                StatusCode.INVALID_PARAMETER, f"unknown operationName '{name}' for {operation} (known: {known})"
            )
        if not ctx.roles & variant.roles and not ctx.faults.waives("role"):
            raise ApiError(StatusCode.NO_PERMISSION, f"{name} on {operation} is not permitted to this user's roles")
        if variant.name != "*":
            ctx.body["operationName"] = variant.name  # an alias (E04) runs as the operation it names
        ctx.operation_name = ctx.body["operationName"]
        schema_ref = variant.schema_ref
    _nulls_as_absent(ctx, schema_ref)
    errors = sorted(contract.validator(schema_ref).iter_errors(ctx.body), key=lambda e: e.validator != "required")
    if errors:
        error = errors[0]
        where = error.json_path.removeprefix("$").lstrip(".") or "body"
        code = StatusCode.MISSING_PARAMETER if error.validator == "required" else StatusCode.INVALID_PARAMETER
        raise ApiError(code, f"{where}: {error.message}")


def _nulls_as_absent(ctx: Context, schema_ref: str) -> None:
    """E81: a member sent as null is read as absent. Client libraries serialize an optional member they were not
    given as null; dropped here, before the schema check and the handler, it is as if not sent, and a required
    member sent as null is missing (statusCode 1)."""
    body, dropped = _without_nulls(ctx.body, schema_ref)
    if dropped and ctx.faults.waives("null-as-absent"):
        raise ApiError(StatusCode.INVALID_PARAMETER, f"{dropped[0]}: None is not a valid value")
    ctx.body = body


def _without_nulls(value: dict[str, Any], schema_ref: str, where: str = "") -> tuple[dict[str, Any], list[str]]:
    """``value`` without the null members its schema declares (in declared nested objects too), and their paths.

    Only declared members: the members of a free-form object (userData, properties) are the client's data, and a
    null among them is a value, not an absence.
    """
    schema, ref = _resolve({"$ref": f"#{schema_ref.partition('#')[2]}"}, f"{schema_ref.partition('#')[0]}#")
    declared = schema.get("properties", {}) if isinstance(schema, dict) else {}
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for name, member in value.items():
        if name in declared and member is None:
            dropped.append(f"{where}{name}")
            continue
        if name in declared and isinstance(member, dict):
            member, inner = _without_nulls(member, f"{ref}{_pointer('properties', name)}", f"{where}{name}.")
            dropped += inner
        kept[name] = member
    return kept, dropped


# -- errors raised outside handlers ------------------------------------------------------------------


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 as GWS errors."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(ApiError(StatusCode.NOT_FOUND, f"no resource at {request.url.path}"))
    if exc.status_code == 405:
        # Starlette names only the first route that matched the path; every method of the path is allowed.
        allowed = sorted(
            {
                m
                for r in request.app.routes
                if isinstance(r, Route) and r.path_regex.match(request.url.path)
                for m in r.methods or ()
            }
        )
        return error_response(
            ApiError(
                StatusCode.INVALID_PARAMETER,
                f"{request.method} is not supported on {request.url.path}",
                http_status=405,
                headers={"Allow": ", ".join(allowed)},
            )
        )
    return error_response(ApiError(StatusCode.INVALID_PARAMETER, str(exc.detail), http_status=exc.status_code))


async def unexpected_exception(request: Request, exc: Exception) -> Response:
    """Last resort: a bug in the server, never bad input (bad input is an ApiError before it gets here)."""
    logger.exception("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(ApiError(StatusCode.INTERNAL_ERROR, "internal error in the reference server"))
