"""Which notification kind a CometD message is, and whether it keeps its contract.

The kinds, their match rules and their schemas live in spec/topics.yaml and spec/notifications/;
this module only applies them, so the suite and the reference server judge messages the same way.
A topic event is judged by its ``data`` object; a /meta reply (``validates: message``) as a whole.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from typing import Any

from conformance import contract

__all__ = ["classify", "known_value_warnings", "validate_notification"]

_ABSENT = object()


def _kinds(topic: str) -> Mapping[str, Mapping[str, Any]] | None:
    entry = contract.topics().get(topic)
    return None if entry is None else entry["kinds"]


def _satisfies(rule: Mapping[str, Any], data: Mapping[str, Any], previous_state: str | None) -> bool:
    return (
        all(data.get(field, _ABSENT) == value for field, value in rule.get("match", {}).items())
        and all(field in data for field in rule.get("present", ()))
        and ("previous_state" not in rule or previous_state in rule["previous_state"])
    )


def classify(topic: str, data: Any, *, previous_state: str | None = None) -> str | None:
    """The kind of ``data`` received on ``topic`` (first rule it satisfies), or None.

    ``previous_state`` is the state the same interaction had in the previous message on the topic;
    only ChatAccepted / ChatNotification, which have the same shape, need it.
    """
    kinds = _kinds(topic)
    if kinds is None or not isinstance(data, Mapping):
        return None
    return next((kind for kind, rule in kinds.items() if _satisfies(rule, data, previous_state)), None)


def validate_notification(topic: str, data: Any, *, previous_state: str | None = None) -> list[str]:
    """Every way ``data`` breaks the contract of ``topic``, one line each (empty when it keeps it).

    Unknown capability values are not errors (E19): see known_value_warnings.
    """
    kinds = _kinds(topic)
    if kinds is None:
        return [f"{topic}: not a topic of spec/topics.yaml"]
    kind = classify(topic, data, previous_state=previous_state)
    if kind is None:
        # Say what the message has against what the rules look at: that is what tells an unknown
        # state or notificationType from a missing one.
        fields = sorted(
            {field for rule in kinds.values() for field in (*rule.get("match", {}), *rule.get("present", ()))}
        )
        seen = {field: data.get(field, "<absent>") for field in fields} if isinstance(data, Mapping) else data
        return [f"{topic}: message is of no notification kind of this topic (has {seen!r}; kinds: {', '.join(kinds)})"]
    return [f"{kind}: {error}" for error in contract.validate(kinds[kind]["schema"], data)]


def known_value_warnings(topic: str, data: Any, *, previous_state: str | None = None) -> list[str]:
    """Values outside an open-ended list the reference gives (``x-gws-known-values``), e.g. a
    capability the reference does not name: a warning, never a failure (E19, E20)."""
    kind = classify(topic, data, previous_state=previous_state)
    if kind is None:
        return []
    kinds = _kinds(topic)
    assert kinds is not None  # classify found a kind, so the topic exists
    schema_file = kinds[kind]["schema"]
    return list(dict.fromkeys(_walk(schema_file, contract.load_document(schema_file), data, "$")))


def _walk(schema_file: str, node: Any, instance: Any, path: str) -> Iterator[str]:
    # Follows only what the notification schemas use to reach a member: $ref, allOf, properties, items.
    if not isinstance(node, Mapping):
        return
    if isinstance(ref := node.get("$ref"), str):
        yield from _walk(*_resolve(schema_file, ref), instance, path)
    for branch in node.get("allOf", ()):
        yield from _walk(schema_file, branch, instance, path)
    if (known := node.get("x-gws-known-values")) is not None:
        aliases = node.get("x-gws-aliases", {})
        for value in instance if isinstance(instance, list) else [instance]:
            if isinstance(value, str) and value not in known:
                alias = f" (the reference's spelling of {aliases[value]!r})" if value in aliases else ""
                yield f"{path}: {value!r} is not a value the reference lists{alias}"
    if isinstance(instance, Mapping):
        for member, subschema in node.get("properties", {}).items():
            if member in instance:
                yield from _walk(schema_file, subschema, instance[member], f"{path}.{member}")
    if isinstance(instance, list) and isinstance(items := node.get("items"), Mapping):
        for index, item in enumerate(instance):
            yield from _walk(schema_file, items, item, f"{path}[{index}]")


def _resolve(schema_file: str, ref: str) -> tuple[str, Any]:
    """The file (relative to spec/) and the schema node a relative ``$ref`` in ``schema_file`` names."""
    target_file, _, pointer = ref.partition("#")
    if target_file:
        target_file = posixpath.normpath(posixpath.join(posixpath.dirname(schema_file), target_file))
    else:
        target_file = schema_file
    node = contract.load_document(target_file)
    for token in filter(None, pointer.split("/")):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return target_file, node
