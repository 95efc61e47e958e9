"""A raw Bayeux (CometD) session over long-polling: one meta message per POST, replies read as sent.

The CometD protocol tests speak the protocol by hand through this, so that they see what a client
library hides (the 402 it recovers from, how long a connect was held, the exact reply fields).
"""

from __future__ import annotations

import base64
import itertools
import time
from typing import Any

import httpx

from conformance.client import tls_context
from conformance.config import Settings
from conformance.suite.scenarios.support import require

__all__ = ["ADVICE", "HOLD_MS", "HOLD_TOLERANCE", "Bayeux", "Message"]

Message = dict[str, Any]

ADVICE = {"interval": 0, "timeout": 30000, "reconnect": "retry"}  # what the reference's examples advise
# A connect asks the server to hold it at most this long: short enough for a test, long enough to measure.
HOLD_MS = 1500
# A held connect may come back a little early (timers, clocks); answered within a tenth of it is not held.
HOLD_TOLERANCE = 0.6


class Bayeux:
    """One user's CometD session over long-polling, one meta message per POST."""

    _ids = itertools.count(1)

    def __init__(self, settings: Settings, role: str | None) -> None:
        headers = {"Content-Type": "application/json"}
        if role is not None:
            account = settings.credentials(role)
            token = base64.b64encode(f"{account.user}:{account.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        # A held connect lasts up to HOLD_MS: the read timeout leaves it room.
        self.http = httpx.Client(
            headers=headers, timeout=httpx.Timeout(settings.request_timeout_s + HOLD_MS / 1000), verify=tls_context()
        )
        self.url = settings.cometd_url
        self.client_id: str | None = None

    def close(self) -> None:
        self.http.close()

    def send(self, channel: str, **fields: Any) -> tuple[httpx.Response, list[Message]]:
        message = {"channel": channel, "id": str(next(self._ids)), **fields}
        if self.client_id is not None and channel != "/meta/handshake":
            message.setdefault("clientId", self.client_id)
        response = self.http.post(self.url, json=[message])
        try:
            body = response.json()
        except ValueError:
            body = None
        replies = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
        return response, [m for m in replies if isinstance(m, dict)]

    def meta(self, channel: str, **fields: Any) -> Message:
        """The reply on ``channel`` (a failed requirement when there is none)."""
        response, replies = self.send(channel, **fields)
        found = [m for m in replies if m.get("channel") == channel]
        require(
            bool(found),
            f"no {channel} reply",
            f"HTTP {response.status_code}: {response.text[:500]}",
            "GWS-COMETD-012",
        )
        return found[-1]

    def handshake(self) -> Message:
        reply = self.meta(
            "/meta/handshake", version="1.0", minimumVersion="1.0", supportedConnectionTypes=["long-polling"]
        )
        client_id = reply.get("clientId")
        require(
            reply.get("successful") is True and isinstance(client_id, str) and bool(client_id),
            "the handshake reply has no clientId",
            f"{reply!r}",
            "GWS-COMETD-002",
        )
        self.client_id = client_id
        return reply

    def connect(self, **fields: Any) -> Message:
        return self.meta("/meta/connect", connectionType="long-polling", **fields)

    def subscribe(self, topic: str, *requirement_ids: str) -> None:
        reply = self.meta("/meta/subscribe", subscription=topic)
        require(reply.get("successful") is True, f"subscribing to {topic} is refused", f"{reply!r}", *requirement_ids)

    def receive_until(self, topic: str, timeout_s: float) -> list[Message]:
        """Every message the held connects deliver, up to and including the first on ``topic``."""
        received: list[Message] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            _, replies = self.send("/meta/connect", connectionType="long-polling", advice={"timeout": HOLD_MS})
            received += [m for m in replies if not str(m.get("channel", "")).startswith("/meta/")]
            if any(m.get("channel") == topic for m in received):
                return received
        return received
