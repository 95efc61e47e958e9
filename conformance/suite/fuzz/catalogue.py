"""The operations of spec/openapi.yaml as the fuzzer needs them, and what a sent request breaks.

Nothing here restates the contract: roles, scope, feature, parameters, the operationName variants
(each with its own ``x-gws-roles``) and the reply schema per HTTP status are read from
openapi.yaml, and a request is judged with ``conformance.contract`` against the same schemas the
reply checks use. ``request_breaches`` is how a negative case is known to be negative *as sent*:
a generated value can become valid on the wire (a number sent as a query string), and only a
request that still breaks the contract may be required to be refused.
"""

from __future__ import annotations

import functools
import json
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from conformance import contract

__all__ = ["Operation", "body_problems", "field_list", "operations", "request_breaches"]

METHODS = ("get", "put", "post", "delete", "patch")
OPENAPI = "openapi.yaml"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer(*tokens: str) -> str:
    return "".join("/" + _escape(t) for t in tokens)


def _node(file: str, pointer: str) -> Any:
    node = contract.load_document(file)
    for token in filter(None, pointer.split("/")):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def _deref(node: Any, ref: str) -> tuple[Any, str]:
    """Follow ``$ref`` chains from ``node`` (found at ``ref``, "file#pointer") to the node that holds content."""
    while isinstance(node, dict) and "$ref" in node and set(node) <= {"$ref", "description", "summary"}:
        target_file, _, pointer = node["$ref"].partition("#")
        here = ref.partition("#")[0]
        file = posixpath.normpath(posixpath.join(posixpath.dirname(here), target_file)) if target_file else here
        node, ref = _node(file, pointer), f"{file}#{pointer}"
    return node, ref


@dataclass(frozen=True)
class Operation:
    """One operation of the contract: who may call it and what it takes and answers."""

    method: str
    path: str
    operation_id: str
    roles: tuple[str, ...]  # x-gws-roles
    own_scope: bool  # x-gws-scope: own
    feature: str | None  # x-gws-feature
    path_params: tuple[str, ...]
    query: Mapping[str, str]  # name -> schema ref
    body_media_types: tuple[str, ...]
    body_ref: str | None  # the JSON request body's schema ref
    body_required: bool
    variant_roles: Mapping[str, frozenset[str]]  # operationName -> roles allowed to send it
    responses: Mapping[str, str | None]  # HTTP status -> reply schema ref (None: no JSON content)
    collection: str | None  # a list GET: the array its objects come in ("users"), else None
    links: tuple[str, ...] = field(default=())  # operationIds this operation's replies link to
    items: str | None = None  # a list GET: the schema of the objects its collection holds ("schemas/call.json#")

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def negatable(self) -> bool:
        """Whether a request can break the contract beyond its path (a body or a query parameter)."""
        return bool(self.body_media_types or self.query)

    def reply_schema(self, status: int) -> str | None:
        """The schema the contract gives the reply with HTTP ``status`` (None: undocumented or not JSON)."""
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in self.responses:
                return self.responses[key]
        return None

    @property
    def members(self) -> tuple[str, ...]:
        """The member names the collection's objects have in their schema (empty: no list, or none named)."""
        if self.items is None:
            return ()
        file, _, pointer = self.items.partition("#")
        return tuple(_node(file, pointer).get("properties", {}))

    def field_schemas(self, fields: Iterable[str]) -> dict[str, str | None]:
        """For a field list (``fields=id,state``): each field's schema in the collection's objects, None where their
        schema names no such member (E32: a reply to a list is judged on the members asked for, each by its own
        property schema)."""
        members = self.members
        file, _, pointer = (self.items or "").partition("#")
        return {name: f"{file}#{pointer}{_pointer('properties', name)}" if name in members else None for name in fields}

    def roles_for(self, operation_name: Any) -> frozenset[str]:
        """The roles that may send ``operation_name`` here (the operation's roles when it names no variant)."""
        if isinstance(operation_name, str) and operation_name in self.variant_roles:
            return self.variant_roles[operation_name]
        return frozenset(self.roles)


@functools.cache
def operations() -> dict[str, Operation]:
    """Every operation of spec/openapi.yaml by label ("GET /users/{id}"), in document order."""
    document = contract.load_document(OPENAPI)
    found: dict[str, Operation] = {}
    for path, raw_item in document.get("paths", {}).items():
        item, item_ref = _deref(raw_item, f"{OPENAPI}#{_pointer('paths', path)}")
        for method in METHODS:
            if method in item:
                operation = _operation(path, method, item, item_ref)
                found[operation.label] = operation
    return found


