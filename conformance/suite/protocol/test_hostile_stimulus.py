"""The hostile-input battery against the reference's stimulus API (E100), in runs that use it.

The stimulus API is the reference's own (reference_impl/stimulus.py), not GWS's; it is judged under the HOST rules
because the embedded target serves it beside the REST API, from the same process, to whoever reaches the port, and
what it stores reaches GWS users: a call from a number holding a lone surrogate would ring an agent's device and
fail that agent's GET /me/calls (E95 by another path). Each case is a POST /stimulus/calls aimed at agent1's
device; agent1's state is read back around it, so an accepted call, however it was answered, is seen.

Runs with another adapter (manual, none, a vendor's) have no such API: the tests are skipped.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import pytest

from conformance import casting
from conformance.client import GwsClient
from conformance.config import Settings
from conformance.outcomes import not_applicable
from conformance.overlap import both
from conformance.stimulus.reference import configured_url
from conformance.suite.protocol.hostile_support import (
    JSON,
    NO_5XX,
    PUSH,
    Case,
    agent_state,
    answering_and_unchanged,
    deep_array,
    deep_object,
    gws_error,
    judge,
    send,
)
from conformance.suite.scenarios.support import Me

TO = b"@TO@"  # replaced by agent1's phone number: an accepted call rings agent1's device
CALL = b'"from":"5550100","to":"' + TO + b'"'

STIMULUS_CASES = [
    Case("deeply nested arrays", "GWS-HOST-002", path=b"/calls", body=deep_array),
    Case(
        "a call nested deeply in an extra member",
        "GWS-HOST-002",
        path=b"/calls",
        body=lambda push: b"{" + CALL + b',"x":' + deep_object(push) + b"}",
    ),
    Case(
        "a lone surrogate as the caller", "GWS-HOST-003", path=b"/calls", body=b'{"from":"\\ud800","to":"' + TO + b'"}'
    ),
    Case("a lone surrogate as a member name", "GWS-HOST-003", path=b"/calls", body=b"{" + CALL + b',"\\udc00":1}'),
    Case("invalid UTF-8 in the body", "GWS-HOST-006", path=b"/calls", body=b'{"from":"\xff\xfe","to":"' + TO + b'"}'),
    Case(
        "a raw NUL in a JSON string", "GWS-HOST-006", path=b"/calls", body=b'{"from":"555\x000100","to":"' + TO + b'"}'
    ),
    Case("a body that is not JSON", "GWS-HOST-006", path=b"/calls", body=b"\x00\x01\x02\x03"),
    Case(
        "an oversized body",
        "GWS-HOST-006",
        path=b"/calls",
        body=lambda push: b"{" + CALL + b',"x":"' + b"x" * push.body_bytes + b'"}',
    ),
    Case(
        "a Content-Length larger than the body",
        "GWS-HOST-006",
        path=b"/calls",
        body=b"{" + CALL,
        content_length=200,
        half_close=True,
        expect=NO_5XX,
    ),
    Case("an unknown method", "GWS-HOST-006", b"BREW", b"/calls", body=b"{" + CALL + b"}", expect=NO_5XX),
    Case("a raw NUL in the path", "GWS-HOST-006", path=b"/calls\x00", body=b"{" + CALL + b"}", expect=NO_5XX),
    Case(
        "a control byte in a header",
        "GWS-HOST-006",
        path=b"/calls",
        headers=(JSON, b"X-Probe: a\x01b"),
        body=b"{" + CALL + b"}",
        expect=NO_5XX,
    ),
]


@pytest.mark.recast  # with a pool, any free agent plays agent1: the call is aimed at its device
@pytest.mark.requirement("GWS-HOST-002", "GWS-HOST-003", "GWS-HOST-006", "GWS-GEN-001")
@pytest.mark.parametrize("case", STIMULUS_CASES, ids=lambda case: case.name)
def test_the_stimulus_api_refuses_hostile_input(
    case: Case, gws_settings: Settings, gws_client: Callable[[str], GwsClient], gws_exclusive: Callable[..., None]
) -> None:
    if gws_settings.stimulus != "reference":
        pytest.skip(f"the run's stimulus is {gws_settings.stimulus!r}: only the reference's has a stimulus API (E100)")
    gws_exclusive("agent1")
    agent1, name = gws_client("agent1"), casting.account("agent1")
    # Where the call is aimed, and the state the case must leave as it is: both reads at once.
    me, before = both(functools.partial(Me.read, agent1), functools.partial(agent_state, agent1))
    numbers = [d.get("phoneNumber") for d in me.user.get("devices", []) if isinstance(d, dict)]
    number = next((n for n in numbers if isinstance(n, str) and n), None)
    if number is None:
        not_applicable(f"{name} has no device with a phone number: an accepted call is read back on it")
    template = case.payload(PUSH[gws_settings.fuzz.profile])
    aimed = dataclasses.replace(case, body=template.replace(TO, number.encode()), auth=None)  # it takes none
    reply = send(gws_settings, configured_url(gws_settings), aimed)
    judge(aimed, reply, gws_error)
    answering_and_unchanged(agent1, aimed, f"{name}'s state (an inbound call to {number} rang)", before)
