"""``gws-conformance validate FILE.har ...``: the arguments and the command, called by conformance.cli."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from conformance.passive.har import HarError, read_hars
from conformance.passive.judge import DEFAULT_BASE_PATH, Judge
from conformance.passive.report import write_passive_reports
from conformance.reporting import ReportFiles

__all__ = ["PassiveInputError", "add_validate_arguments", "validate"]


class PassiveInputError(Exception):
    """Unusable input (a file that is no HAR, traffic without one GWS exchange): one line, exit 2."""


def add_validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE.har", help="HAR 1.2 files (browsers, proxies)")
    parser.add_argument(
        "--base-path",
        default=DEFAULT_BASE_PATH,
        metavar="PATH",
        help="the API's base path in the recorded URLs (default: %(default)s); other URLs are not GWS traffic",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports"),
        metavar="DIR",
        help="where the reports go (default: %(default)s)",
    )


def validate(
    arguments: argparse.Namespace, say: Callable[[str], None], command: str | None
) -> tuple[ReportFiles, float]:
    """Judge the files and write the reports: the ReportFiles and the seconds it took (the CLI prints the summary
    and picks the exit code).

    Raises PassiveInputError for input that cannot be judged."""
    started = time.monotonic()
    try:
        entries = read_hars(arguments.files)
    except HarError as exc:
        raise PassiveInputError(str(exc)) from None
    judge = Judge(arguments.base_path)
    judge.judge_all(entries)
    tally = judge.tally
    say(f"judged {', '.join(str(f) for f in arguments.files)}: {tally.line()}")
    if tally.rest + tally.bayeux == 0:
        raise PassiveInputError(
            f"no GWS exchange (no URL under {judge.base_path}/) in {len(entries)} entries: wrong file or --base-path?"
        )
    for line in tally.invalid_requests[:5]:
        say(f"  request breaking the contract (the client's doing; it judges the refusal): {line}")
    files = write_passive_reports(
        judge.results(),
        arguments.report_dir,
        target="recorded traffic: " + ", ".join(f.name for f in arguments.files),
        command=command,
    )
    return files, time.monotonic() - started
