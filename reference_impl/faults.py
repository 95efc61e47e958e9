"""Fault modes: the reference server made wrong on purpose, one named rule at a time (issue 7).

A conformance suite is worth what it catches. ``gws-reference serve --fault NAME`` (or
``create_app(faults=("NAME",))``) turns on one deliberate violation of one requirement of
spec/requirements.yaml; ``gws-conformance selftest`` runs the suite against each and expects a test
whose requirement names that rule to fail. A fault changes only what its description says and never
makes the server crash in a way it did not plan.

Every fault is a small hook at one of a few named seams. Each seam is a method of ``Faults`` and is a
no-op while no fault is active::

    Faults.filter_request(request)               http.endpoint, before anything reads the request
    Faults.unauthenticated(conn, store)          http: who a request without valid credentials is (None: nobody)
    Faults.waives(rule)                          http: the "role" and "owner" checks, allowed_topics' "topic-role";
                                                 request reading: "null-as-absent" (E81), "session-cookie" (E88),
                                                 "latin-1-credentials" (E89), "ascii-credentials" (E93); GET /users:
                                                 "list-owner" (E97); JSON input (reference_impl/jsonio.py): "json-depth"
                                                 (E94), "lone-surrogate" (E95); bayeux_filters: "client-owner" (E98),
                                                 "bayeux-body-limit", "session-limit" (E96), "websocket-close-code" (E101);
                                                 app.create_app: "header-limit" (E96), "query-limit" (E101),
                                                 "csrf-check" (E103: tokens issued, never checked); GET /interactions:
                                                 "interaction-list-owner" (E97, GWS-AUTH-009); a password
                                                 change (handlers/users.py, bayeux_filters): "session-revocation" (E102)
    Faults.run_handler(ctx, handler)             http.endpoint: the handler call (operations on the models)
    Faults.filter_reply(request, status, body)   http.endpoint: every JSON reply, success or error
    Faults.publish(bus, deliver, user, topic, d) events.EventBus.publish: every notification
    Faults.bayeux_request(message)               bayeux.BayeuxServer.process: every incoming Bayeux message
    Faults.bayeux_reply(message, reply)          bayeux.BayeuxServer.process: every meta reply
    Faults.bayeux_batch(messages, answer)        bayeux.BayeuxServer._http: the answering of each long-polling POST
    Faults.bayeux_filters()                      app.create_app: also whether BayeuxServer serves sub-paths
    Faults.middleware()                          app.create_app: the headers of every reply under /api/v2
                                                 (REST and the notifications endpoint alike)

A "wire" fault (capabilities, e-mail addresses, chat history) rewrites objects wherever a client can see
them: in REST replies and in notifications alike, so no reader gets the truth by another path.

A fault may take one number, written ``NAME=VALUE`` (``notification-late=20``: seconds of delay).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import functools
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import parse_qsl, urlencode

from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from reference_impl import jsonio

if TYPE_CHECKING:  # http imports this module; these are for the type checker only
    from reference_impl.events import EventBus
    from reference_impl.http import Context
    from reference_impl.store import Store, User

__all__ = [
    "CATEGORIES",
    "NO_FAULTS",
    "REGISTRY",
    "Fault",
    "Faults",
    "Hooks",
    "UnknownFault",
    "describe",
    "faults_of",
]

CATEGORIES = ("response-shape", "errors", "state-machines", "notifications", "security", "protocol")
SHAPE, ERRORS, MACHINES, NOTIFICATIONS, SECURITY, PROTOCOL = CATEGORIES

# The suite waits GWS_NOTIFICATION_TIMEOUT_S (10 s by default) for a notification; later than that is late.
DEFAULT_LATE_S = 15.0

Body: TypeAlias = dict[str, Any]
Message: TypeAlias = dict[str, Any]
HandlerCall: TypeAlias = Callable[["Context"], Awaitable[Any]]
Deliver: TypeAlias = Callable[[str, str, Body], None]
RequestHook: TypeAlias = Callable[[Request], Request]
UnauthenticatedHook: TypeAlias = Callable[[HTTPConnection, "Store"], "User | None"]
HandlerHook: TypeAlias = Callable[["Context", HandlerCall], Awaitable[Any]]
ReplyHook: TypeAlias = Callable[[Request, int, Body], tuple[int, Body]]
PublishHook: TypeAlias = Callable[["EventBus", Deliver, str, str, Body], None]
BayeuxRequestHook: TypeAlias = Callable[[Message], Message]
BayeuxReplyHook: TypeAlias = Callable[[Message, Message], Message]
BayeuxBatchHook: TypeAlias = Callable[[list[Any], Callable[[], Awaitable[list[Message]]]], Awaitable[list[Message]]]
WireHook: TypeAlias = Callable[[Body], None]  # rewrites one JSON object in place (it is a copy)
RawHeaders: TypeAlias = list[tuple[bytes, bytes]]
HeadersHook: TypeAlias = Callable[[str, RawHeaders], RawHeaders]  # (request path, a reply's headers as ASGI sends them)


class UnknownFault(ValueError):
    """A fault name that is not in the registry, or a value it cannot take."""


@dataclass(frozen=True)
class Hooks:
    """What one fault does, by seam (module docstring); every field is optional."""

    request: RequestHook | None = None
    unauthenticated: UnauthenticatedHook | None = None
    waives: frozenset[str] = frozenset()
    handler: HandlerHook | None = None
    reply: ReplyHook | None = None
    publish: PublishHook | None = None
    bayeux_request: BayeuxRequestHook | None = None
    bayeux_reply: BayeuxReplyHook | None = None
    bayeux_batch: BayeuxBatchHook | None = None
    bayeux_subpaths: bool = True  # False: nothing is served below the notifications endpoint
    wire: WireHook | None = None  # both the REST replies and the notifications
    headers: HeadersHook | None = None  # every reply under /api/v2, REST and CometD (Faults.middleware)


@dataclass(frozen=True)
class Fault:
    name: str
    category: str
    description: str  # one sentence: the violation
    caught_by: str  # one sentence: the suite check that should catch it
    requirements: tuple[str, ...]  # the requirement ids it breaks (spec/requirements.yaml)
    make: Callable[[float | None], Hooks] = field(repr=False)
    default: float | None = None  # the value of NAME=VALUE when only NAME is given; None: takes no value


REGISTRY: dict[str, Fault] = {}


def _fault(
    name: str, category: str, requirements: Sequence[str], text: str, *, default: float | None = None
) -> Callable[[Callable[[float | None], Hooks]], Callable[[float | None], Hooks]]:
    """Register a fault; ``text`` is its description followed by "Caught by ...", the check that should catch it."""
    description, marker, caught_by = text.partition(" Caught by ")
    assert category in CATEGORIES and name not in REGISTRY and marker, name

    def register(make: Callable[[float | None], Hooks]) -> Callable[[float | None], Hooks]:
        caught = "Caught by " + caught_by
        REGISTRY[name] = Fault(name, category, description, caught, tuple(requirements), make, default)
        return make

    return register


# -- the active faults: the seams ---------------------------------------------------------------------


class Faults:
    """The faults one app runs with; every seam is a no-op when there are none."""

    def __init__(self, active: Sequence[tuple[Fault, Hooks]] = ()) -> None:
        self.active = tuple(active)
        hooks = [h for _, h in self.active]
        self._requests = [h.request for h in hooks if h.request]
        self._unauthenticated = [h.unauthenticated for h in hooks if h.unauthenticated]
        self._waived = frozenset[str]().union(*(h.waives for h in hooks))
        self._handlers = [h.handler for h in hooks if h.handler]
        self._replies = [h.reply for h in hooks if h.reply]
        self._publishers = [h.publish for h in hooks if h.publish]
        self._wires = [h.wire for h in hooks if h.wire]
        self._bayeux_requests = [h.bayeux_request for h in hooks if h.bayeux_request]
        self._bayeux_replies = [h.bayeux_reply for h in hooks if h.bayeux_reply]
        self._bayeux_batches = [h.bayeux_batch for h in hooks if h.bayeux_batch]
        self._bayeux_subpaths = all(h.bayeux_subpaths for h in hooks)
        self._headers = [h.headers for h in hooks if h.headers]

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Faults:
        """``NAME`` or ``NAME=VALUE`` for each fault; UnknownFault names what is wrong."""
        active = []
        for spec in specs:
            name, has_value, text = spec.partition("=")
            fault = REGISTRY.get(name.strip())
            if fault is None:
                raise UnknownFault(f"unknown fault {name.strip()!r} (--fault list shows them)")
            if has_value and fault.default is None:
                raise UnknownFault(f"fault {fault.name!r} takes no value")
            try:
                value = float(text) if has_value else fault.default
            except ValueError:
                raise UnknownFault(f"fault {fault.name!r} takes a number, not {text!r}") from None
            if value is not None and value < 0:
                raise UnknownFault(f"fault {fault.name!r} takes a non-negative number, not {text!r}")
            active.append((fault, fault.make(value)))
        return cls(active)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(fault.name for fault, _ in self.active)

    def __bool__(self) -> bool:
        return bool(self.active)

    # REST ------------------------------------------------------------------------------------------

    def filter_request(self, request: Request) -> Request:
        for hook in self._requests:
            request = hook(request)
        return request

    def unauthenticated(self, conn: HTTPConnection, store: Store) -> User | None:
        for hook in self._unauthenticated:
            user = hook(conn, store)
            if user is not None:
                return user
        return None

    def waives(self, check: str) -> bool:
        return check in self._waived

    async def run_handler(self, ctx: Context, handler: HandlerCall) -> Any:
        call = handler
        for hook in reversed(self._handlers):
            call = _chain(hook, call)
        return await call(ctx)

    def filter_reply(self, request: Request, status: int, body: Body) -> tuple[int, Body]:
        if self._wires:
            body = copy.deepcopy(body)
            for wire in self._wires:
                _walk(body, wire)
        for hook in self._replies:
            status, body = hook(request, status, body)
        return status, body

    # notifications ---------------------------------------------------------------------------------

    def publish_filter(self) -> Callable[[EventBus, Deliver, str, str, Body], None] | None:
        """What EventBus(publish_filter=...) takes: None when no fault touches notifications."""
        return self.publish if self._publishers or self._wires else None

    def publish(self, bus: EventBus, deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
        data = copy.deepcopy(data)  # the hooks may rewrite it or deliver it later
        for wire in self._wires:
            _walk(data, wire)
        for hook in reversed(self._publishers):
            deliver = _chain_delivery(hook, bus, deliver)
        deliver(user_id, topic, data)

    # CometD ----------------------------------------------------------------------------------------

    def bayeux_filters(self) -> dict[str, Any]:
        """The keyword arguments BayeuxServer takes (none when no fault touches the protocol)."""
        filters: dict[str, Any] = {}
        if self._bayeux_requests:
            filters["filter_request"] = self.bayeux_request
        if self._bayeux_replies:
            filters["filter_reply"] = self.bayeux_reply
        if self._bayeux_batches:
            filters["around_batch"] = self.bayeux_batch
        if not self._bayeux_subpaths:
            filters["subpaths"] = False
        if self.waives("client-owner"):
            filters["check_owner"] = False
        json_waived = self._waived & {"json-depth", "lone-surrogate"}
        if json_waived:
            filters["parse_json"] = functools.partial(jsonio.parse, waived=json_waived)
        if "bayeux-body-limit" in self._waived:
            filters["max_body_bytes"] = None
        if "session-limit" in self._waived:
            filters["max_sessions"] = None
        if "websocket-close-code" in self._waived:
            filters["close_codes"] = False
        if "session-revocation" in self._waived:
            filters["reauthenticate"] = False
        return filters

    def bayeux_request(self, message: Message) -> Message:
        for hook in self._bayeux_requests:
            message = hook(message)
        return message

    def bayeux_reply(self, message: Message, reply: Message) -> Message:
        for hook in self._bayeux_replies:
            reply = hook(message, reply)
        return reply

    async def bayeux_batch(self, messages: list[Any], answer: Callable[[], Awaitable[list[Message]]]) -> list[Message]:
        for hook in reversed(self._bayeux_batches):
            answer = functools.partial(hook, messages, answer)
        return await answer()

    # HTTP ------------------------------------------------------------------------------------------

    def middleware(self) -> list[Middleware]:
        """What Starlette(middleware=...) takes: none when no fault touches reply headers."""
        return [Middleware(_ReplyHeaders, hooks=tuple(self._headers))] if self._headers else []


class _ReplyHeaders:
    """ASGI middleware: the header hooks rewrite every reply under /api/v2 (the stimulus API is the test
    harness's, not the server's, and is left alone)."""

    def __init__(self, app: ASGIApp, hooks: tuple[HeadersHook, ...]) -> None:
        self.app = app
        self.hooks = hooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/api/v2"):
            await self.app(scope, receive, send)
            return

        async def rewritten(message: AsgiMessage) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                for hook in self.hooks:
                    headers = hook(scope["path"], headers)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, rewritten)


NO_FAULTS = Faults()


def faults_of(conn: HTTPConnection) -> Faults:
    """The faults of the app serving ``conn`` (an app not made by create_app has none)."""
    faults: Faults = getattr(conn.app.state, "faults", NO_FAULTS)
    return faults


def describe() -> list[str]:
    """One line per fault, by category: what ``--fault list`` prints."""
    lines = []
    for category in CATEGORIES:
        for fault in (f for f in REGISTRY.values() if f.category == category):
            value = f"[=SECONDS, default {fault.default:g}]" if fault.default is not None else ""
            lines.append(
                f"{fault.name}{value}  [{category}; breaks {', '.join(fault.requirements)}]  "
                f"{fault.description} {fault.caught_by}"
            )
    return lines


def _chain(hook: HandlerHook, call_next: HandlerCall) -> HandlerCall:
    async def call(ctx: Context) -> Any:
        return await hook(ctx, call_next)

    return call


def _chain_delivery(hook: PublishHook, bus: EventBus, deliver: Deliver) -> Deliver:
    return lambda user_id, topic, data: hook(bus, deliver, user_id, topic, data)


def _walk(node: Any, rewrite: WireHook) -> None:
    """Apply ``rewrite`` to every JSON object inside ``node``, depth first."""
    if isinstance(node, dict):
        for value in node.values():
            _walk(value, rewrite)
        rewrite(node)
    elif isinstance(node, list):
        for item in node:
            _walk(item, rewrite)


# -- helpers the faults share ---------------------------------------------------------------------------


def _without(body: Body, name: str) -> Body:
    return {k: v for k, v in body.items() if k != name}


def _on_success(rewrite: Callable[[Request, Body], Body]) -> ReplyHook:
    """A reply hook for successful replies (statusCode 0) only."""

    def hook(request: Request, status: int, body: Body) -> tuple[int, Body]:
        return (status, rewrite(request, body)) if body.get("statusCode") == 0 else (status, body)

    return hook


def _on_error(codes: Iterable[int], answer: Callable[[int, Body], tuple[int, Body]]) -> ReplyHook:
    """A reply hook for errors with one of ``codes``: ``answer(http_status, body)`` replaces the reply."""
    wanted = frozenset(codes)

    def hook(request: Request, status: int, body: Body) -> tuple[int, Body]:
        return answer(status, body) if body.get("statusCode") in wanted else (status, body)

    return hook


def _without_query(name: str) -> RequestHook:
    def hook(request: Request) -> Request:
        if name not in request.query_params:
            return request
        kept = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != name]
        return Request({**request.scope, "query_string": urlencode(kept).encode("latin-1")}, request.receive)

    return hook


def _is_operation(ctx: Context, method: str, path: str, names: Collection[str]) -> bool:
    return (ctx.operation.method, ctx.operation.path) == (method, path) and ctx.operation_name in names


def _acknowledged_not_applied(operation_name: str) -> HandlerHook:
    """POST /me/calls/{id} ``operation_name`` on the caller's own call, valid now: statusCode 0, nothing done."""

    async def hook(ctx: Context, call_next: HandlerCall) -> Any:
        if _is_operation(ctx, "POST", "/me/calls/{id}", [operation_name]):
            leg = ctx.store.telephony.legs.get(ctx.path_params.get("id", ""))
            if leg is not None and leg.device.user_id == ctx.user.id and operation_name in leg.capabilities():
                return {}
        return await call_next(ctx)

    return hook


