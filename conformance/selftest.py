"""``gws-conformance selftest``: run the suite against each fault mode of the reference server (issue 7).

A fault (reference_impl/faults.py) is *killed* when the run against the server committing it fails
with at least one failed test, and *caught on its rule* when one of those tests names (by its
requirement markers, its violation or a fuzz finding) a requirement the fault breaks. A fault that
breaks a SHOULD is killed by the warning the suite owes it: a test whose warning names that SHOULD
(a SHOULD broken never fails a run, so exit 1 cannot be asked of it). A fault that
survives is a gap in the suite: close it with the missing test, never by weakening the fault.

Each fault gets its own run of ``gws-conformance run`` (the same function, in this process, with the
embedded reference server started with that fault), its own report directory, in the quick fuzz
profile, and the selection its requirements point at: first only the tests of the rules it breaks
(``--requirement`` each; what the matrix must prove, and a tenth of the suite or less), and only when
it survives those, every test of their areas (``--area``), so a fault caught off its rule shows as
such. The whole suite takes about half a minute to a minute on the reference; 38 of it would take half an hour
or more.
The matrix is printed and written as ``kill-matrix.json`` and ``kill-matrix.html`` in the report
directory.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from conformance import contract
from reference_impl.faults import REGISTRY, Fault

__all__ = [
    "CI_SUBSET",
    "FaultResult",
    "add_selftest_arguments",
    "client_habit_faults",
    "hostile_input_faults",
    "run_selftest",
    "select_faults",
    "warned_on",
]

# A fast, representative subset for CI: every category, each fault judged in under ~10 s by its rules' tests.
CI_SUBSET = (
    "object-id-missing",  # response-shape
    "not-found-as-success",  # errors
    "chat-history-missing-message",  # state-machines
    "notification-schema-invalid",  # notifications
    "other-agents-objects",  # security
    "users-topic-open-to-agents",  # security (CometD)
    "unknown-client-accepted",  # protocol
)


def client_habit_faults() -> tuple[str, ...]:
    """Every fault that breaks a requirement real clients rely on (one with ``clients`` in the catalogue)."""
    relied_on = {r["id"] for r in contract.requirements() if r.get("clients")}
    return tuple(name for name, fault in REGISTRY.items() if relied_on & set(fault.requirements))


def hostile_input_faults() -> tuple[str, ...]:
    """Every fault of hostile input, isolation and session security: the HOST area, another user's clientId, what
    lists reveal, sessions a password change leaves open, CSRF tokens not checked."""
    isolation = {"GWS-COMETD-021", "GWS-PERM-015", "GWS-AUTH-007", "GWS-AUTH-008", "GWS-AUTH-009"}
    return tuple(
        name
        for name, fault in REGISTRY.items()
        if any(rid.startswith("GWS-HOST-") or rid in isolation for rid in fault.requirements)
    )


SUBSETS = {"ci": lambda: CI_SUBSET, "clients": client_habit_faults, "hostile": hostile_input_faults}
MATRIX_JSON = "kill-matrix.json"
MATRIX_HTML = "kill-matrix.html"


@dataclass
class FaultResult:
    fault: str
    category: str
    requirements: list[str]  # the rules the fault breaks
    exit_code: int  # of the run against it
    killed: bool
    caught_by: list[str]  # requirement IDs of the failed tests
    on_rule: bool  # caught_by names one of the fault's own requirements
    failed_tests: list[str] = field(default_factory=list)
    warned_tests: list[str] = field(default_factory=list)  # warnings naming a SHOULD the fault breaks
    selection: str = ""  # "rule" (--requirement) or "areas AREA,..." (--area): the run that judged it
    report: str = ""  # that run's report directory, relative to the matrix
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        if not self.killed:
            return "survived" if self.exit_code in (0, 1) else f"error (exit {self.exit_code})"
        return "killed" if self.on_rule else "killed (off rule)"


def add_selftest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="only this fault (see 'gws-reference serve --fault list'); repeatable",
    )
    parser.add_argument(
        "--subset",
        choices=sorted(SUBSETS),
        help="a named subset of faults (ci: one run per category; clients: every fault that breaks a "
        "real client's habit)",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports/selftest"),
        metavar="DIR",
        help="the kill matrix and one report directory per fault (default: %(default)s)",
    )
    parser.add_argument(
        "-n", "--workers", default="0", metavar="N", help="parallel workers of each run (pytest-xdist; default 0)"
    )
    parser.add_argument("--seed", type=int, default=1, metavar="N", help="the fuzzer's seed of every run (default 1)")


def select_faults(names: Sequence[str], subset: str | None) -> list[Fault]:
    """The faults named (all of them without names or subset); KeyError names an unknown one."""
    chosen = list(names) + list(SUBSETS[subset]() if subset else ())
    if not chosen:
        return list(REGISTRY.values())
    unknown = [n for n in chosen if n not in REGISTRY]
    if unknown:
        raise KeyError(", ".join(unknown))
    return [REGISTRY[n] for n in dict.fromkeys(chosen)]


def areas_of(fault: Fault) -> list[str]:
    return sorted({rid.split("-")[1] for rid in fault.requirements})


def caught_by(results: dict[str, Any], outcomes: tuple[str, ...] = ("failed",)) -> tuple[list[str], list[str]]:
    """The requirement IDs and node ids of the tests of one results file that ended in one of ``outcomes``."""
    ids: set[str] = set()
    nodes = []
    for test in results.get("tests", []):
        if test.get("outcome") not in outcomes:
            continue
        nodes.append(test["nodeid"])
        ids.update(test.get("requirements", []))
        ids.update(test.get("violated", []))
        for finding in test.get("findings", []):
            ids.update(finding.get("requirement_ids", []))
    return sorted(ids), nodes


def warned_on(results: dict[str, Any], rules: set[str]) -> tuple[list[str], list[str]]:
    """The requirement IDs of ``rules`` that tests warned about, and those tests' node ids."""
    ids: set[str] = set()
    nodes = []
    for test in results.get("tests", []):
        if test.get("outcome") != "warning":
            continue
        findings = test.get("findings", [])
        named = {*test.get("violated", []), *(i for f in findings for i in f.get("requirement_ids", []))}
        if named & rules:
            nodes.append(test["nodeid"])
            ids.update(named & rules)
    return sorted(ids), nodes


