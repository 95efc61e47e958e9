"""How quickly the target delivers notifications, and the quiet windows sized from it.

A quiet window is how long the suite watches a topic to conclude that no (further) message comes: a
duplicate, a stray, a message about a refused operation. Nothing can prove absence; the window only
bounds it. A fixed window is wrong both ways: 2 s is most of a run's time against a server that delivers
in milliseconds, and too short for one behind a slow network. So the suite measures, for every message a
scenario expected and received, its *delivery latency*: the time from the end of the request (or stimulus)
that caused it — the latest state change made before it arrived — to its arrival. A message that arrives
before the response to its request counts 0. Then each window is

    window = clamp(SAFETY_FACTOR x the largest of the last RECENT latencies, FLOOR_S, CEILING_S)

and until MIN_SAMPLES latencies are known, the configured window (GWS_QUIET_WINDOW_S's default, 2 s).
``GWS_QUIET_WINDOW_S`` set by the user forces a fixed window and nothing is sized.

Why a message later than that is treated as absent: the late messages a window exists to catch (a
duplicate publish, a stray message from the same change) come from the same processing, over the same
connection, as the messages the scenario expected, so they reach the client within the delays measured
for those; the largest recent delay already includes the target's and the network's worst moments seen
(a /meta/connect re-sent after a delivery costs one more round trip, and such deliveries are sampled too),
and the factor of 3 leaves room for a moment worse than any seen. The false-pass risk is a server that
sends its stray message on a timer of its own (say a retry after a second) while it delivers everything
else within milliseconds: its stray comes after the window and the scenario that caused it passes. The
suite still sees the message: whoever takes the account next finds it arriving after the scenario ended
and the run reports it as a late message, by name (``late``), instead of failing an unrelated later check.

The bounds: FLOOR_S (0.3 s) is twice the fixed window the embedded reference run has passed with under
a load average of 5 on two cores (0.15 s; conformance/targets.py): what a loaded machine adds to a
millisecond delivery — scheduling, a garbage collection — and what no measurement of fast deliveries
shows. CEILING_S (5 s) is half the notification timeout: a message that takes longer is not "late", it is
a different failure (an expectation times out at 10 s), and waiting longer for every quiet check would make
a slow target's run take hours.
"""

from __future__ import annotations

import contextlib
import math
import statistics
import threading
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["CEILING_S", "FLOOR_S", "MIN_SAMPLES", "SAFETY_FACTOR", "DeliveryClock", "describe", "summarise"]

SAFETY_FACTOR = 3.0
FLOOR_S = 0.3
CEILING_S = 5.0
MIN_SAMPLES = 3
# Once an expected message on a topic has not come within the notification timeout, later expectations on that
# topic wait this many quiet windows (at least FAILED_TOPIC_WAIT_MIN_S): the run has failed already.
FAILED_TOPIC_WAIT_FACTOR = 3.0
FAILED_TOPIC_WAIT_MIN_S = 1.0
RECENT = 200
# Latencies shipped with each test's report are rounded: the distribution, not the microseconds, matters.
_DIGITS = 4
# The report's histogram: bins a quarter of a decade wide (1, 1.8, 3.2, 5.6, 10 ms ...), since latencies span
# orders of magnitude (a loopback target in a millisecond, a far one in hundreds); 0 ms (a message that came
# before its request's response) falls in the lowest.
_BINS_PER_DECADE = 4
_LOWEST_BIN_MS = 0.1


