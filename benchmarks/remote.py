"""How long ``gws-conformance run`` takes against a remote target, across round-trip times (a benchmark, not a test).

    python benchmarks/remote.py [--rtt 0,20,50,100] [--profile quick,default] [--repeat N] [--seed N]
                                [-n WORKERS] [--agents N] [--fault NAME] [--embedded] [--keep DIR]

Starts ``gws-reference serve --stimulus`` as a separate process on loopback, and for each round-trip time
puts tests/delay_proxy.py in front of it (0: no proxy, the server directly), then runs the suite against it
as a vendor would (a child process, the suite's own settings for a remote target, reports in a temporary
directory). Prints per run: wall-clock seconds, the exit code, the HTTP requests the suite sent, the quiet
windows it spent (count and seconds) and the notification delivery latency it measured (results.json,
``delivery``), the CPU seconds of the run, each worker's seconds of tests and those of the agent-account
unit one worker runs in turn (conformance.scheduling). Without ``-n`` each run gets the suite's default;
a proxied one the default of a target on another machine (the suite sees 127.0.0.1). ``--embedded`` also
times the embedded run for comparison (``--rtt ''``: that alone). ``--fault NAME`` makes the
reference commit a fault (time to a verdict against a broken target). Loopback only; the machine's load is
printed, since other work on the same cores slows every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from delay_proxy import delay_proxy  # noqa: E402  (a test helper, shared with tests/test_remote.py)

from conformance.cli import REMOTE_DEFAULT_WORKERS  # noqa: E402
from conformance.scheduling import AGENT_ACCOUNTS, scope  # noqa: E402

SERVING = re.compile(r"serving the GWS API at (http://[^\s/]+)/api/v2")
PASSWORDS = {"admin": "admin-secret", "supervisor": "supervisor-secret"}  # fixtures/contact-center.yaml


@contextlib.contextmanager
def reference(agents: int, faults: list[str]) -> Iterator[str]:
    """A separate reference server; yields its origin (http://127.0.0.1:PORT)."""
    command = [sys.executable, "-m", "reference_impl", "serve", "--stimulus", "--port", "0"]
    command += ["--agents", str(agents)] if agents else []
    for fault in faults:
        command += ["--fault", fault]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = SERVING.search(line)
        if found is None:
            raise RuntimeError(f"the reference did not start: {line!r}")
        # Its access log goes on: read and dropped, or the full pipe would stop the server mid-run.
        threading.Thread(target=process.stdout.read, daemon=True).start()
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(timeout=15)


def suite_env(base_url: str | None, agents: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")}
    if base_url is not None:
        env["GWS_BASE_URL"] = base_url
        env["GWS_STIMULUS"] = "reference"
        for role, password in PASSWORDS.items():
            env[f"GWS_{role.upper()}_PASSWORD"] = password
        for n in range(1, max(agents, 3) + 1):
            env[f"GWS_AGENT{n}_PASSWORD"] = f"agent{n}-secret"
        if agents > 3:
            env["GWS_AGENTS"] = str(agents)  # the suite's pool: without it, the suite drives agent1..agent3 only
    return env


def one_run(
    base_url: str | None, profile: str, workers: str, seed: str, agents: int, keep: Path | None = None
) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        if keep is None:
            reports = stack.enter_context(tempfile.TemporaryDirectory(prefix="gws-remote-"))
        else:
            keep.mkdir(parents=True, exist_ok=True)
            reports = tempfile.mkdtemp(prefix=f"{'remote' if base_url else 'embedded'}-{profile}-{seed}-", dir=keep)
        command = [sys.executable, "-m", "conformance.cli", "run", "--profile", profile]
        command += ["-n", workers] if workers else []  # none given: the suite's own default for the target
        command += ["--seed", seed, "--report-dir", reports, "--progress", "plain"]
        started, cpu, machine = time.monotonic(), _children_cpu_s(), _machine_busy_s()
        started_wall = time.time()
        result = subprocess.run(
            command, cwd=ROOT, env=suite_env(base_url, agents), capture_output=True, text=True, check=False
        )
        elapsed, cpu = time.monotonic() - started, _children_cpu_s() - cpu
        ended_wall = time.time()
        machine_end = _machine_busy_s()
        if result.returncode not in (0, 1):
            sys.stderr.write(result.stdout[-2000:] + result.stderr[-2000:])
        figures: dict[str, Any] = {"wall_s": elapsed, "cpu_s": cpu, "exit": result.returncode, "requests": 0}
        figures["machine_s"] = None if machine is None or machine_end is None else machine_end - machine
        figures["delivery"] = None
        worker_of: dict[str, str] = {}
        entries = [
            json.loads(line)
            for journal in Path(reports, "journal").glob("*.jsonl")
            for line in journal.read_text(encoding="utf-8").splitlines()
        ]
        for entry in entries:
            figures["requests"] += entry.get("http_count", 0)
            worker_of[entry["nodeid"]] = entry.get("worker", "main")
        figures["handover"] = handover(entries, started_wall, ended_wall)
        results = Path(reports, "results.json")
        if results.exists():
            data = json.loads(results.read_text(encoding="utf-8"))
            figures["delivery"] = data.get("delivery")
            figures["failed"] = [t["nodeid"] for t in data["tests"] if t["outcome"] in ("failed", "error")]
            figures["busy_s"], figures["chain_s"] = busy(data["tests"], worker_of, max(agents, 3))
        if keep is not None:
            print(f"reports in {reports}", flush=True)
    return figures


def _children_cpu_s() -> float:
    """CPU seconds (user + system) of every finished child process: the suite, its workers and, when embedded,
    the reference it serves; on 2 cores a run cannot take less than half of it."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _machine_busy_s() -> float | None:
    """CPU seconds every core of the machine has been busy since boot (Linux's /proc/stat; None elsewhere): over a
    run, the suite, the reference, the delay proxy and anything else the machine ran. Busy cores the whole run
    long mean the run waited for CPU, which more workers cannot shorten."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [int(value) for value in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle and iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # guest time is already inside user time


def busy(tests: list[dict[str, Any]], worker_of: dict[str, str], pool: int) -> tuple[dict[str, float], float]:
    """Seconds of tests per worker, and of the agent-account unit that one worker runs in turn."""
    per_worker: dict[str, float] = {}
    chain = 0.0
    for test in tests:
        duration = test.get("duration_s") or 0.0
        worker = worker_of.get(test["nodeid"], "?")
        per_worker[worker] = per_worker.get(worker, 0.0) + duration
        chain += duration if scope(test["nodeid"], pool) == AGENT_ACCOUNTS else 0.0
    return per_worker, chain


def handover(entries: list[dict[str, Any]], started: float, ended: float) -> dict[str, Any]:
    """From the journal: the seconds before the first test began (start-up: workers, collection, the target's
    discovery) and after the last ended (reports); the seconds tests waited for accounts other tests held and
    then for their messages to settle, summed over workers, by kind of test."""
    began = [e["started"] for e in entries if "started" in e]
    finished = [e["ended"] for e in entries if "ended" in e]
    waits: dict[str, list[float]] = {}
    for entry in entries:
        kind = entry["nodeid"].split("/")[0]
        if kind == "fuzz":
            kind += " as " + entry["nodeid"].rpartition(" as ")[2].rstrip("]")
        wait = waits.setdefault(kind, [0.0, 0.0])
        wait[0] += entry.get("waited_for_accounts_s", 0.0)
        wait[1] += entry.get("settling_s", 0.0)
    return {
        "start_up_s": min(began) - started if began else None,
        "reports_s": ended - max(finished) if finished else None,
        "waits": waits,
    }


def show(label: str, figures: dict[str, Any]) -> None:
    delivery = figures["delivery"] or {}
    windows, latency = delivery.get("windows_s", {}), delivery.get("latency_s", {})
    waited = f"{windows.get('count', 0)} quiet windows, {windows.get('total', 0):.1f} s"
    if windows.get("count"):
        waited += f" (median {windows['median']:g} s)"
    measured = (
        f"latency median {1000 * latency['median']:.0f} ms max {1000 * latency['max']:.0f} ms"
        if latency.get("count")
        else "no latency measured"
    )
    late = len(delivery.get("late_messages", []))
    failed = figures.get("failed") or []
    workers = ", ".join(f"{w} {s:.0f}" for w, s in sorted(figures.get("busy_s", {}).items()))
    print(
        f"{label}: {figures['wall_s']:6.1f} s, exit {figures['exit']}, {figures['requests']} requests, {waited}, "
        f"{measured}, {late} late" + (f"; failed: {', '.join(failed[:3])}" if failed else ""),
        f"\n    cpu {figures['cpu_s']:.0f} s{_machine(figures)}; test seconds per worker: {workers}; "
        f"agent-account unit {figures.get('chain_s', 0):.0f} s",
        flush=True,
    )
    found = figures.get("handover") or {}
    if found.get("start_up_s") is not None:
        waits = sorted(found["waits"].items(), key=lambda item: -sum(item[1]))
        print(
            f"    start-up {found['start_up_s']:.1f} s, reports {found['reports_s']:.1f} s; waited for accounts "
            f"(then settling), summed over workers: "
            + ", ".join(
                f"{kind} {held:.0f} ({settled:.0f}) s" for kind, (held, settled) in waits if held + settled >= 0.5
            ),
            flush=True,
        )


def _machine(figures: dict[str, Any]) -> str:
    if figures.get("machine_s") is None:
        return ""
    cores = os.cpu_count() or 1
    return f" (machine busy {figures['machine_s']:.0f} CPU-s, {100 * figures['machine_s'] / (cores * figures['wall_s']):.0f}% of {cores} cores)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rtt", default="0,50", help="round-trip times in ms, comma-separated (default: 0,50; '': none)"
    )
    parser.add_argument("--profile", default="quick", help="profiles, comma-separated (default: quick)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration")
    parser.add_argument("--seed", default="20260105", help="fuzzing seed (each repeat adds 1)")
    parser.add_argument("-n", dest="workers", default="", help="pytest-xdist workers (default: the suite's default)")
    parser.add_argument("--agents", type=int, default=0, help="the reference offers agent1..agentN (--agents)")
    parser.add_argument("--fault", action="append", default=[], help="the reference commits this fault")
    parser.add_argument("--embedded", action="store_true", help="time the embedded run too")
    parser.add_argument("--keep", type=Path, help="keep each run's reports in a new directory under KEEP")
    arguments = parser.parse_args()
    load = os.getloadavg()
    print(f"cpus {os.cpu_count()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    profiles = arguments.profile.split(",")
    for repeat in range(arguments.repeat):
        seed = str(int(arguments.seed) + repeat)
        for profile in profiles:
            if arguments.embedded:
                show(
                    f"embedded      {profile:<7} seed {seed}",
                    one_run(None, profile, arguments.workers, seed, 0, arguments.keep),
                )
            rtts = [int(ms) for ms in arguments.rtt.split(",") if ms]
            with reference(arguments.agents, arguments.fault) if rtts else contextlib.nullcontext("") as origin:
                host, _, port = origin.removeprefix("http://").rpartition(":")
                for rtt in rtts:
                    with contextlib.ExitStack() as stack:
                        target = origin
                        if rtt:
                            target = stack.enter_context(delay_proxy(host, int(port), rtt / 1000)).origin
                        # Without -n, a proxied target gets the workers of a target on another machine, which
                        # it plays (the suite sees 127.0.0.1, and would give it one worker per core).
                        workers = arguments.workers or (str(REMOTE_DEFAULT_WORKERS) if rtt else "")
                        figures = one_run(f"{target}/api/v2", profile, workers, seed, arguments.agents, arguments.keep)
                    show(f"remote {rtt:3d} ms {profile:<7} seed {seed}", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
