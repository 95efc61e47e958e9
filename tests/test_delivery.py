"""Quiet windows sized from the measured delivery latency; late messages named, not blamed on a later check."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from conformance.client import Recorder
from conformance.cometd import NotificationListener
from conformance.config import load_settings
from conformance.delivery import CEILING_S, FLOOR_S, MIN_SAMPLES, SAFETY_FACTOR, DeliveryClock, describe, summarise
from conformance.fixtures.scenarios import AccountLocks, settle


def clock_after(latencies: list[float], *, configured_s: float = 2.0, fixed: bool = False) -> DeliveryClock:
    """A clock that has seen one message ``latency`` after each change."""
    clock = DeliveryClock(configured_s, fixed=fixed, change_before=lambda moment: moment - pending[0])
    pending = [0.0]
    for latency in latencies:
        pending[0] = latency
        clock.observe(100.0)
    return clock


def test_until_enough_is_measured_the_configured_window_holds() -> None:
    assert clock_after([0.01] * (MIN_SAMPLES - 1)).window_s() == 2.0


def test_the_window_is_a_multiple_of_the_worst_recent_latency_within_floor_and_ceiling() -> None:
    assert clock_after([0.1, 0.2, 0.15, 0.12, 0.3]).window_s() == pytest.approx(SAFETY_FACTOR * 0.3)
    assert clock_after([0.001] * MIN_SAMPLES).window_s() == FLOOR_S
    assert clock_after([0.001] * MIN_SAMPLES + [10.0]).window_s() == CEILING_S


def test_a_window_set_by_the_user_is_used_as_is() -> None:
    assert clock_after([0.001] * 50, configured_s=0.7, fixed=True).window_s() == 0.7


def test_a_message_before_its_response_counts_zero_and_one_without_a_change_counts_nothing() -> None:
    recorder = Recorder()
    clock = DeliveryClock(2.0, fixed=False, change_before=recorder.change_before)
    clock.observe(time.monotonic())  # nothing changed yet: no sample
    recorder.note_change()
    changed = time.monotonic()
    clock.observe(changed + 0.25)
    clock.observe(changed - 1.0)  # before any remembered change started: no sample
    drained = clock.drain()
    assert drained is not None and drained["latency_s"] == [pytest.approx(0.25, abs=0.01)]
    assert clock.drain() is None  # drained once


def test_the_run_summary_shows_the_distribution_the_windows_and_the_late_messages() -> None:
    clock = clock_after([0.01, 0.02, 0.03, 0.04, 0.05])
    clock.spend()
    clock.late("#7 agent1 /v2/me/devices: {...}")
    first = clock.drain()
    clock.observe(100.0)
    clock.spend()
    second = clock.drain()
    assert first is not None and second is not None
    summary = summarise([first, second])
    assert summary is not None
    assert summary["latency_s"]["count"] == 6 and summary["latency_s"]["max"] == 0.05
    assert summary["windows_s"]["count"] == 2 and summary["windows_s"]["total"] == pytest.approx(2 * FLOOR_S)
    assert summary["quiet_window"] == "measured"
    text = "\n".join(describe(summary))
    assert "latency median 35 ms" in text and "quiet windows (measured): 2" in text
    assert "LATE message: #7 agent1 /v2/me/devices" in text
    assert summarise([]) is None and describe(None) == []


def test_gws_quiet_window_s_unset_means_measured_and_set_means_fixed() -> None:
    assert load_settings(env={}).quiet_window_fixed is False
    assert load_settings(env={"GWS_QUIET_WINDOW_S": "2"}).quiet_window_fixed is True


def _listener() -> NotificationListener:
    return NotificationListener("http://127.0.0.1:9/cometd", "agent1", "pw", ["/v2/me/devices", "/v2/users"])


def test_a_message_after_the_previous_holders_window_closed_is_named_as_late(tmp_path: Path) -> None:
    locks = AccountLocks(load_settings(env={}), directory=tmp_path, last_change=lambda: time.monotonic() - 1.0)
    with locks.hold("agent1"):
        pass  # a holder that changed something a second ago and let go now
    listener = _listener()
    late: list[str] = []
    with locks.hold_accounts("agent1") as previous:
        assert previous.changed is not None and previous.released is not None
        settle([listener], previous.changed, 0.1, released=previous.released, late=late.append)
    assert late == []  # nothing arrived
    listener._record({"channel": "/v2/users", "data": {"n": 0}})  # everybody's business: not judged
    listener._record({"channel": "/v2/me/devices", "data": {"n": 1}})  # what the Bayeux loop does on arrival
    with locks.hold_accounts("agent1") as previous:
        settle([listener], previous.changed, 0.1, released=previous.released, late=late.append)
    assert (
        len(late) == 1 and "/v2/me/devices" in late[0] and "'n': 1" in late[0] and "after the quiet window" in late[0]
    )


def test_after_a_test_failed_on_a_missing_message_later_waits_on_that_topic_are_short() -> None:
    clock = clock_after([0.01] * MIN_SAMPLES)
    clock.missed("/v2/me/calls")
    clock.test_ended(failed=False)  # a SHOULD taken from a missing message: nothing is shortened
    assert clock.expect_timeout_s("/v2/me/calls", 10.0) == 10.0
    clock.missed("/v2/me/calls")
    clock.test_ended(failed=True)
    assert clock.expect_timeout_s("/v2/me/calls", 10.0) == pytest.approx(max(3 * FLOOR_S, 1.0))
    assert clock.expect_timeout_s("/v2/me/devices", 10.0) == 10.0  # other topics keep the full timeout
    assert clock.expect_timeout_s("/v2/me/calls", 0.5) == 0.5  # never longer than asked


def test_a_topic_one_worker_found_missing_shortens_the_waits_of_every_worker_of_the_run(tmp_path: Path) -> None:
    shared = tmp_path / "missed-topics"
    workers = [DeliveryClock(0.3, fixed=True, shared_dir=tmp_path) for _ in range(2)]
    assert workers[1].expect_timeout_s("/v2/me/calls", 10.0) == 10.0  # nothing written yet: no file at all
    workers[0].missed("/v2/me/calls")
    workers[0].test_ended(failed=True)
    workers[0].missed("/v2/me/calls")
    workers[0].test_ended(failed=True)  # known already: written once
    assert shared.read_text(encoding="utf-8") == "/v2/me/calls\n"
    assert workers[1].expect_timeout_s("/v2/me/calls", 10.0) == pytest.approx(1.0)
    assert workers[1].expect_timeout_s("/v2/me/devices", 10.0) == 10.0
    (tmp_path / "another-run").mkdir()
    alone = DeliveryClock(0.3, fixed=True, shared_dir=tmp_path / "another-run")
    assert alone.expect_timeout_s("/v2/me/calls", 10.0) == 10.0  # another run's file is not this run's


def test_a_worker_without_samples_of_its_own_sizes_its_windows_from_the_other_workers(tmp_path: Path) -> None:
    pending = [0.0]
    measuring = DeliveryClock(2.0, fixed=False, change_before=lambda moment: moment - pending[0], shared_dir=tmp_path)
    starting = DeliveryClock(2.0, fixed=False, shared_dir=tmp_path)
    assert starting.window_s() == 2.0  # nobody has measured anything: the configured window
    for latency in (0.01, 0.2, 0.05):
        pending[0] = latency
        measuring.observe(100.0)
    with (tmp_path / "latencies").open("a", encoding="utf-8") as shared:
        shared.write("0.9")  # another worker's line, half written: not read as 0.9 s
    assert starting.window_s() == pytest.approx(SAFETY_FACTOR * 0.2)  # the others' worst recent, times three
    fixed = DeliveryClock(2.0, fixed=True, shared_dir=tmp_path)
    assert fixed.window_s() == 2.0  # GWS_QUIET_WINDOW_S wins over any measurement


def test_an_inbox_says_when_it_waited_less_than_the_full_timeout() -> None:
    from conformance.failures import Violation
    from conformance.inbox import Inbox

    clock = clock_after([0.01] * MIN_SAMPLES)
    clock.missed("/v2/me/devices")
    clock.test_ended(failed=True)
    inbox = Inbox(_listener(), timeout_s=5.0, clock=clock)
    started = time.monotonic()
    with pytest.raises(Violation) as failure:
        inbox.expect("/v2/me/devices", description="the devices Ready")
    assert time.monotonic() - started < 2.5
    assert "waited 1 s, not 5 s: an expectation on /v2/me/devices in this run had timed out" in failure.value.message


def test_a_cleanup_does_not_wait_for_a_message_on_a_topic_the_run_knows_is_dropped(tmp_path: Path) -> None:
    from typing import Any, cast

    from conformance.inbox import Inbox
    from conformance.suite.scenarios.lifecycle import Party

    elsewhere, here = (DeliveryClock(0.3, fixed=True, shared_dir=tmp_path) for _ in range(2))
    party = Party("agent1", cast(Any, None), cast(Any, None), cast(Any, None), _listener())
    party.inbox = Inbox(party.listener, timeout_s=10.0, clock=here)
    assert party.cleanup_wait_s("/v2/me/calls") == 10.0
    here.missed("/v2/me/calls")  # the running test's own expectation failed: its cleanup does not wait either
    assert party.cleanup_wait_s("/v2/me/calls") == 0.0 and party.cleanup_wait_s("/v2/me/devices") == 10.0
    here.test_ended(failed=False)  # a SHOULD that went on: later tests wait in full again
    assert party.cleanup_wait_s("/v2/me/calls") == 10.0
    elsewhere.missed("/v2/me/calls")
    elsewhere.test_ended(failed=True)  # another worker's test failed on it
    assert party.cleanup_wait_s("/v2/me/calls") == 0.0


def test_a_wait_under_way_ends_once_another_worker_finds_its_topic_missing(tmp_path: Path) -> None:
    """Two workers wait on the same dropped topic at once: the later one does not wait out its own full timeout
    once the first has failed on it (fail fast costs one full timeout per run, not one per worker)."""
    from conformance.failures import Violation
    from conformance.inbox import Inbox

    first, second = (DeliveryClock(0.3, fixed=True, shared_dir=tmp_path) for _ in range(2))
    inbox = Inbox(_listener(), timeout_s=30.0, clock=second)
    failing = threading.Timer(1.0, lambda: (first.missed("/v2/me/devices"), first.test_ended(failed=True)))
    started = time.monotonic()
    failing.start()
    with pytest.raises(Violation) as failure:
        inbox.expect("/v2/me/devices", description="the devices Ready")
    assert 1.0 <= time.monotonic() - started < 5.0  # not 30 s: it ended at the first recheck after the other failed
    assert "waited 1 s, not 30 s: an expectation on /v2/me/devices in this run had timed out" in failure.value.message


def test_a_failed_scenarios_cleanup_waits_briefly_for_what_a_broken_target_may_never_send() -> None:
    from typing import Any, cast

    from conformance.inbox import Inbox
    from conformance.suite.scenarios.lifecycle import FAILED_CLEANUP_WAIT_S, UNHEARD_CLEANUP_WAIT_S, Cast, Party

    def scene_with_inbox() -> tuple[Cast, Inbox]:
        inbox = Inbox(_listener(), timeout_s=10.0)
        scene = Cast(cast(Any, None), lambda *roles, **options: None, cast(Any, None), cast(Any, None))
        party = Party("agent1", cast(Any, None), cast(Any, None), cast(Any, None), inbox.listener, inbox)
        scene.parties.append(party)
        return scene, inbox

    passed, inbox = scene_with_inbox()
    passed.cleanup(failed=False)
    assert inbox.timeout_s == 10.0
    failed, inbox = scene_with_inbox()
    failed.cleanup(failed=True)
    assert inbox.timeout_s == FAILED_CLEANUP_WAIT_S
    assert failed.parties[0].cleanup_wait_s("/v2/me/calls") == FAILED_CLEANUP_WAIT_S

    # A party that failed before it listened (a refused Dial) has no inbox: its cleanup waits are cut all the same.
    unheard = Party("agent2", cast(Any, None), cast(Any, None), cast(Any, None), _listener())
    assert unheard.cleanup_wait_s("/v2/me/calls") == UNHEARD_CLEANUP_WAIT_S > FAILED_CLEANUP_WAIT_S
    scene = Cast(cast(Any, None), lambda *roles, **options: None, cast(Any, None), cast(Any, None))
    scene.parties.append(unheard)
    scene.cleanup(failed=True)
    assert unheard.cleanup_wait_s("/v2/me/calls") == FAILED_CLEANUP_WAIT_S


def test_a_message_is_timed_when_it_arrives_not_when_its_schema_check_ends() -> None:
    checks_began: list[float] = []

    def schema_check(topic: str, data: dict) -> list[str]:  # type: ignore[type-arg]
        checks_began.append(time.monotonic())  # a cold worker compiles its schemas here: it is not delivery
        return []

    listener = NotificationListener(
        "http://127.0.0.1:9/cometd", "agent1", "pw", ["/v2/me/devices"], schema_check=schema_check
    )
    listener._record({"channel": "/v2/me/devices", "data": {"n": 1}})  # what the Bayeux loop does on arrival
    (record,) = listener.records()
    assert record.monotonic <= checks_began[0]
