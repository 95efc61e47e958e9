"""A HAR of what a Chromium page did, from its DevTools protocol network events (what DevTools' own "Save all as
HAR" is built from): every request with its headers and post data, every response with its body (asked of the
browser with Network.getResponseBody), and every websocket with its frames as Chromium's ``_webSocketMessages``.

The page must have been opened with the Network domain enabled (tests/headless_chromium.py does) and still be open:
the browser keeps response bodies only while it is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from headless_chromium import Page

from conformance.passive.har import har_document

__all__ = ["har_from_cdp"]


def har_from_cdp(page: Page) -> dict[str, Any]:
    page.settle()
    requests: dict[str, dict[str, Any]] = {}
    for event in page.events:
        method, params = event.get("method", ""), event.get("params", {})
        rid = params.get("requestId")
        if method == "Network.requestWillBeSent":
            requests[rid] = {"sent": params, "finished": False}
        elif method == "Network.requestWillBeSentExtraInfo" and rid in requests:
            requests[rid]["extra"] = params
        elif method == "Network.responseReceived" and rid in requests:
            requests[rid]["response"] = params
        elif method in ("Network.loadingFinished", "Network.loadingFailed") and rid in requests:
            requests[rid]["finished"] = method == "Network.loadingFinished"
            requests[rid]["end"] = params["timestamp"]
        elif method == "Network.webSocketCreated":
            requests[rid] = {"socket": params, "frames": []}
        elif method == "Network.webSocketWillSendHandshakeRequest" and rid in requests:
            requests[rid]["handshake"] = params
        elif method in ("Network.webSocketFrameSent", "Network.webSocketFrameReceived") and rid in requests:
            requests[rid]["frames"].append((method.endswith("Sent"), params))
    entries = [_socket(r) if "socket" in r else _exchange(page, rid, r) for rid, r in requests.items()]
    return har_document([e for e in entries if e is not None], creator="Chromium over CDP (tests/cdp_har.py)")


def _exchange(page: Page, rid: str, record: dict[str, Any]) -> dict[str, Any] | None:
    sent, response = record["sent"], record.get("response")
    request = sent["request"]
    if request["url"].startswith("data:") or response is None:
        return None
    headers = {**request.get("headers", {}), **record.get("extra", {}).get("headers", {})}
    post = request.get("postData")
    if post is None and request.get("hasPostData"):
        post = page.send("Network.getRequestPostData", {"requestId": rid}).get("postData")
    content: dict[str, Any] = {"size": 0, "mimeType": response["response"].get("mimeType", "")}
    if record["finished"]:
        body = page.send("Network.getResponseBody", {"requestId": rid})
        content["text"] = body["body"]
        if body.get("base64Encoded"):
            content["encoding"] = "base64"
    reply = response["response"]
    elapsed_ms = (record.get("end", sent["timestamp"]) - sent["timestamp"]) * 1000
    entry: dict[str, Any] = {
        "startedDateTime": _when(sent["wallTime"]),
        "time": elapsed_ms,
        "request": {
            "method": request["method"],
            "url": request["url"],
            "httpVersion": reply.get("protocol", "http/1.1"),
            "cookies": [],
            "headers": [{"name": k, "value": v} for k, v in headers.items()],
            "queryString": [],
            "headersSize": -1,
            "bodySize": len(post or ""),
        },
        "response": {
            "status": reply["status"],
            "statusText": reply.get("statusText", ""),
            "httpVersion": reply.get("protocol", "http/1.1"),
            "cookies": [],
            "headers": [{"name": k, "value": v} for k, v in reply.get("headers", {}).items()],
            "content": content,
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": elapsed_ms, "receive": 0},
    }
    if post is not None:
        entry["request"]["postData"] = {"mimeType": headers.get("Content-Type", ""), "text": post}
    return entry


def _socket(record: dict[str, Any]) -> dict[str, Any] | None:
    handshake = record.get("handshake")
    if handshake is None:
        return None
    started_wall, started = handshake["wallTime"], handshake["timestamp"]
    frames = [
        {
            "type": "send" if sent else "receive",
            "time": started_wall + (params["timestamp"] - started),
            "opcode": params["response"]["opcode"],
            "data": params["response"]["payloadData"],
        }
        for sent, params in record["frames"]
    ]
    return {
        "startedDateTime": _when(started_wall),
        "time": 0,
        "request": {
            "method": "GET",
            "url": record["socket"]["url"],
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [{"name": k, "value": v} for k, v in handshake["request"].get("headers", {}).items()],
            "queryString": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": 101,
            "statusText": "Switching Protocols",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [],
            "content": {"size": 0, "mimeType": "", "text": ""},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 0,
        },
        "cache": {},
        "timings": {"send": 0, "wait": 0, "receive": 0},
        "_resourceType": "websocket",
        "_webSocketMessages": frames,
    }


def _when(wall_time: float) -> str:
    return datetime.fromtimestamp(wall_time, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
