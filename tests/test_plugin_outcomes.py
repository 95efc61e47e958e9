"""The gws plugin's outcomes, header, selection and results file, on a tiny synthetic suite.

Each outcome — pass, fail, warning, not applicable, needs stimulus, error — must read as itself in
the terminal (progress letter, verbose word, last line), in JUnit XML (a gws_outcome property;
skips for not applicable / needs stimulus) and in the results JSON (valid against its schema).
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpcore  # noqa: F401  (see below)
import pytest
from jsonschema import Draft202012Validator
from live_reference import LiveTarget, serve

from conformance.results import RESULTS_SCHEMA

pytest_plugins = ["pytester"]

# The synthetic runs are in-process (fast). pytester drops the modules a run imported once it ends;
# httpx imports httpcore lazily and keeps httpcore's exception classes from the first import, so
# httpcore is imported here, in the outer process, where it stays one module for every run.

SYNTHETIC = """
import pytest
from conformance.failures import Level, Violation


@pytest.mark.requirement("GWS-GEN-001")
def test_pass(gws_admin):
    assert gws_admin.get("/me").status_code_field == 0


@pytest.mark.requirement("GWS-GEN-002")
def test_fail(gws_admin):
    response = gws_admin.get("/me")
    raise Violation(title="Synthetic MUST", message="broken on purpose", requirement_ids=["GWS-GEN-002"],
                    evidence=[response.exchange])


@pytest.mark.requirement("GWS-GEN-003")
def test_warning(gws_admin):
    response = gws_admin.get("/me")
    raise Violation(title="Synthetic SHOULD", message="should on purpose", requirement_ids=["GWS-GEN-003"],
                    level=Level.SHOULD, evidence=[response.exchange])


@pytest.mark.feature("api-not-assigned-anywhere")
@pytest.mark.requirement("GWS-CHAT-001")
def test_not_applicable():
    raise AssertionError("never runs: the feature is not assigned")


@pytest.mark.needs_stimulus
@pytest.mark.requirement("GWS-CALL-001")
def test_needs_stimulus():
    raise AssertionError("never runs: no stimulus adapter")


@pytest.mark.requirement("GWS-GEN-004")
def test_error():
    raise KeyError("the suite broke")
