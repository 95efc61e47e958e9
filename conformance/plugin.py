"""The pytest plugin (entry point ``gws``): options, markers, run header, selection, outcomes, results.

Registered through the ``pytest11`` entry point, so ``pytest --gws-target URL ...`` works in any
pipeline. Without any ``--gws-*`` option, ``-p gws``, a GWS_* variable or a path into
conformance/suite, the plugin stays inert: no header, no selection, no outcome mapping, no
results file — a project's own tests run exactly as without it (its markers and fixtures exist
either way; fixtures cost nothing until used).

Outcomes (conformance.outcomes) are set in ``pytest_runtest_makereport`` and named in
``pytest_report_teststatus``, so the terminal, JUnit XML (a ``gws_outcome`` property on every
test case; not-applicable and needs-stimulus tests are skipped ones) and the results file agree.
"""

from __future__ import annotations

import fnmatch
import os
import re
import signal
import tempfile
import textwrap
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import Any

import pytest

from conformance.config import Settings, insecure_warning
from conformance.errors import SuiteError
from conformance.fixtures import close_session, gws_session
from conformance.outcomes import STATUS, Outcome, classify, needs_stimulus, not_applicable
from conformance.results import (
    RunResults,
    TestResult,
    failure_details,
    known_areas,
    known_requirement_ids,
    matches_selection,
)

pytest_plugins = [
    "conformance.fixtures.settings",
    "conformance.fixtures.recorder",
    "conformance.fixtures.clients",
    "conformance.fixtures.listeners",
    "conformance.fixtures.bayeux",
    "conformance.fixtures.discovery",
    "conformance.fixtures.fuzz",
    "conformance.fixtures.scenarios",
]

_ACTIVE = pytest.StashKey[bool]()
_RESULTS = pytest.StashKey[RunResults]()
_UNKNOWN_IDS = pytest.StashKey[list[str]]()
_SUITE_PACKAGE = Path(__file__).parent / "suite"

