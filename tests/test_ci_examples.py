"""The CI examples in docs/ci are valid YAML, and every gws-conformance command in them parses."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli import build_parser
from conformance.reporting.baseline import Baseline

DOCS = Path(__file__).resolve().parents[1] / "docs" / "ci"
# gws-conformance as a command word: at the start of a line or after a shell operator (not inside a quoted
# pip requirement), and where that command ends.
_COMMAND_START = re.compile(r"(?:^|&&|\|\||;|\|)\s*(gws-conformance\s.*)$")
_SHELL_OPERATOR = re.compile(r"\s(?:\|\||&&|\||>>|>|;|&)(?:\s|$)")


def _load(name: str) -> Any:
    return yaml.safe_load((DOCS / name).read_text(encoding="utf-8"))


def _github_scripts(workflow: dict[str, Any]) -> Iterator[str]:
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if "run" in step:
                yield step["run"]


def _gitlab_scripts(pipeline: dict[str, Any]) -> Iterator[str]:
    for job in pipeline.values():
        if isinstance(job, dict) and "script" in job:
            for key in ("before_script", "script", "after_script"):
                yield from job.get(key, [])


def _commands(scripts: Iterator[str]) -> list[list[str]]:
    commands = []
    for script in scripts:
        for line in script.replace("\\\n", " ").splitlines():
            found = _COMMAND_START.search(line.strip())
            if found is None:
                continue
            command = _SHELL_OPERATOR.split(found.group(1), maxsplit=1)[0]
            commands.append(shlex.split(command))
    return commands


CASES = {
    "github-actions.yml": _github_scripts,
    "gitlab-ci.yml": _gitlab_scripts,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_example_is_valid_yaml_with_jobs(name: str) -> None:
    document = _load(name)
    assert isinstance(document, dict)
    if name == "github-actions.yml":
        assert document["jobs"] and all("runs-on" in job and job["steps"] for job in document["jobs"].values())
    else:
        assert any(isinstance(job, dict) and job.get("script") for job in document.values())


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_gws_conformance_command_in_it_parses(name: str) -> None:
    commands = _commands(CASES[name](_load(name)))
    assert {c[1] for c in commands} >= {"run", "diff"}, commands
    parser = build_parser()
    for command in commands:
        assert command[0] == "gws-conformance"
        try:
            parser.parse_args(command[1:])
        except SystemExit:  # pragma: no cover - the message is on stderr
            pytest.fail(f"{name}: not a valid command: {shlex.join(command)}")


def test_the_example_baseline_loads() -> None:
    baseline = Baseline.load(DOCS / "conformance-baseline.yaml")
    assert baseline.entries and all(entry.reason for entry in baseline.entries)


def test_a_command_the_parser_refuses_is_caught(capsys: pytest.CaptureFixture[str]) -> None:
    # The check above would notice an option that does not exist.
    with pytest.raises(SystemExit):
        build_parser().parse_args(_commands(iter(["gws-conformance run --fast-please | tee log"]))[0][1:])
    assert "--fast-please" in capsys.readouterr().err
