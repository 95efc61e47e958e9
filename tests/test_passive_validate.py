"""``gws-conformance validate FILE.har``: recorded traffic judged by the suite's rules (conformance.passive).

The data are recordings of a real session against the reference (tests/passive_support.py): clean.har, and one
file per kind of violation, each the clean recording with one thing a faulty server would have done instead.
Each must break its rule and nothing else (one finding per real problem); the clean one must pass, as must a
fresh recording (so the files cannot go stale unnoticed).
"""

from __future__ import annotations

import base64
import copy
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from conformance import cli
from conformance.passive.har import basic_user, har_entry, read_hars
from conformance.passive.judge import Judge
from conformance.results import RESULTS_SCHEMA
from conformance.suite.fuzz.catalogue import operations, request_breaches
from tests.live_reference import serve
from tests.passive_support import DATA, VIOLATIONS, record_call_session

CLEAN = DATA / "clean.har"
# Besides its own rule, what a violation may also break (the same defect seen by a second rule).
ALSO = {"no-status-code.har": {"response_matches_schema"}}


def validate(tmp_path: Path, *files: Path) -> tuple[int, dict[str, Any]]:
    code = cli.main(["validate", *map(str, files), "--report-dir", str(tmp_path / "reports")])
    results_file = tmp_path / "reports" / "results.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    return code, results


def outcomes(results: dict[str, Any]) -> dict[str, str]:
    return {t["nodeid"].removeprefix("passive::"): t["outcome"] for t in results["tests"]}


def test_the_clean_recording_is_conformant_with_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, results = validate(tmp_path, CLEAN)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "CONFORMANT" in out and "1 not GWS (ignored)" in out
    assert "report.html" in out and "allure-results" not in out  # only what validate wrote is named
    assert set(outcomes(results).values()) == {"passed"}
    # The rules of both sides were applied: REST checks, Bayeux messages, the sequence rules.
    assert {"status_code_present", "notification_schema", "meta_reply_id", "call_leg_states"} <= set(outcomes(results))
    Draft202012Validator(json.loads(RESULTS_SCHEMA.read_text())).validate(results)
    reports = tmp_path / "reports"
    assert "Conformant" in (reports / "summary.md").read_text()
    assert (reports / "report.html").read_text().startswith("<!DOCTYPE html>")
    cases = ET.parse(reports / "junit.xml").getroot().findall(".//testcase")
    assert len(cases) == len(results["tests"]) and not ET.parse(reports / "junit.xml").getroot().findall(".//failure")


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
def test_each_violation_breaks_its_rule_and_nothing_else(tmp_path: Path, name: str) -> None:
    _, rule, requirement = VIOLATIONS[name]
    code, results = validate(tmp_path, DATA / name)
    broken = {rule_name: outcome for rule_name, outcome in outcomes(results).items() if outcome != "passed"}
    assert set(broken) == {rule, *ALSO.get(name, ())}, broken
    test = next(t for t in results["tests"] if t["nodeid"] == f"passive::{rule}")
    assert requirement in test["violated"] and test["evidence"], test
    assert code == (1 if broken[rule] == "failed" else 0)


def test_a_fresh_recording_of_the_reference_is_conformant(tmp_path: Path) -> None:
    with serve() as target:
        har = record_call_session(target.origin)
    recording = tmp_path / "fresh.har"
    recording.write_text(json.dumps(har))
    code, results = validate(tmp_path, recording)
    assert code == 0, [t for t in results["tests"] if t["outcome"] != "passed"]