def _is_call(obj: Body) -> bool:
    return "callUuid" in obj and isinstance(obj.get("capabilities"), list)


def _topic_hook(rewrite: Callable[[Deliver, str, str, Body], None]) -> PublishHook:
    return lambda bus, deliver, user_id, topic, data: rewrite(deliver, user_id, topic, data)


CALLS = "/v2/me/calls"
INTERACTIONS = "/v2/me/interactions"
USERS_TOPIC = "/v2/users"
# E74: the topics whose message type GWS-NOTIF-002 leaves to the server (only GWS-NOTIF-009 asks for it).
UNTYPED_TOPICS = frozenset({"/v2/me/channels", "/v2/me", USERS_TOPIC})


# == response shape ====================================================================================


@_fault(
    "reply-without-status-code",
    SHAPE,
    ["GWS-GEN-001"],
    "Successful REST replies leave out the top-level statusCode. Caught by the envelope check every reply passes "
    "(statusCode present and an integer).",
)
def _reply_without_status_code(_: float | None) -> Hooks:
    return Hooks(reply=_on_success(lambda request, body: _without(body, "statusCode")))


@_fault(
    "status-code-as-string",
    SHAPE,
    ["GWS-GEN-001"],
    'Successful REST replies carry statusCode as the string "0" instead of the integer 0. Caught by the envelope '
    "check (statusCode an integer).",
)
def _status_code_as_string(_: float | None) -> Hooks:
    return Hooks(reply=_on_success(lambda request, body: {**body, "statusCode": "0"}))


