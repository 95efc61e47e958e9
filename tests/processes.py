"""Child processes the tests start (Chromium, third-party servers): stopped the same way everywhere."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

JS_DIR = Path(__file__).parent / "js"
NODE = shutil.which("node")


def node_skip_reason(*packages: str) -> str | None:
    """Why a test that runs a script of tests/js with these npm packages must skip; None: it can run."""
    if NODE is None:
        return "node is not on PATH"
    if not all((JS_DIR / "node_modules" / package).is_dir() for package in packages):
        return "tests/js/node_modules missing: run `(cd tests/js && npm ci)`"
    return None


def stop(process: subprocess.Popen[str], grace_s: float, *, group: bool = False) -> None:
    """SIGTERM, and SIGKILL when the process has not ended ``grace_s`` later; reaped either way.

    ``group``: the process leads its own session (``start_new_session=True``) and its children go with it:
    Chromium's renderer and GPU processes outlive a terminated browser process and keep writing into its
    profile directory, which the caller is about to remove.
    """
    if process.poll() is None:
        _signal(process, signal.SIGTERM, group)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            _signal(process, signal.SIGKILL, group)
            process.wait()
    if group:
        _signal(process, signal.SIGKILL, group)  # whatever of the group is left


@contextlib.contextmanager
def announced(
    args: list[str], cwd: Path, prefix: str, deadline_s: float
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run ``args`` until the block ends, once its first line of output (which it yields) begins with ``prefix``.

    stdin stays open: a script that ends when it closes leaves nothing behind a killed test run.
    """
    name = Path(args[1] if len(args) > 1 else args[0]).name
    process = subprocess.Popen(
        args, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        try:
            line = first_line(process, deadline_s)
        except TimeoutError:
            raise AssertionError(f"{name} printed nothing within {deadline_s:g} s") from None
        if not line.startswith(prefix):
            process.kill()
            raise AssertionError(f"{name} did not start: {line!r} {process.communicate()[1][-2000:]}")
        yield process, line
    finally:
        stop(process, grace_s=5)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def first_line(process: subprocess.Popen[str], deadline_s: float) -> str:
    """The process's first stdout line, read in a thread so that a silent process cannot hang the test; killed and
    TimeoutError when none came within ``deadline_s``."""
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import TimeoutError as FutureTimeout

    assert process.stdout is not None
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(process.stdout.readline).result(timeout=deadline_s).strip()
    except FutureTimeout:
        process.kill()  # unblocks the reading thread
        raise TimeoutError from None
    finally:
        pool.shutdown(wait=False)


def _signal(process: subprocess.Popen[str], signum: int, group: bool) -> None:
    try:
        if group:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
    except ProcessLookupError:
        pass
