"""What the hostile-input battery's modules share (GWS-HOST, errata E93-E101): how hard a profile pushes, the case
record, sending a case raw (conformance/hostile.py), judging its answer, and reading state back.

A case must be answered with a client error — a 4xx with a JSON statusCode on the REST API and the stimulus API, a
Bayeux error reply at the notifications endpoint — or, where HTTP itself cannot carry the request, at least never
with a 5xx; it must change no state (read back before and after, ``unchanged``), and the server must go on
answering a normal request afterwards.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from conformance import casting
from conformance.bayeux import Message, probe
from conformance.client import GwsClient, Response
from conformance.config import Settings
from conformance.hostile import RawReply, Target, raw_request
from conformance.overlap import at_once
from conformance.suite.scenarios.support import require

__all__ = [
    "ERROR",
    "HANDSHAKE",
    "JSON",
    "NO_5XX",
    "PUSH",
    "UNAUTHORIZED",
    "Case",
    "Push",
    "agent_state",
    "answering_and_unchanged",
    "basic",
    "bayeux_error",
    "bayeux_still_answering",
    "credentials",
    "deep_array",
    "deep_object",
    "dnd_is",
    "evidence",
    "gws_error",
    "judge",
    "send",
    "status_code",
    "still_answering",
    "unchanged",
]

JSON = b"Content-Type: application/json"
HANDSHAKE = b'{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]'

# What a case must get back.
ERROR = "error"  # a 4xx with a JSON statusCode other than 0 (REST), a Bayeux error reply (notifications)
UNAUTHORIZED = "401"  # HTTP 401: wrong credentials
NO_5XX = "no-5xx"  # HTTP cannot carry it: any 4xx, or the connection closed, but never a 5xx


@dataclass(frozen=True)
class Push:
    """How hard one ``--gws-profile`` pushes (docs/hostile.md). Every profile sends the same cases, so two runs'
    reports compare test for test; a harder profile sends them bigger."""

    depth: int  # nesting of the deep documents (Python's own parser gives up near 1,000)
    body_bytes: int  # oversized bodies, websocket frames and stimulus bodies (the reference refuses past 1 MiB)
    sessions: int  # one user's handshakes in the session flood (GWS-HOST-005 allows at most 100)
    header_bytes: int  # the one oversized header (GWS-HOST-007: at most 64 KB)
    header_count: int  # the header flood (GWS-HOST-007: at most 200 fields)
    query_bytes: int  # the oversized query string (GWS-HOST-008: at most 16 KB; Jetty's and Tomcat's default is 8 KB)


PUSH = {
    "quick": Push(10_000, 2 * 1024 * 1024, 101, 256 * 1024, 10_000, 32 * 1024),
    "default": Push(10_000, 4 * 1024 * 1024, 101, 256 * 1024, 10_000, 32 * 1024),
    "deep": Push(100_000, 16 * 1024 * 1024, 201, 1024 * 1024, 20_000, 1024 * 1024),
}


def deep_array(push: Push) -> bytes:
    return b"[" * push.depth + b"]" * push.depth


def deep_object(push: Push) -> bytes:
    return b'{"a":' * push.depth + b"1" + b"}" * push.depth


Body = bytes | Callable[[Push], bytes]


@dataclass(frozen=True)
class Case:
    name: str
    requirement: str
    method: bytes = b"POST"
    path: bytes = b""  # below the base URL (REST), the notifications URL or the stimulus URL
    body: Body = b""  # a callable: sized by the run's profile
    headers: tuple[bytes, ...] = (JSON,)
    auth: str | None = "agent1"  # whose valid Basic credentials go with it; None: none (or the case's own header)
    content_length: int | None = None  # declared when it is not the body's length
    half_close: bool = False
    expect: str = ERROR

    def payload(self, push: Push) -> bytes:
        return self.body(push) if callable(self.body) else self.body

    @property
    def writes(self) -> bool:
        """Whether a server that wrongly accepted it could store something (what ``unchanged`` reads back)."""
        return self.method not in (b"GET", b"HEAD", b"OPTIONS")


def credentials(value: bytes) -> tuple[bytes, ...]:
    return (b"Authorization: Basic " + value,)


def basic(settings: Settings, role: str | None) -> str | None:
    """The Authorization value of the account playing ``role`` (conformance.casting; None: no such account or no
    password, as on a generic Bayeux server)."""
    account = settings.users.get(casting.account(role)) if role else None
    if account is None or account.password is None:
        return None
    return "Basic " + base64.b64encode(f"{account.user}:{account.password}".encode()).decode()


def send(settings: Settings, url: str, case: Case) -> RawReply:
    authorization = basic(settings, case.auth)
    headers = case.headers if authorization is None else (*case.headers, f"Authorization: {authorization}".encode())
    return raw_request(
        Target(url),
        case.method,
        case.path,
        headers=headers,
        body=case.payload(PUSH[settings.fuzz.profile]),
        content_length=case.content_length,
        timeout_s=settings.request_timeout_s,
        half_close=case.half_close,
    )


def evidence(case: Case, reply: RawReply) -> str:
    return f"{case.method.decode()} {case.path[:80]!r} ({case.name}) -> {reply.describe()}"


def judge(case: Case, reply: RawReply, is_error_body: Callable[[Any], bool]) -> None:
    """The case's expectation: no 5xx (any case), then its own answer."""
    require(
        reply.status < 500,
        f"a hostile request ({case.name}) gets a server error",
        evidence(case, reply),
        case.requirement,
    )
    if case.expect == NO_5XX:
        return
    require(
        reply.status != 0, f"a hostile request ({case.name}) gets no answer", evidence(case, reply), case.requirement
    )
    if case.expect == UNAUTHORIZED:
        require(
            reply.status == 401,
            f"undecodable or missing credentials ({case.name}) are not answered 401",
            evidence(case, reply),
            case.requirement,
        )
        return
    require(
        400 <= reply.status < 500 or (reply.status == 200 and is_error_body(reply.json())),
        f"a hostile request ({case.name}) is not refused as a client error",
        evidence(case, reply),
        case.requirement,
    )
    if is_error_body is gws_error:
        # A reply without an integer statusCode breaks the rule every reply answers to, whatever provoked it.
        require(
            status_code(reply.json()) is not None,
            f"the refusal of a hostile request ({case.name}) carries no statusCode",
            evidence(case, reply),
            "GWS-GEN-001",
        )
    require(
        is_error_body(reply.json()),
        f"the refusal of a hostile request ({case.name}) carries no error reply",
        evidence(case, reply),
        case.requirement,
    )