"""


@pytest.fixture(scope="module")
def target() -> Iterator[LiveTarget]:
    with serve() as live:
        yield live


@pytest.fixture
def gws_env(monkeypatch: pytest.MonkeyPatch, target: LiveTarget) -> LiveTarget:
    for name in list(os.environ):
        if name.startswith("GWS_"):
            monkeypatch.delenv(name)
    for name, value in target.env().items():
        monkeypatch.setenv(name, value)
    return target


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def test_every_outcome_reads_as_itself(pytester: pytest.Pytester, gws_env: LiveTarget) -> None:
    pytester.makepyfile(test_synthetic=SYNTHETIC)
    junit = pytester.path / "junit.xml"
    results_file = pytester.path / "out" / "results.json"
    result = run(pytester, "-v", "--gws-seed", "11", f"--junitxml={junit}", f"--gws-results={results_file}")

    # Terminal: the verbose word of each test, the last line, the conformance summary, the seed.
    result.stdout.fnmatch_lines(
        [
            "*test_pass PASSED*",
            "*test_fail FAILED*",
            "*test_warning WARNING*",
            "*test_not_applicable NOT APPLICABLE*",
            "*test_needs_stimulus NEEDS STIMULUS*",
            "*test_error ERROR*",
        ]
    )
    last = result.outlines[-1]
    for words in ("1 failed", "1 passed", "1 error", "1 warned", "1 not applicable", "1 needs stimulus"):
        assert words in last
    result.stdout.fnmatch_lines(["gws: seed 11 (configured*", "*gws conformance*", "outcomes: *", "seed: 11*"])
    result.stdout.fnmatch_lines(['*Reproduce with: curl * -u "admin:$GWS_ADMIN_PASSWORD"*'])
    assert result.ret == pytest.ExitCode.TESTS_FAILED

    # JUnit: every test case says its outcome; the two that did not run are skips with their reason.
    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    outcome = {name: _properties(case)["gws_outcome"] for name, case in cases.items()}
    assert outcome == {
        "test_pass": "passed",
        "test_fail": "failed",
        "test_warning": "warning",
        "test_not_applicable": "not_applicable",
        "test_needs_stimulus": "needs_stimulus",
        "test_error": "error",
    }
    assert cases["test_warning"].find("failure") is None and _properties(cases["test_warning"])["gws_warning"]
    assert cases["test_not_applicable"].find("skipped").get("message").startswith("not applicable: feature")
    assert cases["test_needs_stimulus"].find("skipped").get("message").startswith("needs stimulus: ")
    assert _properties(cases["test_fail"])["gws_requirements"] == "GWS-GEN-002"
    assert _properties(cases["test_fail"])["gws_reproduce"].startswith("curl ")

    # Results file: valid against its schema, one record per test with its outcome and evidence.
    document = json.loads(results_file.read_text())
    assert list(Draft202012Validator(json.loads(RESULTS_SCHEMA.read_text())).iter_errors(document)) == []
    tests = {t["nodeid"].rpartition("::")[2]: t for t in document["tests"]}
    assert {name: t["outcome"] for name, t in tests.items()} == outcome
    assert document["summary"]["total"] == 6 and document["seed"] == 11
    failed = tests["test_fail"]
    assert failed["violated"] == ["GWS-GEN-002"] and failed["level"] == "MUST"
    assert failed["reproduce"].startswith("curl ") and failed["evidence"][0]["kind"] == "http"
    assert tests["test_warning"]["level"] == "SHOULD" and tests["test_warning"]["violated"] == ["GWS-GEN-003"]
    assert tests["test_not_applicable"]["feature"] == "api-not-assigned-anywhere"
    assert tests["test_error"]["title"] == "KeyError: 'the suite broke'"
    untested = {r["id"] for r in document["requirements"]["untested"]}
    assert "GWS-GEN-005" in untested and not untested & {"GWS-GEN-001", "GWS-CHAT-001", "GWS-CALL-001"}
    assert "admin-secret" not in results_file.read_text()


def _properties(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.iter("property")}


def test_progress_letters(pytester: pytest.Pytester, gws_env: LiveTarget) -> None:
    pytester.makepyfile(test_synthetic=SYNTHETIC)
    result = run(pytester, "-q")
    assert any(re.match(r"^\.FWNSE\b", line) for line in result.outlines), result.outlines


def test_warnings_and_skips_do_not_fail_the_run(pytester: pytest.Pytester, gws_env: LiveTarget) -> None:
    pytester.makepyfile(test_synthetic=SYNTHETIC)
    result = run(pytester, "-k", "pass or warning or not_applicable or needs_stimulus")
    assert result.ret == pytest.ExitCode.OK
    assert "1 passed, 3 deselected, 1 warned, 1 not applicable, 1 needs stimulus" in result.outlines[-1] or all(
        words in result.outlines[-1] for words in ("1 passed", "1 warned", "1 not applicable", "1 needs stimulus")
    )


def test_selection_by_area_and_requirement(pytester: pytest.Pytester, gws_env: LiveTarget) -> None:
    pytester.makepyfile(test_synthetic=SYNTHETIC)
    results_file = pytester.path / "results.json"
    result = run(
        pytester, "-v", "--gws-area", "chat", "--gws-requirement", "GWS-GEN-003", f"--gws-results={results_file}"
    )
    result.stdout.fnmatch_lines(["*test_warning WARNING*", "*test_not_applicable NOT APPLICABLE*"])
    assert "4 deselected" in result.outlines[-1]
    document = json.loads(results_file.read_text())
    assert document["selection"] == {"areas": ["CHAT"], "requirements": ["GWS-GEN-003"]}
    assert {r["id"][:8] for r in document["requirements"]["untested"]} <= {"GWS-CHAT", "GWS-GEN-"}
    assert "GWS-CHAT-001" not in {r["id"] for r in document["requirements"]["untested"]}


def test_unknown_area_or_requirement_is_a_usage_error(pytester: pytest.Pytester, gws_env: LiveTarget) -> None:
    pytester.makepyfile(test_synthetic=SYNTHETIC)
    result = run(pytester, "--gws-area", "NOPE")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gws-area: unknown area(s) NOPE*"])
    result = run(pytester, "--gws-requirement", "GWS-GEN-999")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_unknown_requirement_marker_is_the_suites_error(pytester: pytest.Pytester, gws_env: LiveTarget) -> None:
    pytester.makepyfile(
        test_marker="""
