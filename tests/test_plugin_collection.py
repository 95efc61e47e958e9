"""``pytest --pyargs conformance.suite`` runs the whole suite: the scenario modules are named after
their workflow (agent_state.py), not test_*.py, and the plugin collects them anyway — each once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import conformance.suite

SUITE = Path(conformance.suite.__file__).resolve().parent


def collected(*args: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")}
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *args],
        # Collection never talks to the target: a port nothing listens on proves it.
        env={**env, "GWS_BASE_URL": "http://127.0.0.1:9/api/v2"},
        cwd=SUITE.parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    return [line for line in finished.stdout.splitlines() if "::" in line]


def test_the_package_collects_every_module_that_holds_tests_once() -> None:
    nodeids = collected("--pyargs", "conformance.suite")
    modules = Counter(nodeid.split("::")[0].rsplit("/", 1)[-1] for nodeid in nodeids)
    scenario_modules = {
        path.name for path in (SUITE / "scenarios").glob("*.py") if "\ndef test_" in path.read_text(encoding="utf-8")
    }
    assert scenario_modules, "the suite has scenario modules"
    assert scenario_modules <= set(modules), f"not collected: {sorted(scenario_modules - set(modules))}"
    assert {"test_fuzz.py", "test_cometd.py"} <= set(modules)
    duplicated = [nodeid for nodeid, count in Counter(nodeids).items() if count > 1]
    assert not duplicated, duplicated


def test_a_module_named_on_the_command_line_is_collected_once() -> None:
    alone = collected(str(SUITE / "scenarios" / "voice.py"))
    twice = collected(str(SUITE / "scenarios" / "voice.py"), str(SUITE / "scenarios"))
    assert alone and all("voice.py::" in nodeid for nodeid in alone)
    assert sorted(nodeid for nodeid in twice if "voice.py::" in nodeid) == sorted(alone)
