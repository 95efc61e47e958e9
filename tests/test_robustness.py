"""A target that hangs, resets connections, answers non-JSON or answers too slowly: failed tests with
evidence, within the budget — never a hung run, never a suite error.

Each faulty target gets the same small run: plain tests that use the clients, a test that needs
discovery (a feature marker), a test that needs a notification listener, and a few fuzz tests.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from faulty_targets import hanging_target, non_json_app, resetting_target, slow_app
from fuzz_support import fuzz_env, node
from live_reference import serve

pytest_plugins = ["pytester"]

TIMEOUT_S = 0.5
# Generous against a loaded CI machine, and still far below one timeout per request of the run.
BUDGET_S = 45

SYNTHETIC = """
import pytest


@pytest.mark.requirement("GWS-AUTH-004")
def test_reads_me(gws_admin):
    assert gws_admin.get("/me").status_code_field == 0


@pytest.mark.requirement("GWS-AUTH-004")
def test_reads_me_again(gws_agent1):
    assert gws_agent1.get("/me").status_code_field == 0


@pytest.mark.feature("api-voice")
@pytest.mark.requirement("GWS-DEV-001")
def test_needs_discovery(gws_agent1):
    gws_agent1.get("/me/devices")


@pytest.mark.requirement("GWS-COMETD-001")
def test_listens(gws_listener):
    gws_listener("agent1")
"""

FUZZ = [
    node("positive", "GET /features", "admin"),
    node("positive", "GET /me", "agent"),
    node("negative", "POST /skills", "admin"),
]


def _asgi(app: Any) -> Callable[[], contextlib.AbstractContextManager[str]]:
    @contextlib.contextmanager
    def target() -> Iterator[str]:
        with serve(app) as live:
            yield live.base_url

    return target


FAULTY = {
    "hangs": hanging_target,
    "resets": resetting_target,
    "answers HTML": _asgi(non_json_app),
    "answers too slowly": _asgi(slow_app),
}


@pytest.mark.parametrize("fault", list(FAULTY))
def test_a_faulty_target_fails_the_run_with_evidence_within_the_budget(
    fault: str, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_synthetic=SYNTHETIC)
    results_file = pytester.path / "results.json"
    with FAULTY[fault]() as base_url:
        fuzz_env(monkeypatch, base_url, GWS_REQUEST_TIMEOUT_S=str(TIMEOUT_S), GWS_NOTIFICATION_TIMEOUT_S=str(TIMEOUT_S))
        started = time.monotonic()
        result = pytester.runpytest_subprocess(  # see fuzz_support.run_fuzz
            "-p",
            "no:cacheprovider",
            "--gws-seed=9",
            f"--gws-results={results_file}",
            "test_synthetic.py",
            *FUZZ,
            timeout=300,
        )
        elapsed = time.monotonic() - started

    assert elapsed < BUDGET_S, f"{fault}: the run took {elapsed:.1f} s"
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    records = json.loads(results_file.read_text())["tests"]
    assert len(records) == 4 + len(FUZZ)
    # The target's fault, never the suite's: every test failed, none errored.
    assert {r["nodeid"].rpartition("::")[2]: r["outcome"] for r in records if r["outcome"] != "failed"} == {}
    for record in records:
        assert record["message"], record["nodeid"]
        if not record["nodeid"].endswith("test_listens"):
            assert record["evidence"] or record["findings"], record["nodeid"]
    http = [e for r in records for e in r["evidence"] if e["kind"] == "http"]
    assert all(e["curl"].startswith("curl ") for e in http)