def _drop_object_ids(request: Request, body: Body) -> Body:
    if request.method != "GET":
        return body
    return {k: ({a: b for a, b in v.items() if a != "id"} if isinstance(v, dict) else v) for k, v in body.items()}


@_fault(
    "object-id-missing",
    SHAPE,
    ["GWS-USER-002", "GWS-DEV-005", "GWS-SKILL-003", "GWS-CALL-002"],
    "A GET of one object (GET /users/{id}, /devices/{id}, /skills/{id}, /me/calls/{id}, /me ...) answers the object "
    "without its id. Caught by the reply-schema check of those reads (id is required).",
)
def _object_id_missing(_: float | None) -> Hooks:
    return Hooks(reply=_on_success(_drop_object_ids))


def _rename_collection(request: Request, body: Body) -> Body:
    if request.method != "GET":
        return body
    return {("items" if k not in ("uris", "statusCode") and isinstance(v, list) else k): v for k, v in body.items()}


@_fault(
    "collection-named-items",
    SHAPE,
    ["GWS-GEN-006"],
    'A collection read with fields=* puts its objects under "items" instead of the resource\'s name '
    '("users", "devices", ...). Caught by the fields=* collection checks (array named after the resource).',
)
def _collection_named_items(_: float | None) -> Hooks:
    return Hooks(reply=_on_success(_rename_collection))


@_fault(
    "fields-ignored",
    SHAPE,
    ["GWS-GEN-006", "GWS-GEN-021"],
    "The fields query parameter is ignored, so fields=* collections answer bare uris. Caught by the fields=* "
    "collection checks (GWS-GEN-021 lists the collections).",
)
def _fields_ignored(_: float | None) -> Hooks:
    return Hooks(request=_without_query("fields"))


@_fault(
    "subresources-ignored",
    SHAPE,
    ["GWS-GEN-023"],
    "The subresources query parameter is ignored, so /me, /users and /users/{id} never carry skills and devices. "
    "Caught by the subresources=* checks on /me and /users/{id}.",
)
def _subresources_ignored(_: float | None) -> Hooks:
    return Hooks(request=_without_query("subresources"))


def _uris_nowhere(request: Request, body: Body) -> Body:
    uris = body.get("uris")
    if not isinstance(uris, list):
        return body
    return {**body, "uris": [f"{uri}-gone" if isinstance(uri, str) else uri for uri in uris]}


@_fault(
    "uris-lead-nowhere",
    SHAPE,
    ["GWS-GEN-017"],
    "Every uri of a uris array points at an object that does not exist (its id altered), so a GET of it answers 6. "
    "Caught by the check that follows every listed uri with a GET by the same caller.",
)
def _uris_lead_nowhere(_: float | None) -> Hooks:
    return Hooks(reply=_on_success(_uris_nowhere))


def _drop_created_uri(request: Request, body: Body) -> Body:
    if request.method != "POST" or "id" not in body or "uri" not in body:
        return body
    return _without(body, "uri")


@_fault(
    "create-without-uri",
    SHAPE,
    ["GWS-GEN-018", "GWS-USER-004", "GWS-SKILL-004", "GWS-CONT-005"],
    "A POST that creates an object answers its id but not the uri that reads it. Caught by the create checks "
    "(POST /users, /skills, /contacts, /settings/agent-states: id and uri).",
)
def _create_without_uri(_: float | None) -> Hooks:
    return Hooks(reply=_on_success(_drop_created_uri))


def _json_as_text(_: str, headers: RawHeaders) -> RawHeaders:
    return [
        (name, b"text/plain; charset=utf-8")
        if name.lower() == b"content-type" and value.lower().startswith(b"application/json")
        else (name, value)
        for name, value in headers
    ]


@_fault(
    "content-type-text-plain",
    SHAPE,
    ["GWS-GEN-028"],
    "Every JSON reply, of the API and of the notifications endpoint, is labelled Content-Type text/plain (the body "
    "is unchanged), which a client that reads the header before the body rejects. Caught by the media-type check "
    "every reply passes (json_content_type).",
)
def _content_type_text_plain(_: float | None) -> Hooks:
    return Hooks(headers=_json_as_text)


def _bayeux_json_as_text(path: str, headers: RawHeaders) -> RawHeaders:
    return _json_as_text(path, headers) if path.startswith("/api/v2/notifications") else headers


@_fault(
    "bayeux-content-type-text-plain",
    PROTOCOL,
    ["GWS-COMETD-018"],
    "Only the notifications endpoint labels its JSON replies text/plain (the API is right), which aiocometd and "
    "other clients reading Bayeux replies by their media type refuse. Caught by the raw Bayeux session, which "
    "judges the label of every reply.",
)
def _bayeux_content_type_text_plain(_: float | None) -> Hooks:
    return Hooks(headers=_bayeux_json_as_text)


# == errors ============================================================================================


@_fault(
    "not-found-as-invalid",
    ERRORS,
    ["GWS-GEN-015"],
    "A request for an object that does not exist is answered statusCode 2 (HTTP 400) instead of 6. Caught by the "
    "unknown-id checks (GET /users/{id} of a made-up id, DELETE of a deleted object).",
)
def _not_found_as_invalid(_: float | None) -> Hooks:
    return Hooks(reply=_on_error([6], lambda status, body: (400, {**body, "statusCode": 2})))


