"""A blocking CometD (Bayeux) session for one simulated agent, made for Locust's gevent world.

Locust monkey-patches the standard library with gevent, so a plain blocking client is the natural fit: each
session reads in its own greenlet (a held /meta/connect over one keep-alive ``http.client`` connection, or a
websocket from ``websockets.sync``, whose sockets gevent has patched) and hands every topic message to a
callback with the monotonic time it arrived (taken when the reply's body has been read and parsed, so the
figure includes the load generator's own wait to be scheduled). Long-polling POSTs go through
conformance.load.wire, not ``requests`` (whose per-request work was most of the generator's CPU). The suite's own listener (conformance.cometd) runs an asyncio loop and cannot
share a process with gevent's patched threads; its rules are kept all the same: the first connect advises
``timeout: 0`` (E86), replies are paired by id, a session the server forgot (402, or ``handshake`` advice)
is opened again with its subscriptions, and the count of those re-openings is reported (messages published
while a session was down are the server's loss, and the ledger counts them lost).
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import gevent
from websockets.sync.client import ClientConnection, connect

from conformance.load.wire import Client

__all__ = ["TOPICS", "Session", "SessionError"]

# Everything an agent's own work is heard on (calls, its device, its channels).
TOPICS = ("/v2/me/channels", "/v2/me/devices", "/v2/me/calls")
# How long a long-polling connect asks to be held: short enough that a stopping run is not kept waiting.
HOLD_MS = 5000
OnMessage = Callable[[str, Any, float], None]
OnEvent = Callable[[str, float, BaseException | None], None]  # (what, seconds, error): Locust's request event


class SessionError(Exception):
    """The server refused or broke the session in a way no retry repairs (bad credentials, not Bayeux)."""


class Session:
    """One agent's CometD session over ``transport`` ("long-polling" or "websocket")."""

    _ids = itertools.count(1)

    def __init__(
        self,
        cometd_url: str,
        user: str,
        password: str,
        transport: str,
        on_message: OnMessage,
        on_event: OnEvent,
        *,
        timeout_s: float = 10.0,
    ) -> None:
        self.url = cometd_url
        self.transport = transport
        self.on_message = on_message
        self.on_event = on_event
        self.timeout_s = timeout_s
        self.reopened = 0
        self._auth = (user, password)
        self._token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self._http = Client(user, password)
        self._ws: ClientConnection | None = None
        self._client_id: str | None = None
        self._topics: Sequence[str] = ()
        self._reader: gevent.Greenlet | None = None
        self._closing = False

    # -- life cycle --------------------------------------------------------------------------------------

    def open(self, topics: Sequence[str] = TOPICS) -> None:
        """Handshake, subscribe to ``topics`` and start reading; raises SessionError when refused."""
        self._topics = tuple(topics)
        self._start()
        self._reader = gevent.spawn(self._read_forever)

    def close(self) -> None:
        self._closing = True
        if self._reader is not None:
            self._reader.kill(block=True, timeout=2)
        self._http.close()  # the killed reader may have left a request half done on it
        try:
            if self._client_id is not None:
                self._send([self._message("/meta/disconnect")], expect_reply=self.transport == "long-polling")
        except Exception:
            pass
        if self._ws is not None:
            self._ws.close()
        self._http.close()

    def _start(self) -> None:
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            if self.transport == "websocket":
                if self._ws is not None:
                    self._ws.close()
                ws_url = "ws" + self.url.removeprefix("http")
                self._ws = connect(
                    ws_url, additional_headers={"Authorization": f"Basic {self._token}"}, open_timeout=self.timeout_s
                )
            offer = {"version": "1.0", "minimumVersion": "1.0", "supportedConnectionTypes": [self.transport]}
            reply = self._meta(self._message("/meta/handshake", **offer))
            if reply.get("successful") is not True or not isinstance(reply.get("clientId"), str):
                raise SessionError(f"handshake refused: {reply!r}"[:300])
            self._client_id = reply["clientId"]
            batch = [self._message("/meta/subscribe", subscription=topic) for topic in self._topics]
            replies = self._send(batch, expect_reply=True)
            refused = [r for r in replies if r.get("channel") == "/meta/subscribe" and r.get("successful") is not True]
            if refused:
                raise SessionError(f"subscription refused: {refused[0]!r}"[:300])
            # The first connect is answered at once (E86): it establishes the session without holding.
            first = self._send([self._connect({"timeout": 0})], expect_reply=self.transport == "long-polling")
            for message in first:
                self._take(message)
        except BaseException as exc:
            error = exc
            raise
        finally:
            self.on_event("cometd open", time.perf_counter() - started, error)

    # -- reading -----------------------------------------------------------------------------------------

    def _read_forever(self) -> None:
        while not self._closing:
            try:
                if self.transport == "websocket":
                    self._read_websocket()
                else:
                    self._poll()
            except gevent.GreenletExit:
                raise
            except Exception as exc:
                if self._closing:
                    return
                self.on_event("cometd reopen", 0.0, exc)
                self.reopened += 1
                gevent.sleep(0.5)
                try:
                    self._start()
                except Exception:
                    gevent.sleep(1)

    def _poll(self) -> None:
        for message in self._send([self._connect({"timeout": HOLD_MS})], expect_reply=True):
            self._take(message)

    def _read_websocket(self) -> None:
        assert self._ws is not None
        # The first (timeout 0) connect's reply asks for the next connect, which the server then holds.
        while not self._closing:
            frame = self._ws.recv()
            for message in _messages(frame):
                self._take(message)

    def _take(self, message: dict[str, Any]) -> None:
        received = time.monotonic()
        channel = str(message.get("channel", ""))
        if channel == "/meta/connect":
            advice = message.get("advice")
            advice = advice if isinstance(advice, dict) else {}
            if message.get("successful") is not True or advice.get("reconnect") == "handshake":
                raise ConnectionError(f"connect refused: {message!r}"[:300])
            if self.transport == "websocket" and not self._closing:
                assert self._ws is not None
                self._ws.send(json.dumps([self._connect(None)]))
            return
        if channel.startswith("/meta/"):
            return
        self.on_message(channel, message.get("data"), received)

    # -- sending -----------------------------------------------------------------------------------------

    def _message(self, channel: str, **fields: Any) -> dict[str, Any]:
        message = {"channel": channel, "id": str(next(self._ids)), **fields}
        if self._client_id is not None and channel != "/meta/handshake":
            message["clientId"] = self._client_id
        return message

    def _connect(self, advice: dict[str, Any] | None) -> dict[str, Any]:
        fields: dict[str, Any] = {"connectionType": self.transport}
        if advice is not None:
            fields["advice"] = advice
        return self._message("/meta/connect", **fields)

    def _meta(self, message: dict[str, Any]) -> dict[str, Any]:
        replies = self._send([message], expect_reply=True)
        paired = [r for r in replies if r.get("id") == message["id"]]
        if not paired:
            raise SessionError(f"no reply to {message['channel']}: {replies!r}"[:300])
        return paired[0]

    def _send(self, messages: list[dict[str, Any]], *, expect_reply: bool) -> list[dict[str, Any]]:
        """Send a batch; the replies (over websocket: read until every meta message is answered)."""
        if self.transport == "websocket":
            assert self._ws is not None
            self._ws.send(json.dumps(messages))
            if not expect_reply:
                return []
            waiting = {m["id"] for m in messages}
            replies: list[dict[str, Any]] = []
            while waiting:
                for message in _messages(self._ws.recv(timeout=self.timeout_s)):
                    if message.get("id") in waiting and str(message.get("channel", "")).startswith("/meta/"):
                        waiting.discard(message["id"])
                        replies.append(message)
                    else:
                        self._take(message)  # a topic message pushed meanwhile is not lost
            return replies
        reply = self._http.request("POST", self.url, json=messages, timeout=self.timeout_s + HOLD_MS / 1000)
        if reply.status_code in (401, 403):
            raise SessionError(f"HTTP {reply.status_code}: the credentials of {self._auth[0]} are refused")
        replies = _messages(reply.content)
        if not replies and reply.status_code != 200:
            raise ConnectionError(f"HTTP {reply.status_code}: {reply.text[:200]}")
        return replies


def _messages(frame: str | bytes) -> list[dict[str, Any]]:
    try:
        body = json.loads(frame)
    except ValueError:
        return []
    items = body if isinstance(body, list) else [body]
    return [m for m in items if isinstance(m, dict)]