def _should_rules(fault: Fault) -> set[str]:
    levels = {r["id"]: r["level"] for r in contract.requirements()}
    return {rid for rid in fault.requirements if levels.get(rid) == "SHOULD"}


def _run_one(
    fault: Fault, arguments: argparse.Namespace, run: Any, parse_run: Any, directory: Path, selection: list[str]
) -> tuple[int, Path]:
    argv = [
        "--profile",
        "quick",
        "--seed",
        str(arguments.seed),
        "-n",
        str(arguments.workers),
        "--report-dir",
        str(directory),
        "--progress",
        "plain",
        *selection,
    ]
    return run(parse_run(argv), faults=(fault.name,)), directory


def judge(fault: Fault, exit_code: int, results_file: Path, seconds: float, selection: str = "rule") -> FaultResult:
    results = json.loads(results_file.read_text(encoding="utf-8")) if results_file.is_file() else {}
    ids, nodes = caught_by(results)
    warned_ids, warned = warned_on(results, _should_rules(fault)) if exit_code in (0, 1) else ([], [])
    ids = sorted({*ids, *warned_ids})
    return FaultResult(
        fault=fault.name,
        category=fault.category,
        requirements=list(fault.requirements),
        exit_code=exit_code,
        killed=(exit_code == 1 and bool(nodes)) or bool(warned),
        caught_by=ids,
        on_rule=bool(set(ids) & set(fault.requirements)),
        failed_tests=nodes,
        warned_tests=warned,
        selection=selection,
        report=results_file.parent.name,
        seconds=round(seconds, 1),
    )


