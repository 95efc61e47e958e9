"""conformance.fixtures.scenarios: account locks, the test's findings (warnings), stimulus outcomes and records."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.cometd import NotificationListener
from conformance.config import load_settings
from conformance.errors import SuiteError
from conformance.fixtures.scenarios import AccountLocks, settle

PROBE = """
import pytest
from conformance import findings
from conformance.failures import Level, Violation
from conformance.stimulus import StimulusUnavailable


@pytest.mark.requirement("GWS-SET-008")
def test_should_broken():
    findings.warn(Violation(title="not 3", message="m", requirement_ids=["GWS-SET-008"], level=Level.SHOULD))
    findings.warn(Violation(title="not 3", message="m", requirement_ids=["GWS-SET-008"], level=Level.SHOULD))


@pytest.mark.requirement("GWS-SET-008")
def test_must_broken_after_should():
    findings.warn(Violation(title="not 3", message="m", requirement_ids=["GWS-SET-008"], level=Level.SHOULD))
    assert False, "a MUST"


@pytest.mark.requirement("GWS-AGST-017")
def test_stimulus_recorded(gws_stimulus):
    gws_stimulus.inbound_call(from_number="+16505550123", to="5001")


@pytest.mark.requirement("GWS-AGST-017")
def test_stimulus_unavailable(gws_stimulus):
    gws_stimulus.inbound_email(from_address="a", to_address="b", subject="s")
"""

ADAPTER = """
from conformance.stimulus import StimulusAdapter


class Probe(StimulusAdapter):
    name = "probe"

    def inbound_call(self, *, from_number, to):
        return self._done("inbound_call", {"from": from_number, "to": str(to)}, {"callId": "c1"})
