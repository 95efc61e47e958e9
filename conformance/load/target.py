"""The target of a load run: the embedded reference server in a child process, or a server given by URL.

The reference runs in its own process, never in the load generator's: Locust patches the standard library
with gevent, under which uvicorn's asyncio loop would share one thread's greenlets with hundreds of simulated
agents, and the figures would measure that contention rather than the server. Its own process also gives
the server's memory (RSS) as the run goes.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

import psutil
import requests

__all__ = ["EMBEDDED_ADMIN", "EmbeddedReference", "TargetDown", "TargetRefused", "preflight"]

# The administrator of the reference's fixture (gws_fixtures/contact-center.yaml): who creates the accounts of
# an embedded run with --accounts create.
EMBEDDED_ADMIN = ("admin", "admin-secret")

_SERVING = re.compile(r"serving the GWS API at (\S+)")


class TargetDown(Exception):
    """The target cannot be reached or does not answer like GWS (exit 3)."""


class TargetRefused(Exception):
    """The target refuses the first agent's credentials (exit 2: a configuration problem)."""


@dataclass
class EmbeddedReference:
    """``gws-reference serve --agents N`` on a free loopback port, in a child process."""

    agents: int
    faults: Sequence[str] = ()
    stimulus: bool = False  # also serve the stimulus API (reference_impl/stimulus.py): the run has inbound work
    process: subprocess.Popen[str] | None = None
    base_url: str = ""
    _ps: psutil.Process | None = None

    def start(self) -> str:
        command = [sys.executable, "-m", "reference_impl", "serve", "--port", "0", "--agents", str(self.agents)]
        command += [word for fault in self.faults for word in ("--fault", fault)]
        command += ["--stimulus"] if self.stimulus else []
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, process_group=0
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the server prints its URL once it is bound
        found = _SERVING.search(line)
        if found is None:
            self.stop()
            raise TargetDown(f"the embedded reference server did not start: {line.strip() or 'no output'}")
        self.base_url = found.group(1)
        # The server logs every request to stdout: unread, the pipe fills and the server stops mid-write.
        threading.Thread(target=_discard, args=(self.process.stdout,), daemon=True).start()
        return self.base_url

    def gauges(self) -> dict[str, float]:
        """The server's memory (RSS, MB) and CPU since the previous call (100 = one core)."""
        if self.process is None or self.process.poll() is not None:
            return {}
        try:
            if self._ps is None:
                self._ps = psutil.Process(self.process.pid)
            return {"rss_mb": self._ps.memory_info().rss / 2**20, "server_cpu": self._ps.cpu_percent()}
        except psutil.Error:
            return {}

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def _discard(stream: IO[str]) -> None:
    for _ in stream:
        pass


def preflight(base_url: str, user: str, password: str, timeout_s: float = 5.0) -> None:
    """One GET /me as the first agent: unreachable or not GWS -> TargetDown, credentials refused -> TargetRefused."""
    try:
        response = requests.get(f"{base_url}/me", auth=(user, password), timeout=timeout_s)
    except requests.RequestException as exc:
        reason = "connection refused" if "refused" in str(exc).lower() else type(exc).__name__
        raise TargetDown(f"target {base_url} is unreachable: {reason}") from None
    if response.status_code in (401, 403):
        raise TargetRefused(f"the target refused the credentials of {user} (HTTP {response.status_code} on GET /me)")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not ("user" in body or "statusCode" in body):
        raise TargetDown(f"{base_url} does not look like a GWS API: GET /me answered HTTP {response.status_code}")
