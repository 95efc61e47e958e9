"""Loads the contract in spec/ once: documents, JSON Schema validators, requirements, topics.

The schemas carry no ``$id`` and refer to each other by relative file references, so a schema
resolves the same way from a source checkout and from an installed package, and nothing is ever
fetched from a network. Every reader of spec/ (suite, reference server, tests) goes through here.
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "FIXTURES_ROOT",
    "SPEC_ROOT",
    "ContractError",
    "load_document",
    "load_yaml",
    "requirements",
    "topics",
    "validate",
    "validator",
]


class ContractError(Exception):
    """spec/ is missing a document or holds one that cannot be read."""


SPEC_ROOT = Path(str(files("gws_spec")))
FIXTURES_ROOT = Path(str(files("gws_fixtures")))

# libyaml parses the contract ~10x faster than PyYAML's pure-Python loader (0.05 s instead of 0.45 s
# for spec/ and the fixture, in every process that loads them); PyYAML may be built without it.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` with libyaml when present: every YAML document of the project is read with this."""
    return yaml.load(text, Loader=_YAML_LOADER)


@functools.cache
def load_document(relative_path: str) -> Any:
    """Parse a JSON or YAML document under spec/ (e.g. ``"schemas/call.json"``)."""
    path = SPEC_ROOT / relative_path
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractError(f"spec/{relative_path}: {exc.strerror}") from exc
    try:
        return json.loads(text) if path.suffix == ".json" else load_yaml(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ContractError(f"spec/{relative_path}: not valid {path.suffix[1:].upper()}: {exc}") from exc


def _resource(relative_path: str) -> Resource[Any]:
    return Resource.from_contents(load_document(relative_path), default_specification=DRAFT202012)


def _retrieve_file(uri: str) -> Resource[Any]:
    prefix = SPEC_ROOT.as_uri() + "/"
    if not uri.startswith(prefix):
        raise NoSuchResource(uri)
    return _resource(uri[len(prefix) :])


@functools.cache
def _registry() -> Registry[Any]:
    """Every schema document of spec/ (openapi.yaml and the JSON files), crawled once.

    A registry that only retrieves on demand keeps nothing: each lookup gets a new registry, and every
    validation retrieved and crawled again the files its $refs name (a third of a reply's validation).
    """
    documents = ["openapi.yaml", *sorted(p.relative_to(SPEC_ROOT).as_posix() for p in SPEC_ROOT.rglob("*.json"))]
    registry: Registry[Any] = Registry(retrieve=_retrieve_file)  # type: ignore[call-arg]
    return registry.with_resources(
        ((SPEC_ROOT / document).as_uri(), _resource(document)) for document in documents
    ).crawl()


@functools.cache
def validator(schema_ref: str) -> Draft202012Validator:
    """A validator for a schema named relative to spec/.

    ``schema_ref`` is a file (``"notifications/EmailInvited.json"``) or a file with a JSON pointer
    (``"openapi.yaml#/components/schemas/User"``).
    """
    file_part, _, pointer = schema_ref.partition("#")
    if not (SPEC_ROOT / file_part).is_file():
        raise ContractError(f"spec/{file_part}: no such schema")
    uri = (SPEC_ROOT / file_part).as_uri() + (f"#{pointer}" if pointer else "")
    return Draft202012Validator({"$ref": uri}, registry=_registry())


# Fuzzing validates the same replies again and again (one error reply, an unchanged list, the same member):
# in a default run 68% of the ~17,000 validations repeat an earlier one, and validating is most of a check's
# CPU. So the lines of a validation are remembered, keyed by the instance's repr: it tells apart what JSON
# Schema tells apart (list and tuple, 1 and 1.0 and True, key order, which messages follow), and a mutated
# instance gets a new key. Large instances are not remembered (the memory stays under ~40 MB).
REMEMBERED_VALIDATIONS = 4096
_MAX_REMEMBERED_REPR = 8192


def validate(schema_ref: str, instance: Any) -> list[str]:
    """Every way ``instance`` breaks the schema, as ``"<json path>: <message>"`` lines (empty if valid)."""
    key = repr(instance)
    if len(key) > _MAX_REMEMBERED_REPR:
        return _problems(schema_ref, instance)
    return list(_remembered(schema_ref, _Instance(key, instance)))


class _Instance:
    """An instance as a cache key: equal when the reprs are."""

    __slots__ = ("key", "value")

    def __init__(self, key: str, value: Any) -> None:
        self.key = key
        self.value = value

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Instance) and other.key == self.key


@functools.lru_cache(maxsize=REMEMBERED_VALIDATIONS)
def _remembered(schema_ref: str, instance: _Instance) -> tuple[str, ...]:
    return tuple(_problems(schema_ref, instance.value))


def _problems(schema_ref: str, instance: Any) -> list[str]:
    errors = sorted(validator(schema_ref).iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{e.json_path}: {e.message}" for e in errors]


def requirements() -> list[dict[str, Any]]:
    """The requirement catalogue (spec/requirements.yaml), in catalogue order."""
    document = load_document("requirements.yaml")
    return list(document["requirements"])


def topics() -> dict[str, Any]:
    """The topic map (spec/topics.yaml): topic -> kinds -> schema."""
    return dict(load_document("topics.yaml"))