def status_code(body: Any) -> int | None:
    code = body.get("statusCode") if isinstance(body, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def gws_error(body: Any) -> bool:
    return status_code(body) not in (None, 0)


def bayeux_error(body: Any) -> bool:
    messages = body if isinstance(body, list) else [body]
    return bool(messages) and all(isinstance(m, dict) and m.get("successful") is False for m in messages)


def still_answering(client: GwsClient, case: Case) -> None:
    _answering(case, client.get("/me"))


def _answering(case: Case, me: Response) -> None:
    require(
        me.status_code == 200,
        f"after a hostile request ({case.name}) GET /me is not answered",
        f"GET /me -> HTTP {me.status_code}: {me.text[:300]}",
        "GWS-HOST-006",
    )


def bayeux_still_answering(settings: Settings, case: Case) -> None:
    response, handshake = probe(settings, timeout_s=settings.request_timeout_s)
    require(
        response.status_code < 500 and handshake is not None,
        f"after a hostile request ({case.name}) a handshake is not answered",
        f"HTTP {response.status_code}: {response.text[:300]}",
        "GWS-HOST-006",
    )


# -- reading state back ------------------------------------------------------------------------------------------

# Members whose value moves by itself between two reads, not state a request changed: a call's or an
# interaction's ``duration`` counts its seconds (seed: Calls API attributes). Nothing else of GET /me or
# GET /me/calls changes without a request (the seed's and the real capture's objects, fixtures/real-captures).
VOLATILE = frozenset({"duration"})

# What a hostile write to POST /me (or any operation of the user) could change: the user with every subresource
# (devices and their state, channels, DND, forwarding, skills, settings) and the user's calls.
AGENT_READS = (("/me", {"subresources": "*"}), ("/me/calls", {"fields": "*"}))


def stable(value: Any) -> Any:
    """``value`` without its VOLATILE members, at any depth."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def agent_state(client: GwsClient) -> dict[str, Any]:
    """What ``client``'s user is, read through its own API (AGENT_READS, at once), VOLATILE members left out."""
    return _state(at_once(_state_reads(client)))


def _state_reads(client: GwsClient) -> list[Callable[[], Response]]:
    return [functools.partial(client.get, path, params=params) for path, params in AGENT_READS]


def _state(responses: Sequence[Response]) -> dict[str, Any]:
    return {
        path: stable(response.json_body) if response.status_code == 200 else f"HTTP {response.status_code}"
        for (path, _), response in zip(AGENT_READS, responses, strict=True)
    }


def answering_and_unchanged(client: GwsClient, case: Case, what: str, before: dict[str, Any]) -> None:
    """``still_answering``, then ``unchanged`` against ``before`` (agent_state): the reads of both go at once,
    after the case, and are judged in that order."""
    calls: list[Callable[[], Response]] = [functools.partial(client.get, "/me"), *_state_reads(client)]
    me, *reads = at_once(calls)
    _answering(case, me)
    unchanged(case, what, before, _state(reads))


def differences(before: Any, after: Any, where: str = "") -> list[str]:
    """Where ``after`` differs from ``before`` (JSON paths with both values), for the evidence."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            if key not in after or key not in before:
                found.append(f"{where}.{key}: {before.get(key, '(absent)')!r} -> {after.get(key, '(absent)')!r}")
            else:
                found += differences(before[key], after[key], f"{where}.{key}")
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            d for i, (b, a) in enumerate(zip(before, after, strict=True)) for d in differences(b, a, f"{where}[{i}]")
        ]
    return [] if before == after else [f"{where}: {str(before)[:120]} -> {str(after)[:120]}"]


def unchanged(case: Case, what: str, before: Any, after: Any) -> None:
    """The case's rule fails when the state read back after it differs from the state before (E94: a refused request
    "failed to modify the data of the contact center")."""
    changed = differences(before, after)
    require(
        not changed,
        f"a hostile request ({case.name}) changed {what}",
        "; ".join(changed[:5]) + (f" (and {len(changed) - 5} more)" if len(changed) > 5 else ""),
        case.requirement,
    )


def dnd_is(state: str) -> Callable[[Message], bool]:
    """Whether a /v2/me/devices message says a device's doNotDisturb is ``state`` ("On", "Off")."""

    def matches(message: Message) -> bool:
        data = message.get("data")
        devices = data.get("devices") if isinstance(data, dict) else None
        return isinstance(devices, list) and any(
            isinstance(d, dict) and d.get("doNotDisturb") == state for d in devices
        )

    return matches