def test_a_field_list_reply_is_judged_on_the_members_asked_for(tmp_path: Path) -> None:
    # clean.har asks GET /me/devices?fields=id,phoneNumber: objects without the members a device requires pass.
    _, results = validate(tmp_path, DATA / "field-list-wrong-type.har")
    test = next(t for t in results["tests"] if t["nodeid"] == "passive::response_matches_schema")
    assert "$.devices[0].phoneNumber: 5001 is not of type 'string'" in test["message"] + test["findings"][0]["message"]


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ({"statusCode": 0, "user": {"id": "53f0ad8d0e0d4111a0681f7bf586434e"}}, None),
        ({"statusCode": 0, "user": {"id": 5}}, "$.user.id: 5 is not of type 'string'"),
        ({"statusCode": 0}, "$: 'user' is a required property"),
    ],
)
def test_a_field_list_reply_of_one_object_is_judged_on_the_members_asked_for(
    tmp_path: Path, reply: dict[str, Any], problem: str | None
) -> None:
    # GET /me?fields=id: the reference answers the one object with the members asked for (E32, as for lists).
    har = json.loads(CLEAN.read_text())
    entry = next(
        e for e in har["log"]["entries"] if e["request"]["method"] == "GET" and e["request"]["url"].endswith("/me")
    )
    entry["request"]["url"] += "?fields=id"
    entry["response"]["content"]["text"] = json.dumps(reply)
    _, results = validate(tmp_path, write_har(tmp_path, {"log": {**har["log"], "entries": [entry]}}))
    test = next(t for t in results["tests"] if t["nodeid"] == "passive::response_matches_schema")
    if problem is None:
        assert test["outcome"] == "passed", test["message"]
    else:
        assert test["outcome"] == "failed" and problem in test["message"] + test["findings"][0]["message"]


def write_har(tmp_path: Path, har: dict[str, Any]) -> Path:
    path = tmp_path / "edited.har"
    path.write_text(json.dumps(har))
    return path


def test_secrets_of_the_recording_reach_no_report(tmp_path: Path) -> None:
    validate(tmp_path, DATA / "no-status-code.har")
    token = base64.b64encode(b"agent1:agent1-secret").decode()
    for report in (tmp_path / "reports").iterdir():
        if report.is_file():
            text = report.read_text()
            assert "agent1-secret" not in text and token not in text, report.name


# -- what HAR files hold beyond plain bodies --------------------------------------------------------------------


def as_websocket(har: dict[str, Any]) -> dict[str, Any]:
    """The recording as Chromium saves a CometD session over websocket: one entry, every message a frame."""
    entries = har["log"]["entries"]
    bayeux = [e for e in entries if e["request"]["url"].endswith("/notifications")]
    first = copy.deepcopy(bayeux[0])
    first["request"]["method"] = "GET"
    first["request"].pop("postData")
    first["response"]["status"] = 101
    first["response"]["content"] = {"size": 0, "mimeType": "", "text": ""}
    first["_resourceType"] = "websocket"
    frames = []
    for number, entry in enumerate(bayeux):
        frames.append(
            {"type": "send", "time": 1000.0 + number, "opcode": 1, "data": entry["request"]["postData"]["text"]}
        )
        frames.append(
            {"type": "receive", "time": 1000.5 + number, "opcode": 1, "data": entry["response"]["content"]["text"]}
        )
    first["_webSocketMessages"] = frames
    return {"log": {**har["log"], "entries": [e for e in entries if e not in bayeux] + [first]}}


def judged(tmp_path: Path, har: dict[str, Any]) -> Judge:
    path = tmp_path / "edited.har"
    path.write_text(json.dumps(har))
    judge = Judge()
    judge.judge_all(read_hars([path]))
    return judge


def failing(judge: Judge) -> set[str]:
    return {t.nodeid.removeprefix("passive::") for t in judge.results().tests.values() if str(t.outcome) != "passed"}


def test_websocket_frames_are_judged_message_by_message(tmp_path: Path) -> None:
    clean = judged(tmp_path, as_websocket(json.loads(CLEAN.read_text())))
    assert clean.tally.websocket_frames == 14 and clean.tally.bayeux == 1
    assert not failing(clean)
    assert {"notification_schema", "meta_reply_id", "subscribed_topics"} <= {
        t.nodeid.removeprefix("passive::") for t in clean.results().tests.values()
    }
    broken = judged(tmp_path, as_websocket(json.loads((DATA / "call-without-capabilities.har").read_text())))
    assert failing(broken) == {"client_habit.GWS-CALL-032"}


