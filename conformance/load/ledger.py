"""What every simulated agent was owed and what it got: the correctness counters of a load run.

Each REST operation that changes the contact center registers, for every party that must hear of it, an
``Expectation``: the topic, the *stream* (one agent's channels, one device, one call) and the state the
message must report. Every message a session receives is reduced to the same (topic, stream, state)
``Signature`` and matched against what its agent is owed:

- matched within the deadline: delivered (its latency, request sent to message received, is kept);
- matched after the deadline: ``late`` (GWS-GEN-020: later than the suite's notification timeout is
  no delivery a client waits for);
- still owed when the run ends (after a drain period): ``lost`` (GWS-LOAD-001);
- a state the stream already reported, with nothing owed: ``duplicated`` (GWS-LOAD-001);
- an earlier state of a stream arriving after a later one: ``reordered`` (GWS-LOAD-002);
- naming another agent's device or phone number: ``misrouted`` (GWS-NOTIF-005);
- breaking its kind's JSON Schema: ``schema_invalid`` (GWS-NOTIF-002, conformance.notifications);
- anything else nobody was owed: ``unexpected`` (reported only: a server may say more than asked).

Delivery latency is measured on the process that sent the request (monotonic clock), so a distributed
run's figures need no clock agreement between machines; a ledger's figures travel as a plain dict
(``snapshot``) and are summed on the master (``Totals.merge``). It runs from just before the REST request is
handed to the HTTP client (``sent_at``) to the moment the session hands the message over, once the
long-polling reply or websocket frame that carried it has been read and parsed (``received_at``). So it
includes the load generator sending the request, the server's queue and its handling of the request, the
publication and the delivery (over long-polling, a message published while the session has no connect at
the server waits for the next connect), the generator reading and parsing what carried it, and the
generator's own wait to run that session's reader; it does not include the message's schema validation or
its judgement here, which come after. A generator short of CPU therefore lengthens the figure: the report
shows the generator's CPU beside it.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COUNTERS", "Expectation", "Ledger", "Signature", "Totals", "signature"]

# The counters a run is judged on, in report order.
COUNTERS = ("lost", "duplicated", "reordered", "misrouted", "late", "schema_invalid")
# Latencies are kept in a histogram: buckets of 0.1 ms up to 10 ms, then 5% wide, so any number of samples
# from any number of workers merge exactly by adding counts.
_FINE_MS = 10.0
_FINE_STEP_MS = 0.1
_GROWTH = 1.05


@dataclass(frozen=True)
class Signature:
    """What a message says, reduced to what an expectation names."""

    topic: str
    stream: str  # "channels", "device:<id>", "call:<callUuid>", or the topic itself
    state: str
    party: str | None = None  # a call's other party (its number): how a new call is told apart
    device: str | None = None  # the device or phone number the message is about, when it names one


def signature(topic: str, data: Any) -> Signature:
    """The signature of a message received on ``topic``; unknown shapes get the messageType as their state."""
    data = data if isinstance(data, Mapping) else {}
    if topic == "/v2/me/channels":
        channels = [c for c in data.get("channels") or [] if isinstance(c, Mapping)]
        voice = next((c for c in channels if c.get("channel") == "voice"), channels[0] if channels else {})
        user_state = _mapping(voice.get("userState"))
        return Signature(topic, "channels", str(user_state.get("state")))
    if topic == "/v2/me/devices":
        devices = [d for d in data.get("devices") or [] if isinstance(d, Mapping)]
        device = devices[0] if devices else {}
        user_state = _mapping(device.get("userState"))
        state = f"{user_state.get('state')}/{device.get('doNotDisturb')}"
        return Signature(topic, f"device:{device.get('id')}", state, device=str(device.get("id")))
    if topic == "/v2/me/calls":
        call = _mapping(data.get("call"))
        participants = call.get("participants")
        party = str(participants[0]) if isinstance(participants, list) and participants else None
        number = data.get("phoneNumber")
        return Signature(
            topic,
            f"call:{call.get('callUuid') or call.get('id')}",
            str(call.get("state")),
            party=party,
            device=str(number) if number is not None else None,
        )
    if topic == "/v2/me/interactions":  # one stream per interaction; its channel tells a new chat from an e-mail
        channel = data.get("channel")
        return Signature(topic, f"interaction:{data.get('id')}", str(data.get("state")), party=str(channel))
    return Signature(topic, topic, str(data.get("messageType") or data.get("messageTypeName")))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass
class Expectation:
    """One message one agent is owed: on ``topic``, in ``stream`` (None: a new call with ``party``), ``state``."""

    topic: str
    stream: str | None
    state: str
    sent_at: float  # time.monotonic() when the request that causes it was sent
    required: bool = True  # an optional one (a server may or may not send it) is never lost
    party: str | None = None
    seq: int = 0
    waiter: Any = None  # anything with set(): told when the message arrives (an agent waiting for it)
    data: Any = None  # the message's data, once received
    overtaken_by: str | None = None  # the state of a later message of its stream that arrived first
    unsure: bool = False  # its request got no reply: maybe performed, maybe not (Ledger.unsure)

    def matches(self, sig: Signature, known_streams: set[str]) -> bool:
        if sig.topic != self.topic or sig.state != self.state:
            return False
        if self.stream is None:  # a new call: a stream this agent has not seen, with the right other party
            return sig.stream not in known_streams and (self.party is None or sig.party == self.party)
        return sig.stream == self.stream


@dataclass
class _Agent:
    devices: set[str] = field(default_factory=set)  # device ids and phone numbers that are this agent's
    owed: list[Expectation] = field(default_factory=list)
    seen: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # stream -> states received
    learned: set[str] = field(default_factory=set)  # topics of optional messages the server has sent


def _bucket(ms: float) -> int:
    if ms < _FINE_MS:
        return max(0, int(ms / _FINE_STEP_MS))
    return int(_FINE_MS / _FINE_STEP_MS) + int(math.log(ms / _FINE_MS, _GROWTH))


def _bucket_upper_ms(index: int) -> float:
    fine = int(_FINE_MS / _FINE_STEP_MS)
    if index < fine:
        return (index + 1) * _FINE_STEP_MS
    return _FINE_MS * _GROWTH ** (index - fine + 1)


class Totals:
    """Counters, latency histograms and per-second series: what one process measured, or the sum of many."""

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter({name: 0 for name in COUNTERS})
        self.delivered = 0
        self.unexpected = 0
        self.owed = 0  # expectations registered (required or optional)
        self.rest_status: Counter[str] = Counter()  # "HTTP 200 / statusCode 0" -> count
        self.rest_violations: Counter[str] = Counter()  # check name (MUST) -> count
        self.rest_warnings: Counter[str] = Counter()  # check name (SHOULD) -> count
        self.rest_checked = 0
        self.delivery_ms: Counter[int] = Counter()  # histogram bucket -> count
        # second (wall clock, integer) -> {"delivered", "requests", "errors"} counts and a latency histogram
        self.series: dict[int, Counter[str]] = defaultdict(Counter)
        self.series_latency: dict[int, Counter[int]] = defaultdict(Counter)
        self.series_rest: dict[int, Counter[int]] = defaultdict(Counter)  # second -> REST latency histogram
        self.examples: dict[str, list[str]] = defaultdict(list)  # counter -> a few descriptions

    def note(self, counter: str, example: str) -> None:
        self.counters[counter] += 1
        if len(self.examples[counter]) < 5:
            self.examples[counter].append(example)

    def snapshot(self) -> dict[str, Any]:
        """Plain data (msgpack/JSON-safe) for Locust's worker reports and the report files."""
        return {
            "counters": dict(self.counters),
            "delivered": self.delivered,
            "unexpected": self.unexpected,
            "owed": self.owed,
            "rest_status": dict(self.rest_status),
            "rest_violations": dict(self.rest_violations),
            "rest_warnings": dict(self.rest_warnings),
            "rest_checked": self.rest_checked,
            "delivery_ms": {str(k): v for k, v in self.delivery_ms.items()},
            "series": {str(k): dict(v) for k, v in self.series.items()},
            "series_latency": {str(k): {str(b): n for b, n in v.items()} for k, v in self.series_latency.items()},
            "series_rest": {str(k): {str(b): n for b, n in v.items()} for k, v in self.series_rest.items()},
            "examples": {k: list(v) for k, v in self.examples.items()},
        }

    def merge(self, data: Mapping[str, Any]) -> None:
        """Add a snapshot (another worker's, or a later part of this one's) to these totals."""
        self.counters.update(data.get("counters", {}))
        self.delivered += int(data.get("delivered", 0))
        self.unexpected += int(data.get("unexpected", 0))
        self.owed += int(data.get("owed", 0))
        self.rest_status.update(data.get("rest_status", {}))
        self.rest_violations.update(data.get("rest_violations", {}))
        self.rest_warnings.update(data.get("rest_warnings", {}))
        self.rest_checked += int(data.get("rest_checked", 0))
        self.delivery_ms.update({int(k): v for k, v in data.get("delivery_ms", {}).items()})
        for second, counts in data.get("series", {}).items():
            self.series[int(second)].update(counts)
        for second, histogram in data.get("series_latency", {}).items():
            self.series_latency[int(second)].update({int(k): v for k, v in histogram.items()})
        for second, histogram in data.get("series_rest", {}).items():
            self.series_rest[int(second)].update({int(k): v for k, v in histogram.items()})
        for name, lines in data.get("examples", {}).items():
            self.examples[name] = (self.examples[name] + list(lines))[:5]

    def percentile_ms(self, fraction: float, histogram: Mapping[int, int] | None = None) -> float | None:
        """The ``fraction`` quantile of delivery latency (an upper bucket bound, so never flattering)."""
        histogram = self.delivery_ms if histogram is None else histogram
        total = sum(histogram.values())
        if not total:
            return None
        rank = math.ceil(fraction * total)
        running = 0
        for index in sorted(histogram):
            running += histogram[index]
            if running >= rank:
                return round(_bucket_upper_ms(index), 2)
        return None

    def histogram_ms(self) -> list[tuple[float, int]]:
        """(bucket upper bound in ms, count), in order: the delivery latency histogram."""
        return [(_bucket_upper_ms(i), self.delivery_ms[i]) for i in sorted(self.delivery_ms)]


