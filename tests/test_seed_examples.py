"""The seed's examples (fixtures/seed-examples/) against the contract in spec/.

Every case file is data in the format of case-file.schema.json; every case names the schema it must
satisfy. A valid case must pass its schema; a case the errata declare defective (valid: false) must
fail it -- an expected failure that stays a test, so a schema loosened by mistake shows up here.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from conformance.contract import FIXTURES_ROOT, SPEC_ROOT, load_document, validate, validator

CASES_DIR = FIXTURES_ROOT / "seed-examples"
CASE_FILE_SCHEMA = CASES_DIR / "case-file.schema.json"
ERRATA = SPEC_ROOT / "ERRATA.md"
# The seed sits beside the project (../shared) in a checkout and in CI; an installed suite has none.
SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seed" / "web-services-api-reference-8.5.txt"


def _case_files() -> list[Path]:
    return sorted(p for p in CASES_DIR.glob("*.json") if p != CASE_FILE_SCHEMA)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _cases() -> list[Any]:
    return [
        pytest.param(path.name, case, id=f"{path.stem}::{case.get('description')}")
        for path in _case_files()
        for case in _load(path).get("cases", [])
    ]


CASES = _cases()


@cache
def _errata_ids() -> frozenset[str]:
    # An entry is declared by a heading or a table row that starts with its ID ("## E01 ...", "| E01 |").
    text = ERRATA.read_text(encoding="utf-8")
    return frozenset(re.findall(r"^(?:#+\s*|\|\s*|[-*]\s*\**)(E\d{2,})\b", text, flags=re.MULTILINE))


def test_case_file_schema_is_a_valid_schema() -> None:
    Draft202012Validator.check_schema(_load(CASE_FILE_SCHEMA))


def test_there_are_case_files() -> None:
    assert _case_files(), f"no case files in {CASES_DIR}"


@pytest.mark.parametrize("path", _case_files(), ids=lambda p: p.stem)
def test_case_file_matches_case_file_schema(path: Path) -> None:
    document = _load(path)
    case_file_validator = Draft202012Validator(_load(CASE_FILE_SCHEMA))
    errors = [f"{e.json_path}: {e.message}" for e in case_file_validator.iter_errors(document)]
    assert not errors, "\n".join(errors)
    descriptions = [case["description"] for case in document["cases"]]
    assert len(descriptions) == len(set(descriptions)), "case descriptions must be unique within a file"
    sections = {case["seed"]["section"] for case in document["cases"] if "section" in case["seed"]}
    assert sections <= {document["section"]}, f"cases from other sections: {sections - {document['section']}}"


@pytest.mark.parametrize(("file", "case"), CASES)
def test_schema_reference_resolves(file: str, case: dict[str, Any]) -> None:
    file_part, _, pointer = case["schema"].partition("#")
    validator(case["schema"])  # raises ContractError when the file is missing
    target: Any = load_document(file_part)
    for token in filter(None, pointer.split("/")):
        token = token.replace("~1", "/").replace("~0", "~")
        assert isinstance(target, dict) and token in target, f"{case['schema']}: no {token!r} in the document"
        target = target[token]
    assert isinstance(target, (dict, bool)), f"{case['schema']} does not point at a schema"


@pytest.mark.parametrize(("file", "case"), CASES)
def test_example_against_its_schema(file: str, case: dict[str, Any]) -> None:
    errors = validate(case["schema"], case["data"])
    if case["valid"]:
        assert not errors, f"valid example fails {case['schema']}:\n" + "\n".join(errors)
    else:
        assert errors, (
            f"example declared defective by {', '.join(case['errata'])} passes {case['schema']}; "
            "the schema must reject it"
        )


@pytest.mark.parametrize(("file", "case"), [p for p in CASES if "errata" in p.values[1]])
def test_errata_ids_exist(file: str, case: dict[str, Any]) -> None:
    if not ERRATA.is_file():
        pytest.skip("spec/ERRATA.md does not exist yet: errata IDs cannot be cross-checked")
    unknown = set(case["errata"]) - _errata_ids()
    assert not unknown, f"errata IDs not declared in spec/ERRATA.md: {sorted(unknown)}"


@pytest.mark.parametrize(("file", "case"), [p for p in CASES if "line" in p.values[1]["seed"]])
def test_seed_line_exists(file: str, case: dict[str, Any]) -> None:
    if not SEED.is_file():
        pytest.skip(f"the seed is not beside the project ({SEED})")
    lines = SEED.read_text(encoding="utf-8").split("\n")
    line = case["seed"]["line"]
    assert 1 <= line <= len(lines) and lines[line - 1].strip(), f"seed line {line} is blank or out of range"
