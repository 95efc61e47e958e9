"""``gws-conformance load``: a Locust run of simulated agents against a GWS server, judged and reported.

    gws-conformance load [--agents N] [--duration S] [--transport T] [--mix W] [--target URL] [--fault F]
    gws-conformance load --master --expect-workers 2 ...      gws-conformance load --worker HOST

Exit codes as ``run``: 0 every criterion within its threshold, 1 one is not, 2 usage or configuration,
3 the target (or the workers) cannot be reached, 4 the load generator itself broke.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import shlex
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from conformance.load.arguments import add_load_arguments
from conformance.load.options import INBOUND_TASKS, LoadOptions, OptionsError, default_mix, parse_mix, read_thresholds

__all__ = ["main"]

PROG = "gws-conformance load"
EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_TARGET, EXIT_SUITE, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
# Embedded runs: agents beyond --agents so that a worker handed one user more than its share still has an
# account (Locust balances users over workers to one).
SPARE_AGENTS_PER_WORKER = 1
# Agents per load generator process when --processes is not given. A process's event loop is one queue for
# all its agents: at 200 long-polling agents one process ran its core at 88 % with requests (loop lag p99 47 ms)
# and at ~40 % with conformance.load.wire; two processes halve each queue (back to back on 2 shared cores:
# p99 546 and 981 ms for two processes against 1598 and 2040 ms for one, load average 3.5-8.8).
AGENTS_PER_PROCESS = 100


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _say(message: str) -> None:
    print(f"{PROG}: {message}", flush=True)


def _complain(message: str) -> None:
    print(f"{PROG}: " + " ".join(message.split()), file=sys.stderr, flush=True)


def main(argv: Sequence[str]) -> int:
    parser = _Parser(prog=PROG, description="Simulated agents under load, every notification judged.")
    add_load_arguments(parser)
    arguments = parser.parse_args(argv)
    try:
        return _load(arguments, argv)
    except OptionsError as exc:
        _complain(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _complain("interrupted")
        return EXIT_INTERRUPTED
    except Exception:
        _complain("the load generator broke: " + traceback.format_exc().strip().splitlines()[-1])
        traceback.print_exc(file=sys.stderr)
        return EXIT_SUITE


def _load(arguments: argparse.Namespace, argv: Sequence[str]) -> int:
    import logging

    from conformance.load import accounts, run, target
    from conformance.load.report import build_document, write_reports
    from conformance.load.verdict import judge

    # Locust logs every spawn and stop at INFO; the command says what matters itself.
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(name)s: %(message)s")
    if arguments.processes is not None and (arguments.master or arguments.worker is not None):
        raise OptionsError(
            "--processes is for a run on this machine; --master counts its workers with --expect-workers"
        )
    if arguments.worker is not None:
        _say(f"worker of the master at {arguments.worker}:{arguments.master_port}")
        run.run_worker(arguments.worker, arguments.master_port)
        return EXIT_OK
    thresholds = read_thresholds(
        arguments.config, {"p99_delivery_ms": arguments.p99_ms, "deadline_s": arguments.deadline}
    )
    if arguments.fault and arguments.target:
        raise OptionsError("--fault applies to the embedded reference server only")
    embedded = arguments.target is None
    settings = None if embedded else accounts.settings_for(arguments.target.rstrip("/"), arguments.config)
    stimulus = arguments.stimulus or ("reference" if embedded else settings.stimulus if settings else "none")
    mix = parse_mix(arguments.mix) if arguments.mix else default_mix(stimulus != "none")
    inbound = [name for name in INBOUND_TASKS if mix.get(name, 0) > 0]
    if inbound and stimulus == "none":
        raise OptionsError(
            f"--mix {','.join(inbound)}: inbound work needs a stimulus adapter (--stimulus reference|module:Class, "
            "or GWS_STIMULUS for a remote target)"
        )
    processes = arguments.processes or default_processes(arguments.agents)
    distributed = arguments.master or processes > 1
    workers = arguments.expect_workers if arguments.master else processes
    # A master's worker may be handed one user more than its share (Locust balances users to one).
    needed = arguments.agents + (SPARE_AGENTS_PER_WORKER * workers if distributed else 0)
    reference = None
    created: accounts.CreatedAccounts | None = None
    try:
        if embedded:
            from reference_impl.faults import Faults, UnknownFault

            try:
                Faults.parse(arguments.fault)
            except UnknownFault as exc:
                raise OptionsError(str(exc)) from None
            # --accounts create: the fixture's own agents only; the run's are made through the admin API.
            population = 0 if arguments.accounts == "create" else needed
            reference = target.EmbeddedReference(population, arguments.fault, stimulus=bool(inbound))
            base_url = reference.start()
            description = f"{base_url} (embedded reference" + (
                f", fault {', '.join(arguments.fault)})" if arguments.fault else ")"
            )
        else:
            base_url = arguments.target.rstrip("/")
            description = base_url
        if inbound:
            accounts.stimulus_spec(stimulus, base_url)
        cometd_url = arguments.cometd_url or f"{base_url}/notifications"
        signed: list[accounts.Account] = []
        admin = None
        if arguments.accounts == "create":
            admin = target.EMBEDDED_ADMIN if settings is None else accounts.admin_of(settings)
        elif settings is not None and arguments.accounts == "pool":
            signed = accounts.pool_accounts(settings, needed)
        first = admin or (signed[0] if signed else ("agent1", "agent1-secret"))
        try:
            target.preflight(base_url, *first)
        except target.TargetDown as exc:
            _complain(str(exc))
            return EXIT_TARGET
        except target.TargetRefused as exc:
            how = "the pool's accounts" if signed else "the accounts agent<N> / agent<N>-secret"
            _complain(f"{exc}: --accounts {arguments.accounts} signs in with {'its admin' if admin else how}")
            return EXIT_USAGE
        if admin is not None:
            created = accounts.CreatedAccounts(base_url, admin)
            signed = created.create(needed)
        options = LoadOptions(
            agents=arguments.agents,
            spawn_rate=arguments.spawn_rate,
            duration_s=arguments.duration,
            mix=mix,
            transport=arguments.transport,
            wait_s=arguments.wait,
            check_every=arguments.check_every,
            thresholds=thresholds,
            stimulus=stimulus if inbound else "none",
            accounts=tuple(signed),
        )
        server = reference.gauges if reference is not None else dict
        _say(
            f"target {description}; {options.agents} agents over {options.transport}, {options.duration_s:g} s, "
            f"mix {','.join(f'{k}={v}' for k, v in options.mix.items())}; "
            + ("" if arguments.master else f"{processes} load generator process{'es' if processes > 1 else ''}; ")
            + f"reports in {arguments.report_dir}/"
        )
        if distributed:
            local = not arguments.master  # this command's own worker processes, on a free loopback port
            try:
                measured = run.run_master(
                    options,
                    base_url,
                    cometd_url,
                    server,
                    _say,
                    bind_host="127.0.0.1" if local else arguments.master_bind_host,
                    bind_port=0 if local else arguments.master_port,
                    expect_workers=workers,
                    local_workers=local,
                )
            except run.WorkersMissing as exc:
                _complain(str(exc))
                return EXIT_TARGET
        else:
            measured = run.run_local(options, base_url, cometd_url, server, _say)
    finally:
        if created is not None and (left := created.remove()):
            _complain(f"{len(left)} account(s) created for the run could not be removed: user ids {', '.join(left)}")
        if reference is not None:
            reference.stop()
    criteria = judge(measured.totals, options.thresholds)
    context: dict[str, Any] = {
        "target": description,
        "agents": options.agents,
        "transport": options.transport,
        "mix": dict(options.mix),
        "stimulus": options.stimulus,
        "accounts": arguments.accounts,
        "thresholds": dataclasses.asdict(options.thresholds),
        "command": shlex.join(["gws-conformance", "load", *argv]),
    }
    document = build_document(measured, criteria, context)
    paths = write_reports(arguments.report_dir, document)
    _summary(document, criteria, paths)
    return EXIT_OK if document["passed"] else EXIT_FAILURES


def default_processes(agents: int) -> int:
    """One load generator process per AGENTS_PER_PROCESS agents, at most one per core this process may use."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, math.ceil(agents / AGENTS_PER_PROCESS)))


