"""Delivery under load on the embedded reference: counters, latency percentiles and the server's memory
(a benchmark, not a test).

    python benchmarks/load.py [--agents 50 200 500] [--transports long-polling websocket] [--duration 60]
                              [--processes N] [--distributed W]

For each agent count and transport, one ``gws-conformance load`` run (a child process; the reference in its
own child process, started with ``--agents N``) with the default mix and think time, then one line each:
counters (lost, duplicated, reordered, misrouted, late, schema-invalid), notifications delivered, delivery
latency p50/p95/p99 (REST request sent -> message received, measured in the load process), REST p99, the
most CometD sessions open, the reference's largest RSS, the mean CPU of the load generator (all its processes)
and of the reference (100 = one core), the load generator's processes, the 1-minute load average before the
run, and the verdict. ``--processes`` is passed on (default: the command's own choice, one process per 100
agents up to one per core); ``--distributed W`` runs each case as ``--master`` with W workers started as
separate commands instead. Each run's reports stay in ``--report-dir`` (default: a temporary folder). The
load generator and the server share the machine's cores: the generator's own scheduling is part of every
latency printed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COUNTERS = ("lost", "duplicated", "reordered", "misrouted", "late", "schema_invalid")


def run(
    agents: int,
    transport: str,
    duration: float,
    spawn_rate: float,
    directory: Path,
    processes: int | None,
    distributed: int | None,
) -> tuple[dict, float]:
    load = [sys.executable, "-m", "conformance.load"]
    command = [
        *load,
        "--agents",
        str(agents),
        "--transport",
        transport,
        "--duration",
        str(duration),
        "--spawn-rate",
        str(spawn_rate),
        "--report-dir",
        str(directory),
    ]
    if processes is not None:
        command += ["--processes", str(processes)]
    workers: list[subprocess.Popen[bytes]] = []
    if distributed:
        port = str(_free_port())
        command += ["--master", "--expect-workers", str(distributed), "--master-port", port]
        worker = [*load, "--worker", "127.0.0.1", "--master-port", port]
        workers = [subprocess.Popen(worker, stdout=subprocess.DEVNULL) for _ in range(distributed)]
    started = time.monotonic()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    elapsed = time.monotonic() - started
    for worker_process in workers:
        worker_process.wait(timeout=30)
    return json.loads((directory / "load.json").read_text(encoding="utf-8")), elapsed


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--transports", nargs="+", default=["long-polling", "websocket"])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per run (default 60)")
    parser.add_argument("--spawn-rate", type=float, default=50.0, help="agents started per second (default 50)")
    parser.add_argument("--report-dir", type=Path, help="keep each run's reports here")
    parser.add_argument("--processes", type=int, help="load generator processes (default: the command's choice)")
    parser.add_argument("--distributed", type=int, metavar="W", help="run as --master with W separate workers")
    arguments = parser.parse_args()
    root = arguments.report_dir or Path(tempfile.mkdtemp(prefix="gws-load-bench-"))
    print(
        f"{'agents':>6} {'transport':<12} {'delivered':>9} "
        + " ".join(f"{c[:6]:>6}" for c in COUNTERS)
        + f" {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'REST p99':>8} {'sessions':>8} {'RSS MB':>7} {'gen CPU':>7} {'ref CPU':>7}"
        " procs load1  verdict  (s)"
    )
    for agents in arguments.agents:
        for transport in arguments.transports:
            load1 = os.getloadavg()[0]
            document, elapsed = run(
                agents,
                transport,
                arguments.duration,
                arguments.spawn_rate,
                root / f"{agents}-{transport}",
                arguments.processes,
                arguments.distributed,
            )
            delivery = document["delivery_ms"]
            sessions = max((row.get("sessions", 0) for row in document["timeline"]), default=0)
            rss = (document.get("reference_rss_mb") or {}).get("max", "-")
            cpu = (document.get("generator_cpu_percent") or {}).get("mean", "-")
            server_cpu = (document.get("reference_cpu_percent") or {}).get("mean", "-")
            print(
                f"{agents:>6} {transport:<12} {document['delivered']:>9} "
                + " ".join(f"{document['counters'][c]:>6}" for c in COUNTERS)
                + f" {delivery['p50']!s:>7} {delivery['p95']!s:>7} {delivery['p99']!s:>7}"
                f" {document['rest']['total']['p99_ms']!s:>8} {sessions:>8.0f} {rss!s:>7} {cpu!s:>7} {server_cpu!s:>7}"
                f" {document['workers']:>5} {load1:>5.2f}  {'pass' if document['passed'] else 'FAIL':<7}  {elapsed:.0f}",
                flush=True,
            )
    print(f"reports: {root}/<agents>-<transport>/report.html")


if __name__ == "__main__":
    main()
