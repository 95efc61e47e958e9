"""pytest plugin: the live progress display of ``gws-conformance run``.

``gws-conformance run`` starts pytest with its normal output going to ``pytest-output.txt`` in the report
directory and hands it one more file descriptor for this display (``--gws-progress-fd FD``):

- on a terminal, one status line rewritten in place (tests done, counts per outcome, elapsed time, the
  test that just finished), with every failure, warning and error printed above it as it happens;
- otherwise (CI logs), plain lines: every failure, warning and error, and a progress line at each
  tenth of the run.

Only the process that reports runs it: the pytest-xdist controller, or the one pytest process.
"""

from __future__ import annotations

import os
import time
from typing import Any, TextIO

import pytest

__all__ = ["Progress"]

_SEVERITY = {"passed": 0, "skipped": 1, "not_applicable": 1, "needs_stimulus": 1, "warning": 2, "failed": 3, "error": 3}
# Outcomes worth a line of their own, and how they read (and colour) in it.
_LOUD = {"failed": ("FAIL ", "31"), "error": ("ERROR", "35"), "warning": ("WARN ", "33")}
_COUNTED = ("passed", "failed", "warning", "error", "not_applicable", "needs_stimulus", "skipped")
_SYMBOLS = {
    "passed": "pass",
    "failed": "fail",
    "warning": "warn",
    "error": "error",
    "not_applicable": "n/a",
    "needs_stimulus": "needs stimulus",
    "skipped": "skipped",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gws")
    group.addoption(
        "--gws-progress-fd",
        type=int,
        metavar="FD",
        dest="gws_progress_fd",
        help="Write a live progress display to this open file descriptor.",
    )
    group.addoption(
        "--gws-progress-style",
        choices=("auto", "tty", "plain"),
        default="auto",
        dest="gws_progress_style",
        help="tty: one line rewritten in place; plain: lines (default: auto).",
    )


def pytest_configure(config: pytest.Config) -> None:
    fd = config.getoption("gws_progress_fd", None)
    if fd is None or hasattr(config, "workerinput"):
        return
    try:
        out = os.fdopen(fd, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    except OSError:
        return  # no display is better than a run that cannot start
    style = config.getoption("gws_progress_style")
    tty = out.isatty() if style == "auto" else style == "tty"
    config.pluginmanager.register(Progress(out, tty=tty), "gws-progress")


class Progress:
    """Counts finished tests by outcome and shows them as they finish."""

    def __init__(self, out: TextIO, *, tty: bool) -> None:
        self.out = out
        self.tty = tty
        self.total: int | None = None
        self.done = 0
        self.counts = dict.fromkeys(_COUNTED, 0)
        self.started = time.monotonic()
        self._worst: dict[str, str] = {}
        self._titles: dict[str, str] = {}
        self._next_tenth = 1
        self._status_shown = False

    # -- totals ------------------------------------------------------------------------------------

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._set_total(len(session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if self.total is None:
            self._set_total(len(ids))

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        if self.total is not None:
            self.total = max(self.total - len(items), 0)

    def _set_total(self, total: int) -> None:
        self.total = total
        if not self.tty:
            self._line(f"running {total} tests")

    # -- per test ------------------------------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "gws", None)
        outcome = str(data.get("outcome")) if isinstance(data, dict) else report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "passed"
        current = self._worst.get(report.nodeid, "passed")
        if _SEVERITY.get(outcome, 0) > _SEVERITY.get(current, 0):
            self._worst[report.nodeid] = outcome
            title = data.get("title") if isinstance(data, dict) else None
            violated = data.get("violated") if isinstance(data, dict) else None
            text = title or (report.longreprtext.strip().splitlines() or [""])[-1]
            if violated:
                text = f"{text} ({', '.join(violated)})"
            self._titles[report.nodeid] = text

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        outcome = self._worst.pop(nodeid, "passed")
        title = self._titles.pop(nodeid, "")
        self.done += 1
        self.counts[outcome if outcome in self.counts else "passed"] += 1
        if outcome in _LOUD:
            label, colour = _LOUD[outcome]
            label = f"\x1b[{colour};1m{label}\x1b[0m" if self.tty else label.strip()
            self._line(f"{label} {nodeid}" + (f" — {title}" if title else ""))
        if self.tty:
            self._status(nodeid)
        elif self.total and self.done * 10 >= self._next_tenth * self.total:
            while self.done * 10 >= self._next_tenth * self.total:
                self._next_tenth += 1
            self._line(f"progress: {self._summary()}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.tty and self._status_shown:
            self.out.write("\r\x1b[K")
        self.out.flush()

    # -- output --------------------------------------------------------------------------------------

    def _summary(self) -> str:
        total = self.total or self.done
        percent = int(100 * self.done / total) if total else 100
        counts = ", ".join(f"{n} {_SYMBOLS[k]}" for k, n in self.counts.items() if n)
        elapsed = time.monotonic() - self.started
        return f"{self.done}/{total} ({percent}%) {counts or 'nothing yet'} — {elapsed:.0f} s"

    def _line(self, text: str) -> None:
        if self.tty and self._status_shown:
            self.out.write("\r\x1b[K")
            self._status_shown = False
        self.out.write(text + "\n")

    def _status(self, nodeid: str) -> None:
        try:
            width = os.get_terminal_size(self.out.fileno()).columns
        except (OSError, ValueError):
            width = 0
        width = width if width >= 40 else 100  # a pseudo-terminal may report no size at all
        text = f"{self._summary()}  {nodeid}"
        if len(text) > width - 1:
            text = text[: max(width - 2, 10)] + "…"
        self.out.write("\r\x1b[K" + text)
        self.out.flush()
        self._status_shown = True
