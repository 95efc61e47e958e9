"""conformance.inbox: expectations claim messages in order; strays, duplicates and bad schemas fail."""

from __future__ import annotations

from typing import Any

import pytest
from inbox_support import Feed

from conformance import findings
from conformance.failures import Violation

DEVICES = "/v2/me/devices"


def device(state: str, dnd: str = "Off") -> dict[str, Any]:
    return {
        "messageType": "DeviceStateChangeMessage",
        "devices": [{"id": "d1", "deviceState": "Active", "userState": {"state": state}, "doNotDisturb": dnd}],
    }


def new_feed() -> Feed:
    return Feed(DEVICES, "/v2/me/channels")


def state(wanted: str) -> Any:
    return lambda data: data["devices"][0]["userState"]["state"] == wanted


def test_messages_before_the_inbox_opened_are_not_its_business() -> None:
    feed = new_feed()
    feed.deliver(DEVICES, device("Ready"))
    inbox = feed.inbox()
    with findings.collecting(["GWS-AGST-007"]), pytest.raises(Violation) as missing:
        inbox.expect(DEVICES, state("Ready"), "the devices Ready")
    assert missing.value.requirement_ids == ("GWS-AGST-007",)
    inbox.assert_quiet()


def test_expected_messages_are_claimed_in_order_and_nothing_else_may_arrive() -> None:
    feed = new_feed()
    inbox = feed.inbox()
    feed.deliver(DEVICES, device("Ready"))
    feed.deliver(DEVICES, device("NotReady"))
    inbox.expect(DEVICES, state("Ready"))
    inbox.expect(DEVICES, state("NotReady"))
    inbox.assert_quiet()
    assert len(inbox.claimed()) == 2


def test_a_message_out_of_order_is_not_found_and_a_skipped_one_is_a_stray() -> None:
    feed = new_feed()
    inbox = feed.inbox()
    feed.deliver(DEVICES, device("NotReady"))
    feed.deliver(DEVICES, device("Ready"))
    with findings.collecting():
        inbox.expect(DEVICES, state("Ready"))
        with pytest.raises(Violation, match="no a message"):
            inbox.expect(DEVICES, state("NotReady"))
        with pytest.raises(Violation, match="unexpected or duplicated message on /v2/me/devices"):
            inbox.assert_quiet()


def test_a_duplicate_fails_the_quiet_check() -> None:
    feed = new_feed()
    inbox = feed.inbox()
    feed.deliver(DEVICES, device("Ready"))
    feed.deliver(DEVICES, device("Ready"))
    with findings.collecting(["GWS-AGST-011", "GWS-SET-009"]):
        inbox.expect(DEVICES, state("Ready"))
        with pytest.raises(Violation) as stray:
            inbox.assert_quiet()
    assert stray.value.requirement_ids == ("GWS-AGST-011",)  # the test's requirements about device messages
    assert stray.value.evidence and stray.value.evidence[0].to_dict()["topic"] == DEVICES


def test_ignored_messages_and_unwatched_topics_do_not_count() -> None:
    feed = new_feed()
    inbox = feed.inbox(topics=[DEVICES], ignore=lambda data: data["devices"][0]["doNotDisturb"] == "On")
    feed.deliver(DEVICES, device("Ready", dnd="On"))
    feed.deliver("/v2/me/channels", {"channels": [{"channel": "email", "userState": {"state": "Ready"}}]})
    inbox.assert_quiet()


def test_a_claimed_message_that_breaks_its_schema_fails_the_step() -> None:
    feed = new_feed()
    inbox = feed.inbox()
    feed.deliver(DEVICES, {"devices": [{"id": "d1", "deviceState": "Sleeping", "userState": {"state": "Ready"}}]})
    with findings.collecting(["GWS-DEV-013"]), pytest.raises(Violation) as broken:
        inbox.expect(DEVICES)
    assert broken.value.check == "notification_schema"
    assert set(broken.value.requirement_ids) == {"GWS-GEN-007", "GWS-DEV-013"}


