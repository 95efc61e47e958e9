"""``gws-conformance load`` end to end: short runs of the real command against the embedded reference.

Each run is a child process (``python -m conformance.load``: Locust patches its process with gevent), a
few agents for a few seconds: a clean run passes with every notification accounted for, inbound calls, chats
and e-mails included; the reference committing a fault of delivery (under load, or the suite's misrouting and
schema faults) fails the verdict on the counter of its rule; a master with two workers agrees with a single
process on the same load; accounts created for a run are removed after it, also when it fails or is
interrupted; bad input ends in one line and its exit code. The load- faults run one message in ten instead
of a thousand (their VALUE): the same code, so that a few seconds of load on a busy CI machine (a few dozen
messages) reach it more than once; a reordered message needs a later one on its topic to overtake it before
the run ends (see REORDER_PATIENCE). About 60 s of CPU in all; 70 s on two busy pytest-xdist workers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from processes import stop

RUN_TIMEOUT_S = 180
FAST = ["--wait", "0,0.02", "--mix", "state=1,dnd=1"]
# Speed is the benchmark's business (benchmarks/load.py): on a CI machine running other tests beside these, a
# message may take seconds. The tests judge the counting, with an objective no contention misses.
PATIENT = ["--p99-ms", "60000", "--deadline", "30"]


def load(*arguments: str, report_dir: Path, env: dict[str, str] | None = None) -> tuple[int, str, dict[str, Any]]:
    command = [sys.executable, "-m", "conformance.load", *arguments, "--report-dir", str(report_dir)]
    environment = None if env is None else {**os.environ, **env}
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False, env=environment)
    document_file = report_dir / "load.json"
    document = json.loads(document_file.read_text(encoding="utf-8")) if document_file.is_file() else {}
    return done.returncode, done.stdout + done.stderr, document


def failed(document: dict[str, Any]) -> dict[str, list[str]]:
    return {c["name"]: c["requirements"] for c in document["criteria"] if not c["passed"]}


def test_a_clean_run_accounts_for_every_notification_and_writes_the_reports(tmp_path: Path) -> None:
    code, output, document = load(
        "--agents", "6", "--duration", "5", "--transport", "mixed", "--wait", "0.05,0.2", *PATIENT, report_dir=tmp_path
    )
    assert code == 0, output
    assert document["passed"] and failed(document) == {}
    assert document["owed"] > 20 and document["delivered"] == document["owed"]
    operations = document["rest"]["operations"]
    for step in ("Dial", "Answer", "Hold", "Retrieve", "Hangup", "DoNotDisturbOn", "Ready"):
        assert any(name.endswith(f"#{step}") and f["requests"] for name, f in operations.items()), step
    # The default mix has inbound work on the embedded target (its stimulus API), a sixth of the draws: on a
    # machine busy enough to leave an agent a handful of tasks one kind may be missing, never all three. None
    # is refused: each is aimed at an agent that can be offered it (conformance/load/agent.py).
    stimuli = [f for name, f in operations.items() if name.startswith("stimulus")]
    assert stimuli and all(f["requests"] and not f["failures"] for f in stimuli), stimuli
    judged = [f["requests"] for n, f in operations.items() if not n.startswith(("cometd", "stimulus"))]
    assert document["rest_checked"] >= sum(judged)  # the stimulus API is no GWS API: not judged
    assert document["reference_rss_mb"]["max"] > 10
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 5 and "Passed under load" in html
    assert "http://" not in html.split("<body>")[0]  # nothing fetched: no script, no style sheet, no font
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.get("failures") == "0" and len(suite.findall("testcase")) == len(document["criteria"])


# An agent waits for its own notification (up to the deadline) before its next step, and a held message is
# released only by that agent's next message on its topic: with the default deadline of 10 s, a held state
# change stalls its agent past the end of a 4 s run and is counted lost instead. A deadline of 1 s lets the
# agent go on, and its next state change releases the held one behind it.
REORDER_PATIENCE = ["--deadline", "1"]


@pytest.mark.parametrize(
    ("fault", "counter", "rule", "extra"),
    [
        ("load-drop-one-in-thousand=10", "lost", "GWS-LOAD-001", []),
        ("load-duplicate-one-in-thousand=10", "duplicated", "GWS-LOAD-001", []),
        ("load-reorder-one-in-thousand=10", "reordered", "GWS-LOAD-002", REORDER_PATIENCE),
        # The suite's own faults of routing and shape are caught under load too.
        ("notification-other-user", "misrouted", "GWS-NOTIF-005", []),
        ("notification-schema-invalid", "schema_invalid", "GWS-NOTIF-002", []),
    ],
)
def test_a_fault_of_delivery_fails_the_verdict_on_its_rule(
    fault: str, counter: str, rule: str, extra: list[str], tmp_path: Path
) -> None:
    code, output, document = load(
        "--agents", "6", "--duration", "4", *FAST, "--p99-ms", "60000", *extra, "--fault", fault, report_dir=tmp_path
    )
    assert code == 1, output
    assert document["counters"][counter] >= 1, document["counters"]
    assert rule in failed(document)[counter]
    assert f"FAIL {counter}" in output
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    assert junit.find(f"testcase[@name='{counter}']/failure") is not None


@pytest.mark.parametrize(
    ("fault", "counter"),
    [("load-drop-one-in-thousand=10", "lost"), ("load-duplicate-one-in-thousand=10", "duplicated")],
)
def test_inbound_chats_and_emails_are_judged_like_the_rest(fault: str, counter: str, tmp_path: Path) -> None:
    """Chats and e-mails only: an agent made Ready once stays Ready, so nearly every message is an
    interaction's and the fault hits them; the counter's examples name /v2/me/interactions."""
    code, output, document = load(
        "--agents", "6", "--duration", "3", "--wait", "0,0.02", "--mix", "chat,email", "--p99-ms", "60000",
        *REORDER_PATIENCE, "--fault", fault, report_dir=tmp_path,
    )  # fmt: skip
    assert code == 1, output
    assert any("/v2/me/interactions" in example for example in document["examples"][counter]), document["examples"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _distributed(*arguments: str, report_dir: Path) -> tuple[int, str, dict[str, Any]]:
    """A master and two workers on this machine run ``arguments``."""
    port = str(_free_port())
    worker_command = [sys.executable, "-m", "conformance.load", "--worker", "127.0.0.1", "--master-port", port]
    workers = [
        subprocess.Popen(worker_command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    try:
        master = ["--master", "--expect-workers", "2", "--master-port", port]
        code, output, document = load(*master, *arguments, report_dir=report_dir)
        for worker in workers:
            assert worker.wait(timeout=30) == 0
    finally:
        for worker in workers:
            stop(worker, 5)
    return code, output, document


def _exercised(document: dict[str, Any]) -> set[str]:
    # Session re-openings ("cometd ...") are the transport's weather on a busy machine, not the load's work.
    return {n for n, f in document["rest"]["operations"].items() if f["requests"] and not n.startswith("cometd")}


def _per_request(document: dict[str, Any]) -> float:
    """Notifications delivered per operation that owes some (every POST of the GWS API and every stimulus)."""
    operations = document["rest"]["operations"]
    owing = sum(f["requests"] for n, f in operations.items() if n.startswith(("POST", "stimulus")))
    return float(document["delivered"]) / max(owing, 1)


def test_the_distributed_run_agrees_with_the_single_process_run(tmp_path: Path) -> None:
    """The same load (agents, duration, mix with inbound work, think time) alone and as master + two workers:
    both account for every message, exercise the same operations and deliver in the same proportion."""
    same = ["--agents", "6", "--duration", "5", "--wait", "0.02,0.1", *PATIENT]
    # The two runs are independent (each its own embedded reference): side by side, the test costs one run's time.
    alone_command = [sys.executable, "-m", "conformance.load", *same, "--report-dir", str(tmp_path / "alone")]
    alone = subprocess.Popen(alone_command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        code, output, spread = _distributed(*same, report_dir=tmp_path / "spread")
        alone_output, _ = alone.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        stop(alone, 5)
    assert code == 0, output
    assert alone.returncode == 0, alone_output
    single = json.loads((tmp_path / "alone" / "load.json").read_text(encoding="utf-8"))
    assert spread["workers"] == 2 and single["workers"] == 1
    for document in (single, spread):
        assert set(document["counters"].values()) == {0}, document["counters"]
        assert document["owed"] > 50 and document["delivered"] == document["owed"]
    # Every agent started once (Locust merges the workers' request counts) and both workers' sessions were
    # reported (three agents each: more than three open at once is both).
    assert spread["rest"]["operations"]["GET /me/devices"]["requests"] == 6
    assert max(row.get("sessions", 0) for row in spread["timeline"]) > 3
    # The same operations: one run did ten times or more has an expected count near ten in the other, where
    # missing it altogether has a chance of e^-10 (Poisson); a rarer one (on a busy machine that leaves each
    # agent a few dozen tasks) may be missing by the luck of the weighted draw.
    for mine, theirs in ((single, spread), (spread, single)):
        often = {n for n, f in mine["rest"]["operations"].items() if f["requests"] >= 10 and not n.startswith("cometd")}
        assert often <= _exercised(theirs), often - _exercised(theirs)
    # Each operation owes a fixed number of messages (a state change 1 or 2, a call 6 over 5 requests, a chat 2
    # over 3), and which operations run is a weighted draw: over a few hundred operations the two runs' mixes
    # differ by a few percent (measured: 1.50 and 1.52 per request), by some tens of percent when a busy machine
    # leaves a few dozen. A merge that lost or double-counted one of two workers' deliveries (or its requests)
    # is off by a factor of two.
    ratio = _per_request(spread) / _per_request(single)
    assert 0.7 < ratio < 1 / 0.7, (_per_request(spread), _per_request(single))


@pytest.mark.parametrize(
    ("arguments", "code", "words"),
    [
        (["--agents", "0"], 2, "--agents"),
        (["--mix", "walk=1"], 2, "unknown task 'walk'"),
        (["--fault", "no-such-fault"], 2, "unknown fault"),
        (["--fault", "load-drop-one-in-thousand", "--target", "http://127.0.0.1:9/api/v2"], 2, "embedded"),
        (["--target", "http://127.0.0.1:9/api/v2", "--duration", "1", "--accounts", "numbered"], 3, "unreachable"),
        # Accounts and inbound work: what the configuration cannot give is said before the target is asked.
        (["--target", "http://127.0.0.1:9/api/v2", "--agents", "5"], 2, "the pool has 3 agent account(s)"),
        (["--target", "http://127.0.0.1:9/api/v2", "--agents", "1"], 2, "GWS_AGENT1_PASSWORD is not set"),
        (["--target", "http://127.0.0.1:9/api/v2", "--accounts", "create"], 2, "GWS_ADMIN_PASSWORD is not set"),
        (["--target", "http://127.0.0.1:9/api/v2", "--mix", "chat=1"], 2, "inbound work needs a stimulus adapter"),
        (["--stimulus", "manual"], 2, "no person keeps up"),
        (["--stimulus", "no_such_module:Adapter"], 2, "cannot load no_such_module"),
    ],
)
def test_bad_input_is_one_line_and_its_exit_code(arguments: list[str], code: int, words: str, tmp_path: Path) -> None:
    # The suite's settings of whoever runs the tests must not decide these: none set, a default pool of three.
    unset = {name: "" for name in os.environ if name.startswith("GWS_")}
    got, output, _ = load(*arguments, report_dir=tmp_path, env=unset)
    assert got == code
    assert words in output and "Traceback" not in output


def test_gws_conformance_load_is_the_same_command(tmp_path: Path) -> None:
    from conformance import cli

    arguments = ["load", "--target", "http://127.0.0.1:9/api/v2", "--duration", "1", "--accounts", "numbered"]
    arguments += ["--report-dir", str(tmp_path)]
    assert cli.main(arguments) == 3


def _load_users(base_url: str) -> list[str]:
    import requests

    reply = requests.get(f"{base_url}/users?fields=userName", auth=ADMIN, timeout=10).json()
    return [u["userName"] for u in reply["users"] if u["userName"].startswith("load")]


ADMIN = ("admin", "admin-secret")  # the reference fixture's administrator


def test_accounts_created_for_a_run_are_removed_after_it_fails_and_when_it_is_interrupted(tmp_path: Path) -> None:
    """A remote target (a reference server of three agents, with its stimulus API): --accounts create makes
    the run's agents through the admin API, the inbound work uses the configured stimulus (GWS_STIMULUS),
    and the accounts are gone after a run that fails its verdict and after one stopped by Ctrl-C."""
    from conformance.load.target import EmbeddedReference

    server = EmbeddedReference(3, stimulus=True)
    base_url = server.start()
    env = {name: "" for name in os.environ if name.startswith("GWS_")}
    env.update({"GWS_ADMIN_PASSWORD": ADMIN[1], "GWS_STIMULUS": "reference"})
    # Chats three times in four once Ready: every agent has one after a few tasks, however busy the machine.
    common = [
        "--target",
        base_url,
        "--accounts",
        "create",
        "--agents",
        "4",
        "--wait",
        "0.02,0.1",
        "--mix",
        "state,chat=3",
    ]
    try:
        # This server has agent1..agent4 only: five agents can only be five created accounts.
        code, output, document = load(
            *common, "--agents", "5", "--duration", "3", "--p99-ms", "0.001", report_dir=tmp_path / "failed", env=env
        )
        assert code == 1 and "FAIL p99_delivery_ms" in output, output
        assert document["delivered"] == document["owed"] > 20
        assert document["rest"]["operations"]["GET /me/devices"]["requests"] == 5
        assert document["rest"]["operations"]["stimulus inbound_chat"]["requests"]  # the remote's GWS_STIMULUS
        assert _load_users(base_url) == []

        command = [sys.executable, "-m", "conformance.load", *common, "--duration", "120"]
        run = subprocess.Popen(
            [*command, "--report-dir", str(tmp_path / "stopped")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **env},
        )
        try:
            assert run.stdout is not None
            # The run says its target once the accounts exist and it starts its agents: then a person presses Ctrl-C.
            for line in run.stdout:
                if line.startswith("gws-conformance load: target"):
                    break
            assert len(_load_users(base_url)) == 4
            run.send_signal(signal.SIGINT)
            rest, _ = run.communicate(timeout=60)
        finally:
            stop(run, 5)
        assert run.returncode == 130, rest
        assert _load_users(base_url) == []
    finally:
        server.stop()