def test_an_entry_whose_body_the_recording_lacks_is_counted_not_judged(tmp_path: Path) -> None:
    har = json.loads((DATA / "no-status-code.har").read_text())
    for entry in har["log"]["entries"]:
        if entry["request"]["url"].endswith("/me/devices"):
            entry["response"]["content"] = {"size": 57, "mimeType": "application/json"}  # no text: not saved
    judge = judged(tmp_path, har)
    assert judge.tally.not_recorded == 1
    assert not failing(judge)


@pytest.mark.parametrize("depth", [10_000, 500])
def test_bodies_nested_too_deep_are_judged_not_a_crash(tmp_path: Path, depth: int) -> None:
    # 10,000 levels: beyond Python's JSON parser (a hostile client's, as the HOST battery sends); 500: parsed, but too
    # deep for anything that walks it recursively (evidence, reports).
    har = json.loads(CLEAN.read_text())
    nested = "[" * depth + "]" * depth
    deep = []
    for entry in har["log"]["entries"]:
        if entry["request"]["method"] == "POST" and entry["request"]["url"].endswith(("/api/v2/me", "/notifications")):
            for side, text in (("request", nested), ("response", nested), ("request", f'{{"operationName":{nested}}}')):
                changed = copy.deepcopy(entry)
                if side == "request":
                    changed["request"]["postData"]["text"] = text
                else:
                    changed["response"]["content"]["text"] = text
                deep.append(changed)
    har["log"]["entries"] += deep
    path = tmp_path / "deep.har"
    path.write_text(json.dumps(har))
    code, results = validate(tmp_path, path)
    assert code == 1, results  # a reply nested that deep is no GWS reply: judged so, with the exchange shown
    assert outcomes(results)["status_code_present"] == "failed"
    assert (tmp_path / "reports" / "report.html").is_file()


def test_a_held_connect_is_judged_when_it_ended_after_a_subscribe_sent_meanwhile(tmp_path: Path) -> None:
    # A browser's long poll: /meta/connect held from before the /meta/subscribe to /v2/me/calls, answered after it
    # with a /v2/me/calls message. In the order the requests started it would precede the subscription.
    har = json.loads(CLEAN.read_text())
    entries = har["log"]["entries"]
    subscribe = next(e for e in entries if '"/meta/subscribe"' in e["request"].get("postData", {}).get("text", ""))
    held = next(e for e in entries if '"channel":"/v2/me/calls"' in e["response"]["content"].get("text", ""))
    ends = datetime.fromisoformat(held["startedDateTime"]) + timedelta(milliseconds=held["time"])
    starts = datetime.fromisoformat(subscribe["startedDateTime"]) - timedelta(milliseconds=0.5)
    held["startedDateTime"] = starts.isoformat().replace("+00:00", "Z")
    held["time"] = (ends - starts).total_seconds() * 1000
    judge = judged(tmp_path, har)
    assert not failing(judge), judge.results().tests


def test_base64_bodies_are_read_as_the_bytes_they_stand_for(tmp_path: Path) -> None:
    har = json.loads((DATA / "wrong-content-type.har").read_text())
    for entry in har["log"]["entries"]:
        content = entry["response"]["content"]
        content["text"] = base64.b64encode(content["text"].encode()).decode()
        content["encoding"] = "base64"
    assert failing(judged(tmp_path, har)) == {"json_content_type"}