class DeliveryClock:
    """One process's measured delivery latencies, the windows it gave, and the late messages it met."""

    def __init__(
        self,
        configured_s: float,
        *,
        fixed: bool,
        change_before: Callable[[float], float | None] = lambda t: None,
        shared_dir: Path | None = None,
    ) -> None:
        """``configured_s``: GWS_QUIET_WINDOW_S (``fixed``: set by the user, used as is; else the window until
        enough is measured); ``change_before(t)``: when (time.monotonic) the latest state change started
        before ``t`` ended (the Recorder's ``change_before``); ``shared_dir``: a directory the run's other
        processes read and write too. A topic one worker found missing shortens every worker's waits (fail
        fast costs one full timeout per run, not one per worker), and a worker that has not measured
        MIN_SAMPLES latencies of its own yet sizes its windows from the others' (not the configured 2 s)."""
        self.configured_s = configured_s
        self.fixed = fixed
        self._change_before = change_before
        self._shared = shared_dir / "missed-topics" if shared_dir is not None else None
        self._shared_latencies = shared_dir / "latencies" if shared_dir is not None else None
        self._lock = threading.Lock()
        self._recent: deque[float] = deque(maxlen=RECENT)
        self._missed: set[str] = set()  # topics on which an expected message never came, failing a test
        self._suspects: set[str] = set()  # ... in the running test
        self._pending: dict[str, list[Any]] = {"latency_s": [], "windows_s": [], "late": []}

    def observe(self, received_monotonic: float) -> None:
        """A message the suite expected arrived at ``received_monotonic``: one latency sample."""
        changed = self._change_before(received_monotonic)
        if changed is None:
            return
        latency = max(received_monotonic - changed, 0.0)
        with self._lock:
            self._recent.append(latency)
            self._pending["latency_s"].append(round(latency, _DIGITS))
        if self._shared_latencies is not None:
            with contextlib.suppress(OSError), self._shared_latencies.open("a", encoding="utf-8") as shared:
                shared.write(f"{latency:.{_DIGITS}f}\n")  # one append: a whole line

    def expect_timeout_s(self, topic: str, full_s: float) -> float:
        """How long to wait for an expected message on ``topic``: the full timeout, unless a message expected
        on that topic already failed to come in this run — the run has failed on it, and a target that drops
        a topic's messages should not cost a full timeout per scenario (fail fast). A message later than
        FAILED_TOPIC_WAIT_FACTOR windows there fails its scenario too, saying why it waited less."""
        with self._lock:
            missed = topic in self._missed
        missed = missed or topic in self._missed_elsewhere()
        return (
            min(full_s, max(FAILED_TOPIC_WAIT_FACTOR * self.window_s(), FAILED_TOPIC_WAIT_MIN_S)) if missed else full_s
        )

    def missed(self, topic: str) -> None:
        """An expected message on ``topic`` did not come within its timeout (counts once ``test_ended(failed=True)``:
        a scenario may take a missing message as a SHOULD broken and go on, and a run that has not failed
        must never wait less)."""
        with self._lock:
            self._suspects.add(topic)

    def known_missing(self, topic: str) -> bool:
        """Whether an expected message on ``topic`` failed to come in this run, the running test's included (even
        before it ends): a cleanup need not wait for a message there."""
        with self._lock:
            known = topic in self._missed or topic in self._suspects
        return known or topic in self._missed_elsewhere()

    def test_ended(self, *, failed: bool) -> None:
        """The running test ended: its missing messages shorten later waits only if it failed."""
        with self._lock:
            newly = self._suspects - self._missed if failed else set()
            self._missed |= newly
            self._suspects.clear()
        if newly and self._shared is not None:
            with contextlib.suppress(OSError), self._shared.open("a", encoding="utf-8") as shared:
                shared.write("".join(f"{topic}\n" for topic in sorted(newly)))  # one append: whole lines

    def _missed_elsewhere(self) -> set[str]:
        if self._shared is None:
            return set()
        try:
            return set(self._shared.read_text(encoding="utf-8").splitlines())
        except OSError:  # nobody has written it yet
            return set()

    def window_s(self) -> float:
        """The quiet window to use now."""
        with self._lock:
            if self.fixed:
                return self.configured_s
            recent = list(self._recent)
        if len(recent) < MIN_SAMPLES:
            recent = self._latencies_elsewhere()
        if len(recent) < MIN_SAMPLES:
            return self.configured_s
        return min(max(SAFETY_FACTOR * max(recent), FLOOR_S), CEILING_S)

    def _latencies_elsewhere(self) -> list[float]:
        """The latest RECENT latencies the run's workers measured (this one's included)."""
        if self._shared_latencies is None:
            return []
        try:
            lines = self._shared_latencies.read_text(encoding="utf-8").splitlines()[-RECENT:]
        except OSError:  # nobody has measured one yet
            return []
        return [float(line) for line in lines if _whole_sample(line)]

    def spend(self) -> float:
        """The quiet window to use now, recorded as spent (for the report's distribution)."""
        window = self.window_s()
        with self._lock:
            self._pending["windows_s"].append(round(window, _DIGITS))
        return window

    def late(self, description: str) -> None:
        """A message arrived after the scenario that caused it had ended: ``description`` names it."""
        with self._lock:
            self._pending["late"].append(description)

    def drain(self) -> dict[str, Any] | None:
        """What was measured since the last drain (None: nothing), as plain data for a test's report."""
        with self._lock:
            if not any(self._pending.values()):
                return None
            drained = {"fixed": self.fixed, **self._pending}
            self._pending = {"latency_s": [], "windows_s": [], "late": []}
            return drained