@_fault(
    "server-error-for-bad-input",
    ERRORS,
    ["GWS-GEN-004"],
    "A request refused for its client input (statusCode 1 or 2) is answered statusCode 4 with HTTP 500. Caught by "
    "the negative (fuzz) tests and every bad-input check (no 5xx, no statusCode 4 for client input).",
)
def _server_error_for_bad_input(_: float | None) -> Hooks:
    return Hooks(reply=_on_error([1, 2], lambda status, body: (500, {**body, "statusCode": 4})))


@_fault(
    "missing-attribute-accepted",
    ERRORS,
    ["GWS-GEN-011"],
    "A request that lacks its operationName or a required attribute is answered statusCode 0 (and nothing is done). "
    "Caught by the missing-attribute checks (POST /users without password, SendMessage without text -> 1).",
)
def _missing_attribute_accepted(_: float | None) -> Hooks:
    return Hooks(reply=_on_error([1], lambda status, body: (200, {"statusCode": 0})))


@_fault(
    "not-found-as-success",
    ERRORS,
    ["GWS-GEN-015", "GWS-USER-010"],
    "A request for an object that does not exist is answered statusCode 0 with HTTP 200 and an empty body. Caught "
    "by the unknown-id checks (a GET after DELETE /users/{id} must answer 6).",
)
def _not_found_as_success(_: float | None) -> Hooks:
    return Hooks(reply=_on_error([6], lambda status, body: (200, {"statusCode": 0})))


@_fault(
    "error-without-status-message",
    ERRORS,
    ["GWS-GEN-002"],
    "Error replies carry their statusCode but no statusMessage. Caught by the error-envelope check every refusal "
    "passes (a string statusMessage).",
)
def _error_without_status_message(_: float | None) -> Hooks:
    return Hooks(reply=_on_error(range(1, 7), lambda status, body: (status, _without(body, "statusMessage"))))


@_fault(
    "null-member-refused",
    ERRORS,
    ["GWS-GEN-029"],
    'A request body with an optional member sent as null ({"operationName": "StartContactCenterSession", '
    '"channels": ["chat"], "loginCode": null}) is refused with statusCode 2 instead of read as if the member were '
    "absent, which breaks every client library that serializes absent members as null. Caught by the scenario that "
    "sends operations with their optional members null and compares the outcome with the plain request.",
)
def _null_member_refused(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"null-as-absent"}))


# == state machines ====================================================================================


@_fault(
    "hold-not-applied",
    MACHINES,
    ["GWS-CALL-016", "GWS-GEN-020"],
    "Hold on an Established call is answered statusCode 0 but the call stays Established and nothing is sent. "
    "Caught by the call scenario that holds a call and waits for it in state Held.",
)
def _hold_not_applied(_: float | None) -> Hooks:
    return Hooks(handler=_acknowledged_not_applied("Hold"))


@_fault(
    "call-never-established",
    MACHINES,
    ["GWS-CALL-014"],
    "Answer on a Ringing call is answered statusCode 0 but the call stays Ringing (and the caller Dialing), so it "
    "never reaches Established. Caught by the call scenario that answers and waits for Established.",
)
def _call_never_established(_: float | None) -> Hooks:
    return Hooks(handler=_acknowledged_not_applied("Answer"))


async def _ready_as_not_ready(ctx: Context, call_next: HandlerCall) -> Any:
    if _is_operation(ctx, "POST", "/me", ["Ready"]):
        ctx.body["operationName"] = ctx.operation_name = "NotReady"
    return await call_next(ctx)


@_fault(
    "ready-sets-not-ready",
    MACHINES,
    ["GWS-AGST-007"],
    "POST /me with operationName Ready puts the user's channels and devices into NotReady (answered statusCode 0). "
    "Caught by the agent-state scenario that reads the channels after Ready.",
)
def _ready_sets_not_ready(_: float | None) -> Hooks:
    return Hooks(handler=_ready_as_not_ready)


def _list_answer_when_established(obj: Body) -> None:
    if _is_call(obj) and obj.get("state") == "Established" and "Answer" not in obj["capabilities"]:
        obj["capabilities"].append("Answer")


@_fault(
    "capabilities-list-refused",
    MACHINES,
    ["GWS-CALL-005"],
    "An Established call lists Answer among its capabilities (in reads and notifications), which is then refused "
    "with 2. Caught by the call check that every listed capability is valid in the call's state.",
)
def _capabilities_list_refused(_: float | None) -> Hooks:
    return Hooks(wire=_list_answer_when_established)


def _omit_hold_when_established(obj: Body) -> None:
    if _is_call(obj) and obj.get("state") == "Established" and "Hold" in obj["capabilities"]:
        obj["capabilities"].remove("Hold")


@_fault(
    "capabilities-omit-working",
    MACHINES,
    ["GWS-CALL-005", "GWS-CALL-016"],
    "An Established call leaves Hold out of its capabilities (in reads and notifications) although Hold works. "
    "Caught by the call scenario that expects Hold among an Established call's capabilities before holding it.",
)
def _capabilities_omit_working(_: float | None) -> Hooks:
    return Hooks(wire=_omit_hold_when_established)


def _swap_reply_addresses(obj: Body) -> None:
    email = obj.get("email_object")
    if obj.get("interactionSubType") == "OutboundReply" and isinstance(email, dict) and "toAddress" in email:
        email["toAddress"], email["fromAddress"] = email.get("fromAddress"), email["toAddress"]


@_fault(
    "email-reply-wrong-addresses",
    MACHINES,
    ["GWS-EMAIL-007"],
    "A reply e-mail (OutboundReply) shows to and from swapped, addressed to the contact center's own address, in "
    "reads and notifications. Caught by the e-mail reply scenario that checks the EmailReplyCreated addresses.",
)
def _email_reply_wrong_addresses(_: float | None) -> Hooks:
    return Hooks(wire=_swap_reply_addresses)


async def _drop_subject_prefix(ctx: Context, call_next: HandlerCall) -> Any:
    if _is_operation(ctx, "POST", "/me/interactions/{id}", ["Reply", "ReplyAll"]):
        ctx.body.pop("subjectPrefix", None)
    return await call_next(ctx)


@_fault(
    "email-reply-wrong-subject",
    MACHINES,
    ["GWS-EMAIL-008"],
    "Reply and ReplyAll ignore subjectPrefix, so the reply's subject is the original subject alone. Caught by the "
    'e-mail reply scenario that replies with subjectPrefix "Re: " and checks the subject.',
)
def _email_reply_wrong_subject(_: float | None) -> Hooks:
    return Hooks(handler=_drop_subject_prefix)


def _drop_first_chat_message(obj: Body) -> None:
    events = obj.get("chat_notifications")
    if not isinstance(events, list) or len(events) < 2:
        return  # one event is a new event, not a history
    for index, event in enumerate(events):
        if isinstance(event, dict) and event.get("MessageType") == "NEW_MESSAGE":
            del events[index]
            return


@_fault(
    "chat-history-missing-message",
    MACHINES,
    ["GWS-CHAT-003", "GWS-CHAT-009"],
    "A chat history (ChatAccepted, RequestChatHistory) leaves out its first NEW_MESSAGE event. Caught by the chat "
    "scenario that accepts a chat the customer wrote into and looks for that message in the history.",
)
def _chat_history_missing_message(_: float | None) -> Hooks:
    return Hooks(wire=_drop_first_chat_message)


# == notifications =====================================================================================


