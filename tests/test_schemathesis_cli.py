"""schemathesis' own CLI against the reference: spec/openapi.yaml and the reference agree (issue 14, E99).

The suite's fuzzer (conformance/suite/fuzz) drives schemathesis through the suite's client and its own
judgement; this runs the tool as anyone would, every phase and every check, so that whatever it can
generate from the contract is either accepted by the reference or a false positive listed in
tests/schemathesis.toml with its reason in E99. Each role gets a fresh server: the fuzzing changes state.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from live_reference import PASSWORDS, LiveTarget, serve

from conformance.suite.fuzz.catalogue import operations

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "openapi.yaml"
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"  # the false positives of E99, one setting each
SEED = 14
MAX_EXAMPLES = 5  # the coverage phase's boundary cases come on top, whatever the number (~2,500 cases a role)
TIMEOUT_S = 300.0  # a hung run is a failure with its output, not a hung test


def run_cli(
    target: LiveTarget, user: str, workdir: Path, *extra: str, spec: Path = SPEC
) -> subprocess.CompletedProcess[str]:
    """The CLI as a subprocess, with a fixed seed, no example database and nothing written outside ``workdir``."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        str(spec),
        "--url",
        target.base_url,
        "--auth",
        f"{user}:{PASSWORDS[user]}",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",  # two workers race in Hypothesis' lambda-source cache ("AST constructor recursion depth mismatch")
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        *extra,
    ]
    try:
        return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"schemathesis did not finish within {TIMEOUT_S} s:\n{_text(exc.stdout)[-6000:]}")


def _text(output: str | bytes | None) -> str:
    return output.decode("utf-8", "replace") if isinstance(output, bytes) else (output or "")


def _failures(output: str) -> str:
    """The report's failures section and summary: what a failing assertion shows."""
    start = output.find("FAILURES")
    return output[start:][:12000] if start >= 0 else output[-6000:]


@pytest.mark.parametrize("user", ["agent1", "admin"])
def test_every_phase_and_check_agrees_with_the_contract(user: str, tmp_path: Path) -> None:
    with serve() as target:
        result = run_cli(target, user, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"schemathesis ({user}) exit {result.returncode}:\n{_failures(output)}"
    tested = re.search(r"Tested: (\d+)", output)
    assert tested and int(tested.group(1)) == len(operations()), output[-4000:]  # every operation was reached
    cases = re.search(r"(\d+) generated, (\d+) passed", output)
    assert cases and int(cases.group(1)) == int(cases.group(2)) > 0, output[-4000:]


# The run can fail: a reference with a fault the tool sees. Only the operations that show it, a few seconds each.
FAULTS = [
    ("server-error-for-bad-input", "/me", "Server error"),  # not_a_server_error: statusCode 4 / HTTP 500 for bad input
    ("status-code-as-string", "/me", "Response violates schema"),  # response_schema_conformance: "0" is no integer
]


@pytest.mark.parametrize(("fault", "path", "finding"), FAULTS, ids=[f[0] for f in FAULTS])
def test_the_run_fails_against_a_faulty_reference(fault: str, path: str, finding: str, tmp_path: Path) -> None:
    with serve(faults=[fault]) as target:
        # No stateful phase: a single operation has no links to follow.
        result = run_cli(target, "agent1", tmp_path, "--include-path", path, "--phases", "examples,coverage,fuzzing")
    output = result.stdout + result.stderr
    assert result.returncode == 1, f"schemathesis passed a reference with {fault}:\n{output[-4000:]}"
    assert finding in output, output[-4000:]


def test_the_run_fails_where_the_contract_takes_more_than_the_reference(tmp_path: Path) -> None:
    """The subresources schema before E99 (any string): the tool finds GET /me?subresources=<junk> refused."""
    spec_copy = shutil.copytree(SPEC.parent, tmp_path / "spec")
    openapi = spec_copy / "openapi.yaml"
    text, replaced = re.subn(r"\n +pattern: '\^\(\\\*\|\(skills[^\n]*", "", openapi.read_text(encoding="utf-8"))
    assert replaced == 2, "the subresources patterns of E99 are not where this test expects them"
    openapi.write_text(text, encoding="utf-8")
    with serve() as target:
        result = run_cli(
            target, "agent1", tmp_path, "--include-path", "/me", "--phases", "examples,coverage,fuzzing", spec=openapi
        )
    output = result.stdout + result.stderr
    assert result.returncode == 1, f"schemathesis found nothing with the loose schema:\n{output[-4000:]}"
    assert "Schema-valid request rejected" in output and "query parameter 'subresources'" in output, output[-4000:]
