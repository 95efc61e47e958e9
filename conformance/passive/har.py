"""HAR 1.2 files as the passive judge reads them: one ``Entry`` per exchange, redacted on reading.

A HAR (http://www.softwareishard.com/blog/har-12-spec/) is what browsers' developer tools and recording
proxies save. What is read of each entry: the request (method, URL, headers, ``postData.text``), the
response (status, headers, ``content.text``, base64 when ``content.encoding`` says so) and Chromium's
``_webSocketMessages`` (every frame of a websocket, sent or received). A body the HAR does not hold
(browsers leave out some) is ``None``: the judge then says the entry could not be judged, never that the
server sent nothing.

Secrets never leave this module: every exchange goes through the suite's ``Redactor`` (Authorization,
cookies, CSRF tokens, password fields), as the suite's own recordings do. The Basic user name is kept: the
sequence rules are per user.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from conformance.client import Exchange, RecordedRequest, RecordedResponse, Redactor, Response
from conformance.client import _parse_json as parse_json  # how the suite reads every reply
from conformance.results import tool_version

__all__ = [
    "Entry",
    "Frame",
    "HarError",
    "basic_user",
    "entry_from_har",
    "har_document",
    "har_entry",
    "read_har",
    "read_hars",
]


class HarError(Exception):
    """The file is not a HAR the judge can read: one line, said to the person who gave it."""


@dataclass(frozen=True)
class Frame:
    """One websocket frame: ``sent`` by the client or received by it; ``data`` is its text."""

    sent: bool
    at: datetime
    opcode: int
    data: str


@dataclass(frozen=True)
class Entry:
    """One exchange of a HAR: the redacted record (evidence) and what the judge reads."""

    source: str  # "file.har#12": where a person finds it
    exchange: Exchange
    request_body: bytes | None
    response: Response | None  # None: no response recorded (aborted), or its body is not in the HAR
    frames: tuple[Frame, ...] = ()

    @property
    def finished(self) -> datetime:
        return self.exchange.timestamp + timedelta(seconds=self.exchange.elapsed_s)


def read_hars(paths: Iterable[Path], redactor: Redactor | None = None) -> list[Entry]:
    """Every entry of ``paths``, in the order the client had them (files interleave by time): a reply when it
    ended, so a held /meta/connect comes after the /meta/subscribe sent and answered while it was held (the order
    the proxy judges in, live); a websocket from its start, its frames each at its own time."""
    redactor = redactor or Redactor()
    entries = [entry for path in paths for entry in read_har(path, redactor)]
    ordered = sorted(entries, key=lambda e: e.exchange.timestamp if e.frames else e.finished)
    return [_renumbered(entry, seq) for seq, entry in enumerate(ordered, 1)]


def read_har(path: Path, redactor: Redactor) -> list[Entry]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HarError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:
        raise HarError(f"{path}: not JSON ({exc})") from None
    log = document.get("log") if isinstance(document, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise HarError(f"{path}: not a HAR file (no log.entries)")
    found = []
    for index, raw in enumerate(log["entries"]):
        try:
            found.append(entry_from_har(f"{path.name}#{index}", raw, redactor))
        except (KeyError, TypeError, ValueError) as exc:
            raise HarError(f"{path}: entry {index} is not a HAR 1.2 entry ({type(exc).__name__}: {exc})") from None
    return found


def entry_from_har(source: str, raw: Mapping[str, Any], redactor: Redactor, seq: int = 0) -> Entry:
    """One HAR entry (a dict as in the file) as the judge reads it; raises KeyError, TypeError or ValueError when it
    is not a HAR 1.2 entry."""
    request, reply = raw["request"], raw.get("response") or {}
    started = _time(raw["startedDateTime"])
    request_headers = _headers(request.get("headers", ()))
    request_body = _content(request.get("postData") or {}, absent=None)
    user = basic_user(_header(request_headers, "authorization"))
    # A password in the URL or a body is learnt by the redactor when recorded; the Authorization header is
    # replaced outright.
    recorded_request = RecordedRequest(
        method=str(request["method"]).upper(),
        url=redactor.url(str(request["url"])),
        headers=redactor.headers(request_headers),
        body=redactor.body(_text(request_body)) if request_body else None,
    )
    status = int(reply.get("status") or 0)
    response_headers = _headers(reply.get("headers", ()))
    content = _content(reply.get("content") or {})
    recorded_response = None
    error = None
    if status > 0:
        recorded_response = RecordedResponse(
            status_code=status,
            headers=redactor.headers(response_headers),
            body=redactor.body(_text(content)) if content else None,
        )
    else:
        error = str(reply.get("_error") or "no response recorded")
    elapsed = max(float(raw.get("time") or 0), 0.0) / 1000
    exchange = Exchange(
        seq=seq,
        timestamp=started,
        elapsed_s=elapsed,
        role="",
        user=user,
        password_env=None,
        request=recorded_request,
        response=recorded_response,
        error=error,
    )
    response = None
    if status > 0 and content is not None:
        body, is_json = parse_json(content)
        response = Response(exchange, status, httpx.Headers(response_headers), content, body, is_json)
    frames = tuple(_frames(raw.get("_webSocketMessages") or ()))
    return Entry(source, exchange, request_body, response, frames)


def _renumbered(entry: Entry, seq: int) -> Entry:
    exchange = Exchange(**{**entry.exchange.__dict__, "seq": seq})
    response = entry.response
    if response is not None:
        response = Response(
            exchange, response.status_code, response.headers, response.content, response.json_body, response.is_json
        )
    return Entry(entry.source, exchange, entry.request_body, response, entry.frames)


def _time(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _headers(raw: Iterable[Any]) -> list[tuple[str, str]]:
    # HTTP/2 pseudo-headers (":authority") are how Chromium shows the request line, not headers.
    return [(str(h["name"]), str(h["value"])) for h in raw if not str(h["name"]).startswith(":")]


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


def _content(content: Mapping[str, Any], absent: bytes | None = b"") -> bytes | None:
    """A response's content or a request's postData as bytes. ``encoding: base64`` is HAR 1.2's for content; a
    recording proxy that keeps a binary request body exactly (this one) writes it on postData too."""
    text = content.get("text")
    if not isinstance(text, str):
        return absent if content.get("size") == 0 else None
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("content.text is not the base64 its encoding says") from None
    return text.encode("utf-8")


def _text(content: bytes | None) -> str:
    return (content or b"").decode("utf-8", errors="replace")


def _frames(raw: Iterable[Any]) -> Iterator[Frame]:
    for frame in raw:
        at = datetime.fromtimestamp(float(frame["time"]), UTC)
        yield Frame(sent=frame["type"] == "send", at=at, opcode=int(frame.get("opcode", 1)), data=str(frame["data"]))


def basic_user(authorization: str | None) -> str | None:
    """The user name of Basic credentials (None: no Basic credentials, or none that decode)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return None
    user, colon, _ = decoded.partition(":")
    return user if colon else None


