"""conformance.contract's YAML reading: libyaml when PyYAML has it, the same documents as the pure-Python loader."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import contract

ROOT = Path(__file__).resolve().parents[1]
YAML_DOCUMENTS = sorted(
    [*contract.SPEC_ROOT.rglob("*.yaml"), *contract.FIXTURES_ROOT.rglob("*.yaml")], key=lambda p: str(p)
)
OTHER_YAML_READER = re.compile(r"\byaml\.(?:safe_load|load|full_load|unsafe_load)\b|\bSafeLoader\b")


@pytest.mark.parametrize("path", YAML_DOCUMENTS, ids=lambda p: p.name)
def test_load_yaml_reads_what_the_pure_python_loader_reads(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    # repr, not ==: True == 1 and 1 == 1.0, but a schema's "const: 1" must not become a float.
    assert repr(contract.load_yaml(text)) == repr(yaml.load(text, Loader=yaml.SafeLoader))


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML is built without libyaml here")
def test_load_yaml_uses_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    loaders: list[Any] = []
    real_load = yaml.load

    def spy(stream: Any, Loader: Any) -> Any:
        loaders.append(Loader)
        return real_load(stream, Loader=Loader)

    monkeypatch.setattr(yaml, "load", spy)
    assert contract.load_yaml("a: [1, b]") == {"a": [1, "b"]}
    assert loaders == [yaml.CSafeLoader]


def test_load_yaml_is_safe() -> None:
    with pytest.raises(yaml.YAMLError):
        contract.load_yaml("!!python/object/apply:os.system ['true']")


def test_every_yaml_reader_goes_through_load_yaml() -> None:
    sources = [*(ROOT / "conformance").rglob("*.py"), *(ROOT / "reference_impl").rglob("*.py")]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        if path.name != "contract.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OTHER_YAML_READER.search(line)
    ]
    assert offenders == []


def test_validation_reads_no_document_once_the_registry_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    # A reply schema of openapi.yaml whose $refs lead into schemas/*.json: every one is already crawled.
    schema_ref = "openapi.yaml#/paths/~1users/get/responses/200/content/application~1json/schema"
    user = {"id": "u1", "userName": "a", "firstName": "f", "lastName": "l", "roles": ["ROLE_AGENT"]}
    contract.validate("schemas/error.json", {"statusCode": 1, "statusMessage": "x"})  # builds the registry

    def unread(relative_path: str) -> Any:
        raise AssertionError(f"spec/{relative_path} read again during a validation")

    monkeypatch.setattr(contract, "load_document", unread)
    contract.validator.cache_clear()
    assert contract.validate(schema_ref, {"statusCode": 0, "users": [user]}) == []
    assert contract.validate(schema_ref, {"statusCode": 0, "users": [{**user, "roles": "x"}]}) != []


def test_a_repeated_validation_is_remembered_and_what_json_schema_tells_apart_is_not_confused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    validated: list[Any] = []
    problems = contract._problems

    def counted(schema_ref: str, instance: Any) -> list[str]:
        validated.append(instance)
        return problems(schema_ref, instance)

    monkeypatch.setattr(contract, "_problems", counted)
    contract._remembered.cache_clear()
    error = {"statusCode": 1, "statusMessage": "x"}
    assert contract.validate("schemas/error.json", error) == []
    assert contract.validate("schemas/error.json", dict(error)) == []
    assert len(validated) == 1  # the second, equal instance was not validated again
    # True is 1 to Python but not an integer to JSON Schema; a tuple is no array; a changed instance is new.
    assert contract.validate("schemas/error.json", {**error, "statusCode": True}) != []
    roles = "schemas/user.json#/properties/roles"
    assert contract.validate(roles, ["ROLE_AGENT"]) == []
    assert contract.validate(roles, ("ROLE_AGENT",)) != []
    error["statusMessage"] = 3
    assert contract.validate("schemas/error.json", error) != []
    assert len(validated) == 5
    big = {"statusCode": 1, "statusMessage": "x" * 10_000}  # too large to remember: validated each time
    assert contract.validate("schemas/error.json", big) == contract.validate("schemas/error.json", big) == []
    assert len(validated) == 7
