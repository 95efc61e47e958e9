"""The requirement catalogue (spec/requirements.yaml) against itself, the seed, the contract and the errata.

The catalogue is the hinge between the reference and everything that grades a server: every operation of
spec/openapi.yaml and every notification kind of spec/topics.yaml must be named by a requirement, every
name a requirement uses must exist there, and every errata entry must be cited by the requirements whose
reading it decided (and list exactly those, so spec/ERRATA.md cannot drift from the catalogue).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import contract

# The seed lies beside the repository, not in the installed package (README of ../shared).
SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seed" / "web-services-api-reference-8.5.txt"

# Contract brief, "Requirement IDs": the areas and their order.
BRIEF_AREAS = (
    "GEN",
    "AUTH",
    "PERM",
    "FEAT",
    "SET",
    "AGST",
    "USER",
    "SKILL",
    "DEV",
    "CONT",
    "CALL",
    "PWD",
    "PRES",
    "IXN",
    "EMAIL",
    "CHAT",
    "ATT",
    "WB",
    "NOTIF",
    "COMETD",
    "REC",
    "ROUT",
    "HOST",
    "LOAD",
)
LEVELS = ("MUST", "SHOULD", "MAY")
KEYS = {"id", "level", "section", "text", "operations", "notifications", "errata", "feature", "clients"}
# A ``clients`` entry: where a real client relies on the requirement and what it does (the report's
# "What breaks real clients" section shows each).
CLIENT_KEYS = {"repo", "path", "where", "habit"}
GITHUB_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,38}/[A-Za-z0-9._-]{1,100}")
REQUIRED_KEYS = {"id", "level", "section", "text", "operations", "notifications"}
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
OPERATION_REF = re.compile(r"(GET|PUT|POST|DELETE|PATCH) (/[^\s#]*)(?:#([A-Za-z]+))?")
ERRATA_HEADING = re.compile(r"^## (E\d{2,}) (.*)$", re.MULTILINE)


# ---- loading -----------------------------------------------------------------------------------------------


@cache
def catalogue() -> dict[str, Any]:
    text = (files("gws_spec") / "requirements.yaml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def requirements() -> list[dict[str, Any]]:
    return list(catalogue()["requirements"])


def document_or_skip(name: str) -> Any:
    # openapi.yaml and topics.yaml are written by other people; until they exist the cross-checks wait.
    if not (contract.SPEC_ROOT / name).is_file():
        pytest.skip(f"spec/{name} does not exist yet")
    return contract.load_document(name)


@cache
def errata_text() -> str:
    return (files("gws_spec") / "ERRATA.md").read_text(encoding="utf-8")


def errata_entries() -> dict[str, str]:
    """E-id -> the entry's text (from its heading to the next heading)."""
    text = errata_text()
    headings = list(ERRATA_HEADING.finditer(text))
    return {
        m.group(1): text[m.start() : headings[i + 1].start() if i + 1 < len(headings) else len(text)]
        for i, m in enumerate(headings)
    }


# ---- the contract's operations --------------------------------------------------------------------------------


def resolve(openapi: dict[str, Any], node: Any) -> Any:
    """Follow local "#/..." references (request variants live in components/schemas)."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = openapi
        for token in node["$ref"][2:].split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def operation_names(openapi: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    """The operationName consts of an operation's JSON request body, whichever combinator holds them."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    names: set[str] = set()

    def walk(node: Any) -> None:
        node = resolve(openapi, node)
        if not isinstance(node, dict):
            return
        const = node.get("properties", {}).get("operationName", {}).get("const")
        if isinstance(const, str):
            names.add(const)
        for combinator in ("oneOf", "anyOf", "allOf"):
            for branch in node.get(combinator, ()):
                walk(branch)

    walk(body)
    return names


