"""The full kill matrix: ``gws-conformance selftest`` over every fault mode, with its runtime (not a test).

    python benchmarks/kill_matrix.py [--report-dir DIR] [-n N] [--fault NAME ...]

Runs the command as a user would (a child process; GWS_* variables removed so the embedded reference
server is judged), lets it print the matrix, and ends with the wall-clock seconds and its exit code
(0: every fault killed, 1: one survived). The matrix is in DIR/kill-matrix.json and kill-matrix.html.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-dir", default="reports/selftest")
    parser.add_argument("-n", "--workers", default="0")
    parser.add_argument("--fault", action="append", default=[])
    options = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")}
    command = [
        sys.executable,
        "-m",
        "conformance.cli",
        "selftest",
        "--report-dir",
        options.report_dir,
        "-n",
        options.workers,
    ]
    for name in options.fault:
        command += ["--fault", name]
    started = time.monotonic()
    code = subprocess.run(command, env=env, check=False).returncode
    elapsed = time.monotonic() - started
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"kill matrix: {elapsed:.0f} s wall clock, exit {code} (load average {load:.1f})")
    return code


if __name__ == "__main__":
    sys.exit(main())