def run_selftest(arguments: argparse.Namespace, run: Any, parse_run: Any) -> int:
    """``run(namespace, faults=...)`` is the CLI's run; ``parse_run(argv)`` parses its arguments."""
    try:
        faults = select_faults(arguments.fault, arguments.subset)
    except KeyError as exc:
        raise ValueError(f"unknown fault {exc.args[0]} (see 'gws-reference serve --fault list')") from None
    out: Path = arguments.report_dir
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    rows = []
    for index, fault in enumerate(faults, 1):
        print(
            f"gws-conformance selftest: [{index}/{len(faults)}] {fault.name} ({fault.category}), "
            f"breaks {', '.join(fault.requirements)}",
            flush=True,
        )
        one = time.monotonic()
        if fault.name.startswith(LOAD_FAULT_PREFIX):
            rows.append(_judge_load_fault(fault, out / fault.name, time.monotonic()))
            continue
        rules = [a for rid in fault.requirements for a in ("--requirement", rid)]
        code, directory = _run_one(fault, arguments, run, parse_run, out / fault.name, rules)
        _stop_if_interrupted(code)
        selection = "rule"
        # Survived (no warning on its SHOULD either), or no test proves its rules.
        if code in (0, 2) and not judge(fault, code, directory / "results.json", 0.0).killed:
            areas = areas_of(fault)
            print(
                f"gws-conformance selftest: {fault.name} not killed by the tests of its rules; "
                f"now areas {', '.join(areas)}",
                flush=True,
            )
            argv = [a for area in areas for a in ("--area", area)]
            code, directory = _run_one(fault, arguments, run, parse_run, out / f"{fault.name}.areas", argv)
            _stop_if_interrupted(code)
            selection = "areas " + ",".join(areas)
        rows.append(judge(fault, code, directory / "results.json", time.monotonic() - one, selection))
    elapsed = time.monotonic() - started
    print_matrix(rows, elapsed)
    write_matrix(out, rows, elapsed)
    errors = [r for r in rows if r.exit_code not in (0, 1)]
    if any(not r.killed for r in rows if r not in errors):
        return 1
    return max((r.exit_code for r in errors), default=0)


# Faults of delivery under load (one message in a thousand) are judged by a load run, not by the suite.
LOAD_FAULT_PREFIX = "load-"
# Enough work for several thousand messages in the time given, on two busy cores: 10 agents changing
# state and DND without think time deliver 150-300 messages a second.
LOAD_RUN = ["--agents", "10", "--duration", "15", "--wait", "0,0.01", "--mix", "state=1,dnd=1"]


def _judge_load_fault(fault: Fault, directory: Path, started: float) -> FaultResult:
    """``gws-conformance load`` against the embedded reference committing ``fault``: killed when the verdict
    fails, on its rule when a failed criterion names one of the fault's requirements."""
    import subprocess
    import sys

    command = [sys.executable, "-P", "-m", "conformance.load", *LOAD_RUN, "--fault", fault.name]
    code = subprocess.run([*command, "--report-dir", str(directory)], check=False).returncode
    _stop_if_interrupted(code)
    document_file = directory / "load.json"
    document = json.loads(document_file.read_text(encoding="utf-8")) if document_file.is_file() else {}
    failed = [c for c in document.get("criteria", []) if not c.get("passed")]
    ids = sorted({rid for c in failed for rid in c.get("requirements", [])})
    return FaultResult(
        fault=fault.name,
        category=fault.category,
        requirements=list(fault.requirements),
        exit_code=code,
        killed=code == 1 and bool(failed),
        caught_by=ids,
        on_rule=bool(set(ids) & set(fault.requirements)),
        failed_tests=[f"load: {c['name']} = {c['value']}" for c in failed],
        selection="load run",
        report=directory.name,
        seconds=round(time.monotonic() - started, 1),
    )