def _summary(document: dict[str, Any], criteria: Sequence[Any], paths: dict[str, Any]) -> None:
    verdict = "PASSED" if document["passed"] else "FAILED"
    delivery = document["delivery_ms"]
    rest = document["rest"].get("total", {})
    _say(
        f"{verdict} — {document['delivered']} notifications delivered of {document['owed']} owed; delivery p50 "
        f"{delivery['p50']} ms, p99 {delivery['p99']} ms; REST {rest.get('requests', 0)} requests, p99 "
        f"{rest.get('p99_ms')} ms"
    )
    print("  " + " · ".join(f"{c.name} {c.value:g}" if c.value is not None else f"{c.name} -" for c in criteria))
    for criterion in criteria:
        if not criterion.passed:
            ids = ", ".join(criterion.requirements) or "objective"
            value = "-" if criterion.value is None else f"{criterion.value:g}"
            print(f"  FAIL {criterion.name} = {value} (limit {criterion.limit:g}) [{ids}]")
            for example in document["examples"].get(criterion.name, [])[:3]:
                print(f"    {example}")
    if document.get("reference_rss_mb"):
        print(f"  reference RSS max {document['reference_rss_mb']['max']} MB")
    print(f"  reports: {paths['html']} · {paths['json']} · {paths['junit']}")