def test_a_binary_body_is_written_as_base64_and_read_back_unchanged() -> None:
    body = bytes(range(256))
    entry = har_entry(
        started=datetime(2026, 1, 1, tzinfo=UTC),
        elapsed_s=0.01,
        method="GET",
        url="http://127.0.0.1/api/v2/me/interactions/1/attachments/2",
        http_version="HTTP/1.1",
        request_headers=[],
        request_body=None,
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "application/octet-stream")],
        response_body=body,
    )
    assert entry["response"]["content"]["encoding"] == "base64"
    assert base64.b64decode(entry["response"]["content"]["text"]) == body


def test_basic_user_names_the_user_and_nothing_else() -> None:
    assert basic_user("Basic " + base64.b64encode(b"agent1:agent1-secret").decode()) == "agent1"
    assert basic_user("Bearer abc") is None and basic_user("Basic !!!") is None and basic_user(None) is None


# -- the request side: discriminator-aware -----------------------------------------------------------------------


def test_an_invalid_operation_body_is_one_problem_not_one_per_variant() -> None:
    operation = operations()["POST /me/interactions/{id}"]
    url = "http://127.0.0.1/api/v2/me/interactions/1"
    wrong = request_breaches(operation, url, "application/json", b'{"operationName": "SendMessage", "text": 5}')
    assert len(wrong) == 1 and "text" in wrong[0], wrong
    missing = request_breaches(operation, url, "application/json", b'{"text": "hi"}')
    assert missing == ["body $: operationName is missing"]
    unknown = request_breaches(operation, url, "application/json", b'{"operationName": "Fly"}')
    assert len(unknown) == 1 and "'Fly' is not an operation" in unknown[0]
    # A name of the server's own (a custom agent state) is judged against the open variant.
    assert request_breaches(operations()["POST /me"], url, "application/json", b'{"operationName": "OutToLunch"}') == []


# -- bad input: one line, exit 2 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("not json", "not JSON"),
        ('{"log": {}}', "not a HAR file"),
        ('{"log": {"entries": [{"request": {}}]}}', "entry 0 is not a HAR 1.2 entry"),
        (json.dumps({"log": {"entries": []}}), "no GWS exchange"),
    ],
)
def test_unusable_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, says: str
) -> None:
    bad = tmp_path / "bad.har"
    bad.write_text(content)
    code, _ = validate(tmp_path, bad)
    err = capsys.readouterr().err
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err


def test_a_missing_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = validate(tmp_path, tmp_path / "absent.har")
    assert code == 2 and "cannot read it" in capsys.readouterr().err


def test_a_recording_keeps_the_order_of_replies_that_came_within_a_millisecond(tmp_path: Path) -> None:
    """A /meta/subscribe answered, then a /meta/connect advised timeout 0 answered at once: both within one
    millisecond. The recording keeps microseconds, so read back they stay in the order the client had them (a
    start cut to the millisecond put the connect first: a message on a topic not yet subscribed, under load)."""
    moment = datetime(2026, 12, 6, 5, 0, 0, 400, tzinfo=UTC)  # 0.4 ms into a millisecond

    def entry(started: datetime, elapsed_s: float, channel: str) -> dict[str, Any]:
        body = json.dumps([{"channel": channel}]).encode()
        return har_entry(
            started=started,
            elapsed_s=elapsed_s,
            method="POST",
            url="http://gws.test/api/v2/notifications",
            http_version="HTTP/1.1",
            request_headers=[("content-type", "application/json")],
            request_body=body,
            status=200,
            reason="OK",
            response_headers=[("content-type", "application/json")],
            response_body=body,
        )

    subscribe = entry(moment, 0.0005, "/meta/subscribe")  # answered at 0.9 ms
    connect = entry(moment + timedelta(microseconds=550), 0.0002, "/meta/connect")  # sent at 0.95 ms, answered at 1.15
    recording = tmp_path / "close.har"
    recording.write_text(json.dumps({"log": {"version": "1.2", "entries": [connect, subscribe]}}))
    channels = [json.loads(e.request_body or b"[]")[0]["channel"] for e in read_hars([recording])]
    assert channels == ["/meta/subscribe", "/meta/connect"]
