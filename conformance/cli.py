"""``gws-conformance``: run the suite, read the catalogue, compare runs, serve the reference server.

    gws-conformance run [--target URL | --config FILE] [--area A] [--requirement ID] [--profile P]
                        [-n N] [--stimulus S] [--seed N] [--report-dir DIR] [--baseline FILE]
    gws-conformance requirements [--area A] [--level L] [--format text|markdown|json]
    gws-conformance diff OLD.json NEW.json [--format text|markdown]
    gws-conformance report DIR [--baseline FILE]
    gws-conformance selftest [--fault NAME ...] [--subset ci] [--report-dir DIR] [-n N]
    gws-conformance serve [--host H] [--port P] [--stimulus] ...        (same as gws-reference serve)
    gws-conformance load [--agents N] [--duration S] [--transport T] ...  (conformance.load.main)
    gws-conformance validate FILE.har [FILE.har ...] [--base-path /api/v2] [--report-dir DIR]
    gws-conformance proxy --upstream URL [--listen HOST:PORT] [--report-dir DIR] [--report-every S]

``run`` without a target starts the reference server (with its stimulus API) on a free loopback port
and runs everything against it. With one, it first asks the target one question (GET /me, within
seconds) so that a wrong URL or a wrong password ends at once with one line, not after a suite of
failures. Then it runs pytest with the plugin on the installed ``conformance.suite`` package in a child
process, shows progress, and writes every report (conformance.reporting) into the report directory.

Exit codes (``run``; ``diff`` uses 0, 1 and 2 alike):

    0  every MUST requirement the run judged passed (SHOULD warnings and known failures allowed)
    1  conformance failures: a MUST requirement broken (not in the baseline)
    2  usage or configuration error: bad option, unreadable or malformed config or baseline, unknown
       profile, area or requirement ID, credentials the target refuses, a selection without tests
    3  the target is unreachable or does not answer like a GWS server
    4  the suite itself broke (no conformance failure found, but tests errored or pytest crashed)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from conformance.errors import TargetProblem, UsageError

__all__ = ["EXIT_FAILURES", "EXIT_OK", "EXIT_SUITE", "EXIT_TARGET", "EXIT_USAGE", "build_parser", "main"]

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2
EXIT_TARGET = 3
EXIT_SUITE = 4
EXIT_INTERRUPTED = 130

PROG = "gws-conformance"
PROFILES = ("quick", "default", "deep")
LEVELS = ("MUST", "SHOULD", "MAY")
# Beyond this many workers a run gets no faster: the tests that hold the agent accounts run in turn on
# one worker (conformance.scheduling), and every worker costs a start-up and sessions on the target.
MAX_DEFAULT_WORKERS = 4
# Workers for a target on another machine, whatever the cores: there a worker mostly waits for round trips
# (the quick profile sends ~3,300 requests; at 50 ms that is 165 s of waiting, which only concurrency
# shortens), not for a core. Measured at a 50 ms round trip on 2 cores (docs/remote-targets.md), once the
# scheduler kept workers from waiting for one another's accounts: quick -n 8 49.3 s, -n 12 45.5 s; default -n 8
# 82.9 s, -n 12 71.3 s (before that, -n 12 gained nothing on -n 8: the workers queued for accounts). Each worker is
# a pytest-xdist process of its own (~150 MB) that starts up on the cores (12: about 8 s of a run on 2 cores) and
# opens its own sessions on the target; 12 stays well inside a server's per-user session limit (GWS-HOST-005
# suggests 50). A target on this machine shares the cores: two per core (LOCAL_WORKERS_PER_CORE), as for the
# embedded reference.
REMOTE_DEFAULT_WORKERS = 12
# Workers per core for the embedded reference, and for any target on this machine (which shares the cores as the
# embedded one does). Its run is CPU-bound but not only: a worker also waits for
# the server (another process on the same cores), quiet windows, notifications and the account locks, and
# with one worker per core a core idles whenever its worker waits (the default profile used 124% of 2 cores,
# 49-54 CPU-s in 37-39 s). Two per core fill those waits: measured on 2 cores, default profile, seed
# 20260105 (docs/remote-targets.md, "The embedded run"): -n 2 37.0-38.7 s, -n 4 31.0-33.1 s, CPU-s alike.
LOCAL_WORKERS_PER_CORE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and the documented exit code), never a screenful."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see '{self.prog} --help')\n")


# -- the parser -----------------------------------------------------------------------------------------


def _workers(text: str) -> str:
    if text == "auto" or (text.isdigit() and int(text) >= 0):
        return text
    raise argparse.ArgumentTypeError(f"expected a number of workers (0 = no parallelism) or 'auto', not {text!r}")


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Conformance suite for the Genesys Web Services (GWS) API v2, release 8.5.",
        epilog="Exit codes: 0 every MUST passes, 1 conformance failures, 2 usage or configuration error, "
        "3 target unreachable or not a GWS server, 4 the suite itself broke.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the suite (against the embedded reference server when no target is given)",
        description="Run the conformance suite and write its reports. Without --target, --config, "
        "GWS_BASE_URL or GWS_CONFIG, the embedded reference server is started and judged.",
    )
    where = run.add_argument_group("target")
    where.add_argument("--target", metavar="URL", help="base URL of the API, up to /api/v2 (GWS_BASE_URL)")
    where.add_argument("--config", metavar="FILE", type=Path, help="TOML configuration file (GWS_CONFIG)")
    where.add_argument(
        "--target-kind",
        choices=("gws", "bayeux"),
        help="gws (default), or bayeux: a generic Bayeux/CometD server at --cometd-url, judged on the protocol "
        "alone (GWS_TARGET_KIND)",
    )
    where.add_argument("--cometd-url", metavar="URL", help="the CometD (Bayeux) endpoint (GWS_COMETD_URL)")
    where.add_argument(
        "--stimulus",
        metavar="ADAPTER",
        help="reference, manual, none or module:Class (GWS_STIMULUS; the embedded server: reference)",
    )
    where.add_argument(
        "--reference-csrf",
        action="store_true",
        help="the embedded reference server issues CSRF tokens and refuses a cookie-only POST, PUT or DELETE "
        "without its session's token (gws-reference serve --csrf), so that the CSRF rules are judged (E103)",
    )
    chosen = run.add_argument_group("selection")
    chosen.add_argument(
        "--area",
        action="append",
        default=[],
        metavar="AREA",
        help="only requirements of this area (GEN, CALL, ...); repeatable",
    )
    chosen.add_argument(
        "--requirement",
        action="append",
        default=[],
        metavar="ID",
        help="only this requirement (GWS-CALL-004); repeatable",
    )
    chosen.add_argument("--profile", choices=PROFILES, help="fuzzing budget (GWS_FUZZ_PROFILE; default: default)")
    chosen.add_argument("--seed", type=_seed, metavar="N", help="random seed of the fuzzer (GWS_SEED; default random)")
    how = run.add_argument_group("execution and reports")
    how.add_argument(
        "-n",
        "--workers",
        type=_workers,
        metavar="N",
        help=f"parallel workers (pytest-xdist): a number, 0 for one process, or 'auto' (default: two per core, at "
        f"most {MAX_DEFAULT_WORKERS}; {REMOTE_DEFAULT_WORKERS} for a target on another machine; 0 with the manual "
        "stimulus)",
    )
    from conformance.reporting import add_report_dir_argument  # reporting's imports wait for a command that writes

    add_report_dir_argument(how)
    how.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="known failures (YAML, each with a reason) that do not fail the run",
    )
    how.add_argument(
        "--progress",
        choices=("auto", "tty", "plain"),
        default="auto",
        help="live display: tty (one line in place), plain (lines) or auto (tty on a terminal)",
    )

    requirements = commands.add_parser("requirements", help="print the requirement catalogue")
    requirements.add_argument("--area", action="append", default=[], metavar="AREA", help="repeatable")
    requirements.add_argument(
        "--level", action="append", default=[], type=str.upper, choices=LEVELS, help="MUST, SHOULD or MAY; repeatable"
    )
    requirements.add_argument("--format", choices=("text", "markdown", "json"), default="text")

    diff = commands.add_parser("diff", help="regressions and fixes between two results files")
    diff.add_argument("old", type=Path, metavar="OLD.json")
    diff.add_argument("new", type=Path, metavar="NEW.json")
    diff.add_argument("--format", choices=("text", "markdown"), default="text")

    report = commands.add_parser("report", help="write report.html and summary.md again from a report directory")
    report.add_argument("directory", type=Path, metavar="DIR", help="a report directory (with results.json)")
    report.add_argument("--baseline", type=Path, metavar="FILE", help="known failures, as for run")

    selftest = commands.add_parser(
        "selftest",
        help="run the suite against each fault mode of the reference server and print the kill matrix",
        description="Exit 0 when every selected fault is killed, 1 when one survives (conformance.selftest).",
    )
    from conformance.selftest import add_selftest_arguments

    add_selftest_arguments(selftest)

    load = commands.add_parser(
        "load",
        help="simulated agents under load (Locust), every notification judged (conformance.load)",
        description="Simulated agents on Locust, each with a CometD session and a mix of agent work; every "
        "notification is judged (lost, duplicated, reordered, misrouted, late, schema-invalid) and the run gets a "
        "verdict and reports. Without --target the embedded reference server is started with --agents N.",
    )
    from conformance.load.arguments import add_load_arguments

    add_load_arguments(load)
    # -- passive conformance (issue 12): judging recorded traffic
    validate = commands.add_parser(
        "validate",
        help="judge recorded traffic (HAR files) with the suite's rules and write the same reports as run",
        description="Judge every GWS exchange of HAR 1.2 files (REST replies, Bayeux messages, their sequence); exit "
        "codes as for run.",
    )
    from conformance.passive.command import add_proxy_arguments, add_validate_arguments

    add_validate_arguments(validate)
    proxy = commands.add_parser(
        "proxy",
        help="a recording proxy in front of a GWS server that judges the traffic of real clients as it passes",
        description="Forward REST, long-polling and websocket traffic to --upstream unchanged (but for the server's own "
        "address in replies), judge every exchange as validate does, and write the reports every --report-every "
        "seconds and on Ctrl-C; exit codes as for run.",
    )
    add_proxy_arguments(proxy)

    serve = commands.add_parser("serve", help="serve the reference server (same as gws-reference serve)")
    from reference_impl.cli import add_serve_arguments

    add_serve_arguments(serve)
    return parser


# -- main -----------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    arguments = build_parser().parse_args(argv)
    if arguments.command == "load":
        return _load(argv[argv.index("load") + 1 :])
    handlers = {
        "run": _run,
        "requirements": _requirements,
        "diff": _diff,
        "report": _report,
        "selftest": _selftest,
        "serve": _serve,
        "validate": _validate,
        "proxy": _proxy,
    }
    try:
        return handlers[arguments.command](arguments)
    except UsageError as exc:
        _complain(str(exc))
        return EXIT_USAGE
    except TargetProblem as exc:
        _complain(str(exc))
        return EXIT_TARGET
    except KeyboardInterrupt:
        _complain("interrupted")
        return EXIT_INTERRUPTED


def _complain(message: str) -> None:
    # One line: whatever the cause, newlines inside it would read as several problems.
    print(f"{PROG}: " + " ".join(message.split()), file=sys.stderr)


def _say(message: str) -> None:
    print(f"{PROG}: {message}", flush=True)


# -- requirements, diff, report, serve -----------------------------------------------------------------


def _catalogue_areas() -> dict[str, str]:
    from conformance import contract

    return dict(contract.load_document("requirements.yaml").get("areas", {}))


def _checked_areas(areas: Sequence[str]) -> list[str]:
    known = _catalogue_areas()
    chosen = [a.upper() for a in areas]
    unknown = [a for a in chosen if a not in known]
    if unknown:
        raise UsageError(f"unknown area {', '.join(unknown)} (known: {', '.join(known)})")
    return chosen


def _checked_requirements(ids: Sequence[str]) -> list[str]:
    from conformance import contract

    known = {r["id"] for r in contract.requirements()}
    chosen = [i.upper() for i in ids]
    unknown = [i for i in chosen if i not in known]
    if unknown:
        raise UsageError(f"unknown requirement ID {', '.join(unknown)} (see '{PROG} requirements' for the catalogue)")
    return chosen


def _requirements(arguments: argparse.Namespace) -> int:
    from conformance import contract

    areas = _checked_areas(arguments.area)
    levels = set(arguments.level)
    names = _catalogue_areas()
    chosen = [
        r
        for r in contract.requirements()
        if (not areas or r["id"].split("-")[1] in areas) and (not levels or r["level"] in levels)
    ]
    if arguments.format == "json":
        print(json.dumps(chosen, indent=2, ensure_ascii=False))
        return EXIT_OK
    if arguments.format == "markdown":
        print("| ID | Level | Section | Requirement |\n|---|---|---|---|")
        for r in chosen:
            text = str(r["text"]).replace("|", "\\|")
            print(f"| {r['id']} | {r['level']} | {r['section']} | {text} |")
        return EXIT_OK
    current = None
    for r in chosen:
        area = r["id"].split("-")[1]
        if area != current:
            if current is not None:
                print()
            print(f"{area} — {names.get(area, '')}")
            current = area
        print(f"  {r['id']:<15} {r['level']:<6} {r['text']}  [{r['section']}]")
    print(f"\n{len(chosen)} requirement(s)", file=sys.stderr)
    return EXIT_OK


def _diff(arguments: argparse.Namespace) -> int:
    from conformance.reporting.baseline import ReportInputError, diff_results, load_results

    try:
        old, new = load_results(arguments.old), load_results(arguments.new)
    except ReportInputError as exc:
        raise UsageError(str(exc)) from None
    diff = diff_results(old, new)
    if arguments.format == "markdown":
        print(diff.render_markdown(str(arguments.old), str(arguments.new)), end="")
    else:
        print(diff.render_text(str(arguments.old), str(arguments.new)))
    return EXIT_FAILURES if diff.has_regressions else EXIT_OK


def _load_baseline(path: Path | None) -> Any:
    if path is None:
        return None
    from conformance.reporting.baseline import Baseline, BaselineError

    try:
        return Baseline.load(path)
    except BaselineError as exc:
        raise UsageError(str(exc)) from None


def _report(arguments: argparse.Namespace) -> int:
    from conformance.reporting import write_reports
    from conformance.reporting.baseline import ReportInputError

    baseline = _load_baseline(arguments.baseline)
    try:
        files = write_reports(arguments.directory, baseline=baseline)
    except ReportInputError as exc:
        raise UsageError(str(exc)) from None
    _say(f"{files.report.verdict.headline}: wrote {files.html} and {files.markdown}")
    return _exit_code(files.report)


def _selftest(arguments: argparse.Namespace) -> int:
    from conformance.selftest import run_selftest

    if os.environ.get("GWS_BASE_URL") or os.environ.get("GWS_CONFIG"):
        raise UsageError("selftest judges the embedded reference server: unset GWS_BASE_URL and GWS_CONFIG")
    try:
        return run_selftest(arguments, _run, lambda argv: build_parser().parse_args(["run", *argv]))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _serve(arguments: argparse.Namespace) -> int:
    from reference_impl.cli import serve

    return serve(arguments, prog=f"{PROG} serve")


def _load(argv: Sequence[str]) -> int:
    """The load run in a process of its own (python -m conformance.load): Locust patches the standard library
    with gevent, which must happen before ssl, socket and threading are imported, as they are here."""
    process = subprocess.Popen([sys.executable, "-P", "-m", "conformance.load", *argv])
    try:
        return process.wait()
    except KeyboardInterrupt:
        return process.wait()


def _validate(arguments: argparse.Namespace) -> int:
    from conformance.config import insecure_warning
    from conformance.passive.command import PassiveInputError, proxy, validate

    command = shlex.join([PROG, *sys.argv[1:]]) if Path(sys.argv[0]).name.startswith(PROG) else None
    if arguments.command == "proxy" and (warning := insecure_warning(os.environ)) is not None:
        _complain(warning)  # the proxy verifies an https upstream as a run verifies its target
    try:
        files, elapsed = (proxy if arguments.command == "proxy" else validate)(arguments, _say, command)
    except PassiveInputError as exc:
        raise UsageError(str(exc)) from None
    _print_summary(files.report, files, elapsed)
    return _exit_code(files.report)


_proxy = _validate  # the same judge, reports and exit codes; only where the traffic comes from differs


# -- run --------------------------------------------------------------------------------------------------


def _run(arguments: argparse.Namespace, *, faults: Sequence[str] = ()) -> int:
    """``faults``: the embedded reference server commits these (reference_impl/faults.py; selftest)."""
    from conformance.config import ROLES, insecure_warning, load_settings
    from conformance.errors import ConfigError
    from conformance.targets import (
        bayeux_preflight,
        check_stimulus,
        check_url,
        describe_target,
        embedded_target,
        on_this_machine,
        preflight,
    )

    areas = _checked_areas(arguments.area)
    ids = _checked_requirements(arguments.requirement)
    baseline = _load_baseline(arguments.baseline)
    for option, url in (("--target", arguments.target), ("--cometd-url", arguments.cometd_url)):
        if url is not None:
            check_url(url, option)
    if arguments.config is not None and not arguments.config.is_file():
        raise UsageError(f"--config {arguments.config}: no such file")
    report_dir: Path = arguments.report_dir
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--report-dir {report_dir}: cannot create it ({exc.strerror or exc})") from None

    # A generic Bayeux server is never the embedded reference: its kind alone says a target is given.
    generic = (arguments.target_kind or os.environ.get("GWS_TARGET_KIND", "")).strip().lower() == "bayeux"
    embedded = (
        arguments.target is None
        and arguments.config is None
        and not generic
        and not (os.environ.get("GWS_BASE_URL") or os.environ.get("GWS_CONFIG"))
    )
    if faults and not embedded:
        raise UsageError("faults apply to the embedded reference server only")
    csrf: bool = arguments.reference_csrf
    if csrf and not embedded:
        raise UsageError("--reference-csrf applies to the embedded reference server only")
    with embedded_target(arguments.stimulus, faults, csrf=csrf) if embedded else contextlib.nullcontext() as target:
        env = dict(os.environ)
        if target is not None:
            env.update(target.env)
        overrides = {
            "GWS_BASE_URL": arguments.target,
            "GWS_FUZZ_PROFILE": arguments.profile,
            "GWS_SEED": None if arguments.seed is None else str(arguments.seed),
            "GWS_STIMULUS": arguments.stimulus,
            "GWS_TARGET_KIND": arguments.target_kind,
            "GWS_COMETD_URL": arguments.cometd_url,
        }
        env.update({k: v for k, v in overrides.items() if v is not None})
        try:
            settings = load_settings(env, arguments.config)
        except ConfigError as exc:
            raise UsageError("configuration: " + "; ".join(exc.problems)) from None
        check_stimulus(settings.stimulus)
        if (warning := insecure_warning(env)) is not None:
            _complain(warning)  # before the first request to the target
        remote = target is None and not on_this_machine(settings.base_url)
        arguments.workers = _default_workers(arguments.workers, settings.stimulus, remote=remote)
        if target is not None:
            server = target.server
        elif settings.target_kind == "bayeux":
            server = bayeux_preflight(settings)
        else:
            server = preflight(settings, ROLES)
        description = target.description if target is not None else describe_target(settings)
        _say(f"target {description}; stimulus {settings.stimulus}")
        _say(
            f"profile {settings.fuzz.profile}, seed {settings.seed} (repeat with --seed {settings.seed}), "
            f"workers {arguments.workers}; reports in {report_dir}/"
        )
        started = time.monotonic()
        code, interrupted = _run_pytest(arguments, env, settings.seed, areas, ids, report_dir)
        elapsed = time.monotonic() - started
    return _finish(arguments, code, report_dir, baseline, server, elapsed, interrupted=interrupted)


def _default_workers(chosen: str | None, stimulus: str, *, remote: bool = False) -> str:
    """The -n given, else LOCAL_WORKERS_PER_CORE per core, at most MAX_DEFAULT_WORKERS, and at least
    REMOTE_DEFAULT_WORKERS for a ``remote`` target (on another machine); 0 for the manual stimulus (a person giving
    it works alone)."""
    if stimulus == "manual":
        if chosen not in (None, "0"):
            raise UsageError("the manual stimulus needs one person at one terminal: run it without -n")
        return "0"
    if chosen is not None:
        return chosen
    cores = os.cpu_count() or 1
    local = 0 if cores < 2 else min(cores * LOCAL_WORKERS_PER_CORE, MAX_DEFAULT_WORKERS)
    return str(max(local, REMOTE_DEFAULT_WORKERS) if remote else local)


def _plugin_arguments(workers: str) -> list[str]:
    """The child's plugins, by module name: exactly these run (PYTEST_DISABLE_PLUGIN_AUTOLOAD is set).

    Autoloading every pytest11 entry point would also make pytest rewrite the assertions of every module
    of those distributions — schemathesis, hypothesis, anyio: ~270 modules the suite imports as libraries,
    1.5 s of each run's start-up — and would let any plugin of the user's environment change the run.
    Schemathesis' and Hypothesis' own pytest plugins are for their decorated tests; the suite has none.
    """
    plugins = ["conformance.plugin", *(["xdist.plugin"] if workers != "0" else []), "allure_pytest.plugin"]
    return [word for plugin in plugins for word in ("-p", plugin)]


def _run_pytest(
    arguments: argparse.Namespace,
    env: dict[str, str],
    seed: int,
    areas: Sequence[str],
    ids: Sequence[str],
    report_dir: Path,
) -> tuple[int, bool]:
    """Run the suite in a pytest child; its exit code, and whether Ctrl-C stopped it."""
    import conformance.suite
    from conformance.reporting import ALLURE_DIR, JOURNAL_DIR, JUNIT_FILE, PYTEST_OUTPUT_FILE, RESULTS_FILE

    suite = Path(conformance.suite.__file__).resolve().parent
    out = report_dir.resolve()
    for stale in (out / RESULTS_FILE, out / JUNIT_FILE):
        stale.unlink(missing_ok=True)
    args = [
        # -P: the current directory must not shadow the installed suite (a source checkout beside a
        # `pip install .` would otherwise be imported in its place).
        sys.executable,
        "-P",
        "-m",
        "pytest",
        str(suite),
        # The suite's own settings only: no ini file of the current directory, no cache beside it.
        "-c",
        os.devnull,
        "--rootdir",
        str(suite),
        "-p",
        "no:cacheprovider",
        "-q",
        "-rfEw",
        "--color=no",
        "--gws-seed",
        str(seed),
        "--gws-results",
        str(out / RESULTS_FILE),
        "--junitxml",
        str(out / JUNIT_FILE),
        "-o",
        "junit_suite_name=gws-conformance",
        "--alluredir",
        str(out / ALLURE_DIR),
        "--clean-alluredir",
        "-p",
        "conformance.reporting.allure_labels",
        "-p",
        "conformance.reporting.journal",
        "--gws-journal",
        str(out / JOURNAL_DIR),
    ]
    if arguments.config is not None:
        args += ["--gws-config", str(arguments.config)]
    for area in areas:
        args += ["--gws-area", area]
    for rid in ids:
        args += ["--gws-requirement", rid]
    if arguments.workers != "0":
        args += ["-n", arguments.workers]
    env = {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env["PYTHONUNBUFFERED"] = "1"
    manual = env.get("GWS_STIMULUS") == "manual"
    pass_fds: tuple[int, ...] = ()
    progress_fd = None
    if not manual:
        try:
            progress_fd = os.dup(sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            progress_fd = None  # no real stdout (embedded in another program): no live display
        if progress_fd is not None:
            pass_fds = (progress_fd,)
            args += [
                "-p",
                "conformance.reporting.progress",
                "--gws-progress-fd",
                str(progress_fd),
                "--gws-progress-style",
                arguments.progress,
            ]
    # Last, as when they were loaded by entry point: after the reporting plugins above (pytest calls hooks
    # of the same kind latest-registered first).
    args += _plugin_arguments(arguments.workers)
    sys.stdout.flush()
    log_path = out / PYTEST_OUTPUT_FILE
    try:
        with log_path.open("w", encoding="utf-8") as log:
            log.write("$ " + shlex.join(args) + "\n\n")
            log.flush()
            # A person doing the manual stimulus reads pytest's own output: it stays on the terminal.
            stdout = None if manual else log
            # Outside manual mode the child has its own process group, so that a Ctrl-C on the terminal
            # reaches it once, from here: a second SIGINT would cut short the results it writes on the
            # first. The manual mode's child reads the terminal, so it stays in the terminal's group.
            process = subprocess.Popen(
                args,
                env=env,
                stdout=stdout,
                stderr=subprocess.STDOUT if not manual else None,
                pass_fds=pass_fds,
                process_group=None if manual else 0,
            )
            try:
                return process.wait(), False
            except KeyboardInterrupt:
                if not manual:
                    with contextlib.suppress(ProcessLookupError):
                        process.send_signal(signal.SIGINT)
                _say("interrupted: the suite is writing what it has judged so far (Ctrl-C again to abandon)")
                return process.wait(), True
    finally:
        if progress_fd is not None:
            os.close(progress_fd)


def _finish(
    arguments: argparse.Namespace,
    pytest_code: int,
    report_dir: Path,
    baseline: Any,
    server: str | None,
    elapsed: float,
    *,
    interrupted: bool = False,
) -> int:
    import xml.etree.ElementTree as ET

    from conformance.reporting import JUNIT_FILE, PYTEST_OUTPUT_FILE, RESULTS_FILE, write_reports
    from conformance.reporting.baseline import ReportInputError
    from conformance.reporting.junit import mark_suite_errors

    log = report_dir / PYTEST_OUTPUT_FILE
    if not (report_dir / RESULTS_FILE).is_file():
        if interrupted:
            _complain(f"interrupted before the suite wrote any result; see {log}")
            return EXIT_INTERRUPTED
        _complain(f"the suite broke before writing its results (pytest exit {pytest_code}); see {log}")
        _echo_tail(log)
        return EXIT_SUITE
    command = shlex.join([PROG, *sys.argv[1:]]) if Path(sys.argv[0]).name.startswith(PROG) else None
    junit = report_dir / JUNIT_FILE
    if junit.is_file():
        # An unreadable file stays as pytest left it: the CI system reading it will say so.
        with contextlib.suppress(ET.ParseError, OSError):
            mark_suite_errors(junit)
    try:
        context = {"server": server, "command": command, "interrupted": interrupted}
        files = write_reports(report_dir, baseline=baseline, context=context)
    except ReportInputError as exc:
        _complain(f"cannot write the reports: {exc}")
        return EXIT_SUITE
    report = files.report
    code = _exit_code(report)
    _print_summary(report, files, elapsed)
    if interrupted:
        return EXIT_INTERRUPTED
    # pytest's own verdict on the run itself: usage and internal errors, interrupted collection.
    if pytest_code in (2, 3, 4) and code != EXIT_FAILURES:
        _complain(f"pytest stopped the run (exit {pytest_code}: collection or internal error); see {log}")
        _echo_tail(log)
        code = EXIT_SUITE
    elif pytest_code == 5 or not report.tests:
        _complain(
            "no test of the suite proves the selected area(s)/requirement(s); "
            f"see '{PROG} requirements' and {report_dir}/report.html (untested requirements)"
        )
        code = EXIT_USAGE
    return code


def _exit_code(report: Any) -> int:
    if report.verdict.code == "not_conformant":
        return EXIT_FAILURES
    if report.verdict.code == "suite_error":
        return EXIT_SUITE
    return EXIT_OK


def _echo_tail(log: Path, lines: int = 15) -> None:
    if log.is_file():
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        print("\n".join(f"  | {line}" for line in tail), file=sys.stderr)


def _print_summary(report: Any, files: Any, elapsed: float) -> None:
    from conformance.delivery import describe
    from conformance.reporting.model import OUTCOME_LABELS

    counts = report.outcome_counts()
    order = ("passed", "failed", "warning", "error", "needs_stimulus", "not_applicable", "skipped")
    tests = ", ".join(f"{counts[o]} {OUTCOME_LABELS[o].lower()}" for o in order if counts.get(o))
    must, should = report.must, report.should
    _say(f"{report.verdict.headline.upper()} — {report.verdict.detail}")
    print(
        f"  MUST {must.text()} ({must.passed}/{must.judged} judged) · SHOULD {should.text()} "
        f"({should.passed}/{should.judged}) · tests: {tests or 'none'} · {elapsed:.1f} s"
    )
    for line in describe(report.results.get("delivery")):
        print(f"  {line}")
    for group in report.groups("failed")[:10]:
        test = group.first
        ids = ", ".join(test.violated or test.requirements)
        known = " [known]" if test.known else ""
        more = f" (and {len(group.tests) - 1} more test(s))" if len(group.tests) > 1 else ""
        print(f"  FAIL{known} {ids}: {test.title} — {test.nodeid}{more}")
    if len(report.groups("failed")) > 10:
        print(f"  … {len(report.groups('failed')) - 10} more distinct failures in the report")
    if files.baseline is not None:
        b = files.baseline
        print(
            f"  baseline: {len(b.known)} known failure(s), {len(b.new)} new, {len(b.stale)} stale entr"
            + ("y" if len(b.stale) == 1 else "ies")
        )
        for entry in b.stale:
            print(f"    stale (now passes, remove it): {entry.label} — {entry.reason}")
    directory = files.html.parent
    written = [files.html, directory / "summary.md", directory / "junit.xml", directory / "results.json"]
    allure = directory / "allure-results"  # run writes it; validate and proxy judge no pytest run, so never do
    listed = " · ".join(str(path) for path in written) + (f" · {allure}/" if allure.is_dir() else "")
    print(f"  reports: {listed}")


if __name__ == "__main__":
    sys.exit(main())
