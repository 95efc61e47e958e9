"""The fuzz suite against the reference server: the quick profile passes, and a seed repeats a run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fuzz_support import by_name, fuzz_env, node, run_fuzz
from live_reference import LiveTarget, serve

from conformance.suite.fuzz.catalogue import operations

pytest_plugins = ["pytester"]


@pytest.fixture
def reference(monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveTarget]:
    with serve() as live:
        fuzz_env(monkeypatch, live.base_url)
        yield live


def test_quick_profile_passes_against_the_reference(pytester: pytest.Pytester, reference: LiveTarget) -> None:
    result, results = run_fuzz(pytester, "--gws-profile=quick", "--gws-seed=20261128")
    failing = {t["nodeid"]: t["message"] for t in results["tests"] if t["outcome"] not in ("passed", "not_applicable")}
    assert failing == {}
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["gws: seed 20261128 (configured*fuzz profile quick (10 examples per operation)"])

    # One test per (operation, role) and kind: nothing collapses into one test.
    tests = by_name(results)
    expected_positive = sum(len(op.roles) for op in operations().values())
    assert sum(1 for name in tests if name.startswith("test_positive_data[")) == expected_positive
    assert "test_negative_data[POST /users as admin]" in tests
    assert "test_stateful_links[links as admin]" in tests
    assert tests["test_positive_data[DELETE /features/{id} as cloudAdmin]"]["outcome"] == "not_applicable"


def test_the_same_seed_sends_the_same_cases(pytester: pytest.Pytester, reference: LiveTarget) -> None:
    chosen = [node("negative", "POST /skills", "admin"), node("positive", "GET /users", "agent")]
    first, _ = run_fuzz(pytester, "-s", "--gws-seed=5", *chosen)
    again, _ = run_fuzz(pytester, "-s", "--gws-seed=5", *chosen)
    other, _ = run_fuzz(pytester, "-s", "--gws-seed=6", *chosen)

    def sent(result: pytest.RunResult) -> list[str]:
        return [line for line in result.outlines if "case(s) sent" in line]

    assert len(sent(first)) == 2
    assert sent(first) == sent(again)
    assert first.ret == again.ret == other.ret == pytest.ExitCode.OK