def test_a_check_between_steps_judges_at_once_and_the_last_check_catches_what_came_late() -> None:
    feed = new_feed()
    inbox = feed.inbox()
    feed.deliver(DEVICES, device("Ready"))
    inbox.expect(DEVICES, state("Ready"))
    inbox.assert_quiet(window_s=0)
    feed.deliver(DEVICES, device("Ready"))  # a late duplicate of the first step's message
    feed.deliver(DEVICES, device("NotReady"))
    inbox.expect(DEVICES, state("NotReady"))
    with findings.collecting(), pytest.raises(Violation, match="unexpected or duplicated") as stray:
        inbox.assert_quiet()
    assert [e.to_dict()["index"] for e in stray.value.evidence] == [1]


def test_a_stray_claimed_in_place_of_the_real_message_leaves_the_real_one_unclaimed() -> None:
    feed = new_feed()
    inbox = feed.inbox()
    inbox.assert_quiet(window_s=0)  # the step's check ran before the stray arrived
    feed.deliver(DEVICES, device("NotReady"))  # the stray, before the step that causes NotReady
    inbox.expect(DEVICES, state("NotReady"))  # that step claims it
    feed.deliver(DEVICES, device("NotReady"))  # the step's own message
    with findings.collecting(), pytest.raises(Violation, match="unexpected or duplicated"):
        inbox.assert_quiet()


def test_allowed_messages_count_as_claimed_within_their_range_only() -> None:
    feed = new_feed()
    inbox = feed.inbox()
    feed.deliver(DEVICES, device("Ready", dnd="On"))  # before the range: a stray
    start = feed.listener.mark()
    feed.deliver(DEVICES, device("Ready", dnd="On"))
    feed.deliver(DEVICES, device("NotReady"))
    end = inbox.expect(DEVICES, state("NotReady")).index
    inbox.allow(DEVICES, lambda data: data["devices"][0]["doNotDisturb"] == "On", after=start, before=end)
    with findings.collecting(), pytest.raises(Violation) as stray:
        inbox.assert_quiet(window_s=0)
    assert [e.to_dict()["index"] for e in stray.value.evidence] == [0]
    feed.deliver(DEVICES, device("Ready", dnd="On"))  # after the range: a stray too
    with findings.collecting(), pytest.raises(Violation) as late:
        inbox.assert_quiet(window_s=0)
    assert [e.to_dict()["index"] for e in late.value.evidence] == [0, 3]


def test_an_open_allowance_takes_what_comes_later_and_still_judges_its_schema() -> None:
    feed = new_feed()
    inbox = feed.inbox()
    inbox.allow(DEVICES, lambda data: data["devices"][0]["userState"]["state"] == "Ready")
    feed.deliver(DEVICES, device("Ready"))
    inbox.assert_quiet()
    with pytest.raises(Violation, match="no a message"), findings.collecting():
        inbox.expect(DEVICES, state("Ready"))  # an allowed message is claimed: no expectation gets it
    feed.deliver(DEVICES, {"devices": [{"id": "d1", "deviceState": "Sleeping", "userState": {"state": "Ready"}}]})
    with findings.collecting(), pytest.raises(Violation) as broken:
        inbox.assert_quiet()
    assert broken.value.check == "notification_schema"


def test_the_listener_tells_when_its_last_message_on_some_topics_arrived() -> None:
    feed = new_feed()
    assert feed.listener.last_received_monotonic() is None
    feed.deliver(DEVICES, device("Ready"))
    on_devices = feed.listener.last_received_monotonic()
    feed.deliver("/v2/me/channels", {"channels": [{"channel": "email", "userState": {"state": "Ready"}}]})
    assert on_devices == feed.listener.records(DEVICES)[-1].monotonic
    assert feed.listener.last_received_monotonic([DEVICES]) == on_devices
    assert feed.listener.last_received_monotonic() == feed.listener.records()[-1].monotonic
    assert feed.listener.last_received_monotonic(["/v2/me/calls"]) is None
