"""Reports of a conformance run, all written from the results file (and the run journal beside it).

    report.html      the single-file HTML report (conformance.reporting.html)
    summary.md       the pull-request summary (conformance.reporting.markdown)
    results.json     the plugin's results file (conformance/results.schema.json) — the input of the others
    junit.xml        pytest's JUnit XML, a ``gws_outcome`` property on every test case
    allure-results/  Allure results, fuzz cases under their own epic (conformance.reporting.allure_labels)
    journal/         what each test did: operations, notification kinds, timelines (conformance.reporting.journal)
    run.json         what the command knew beyond the results: server, command line, baseline

``gws-conformance run`` writes all of them; ``gws-conformance report DIR`` writes the first two again
from what is in DIR.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.reporting.baseline import Baseline, BaselineOutcome, load_results
from conformance.reporting.html import render_html
from conformance.reporting.markdown import render_markdown
from conformance.reporting.model import Report, build_report, load_journal

__all__ = ["ReportFiles", "add_report_dir_argument", "write_reports"]

RESULTS_FILE = "results.json"
HTML_FILE = "report.html"
MARKDOWN_FILE = "summary.md"
JUNIT_FILE = "junit.xml"
ALLURE_DIR = "allure-results"
JOURNAL_DIR = "journal"
RUN_FILE = "run.json"
PYTEST_OUTPUT_FILE = "pytest-output.txt"


def add_report_dir_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--report-dir``, as every command that writes the conformance reports takes it (run, validate, proxy)."""
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports"),
        metavar="DIR",
        help="where the reports go (default: %(default)s)",
    )


@dataclass(frozen=True)
class ReportFiles:
    report: Report
    baseline: BaselineOutcome | None
    html: Path
    markdown: Path


def write_reports(
    directory: Path,
    *,
    results_path: Path | None = None,
    out_dir: Path | None = None,
    baseline: Baseline | None = None,
    context: dict[str, Any] | None = None,
) -> ReportFiles:
    """Write report.html and summary.md from ``directory``'s results (and journal, and run.json).

    ``context`` (server, command, interrupted) is saved as run.json for later regenerations; without it the saved
    one is read. Raises ``conformance.reporting.baseline.ReportInputError`` for an unusable input file.
    """
    out_dir = out_dir or directory
    results = load_results(results_path or directory / RESULTS_FILE)
    saved = directory / RUN_FILE
    if context is None:
        context = json.loads(saved.read_text(encoding="utf-8")) if saved.is_file() else {}
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / RUN_FILE).write_text(json.dumps(context, indent=2) + "\n", encoding="utf-8")
    applied = baseline.apply(results) if baseline is not None else None
    report = build_report(
        results,
        load_journal(directory / JOURNAL_DIR),
        server=context.get("server"),
        command=context.get("command"),
        interrupted=bool(context.get("interrupted")),
        known_failures=applied.known if applied is not None else None,
        baseline=applied.to_dict() if applied is not None else None,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, markdown_path = out_dir / HTML_FILE, out_dir / MARKDOWN_FILE
    html_path.write_text(render_html(report), encoding="utf-8")
    markdown_path.write_text(render_markdown(report, HTML_FILE), encoding="utf-8")
    return ReportFiles(report, applied, html_path, markdown_path)
