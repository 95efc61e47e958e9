"""Recorded GWS traffic for the passive judge's tests: a real session against the reference, saved as HAR.

``record_call_session`` drives a live reference server as a browser client would (plain HTTP: Basic auth,
a CometD session over long-polling, a call between two agents) through a transport that writes every
exchange as a HAR entry, exactly as sent and received. ``tests/data/passive/clean.har`` is one such recording;
the violation files beside it are that recording with one thing a faulty server would do changed
(``VIOLATIONS``). Regenerate all of them with ``python tests/passive_support.py``.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conformance.passive.har import har_document, har_entry  # noqa: E402

DATA = ROOT / "tests" / "data" / "passive"
JSON = {"Content-Type": "application/json"}


class RecordingTransport(httpx.BaseTransport):
    """Sends through ``inner`` and keeps every exchange as a HAR entry."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.entries: list[dict[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started, clock = datetime.now(UTC), time.monotonic()
        body = request.read()
        response = self.inner.handle_request(request)
        # The bytes as sent (compressed, when the server compressed): the client's own HTTP layer decodes them.
        sent = httpx.Response(response.status_code, headers=response.headers, content=b"".join(response.iter_raw()))
        response.close()
        content = sent.read()
        self.entries.append(
            har_entry(
                started=started,
                elapsed_s=time.monotonic() - clock,
                method=request.method,
                url=str(request.url),
                http_version="HTTP/1.1",
                request_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
                request_body=body or None,
                status=response.status_code,
                reason=response.reason_phrase,
                response_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw],
                response_body=content or None,
            )
        )
        sent.request = request
        return sent