def contract_operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in openapi["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def topic_kinds(topics: dict[str, Any]) -> set[str]:
    return {kind for topic in topics.values() for kind in topic.get("kinds", {})}


# ---- shape of the catalogue --------------------------------------------------------------------------------


def test_catalogue_loads_from_the_installed_package() -> None:
    document = catalogue()
    assert set(document) == {"version", "areas", "requirements"}
    assert isinstance(document["version"], int)
    assert requirements(), "the catalogue holds no requirement"
    # The suite reads the same catalogue through its contract loader.
    assert contract.requirements() == requirements()


def test_areas_are_the_briefs() -> None:
    areas = catalogue()["areas"]
    assert tuple(areas) == BRIEF_AREAS
    assert all(isinstance(title, str) and title for title in areas.values())


def test_every_area_has_requirements() -> None:
    used = Counter(r["id"].split("-")[1] for r in requirements())
    assert set(used) == set(BRIEF_AREAS)


def test_entries_have_the_documented_keys() -> None:
    for r in requirements():
        assert REQUIRED_KEYS <= set(r) <= KEYS, f"{r.get('id')}: keys {sorted(set(r) ^ REQUIRED_KEYS)}"
        assert isinstance(r["operations"], list) and isinstance(r["notifications"], list), r["id"]
        assert isinstance(r.get("errata", []), list), r["id"]


def client_problems(clients: Any) -> list[str]:
    """Every way a ``clients`` value breaks its shape: a non-empty list of {repo, path, where, habit} strings."""
    if not isinstance(clients, list) or not clients:
        return [f"not a non-empty list: {clients!r}"]
    problems = []
    for entry in clients:
        if not isinstance(entry, dict) or set(entry) != CLIENT_KEYS:
            shown = sorted(entry) if isinstance(entry, dict) else repr(entry)
            problems.append(f"members {shown}, not {sorted(CLIENT_KEYS)}")
            continue
        blank = [k for k in sorted(CLIENT_KEYS) if not isinstance(entry[k], str) or not entry[k].strip()]
        if blank:
            problems.append(f"{', '.join(blank)} not a non-empty string")
        elif not GITHUB_REPO.fullmatch(entry["repo"]):
            problems.append(f"repo {entry['repo']!r} is not owner/name")
        elif "\n" in entry["habit"]:
            problems.append("habit is more than one line")
    return problems


def test_client_entries_name_a_repository_file_place_and_habit() -> None:
    for r in requirements():
        if "clients" in r:
            assert not client_problems(r["clients"]), (r["id"], client_problems(r["clients"]))


@pytest.mark.parametrize(
    ("clients", "problem"),
    [
        ([], "not a non-empty list"),
        ({"repo": "a/b"}, "not a non-empty list"),
        ([{"repo": "a/b", "path": "x.cs", "where": "Foo"}], "members ['path', 'repo', 'where']"),
        ([{"repo": "a/b", "path": "x.cs", "where": "Foo", "habit": "h", "url": "u"}], "members"),
        ([{"repo": "a/b", "path": "x.cs", "where": 12, "habit": "h"}], "where not a non-empty string"),
        ([{"repo": "a/b", "path": " ", "where": "Foo", "habit": "h"}], "path not a non-empty string"),
        ([{"repo": "https://github.com/a/b", "path": "x", "where": "Foo", "habit": "h"}], "is not owner/name"),
        ([{"repo": "a/b", "path": "x", "where": "Foo", "habit": "two\nlines"}], "more than one line"),
    ],
)
def test_a_malformed_client_entry_is_refused(clients: Any, problem: str) -> None:
    assert any(problem in p for p in client_problems(clients)), client_problems(clients)


def test_a_well_formed_client_entry_passes() -> None:
    good = {"repo": "genesys/gws-client", "path": "src/Calls.cs", "where": "function OnMessage", "habit": "iterates"}
    assert client_problems([good, {**good, "where": "line 123"}]) == []


def test_ids_are_well_formed_unique_and_numbered_per_area() -> None:
    ids = [r["id"] for r in requirements()]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    numbers: dict[str, list[int]] = {}
    for requirement_id in ids:
        match = re.fullmatch(r"GWS-([A-Z]+)-(\d{3})", requirement_id)
        assert match, f"malformed id {requirement_id!r}"
        assert match.group(1) in catalogue()["areas"], f"{requirement_id}: unknown area"
        numbers.setdefault(match.group(1), []).append(int(match.group(2)))
    # Numbered 001.. in catalogue order, without gaps: a gap is a requirement deleted and its id free again.
    for area, found in numbers.items():
        assert found == list(range(1, len(found) + 1)), f"{area}: ids out of sequence {found}"


def test_levels_are_valid() -> None:
    assert {r["level"] for r in requirements()} <= set(LEVELS)


def test_text_is_one_sentence_about_the_server() -> None:
    for r in requirements():
        text = r["text"]
        assert isinstance(text, str) and text.startswith("The server "), f"{r['id']}: not 'The server does Y'"
        assert text.endswith(".") and "\n" not in text, f"{r['id']}: not one sentence"
        assert not re.search(r"\.\s+[A-Z]", text), f"{r['id']}: more than one sentence"


def test_feature_names_a_feature_of_the_reference() -> None:
    known = (
        set(contract.load_document("schemas/feature.json")["properties"]["id"]["x-gws-known-values"])
        if (contract.SPEC_ROOT / "schemas" / "feature.json").is_file()
        else {"api-multimedia", "api-voice"}
    )
    for r in requirements():
        if "feature" in r:
            assert r["feature"] in known, f"{r['id']}: unknown feature {r['feature']!r}"


# ---- sections come from the seed ------------------------------------------------------------------------------


def seed_headings(text: str) -> set[str]:
    """Every line outside code blocks, stripped, plus the table of contents' titles without page numbers."""
    headings: set[str] = set()
    in_code = False
    for line in text.split("\n"):
        if line.strip().startswith("```"):
            in_code = not in_code
        elif not in_code and line.strip():
            headings.add(line.strip())
            headings.add(re.sub(r"\t\d+$", "", line).strip())
    return headings


def test_every_section_is_a_seed_heading() -> None:
    if not SEED.is_file():
        pytest.skip(f"the seed is not beside the repository ({SEED}); the installed package does not ship it")
    headings = seed_headings(SEED.read_text(encoding="utf-8"))
    unknown = sorted({r["section"] for r in requirements()} - headings)
    assert not unknown, f"sections that are no heading of the seed: {unknown}"


def test_seed_headings_ignore_code_blocks() -> None:
    text = 'Calls API\t82\n\nCalls API\n```\n"call": {}\n```\nFailure\n'
    assert seed_headings(text) == {"Calls API\t82", "Calls API", "Failure"}


# ---- names resolve in the contract -----------------------------------------------------------------------------


def test_operation_references_are_well_formed() -> None:
    for r in requirements():
        for reference in r["operations"]:
            assert OPERATION_REF.fullmatch(reference), f"{r['id']}: malformed operation {reference!r}"


def test_operation_references_resolve_in_openapi() -> None:
    openapi = document_or_skip("openapi.yaml")
    broken = []
    for r in requirements():
        for reference in r["operations"]:
            match = OPERATION_REF.fullmatch(reference)
            assert match, reference
            method, path, name = match.groups()
            operation = openapi["paths"].get(path, {}).get(method.lower())
            if operation is None:
                broken.append(f"{r['id']}: {method} {path} is not in openapi.yaml")
            elif name is not None and name not in operation_names(openapi, operation):
                broken.append(f"{r['id']}: {method} {path} has no operationName {name!r}")
    assert not broken, "\n".join(broken)


def test_every_contract_operation_is_named_by_a_requirement() -> None:
    openapi = document_or_skip("openapi.yaml")
    named = {ref.partition("#")[0] for r in requirements() for ref in r["operations"]}
    named_with_name = {ref for r in requirements() for ref in r["operations"] if "#" in ref}
    missing = []
    for method, path, operation in contract_operations(openapi):
        if f"{method} {path}" not in named:
            missing.append(f"{method} {path}")
        missing += [
            f"{method} {path}#{n}"
            for n in sorted(operation_names(openapi, operation))
            if f"{method} {path}#{n}" not in named_with_name
        ]
    assert not missing, "operations no requirement names:\n" + "\n".join(missing)


def test_notification_kinds_resolve_in_topics() -> None:
    kinds = topic_kinds(document_or_skip("topics.yaml"))
    unknown = sorted({k for r in requirements() for k in r["notifications"]} - kinds)
    assert not unknown, f"notification kinds not in topics.yaml: {unknown}"


def test_every_topic_kind_is_named_by_a_requirement() -> None:
    kinds = topic_kinds(document_or_skip("topics.yaml"))
    missing = sorted(kinds - {k for r in requirements() for k in r["notifications"]})
    assert not missing, f"notification kinds no requirement names: {missing}"


def test_operation_names_are_found_behind_references_and_combinators() -> None:
    openapi = {
        "components": {
            "schemas": {
                "Hold": {"properties": {"operationName": {"const": "Hold"}}},
                "Both": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Hold"},
                        {"anyOf": [{"properties": {"operationName": {"const": "Retrieve"}}}]},
                    ]
                },
            }
        },
    }
    operation = {
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/Both"},
                            {"properties": {"operationName": {"type": "string"}}},
                        ]
                    }
                }
            }
        }
    }
    assert operation_names(openapi, operation) == {"Hold", "Retrieve"}
    assert operation_names(openapi, {}) == set()