def _skip_call_status(deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
    if topic == CALLS and data.get("notificationType") == "StatusChange":
        return
    deliver(user_id, topic, data)


@_fault(
    "notification-missing",
    NOTIFICATIONS,
    ["GWS-CALL-010", "GWS-CALL-012", "GWS-GEN-020"],
    "No CallStatusChange message is ever sent on /v2/me/calls (REST reads still show the states). Caught by the "
    "call scenario waiting for the Dialing call after Dial.",
)
def _notification_missing(_: float | None) -> Hooks:
    return Hooks(publish=_topic_hook(_skip_call_status))


def _twice(deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
    deliver(user_id, topic, data)
    deliver(user_id, topic, copy.deepcopy(data))


@_fault(
    "notification-duplicated",
    NOTIFICATIONS,
    ["GWS-PWD-001", "GWS-PWD-007"],
    "Every notification is delivered twice. Caught by the password scenario that expects exactly one "
    "MePasswordChangeSuccessful message after ChangePassword (assert_quiet after it).",
)
def _notification_duplicated(_: float | None) -> Hooks:
    return Hooks(publish=_topic_hook(_twice))


def _calls_on_devices(deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
    deliver(user_id, "/v2/me/devices" if topic == CALLS else topic, data)


@_fault(
    "notification-wrong-topic",
    NOTIFICATIONS,
    ["GWS-NOTIF-004", "GWS-NOTIF-001"],
    "Call messages are published on /v2/me/devices instead of /v2/me/calls. Caught by the call scenario waiting on "
    "/v2/me/calls, and by the topic-schema check of /v2/me/devices.",
)
def _notification_wrong_topic(_: float | None) -> Hooks:
    return Hooks(publish=_topic_hook(_calls_on_devices))


def _held_as_established(deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
    call = data.get("call")
    if topic == CALLS and isinstance(call, dict) and call.get("state") == "Held":
        call["state"] = "Established"
    deliver(user_id, topic, data)


@_fault(
    "notification-wrong-state",
    NOTIFICATIONS,
    ["GWS-CALL-016", "GWS-CALL-010"],
    "A call message reports a Held call as Established (REST reads show Held). Caught by the call scenario that "
    "holds a call and waits for its CallStatusChange in state Held.",
)
def _notification_wrong_state(_: float | None) -> Hooks:
    return Hooks(publish=_topic_hook(_held_as_established))


def _without_message_type(deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
    data.pop("messageType", None)
    deliver(user_id, topic, data)


@_fault(
    "notification-schema-invalid",
    NOTIFICATIONS,
    ["GWS-NOTIF-002"],
    "Messages on /v2/me/devices, /v2/me/calls, /v2/me/interactions and /v2/me/workbins lack messageType. Caught by "
    "the schema check every received notification passes (validate_notification).",
)
def _notification_schema_invalid(_: float | None) -> Hooks:
    return Hooks(publish=_topic_hook(_without_message_type))


def _released_without_capabilities(deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
    call = data.get("call")
    if topic == CALLS and isinstance(call, dict) and call.get("state") == "Released":
        call.pop("capabilities", None)
    deliver(user_id, topic, data)


@_fault(
    "released-call-without-capabilities",
    NOTIFICATIONS,
    ["GWS-CALL-032"],
    "Call messages in state Released carry no capabilities member (the reference sends []); every other call "
    "message and every REST read is unchanged. Caught by every voice scenario that hears a call Released: the "
    "inbox holds every call message to its capabilities array (conformance.habits).",
)
def _released_call_without_capabilities(_: float | None) -> Hooks:
    return Hooks(publish=_topic_hook(_released_without_capabilities))


def _revoked_without_capabilities(deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
    if topic == INTERACTIONS and data.get("state") == "Revoked":
        data.pop("capabilities", None)
    deliver(user_id, topic, data)


@_fault(
    "revoked-interaction-without-capabilities",
    NOTIFICATIONS,
    ["GWS-IXN-024"],
    "Interaction messages in state Revoked carry no capabilities member (the reference sends []). Caught by the "
    "e-mail and chat scenarios that see an invitation revoked: the inbox holds every interaction message to its "
    "capabilities array before its schema (conformance.habits).",
)
def _revoked_interaction_without_capabilities(_: float | None) -> Hooks:
    return Hooks(publish=_topic_hook(_revoked_without_capabilities))


def _untyped_where_tolerated(deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
    if topic in UNTYPED_TOPICS:
        data.pop("messageType", None)
    deliver(user_id, topic, data)


@_fault(
    "message-without-message-type",
    NOTIFICATIONS,
    ["GWS-NOTIF-009"],
    "Messages on /v2/me/channels, /v2/me and /v2/users carry no messageType, the topics where GWS-NOTIF-002 "
    "lets a server leave it out (E74), so only the SHOULD can tell (notification-schema-invalid drops it where "
    "the MUST demands it). Caught by the inbox's messageType warning on every message it judges, in the "
    "agent-state and password scenarios.",
)
def _message_without_message_type(_: float | None) -> Hooks:
    return Hooks(publish=_topic_hook(_untyped_where_tolerated))


def _later(delay_s: float) -> PublishHook:
    def hook(bus: EventBus, deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # published outside the server's loop (a unit test's direct call): nothing to wait on
            deliver(user_id, topic, data)
            return
        loop.call_later(delay_s, deliver, user_id, topic, data)

    return hook


@_fault(
    "notification-late",
    NOTIFICATIONS,
    ["GWS-GEN-020", "GWS-AGST-012"],
    f"Every notification is delivered SECONDS late (default {DEFAULT_LATE_S:g} s, beyond the suite's 10 s "
    "notification timeout). Caught by any scenario waiting for a message, e.g. ChannelStateChanged after Ready.",
    default=DEFAULT_LATE_S,
)
def _notification_late(delay_s: float | None) -> Hooks:
    return Hooks(publish=_later(DEFAULT_LATE_S if delay_s is None else delay_s))


def _to_everyone(bus: EventBus, deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
    deliver(user_id, topic, data)
    if topic.startswith("/v2/me"):
        for other in bus.subscribed_users():
            if other != user_id:
                deliver(other, topic, copy.deepcopy(data))


@_fault(
    "notification-other-user",
    NOTIFICATIONS,
    ["GWS-NOTIF-005"],
    "Every /v2/me message is also delivered to every other user with a CometD session. Caught by the isolation "
    "check: a second agent listening while the first works must receive nothing.",
)
def _notification_other_user(_: float | None) -> Hooks:
    return Hooks(publish=_to_everyone)


# == security ==========================================================================================


def _anyone(conn: HTTPConnection, store: Store) -> User | None:
    """The user the Basic credentials name, whatever the password; without a name, the first administrator."""
    header = conn.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            name = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            name = ""
        named = store.user_by_name(name)
        if named is not None:
            return named
    return next((user for user in store.users.values() if "ROLE_ADMIN" in user.roles), None)


@_fault(
    "no-authentication",
    SECURITY,
    ["GWS-AUTH-003", "GWS-AUTH-002", "GWS-COMETD-003"],
    "Requests without valid credentials are served: a wrong password passes as the named user, no credentials as "
    "the administrator (REST and CometD). Caught by the authentication checks (no/wrong credentials -> 401).",
)
def _no_authentication(_: float | None) -> Hooks:
    return Hooks(unauthenticated=_anyone)


@_fault(
    "no-role-check",
    SECURITY,
    ["GWS-PERM-001", "GWS-PERM-005", "GWS-PERM-003"],
    "The caller's role is not checked against the operation's roles, so an agent may create users or read "
    "/settings. Caught by the permission matrix (agent -> statusCode 5 on admin operations).",
)
def _no_role_check(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"role"}))


@_fault(
    "other-agents-objects",
    SECURITY,
    ["GWS-PERM-002"],
    "An agent may read and operate another agent's device, call and user (the ownership check is off; lists stay "
    "own). Caught by the isolation checks (agent1 on agent2's device or call -> 5 or 6).",
)
def _other_agents_objects(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"owner"}))


@_fault(
    "users-topic-open-to-agents",
    SECURITY,
    ["GWS-COMETD-008", "GWS-NOTIF-006"],
    "An agent's CometD subscription to /v2/users, the supervisors' topic about other users, is accepted. Caught by "
    "the CometD check that an agent's /meta/subscribe to /v2/users is refused.",
)
def _users_topic_open_to_agents(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"topic-role"}))


@_fault(
    "no-session-cookie",
    SECURITY,
    ["GWS-AUTH-005"],
    "A request authenticated by Basic credentials opens no session cookie (as the reference did before E88, unless "
    "started with --csrf), so a browser client that signs in once and then sends only the cookie gets 401. Caught by "
    "the session-cookie check (Set-Cookie after a Basic sign-in; a cookie-only request served as the same user).",
)
def _no_session_cookie(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"session-cookie"}))


@_fault(
    "basic-utf8-only",
    SECURITY,
    ["GWS-AUTH-006"],
    "Basic credentials are decoded as UTF-8 only: a client that encodes user:password in ISO-8859-1 (.NET's and "
    "browsers' Basic helpers may) is refused with 401 for any non-ASCII password. Caught by the sign-in check with a "
    "password holding an accented letter, sent in both encodings.",
)
def _basic_utf8_only(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"latin-1-credentials"}))