def _operation(path: str, method: str, item: Mapping[str, Any], item_ref: str) -> Operation:
    spec = item[method]
    op_ref = f"{item_ref}{_pointer(method)}"
    path_params: list[str] = []
    query: dict[str, str] = {}
    shared = [(p, f"{item_ref}{_pointer('parameters', str(i))}") for i, p in enumerate(item.get("parameters", []))]
    own = [(p, f"{op_ref}{_pointer('parameters', str(i))}") for i, p in enumerate(spec.get("parameters", []))]
    for raw, where in [*shared, *own]:
        parameter, parameter_ref = _deref(raw, where)
        if parameter.get("in") == "path":
            path_params.append(parameter["name"])
        elif parameter.get("in") == "query" and "schema" in parameter:
            query[parameter["name"]] = f"{parameter_ref}{_pointer('schema')}"
    media_types: tuple[str, ...] = ()
    body_ref = None
    body_required = False
    variant_roles: dict[str, frozenset[str]] = {}
    roles = tuple(spec.get("x-gws-roles", ()))
    if "requestBody" in spec:
        body, body_base = _deref(spec["requestBody"], f"{op_ref}{_pointer('requestBody')}")
        content = body.get("content", {})
        media_types = tuple(content)
        body_required = bool(body.get("required", False))
        if "application/json" in content:
            body_ref = f"{body_base}{_pointer('content', 'application/json', 'schema')}"
            variant_roles = _variant_roles(content["application/json"].get("schema", {}), body_ref, frozenset(roles))
    responses: dict[str, str | None] = {}
    for status, raw in spec.get("responses", {}).items():
        reply, reply_ref = _deref(raw, f"{op_ref}{_pointer('responses', str(status))}")
        content = reply.get("content", {}) if isinstance(reply, dict) else {}
        json_schema = "application/json" in content and "schema" in content["application/json"]
        responses[str(status)] = (
            f"{reply_ref}{_pointer('content', 'application/json', 'schema')}" if json_schema else None
        )
    links = tuple(
        link["operationId"]
        for status, raw in spec.get("responses", {}).items()
        for link in _deref(raw, f"{op_ref}{_pointer('responses', str(status))}")[0].get("links", {}).values()
        if isinstance(link, dict) and "operationId" in link
    )
    return Operation(
        method=method.upper(),
        path=path,
        operation_id=str(spec.get("operationId", "")),
        roles=roles,
        own_scope=spec.get("x-gws-scope") == "own",
        feature=spec.get("x-gws-feature"),
        path_params=tuple(path_params),
        query=query,
        body_media_types=media_types,
        body_ref=body_ref,
        body_required=body_required,
        variant_roles=variant_roles,
        responses=responses,
        collection=_collection(method, responses.get("200")),
        links=links,
        items=_items(responses.get("200"), _collection(method, responses.get("200"))),
    )


def _variant_roles(schema: Any, ref: str, default: frozenset[str]) -> dict[str, frozenset[str]]:
    schema, ref = _deref(schema, ref)
    roles: dict[str, frozenset[str]] = {}
    for keyword in ("oneOf", "anyOf"):
        for index, option in enumerate(schema.get(keyword, []) if isinstance(schema, dict) else []):
            option, _ = _deref(option, f"{ref}{_pointer(keyword, str(index))}")
            if not isinstance(option, dict):
                continue
            name = option.get("properties", {}).get("operationName", {})
            names = [name["const"]] if "const" in name else list(name.get("enum", []))
            allowed = frozenset(option.get("x-gws-roles", default))
            for each in [*names, *option.get("x-gws-aliases", [])]:
                roles.setdefault(each, allowed)
    return roles


def _collection(method: str, schema_ref: str | None) -> str | None:
    """A list GET's reply is "uris" or an array named after the resource: that array's name."""
    if method != "get" or schema_ref is None:
        return None
    file, _, pointer = schema_ref.partition("#")
    schema, ref = _deref(_node(file, pointer), schema_ref)
    options = schema.get("oneOf", []) if isinstance(schema, dict) else []
    uri_list = any(isinstance(o, dict) and str(o.get("$ref", "")).endswith("uri-list.json") for o in options)
    if not uri_list:
        return None
    for index, option in enumerate(options):
        option, _ = _deref(option, f"{ref}{_pointer('oneOf', str(index))}")
        properties = option.get("properties", {}) if isinstance(option, dict) else {}
        arrays = [
            name
            for name, sub in properties.items()
            if name != "uris" and isinstance(sub, dict) and sub.get("type") == "array"
        ]
        if arrays:
            return str(arrays[0])
    return None


