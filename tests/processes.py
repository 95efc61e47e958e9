"""Child processes the tests start (Chromium, third-party servers): stopped the same way everywhere."""

from __future__ import annotations

import os
import signal
import subprocess


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


def _signal(process: subprocess.Popen[str], signum: int, group: bool) -> None:
    try:
        if group:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
    except ProcessLookupError:
        pass
