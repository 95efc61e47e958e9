"""How long ``gws-conformance run`` takes against the embedded reference server (a benchmark, not a test).

    python benchmarks/run_speed.py [--repeat N] [--seed N] [--only quick|default]

Runs the command as a user would (a child process, reports in a temporary directory) for the default
and the quick fuzz profile, each with ``-n 0`` (one process) and ``-n 2`` (two pytest-xdist workers),
and prints the wall-clock seconds (the median of ``--repeat`` runs) with each run's exit code. The
command's own defaults are the default profile with one worker per core: on two cores, the
``default -n 2`` line is what ``gws-conformance run`` without options costs.
Targets (issue 6, a 2-core machine): default profile about a minute or less, quick profile 20 s or
less, ``-n 2`` clearly faster than ``-n 0``. The machine's load is printed too: other work on the
same cores slows every figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROFILES = ("default", "quick")
WORKERS = ("0", "2")


def one_run(profile: str, workers: str, seed: str) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")}
    with tempfile.TemporaryDirectory(prefix="gws-bench-") as reports:
        command = [
            sys.executable,
            "-m",
            "conformance.cli",
            "run",
            "--profile",
            profile,
            "-n",
            workers,
            "--seed",
            seed,
            "--report-dir",
            reports,
            "--progress",
            "plain",
        ]
        started = time.monotonic()
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
    if result.returncode not in (0, 1):
        sys.stderr.write(result.stdout[-2000:] + result.stderr[-2000:])
    return elapsed, result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration; the median is shown")
    parser.add_argument("--seed", default="20260105", help="fuzzing seed, the same for every run")
    parser.add_argument("--only", choices=PROFILES, help="measure one profile only")
    arguments = parser.parse_args()
    load = os.getloadavg()
    print(f"cpus {os.cpu_count()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, seed {arguments.seed}")
    figures: dict[tuple[str, str], float] = {}
    for profile in [arguments.only] if arguments.only else PROFILES:
        for workers in WORKERS:
            times, codes = [], []
            for _ in range(arguments.repeat):
                elapsed, code = one_run(profile, workers, arguments.seed)
                times.append(elapsed)
                codes.append(code)
            figures[profile, workers] = statistics.median(times)
            shown = ", ".join(f"{t:.1f}" for t in times)
            print(
                f"gws-conformance run --profile {profile:<7} -n {workers}: {figures[profile, workers]:6.1f} s "
                f"(runs: {shown}; exit codes {codes})",
                flush=True,
            )
    for profile in PROFILES:
        if (profile, "0") in figures and (profile, "2") in figures:
            speedup = figures[profile, "0"] / figures[profile, "2"]
            print(f"{profile}: -n 2 is {speedup:.2f}x the speed of -n 0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