def _stop_if_interrupted(code: int) -> None:
    """A run stopped by Ctrl-C wrote its reports; the faults after it are not started."""
    from conformance.cli import EXIT_INTERRUPTED

    if code == EXIT_INTERRUPTED:
        raise KeyboardInterrupt


def summary_line(rows: Sequence[FaultResult], elapsed: float) -> str:
    killed = sum(r.killed for r in rows)
    on_rule = sum(r.killed and r.on_rule for r in rows)
    return (
        f"{killed}/{len(rows)} faults killed ({on_rule} by a test naming the broken rule), "
        f"{len(rows) - killed} survived, {elapsed:.0f} s"
    )


def print_matrix(rows: Sequence[FaultResult], elapsed: float) -> None:
    width = max((len(r.fault) for r in rows), default=5)
    print(f"\n{'fault':<{width}}  {'category':<14}  {'verdict':<17}  caught by")
    for r in rows:
        ids = ", ".join(f"*{i}" if i in r.requirements else i for i in r.caught_by) or "—"
        print(f"{r.fault:<{width}}  {r.category:<14}  {r.verdict:<17}  {ids}")
    print("(* a requirement the fault breaks)")
    print(f"gws-conformance selftest: {summary_line(rows, elapsed)}")


def write_matrix(directory: Path, rows: Sequence[FaultResult], elapsed: float) -> None:
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(elapsed, 1),
        "summary": summary_line(rows, elapsed),
        "faults": [{**asdict(r), "verdict": r.verdict} for r in rows],
    }
    (directory / MATRIX_JSON).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (directory / MATRIX_HTML).write_text(render_html(document), encoding="utf-8")


def render_html(document: dict[str, Any]) -> str:
    """One offline page (inline CSS, a CSP forbidding every request), like report.html."""

    def e(value: Any) -> str:
        return escape(str(value), quote=True)

    lines = []
    for row in document["faults"]:
        own = set(row["requirements"])
        ids = " ".join(f'<code class="{"own" if i in own else ""}">{e(i)}</code>' for i in row["caught_by"]) or "—"
        kind = "killed" if row["killed"] and row["on_rule"] else "off" if row["killed"] else "survived"
        warned = f" + {len(row['warned_tests'])} warned" if row.get("warned_tests") else ""
        lines.append(
            f'<tr class="{kind}"><td><a href="{e(row["report"])}/report.html">{e(row["fault"])}</a></td>'
            f'<td>{e(row["category"])}</td><td class="v">{e(row["verdict"])}</td>'
            f"<td>{' '.join(f'<code>{e(i)}</code>' for i in row['requirements'])}</td><td>{ids}</td>"
            f"<td>{e(row['selection'])}</td><td>{len(row['failed_tests'])}{warned}</td>"
            f"<td>{row['seconds']:.1f}</td></tr>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>gws-conformance kill matrix</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #1d2330; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .35em .6em; border-bottom: 1px solid #e3e6ec; vertical-align: top; }}
code {{ font-size: 12px; background: #f2f4f7; padding: 0 .3em; border-radius: 3px; }}
code.own {{ background: #d8f0dd; font-weight: 600; }}
tr.killed td.v {{ color: #1a7f37; }} tr.off td.v {{ color: #9a6700; }} tr.survived td.v {{ color: #cf222e; font-weight: 600; }}
</style></head><body>
<h1>Kill matrix</h1>
<p>{e(document["summary"])} · generated {e(document["generated_at"])}</p>
<p>Each fault mode of the reference server (reference_impl/faults.py) against the suite; highlighted:
a requirement the fault breaks. Each fault's name links to its run's report.</p>
<table><thead><tr><th>Fault</th><th>Category</th><th>Verdict</th><th>Breaks</th><th>Caught by</th>
<th>Selection</th><th>Failed tests</th><th>Seconds</th></tr></thead>
<tbody>
{chr(10).join(lines)}
</tbody></table></body></html>
"""
