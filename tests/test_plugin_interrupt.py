"""Ctrl-C stops a run of the suite even when the KeyboardInterrupt it raises is swallowed.

Python raises it wherever the main thread is when SIGINT comes — a garbage-collector callback
(Hypothesis installs one) swallows it as unraisable. The synthetic test stands for that: it is
sent SIGINT and swallows the KeyboardInterrupt; the run must stop after it, as interrupted.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SWALLOWS_THE_INTERRUPT = """
import os
import signal


def test_interrupted_where_the_interrupt_is_lost():
    try:
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the handler runs between these bytecodes
            pass
    except KeyboardInterrupt:
        pass


def test_never_runs():
    pass
"""


def test_a_lost_keyboard_interrupt_still_stops_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_synthetic=SWALLOWS_THE_INTERRUPT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "gws", "--gws-profile", "quick", "-v")
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()
    result.stdout.fnmatch_lines(["*test_interrupted_where_the_interrupt_is_lost PASSED*"])
    result.stdout.no_fnmatch_line("*test_never_runs*")


def test_without_the_suites_plugin_the_synthetic_interrupt_is_lost(pytester: pytest.Pytester) -> None:
    # The control: the synthetic test really loses its interrupt, and a plain pytest run is left alone.
    pytester.makepyfile(test_synthetic=SWALLOWS_THE_INTERRUPT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:gws", "-v")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(["*test_never_runs PASSED*"])