# == protocol ==========================================================================================


def _handshake_without_client_id(message: Message, reply: Message) -> Message:
    if reply.get("channel") == "/meta/handshake" and reply.get("successful") is True:
        return {k: v for k, v in reply.items() if k != "clientId"}
    return reply


@_fault(
    "handshake-without-client-id",
    PROTOCOL,
    ["GWS-COMETD-002"],
    "A successful /meta/handshake reply carries no clientId. Caught by the handshake check (and every CometD "
    "scenario, whose listener cannot connect).",
)
def _handshake_without_client_id_fault(_: float | None) -> Hooks:
    return Hooks(bayeux_reply=_handshake_without_client_id)


def _never_hold(message: Message) -> Message:
    if message.get("channel") != "/meta/connect":
        return message
    advice = message.get("advice")
    return {**message, "advice": {**(advice if isinstance(advice, dict) else {}), "timeout": 0}}


@_fault(
    "connect-never-held",
    PROTOCOL,
    ["GWS-COMETD-006"],
    "Every /meta/connect is answered at once, even with nothing to deliver, instead of being held until a message "
    "or the advised timeout. Caught by the CometD check that an idle second connect is held.",
)
def _connect_never_held(_: float | None) -> Hooks:
    return Hooks(bayeux_request=_never_hold)


def _accept_unknown_client(message: Message, reply: Message) -> Message:
    error = reply.get("error")
    if not (isinstance(error, str) and error.startswith("402")):
        return reply
    accepted = {k: v for k, v in reply.items() if k not in ("error", "advice")}
    accepted.update(successful=True, advice={"reconnect": "retry", "interval": 0})
    if isinstance(message.get("clientId"), str):
        accepted["clientId"] = message["clientId"]
    return accepted


@_fault(
    "unknown-client-accepted",
    PROTOCOL,
    ["GWS-COMETD-011"],
    "A /meta/connect or /meta/subscribe with an unknown clientId is answered successful instead of with a 402 error "
    "and reconnect advice. Caught by the CometD check with a made-up clientId.",
)
def _unknown_client_accepted(_: float | None) -> Hooks:
    return Hooks(bayeux_reply=_accept_unknown_client)


def _connect_without_advice(message: Message, reply: Message) -> Message:
    if reply.get("channel") == "/meta/connect" and reply.get("successful") is True:
        return {k: v for k, v in reply.items() if k != "advice"}
    return reply


@_fault(
    "connect-without-advice",
    PROTOCOL,
    ["GWS-COMETD-004"],
    "Successful /meta/connect replies carry no advice. Caught by the connect check (successful true and an advice) "
    "and the /meta/connect reply schema.",
)
def _connect_without_advice_fault(_: float | None) -> Hooks:
    return Hooks(bayeux_reply=_connect_without_advice)


def _unsubscribe_nothing(message: Message) -> Message:
    if message.get("channel") != "/meta/unsubscribe":
        return message
    return {**message, "subscription": "/v2/me/none-such"}


@_fault(
    "unsubscribe-ignored",
    PROTOCOL,
    ["GWS-COMETD-009"],
    "/meta/unsubscribe is answered successful but the subscription stays: the client keeps getting the topic's "
    "messages. Caught by the CometD check that unsubscribes from /v2/me/channels and changes a channel.",
)
def _unsubscribe_ignored(_: float | None) -> Hooks:
    return Hooks(bayeux_request=_unsubscribe_nothing)


def _disconnect_nobody(message: Message) -> Message:
    if message.get("channel") != "/meta/disconnect":
        return message
    return {**message, "clientId": "gone-" + str(message.get("clientId"))}


def _disconnected_anyway(message: Message, reply: Message) -> Message:
    client_id = str(message.get("clientId", ""))
    if reply.get("channel") != "/meta/disconnect" or not client_id.startswith("gone-"):
        return reply
    return {"channel": "/meta/disconnect", "id": reply.get("id"), "successful": True, "clientId": client_id[5:]}


@_fault(
    "disconnect-keeps-client",
    PROTOCOL,
    ["GWS-COMETD-010"],
    "/meta/disconnect is answered successful but the session goes on: its clientId still connects. Caught by the "
    "CometD check that connects with the clientId it has just disconnected.",
)
def _disconnect_keeps_client(_: float | None) -> Hooks:
    return Hooks(bayeux_request=_disconnect_nobody, bayeux_reply=_disconnected_anyway)


@_fault(
    "bayeux-subpaths-404",
    PROTOCOL,
    ["GWS-COMETD-015"],
    "Bayeux messages posted below the notifications endpoint (/api/v2/notifications/handshake, /connect, "
    "/subscribe, ...: where the CometD JavaScript and Java clients post them by default) get 404; only the endpoint "
    "itself answers. Caught by the CometD check that runs a whole session on those sub-paths.",
)
def _bayeux_subpaths_404(_: float | None) -> Hooks:
    return Hooks(bayeux_subpaths=False)


# A pattern goes on under /meta/, which the server refuses to every subscriber; the reply shows it again.
_HIDDEN_PATTERN = "/meta/hidden-pattern"


def _is_pattern(channel: Any) -> bool:
    return isinstance(channel, str) and channel.endswith(("/*", "/**"))


def _rewrite_subscription(message: Message, rewrite: Callable[[Any], Any]) -> Message:
    subscription = message.get("subscription")
    if isinstance(subscription, list):
        return {**message, "subscription": [rewrite(channel) for channel in subscription]}
    return {**message, "subscription": rewrite(subscription)}


def _hide_patterns(message: Message) -> Message:
    if message.get("channel") != "/meta/subscribe":
        return message
    return _rewrite_subscription(message, lambda c: _HIDDEN_PATTERN + c if _is_pattern(c) else c)


def _patterns_refused(message: Message, reply: Message) -> Message:
    subscription = reply.get("subscription")
    channels = subscription if isinstance(subscription, list) else [subscription]
    hidden = [c for c in channels if isinstance(c, str) and c.startswith(_HIDDEN_PATTERN + "/")]
    if reply.get("channel") != "/meta/subscribe" or not hidden:
        return reply
    shown = _rewrite_subscription(reply, lambda c: c[len(_HIDDEN_PATTERN) :] if c in hidden else c)
    return {**shown, "error": "403::Wildcard subscriptions are not allowed"}


@_fault(
    "wildcard-subscriptions-refused",
    PROTOCOL,
    ["GWS-COMETD-016"],
    "A /meta/subscribe to a channel pattern (/v2/me/*, /v2/me/**, /**) is refused with 403 although it matches "
    "topics the user may receive; plain topics are granted as before. Caught by the CometD check that subscribes "
    "with each pattern and waits for a /v2/me message on it.",
)
def _wildcard_subscriptions_refused(_: float | None) -> Hooks:
    return Hooks(bayeux_request=_hide_patterns, bayeux_reply=_patterns_refused)