class Ledger(Totals):
    """One process's ledger: the agents it drives, what each is owed, and the running totals."""

    def __init__(self, deadline_s: float) -> None:
        super().__init__()
        self.deadline_s = deadline_s
        self._agents: dict[str, _Agent] = defaultdict(_Agent)
        self._seq = 0
        self._reported: dict[str, Any] = Totals().snapshot()

    def own(self, agent: str, identities: Iterable[str]) -> None:
        """``identities`` (device ids, phone numbers) are ``agent``'s: a message naming another is misrouted."""
        self._agents[agent].devices.update(identities)

    def expect(
        self,
        agent: str,
        topic: str,
        stream: str | None,
        state: str,
        sent_at: float,
        *,
        required: bool = True,
        party: str | None = None,
    ) -> Expectation:
        self._seq += 1
        record = self._agents[agent]
        # An optional message this agent's server has sent before is owed from then on: a server that
        # sends it sometimes, not always, lost the others.
        required = required or topic in record.learned
        expectation = Expectation(topic, stream, state, sent_at, required, party, self._seq)
        record.owed.append(expectation)
        self.owed += 1
        return expectation

    def still_owed(self) -> int:
        """Required messages not yet received (a draining run waits for these)."""
        return sum(e.required for record in self._agents.values() for e in record.owed)

    def unsure(self, expectation: Expectation) -> None:
        """The request got no reply: it may have been performed. Its message is counted if it comes (neither
        duplicated nor unexpected) and never lost; one that came already proved it was."""
        if self._owner(expectation) is None:
            return
        expectation.required = False
        expectation.unsure = True
        self.owed -= 1  # owed again if it comes after all (receive)

    def withdraw(self, expectation: Expectation) -> None:
        """The request was refused: nothing is owed for it (GWS-NOTIF-008)."""
        record = self._owner(expectation)
        if record is not None:
            record.owed.remove(expectation)
            self.owed -= 1

    def _owner(self, expectation: Expectation) -> _Agent | None:
        """The agent that still owes ``expectation`` (None: it arrived, or was withdrawn)."""
        return next((r for r in self._agents.values() if any(e is expectation for e in r.owed)), None)

    def receive(
        self, agent: str, topic: str, data: Any, schema_errors: list[str], received_at: float
    ) -> Expectation | None:
        """Judge one message ``agent``'s session received; the expectation it fulfilled, if any."""
        sig = signature(topic, data)
        record = self._agents[agent]
        if schema_errors:
            self.note("schema_invalid", f"{agent} {topic}: {schema_errors[0]}")
        if sig.device is not None and record.devices and sig.device not in record.devices:
            self.note("misrouted", f"{agent} received {topic} about {sig.device} ({sig.state}), not its own")
            return None
        known = set(record.seen)
        match = next((e for e in record.owed if e.matches(sig, known)), None)
        if match is None:
            if sig.state in record.seen.get(sig.stream, ()):
                self.note("duplicated", f"{agent} {topic} {sig.stream} {sig.state} again, nothing owed")
            else:
                self.unexpected += 1
            record.seen[sig.stream].append(sig.state)
            return None
        record.owed.remove(match)
        if match.unsure:
            self.owed += 1  # the request was performed after all
        elif not match.required:
            record.learned.add(match.topic)
        stream = sig.stream if match.stream is None else match.stream
        # A later state arrived while earlier ones of its stream are owed: they are overtaken, and counted
        # reordered when they do arrive (one that never does is lost, not reordered).
        for earlier in record.owed:
            if earlier.required and earlier.stream == stream and earlier.seq < match.seq:
                earlier.overtaken_by = sig.state
        if match.overtaken_by is not None:
            self.note("reordered", f"{agent} {stream}: {sig.state} after {match.overtaken_by}")
        record.seen[sig.stream].append(sig.state)
        latency_ms = (received_at - match.sent_at) * 1000
        if latency_ms > self.deadline_s * 1000:
            self.note("late", f"{agent} {topic} {sig.state} after {latency_ms:.0f} ms")
        self.delivered += 1
        bucket = _bucket(latency_ms)
        self.delivery_ms[bucket] += 1
        second = int(time.time())
        self.series[second]["delivered"] += 1
        self.series_latency[second][bucket] += 1
        match.data = data
        if match.waiter is not None:
            match.waiter.set()
        return match

    def known_stream(self, agent: str, stream: str) -> bool:
        return stream in self._agents[agent].seen

    def rest(self, http_status: int, status_code: int | None, error: bool, elapsed_s: float) -> None:
        self.rest_status[f"HTTP {http_status} / statusCode {status_code}"] += 1
        second = int(time.time())
        self.series[second]["requests"] += 1
        self.series_rest[second][_bucket(elapsed_s * 1000)] += 1
        if error:
            self.series[second]["errors"] += 1

    def settle(self, now: float, agents: Iterable[str] | None = None) -> None:
        """The run is over (for ``agents``, default all): every required message still owed past its deadline
        is lost."""
        for agent in list(self._agents if agents is None else agents):
            record = self._agents[agent]
            for expectation in list(record.owed):
                if expectation.required and now - expectation.sent_at >= self.deadline_s:
                    self.note("lost", f"{agent} never received {expectation.topic} {expectation.state}")
                    record.owed.remove(expectation)

    def forget(self, agent: str) -> None:
        """``agent`` stopped (its session closed): what it is still owed is settled now."""
        self.settle(float("inf"), [agent])
        self._agents.pop(agent, None)

    def delta(self) -> dict[str, Any]:
        """What changed since the previous delta (a worker's report to the master)."""
        now = self.snapshot()
        before = self._reported
        self._reported = now
        return _subtract(now, before)


def _subtract(now: Any, before: Any) -> Any:
    if isinstance(now, Mapping):
        before = before if isinstance(before, Mapping) else {}
        out = {k: _subtract(v, before.get(k)) for k, v in now.items()}
        return {k: v for k, v in out.items() if v not in (0, {}, [])}
    if isinstance(now, list):
        return now[len(before or []) :] if isinstance(before, list) else now
    if isinstance(now, int) and isinstance(before, int):
        return now - before
    return now
