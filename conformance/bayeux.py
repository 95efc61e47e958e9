"""A raw Bayeux (CometD) session over long-polling: one meta message per POST, replies read as sent.

The CometD protocol tests speak the protocol by hand through this, so that they see what a client
library hides (the 402 it recovers from, how long a connect was held, the exact reply fields).

It has the habits of the official CometD clients that standard servers rely on: its cookies are kept
for IP-address hosts too (CometD servers find a session by their ``BAYEUX_BROWSER`` cookie; httpx's jar
keeps them), the first /meta/connect after a handshake advises ``timeout: 0`` unless the test chooses
its own advice (E86), and a message can be posted to the endpoint URL plus a sub-path (``/handshake``,
``/connect``..., E84): one message with ``send(..., path_suffix="/handshake")``, every meta message of a
session made with ``sub_paths=True``.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import websockets
from websockets.sync.client import ClientConnection, connect

from conformance.checks.http import is_json_media_type
from conformance.client import tls_context
from conformance.config import Settings
from conformance.keepalive import KEEPALIVE_EXPIRY_S
from conformance.suite.scenarios.support import require, should

__all__ = [
    "ADVICE",
    "HOLD_MS",
    "HOLD_TOLERANCE",
    "Bayeux",
    "Message",
    "WebSocketSession",
    "basic_authorization",
    "open_websocket",
    "probe",
]

Message = dict[str, Any]

ADVICE = {"interval": 0, "timeout": 30000, "reconnect": "retry"}  # what the reference's examples advise
# A connect asks the server to hold it at most this long: short enough for a test, long enough to measure.
HOLD_MS = 1500
# A held connect may come back a little early (timers, clocks); answered within a tenth of it is not held.
HOLD_TOLERANCE = 0.6


class Bayeux:
    """One user's CometD session over long-polling, one meta message per POST."""

    _ids = itertools.count(1)

    def __init__(self, settings: Settings, role: str | None, *, sub_paths: bool = False) -> None:
        """``role``: whose credentials go with every request (None: none). Against a generic Bayeux server
        (GWS_TARGET_KIND=bayeux) an account without a configured password sends none: such a server asks
        for no credentials."""
        headers = {"Content-Type": "application/json"}
        if role is not None and (settings.target_kind != "bayeux" or settings.users[role].password is not None):
            account = settings.credentials(role)
            headers["Authorization"] = basic_authorization(account.user, str(account.password))
        # A held connect lasts up to HOLD_MS: the read timeout leaves it room.
        # Idle connections dropped before the server's keep-alive closes them, as GwsClient does (conformance.keepalive).
        self.http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(settings.request_timeout_s + HOLD_MS / 1000),
            verify=tls_context(),
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_S),
        )
        self.url = settings.cometd_url
        self.sub_paths = sub_paths
        self.client_id: str | None = None
        self._handshaken = False  # the next /meta/connect is the first of this session
        self._label_judged = False
        self.last_id: str | None = None  # of the message sent last

    def close(self) -> None:
        self.http.close()

    def sign_in(self, user: str, password: str) -> None:
        """Send these Basic credentials from now on (a user the test created, a password that changed)."""
        self.http.headers["Authorization"] = basic_authorization(user, password)

    def send(
        self, channel: str, *, path_suffix: str | None = None, **fields: Any
    ) -> tuple[httpx.Response, list[Message]]:
        """Post one message on ``channel`` to the endpoint URL plus ``path_suffix`` (default: none, or the
        meta channel's last segment for a ``sub_paths`` session); the HTTP response and its messages."""
        message = {"channel": channel, "id": str(next(self._ids)), **fields}
        if self.client_id is not None and channel != "/meta/handshake":
            message.setdefault("clientId", self.client_id)
        if channel == "/meta/connect":
            self._handshaken = False
        self.last_id = message["id"]
        response = self.http.post(self.url_for(channel, path_suffix), json=[message])
        try:
            body = response.json()
        except ValueError:
            body = None
        else:
            self._judge_label(response)
        replies = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
        return response, [m for m in replies if isinstance(m, dict)]

    def url_for(self, channel: str, path_suffix: str | None = None) -> str:
        """Where a message on ``channel`` is posted: the endpoint plus ``path_suffix``, by default nothing, or
        for a ``sub_paths`` session the meta channel's last segment (/handshake, /connect...)."""
        if path_suffix is None:
            meta = self.sub_paths and channel.startswith("/meta/")
            path_suffix = "/" + channel.removeprefix("/meta/") if meta else ""
        return self.url.rstrip("/") + path_suffix if path_suffix else self.url

    def _judge_label(self, response: httpx.Response) -> None:
        # Once per session: one mislabelled endpoint mislabels every reply, and one warning says it.
        content_type = response.headers.get("content-type")
        if self._label_judged or is_json_media_type(content_type):
            return
        self._label_judged = True
        should(
            False,
            "a Bayeux reply is not labelled as JSON",
            f"POST {response.request.url} answered HTTP {response.status_code} with a JSON body and Content-Type "
            f"{content_type or 'absent'!r}; clients that read Bayeux replies with aiohttp's response.json() "
            "(aiocometd) refuse it (E80)",
            "GWS-COMETD-018",
        )

    def meta(self, channel: str, **fields: Any) -> Message:
        """The reply on ``channel`` that echoes the request's id (a failed requirement when there is none)."""
        response, replies = self.send(channel, **fields)
        found = [m for m in replies if m.get("channel") == channel]
        require(
            bool(found),
            f"no {channel} reply",
            f"HTTP {response.status_code}: {response.text[:500]}",
            "GWS-COMETD-012",
        )
        paired = [m for m in found if m.get("id") == self.last_id]
        require(
            bool(paired),
            f"the {channel} reply does not echo the request's id",
            f"sent id {self.last_id!r}, got {found!r}; the CometD JavaScript client pairs a reply with its request "
            "by id and ignores one it cannot pair (Bayeux: the same message id as the request)",
            "GWS-COMETD-012",
        )
        return paired[-1]

    def handshake(self, *requirement_ids: str, **fields: Any) -> Message:
        """A /meta/handshake (``fields`` added to it) that must succeed with a clientId; a refusal breaks
        ``requirement_ids`` (default GWS-COMETD-002)."""
        offer = {"version": "1.0", "minimumVersion": "1.0", "supportedConnectionTypes": ["long-polling"]}
        reply = self.meta("/meta/handshake", **{**offer, **fields})
        client_id = reply.get("clientId")
        require(
            reply.get("successful") is True and isinstance(client_id, str) and bool(client_id),
            "the handshake is not answered successful with a clientId",
            f"{reply!r}",
            *(requirement_ids or ("GWS-COMETD-002",)),
        )
        self.client_id = client_id
        self._handshaken = True
        return reply

    def connect(self, **fields: Any) -> Message:
        """A /meta/connect; the first of a session advises ``timeout: 0`` unless ``fields`` has an advice."""
        if self._handshaken and "advice" not in fields:
            fields["advice"] = {"timeout": 0}
        return self.meta("/meta/connect", connectionType="long-polling", **fields)

    def subscribe(self, topic: str, *requirement_ids: str) -> None:
        reply = self.meta("/meta/subscribe", subscription=topic)
        require(reply.get("successful") is True, f"subscribing to {topic} is refused", f"{reply!r}", *requirement_ids)

    def receive_until(
        self, topic: str, timeout_s: float, matches: Callable[[Message], bool] = lambda message: True
    ) -> list[Message]:
        """Every message the held connects deliver, up to and including the first on ``topic`` that ``matches``."""
        received: list[Message] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            _, replies = self.send("/meta/connect", connectionType="long-polling", advice={"timeout": HOLD_MS})
            received += [m for m in replies if not str(m.get("channel", "")).startswith("/meta/")]
            if any(m.get("channel") == topic and matches(m) for m in received):
                return received
        return received


