"""Child processes the tests start (Chromium, third-party servers): stopped the same way everywhere."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen[str], grace_s: float) -> None:
    """SIGTERM, and SIGKILL when the process has not ended ``grace_s`` later; reaped either way."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