def _items(schema_ref: str | None, collection: str | None) -> str | None:
    """The schema of the objects a list reply's ``collection`` array holds (None: not a list reply)."""
    if schema_ref is None or collection is None:
        return None
    file, _, pointer = schema_ref.partition("#")
    schema, ref = _deref(_node(file, pointer), schema_ref)
    for index, option in enumerate(schema.get("oneOf", []) if isinstance(schema, dict) else []):
        option, option_ref = _deref(option, f"{ref}{_pointer('oneOf', str(index))}")
        array = option.get("properties", {}).get(collection) if isinstance(option, dict) else None
        if isinstance(array, dict) and isinstance(array.get("items"), dict):
            _, items_ref = _deref(array["items"], f"{option_ref}{_pointer('properties', collection, 'items')}")
            return items_ref
    return None


def field_list(url: str) -> list[str]:
    """The fields a request asks for by name (``fields=id,state``; empty for ``*`` or none): its reply holds partial
    objects (E32)."""
    values = [value for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True) if name == "fields"]
    if not values or any(value.strip() == "*" for value in values):
        return []
    return [field.strip() for value in values for field in value.split(",") if field.strip()]


# -- judging a request as sent ------------------------------------------------------------------------


def request_breaches(operation: Operation, url: str, content_type: str | None, body: bytes | None) -> list[str]:
    """How the request as sent breaks the contract of ``operation`` (empty: it keeps it, as far as judged).

    Judged: the JSON body (syntax, then schema), a missing required body, and query values against
    their schemas. Not judged: path values (an unknown id is a 6, not a 1 or 2) and repeated
    query parameters (the contract does not say which one counts).
    """
    problems: list[str] = []
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if name in operation.query and _query_breach(operation.query[name], value):
            problems.append(f"query parameter {name}={value!r} breaks its schema")
    if not operation.body_media_types:
        return problems
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if not body:
        if operation.body_required:
            problems.append("the required request body is missing")
        return problems
    if operation.body_ref is None or "json" not in media_type:
        if "multipart/form-data" in operation.body_media_types and media_type == "multipart/form-data":
            if b'name="attachment"' not in body:
                problems.append('the multipart body has no "attachment" part')
        elif media_type not in operation.body_media_types:
            problems.append(f"content type {media_type or 'none'!r} is not one the operation takes")
        return problems
    try:
        document = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return [*problems, "the body is not well-formed JSON"]
    problems += [f"body {line}" for line in body_problems(operation.body_ref, document)]
    return problems


def body_problems(body_ref: str, document: Any) -> list[str]:
    """How a JSON body breaks the schema at ``body_ref``, read as OpenAPI's discriminator says: a body that
    names an operationName the mapping knows is judged against that variant alone, so one wrong attribute
    is one problem, not a "valid under none of" line per variant (or a line from each of them)."""
    file, _, pointer = body_ref.partition("#")
    schema, ref = _deref(_node(file, pointer), body_ref)
    discriminator = schema.get("discriminator") if isinstance(schema, dict) else None
    if not isinstance(discriminator, dict) or not isinstance(document, dict):
        return contract.validate(body_ref, document)
    member = str(discriminator.get("propertyName", "operationName"))
    mapping = discriminator.get("mapping", {})
    name = document.get(member)
    if member not in document:
        return [f"$: {member} is missing"]
    if isinstance(name, str) and name in mapping:
        target_file, _, target_pointer = str(mapping[name]).partition("#")
        here = ref.partition("#")[0]
        variant_file = posixpath.normpath(posixpath.join(posixpath.dirname(here), target_file)) if target_file else here
        return contract.validate(f"{variant_file}#{target_pointer}", document)
    open_variants = len(schema.get("oneOf", ())) > len(mapping)
    if open_variants:
        return contract.validate(body_ref, document)  # a name of the server's own (a custom agent state)
    return [f"$.{member}: {name!r} is not an operation this resource takes (known: {', '.join(mapping)})"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _query_breach(schema_ref: str, raw: str) -> bool:
    file, _, pointer = schema_ref.partition("#")
    schema, _ = _deref(_node(file, pointer), schema_ref)
    kind = schema.get("type") if isinstance(schema, dict) else None
    value: Any = raw
    if kind == "integer":
        try:
            value = int(raw)
        except ValueError:
            return True
    elif kind == "boolean":
        if raw not in ("true", "false"):
            return True
        value = raw == "true"
    return bool(contract.validate(schema_ref, value))