# ---- errata ---------------------------------------------------------------------------------------------------


def test_errata_ids_are_unique_and_sequential() -> None:
    ids = [m.group(1) for m in ERRATA_HEADING.finditer(errata_text())]
    assert ids == [f"E{n:02d}" for n in range(1, len(ids) + 1)]


def test_errata_entries_carry_quotes_resolution_reason_level() -> None:
    for errata_id, entry in errata_entries().items():
        for part in ("**Resolution:**", "**Reason:**", "**Level:**", "**Requirements:**"):
            assert part in entry, f"{errata_id}: no {part}"
        assert re.search(r"lines? \d+", entry), f"{errata_id}: quotes no seed line"


def test_cited_errata_exist() -> None:
    known = set(errata_entries())
    for r in requirements():
        unknown = set(r.get("errata", [])) - known
        assert not unknown, f"{r['id']}: errata not in ERRATA.md: {sorted(unknown)}"


def test_every_erratum_is_cited_or_editorial() -> None:
    cited = {e for r in requirements() for e in r.get("errata", [])}
    for errata_id, entry in errata_entries().items():
        editorial = "(editorial)" in entry.split("\n", 1)[0]
        assert (errata_id in cited) != editorial, f"{errata_id}: " + (
            "marked (editorial) but cited" if editorial else "cited by no requirement"
        )


def test_errata_list_exactly_the_requirements_that_cite_them() -> None:
    citing: dict[str, list[str]] = {}
    for r in requirements():
        for errata_id in r.get("errata", []):
            citing.setdefault(errata_id, []).append(r["id"])
    for errata_id, entry in errata_entries().items():
        line = re.search(r"\*\*Requirements:\*\* (.*)", entry)
        assert line, errata_id
        listed = re.findall(r"GWS-[A-Z]+-\d{3}", line.group(1))
        assert listed == citing.get(errata_id, []), f"{errata_id}: Requirements line differs from the catalogue"


def test_errata_section_on_grading_exists() -> None:
    text = errata_text()
    assert "## How the suite grades" in text
    for outcome in ("*failed*", "*warning*", "*not applicable*"):
        assert outcome in text