# -- writing ------------------------------------------------------------------------------------------------


def har_entry(
    *,
    started: datetime,
    elapsed_s: float,
    method: str,
    url: str,
    http_version: str,
    request_headers: Iterable[tuple[str, str]],
    request_body: bytes | None,
    status: int,
    reason: str,
    response_headers: Iterable[tuple[str, str]],
    response_body: bytes | None,
    frames: Iterable[Frame] = (),
) -> dict[str, Any]:
    """One HAR 1.2 entry, as a recording proxy writes it: bodies exactly as sent (base64 when not UTF-8)."""
    request_headers, response_headers = list(request_headers), list(response_headers)
    entry: dict[str, Any] = {
        # Microseconds, not the milliseconds a browser writes: entries are ordered by when the client had them
        # (start + time), and a start cut to the millisecond put a reply that came at once (a /meta/connect advised
        # timeout 0) before the one the client had just read (GWS-NOTIF-007 failed a correct recording, under load).
        "startedDateTime": started.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "time": round(elapsed_s * 1000, 3),
        "request": {
            "method": method,
            "url": url,
            "httpVersion": http_version,
            "cookies": [],
            "headers": [{"name": n, "value": v} for n, v in request_headers],
            "queryString": [{"name": n, "value": v} for n, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
            "headersSize": -1,
            "bodySize": len(request_body or b""),
        },
        "response": {
            "status": status,
            "statusText": reason,
            "httpVersion": http_version,
            "cookies": [],
            "headers": [{"name": n, "value": v} for n, v in response_headers],
            "content": {
                "size": len(response_body or b""),
                "mimeType": _header(response_headers, "content-type") or "",
                **_body_fields(response_body),
            },
            "redirectURL": _header(response_headers, "location") or "",
            "headersSize": -1,
            "bodySize": len(response_body or b""),
        },
        "cache": {},
        "timings": {"send": 0, "wait": round(elapsed_s * 1000, 3), "receive": 0},
    }
    if request_body:
        mime = _header(request_headers, "content-type") or ""
        entry["request"]["postData"] = {"mimeType": mime, "params": [], **_body_fields(request_body)}
    recorded_frames = [
        {"type": "send" if f.sent else "receive", "time": f.at.timestamp(), "opcode": f.opcode, "data": f.data}
        for f in frames
    ]
    if recorded_frames:
        entry["_resourceType"] = "websocket"
        entry["_webSocketMessages"] = recorded_frames
    return entry


def har_document(entries: Iterable[dict[str, Any]], creator: str = "gws-conformance") -> dict[str, Any]:
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": creator, "version": tool_version()},
            "pages": [],
            "entries": list(entries),
        }
    }


def _body_fields(body: bytes | None) -> dict[str, str]:
    if not body:
        return {"text": ""}
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": base64.b64encode(body).decode("ascii"), "encoding": "base64"}
