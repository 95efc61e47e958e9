"""Serve an ASGI app (by default the reference server) on 127.0.0.1 in a thread (reference_impl.embedded).

Used by every test that needs a target on a real socket — the plugin and fuzz tests, the robustness
tests' faulty servers; ``run_suite`` runs the suite against one in a child process.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reference_impl.app import create_app
from reference_impl.embedded import serve_in_thread

# fixtures/contact-center.yaml: the accounts the suite acts as.
PASSWORDS = {
    "admin": "admin-secret",
    "supervisor": "supervisor-secret",
    "agent1": "agent1-secret",
    "agent2": "agent2-secret",
    "agent3": "agent3-secret",
}


@dataclass(frozen=True)
class LiveTarget:
    origin: str  # http://127.0.0.1:<port>
    app: Any

    @property
    def base_url(self) -> str:
        return f"{self.origin}/api/v2"

    def env(self, **overrides: str) -> dict[str, str]:
        return suite_env(self.base_url, **overrides)


def suite_env(base_url: str, **overrides: str) -> dict[str, str]:
    """GWS_* variables that point the suite at ``base_url`` with the fixture's accounts."""
    variables = {"GWS_BASE_URL": base_url}
    for role, password in PASSWORDS.items():
        variables[f"GWS_{role.upper()}_PASSWORD"] = password
    variables.update(overrides)
    return variables


@contextlib.contextmanager
def serve(app: Any = None, *, parser: str = "httptools", **create_app_options: Any) -> Iterator[LiveTarget]:
    """Serve ``app`` (default: a fresh ``create_app(**create_app_options)``) until the block ends; ``parser``: as
    serve_in_thread's."""
    app = app if app is not None else create_app(**create_app_options)
    with serve_in_thread(app, parser=parser) as server:
        yield LiveTarget(server.origin, app)


ROOT = Path(__file__).resolve().parents[1]
# A run that hangs is a failure, not a stuck CI job.
RUN_TIMEOUT_S = 600


def run_suite(target: LiveTarget, tmp_path: Path, *selection: str, workers: int = 0, **settings: str) -> dict[str, Any]:
    """The suite's ``selection`` run by pytest in a child process against ``target`` with the GWS_* ``settings``;
    its results file, plus ``exit_code`` and the tail of its ``output``."""
    results = tmp_path / f"results-{len(list(tmp_path.iterdir()))}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")}
    env.update(target.env(**settings))
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--gws-results",
        str(results),
        *(["-n", str(workers)] if workers else []),
        *selection,
    ]
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    if not results.exists():
        pytest.fail(
            f"the run wrote no results (exit {finished.returncode}):\n{finished.stdout[-4000:]}\n"
            f"{finished.stderr[-4000:]}"
        )
    data: dict[str, Any] = json.loads(results.read_text(encoding="utf-8"))
    data["exit_code"] = finished.returncode
    data["output"] = finished.stdout[-6000:]
    return data
