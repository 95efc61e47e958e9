"""Drive a load run with Locust's runners: alone (LocalRunner), as master, or as a worker.

The master (or the lone process) starts the users and, when the duration is over, *drains*: agents stop
starting work, what they are still owed has ``deadline_s`` to arrive, then everything still owed is lost
(conformance.load.ledger). Workers send their ledger's deltas with Locust's own periodic report
(``report_to_master``) and a last one when drained; Locust merges its request statistics itself.

Custom messages between master and workers: ``gws-setup`` (master -> workers: target, options, worker
count), ``gws-ready`` (worker -> master), ``gws-drain`` (master -> workers) and ``gws-drained`` (worker ->
master, with the final delta). Workers add their CPU to each report, so the generator's CPU gauge is the sum
over its processes (100 = one core).

Local processes (``run_master(local_workers=N)``): one Gevent process is one core at most, and a load
generator near its core queues every request and every message behind the others (at 200 long-polling agents
one process ran at 88 % of a core and its event loop lagged 47 ms at p99 while an idle client saw the server
answer in 1.1 ms). So the command starts N worker processes of its own on a loopback port and drives them as
a master: the same code and the same merge as a distributed run; delivery latency is still measured in the
process that sent the request.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent
import psutil
from locust.env import Environment
from locust.runners import MasterRunner

from conformance.load.agent import AgentUser, Swarm
from conformance.load.ledger import Ledger, Totals
from conformance.load.options import LoadOptions, Thresholds

__all__ = ["Measured", "WorkersMissing", "run_local", "run_master", "run_worker"]

# How long a master waits for its workers to connect.
WORKER_WAIT_S = 60.0


class WorkersMissing(Exception):
    """Fewer workers connected than the master was told to expect."""


@dataclass
class Measured:
    """What a run measured: the merged ledger totals, Locust's request statistics, gauges per second."""

    totals: Totals
    started: float  # wall clock
    ended: float
    rest: dict[str, Any] = field(default_factory=dict)  # Locust's figures: total and per operation
    gauges: dict[int, dict[str, float]] = field(default_factory=dict)  # second -> sessions, rss_mb
    workers: int = 1


def _options_dict(options: LoadOptions) -> dict[str, Any]:
    data = dataclasses.asdict(options)
    data["mix"] = dict(options.mix)
    data["wait_s"] = list(options.wait_s)
    return data


def _options_from(data: dict[str, Any]) -> LoadOptions:
    thresholds = Thresholds(**data.pop("thresholds"))
    return LoadOptions(**{**data, "wait_s": tuple(data["wait_s"]), "thresholds": thresholds})


def _rest_figures(environment: Environment) -> dict[str, Any]:
    stats = environment.stats

    def figures(entry: Any) -> dict[str, Any]:
        return {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5) if entry.num_requests else None,
            "p95_ms": entry.get_response_time_percentile(0.95) if entry.num_requests else None,
            "p99_ms": entry.get_response_time_percentile(0.99) if entry.num_requests else None,
            "max_ms": entry.max_response_time if entry.num_requests else None,
            "rps": round(entry.total_rps, 1),
        }

    per_name = {f"{e.method} {e.name}": figures(e) for e in stats.entries.values()}
    errors: list[dict[str, Any]] = sorted(
        (
            {"operation": f"{e.method} {e.name}", "error": str(e.error)[:300], "count": e.occurrences}
            for e in stats.errors.values()
        ),
        key=lambda row: -int(row["count"]),
    )
    return {"total": figures(stats.total), "operations": dict(sorted(per_name.items())), "errors": errors[:20]}


def _sample(
    gauges: dict[int, dict[str, float]],
    sessions: Callable[[], int],
    server: Callable[[], dict[str, float]],
    workers_cpu: Callable[[], float] = lambda: 0.0,
) -> None:
    """Each second: sessions open, the embedded server's RSS and CPU, and the generator's CPU: this process's plus
    what its workers last reported (a load generator process near 100% of a core measures itself, not the server:
    its latencies then say so)."""
    me = psutil.Process()
    me.cpu_percent()
    while True:
        generator = me.cpu_percent() + workers_cpu()
        gauges[int(time.time())] = {"sessions": float(sessions()), "generator_cpu": generator, **server()}
        gevent.sleep(1.0)


def _drain(swarm: Swarm) -> None:
    """Stop new work, give what is owed ``deadline_s`` to arrive, then count the rest lost."""
    swarm.draining = True
    deadline = time.monotonic() + swarm.options.thresholds.deadline_s
    while swarm.ledger.still_owed() and time.monotonic() < deadline:
        gevent.sleep(0.05)
    swarm.ledger.settle(float("inf"))


def run_local(
    options: LoadOptions,
    base_url: str,
    cometd_url: str,
    server: Callable[[], dict[str, float]],
    progress: Callable[[str], None],
) -> Measured:
    environment = Environment(user_classes=[AgentUser])
    swarm = Swarm(base_url, cometd_url, options, Ledger(options.thresholds.deadline_s))
    environment.gws = swarm  # type: ignore[attr-defined]
    runner = environment.create_local_runner()
    gauges: dict[int, dict[str, float]] = {}
    sampler = gevent.spawn(_sample, gauges, lambda: swarm.sessions_open, server)
    started = time.time()
    runner.start(options.agents, spawn_rate=options.spawn_rate)
    _hold(options, progress, lambda: swarm.sessions_open, swarm.ledger)
    _drain(swarm)
    runner.quit()
    sampler.kill()
    return Measured(swarm.ledger, started, time.time(), _rest_figures(environment), gauges, 1)


