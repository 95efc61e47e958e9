"""Running the fuzz suite (conformance/suite/fuzz) in-process with pytester against a live target."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from live_reference import suite_env

import conformance.suite.fuzz

FUZZ_TESTS = Path(conformance.suite.fuzz.__file__).parent / "test_fuzz.py"


def fuzz_env(monkeypatch: pytest.MonkeyPatch, base_url: str, **variables: str) -> None:
    """Only the GWS_* variables a run should see: the target, the fixture's accounts, ``variables``."""
    for name in list(os.environ):
        if name.startswith("GWS_"):
            monkeypatch.delenv(name)
    for name, value in suite_env(base_url, **variables).items():
        monkeypatch.setenv(name, value)


def node(kind: str, label: str, role: str) -> str:
    """The node id of one fuzz test, e.g. node("positive", "GET /users", "admin")."""
    return f"{FUZZ_TESTS}::test_{kind}_data[{label} as {role}]"


def run_fuzz(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    """Run fuzz tests (``args``: node ids, or options spelt --name=value; default: every fuzz test)."""
    results = pytester.path / "results.json"
    targets = [a for a in args if not a.startswith("-")] or ["--pyargs", "conformance.suite.fuzz"]
    options = [a for a in args if a.startswith("-")]
    # In a subprocess: schemathesis and hypothesis import parts of themselves lazily, and pytester's
    # in-process runs drop what a run imported, so a second run in one process would mix classes of
    # two imports of the same module.
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "gws", f"--gws-results={results}", *options, *targets, timeout=600
    )
    return result, json.loads(results.read_text()) if results.exists() else {}


def by_name(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Test records by their parameter id ("GET /users as admin" under test_positive_data)."""
    return {t["nodeid"].rpartition("::")[2]: t for t in results.get("tests", [])}
