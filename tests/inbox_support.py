"""A fed listener for the Inbox's own tests: never started, the test delivers each message itself."""

from __future__ import annotations

from typing import Any

from conformance.cometd import NotificationListener
from conformance.inbox import Inbox
from conformance.notifications import validate_notification


class Feed:
    """A listener on ``topics`` that is never started: ``deliver`` is what the Bayeux loop does on arrival."""

    def __init__(self, *topics: str) -> None:
        self.listener = NotificationListener(
            "http://127.0.0.1:9/cometd", "agent1", "pw", list(topics), schema_check=validate_notification
        )

    def deliver(self, topic: str, data: dict[str, Any]) -> None:
        self.listener._record({"channel": topic, "data": data})

    def inbox(self, **options: Any) -> Inbox:
        return Inbox(self.listener, timeout_s=0.05, quiet_window_s=0.05, **options)