MARKERS = (
    "requirement(*ids): the GWS-<AREA>-NNN requirements of spec/requirements.yaml this test proves",
    "needs_stimulus: the test needs outside-world events (a stimulus adapter); without one it reports 'needs stimulus'",
    "feature(name): the test needs a feature (GET /features) assigned to the contact center; else 'not applicable'",
    (
        "bayeux: the test speaks only the Bayeux protocol at the CometD endpoint (no GWS REST API), so it also "
        "judges a generic Bayeux server (GWS_TARGET_KIND=bayeux); unmarked tests are 'not applicable' there"
    ),
    "gws_specific(rule): a CometD rule of GWS beyond Bayeux and CometD; 'not applicable' to a generic Bayeux server",
    (
        "recast: the agent accounts the test holds (gws_exclusive) may be any free agents of the pool; it reads them "
        "through the casting (conformance.casting), and with a pool it runs beside the others (conformance.scheduling)"
    ),
)
BAYEUX_ONLY = "the target is a generic Bayeux server (GWS_TARGET_KIND=bayeux)"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        "gws", "GWS conformance (Genesys Web Services API v2): settings also come from GWS_* variables"
    )
    group.addoption("--gws-config", metavar="FILE", dest="gws_config", help="TOML configuration file (GWS_CONFIG).")
    group.addoption(
        "--gws-target", metavar="URL", dest="gws_target", help="Base URL of the API up to /api/v2 (GWS_BASE_URL)."
    )
    group.addoption(
        "--gws-profile",
        choices=("quick", "default", "deep"),
        dest="gws_profile",
        help="Fuzzing budget: quick (a PR gate), default or deep (GWS_FUZZ_PROFILE).",
    )
    group.addoption("--gws-seed", type=int, metavar="N", dest="gws_seed", help="Random seed of the fuzzer (GWS_SEED).")
    group.addoption(
        "--gws-target-kind",
        choices=("gws", "bayeux"),
        dest="gws_target_kind",
        help="gws, or bayeux: a generic Bayeux server at GWS_COMETD_URL, judged on the protocol (GWS_TARGET_KIND).",
    )
    group.addoption(
        "--gws-stimulus",
        metavar="ADAPTER",
        dest="gws_stimulus",
        help="reference, manual, none or module:Class (GWS_STIMULUS).",
    )
    group.addoption(
        "--gws-area",
        action="append",
        default=[],
        metavar="AREA",
        dest="gws_area",
        help="Run only tests proving requirements of this area (GEN, CALL, ...); repeatable.",
    )
    group.addoption(
        "--gws-requirement",
        action="append",
        default=[],
        metavar="ID",
        dest="gws_requirement",
        help="Run only tests proving this requirement (GWS-CALL-004); repeatable.",
    )
    group.addoption(
        "--gws-results",
        metavar="FILE",
        dest="gws_results",
        help="Write the results as JSON (conformance/results.schema.json) to FILE.",
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    active = _is_active(config)
    config.stash[_ACTIVE] = active
    if not active:
        return
    areas, ids = _selection(config)
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and workerinput.get("gws_seed") is not None:
        config.option.gws_seed = workerinput["gws_seed"]  # a pytest-xdist worker fuzzes with the run's seed
    session = gws_session(config)
    results = RunResults(selection={"areas": areas, "requirements": ids})
    try:
        settings = session.settings
    except Exception as exc:  # an unusable configuration: every test that needs it reports error
        results.configuration_error = str(exc)
    else:
        results.target = settings.redacted()
        results.seed = settings.seed
        results.profile = settings.fuzz.profile
        config.option.gws_seed = settings.seed
    config.stash[_RESULTS] = results
    config.pluginmanager.register(ResultsCollector(config, results), "gws-results")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker gets the seed the controller chose (a random one included), and the run's
    shared directory."""
    config = node.config
    if not active(config):
        return
    if config.stash[_RESULTS].seed is not None:
        node.workerinput["gws_seed"] = config.stash[_RESULTS].seed
    session = gws_session(config)
    if session.shared_dir is None:
        session.shared_dir = Path(tempfile.mkdtemp(prefix="gws-conformance-run-"))
    node.workerinput["gws_shared_dir"] = str(session.shared_dir)


def _is_active(config: pytest.Config) -> bool:
    options = config.option
    if any(getattr(options, name, None) for name in _option_dests()):
        return True
    if any(name.startswith("GWS_") and value for name, value in os.environ.items()):
        return True
    if "gws" in (getattr(options, "plugins", None) or []):
        return True
    return any(_names_suite(arg, config) for arg in config.args)


def _option_dests() -> tuple[str, ...]:
    return (
        "gws_config",
        "gws_target",
        "gws_profile",
        "gws_seed",
        "gws_target_kind",
        "gws_stimulus",
        "gws_area",
        "gws_requirement",
        "gws_results",
    )


def _names_suite(arg: str, config: pytest.Config) -> bool:
    target = arg.split("::", 1)[0]
    if target.startswith("conformance.suite"):
        return True
    path = Path(config.invocation_params.dir, target).resolve()
    return path == _SUITE_PACKAGE or _SUITE_PACKAGE in path.parents


def _selection(config: pytest.Config) -> tuple[list[str], list[str]]:
    areas = [a.upper() for a in config.getoption("gws_area") or []]
    ids = [i.upper() for i in config.getoption("gws_requirement") or []]
    unknown_areas = sorted(set(areas) - set(known_areas()))
    if unknown_areas:
        raise pytest.UsageError(
            f"--gws-area: unknown area(s) {', '.join(unknown_areas)}; known: {', '.join(known_areas())}"
        )
    unknown_ids = sorted(set(ids) - known_requirement_ids())
    if unknown_ids:
        raise pytest.UsageError(f"--gws-requirement: not in spec/requirements.yaml: {', '.join(unknown_ids)}")
    return areas, ids


def active(config: pytest.Config) -> bool:
    return config.stash.get(_ACTIVE, False)


# Scenario modules are named after their workflow (agent_state.py), not test_*.py.
_DEFINES_TESTS = re.compile(r"^(?:async\s+)?def test_|^class Test", re.MULTILINE)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """Collect the suite's modules that hold tests whatever their name, so that ``pytest --pyargs
    conformance.suite`` runs the scenarios too; what pytest collects by itself is left to it."""
    if file_path.suffix != ".py" or _SUITE_PACKAGE not in file_path.parents:
        return None
    if parent.session.isinitpath(file_path) or any(
        fnmatch.fnmatch(file_path.name, pattern) for pattern in parent.config.getini("python_files")
    ):
        return None
    if not _DEFINES_TESTS.search(file_path.read_text(encoding="utf-8", errors="replace")):
        return None
    module: pytest.Module = pytest.Module.from_parent(parent, path=file_path)
    return module


def pytest_sessionstart(session: pytest.Session) -> None:
    """Ctrl-C stops the run even when the KeyboardInterrupt it raises is lost.

    Python raises it wherever the main thread is when the signal comes, and that may be a garbage-collector
    callback (Hypothesis installs one), which swallows it as unraisable: the run went on to its end. The
    session is told too, so the run stops after the test in progress and still writes what it has judged.
    """
    if not active(session.config) or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return  # ignored, or handled by someone else: theirs to decide

    def interrupt(signum: int, frame: Any) -> None:
        session.shouldstop = "interrupted (SIGINT)"
        raise KeyboardInterrupt

    def restore() -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, interrupt)
    session.config.add_cleanup(restore)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under -n, the tests that hold the agent accounts run in turn on one worker (conformance.scheduling)."""
    if not active(config) or config.getvalue("dist") != "load":
        return None  # another --dist the user chose is theirs
    from conformance.scheduling import scheduler

    settings = gws_session(config).settings_or_error
    pool_size = len(settings.agent_pool) if isinstance(settings, Settings) else 3
    return scheduler(config, log, pool_size)


def pytest_unconfigure(config: pytest.Config) -> None:
    close_session(config)


# -- header and selection -----------------------------------------------------------------------------


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    if not active(config):
        return None
    results = config.stash[_RESULTS]
    if results.configuration_error is not None:
        return [
            "gws: configuration error (tests that need the target report error):",
            *textwrap.indent(results.configuration_error, "  ").splitlines(),
        ]
    target = results.target or {}
    origin = target.get("origins", {}).get("GWS_SEED", "")
    how = "random" if origin == "random" else "configured"
    fuzz = target.get("fuzz", {})
    return [
        f"gws: target {target.get('base_url')} (CometD {target.get('cometd_url')}), stimulus {target.get('stimulus')}",
        f"gws: seed {results.seed} ({how}; repeat this run with --gws-seed {results.seed}), "
        f"fuzz profile {fuzz.get('profile')} ({fuzz.get('max_examples')} examples per operation)",
        *([f"gws: {warning}"] if (warning := insecure_warning(os.environ)) else []),
    ]


def _requirement_ids(item: pytest.Item) -> list[str]:
    return list(dict.fromkeys(str(rid) for marker in item.iter_markers("requirement") for rid in marker.args))


def _feature(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("feature")
    return str(marker.args[0]) if marker is not None and marker.args else None


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not active(config):
        return
    known = known_requirement_ids()
    for item in items:
        item.stash[_UNKNOWN_IDS] = [rid for rid in _requirement_ids(item) if rid not in known]
    selection = config.stash[_RESULTS].selection
    areas, ids = selection["areas"], selection["requirements"]
    if not areas and not ids:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (kept if matches_selection(_requirement_ids(item), areas, ids) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


# -- outcomes -------------------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Decide before any fixture runs whether the test can run here at all."""
    if not active(item.config):
        return
    unknown = item.stash.get(_UNKNOWN_IDS, [])
    if unknown:
        raise SuiteError(f"requirement marker names IDs not in spec/requirements.yaml: {', '.join(unknown)}")
    feature = _feature(item)
    session = gws_session(item.config)
    settings = session.settings_or_error
    if isinstance(settings, Settings) and settings.target_kind == "bayeux":
        gws_rule = item.get_closest_marker("gws_specific")
        if gws_rule is not None:
            rule = " ".join(str(a) for a in gws_rule.args) or "a GWS rule"
            not_applicable(f"GWS-specific ({rule}): Bayeux and CometD do not ask it; {BAYEUX_ONLY}")
        if item.get_closest_marker("bayeux") is None:
            not_applicable(f"needs the GWS REST API; {BAYEUX_ONLY}")
    if feature is not None and not session.discovery.feature_assigned(feature):
        not_applicable(f"feature {feature} is not assigned to the contact center (GET /features)")
    if item.get_closest_marker("needs_stimulus") is not None and session.settings.stimulus == "none":
        needs_stimulus("no stimulus adapter is configured (--gws-stimulus / GWS_STIMULUS)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if not active(item.config):
        return report
    clock = gws_session(item.config).existing("delivery")
    if clock is not None and (measured := clock.drain()) is not None:
        report.gws_delivery = measured  # travels to the controller with the report (pytest-xdist)
    if hasattr(report, "wasxfail"):
        return report
    exc = call.excinfo.value if call.excinfo is not None else None
    outcome = classify(exc)
    if clock is not None and report.when == "call":
        clock.test_ended(failed=outcome in (Outcome.FAILED, Outcome.ERROR))
    if outcome is Outcome.PASSED and report.when != "call":
        return report  # a setup or teardown that went fine decides nothing
    details = failure_details(exc, outcome, report.longreprtext or None)
    if outcome is Outcome.WARNING:
        # A SHOULD broken: the test passes; the warning travels in the report, not as a failure.
        report.outcome = "passed"
        report.sections.append(("gws warning", str(exc)))
        report.longrepr = None
    elif outcome in (Outcome.NOT_APPLICABLE, Outcome.NEEDS_STIMULUS, Outcome.SKIPPED):
        reason = str(getattr(exc, "msg", exc))
        details = {"message": reason}
        if outcome is not Outcome.SKIPPED and isinstance(report.longrepr, tuple):
            # The reason as JUnit and `-rs` show it: the status, not the exception class.
            path, line, _ = report.longrepr
            report.longrepr = (path, line, f"{STATUS[outcome][2].lower()}: {reason}")
    report.gws = {
        "outcome": str(outcome),
        "phase": report.when,
        "requirements": _requirement_ids(item),
        "feature": _feature(item),
        **details,
    }
    item.user_properties.append(("gws_outcome", str(outcome)))
    if details.get("violated"):
        item.user_properties.append(("gws_requirements", " ".join(details["violated"])))
    if details.get("reproduce"):
        item.user_properties.append(("gws_reproduce", details["reproduce"]))
    if outcome is Outcome.WARNING and details.get("title"):
        item.user_properties.append(("gws_warning", details["title"]))
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    data = getattr(report, "gws", None)
    if not isinstance(data, dict):
        return None
    return STATUS.get(Outcome(data["outcome"]))


# -- results: a plugin object registered only in active runs ------------------------------------------


class ResultsCollector:
    """Turns reports into the run's results; prints the conformance summary; writes the results file."""

    def __init__(self, config: pytest.Config, results: RunResults) -> None:
        self.config = config
        self.results = results

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        measured = getattr(report, "gws_delivery", None)
        if isinstance(measured, dict):
            self.results.delivery.append(measured)
        data = getattr(report, "gws", None)
        if isinstance(data, dict):
            self.results.add(_result(report, data))
        elif report.when == "call" and hasattr(report, "wasxfail"):
            outcome = Outcome.XFAILED if report.skipped else Outcome.XPASSED
            self.results.add(TestResult(report.nodeid, outcome, "call", report.duration))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        results = self.results
        write = terminalreporter.write_line
        terminalreporter.section("gws conformance")
        counts = results.summary()
        shown = [f"{counts[str(o)]} {STATUS[o][0]}" for o in STATUS if counts[str(o)]]
        write("outcomes: " + (", ".join(shown) or "no tests"))
        for outcome in (Outcome.WARNING, Outcome.NOT_APPLICABLE, Outcome.NEEDS_STIMULUS, Outcome.ERROR):
            for result in results.by_outcome(outcome):
                reason = result.title or (result.message or "").partition("\n")[0]
                write(f"{STATUS[outcome][2]} {result.nodeid} - {reason}"[:300])
        untested = results.untested()
        write(f"requirements: {len(untested)} of {results.selected_count()} selected have no test in this run")
        if untested:
            write(textwrap.fill("untested: " + _compact(r["id"] for r in untested), width=118, subsequent_indent="  "))
        if results.seed is not None:
            write(f"seed: {results.seed} (repeat with --gws-seed {results.seed})")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        target = self.config.getoption("gws_results")
        if target and not hasattr(self.config, "workerinput"):
            self.results.write(Path(self.config.invocation_params.dir, target))


def _compact(ids: Iterable[str]) -> str:
    """``GWS-GEN-004 GWS-GEN-005 GWS-GEN-006 GWS-AUTH-001`` -> ``GEN 004-006; AUTH 001``."""
    numbers: dict[str, list[int]] = {}
    for rid in ids:
        _, area, number = rid.split("-")
        numbers.setdefault(area, []).append(int(number))
    parts = []
    for area, found in numbers.items():
        runs: list[list[int]] = []
        for n in sorted(found):
            if runs and n == runs[-1][-1] + 1:
                runs[-1].append(n)
            else:
                runs.append([n])
        spans = [f"{r[0]:03d}-{r[-1]:03d}" if len(r) > 1 else f"{r[0]:03d}" for r in runs]
        parts.append(f"{area} {' '.join(spans)}")
    return "; ".join(parts)


def _result(report: pytest.TestReport, data: dict[str, Any]) -> TestResult:
    return TestResult(
        nodeid=report.nodeid,
        outcome=Outcome(data["outcome"]),
        phase=str(data["phase"]),
        duration_s=report.duration,
        requirements=list(data.get("requirements", [])),
        feature=data.get("feature"),
        violated=list(data.get("violated", [])),
        level=data.get("level"),
        title=data.get("title"),
        message=data.get("message"),
        reproduce=data.get("reproduce"),
        evidence=list(data.get("evidence", [])),
        findings=list(data.get("findings", [])),
    )
