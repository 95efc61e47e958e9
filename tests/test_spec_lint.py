"""spec/ judged by tools nobody here wrote: the AsyncAPI project's parser and Redocly's OpenAPI linter (npm).

spec/asyncapi.yaml spells out spec/topics.yaml as AsyncAPI 3.0 over the same JSON Schemas (by $ref, never
copied): one channel per topic, one message per kind, the Bayeux envelope around each kind's data. The parser
(@asyncapi/parser, tests/js/asyncapi_validate.mjs) must find no error and no warning in it. spec/openapi.yaml
must lint clean under Redocly's recommended rules (tests/js/redocly.yaml), the warnings kept on purpose listed
with their reasons in tests/js/.redocly.lint-ignore.yaml. Needs node and tests/js/node_modules (CI: `npm ci`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conformance import contract

ROOT = Path(__file__).resolve().parents[1]
JS_DIR = ROOT / "tests" / "js"
ASYNCAPI = ROOT / "spec" / "asyncapi.yaml"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not on PATH"),
    pytest.mark.skipif(
        not (JS_DIR / "node_modules" / "@asyncapi" / "parser").is_dir(),
        reason="tests/js/node_modules missing: run `(cd tests/js && npm ci)`",
    ),
]


def parse(document: Path) -> tuple[int, list[dict[str, Any]]]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "asyncapi_validate.mjs", str(document)], cwd=JS_DIR, capture_output=True, text=True, timeout=120
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return done.returncode, lines


def test_the_asyncapi_document_is_valid_to_the_asyncapi_parser() -> None:
    code, lines = parse(ASYNCAPI)
    problems = [line for line in lines if line.get("severity") in ("error", "warning")]
    assert code == 0 and not problems, problems
    (summary,) = [line["summary"] for line in lines if "summary" in line]
    topics = [topic for topic in contract.topics() if topic != "/**"]
    assert summary["channels"] == topics
    assert summary["messages"] == sum(len(contract.topics()[t]["kinds"]) for t in topics) + 5  # + the meta requests


def test_the_parser_refuses_a_payload_that_refers_to_no_schema(tmp_path: Path) -> None:
    broken = tmp_path / "spec"
    shutil.copytree(ROOT / "spec", broken)
    text = (broken / "asyncapi.yaml").read_text()
    (broken / "asyncapi.yaml").write_text(
        text.replace("./notifications/CallDtmfSent.json", "./notifications/Nope.json")
    )
    code, lines = parse(broken / "asyncapi.yaml")
    assert code == 1 and any(line.get("severity") == "error" for line in lines), lines


def test_the_asyncapi_document_refers_to_the_schemas_of_topics_yaml_and_copies_none() -> None:
    document = contract.load_document("asyncapi.yaml")
    messages = document["components"]["messages"]
    for topic, entry in contract.topics().items():
        if topic == "/**":
            continue
        (channel,) = [c for c in document["channels"].values() if c["address"] == topic]
        for kind, rule in entry["kinds"].items():
            assert kind in channel["messages"], (topic, kind)
            payload = messages[kind]["payload"]
            if entry["validates"] == "message":
                assert payload == {"$ref": f"./{rule['schema']}"}, kind
            else:
                envelope, data = payload["allOf"]
                assert envelope == {"$ref": "./notifications/bayeux-message.json"}
                assert data["properties"] == {"channel": {"const": topic}, "data": {"$ref": f"./{rule['schema']}"}}


def test_openapi_lints_clean_under_redocly_recommended_rules() -> None:
    redocly = JS_DIR / "node_modules" / ".bin" / "redocly"
    if not redocly.is_file():
        pytest.skip("tests/js/node_modules has no @redocly/cli: run `(cd tests/js && npm ci)`")
    done = subprocess.run(
        [str(redocly), "lint", "--config", "redocly.yaml", "--format", "json"],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["totals"]["errors"] == 0, report["problems"]
    assert report["totals"]["warnings"] == 0, [(p["ruleId"], p["message"]) for p in report["problems"]]
    # The ignore file holds exactly what tests/js/.redocly.lint-ignore.yaml explains, nothing that went away.
    assert report["totals"]["ignored"] == 14
