"""``gws-conformance validate FILE.har ...`` and ``gws-conformance proxy --upstream URL``: arguments and commands,
called by conformance.cli."""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from conformance.config import tls_problems
from conformance.passive.har import HarError, read_hars
from conformance.passive.judge import DEFAULT_BASE_PATH, Judge
from conformance.passive.report import write_passive_reports
from conformance.reporting import ReportFiles, add_report_dir_argument

__all__ = ["PassiveInputError", "add_proxy_arguments", "add_validate_arguments", "proxy", "validate"]


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
    add_report_dir_argument(parser)


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


# -- proxy --------------------------------------------------------------------------------------------------

DEFAULT_LISTEN = "127.0.0.1:8081"
RECORDING_FILE = "recording.har"


def add_proxy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--upstream",
        required=True,
        metavar="URL",
        help="the GWS server (http://host:port, or its base URL http://host:port/api/v2); an https one is verified "
        "as for run: GWS_CA_BUNDLE names a private CA, GWS_INSECURE=1 turns verification off",
    )
    parser.add_argument(
        "--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT", help="where the proxy listens (default: %(default)s)"
    )
    add_report_dir_argument(parser)
    parser.add_argument(
        "--report-every",
        type=float,
        default=10.0,
        metavar="S",
        help="write the reports every S seconds while traffic comes (default: %(default)s); always on Ctrl-C",
    )


def proxy(arguments: argparse.Namespace, say: Callable[[str], None], command: str | None) -> tuple[ReportFiles, float]:
    """Serve the proxy until Ctrl-C, judging and recording; the last reports and the seconds it ran."""
    from conformance.passive.har import har_document
    from conformance.passive.proxy import Proxy
    from reference_impl.embedded import serve_in_thread

    upstream = urlsplit(arguments.upstream)
    if upstream.scheme not in ("http", "https") or not upstream.netloc:
        raise PassiveInputError(f"--upstream {arguments.upstream}: not an http(s) URL")
    if problems := tls_problems(os.environ):
        raise PassiveInputError("; ".join(problems))
    host, _, port = arguments.listen.rpartition(":")
    if not host or not port.isdigit():
        raise PassiveInputError(f"--listen {arguments.listen}: expected HOST:PORT")
    base_path = upstream.path.rstrip("/") or DEFAULT_BASE_PATH
    judge = Judge(base_path)
    app = Proxy(arguments.upstream, judge)
    started = time.monotonic()
    target = f"traffic through the proxy to {app.upstream}"

    def write() -> ReportFiles:
        results = app.judged().results()
        recording = har_document(list(app.entries), creator="gws-conformance proxy")
        arguments.report_dir.mkdir(parents=True, exist_ok=True)
        (arguments.report_dir / RECORDING_FILE).write_text(json.dumps(recording, indent=1) + "\n", encoding="utf-8")
        return write_passive_reports(results, arguments.report_dir, target=target, command=command)

    try:
        server_context = serve_in_thread(app, host=host.strip("[]"), port=int(port), server_headers=False)
        server = server_context.__enter__()
    except OSError as exc:
        raise PassiveInputError(f"--listen {arguments.listen}: cannot listen there ({exc.strerror or exc})") from None
    written = -1
    # A proxy started in the background (CI, a service manager) is ended by SIGTERM: the same end as Ctrl-C.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        say(f"proxy on {server.origin}{base_path} -> {app.upstream}{base_path}; Ctrl-C ends it and writes the reports")
        while True:
            time.sleep(arguments.report_every)
            if len(app.entries) != written:
                written = len(app.entries)
                write()
                say(f"{judge.tally.line()}; reports in {arguments.report_dir}/")
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server_context.__exit__(None, None, None)
    app.judged()
    if judge.tally.rest + judge.tally.bayeux == 0:
        raise PassiveInputError(f"no GWS exchange went through the proxy ({judge.tally.entries} entries)")
    files = write()
    say(f"judged {judge.tally.line()}; recording in {arguments.report_dir / RECORDING_FILE}")
    return files, time.monotonic() - started