def _whole_sample(line: str) -> bool:
    """A line as ``observe`` writes it, not the start of one another process is still appending."""
    whole, dot, fraction = line.partition(".")
    return whole.isdigit() and dot == "." and len(fraction) == _DIGITS and fraction.isdigit()


def summarise(parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The run's delivery figures from the drained parts of every test (every worker): the latency
    distribution, the windows used, the late messages."""
    if not parts:
        return None
    latencies = sorted(v for part in parts for v in part.get("latency_s", ()))
    windows = sorted(v for part in parts for v in part.get("windows_s", ()))
    return {
        "quiet_window": "fixed" if any(part.get("fixed") for part in parts) else "measured",
        "latency_s": _distribution(latencies),
        "windows_s": {**_distribution(windows), "total": round(sum(windows), 3)},
        "late_messages": [text for part in parts for text in part.get("late", ())],
        "sizing": {"safety_factor": SAFETY_FACTOR, "floor_s": FLOOR_S, "ceiling_s": CEILING_S},
        "latency_histogram_ms": _histogram_ms(latencies),
    }


def _histogram_ms(latencies_s: list[float]) -> list[list[float]]:
    """[bin upper bound in ms, count] for every bin from the lowest to the highest latency (empty bins too)."""
    if not latencies_s:
        return []

    def index(seconds: float) -> int:
        ms = max(seconds * 1000, _LOWEST_BIN_MS)
        return math.ceil(round(math.log10(ms / _LOWEST_BIN_MS) * _BINS_PER_DECADE, 9))

    counts = [0] * (index(latencies_s[-1]) + 1)
    for value in latencies_s:
        counts[index(value)] += 1
    # From the empty bin below the first latency: a bar spans from the bound before it to its own.
    first = next(i for i, n in enumerate(counts) if n) - 1
    return [
        [round(_LOWEST_BIN_MS * 10 ** (i / _BINS_PER_DECADE), 4), counts[i] if i >= 0 else 0]
        for i in range(first, len(counts))
    ]


def _distribution(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}

    def at(fraction: float) -> float:
        return values[min(int(fraction * len(values)), len(values) - 1)]

    return {
        "count": len(values),
        "min": values[0],
        "median": round(statistics.median(values), _DIGITS),
        "p90": at(0.9),
        "p99": at(0.99),
        "max": values[-1],
    }


def describe(summary: Mapping[str, Any] | None) -> list[str]:
    """The run's delivery figures as lines of text (terminal, summary.md): latencies, windows, late messages."""
    if not summary:
        return []
    latency, windows = summary.get("latency_s", {}), summary.get("windows_s", {})
    lines = []
    if latency.get("count"):
        lines.append(
            f"notification delivery: {latency['count']} expected messages, latency median "
            f"{1000 * latency['median']:.0f} ms, p90 {1000 * latency['p90']:.0f} ms, p99 {1000 * latency['p99']:.0f} ms, "
            f"max {1000 * latency['max']:.0f} ms"
        )
    if windows.get("count"):
        lines.append(
            f"quiet windows ({summary.get('quiet_window')}): {windows['count']}, median {windows['median']:g} s, "
            f"min {windows['min']:g} s, max {windows['max']:g} s, {windows['total']:g} s in all"
        )
    lines += [f"LATE message: {text}" for text in summary.get("late_messages", ())]
    return lines
