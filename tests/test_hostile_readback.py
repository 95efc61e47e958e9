"""The battery's read-back (E101) can fail: a target that refuses a hostile request yet applies part of it is caught
on the case's rule, although every reply it gives is the correct refusal.

The faulty target is the reference behind a wrapper: a POST holding a lone surrogate escape is answered exactly as
the reference answers it (400, statusCode 2 or a ``400::`` reply), but first something of it is applied — agent1's
DoNotDisturbOn for a REST body, the same Bayeux messages with the surrogate replaced for a notifications body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from live_reference import LiveTarget, run_suite, serve

from conformance.failures import Violation
from conformance.suite.protocol.hostile_support import Case, differences, stable, unchanged
from reference_impl.app import create_app

SURROGATE = b"\\ud800"
PROTOCOL = "conformance/suite/protocol"


def _body_of(receive: Callable[..., Any]) -> Callable[..., Any]:
    async def read() -> bytes:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                return body

    return read


def applying_first(app: Any) -> Any:
    async def wrapped(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        body = await _body_of(receive)()
        if SURROGATE in body:
            applied = (
                body.replace(SURROGATE, b"x")
                if scope["path"].startswith("/api/v2/notifications")
                else b'{"operationName":"DoNotDisturbOn"}'
            )
            await app(scope, _once(applied), _discard)
        await app(scope, _once(body), send)

    return wrapped


def _once(body: bytes) -> Callable[..., Any]:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _discard(message: dict[str, Any]) -> None:
    return None


@pytest.fixture
def leaky() -> Iterator[LiveTarget]:
    with serve(applying_first(create_app())) as live:
        yield live


def _outcomes(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["nodeid"].split("::", 1)[1]: t for t in results["tests"]}


def test_a_refused_rest_request_that_changed_state_fails_its_case(leaky: LiveTarget, tmp_path: Path) -> None:
    results = run_suite(leaky, tmp_path, f"{PROTOCOL}/test_hostile.py::test_rest_refuses_hostile_input")
    outcomes = _outcomes(results)
    caught = outcomes["test_rest_refuses_hostile_input[a lone surrogate echoed]"]
    assert caught["outcome"] == "failed" and "changed agent1's state" in caught["title"], caught
    assert caught["violated"] == ["GWS-HOST-003"] and "doNotDisturb" in caught["message"], caught
    # Agent1 now has DND on for good: the cases after it compare two equal states, and pass.
    assert [t for t, o in outcomes.items() if o["outcome"] == "failed"] == [
        "test_rest_refuses_hostile_input[a lone surrogate echoed]"
    ], results["output"]


def test_a_refused_bayeux_message_that_changed_a_session_fails_its_case(leaky: LiveTarget, tmp_path: Path) -> None:
    selection = f"{PROTOCOL}/test_hostile_websocket.py::test_a_session_keeps_its_state_through_hostile_messages"
    results = run_suite(leaky, tmp_path, selection + "[long-polling]")
    (only,) = results["tests"]
    assert only["outcome"] == "failed" and "changed the subscriptions" in only["title"], only
    assert "an unsubscribe with a lone surrogate id" in only["title"] and only["violated"] == ["GWS-HOST-003"], only


# -- the comparison itself ----------------------------------------------------------------------------------------


def test_volatile_members_are_left_out_at_any_depth() -> None:
    assert stable({"calls": [{"id": "1", "duration": "12", "state": "Established"}]}) == {
        "calls": [{"id": "1", "state": "Established"}]
    }


def test_differences_name_the_paths_that_changed() -> None:
    before = {"user": {"devices": [{"doNotDisturb": "Off"}], "a": 1}}
    after = {"user": {"devices": [{"doNotDisturb": "On"}], "b": 2}}
    assert differences(before, after) == [
        ".user.a: 1 -> '(absent)'",
        ".user.b: '(absent)' -> 2",
        ".user.devices[0].doNotDisturb: Off -> On",
    ]
    assert differences(before, before) == []


def test_unchanged_fails_on_the_cases_rule() -> None:
    case = Case("probe", "GWS-HOST-003")
    unchanged(case, "nothing", {"a": 1}, {"a": 1})
    with pytest.raises(Violation) as failed:
        unchanged(case, "agent1's state", {"a": 1}, {"a": 2})
    assert failed.value.requirement_ids == ("GWS-HOST-003",) and "agent1's state" in failed.value.title
    assert failed.value.message == ".a: 1 -> 2"