"""


def run_probe(tmp_path: Path) -> tuple[dict[str, str], ET.Element, str]:
    (tmp_path / "test_probe.py").write_text(PROBE, encoding="utf-8")
    (tmp_path / "probe_adapter.py").write_text(ADAPTER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")}
    env.update(
        GWS_BASE_URL="http://127.0.0.1:9/api/v2",
        GWS_STIMULUS="probe_adapter:Probe",
        PYTHONPATH=os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")]),
    )
    results, junit = tmp_path / "results.json", tmp_path / "junit.xml"
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-p",
            "gws",
            "--rootdir",
            str(tmp_path),
            "--gws-results",
            str(results),
            "--junitxml",
            str(junit),
            "test_probe.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    data: dict[str, Any] = json.loads(results.read_text(encoding="utf-8"))
    found = {t["nodeid"].rpartition("::")[2]: t["outcome"] for t in data["tests"]}
    return found, ET.parse(junit).getroot(), finished.stdout


def test_findings_stimuli_and_their_outcomes(tmp_path: Path) -> None:
    outcomes, junit, output = run_probe(tmp_path)
    assert outcomes == {
        "test_should_broken": "warning",  # the SHOULD finding, once (duplicates merge), after a clean body
        "test_must_broken_after_should": "failed",
        "test_stimulus_recorded": "passed",
        "test_stimulus_unavailable": "needs_stimulus",
    }, output
    properties = {
        (case.get("name"), prop.get("name")): prop.get("value")
        for case in junit.iter("testcase")
        for prop in case.iter("property")
    }
    assert (
        "[probe] inbound_call(from='+16505550123', to='5001') -> {'callId': 'c1'}"
        in properties[("test_stimulus_recorded", "gws_stimulus")]
    )


@pytest.fixture
def locks(tmp_path: Path) -> AccountLocks:
    return AccountLocks(load_settings(env={}), directory=tmp_path)


def test_an_account_is_held_by_one_test_at_a_time(locks: AccountLocks) -> None:
    outcome: list[BaseException | None] = []

    def contender(role: str) -> None:
        try:
            with locks.hold(role, timeout_s=0.2):
                outcome.append(None)
        except SuiteError as exc:
            outcome.append(exc)

    with locks.hold("agent1", "agent2"):
        for role in ("agent2", "agent3"):
            thread = threading.Thread(target=contender, args=(role,))
            thread.start()
            thread.join()
    assert isinstance(outcome[0], SuiteError) and "agent2" in str(outcome[0])
    assert outcome[1] is None  # another account is free
    with locks.hold("agent2", timeout_s=0.2):  # released with the block
        pass


def test_each_holder_leaves_the_time_of_its_last_change_for_the_next(tmp_path: Path) -> None:
    changed: list[float | None] = [None]
    locks = AccountLocks(load_settings(env={}), directory=tmp_path, last_change=lambda: changed[0])
    with locks.hold("agent1") as since:
        assert since is None  # nobody held it before
        changed[0] = time.monotonic() - 5.0
    with locks.hold("agent1") as since:
        assert since is not None and abs(since - changed[0]) < 0.01
        later = time.monotonic()
        changed[0] = later
    changed[0] = None  # a holder that changed nothing keeps the time of the one before
    with locks.hold("agent1"):
        pass
    changed[0] = later - 3.0
    with locks.hold("agent2"):
        pass
    with locks.hold("agent1", "agent2") as since:
        assert since is not None and abs(since - later) < 0.01  # the latest of the accounts held


def test_shared_holders_hold_together_and_keep_an_exclusive_holder_out(locks: AccountLocks) -> None:
    with locks.hold("admin", shared=True), locks.hold("admin", shared=True, timeout_s=0.2):
        with pytest.raises(SuiteError, match="stayed in use"):
            with locks.hold("admin", timeout_s=0.2):
                pass
    with locks.hold("admin", timeout_s=0.2):  # both let go
        with pytest.raises(SuiteError, match="stayed in use"):
            with locks.hold("admin", shared=True, timeout_s=0.2):
                pass


def _gate_taken(directory: Path, user: str) -> bool:
    """Whether some holder keeps ``user``'s gate (an exclusive holder waiting for the holders to leave)."""
    import fcntl

    with open(directory / f"{hashlib.sha256(user.encode()).hexdigest()[:16]}.gate", "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


@contextlib.contextmanager
def _waiting(locks: AccountLocks, directory: Path, roles: tuple[str, ...], waits_on: str) -> Iterator[list[str]]:
    """A thread holding ``roles`` exclusively, once it waits on ``waits_on``'s lock (its gate taken); the block
    must let that account go. Yields what the thread got: ["held"] once it held them all."""
    got: list[str] = []

    def hold() -> None:
        with locks.hold(*roles, timeout_s=10):
            got.append("held")

    waiter = threading.Thread(target=hold)
    waiter.start()
    deadline = time.monotonic() + 10
    while not _gate_taken(directory, waits_on):  # flock tells no one when it is taken: look until the waiter is in
        assert time.monotonic() < deadline and waiter.is_alive()
        time.sleep(0.01)
    yield got
    waiter.join()


def test_a_waiting_exclusive_holder_goes_before_shared_holders_that_come_after_it(
    locks: AccountLocks, tmp_path: Path
) -> None:
    first = locks.hold("supervisor", shared=True)
    first.__enter__()
    with _waiting(locks, tmp_path, ("supervisor",), "supervisor") as got:
        with pytest.raises(SuiteError, match="stayed in use"):  # a fuzz test arriving now queues behind it
            with locks.hold("supervisor", shared=True, timeout_s=0.2):
                pass
        first.__exit__(None, None, None)
    assert got == ["held"]


def test_a_holder_waiting_for_a_scenarios_agent_keeps_the_fuzzings_accounts_free_meanwhile(tmp_path: Path) -> None:
    locks = AccountLocks(load_settings(env={"GWS_AGENTS": "9"}), directory=tmp_path)
    busy = locks.hold("agent2")  # a scenario's agent
    busy.__enter__()
    with _waiting(locks, tmp_path, ("agent9", "admin", "agent2"), "agent2") as got:
        for fuzzed in ("admin", "agent9"):  # a role fuzzed shared and fuzzing's own agent: not held while it waits
            with locks.hold(fuzzed, shared=True, timeout_s=0.2):
                pass
        busy.__exit__(None, None, None)
    assert got == ["held"]


def test_shared_holders_leave_the_latest_of_their_changes_for_the_next(tmp_path: Path) -> None:
    changed: list[float | None] = [None]
    locks = AccountLocks(load_settings(env={}), directory=tmp_path, last_change=lambda: changed[0])
    latest = time.monotonic() - 1.0
    with locks.hold("admin", shared=True):
        with locks.hold("admin", shared=True):
            changed[0] = latest
        changed[0] = latest - 4.0  # the one that leaves last changed earlier: the record keeps the later time
    changed[0] = None
    with locks.hold("admin") as since:
        assert since is not None and abs(since - latest) < 0.01


def _listener() -> NotificationListener:
    return NotificationListener("http://127.0.0.1:9/cometd", "agent1", "pw", ["/v2/me/devices", "/v2/users"])


def _deliver(listener: NotificationListener, topic: str) -> None:
    listener._record({"channel": topic, "data": {"n": 1}})  # what the Bayeux loop does on arrival


def test_settle_costs_nothing_when_the_window_has_passed_already() -> None:
    listener = _listener()
    started = time.monotonic()
    settle([listener], started - 1.0, 0.5)  # the last change a second ago, no message since
    assert time.monotonic() - started < 0.5


def test_settle_waits_the_window_after_the_last_change_and_the_last_own_message() -> None:
    listener = _listener()
    since = time.monotonic()
    settle([listener], since, 0.2)
    assert time.monotonic() >= since + 0.2
    timer = threading.Timer(0.1, _deliver, args=(listener, "/v2/me/devices"))
    timer.start()
    settle([listener], time.monotonic(), 0.2)
    timer.join()
    assert time.monotonic() >= listener.records()[-1].monotonic + 0.2  # the message moved the end on


def test_settle_ignores_other_users_business_on_the_users_topic() -> None:
    listener = _listener()
    _deliver(listener, "/v2/users")
    started = time.monotonic()
    settle([listener], None, 5.0)
    assert time.monotonic() - started < 1.0


def test_a_recast_scenario_takes_free_agents_of_the_pool_and_never_waits_while_holding(tmp_path: Path) -> None:
    env = {"GWS_AGENTS": "6", **{f"GWS_AGENT{n}_PASSWORD": f"pw-{n}" for n in range(1, 7)}}
    settings = load_settings(env=env)
    locks = AccountLocks(settings, directory=tmp_path)
    pool = settings.agent_pool
    with locks.hold_cast(["agent1", "agent2", "supervisor"], pool) as (first, _):
        assert first == {"agent1": "agent4", "agent2": "agent5"}  # beyond the named three first
        with locks.hold_cast(["agent1", "agent2"], pool) as (second, _):
            assert second == {"agent1": "agent6", "agent2": "agent1"}  # disjoint: side by side
            with pytest.raises(SuiteError, match="stayed in use"):
                with locks.hold_cast(["agent1", "agent2", "agent3"], pool, timeout_s=0.2):
                    pass  # two agents left (agent2, agent3): the attempt lets them go again
            with locks.hold("agent2", "agent3", timeout_s=0.2):  # nothing was left held by the failed attempt
                pass


def test_a_granted_ready_cell_waits_for_the_routing_a_whole_pool_scenario_holds_and_puts_its_agent_back(
    locks: AccountLocks,
) -> None:
    """The permission matrix's Ready cells make a throwaway agent Ready, whom routing may offer any e-mail: while a
    whole-pool scenario holds the routing, such a cell cannot begin, and it leaves its agent NotReady."""
    import httpx

    from conformance.client import GwsClient
    from conformance.fixtures.scenarios import ROUTING
    from conformance.suite.scenarios.permissions import routable_while_ready

    sent: list[str] = []
    settings = load_settings(env={"GWS_BASE_URL": "http://gws.test/api/v2", "GWS_AGENT1_PASSWORD": "pw"})
    transport = httpx.MockTransport(
        lambda request: (sent.append(request.content.decode()), httpx.Response(200, json={"statusCode": 0}))[1]
    )
    client = GwsClient(settings, settings.credentials("agent1"), transport=transport)
    values = {"channel": "email"}
    began: list[str] = []

    def cell() -> None:
        with routable_while_ready(locks, client, "POST /me/channels/{channel}#Ready", values):
            began.append("Ready")

    with locks.hold(ROUTING):  # a whole-pool scenario
        waiting = threading.Thread(target=cell)
        waiting.start()
        waiting.join(0.5)  # proves absence: the cell stays out as long as the scenario holds the routing
        assert waiting.is_alive() and began == [] and sent == []
    waiting.join(10)
    assert began == ["Ready"] and [json.loads(body)["operationName"] for body in sent] == ["NotReady"]
    with routable_while_ready(locks, client, "POST /me/channels/{channel}#Ready", values):
        with pytest.raises(SuiteError, match="stayed in use"):  # and a whole-pool scenario waits for a cell
            with locks.hold(ROUTING, timeout_s=0.2):
                pass
