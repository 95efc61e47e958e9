"""``gws-conformance load`` end to end: short runs of the real command against the embedded reference.

Each run is a child process (``python -m conformance.load``: Locust patches its process with gevent), a
few agents for a few seconds: a clean run passes with every notification accounted for; the reference
committing a fault of delivery (under load, or the suite's misrouting and schema faults) fails the verdict
on the counter of its rule; a master with two workers merges their ledgers; bad input ends in one line and
its exit code. The load- faults run one message in ten instead of a thousand (their VALUE): the same code, so
that a few seconds of load on a busy CI machine (a few dozen messages) reach it more than once; a reordered
message needs a later one on its topic to overtake it before the run ends (see REORDER_PATIENCE). About 35 s of CPU in
all; 65 s on two busy pytest-xdist workers.
"""

from __future__ import annotations

import json
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


def load(*arguments: str, report_dir: Path) -> tuple[int, str, dict[str, Any]]:
    command = [sys.executable, "-m", "conformance.load", *arguments, "--report-dir", str(report_dir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
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
    assert document["rest_checked"] >= sum(f["requests"] for n, f in operations.items() if not n.startswith("cometd"))
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_master_and_two_workers_merge_their_counters(tmp_path: Path) -> None:
    port = str(_free_port())
    worker_command = [sys.executable, "-m", "conformance.load", "--worker", "127.0.0.1", "--master-port", port]
    workers = [
        subprocess.Popen(worker_command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    try:
        code, output, document = load(
            "--master",
            "--expect-workers",
            "2",
            "--master-port",
            port,
            "--agents",
            "6",
            "--duration",
            "5",
            *FAST,
            *PATIENT,
            report_dir=tmp_path,
        )
        for worker in workers:
            assert worker.wait(timeout=30) == 0
    finally:
        for worker in workers:
            stop(worker, 5)
    assert code == 0, output
    assert document["workers"] == 2
    assert document["owed"] > 50 and document["delivered"] == document["owed"]
    # Every agent started (Locust merges the workers' request counts) and both workers' sessions were reported
    # (three agents each: more than three open at once is both).
    assert document["rest"]["operations"]["GET /me/devices"]["requests"] == 6
    assert max(row.get("sessions", 0) for row in document["timeline"]) > 3


@pytest.mark.parametrize(
    ("arguments", "code", "words"),
    [
        (["--agents", "0"], 2, "--agents"),
        (["--mix", "walk=1"], 2, "unknown task 'walk'"),
        (["--fault", "no-such-fault"], 2, "unknown fault"),
        (["--fault", "load-drop-one-in-thousand", "--target", "http://127.0.0.1:9/api/v2"], 2, "embedded"),
        (["--target", "http://127.0.0.1:9/api/v2", "--duration", "1"], 3, "unreachable"),
    ],
)
def test_bad_input_is_one_line_and_its_exit_code(arguments: list[str], code: int, words: str, tmp_path: Path) -> None:
    got, output, _ = load(*arguments, report_dir=tmp_path)
    assert got == code
    assert words in output and "Traceback" not in output


def test_gws_conformance_load_is_the_same_command(tmp_path: Path) -> None:
    from conformance import cli

    arguments = ["load", "--target", "http://127.0.0.1:9/api/v2", "--duration", "1", "--report-dir", str(tmp_path)]
    assert cli.main(arguments) == 3