def _advised_timeout_zero(message: Message) -> bool:
    advice = message.get("advice")
    timeout = advice.get("timeout") if isinstance(advice, dict) else None
    return message.get("channel") == "/meta/connect" and timeout == 0 and not isinstance(timeout, bool)


@_fault(
    "connect-timeout-zero-held",
    PROTOCOL,
    ["GWS-COMETD-017"],
    "A /meta/connect advising timeout 0 is held like any other, for SECONDS (the server's own 30 s cut short so a "
    "run stays quick); only a session's first connect is still answered at once. Caught by the CometD check that "
    "times connects advising timeout 0.",
    default=3.0,
)
def _connect_timeout_zero_held(seconds: float | None) -> Hooks:
    hold_ms = round(1000 * (seconds if seconds is not None else 3.0))

    def hold(message: Message) -> Message:
        if not _advised_timeout_zero(message):
            return message
        return {**message, "advice": {**message["advice"], "timeout": hold_ms}}

    return Hooks(bayeux_request=hold)


def requirement_ids() -> Mapping[str, tuple[str, ...]]:
    """Fault name -> the requirement ids it breaks (what the kill matrix matches caught tests against)."""
    return {name: fault.requirements for name, fault in REGISTRY.items()}


def _refuse_client_fields(message: Message, reply: Message) -> Message:
    if str(message.get("channel", "")).startswith("/meta/") and ("ext" in message or "timestamp" in message):
        echo: Message = {key: reply[key] for key in ("channel", "id", "clientId", "subscription") if key in reply}
        return {**echo, "successful": False, "error": "400::Unknown message field"}
    return reply


@_fault(
    "bayeux-ext-refused",
    PROTOCOL,
    ["GWS-COMETD-019"],
    "A meta message that carries ext or a timestamp (CometD's ack, timesync and timestamp extensions) is refused "
    "with 400::Unknown message field. Caught by the CometD check that sends them as the JavaScript client does.",
)
def _bayeux_ext_refused(_: float | None) -> Hooks:
    return Hooks(bayeux_reply=_refuse_client_fields)


def _not_acceptable_unless_json_only(request: Request, status: int, body: Body) -> tuple[int, Body]:
    if "xml" in request.headers.get("accept", "").lower() or "*/*" in request.headers.get("accept", ""):
        return 406, {"statusCode": 1, "statusMessage": "Not acceptable: ask for application/json"}
    return status, body


@_fault(
    "accept-json-only",
    ERRORS,
    ["GWS-GEN-030"],
    "A request whose Accept header names */* or XML (browsers, RestSharp) is answered 406 instead of the JSON reply. "
    "Caught by the Accept-header check on GET /me.",
)
def _accept_json_only(_: float | None) -> Hooks:
    return Hooks(reply=_not_acceptable_unless_json_only)


def _one_batch_per_client() -> BayeuxBatchHook:
    locks: dict[str, asyncio.Lock] = {}

    async def serialize(messages: list[Any], answer: Callable[[], Awaitable[list[Message]]]) -> list[Message]:
        client_ids = {
            str(m["clientId"]) for m in messages if isinstance(m, dict) and isinstance(m.get("clientId"), str)
        }
        if len(client_ids) != 1:
            return await answer()
        async with locks.setdefault(client_ids.pop(), asyncio.Lock()):
            return await answer()

    return serialize


@_fault(
    "bayeux-one-request-per-client",
    PROTOCOL,
    ["GWS-COMETD-020"],
    "A client's long-polling requests are answered one at a time: a /meta/subscribe waits until the client's held "
    "/meta/connect returns. Caught by the CometD check that subscribes while a connect is held.",
)
def _bayeux_one_request_per_client(_: float | None) -> Hooks:
    return Hooks(bayeux_batch=_one_batch_per_client())


def _drop_reply_id(message: Message, reply: Message) -> Message:
    return {key: value for key, value in reply.items() if key != "id"}


@_fault(
    "meta-reply-without-id",
    PROTOCOL,
    ["GWS-COMETD-012"],
    "Meta replies leave out the id of the request they answer (the CometD JavaScript client ignores a connect reply "
    "it cannot pair by id). Caught by the raw Bayeux session, which pairs every meta reply with its request by id.",
)
def _meta_reply_without_id(_: float | None) -> Hooks:
    return Hooks(bayeux_reply=_drop_reply_id)


# -- session and list isolation (issue 14: E97, E98) ----------------------------------------------------


@_fault(
    "foreign-client-accepted",
    SECURITY,
    ["GWS-COMETD-021"],
    "A Bayeux message carrying another user's clientId is served as that session's own: an agent may connect, "
    "subscribe, unsubscribe and disconnect another agent's CometD session and receive its messages. Caught by the "
    "CometD check in which agent2 presents agent1's clientId on every meta channel.",
)
def _foreign_client_accepted(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"client-owner"}))


@_fault(
    "users-list-leaks-devices",
    SECURITY,
    ["GWS-PERM-015"],
    "GET /users with subresources answers every user's devices and skills to an agent, although GET /users/{id} "
    "of another user is refused to it. Caught by the list-isolation check comparing each list reply with the "
    "per-user refusals.",
)
def _users_list_leaks_devices(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"list-owner"}))


# == hostile input (GWS-HOST, E93-E96) =================================================================


@_fault(
    "credentials-undecodable-500",
    SECURITY,
    ["GWS-HOST-001"],
    "An Authorization header holding raw non-ASCII bytes is an internal error (HTTP 500, statusCode 4) on the REST API "
    "and the notifications endpoint, as the reference was before E93. Caught by the hostile-input battery's "
    "credentials cases, sent as raw bytes.",
)
def _credentials_undecodable_500(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"ascii-credentials"}))


@_fault(
    "deep-json-500",
    ERRORS,
    ["GWS-HOST-002"],
    "JSON nested deeper than the parser can recurse escapes as an internal error: HTTP 500 on the REST API and the "
    "notifications endpoint, a websocket dropped without a close code. Caught by the hostile-input battery's "
    "10,000-deep cases.",
)
def _deep_json_500(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"json-depth"}))


@_fault(
    "lone-surrogate-accepted",
    ERRORS,
    ["GWS-HOST-003"],
    'JSON holding a lone UTF-16 surrogate escape is accepted and stored (a contact named "\\udfff"; a Bayeux '
    "message id echoed), not refused with statusCode 2. Caught by the hostile-input battery's surrogate cases and "
    "their read-back.",
)
def _lone_surrogate_accepted(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"lone-surrogate"}))


@_fault(
    "bayeux-no-body-limit",
    SECURITY,
    ["GWS-HOST-004"],
    "The notifications endpoint reads and parses a request body of any size before it authenticates the sender (an "
    "oversized unauthenticated body gets 401, not 413). Caught by the battery's oversized Bayeux body.",
)
def _bayeux_no_body_limit(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"bayeux-body-limit"}))


@_fault(
    "no-session-limit",
    SECURITY,
    ["GWS-HOST-005"],
    "One user may hold any number of concurrent CometD sessions: every handshake succeeds and none ends the older "
    "ones. Caught by the battery's session flood (101 handshakes of one user, then the first session's connect).",
)
def _no_session_limit(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"session-limit"}))


def _crash_on_control_bytes(request: Request) -> Request:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for item in request.query_params.multi_items() for c in "".join(item)):
        raise RuntimeError("a control byte in the query reached the handler")  # the fault: an unplanned 500
    return request


