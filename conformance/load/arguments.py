"""The options of ``gws-conformance load``, declared without importing Locust (which patches the process
with gevent the moment it is imported): ``gws-conformance --help`` and usage errors must not pay for it."""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance.load.options import MIX_TASKS, TRANSPORTS

ACCOUNT_SOURCES = ("pool", "create", "numbered")  # conformance.load.accounts: what each means

__all__ = ["ACCOUNT_SOURCES", "DEFAULT_MASTER_PORT", "add_load_arguments"]

DEFAULT_MASTER_PORT = 5557  # Locust's own default


def _positive_int(text: str) -> int:
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise argparse.ArgumentTypeError(f"expected a whole number above 0, not {text!r}")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value > 0:
        return value
    raise argparse.ArgumentTypeError(f"expected a number above 0, not {text!r}")


def _wait(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    try:
        pair = (float(low), float(high or low))
    except ValueError:
        pair = (-1.0, -1.0)
    if 0 <= pair[0] <= pair[1]:
        return pair
    raise argparse.ArgumentTypeError(f"expected MIN,MAX seconds (0 <= MIN <= MAX), not {text!r}")


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    work = parser.add_argument_group("load")
    work.add_argument("--agents", type=_positive_int, default=10, metavar="N", help="simulated agents (default 10)")
    work.add_argument(
        "--spawn-rate", type=_positive_float, default=20.0, metavar="R", help="agents started per second (default 20)"
    )
    work.add_argument(
        "--duration", type=_positive_float, default=30.0, metavar="S", help="seconds of load after start (default 30)"
    )
    work.add_argument(
        "--mix",
        metavar="W",
        help="task weights (default: " + ",".join(f"{k}={v}" for k, v in MIX_TASKS.items()) + "; the inbound tasks "
        "inbound-call, chat and email only with a stimulus)",
    )
    work.add_argument("--transport", choices=TRANSPORTS, default="long-polling", help="CometD transport per agent")
    work.add_argument(
        "--wait", type=_wait, default=(0.5, 1.5), metavar="MIN,MAX", help="think time between tasks (default 0.5,1.5)"
    )
    work.add_argument(
        "--check-every", type=_positive_int, default=1, metavar="N", help="run the REST checks on every Nth reply"
    )
    where = parser.add_argument_group("target and thresholds")
    where.add_argument("--target", metavar="URL", help="base URL up to /api/v2 (default: the embedded reference)")
    where.add_argument("--cometd-url", metavar="URL", help="CometD endpoint (default: <target>/notifications)")
    where.add_argument(
        "--stimulus",
        metavar="SPEC",
        help="who plays the customers of the inbound tasks: reference, module:Class or none (default: reference for "
        "the embedded target, else GWS_STIMULUS)",
    )
    where.add_argument(
        "--accounts",
        choices=ACCOUNT_SOURCES,
        default="pool",
        help="pool: the target's agent accounts (embedded: agent1..N; else GWS_AGENTS, [users.agent<k>]); create: "
        "made through the admin API for the run, removed after it; numbered: agent<N> / agent<N>-secret (default pool)",
    )
    where.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML file: [load] thresholds; the suite's settings (pool, admin) for a target",
    )
    where.add_argument("--p99-ms", type=_positive_float, metavar="MS", help="p99 delivery objective (default 250)")
    where.add_argument("--deadline", type=_positive_float, metavar="S", help="a message later than this is late (10)")
    where.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="the embedded reference commits this fault"
    )
    where.add_argument(
        "--report-dir", type=Path, default=Path("reports/load"), metavar="DIR", help="default: %(default)s"
    )
    spread = parser.add_argument_group("distributed (Locust master and workers)")
    role = spread.add_mutually_exclusive_group()
    role.add_argument("--master", action="store_true", help="drive workers instead of simulating agents here")
    role.add_argument("--worker", metavar="HOST", help="simulate agents for the master at HOST")
    spread.add_argument(
        "--expect-workers", type=_positive_int, default=1, metavar="N", help="master: workers to wait for"
    )
    spread.add_argument(
        "--master-port", type=_positive_int, default=DEFAULT_MASTER_PORT, metavar="P", help="default: %(default)s"
    )
    spread.add_argument(
        "--master-bind-host", default="127.0.0.1", metavar="H", help="master: address to listen on (default loopback)"
    )
    here = parser.add_argument_group("processes on this machine")
    here.add_argument(
        "--processes",
        type=_positive_int,
        metavar="N",
        help="load generator processes (default: one per 100 agents, at most one per core); 1: all in this one",
    )