def _hold(options: LoadOptions, progress: Callable[[str], None], sessions: Callable[[], int], totals: Totals) -> None:
    """Let the run go for its duration, saying how it goes every few seconds."""
    end = time.monotonic() + options.duration_s
    while (left := end - time.monotonic()) > 0:
        gevent.sleep(min(5.0, left))
        p99 = totals.percentile_ms(0.99)
        progress(
            f"{sessions()} sessions, {totals.delivered} delivered, p99 {p99 if p99 is not None else '-'} ms, "
            + ", ".join(f"{k} {v}" for k, v in totals.counters.items() if v)
        )


def run_master(
    options: LoadOptions,
    base_url: str,
    cometd_url: str,
    server: Callable[[], dict[str, float]],
    progress: Callable[[str], None],
    *,
    bind_host: str,
    bind_port: int,
    expect_workers: int,
    local_workers: bool = False,
) -> Measured:
    """Drive ``expect_workers`` workers; ``local_workers``: start them here, as child processes of this one."""
    environment = Environment(user_classes=[AgentUser])
    runner = environment.create_master_runner(master_bind_host=bind_host, master_bind_port=bind_port)
    children = _start_workers(expect_workers, runner.server.port) if local_workers else []
    try:
        return _master(options, base_url, cometd_url, server, progress, environment, expect_workers)
    finally:
        _stop_workers(children)


def _start_workers(count: int, port: int) -> list[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "conformance.load", "--worker", "127.0.0.1", "--master-port", str(port)]
    return [subprocess.Popen(command, stdout=subprocess.DEVNULL) for _ in range(count)]


def _stop_workers(children: list[subprocess.Popen[bytes]]) -> None:
    """Workers leave when the master quits; one that does not (it broke, or the run was interrupted) is ended."""
    deadline = time.monotonic() + 10
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _master(
    options: LoadOptions,
    base_url: str,
    cometd_url: str,
    server: Callable[[], dict[str, float]],
    progress: Callable[[str], None],
    environment: Environment,
    expect_workers: int,
) -> Measured:
    runner = environment.runner
    assert isinstance(runner, MasterRunner)
    totals = Totals()
    sessions: dict[str, int] = {}
    cpu: dict[str, float] = {}
    ready: set[str] = set()
    drained: set[str] = set()

    def on_report(client_id: str, data: dict[str, Any]) -> None:
        if "gws" in data:
            totals.merge(data["gws"])
            sessions[client_id] = int(data.get("gws_sessions", 0))
            cpu[client_id] = float(data.get("gws_cpu", 0.0))

    environment.events.worker_report.add_listener(on_report)
    runner.register_message("gws-ready", lambda environment, msg, **_: ready.add(msg.node_id))

    def on_drained(environment: Any, msg: Any, **_: Any) -> None:
        totals.merge(msg.data["gws"])
        sessions[msg.node_id] = 0
        drained.add(msg.node_id)

    runner.register_message("gws-drained", on_drained)
    try:
        _wait_for(lambda: len(runner.clients.ready) >= expect_workers, WORKER_WAIT_S)
    except TimeoutError:
        runner.quit()
        raise WorkersMissing(
            f"{len(runner.clients.ready)} of {expect_workers} worker(s) connected within {WORKER_WAIT_S:.0f} s"
        ) from None
    setup: dict[str, Any] = {"base_url": base_url, "cometd_url": cometd_url, "options": _options_dict(options)}
    setup["workers"] = expect_workers
    runner.send_message("gws-setup", setup)
    _wait_for(lambda: len(ready) >= expect_workers, WORKER_WAIT_S)
    gauges: dict[int, dict[str, float]] = {}
    sampler = gevent.spawn(_sample, gauges, lambda: sum(sessions.values()), server, lambda: sum(cpu.values()))
    started = time.time()
    runner.start(options.agents, spawn_rate=options.spawn_rate)
    _hold(options, progress, lambda: sum(sessions.values()), totals)
    runner.send_message("gws-drain")
    _wait_for(lambda: len(drained) >= expect_workers, options.thresholds.deadline_s + 15)
    runner.quit()
    sampler.kill()
    return Measured(totals, started, time.time(), _rest_figures(environment), gauges, expect_workers)


def run_worker(master_host: str, master_port: int) -> None:
    """Serve a master until it quits: its setup, its users, drain on its word."""
    environment = Environment(user_classes=[AgentUser])
    runner = environment.create_worker_runner(master_host, master_port)
    state: dict[str, Swarm] = {}
    me = psutil.Process()
    me.cpu_percent()

    def on_setup(environment: Environment, msg: Any, **_: Any) -> None:
        data = dict(msg.data)
        options = _options_from(dict(data["options"]))
        swarm = Swarm(data["base_url"], data["cometd_url"], options, Ledger(options.thresholds.deadline_s))
        swarm.worker_index, swarm.workers = max(runner.worker_index, 0), int(data["workers"])
        environment.gws = swarm  # type: ignore[attr-defined]
        state["swarm"] = swarm
        runner.send_message("gws-ready")

    def on_drain(environment: Environment, msg: Any, **_: Any) -> None:
        swarm = state["swarm"]
        _drain(swarm)
        runner.send_message("gws-drained", {"gws": swarm.ledger.delta()})

    def on_report(client_id: str, data: dict[str, Any]) -> None:
        # Deltas may travel by any report: each part of the ledger is sent once, whichever carries it.
        swarm = state.get("swarm")
        if swarm is not None:
            data["gws"] = swarm.ledger.delta()
            data["gws_sessions"] = swarm.sessions_open
            data["gws_cpu"] = me.cpu_percent()  # since the previous report

    runner.register_message("gws-setup", on_setup)
    runner.register_message("gws-drain", on_drain, concurrent=True)
    environment.events.report_to_master.add_listener(on_report)
    runner.greenlet.join()


def _wait_for(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError
        gevent.sleep(0.1)