def record_call_session(origin: str) -> dict[str, Any]:
    """A HAR of agent2 listening on /v2/me/calls while agent1 dials it, agent2 answers and agent1 hangs up."""
    base = f"{origin}/api/v2"
    transport = RecordingTransport(httpx.HTTPTransport())
    agent1 = httpx.Client(transport=transport, auth=("agent1", "agent1-secret"), timeout=10)
    agent2 = httpx.Client(transport=transport, auth=("agent2", "agent2-secret"), timeout=10)
    with agent1, agent2:
        agent1.get(f"{origin}/favicon.ico")  # a browser's own request: not GWS traffic
        bayeux = f"{base}/notifications"

        def post(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return list(agent2.post(bayeux, json=messages, headers=JSON).json())

        handshake = post(
            [{"channel": "/meta/handshake", "id": "1", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}]
        )
        client = handshake[0]["clientId"]
        post([{"channel": "/meta/subscribe", "id": "2", "clientId": client, "subscription": "/v2/me/calls"}])
        post(
            [
                {
                    "channel": "/meta/connect",
                    "id": "3",
                    "clientId": client,
                    "connectionType": "long-polling",
                    "advice": {"timeout": 0},
                }
            ]
        )
        agent2.get(f"{base}/me", params={"subresources": "*"})
        agent1.get(f"{base}/me")
        device = agent1.get(f"{base}/me/devices").json()["uris"][0]
        agent1.get(f"{base}/me/devices", params={"fields": "id,phoneNumber"})  # a field list: partial objects (E32)
        agent1.post(f"{base}/me", json={}, headers=JSON)  # no operationName: refused with statusCode 1
        agent1.post(f"{device}/calls", json={"operationName": "Dial", "destination": "5002"}, headers=JSON)
        ids = iter(range(4, 100))

        def connect_until(state: str) -> dict[str, Any]:
            for _ in range(10):
                replies = post(
                    [
                        {
                            "channel": "/meta/connect",
                            "id": str(next(ids)),
                            "clientId": client,
                            "connectionType": "long-polling",
                            "advice": {"timeout": 2000},
                        }
                    ]
                )
                calls = [m["data"]["call"] for m in replies if m.get("channel") == "/v2/me/calls"]
                if any(call["state"] == state for call in calls):
                    return next(call for call in calls if call["state"] == state)
            raise AssertionError(f"agent2 never heard its call {state}")

        ringing = connect_until("Ringing")
        agent2.post(ringing["uri"], json={"operationName": "Answer"}, headers=JSON)
        connect_until("Established")
        agent2.get(f"{base}/me/calls", params={"fields": "*"})
        mine = agent1.get(f"{base}/me/calls").json()["uris"][0]
        agent1.post(mine, json={"operationName": "Hangup"}, headers=JSON)
        connect_until("Released")
        post([{"channel": "/meta/disconnect", "id": str(next(ids)), "clientId": client}])
    return har_document(transport.entries, creator="tests/passive_support.py")


# -- the violations: what a faulty server would have sent instead ------------------------------------------


def _bodies(har: dict[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    """(entry, parsed response body) for every entry with a JSON response body."""
    found = []
    for entry in har["log"]["entries"]:
        try:
            found.append((entry, json.loads(entry["response"]["content"]["text"])))
        except (KeyError, ValueError):
            continue
    return found


def _set_body(entry: dict[str, Any], body: Any) -> None:
    text = json.dumps(body)
    entry["response"]["content"]["text"] = text
    entry["response"]["content"]["size"] = len(text.encode())


def _first(har: dict[str, Any], url_part: str, method: str = "GET") -> tuple[dict[str, Any], Any]:
    return next((e, b) for e, b in _bodies(har) if url_part in e["request"]["url"] and e["request"]["method"] == method)


def _deliveries(har: dict[str, Any], state: str) -> list[tuple[dict[str, Any], list[Any], int]]:
    return [
        (e, b, i)
        for e, b in _bodies(har)
        if isinstance(b, list)
        for i, m in enumerate(b)
        if m.get("channel") == "/v2/me/calls" and m["data"]["call"]["state"] == state
    ]


def no_status_code(har: dict[str, Any]) -> None:
    entry, body = _first(har, "/api/v2/me/devices")
    body.pop("statusCode")
    _set_body(entry, body)


def wrong_content_type(har: dict[str, Any]) -> None:
    entry, _ = _first(har, "/api/v2/me?subresources")
    for header in entry["response"]["headers"]:
        if header["name"].lower() == "content-type":
            header["value"] = "text/plain"


def invalid_input_accepted(har: dict[str, Any]) -> None:
    entry, _ = next((e, b) for e, b in _bodies(har) if e["request"].get("postData", {}).get("text") == "{}")
    _set_body(entry, {"statusCode": 0})
    entry["response"]["status"] = 200


def call_without_capabilities(har: dict[str, Any]) -> None:
    entry, body, index = _deliveries(har, "Established")[0]
    body[index]["data"]["call"].pop("capabilities")
    _set_body(entry, body)


def unknown_call_state(har: dict[str, Any]) -> None:
    entry, body, index = _deliveries(har, "Ringing")[0]
    body[index]["data"]["call"]["state"] = "Alerting"
    _set_body(entry, body)


def released_call_revives(har: dict[str, Any]) -> None:
    entry, body, index = _deliveries(har, "Released")[0]
    revived = copy.deepcopy(body[index])
    revived["data"]["call"]["state"] = "Established"
    revived.pop("id", None)
    body.append(revived)
    _set_body(entry, body)


def duplicate_message(har: dict[str, Any]) -> None:
    entry, body, index = _deliveries(har, "Established")[0]
    message = body[index]
    message.setdefault("id", "m-established")
    body.append(copy.deepcopy(message))
    _set_body(entry, body)


def meta_id_not_echoed(har: dict[str, Any]) -> None:
    entry, body = next(
        (e, b) for e, b in _bodies(har) if isinstance(b, list) and b and b[0].get("channel") == "/meta/subscribe"
    )
    body[0]["id"] = "999"
    _set_body(entry, body)


def unsubscribed_topic(har: dict[str, Any]) -> None:
    """The session subscribed to /v2/me/devices only, yet the calls come."""
    entry, body = next(
        (e, b) for e, b in _bodies(har) if isinstance(b, list) and b and b[0].get("channel") == "/meta/subscribe"
    )
    body[0]["subscription"] = "/v2/me/devices"
    _set_body(entry, body)
    sent = json.loads(entry["request"]["postData"]["text"])
    sent[0]["subscription"] = "/v2/me/devices"
    entry["request"]["postData"]["text"] = json.dumps(sent)


def field_list_wrong_type(har: dict[str, Any]) -> None:
    entry, body = _first(har, "/api/v2/me/devices?fields=id")
    body["devices"][0]["phoneNumber"] = 5001
    _set_body(entry, body)


# file name -> (edit, the rule the judge must break, a requirement it must name)
VIOLATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "no-status-code.har": (no_status_code, "status_code_present", "GWS-GEN-001"),
    "wrong-content-type.har": (wrong_content_type, "json_content_type", "GWS-GEN-028"),
    "invalid-input-accepted.har": (invalid_input_accepted, "negative_input_rejected", "GWS-GEN-011"),
    "call-without-capabilities.har": (call_without_capabilities, "client_habit.GWS-CALL-032", "GWS-CALL-032"),
    "unknown-call-state.har": (unknown_call_state, "notification_schema", "GWS-GEN-007"),
    "released-call-revives.har": (released_call_revives, "call_leg_states", "GWS-GEN-031"),
    "duplicate-message.har": (duplicate_message, "no_duplicate_message", "GWS-GEN-032"),
    "meta-id-not-echoed.har": (meta_id_not_echoed, "meta_reply_id", "GWS-COMETD-012"),
    "unsubscribed-topic.har": (unsubscribed_topic, "subscribed_topics", "GWS-NOTIF-007"),
    "field-list-wrong-type.har": (field_list_wrong_type, "response_matches_schema", "GWS-GEN-007"),
}


def write_data() -> None:
    from tests.live_reference import serve

    with serve() as target:
        har = record_call_session(target.origin)
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "clean.har").write_text(json.dumps(har, indent=1) + "\n", encoding="utf-8")
    for name, (edit, _, _) in VIOLATIONS.items():
        changed = copy.deepcopy(har)
        edit(changed)
        (DATA / name).write_text(json.dumps(changed, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_data()
