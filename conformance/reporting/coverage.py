"""Which operations and notification kinds the contract declares, and which one a recorded call was.

Operations are named as everywhere in the project: ``"METHOD /path"`` or ``"METHOD /path#operationName"``
with the path exactly as in spec/openapi.yaml. A POST whose body is one of several operations (a
``discriminator`` on operationName) declares one operation per name; where its ``oneOf`` has a variant
the discriminator does not name (a custom agent state), the bare ``"METHOD /path"`` is declared too.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from conformance import contract

__all__ = ["declared_notification_kinds", "declared_operations", "operation_key"]

_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class _PathOperation:
    method: str
    path: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]  # operationName values the discriminator maps
    open_variant: bool  # a oneOf variant the discriminator does not name (custom agent state)


def _body_schema(operation: Mapping[str, Any]) -> Mapping[str, Any]:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    return schema if isinstance(schema, Mapping) else {}


@functools.cache
def _path_operations() -> tuple[_PathOperation, ...]:
    document = contract.load_document("openapi.yaml")
    found = []
    for path, item in document.get("paths", {}).items():
        # A template segment matches one path segment; literal segments win over templates (ordered below).
        pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "/?$")
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, Mapping):
                continue
            schema = _body_schema(operation)
            mapping = schema.get("discriminator", {}).get("mapping", {}) if isinstance(schema, Mapping) else {}
            names = tuple(mapping)
            open_variant = bool(names) and len(schema.get("oneOf", ())) > len(names)
            found.append(_PathOperation(method.upper(), path, pattern, names, open_variant))
    # Most literal first: /me/devices before /me/{x}-like templates, longer paths before shorter.
    found.sort(key=lambda op: (op.path.count("{"), -len(op.path)))
    return tuple(found)


@functools.cache
def declared_operations() -> tuple[str, ...]:
    """Every operation spec/openapi.yaml declares, in the contract's order of paths."""
    document = contract.load_document("openapi.yaml")
    by_key = {(op.method, op.path): op for op in _path_operations()}
    declared: list[str] = []
    for path in document.get("paths", {}):
        for method in _METHODS:
            op = by_key.get((method.upper(), path))
            if op is None:
                continue
            if op.names:
                declared += [f"{op.method} {op.path}#{name}" for name in op.names]
                if op.open_variant:
                    declared.append(f"{op.method} {op.path}")
            else:
                declared.append(f"{op.method} {op.path}")
    return tuple(declared)


@functools.cache
def declared_notification_kinds() -> tuple[str, ...]:
    """The notification kinds of the user topics (spec/topics.yaml), Bayeux meta replies left out."""
    kinds: list[str] = []
    for topic, entry in contract.topics().items():
        if topic.startswith("/v2/") and isinstance(entry, Mapping):
            kinds += [kind for kind in entry.get("kinds", {}) if kind not in kinds]
    return tuple(kinds)


def operation_key(method: str, url: str, body: str | None, base_path: str) -> str | None:
    """The declared operation a request was (``"POST /me#Ready"``), or None when it matches none.

    ``base_path`` is the path of the base URL ("/api/v2"); ``body`` the request body as recorded.
    """
    path = unquote(urlsplit(url).path)
    base = base_path.rstrip("/")
    if base and not path.startswith(base + "/"):
        return None
    relative = path[len(base) :]
    method = method.upper()
    for op in _path_operations():
        if op.method != method or not op.pattern.match(relative):
            continue
        if op.names:
            name = _operation_name(body)
            if name in op.names:
                return f"{op.method} {op.path}#{name}"
        return f"{op.method} {op.path}"
    return None


def _operation_name(body: str | None) -> str | None:
    if not body:
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested too deep to read (hostile input)
        return None
    name = document.get("operationName") if isinstance(document, dict) else None
    return name if isinstance(name, str) else None