def basic_authorization(user: str, password: str) -> str:
    """The Authorization header of Basic credentials (UTF-8, as the suite's client sends them)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def open_websocket(settings: Settings, headers: dict[str, str]) -> ClientConnection | None:
    """A websocket to the notifications endpoint sending ``headers`` on the upgrade (credentials, a cookie); None
    when the endpoint refuses it (websocket is a MAY of E77)."""
    url = "ws" + settings.cometd_url.removeprefix("http")
    try:
        return connect(
            url,
            additional_headers=headers,
            ssl=tls_context() if url.startswith("wss") else None,
            open_timeout=settings.request_timeout_s,
        )
    except (websockets.InvalidHandshake, OSError):
        return None


class WebSocketSession:
    """Bayeux messages over one websocket, spoken by hand; every message that comes back is kept in ``received``,
    replies and pushed messages alike. ``closed``: the server closed the socket."""

    def __init__(self, socket: ClientConnection, timeout_s: float, id_prefix: str = "ws") -> None:
        self.socket = socket
        self.timeout_s = timeout_s
        self.received: list[Message] = []
        self.closed = False
        self._ids = itertools.count(1)
        self._id_prefix = id_prefix

    def request(self, channel: str, **fields: Any) -> Message | None:
        """The reply to one message on ``channel`` (None: the socket closed, or no reply within the timeout)."""
        message_id = f"{self._id_prefix}-{next(self._ids)}"
        try:
            self.socket.send(json.dumps([{"channel": channel, "id": message_id, **fields}]))
        except websockets.ConnectionClosed:
            self.closed = True
            return None
        deadline = time.monotonic() + self.timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            messages = self._receive(remaining)
            if messages is None:
                return None
            paired = [m for m in messages if m.get("channel") == channel and m.get("id") == message_id]
            if paired:
                return paired[-1]
        return None

    def pushed(self, window_s: float) -> list[Message]:
        """Every non-meta message received so far, after reading what arrives within ``window_s``."""
        deadline = time.monotonic() + window_s
        while not self.closed and (remaining := deadline - time.monotonic()) > 0:
            if self._receive(remaining) is None:
                break
        return [m for m in self.received if not str(m.get("channel", "")).startswith("/meta/")]

    def _receive(self, timeout_s: float) -> list[Message] | None:
        """The messages of the next frame (None: none within ``timeout_s``, unreadable, or the socket closed)."""
        try:
            body = json.loads(self.socket.recv(timeout=timeout_s))
        except websockets.ConnectionClosed:
            self.closed = True
            return None
        except (TimeoutError, ValueError):
            return None
        messages = [m for m in (body if isinstance(body, list) else [body]) if isinstance(m, dict)]
        self.received += messages
        return messages


def probe(settings: Settings, *, timeout_s: float) -> tuple[httpx.Response, Message | None]:
    """One /meta/handshake at the endpoint (as agent1 when its password is set), then a polite disconnect.

    The HTTP response and the /meta/handshake reply in it, None when the answer is not Bayeux at all (the
    reply's verdict is the protocol tests' business). httpx errors propagate.
    """
    account = settings.users["agent1"]
    auth = (account.user, account.password) if account.password is not None else None
    with httpx.Client(timeout=httpx.Timeout(timeout_s), verify=tls_context(), auth=auth) as http:
        handshake = {"channel": "/meta/handshake", "id": "1", "version": "1.0"}
        response = http.post(settings.cometd_url, json=[{**handshake, "supportedConnectionTypes": ["long-polling"]}])
        try:
            body = response.json()
        except ValueError:
            return response, None
        replies = body if isinstance(body, list) else []
        found = [m for m in replies if isinstance(m, dict) and m.get("channel") == "/meta/handshake"]
        if not found:
            return response, None
        client_id = found[0].get("clientId")
        if found[0].get("successful") is True and isinstance(client_id, str):
            http.post(settings.cometd_url, json=[{"channel": "/meta/disconnect", "id": "2", "clientId": client_id}])
        return response, found[0]
