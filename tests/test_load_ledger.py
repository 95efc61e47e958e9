"""The load run's judge (conformance.load.ledger, verdict, options): each counter fed what it must count.

Pure functions of messages and times, no server, no Locust (whose import patches the process with gevent):
milliseconds. The load runs themselves are in tests/test_load_run.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.load.ledger import Ledger, Totals, signature
from conformance.load.options import OptionsError, Thresholds, parse_mix, read_thresholds
from conformance.load.verdict import judge

CHANNELS, DEVICES, CALLS = "/v2/me/channels", "/v2/me/devices", "/v2/me/calls"


def channels(state: str) -> dict[str, Any]:
    return {
        "messageType": "ChannelStateChangeMessage",
        "channels": [{"channel": "voice", "userState": {"state": state}}],
    }


def device(device_id: str, state: str, dnd: str = "Off") -> dict[str, Any]:
    return {"devices": [{"id": device_id, "userState": {"state": state}, "doNotDisturb": dnd}]}


def call(uuid: str, state: str, number: str, other: str) -> dict[str, Any]:
    return {"phoneNumber": number, "call": {"callUuid": uuid, "state": state, "participants": [other]}}


def ledger() -> Ledger:
    book = Ledger(deadline_s=10)
    book.own("agent1", ["d1", "5001"])
    book.own("agent2", ["d2", "5002"])
    return book


def test_a_message_owed_and_received_is_delivered_with_its_latency() -> None:
    book = ledger()
    owed = book.expect("agent1", CHANNELS, "channels", "Ready", sent_at=100.0)
    assert book.receive("agent1", CHANNELS, channels("Ready"), [], 100.004) is owed
    book.settle(200.0)
    assert book.delivered == 1 and not any(book.counters.values())
    assert book.percentile_ms(0.99) == pytest.approx(4.1, abs=0.1)


def test_a_message_never_received_is_lost_once_the_run_settles() -> None:
    book = ledger()
    book.expect("agent1", CHANNELS, "channels", "Ready", sent_at=100.0)
    book.settle(105.0)  # within the deadline: still owed
    assert book.counters["lost"] == 0 and book.still_owed() == 1
    book.settle(111.0)
    assert book.counters["lost"] == 1 and book.still_owed() == 0


def test_an_optional_message_is_never_lost_until_the_server_has_sent_one() -> None:
    book = ledger()
    book.expect("agent1", DEVICES, "device:d1", "Ready/Off", 100.0, required=False)
    book.settle(200.0)
    assert book.counters["lost"] == 0
    book.expect("agent1", DEVICES, "device:d1", "NotReady/Off", 200.0, required=False)
    assert book.receive("agent1", DEVICES, device("d1", "NotReady"), [], 200.01) is not None
    book.expect("agent1", DEVICES, "device:d1", "Ready/Off", 300.0, required=False)  # now owed
    book.settle(400.0)
    assert book.counters["lost"] == 1


def test_a_second_copy_with_nothing_owed_is_duplicated() -> None:
    book = ledger()
    book.expect("agent1", CHANNELS, "channels", "Ready", 100.0)
    book.receive("agent1", CHANNELS, channels("Ready"), [], 100.01)
    assert book.receive("agent1", CHANNELS, channels("Ready"), [], 100.02) is None
    assert book.counters["duplicated"] == 1 and book.unexpected == 0


def test_a_state_nobody_asked_for_is_unexpected_not_a_failure() -> None:
    book = ledger()
    book.receive("agent1", CHANNELS, channels("AfterCallWork"), [], 100.0)
    assert book.unexpected == 1 and not any(book.counters.values())


def test_an_earlier_state_after_a_later_one_is_reordered_and_a_lost_one_is_not() -> None:
    book = ledger()
    book.expect("agent1", CALLS, "call:u1", "Held", 100.0)
    book.expect("agent1", CALLS, "call:u1", "Established", 100.1)
    book.expect("agent1", CALLS, "call:u1", "Released", 100.2)
    book.receive("agent1", CALLS, call("u1", "Established", "5001", "5002"), [], 100.3)
    assert book.counters["reordered"] == 0  # Held may still come, or be lost
    book.receive("agent1", CALLS, call("u1", "Held", "5001", "5002"), [], 100.4)
    assert book.counters["reordered"] == 1
    book.receive("agent1", CALLS, call("u1", "Released", "5001", "5002"), [], 100.5)
    book.settle(200.0)
    assert dict(book.counters) == {**dict.fromkeys(book.counters, 0), "reordered": 1}


def test_a_new_call_is_matched_by_its_other_party() -> None:
    book = ledger()
    dialing = book.expect("agent1", CALLS, None, "Dialing", 100.0, party="5002")
    assert book.receive("agent1", CALLS, call("u9", "Dialing", "5001", "5003"), [], 100.01) is None
    assert book.receive("agent1", CALLS, call("u1", "Dialing", "5001", "5002"), [], 100.02) is dialing
    assert dialing.data["call"]["callUuid"] == "u1"


def test_a_message_about_another_agents_device_or_call_is_misrouted() -> None:
    book = ledger()
    book.expect("agent1", DEVICES, "device:d2", "Ready/Off", 100.0)
    assert book.receive("agent1", DEVICES, device("d2", "Ready"), [], 100.01) is None
    book.receive("agent1", CALLS, call("u1", "Ringing", "5002", "5001"), [], 100.02)
    assert book.counters["misrouted"] == 2


def test_late_and_schema_invalid_are_counted_as_they_arrive() -> None:
    book = ledger()
    book.expect("agent1", CHANNELS, "channels", "Ready", 100.0)
    book.receive("agent1", CHANNELS, channels("Ready"), ["$.channels: bad"], 111.0)
    assert book.counters["late"] == 1 and book.counters["schema_invalid"] == 1 and book.delivered == 1


def test_a_refused_request_owes_nothing() -> None:
    book = ledger()
    owed = book.expect("agent1", CHANNELS, "channels", "Ready", 100.0)
    book.withdraw(owed)
    book.settle(200.0)
    assert book.counters["lost"] == 0 and book.owed == 0


def test_a_request_without_a_reply_owes_what_it_may_have_done_only_if_it_comes() -> None:
    book = ledger()
    came = book.expect("agent1", CHANNELS, "channels", "Ready", 100.0)
    book.unsure(came)  # the generator gave up on the reply; the server performed it later
    assert book.receive("agent1", CHANNELS, channels("Ready"), [], 112.0) is came
    never = book.expect("agent1", CHANNELS, "channels", "NotReady", 120.0)
    book.unsure(never)  # ... and this one it never performed
    book.settle(200.0)
    early = book.expect("agent1", CHANNELS, "channels", "Ready", 130.0)
    book.receive("agent1", CHANNELS, channels("Ready"), [], 130.5)
    book.unsure(early)  # its message came before the generator gave up on the reply: owed, and delivered
    assert book.counters["duplicated"] == 0 and book.counters["lost"] == 0 and book.unexpected == 0
    assert book.delivered == 2 and book.owed == 2


def test_deltas_merge_to_the_whole_on_a_master() -> None:
    one, two, master = ledger(), ledger(), Totals()
    for book, agent, at in ((one, "agent1", 100.0), (two, "agent2", 200.0)):
        book.expect(agent, CHANNELS, "channels", "Ready", at)
        book.receive(agent, CHANNELS, channels("Ready"), [], at + 0.002)
        master.merge(book.delta())
        book.expect(agent, CHANNELS, "channels", "NotReady", at)
        book.rest(200, 0, False, 0.003)
        book.settle(at + 100)
        master.merge(book.delta())
        assert book.delta().get("counters", {}) == {}  # nothing new
    assert master.delivered == 2 and master.counters["lost"] == 2 and master.owed == 4
    assert master.rest_status == {"HTTP 200 / statusCode 0": 2}
    assert master.percentile_ms(0.5) == pytest.approx(2.05, abs=0.1)


def test_the_verdict_fails_each_counter_over_its_threshold_and_a_slow_p99() -> None:
    totals = Totals()
    totals.note("duplicated", "x")
    totals.rest_status["HTTP 500 / statusCode 4"] = 1
    verdict = {c.name: c for c in judge(totals, Thresholds(max_duplicated=1))}
    assert verdict["duplicated"].passed and not verdict["rest_errors"].passed
    assert not verdict["p99_delivery_ms"].passed  # nothing delivered proves nothing
    totals.delivery_ms[10] = 5  # 1.1 ms
    assert {c.name: c.passed for c in judge(totals, Thresholds())}["p99_delivery_ms"]
    assert "GWS-LOAD-001" in verdict["lost"].requirements


def test_signatures_name_the_stream_and_state() -> None:
    assert signature(DEVICES, device("d1", "Ready", "On")).stream == "device:d1"
    assert signature(DEVICES, device("d1", "Ready", "On")).state == "Ready/On"
    assert signature(CALLS, call("u1", "Held", "5001", "5002")).party == "5002"
    assert signature("/v2/me", None).state == "None"


def test_mix_and_thresholds_are_read_or_refused_in_one_line(tmp_path: Path) -> None:
    assert parse_mix("state=3, call=1") == {"state": 3, "call": 1}
    for bad in ("walk=1", "state=x", "state=0"):
        with pytest.raises(OptionsError):
            parse_mix(bad)
    config = tmp_path / "gws.toml"
    config.write_text("[load]\nmax_lost = 2\np99_delivery_ms = 80\n", encoding="utf-8")
    assert read_thresholds(config, {"deadline_s": 5}) == Thresholds(max_lost=2, p99_delivery_ms=80.0, deadline_s=5.0)
    config.write_text("[load]\nmax_lots = 2\n", encoding="utf-8")
    with pytest.raises(OptionsError, match="max_lots"):
        read_thresholds(config)
