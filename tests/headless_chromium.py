"""Headless Chromium driven over its DevTools protocol (CDP), by hand: a websocket and a few commands.

Debian's /usr/bin/chromium is started with a throw-away profile and no background networking, a page
is opened in it, and everything the page does is kept: console messages, uncaught exceptions, log
entries and every network request. ``.ci/run`` installs chromium; without it the tests that use this
module skip.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from processes import stop
from websockets.sync.client import ClientConnection, connect

__all__ = ["CHROMIUM", "Page", "chromium_available", "open_page"]

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
STARTUP_TIMEOUT_S = 30
COMMAND_TIMEOUT_S = 30


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() or shutil.which("chromium") is not None


@dataclass
class Page:
    """One tab: send CDP commands to it; its events are kept in ``events``."""

    ws: ClientConnection
    session_id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: bool = True) -> dict[str, Any]:
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session_id
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + COMMAND_TIMEOUT_S
        while True:
            reply = json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, timeout_s: float = COMMAND_TIMEOUT_S) -> dict[str, Any]:
        """The first event ``method`` (already received or arriving within the timeout)."""
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout_s
        while True:
            event = json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            self.events.append(event)
            if event.get("method") == method:
                return event

    def settle(self, quiet_s: float = 0.3) -> None:
        """Read events until none arrives for ``quiet_s`` (the page has stopped doing things)."""
        while True:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=quiet_s)))
            except TimeoutError:
                return

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluate failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            metrics = self.send("Page.getLayoutMetrics")
            size = metrics["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
            params["captureBeyondViewport"] = True
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", params)["data"]))

    def named(self, method: str) -> list[dict[str, Any]]:
        return [e.get("params", {}) for e in self.events if e.get("method") == method]

    def console_errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries (CSP violations are among them)."""
        errors = [
            " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            for p in self.named("Runtime.consoleAPICalled")
            if p.get("type") in ("error", "assert")
        ]
        errors += [p["exceptionDetails"].get("text", "exception") for p in self.named("Runtime.exceptionThrown")]
        errors += [
            p["entry"].get("text", "") for p in self.named("Log.entryAdded") if p["entry"].get("level") == "error"
        ]
        return errors

    def requested_urls(self) -> list[str]:
        return [p["request"]["url"] for p in self.named("Network.requestWillBeSent")]


@contextlib.contextmanager
def open_page(url: str, *, width: int = 1280, height: int = 900) -> Iterator[Page]:
    """Start chromium, open ``url`` in a fresh tab with console, log and network recorded, wait for load."""
    with tempfile.TemporaryDirectory(prefix="gws-chromium-") as profile:
        command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            ws_url = _devtools_url(process)
            with connect(ws_url, max_size=None, open_timeout=STARTUP_TIMEOUT_S) as ws:
                browser = Page(ws, session_id="")
                target = browser.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
                attached = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)
                page = Page(ws, attached["sessionId"], browser.events, browser._ids)
                for domain in ("Page", "Runtime", "Log", "Network"):
                    page.send(f"{domain}.enable")
                page.send(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                )
                page.send("Page.navigate", {"url": url})
                page.wait_for("Page.loadEventFired")
                page.settle()
                yield page
        finally:
            stop(process, grace_s=10, group=True)


def _devtools_url(process: subprocess.Popen[str]) -> str:
    # Chromium prints "DevTools listening on ws://127.0.0.1:<port>/devtools/browser/<id>" once it is ready.
    assert process.stderr is not None
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        if "DevTools listening on " in line:
            return line.split("DevTools listening on ", 1)[1].strip()
    raise RuntimeError("chromium did not start its DevTools endpoint:\n" + "".join(seen[-20:]))
