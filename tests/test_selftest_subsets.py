"""The kill matrices CI runs whole: what breaks real clients (every requirement with public client code
behind it, ``clients`` in spec/requirements.yaml, has a fault mode) and hostile input and isolation (issue
14). The suite kills each fault on its rule (a SHOULD-only fault by a warning on its rule, as the run must
still pass).

One ``gws-conformance selftest --subset NAME`` per subset in a child process, as the command runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance import contract
from conformance.selftest import MATRIX_JSON, SUBSETS
from reference_impl.faults import REGISTRY

RUN_TIMEOUT_S = 1200


def test_every_requirement_real_clients_rely_on_has_a_fault() -> None:
    relied_on = {r["id"] for r in contract.requirements() if r.get("clients")}
    broken = {rid for fault in REGISTRY.values() for rid in fault.requirements}
    assert relied_on, "no requirement names the client code that relies on it"
    assert not relied_on - broken, f"no fault mode breaks {sorted(relied_on - broken)}"


@pytest.fixture(scope="module", params=["clients", "hostile"])
def subset_matrix(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, int, str, dict[str, Any]]:
    subset: str = request.param
    reports = tmp_path_factory.mktemp(f"selftest-{subset}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")}
    result = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "selftest", "--subset", subset, "--report-dir", str(reports)],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    matrix_file = Path(reports) / MATRIX_JSON
    assert matrix_file.is_file(), result.stdout[-3000:] + result.stderr[-3000:]
    return subset, result.returncode, result.stdout, json.loads(matrix_file.read_text(encoding="utf-8"))


def test_every_fault_of_the_subset_is_killed_on_its_rule(
    subset_matrix: tuple[str, int, str, dict[str, Any]],
) -> None:
    subset, code, out, matrix = subset_matrix
    rows = {row["fault"]: row for row in matrix["faults"]}
    assert rows and list(rows) == list(SUBSETS[subset]())
    for name, row in rows.items():
        assert row["killed"] and row["on_rule"], f"{name}: {row['verdict']}, caught by {row['caught_by']}"
    assert code == 0, out[-3000:]
