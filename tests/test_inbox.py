"""conformance.inbox: expectations claim messages in order; strays, duplicates and bad schemas fail."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import findings
from conformance.cometd import NotificationListener
from conformance.failures import Violation
from conformance.inbox import Inbox
from conformance.notifications import validate_notification

DEVICES = "/v2/me/devices"


def device(state: str, dnd: str = "Off") -> dict[str, Any]:
    return {
        "messageType": "DeviceStateChangeMessage",
        "devices": [{"id": "d1", "deviceState": "Active", "userState": {"state": state}, "doNotDisturb": dnd}],
    }


class Feed:
    """A listener that is never started: the test delivers its messages."""

    def __init__(self) -> None:
        self.listener = NotificationListener(
            "http://127.0.0.1:9/cometd",
            "agent1",
            "pw",
            [DEVICES, "/v2/me/channels"],
            schema_check=validate_notification,
        )

    def deliver(self, topic: str, data: dict[str, Any]) -> None:
        self.listener._record({"channel": topic, "data": data})  # what the Bayeux loop does on arrival

    def inbox(self, **options: Any) -> Inbox:
        return Inbox(self.listener, timeout_s=0.05, quiet_window_s=0.05, **options)


def state(wanted: str) -> Any:
    return lambda data: data["devices"][0]["userState"]["state"] == wanted


def test_messages_before_the_inbox_opened_are_not_its_business() -> None:
    feed = Feed()
    feed.deliver(DEVICES, device("Ready"))
    inbox = feed.inbox()
    with findings.collecting(["GWS-AGST-007"]), pytest.raises(Violation) as missing:
        inbox.expect(DEVICES, state("Ready"), "the devices Ready")
    assert missing.value.requirement_ids == ("GWS-AGST-007",)
    inbox.assert_quiet()


def test_expected_messages_are_claimed_in_order_and_nothing_else_may_arrive() -> None:
    feed = Feed()
    inbox = feed.inbox()
    feed.deliver(DEVICES, device("Ready"))
    feed.deliver(DEVICES, device("NotReady"))
    inbox.expect(DEVICES, state("Ready"))
    inbox.expect(DEVICES, state("NotReady"))
    inbox.assert_quiet()
    assert len(inbox.claimed()) == 2


def test_a_message_out_of_order_is_not_found_and_a_skipped_one_is_a_stray() -> None:
    feed = Feed()
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
    feed = Feed()
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
    feed = Feed()
    inbox = feed.inbox(topics=[DEVICES], ignore=lambda data: data["devices"][0]["doNotDisturb"] == "On")
    feed.deliver(DEVICES, device("Ready", dnd="On"))
    feed.deliver("/v2/me/channels", {"channels": [{"channel": "email", "userState": {"state": "Ready"}}]})
    inbox.assert_quiet()


def test_a_claimed_message_that_breaks_its_schema_fails_the_step() -> None:
    feed = Feed()
    inbox = feed.inbox()
    feed.deliver(DEVICES, {"devices": [{"id": "d1", "deviceState": "Sleeping", "userState": {"state": "Ready"}}]})
    with findings.collecting(["GWS-DEV-013"]), pytest.raises(Violation) as broken:
        inbox.expect(DEVICES)
    assert broken.value.check == "notification_schema"
    assert set(broken.value.requirement_ids) == {"GWS-GEN-007", "GWS-DEV-013"}
