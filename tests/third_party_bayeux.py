"""Bayeux servers nobody here wrote, as targets: the CometD project's own Node server (npm
cometd-nodejs-server, "cometd") and Faye (npm faye, "faye"), an independent Bayeux implementation.

tests/js/third_party_bayeux_server.mjs serves one on 127.0.0.1 with its stock options and prints its
endpoint as its first line; ``serve()`` starts it, reads that line, and stops it when the block ends. The
script's control API makes server-side things happen: ``publish`` (a message on a channel, once the channel
has a subscriber) and ``forget`` (every session ended: the next request of each client names an unknown
clientId).

Needs node and tests/js/node_modules (CI runs `npm ci` in tests/js); ``SKIP_REASON`` says which is missing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from processes import JS_DIR, NODE, announced, node_skip_reason

SCRIPT = "third_party_bayeux_server.mjs"
SKIP_REASON = node_skip_reason("cometd-nodejs-server", "faye")
IMPLEMENTATIONS = ("cometd", "faye")
# Each server's stock /meta/connect hold, which the script keeps: cometd-nodejs-server's "timeout" option
# (30 s), Faye's engine TIMEOUT (60 s).
SERVER_HOLD_S = {"cometd": 30.0, "faye": 60.0}
# Whether each offers the websocket transport besides long-polling.
WEBSOCKET = {"cometd": False, "faye": True}
# The cookie each keeps its sessions by (Faye: none, the clientId alone).
SESSION_COOKIE = {"cometd": "BAYEUX_BROWSER", "faye": None}
START_DEADLINE_S = 15.0
CONTROL_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class ThirdPartyServer:
    implementation: str  # "cometd" or "faye"
    url: str  # the Bayeux endpoint, http://127.0.0.1:<port>/cometd

    @property
    def hold_s(self) -> float:
        return SERVER_HOLD_S[self.implementation]

    @property
    def websocket(self) -> bool:
        return WEBSOCKET[self.implementation]

    @property
    def session_cookie(self) -> str | None:
        return SESSION_COOKIE[self.implementation]

    @property
    def origin(self) -> str:
        return self.url.rsplit("/", 1)[0]

    def _control(self, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(f"{self.origin}/control/{action}", json=body or {}, timeout=CONTROL_TIMEOUT_S)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def publish(self, channel: str, data: dict[str, Any], *, wait_for_subscriber_s: float = 10.0) -> int:
        """Publish from the server side once ``channel`` has a subscriber (or the wait is over): how many it had."""
        answer = self._control(
            "publish", {"channel": channel, "data": data, "waitForSubscriberMs": int(wait_for_subscriber_s * 1000)}
        )
        return int(answer["subscribers"])

    def forget(self) -> int:
        """End every server session: the next request of each client carries an unknown clientId. How many."""
        return int(self._control("forget")["forgotten"])


@contextlib.contextmanager
def serve(implementation: str = "cometd", *, require_sub_paths: bool = False) -> Iterator[ThirdPartyServer]:
    """Run that server until the block ends; ``require_sub_paths``: 404 at the endpoint URL itself."""
    assert NODE is not None, SKIP_REASON
    assert implementation in IMPLEMENTATIONS, implementation
    args = [NODE, SCRIPT, implementation, *(["--require-sub-paths"] if require_sub_paths else [])]
    with announced(args, JS_DIR, "LISTENING http://127.0.0.1:", START_DEADLINE_S) as (_, line):
        yield ThirdPartyServer(implementation, line.split()[1])
