"""The pytest child of ``gws-conformance run``: the suite's plugins and nothing else installed beside it.

Autoloaded entry points would make pytest rewrite the assertions of every module of schemathesis and
Hypothesis (they ship pytest plugins) — seconds of start-up in every run — and would let a stranger's
plugin change the run. The command is captured (no run), then collected for real with a probe plugin.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conformance import cli

PROBE = """
import json, os, sys

def pytest_collection_finish(session):
    rewritten = [
        name for name in ("schemathesis", "hypothesis")
        if type(sys.modules[name].__loader__).__name__ == "AssertionRewritingHook"
    ]
    plugins = sorted(getattr(p, "__name__", "") for p in session.config.pluginmanager.get_plugins())
    with open(os.environ["GWS_TEST_PROBE_OUT"], "w") as out:
        json.dump({"rewritten": rewritten, "plugins": plugins, "collected": len(session.items)}, out)
"""


def _child_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *options: str) -> tuple[list[str], dict[str, str]]:
    seen: dict[str, Any] = {}

    class NoRun:
        def __init__(self, args: list[str], env: dict[str, str], **_: Any) -> None:
            seen.update(args=args, env=env)

        def wait(self) -> int:
            return 5

    arguments = cli.build_parser().parse_args(["run", "--report-dir", str(tmp_path), *options])
    with monkeypatch.context() as patched:
        patched.setattr(subprocess, "Popen", NoRun)
        cli._run_pytest(arguments, dict(os.environ), 1, [], [], tmp_path)
    return seen["args"], seen["env"]


def _plugins(args: list[str]) -> list[str]:
    return [args[i + 1] for i, word in enumerate(args) if word == "-p"]


def test_the_child_loads_the_suites_plugins_by_name_and_no_entry_point(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    args, env = _child_command(monkeypatch, tmp_path, "-n", "0")
    assert env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == "1"
    plugins = _plugins(args)
    assert {"conformance.plugin", "allure_pytest.plugin"} <= set(plugins)
    assert "xdist.plugin" not in plugins


def test_workers_load_xdist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    args, _ = _child_command(monkeypatch, tmp_path, "-n", "2")
    assert "xdist.plugin" in _plugins(args)
    assert args[args.index("-n") + 1] == "2"


def test_the_child_collects_the_suite_without_rewriting_the_libraries(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    args, env = _child_command(monkeypatch, tmp_path, "-n", "0")
    probe_dir = tmp_path / "probe"
    probe_dir.mkdir()
    (probe_dir / "gws_test_probe.py").write_text(PROBE, encoding="utf-8")
    out = tmp_path / "probe.json"
    path = os.pathsep.join(filter(None, [str(probe_dir), env.get("PYTHONPATH")]))
    env = {**env, "PYTHONPATH": path, "GWS_TEST_PROBE_OUT": str(out)}
    result = subprocess.run(
        [*args, "-p", "gws_test_probe", "--collect-only"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    seen = json.loads(out.read_text(encoding="utf-8"))
    assert seen["collected"] > 0
    assert seen["rewritten"] == []
    assert not any(name.startswith(("schemathesis", "_hypothesis_pytestplugin", "anyio")) for name in seen["plugins"])
    assert "conformance.plugin" in seen["plugins"]