@_fault(
    "control-bytes-500",
    ERRORS,
    ["GWS-HOST-006"],
    "A REST request whose query holds a control byte (a percent-encoded NUL, a newline) is an internal error (HTTP "
    "500). Caught by the hostile-input battery's control-byte cases.",
)
def _control_bytes_500(_: float | None) -> Hooks:
    return Hooks(request=_crash_on_control_bytes)


@_fault(
    "no-header-limit",
    SECURITY,
    ["GWS-HOST-007"],
    "A request's header section of any size or count is served (a 256 KB header, 10,000 headers), as uvicorn reads "
    "it, instead of being refused with 431. Caught by the battery's oversized-header cases.",
)
def _no_header_limit(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"header-limit"}))


# == hostile input, continued (GWS-HOST-008, GWS-HOST-009, E101) =======================================


@_fault(
    "hostile-no-query-limit",
    SECURITY,
    ["GWS-HOST-008"],
    "A request target's query string of any size is served (a 64 KB field list answered 200), as uvicorn reads it, "
    "instead of being refused with 414 and a JSON statusCode. Caught by the battery's oversized query string.",
)
def _hostile_no_query_limit(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"query-limit"}))


@_fault(
    "hostile-websocket-drop",
    PROTOCOL,
    ["GWS-HOST-009"],
    "A websocket frame past the size limit drops the socket without a close frame (no 1009; the server logs an "
    "exception). Caught by the battery's oversized websocket frame.",
)
def _hostile_websocket_drop(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"websocket-close-code"}))


# == session security (GWS-AUTH-007..009, E102-E104) ==================================================


@_fault(
    "session-survives-password-change",
    SECURITY,
    ["GWS-AUTH-007"],
    "A password change (ChangePassword on /me or /users/{id}, ResetPassword, PUT /users/{id} with a password) ends "
    "none of the user's sessions, as the reference did before "
    "E102: a cookie session opened with the old password keeps authenticating, a CometD clientId keeps receiving "
    "(presented with the new password), and a websocket opened with the old password keeps serving handshakes. "
    "Caught by the session check around a password change (cookie-only GET /me, the old clientId's connect, a "
    "handshake on the old websocket).",
)
def _session_survives_password_change(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"session-revocation"}))


@_fault(
    "session-csrf-not-checked",
    SECURITY,
    ["GWS-AUTH-008"],
    "The server issues CSRF tokens (X-CSRF-HEADER / X-CSRF-TOKEN on every safe read, as --csrf does) but performs a "
    "POST, PUT or DELETE authenticated only by the session cookie without one, or with another session's: a forged "
    "request from any page the user visits changes its state. Caught by the CSRF check (a cookie-only ChangePassword "
    "without the token, then with another user's token: each must be refused and change nothing).",
)
def _session_csrf_not_checked(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"csrf-check"}))


@_fault(
    "session-interactions-listed-to-everyone",
    SECURITY,
    ["GWS-AUTH-009"],
    "An agent's or supervisor's GET /interactions lists every active interaction of the contact center, with its "
    "content under fields=*, although GET /interactions/{id} refuses that caller another agent's interaction. Caught "
    "by the list-isolation check on an e-mail agent2 handles, listed as agent1 and as the supervisor.",
)
def _session_interactions_listed_to_everyone(_: float | None) -> Hooks:
    return Hooks(waives=frozenset({"interaction-list-owner"}))


# == delivery under load (gws-conformance load, issue 13) =================================================
# One message in a thousand goes wrong: never seen by the suite's scenarios (a few hundred messages a run),
# always by a load run (thousands). They count only messages someone is listening for, so that the period
# is the same whichever users happen to have sessions. VALUE: the period (one message in VALUE).

LOAD_PERIOD = 1000.0


def _every_nth(period: float | None) -> Callable[[EventBus, str], bool]:
    """True for every ``period``-th message published to a user with a CometD session."""
    every = max(1, int(LOAD_PERIOD if period is None else period))
    count = 0

    def due(bus: EventBus, user_id: str) -> bool:
        nonlocal count
        if not bus.subscriber_count(user_id):
            return False
        count += 1
        return count % every == 0

    return due


@_fault(
    "load-drop-one-in-thousand",
    NOTIFICATIONS,
    ["GWS-LOAD-001"],
    "Every 1000th notification published to a user with a CometD session is never delivered (VALUE: one in "
    "VALUE). Caught by gws-conformance load: the message its agent is owed is counted lost.",
    default=LOAD_PERIOD,
)
def _load_drop_one_in_thousand(period: float | None) -> Hooks:
    due = _every_nth(period)

    def hook(bus: EventBus, deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
        if not due(bus, user_id):
            deliver(user_id, topic, data)

    return Hooks(publish=hook)


@_fault(
    "load-duplicate-one-in-thousand",
    NOTIFICATIONS,
    ["GWS-LOAD-001"],
    "Every 1000th notification published to a user with a CometD session is delivered twice (VALUE: one in "
    "VALUE). Caught by gws-conformance load: the second copy reports a state its stream already reported, "
    "with nothing owed, and is counted duplicated.",
    default=LOAD_PERIOD,
)
def _load_duplicate_one_in_thousand(period: float | None) -> Hooks:
    due = _every_nth(period)

    def hook(bus: EventBus, deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
        deliver(user_id, topic, data)
        if due(bus, user_id):
            deliver(user_id, topic, copy.deepcopy(data))

    return Hooks(publish=hook)


@_fault(
    "load-reorder-one-in-thousand",
    NOTIFICATIONS,
    ["GWS-LOAD-002"],
    "Every 1000th notification published to a user with a CometD session is held back and delivered just after "
    "the next message to that user on the same topic (VALUE: one in VALUE). Caught by gws-conformance load: the "
    "later state arrives while the earlier one is still owed and is counted reordered.",
    default=LOAD_PERIOD,
)
def _load_reorder_one_in_thousand(period: float | None) -> Hooks:
    due = _every_nth(period)
    held: dict[tuple[str, str], Body] = {}

    def hook(bus: EventBus, deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
        now_due = due(bus, user_id)
        earlier = held.pop((user_id, topic), None)
        if earlier is None and now_due:
            held[(user_id, topic)] = data
            return
        deliver(user_id, topic, data)
        if earlier is not None:
            deliver(user_id, topic, earlier)

    return Hooks(publish=hook)


# == passive conformance: what a session's traffic proves (issue 12) ===================================


def _revive_released(deliver: Deliver, user_id: str, topic: str, data: Body) -> None:
    deliver(user_id, topic, data)
    call = data.get("call")
    if topic == CALLS and isinstance(call, dict) and call.get("state") == "Released":
        revived = copy.deepcopy(data)
        revived["call"]["state"] = "Established"
        deliver(user_id, topic, revived)


@_fault(
    "call-revived-after-release",
    MACHINES,
    ["GWS-GEN-031"],
    "Every Released call message on /v2/me/calls is followed by one showing the same call Established again (REST "
    "reads stay right). Caught by the sequence check that judges a whole call's messages (test_sequence.py).",
)
def _call_revived_after_release(_: float | None) -> Hooks:
    return Hooks(publish=_topic_hook(_revive_released))


async def _redeliver(messages: list[Any], answer: Callable[[], Awaitable[list[Message]]]) -> list[Message]:
    replies = await answer()
    events = [r for r in replies if not str(r.get("channel", "")).startswith("/meta/") and "data" in r]
    return [*replies, *copy.deepcopy(events)]


@_fault(
    "message-redelivered",
    PROTOCOL,
    ["GWS-GEN-032"],
    "Every topic message a long-polling reply carries comes twice in that reply, with the same id. Caught by the "
    "sequence check that judges a whole call's messages (test_sequence.py).",
)
def _message_redelivered(_: float | None) -> Hooks:
    return Hooks(bayeux_batch=_redeliver)