import pytest

@pytest.mark.requirement("GWS-GEN-999")
def test_typo():
    pass
"""
    )
    result = run(pytester, "-v")
    result.stdout.fnmatch_lines(["*test_typo ERROR*", "*GWS-GEN-999*"])


def test_an_unusable_configuration_errors_the_tests_never_fails_them(
    pytester: pytest.Pytester, gws_env: LiveTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GWS_BASE_URL", "ftp://nowhere")
    pytester.makepyfile(test_synthetic=SYNTHETIC)
    results_file = pytester.path / "results.json"
    result = run(pytester, "-v", "-k", "pass", f"--gws-results={results_file}")
    result.stdout.fnmatch_lines(["gws: configuration error*", "*GWS_BASE_URL*", "*test_pass ERROR*"])
    document = json.loads(results_file.read_text())
    assert "GWS_BASE_URL" in document["configuration_error"] and document["target"] is None
    assert document["tests"][0]["outcome"] == "error"


def test_the_plugin_is_inert_without_gws_options(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("GWS_"):
            monkeypatch.delenv(name)
    pytester.makepyfile(
        test_plain="""
def test_ok():
    pass

def test_broken():
    raise ValueError("an ordinary failure")
"""
    )
    result = run(pytester, "-v")
    result.stdout.fnmatch_lines(["*test_broken FAILED*"])
    assert not any(line.startswith("gws:") or "gws conformance" in line for line in result.outlines)
    assert "1 failed, 1 passed" in result.outlines[-1]


def test_options_live_in_one_group(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--help")
    text = "\n".join(result.outlines)
    group = text.partition("GWS conformance")[2]
    for option in (
        "--gws-config",
        "--gws-target",
        "--gws-profile",
        "--gws-seed",
        "--gws-stimulus",
        "--gws-area",
        "--gws-requirement",
        "--gws-results",
    ):
        assert option in group.partition("\n\n")[0] or option in group, option
    markers = run(pytester, "--markers").outlines
    assert any(line.startswith("@pytest.mark.requirement(*ids)") for line in markers)
    assert any(line.startswith("@pytest.mark.needs_stimulus") for line in markers)
    assert any(line.startswith("@pytest.mark.feature(name)") for line in markers)


def test_xdist_workers_fuzz_with_the_seed_the_run_prints(pytester: pytest.Pytester, gws_env: LiveTarget) -> None:
    pytester.makepyfile(
        test_seed="""
import pytest

@pytest.mark.parametrize("i", range(4))
def test_seed(i, gws_settings):
    print(f"SEED={gws_settings.seed}")
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "-rP", "--gws-target", gws_env.base_url)
    seeds = {line for line in result.outlines if line.startswith("SEED=")}
    assert len(seeds) == 1, seeds
    result.stdout.fnmatch_lines([f"seed: {seeds.pop().partition('=')[2]} (repeat with --gws-seed *"])


def test_xdist_workers_share_one_directory_for_the_run_and_it_goes_with_the_run(
    pytester: pytest.Pytester, gws_env: LiveTarget
) -> None:
    pytester.makepyfile(
        test_shared="""
import os
import pytest
from conformance.fixtures import gws_session

@pytest.mark.parametrize("i", range(4))
def test_shared(i, request):
    shared = gws_session(request.config).shared_dir
    print(f"SHARED={shared} WORKER={os.environ['PYTEST_XDIST_WORKER']} EXISTS={shared.is_dir()}")
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "-rP", "--gws-target", gws_env.base_url)
    seen = {tuple(part.partition("=")[2] for part in line.split()) for line in result.outlines if "SHARED=" in line}
    assert {worker for _, worker, _ in seen} == {"gw0", "gw1"}  # both workers told ...
    assert len({shared for shared, _, _ in seen}) == 1  # ... of one directory
    shared, _, exists = seen.pop()
    assert exists == "True" and not os.path.exists(shared)  # there while the run lasted, removed after it
