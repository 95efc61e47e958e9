"""The HTTP client the suite talks to a target with, and the record of everything it said.

``GwsClient`` is one user's session: Basic auth on every request (the reference's only scheme), a
cookie jar, the CSRF token a server issues in ``X-CSRF-HEADER`` / ``X-CSRF-TOKEN`` sent back on
POST/PUT/DELETE, and a deadline on every exchange. Every exchange — answered or not — lands in a
``Recorder`` shared by all clients (and the notification listeners), so a failure can show what
was sent, what came back, and a curl command that repeats it.

Secrets are removed when an exchange is *recorded*, not when it is printed: nothing kept in a
Recorder holds a password, an Authorization header, a cookie value or a CSRF token.

A connection the target (or a middlebox) closed while it sat idle in the pool is the one network failure
that is nobody's fault: the client sent its request just as the server's keep-alive timer expired, and
the close was still on its way (the wider the round trip, the wider that window; at 50 ms a run met it
on one request in a few hundred). RFC 9112 section 9.3.1 lets a client retry such a request
automatically when it is idempotent; the suite retries once, and only a safe method (GET, HEAD,
OPTIONS; see ``RETRIED_METHODS`` for why not PUT and DELETE), only on a *reused* connection, only when
the close came before any response head. A fresh connection closed without an answer was seen by the
server (nothing else closes a connection a moment old), so it is the target's failure and never
retried; so is a second close in a row. The attempt given up is recorded like any other exchange, its
error saying it was retried, so the evidence shows both.

The client is synchronous on purpose: tests, scenarios and schemathesis calls run synchronously
in pytest, and one code path per user keeps the CSRF/cookie state in one place. The CometD
listeners run their own event loop; the Recorder is thread-safe so they can share it.
"""

from __future__ import annotations

import bisect
import collections
import functools
import json
import os
import re
import shlex
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import httpx

from conformance.config import REDACTED, Credentials, Settings, is_insecure, redact_url
from conformance.errors import (
    SuiteError,
    TargetError,
    TargetProtocolError,
    TargetTimeout,
    TargetUnreachable,
)
from conformance.keepalive import KEEPALIVE_EXPIRY_S, RETRIED_METHODS, ConnectionTrace, StaleConnection

__all__ = [
    "Exchange",
    "GwsClient",
    "RecordedRequest",
    "RecordedResponse",
    "Recorder",
    "Redactor",
    "Response",
    "environment_proxy",
    "tls_context",
]

UNSAFE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
DEFAULT_CSRF_HEADER = "X-CSRF-TOKEN"
# Evidence stays readable and reports stay small; the size of what was cut is noted.
MAX_RECORDED_BODY = 64 * 1024
# State changes the recorder remembers (start, end), to find the one a notification followed: a few scenarios' worth.
RECENT_CHANGES = 256
# Free-text scrubbing of known secret values: shorter values would mangle ordinary words.
MIN_SCRUBBED_SECRET = 4

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-csrf-token"})
_SECRET_FIELDS = frozenset({"password", "oldpassword", "newpassword"})
_SECRET_FIELD_IN_TEXT = re.compile(
    r'("(?:password|oldPassword|newPassword)"\s*:\s*")((?:[^"\\]|\\.)*)(")', re.IGNORECASE
)
_SECRET_FIELD_IN_FORM = re.compile(r"\b((?:password|oldPassword|newPassword)=)([^&\s]*)()", re.IGNORECASE)
_COOKIE_PAIR = re.compile(r"(^|;\s*)([^=;\s]+)=[^;]*")
# Headers curl computes itself, or that only mean something inside the recorded session.
_CURL_SKIPPED_HEADERS = frozenset(
    {"host", "content-length", "accept-encoding", "connection", "user-agent", "authorization", "cookie"}
)


class Redactor:
    """Removes secrets from headers, URLs and bodies before anything is recorded."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        # Longest first, so no fragment of a longer secret survives. Sorted when a secret is learnt, not for
        # each of the dozen texts (URL, headers, bodies) every exchange records.
        self._longest_first: tuple[str, ...] = ()
        self._secret_headers: set[str] = set(_SECRET_HEADERS)
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, value: str | None) -> None:
        if value and len(value) >= MIN_SCRUBBED_SECRET:
            # The same value inside a JSON string (a server echoing a request) is escaped.
            learnt = {value, json.dumps(value, ensure_ascii=False)[1:-1]} - self._secrets
            if learnt:
                self._secrets |= learnt
                self._longest_first = tuple(sorted(self._secrets, key=len, reverse=True))

    def add_secret_header(self, name: str) -> None:
        self._secret_headers.add(name.lower())

    def text(self, text: str) -> str:
        """``text`` with every known secret value replaced (longest first, so no fragment survives)."""
        for secret in self._longest_first:
            text = text.replace(secret, REDACTED)
        return text

    def url(self, url: str) -> str:
        url = redact_url(url)
        parts = urlsplit(url)
        if parts.query:
            query = [
                (key, REDACTED if key.lower() in _SECRET_FIELDS else value)
                for key, value in parse_qsl(parts.query, keep_blank_values=True)
            ]
            url = urlunsplit(parts._replace(query=urlencode(query, safe="*")))
        return self.text(url)

    def headers(self, headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        return tuple((name, self._header_value(name, value)) for name, value in headers)

    def _header_value(self, name: str, value: str) -> str:
        lowered = name.lower()
        if lowered in ("cookie", "set-cookie"):
            # Keep cookie names (they tell which session mechanism the target uses), drop values.
            # A Cookie header is all name=value pairs; in Set-Cookie only the first pair is the cookie.
            return _COOKIE_PAIR.sub(
                lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}", value, count=1 if lowered == "set-cookie" else 0
            )
        if lowered in self._secret_headers:
            scheme = value.split(" ", 1)[0] if lowered.endswith("authorization") and " " in value else None
            return f"{scheme} {REDACTED}" if scheme else REDACTED
        return self.text(value)

    def body(self, text: str) -> str:
        """``text`` without password fields; their values are learnt, so an echo elsewhere is scrubbed too."""
        try:
            cleaned, changed = self._redact_fields(json.loads(text))
            if changed:
                text = json.dumps(cleaned, ensure_ascii=False)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python recurses (hostile input)
            # Malformed JSON (a fuzzer's favourite) and form bodies can still carry a password.
            text = _SECRET_FIELD_IN_TEXT.sub(self._redact_match, text)
            text = _SECRET_FIELD_IN_FORM.sub(self._redact_match, text)
        return self.text(text)

    def _redact_match(self, match: re.Match[str]) -> str:
        self.add_secret(match.group(2))
        return f"{match.group(1)}{REDACTED}{match.group(3)}"

    def _redact_fields(self, document: Any) -> tuple[Any, bool]:
        if isinstance(document, dict):
            changed = False
            cleaned: dict[str, Any] = {}
            for key, value in document.items():
                if isinstance(key, str) and key.lower() in _SECRET_FIELDS and value is not None:
                    if isinstance(value, str):
                        self.add_secret(value)
                    cleaned[key], changed = REDACTED, True
                else:
                    cleaned[key], inner = self._redact_fields(value)
                    changed = changed or inner
            return cleaned, changed
        if isinstance(document, list):
            results = [self._redact_fields(item) for item in document]
            return [item for item, _ in results], any(inner for _, inner in results)
        return document, False


def _body_text(content: bytes, content_type: str | None) -> str | None:
    if not content:
        return None
    clipped = content[:MAX_RECORDED_BODY]
    try:
        text = clipped.decode("utf-8")
    except UnicodeDecodeError as exc:
        if (content_type or "").lower().startswith("multipart/"):
            # The part headers are the evidence (names, file names); a binary file part is not.
            text = clipped.decode("utf-8", errors="replace")
        elif exc.start < len(clipped) - 3:  # not merely a character cut in half by the clip
            return f"<{len(content)} bytes, not UTF-8 text>"
        else:
            text = clipped[: exc.start].decode("utf-8")
    if len(content) > MAX_RECORDED_BODY:
        text += f"\n…[truncated: {len(content)} bytes in all]"
    return text


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: str | None

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


@dataclass(frozen=True)
class RecordedResponse:
    status_code: int
    headers: tuple[tuple[str, str], ...]
    body: str | None

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its response or transport error, already redacted."""

    seq: int  # position in the Recorder: orders HTTP exchanges and notifications on one line
    timestamp: datetime  # when the request was sent (UTC)
    elapsed_s: float
    role: str  # configured role ("agent1"), empty for ad-hoc credentials
    user: str | None  # the Basic-auth user name, None for an unauthenticated request
    password_env: str | None  # the variable that holds the password, for the curl command
    request: RecordedRequest
    response: RecordedResponse | None
    error: str | None = None  # why the exchange failed below the API level, if it did

    kind = "http"

    def to_curl(self) -> str:
        """A shell command that repeats the request; the password is read from its GWS_* variable.

        Cookies and the CSRF token belong to the recorded session and are left out: Basic auth on
        every request is enough for the reference's API, and a server enforcing CSRF issues a new
        token to the replayed session.
        """
        request = self.request
        words = ["curl", "-sS", "-i", "-X", shlex.quote(request.method), shlex.quote(request.url)]
        if self.user is not None:
            if self.password_env:
                # Double quotes so the shell expands the variable; the user name is escaped for them.
                escaped = re.sub(r'([\\"$`])', r"\\\1", self.user)
                words += ["-u", f'"{escaped}:${self.password_env}"']
            else:
                words += ["-u", shlex.quote(f"{self.user}:{REDACTED}")]
        content_type = request.header("content-type") or ""
        multipart = content_type.lower().startswith("multipart/form-data")
        for name, value in request.headers:
            lowered = name.lower()
            if lowered in _CURL_SKIPPED_HEADERS or value == REDACTED or (multipart and lowered == "content-type"):
                continue
            words += ["-H", shlex.quote(f"{name}: {value}")]
        if request.body is not None:
            if multipart:
                words += _curl_form_parts(request.body)
            else:
                words += ["--data-raw", shlex.quote(request.body)]
        return " ".join(words)

    def summary(self) -> str:
        outcome = str(self.response.status_code) if self.response else f"no response ({self.error})"
        who = f"{self.role or 'ad-hoc'}:{self.user}" if self.user is not None else "anonymous"
        when = self.timestamp.isoformat(timespec="milliseconds")
        request = f"{self.request.method} {self.request.url}"
        return f"#{self.seq} {when} {who} {request} -> {outcome} in {self.elapsed_s:.3f} s"

    def render(self) -> str:
        """The exchange as it went over the wire (redacted), for failure reports."""
        lines = [self.summary(), f"> {self.request.method} {self.request.url}"]
        lines += [f"> {name}: {value}" for name, value in self.request.headers]
        if self.request.body is not None:
            lines += [">"] + [f"> {line}" for line in self.request.body.splitlines()]
        if self.response is not None:
            lines.append(f"< HTTP {self.response.status_code}")
            lines += [f"< {name}: {value}" for name, value in self.response.headers]
            if self.response.body is not None:
                lines += ["<"] + [f"< {line}" for line in self.response.body.splitlines()]
        if self.error is not None:
            lines.append(f"! {self.error}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "seq": self.seq,
            "timestamp": self.timestamp.isoformat(),
            "elapsed_s": round(self.elapsed_s, 6),
            "role": self.role,
            "user": self.user,
            "request": {
                "method": self.request.method,
                "url": self.request.url,
                "headers": [list(h) for h in self.request.headers],
                "body": self.request.body,
            },
            "response": None
            if self.response is None
            else {
                "status_code": self.response.status_code,
                "headers": [list(h) for h in self.response.headers],
                "body": self.response.body,
            },
            "error": self.error,
            "curl": self.to_curl(),
        }


def _curl_form_parts(body: str) -> list[str]:
    words: list[str] = []
    for match in re.finditer(r'Content-Disposition:\s*form-data;\s*name="([^"]*)"(?:;\s*filename="([^"]*)")?', body):
        name, filename = match.group(1), match.group(2)
        words += ["-F", shlex.quote(f"{name}=@{filename}" if filename is not None else f"{name}=<value>")]
    return words


class Recorder:
    """The ordered, thread-safe record of a run: HTTP exchanges (and notification records, via ``add``)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.redactor = Redactor(secrets)
        self._lock = threading.Lock()
        self._records: list[Any] = []
        self._last_seq = 0
        self._last_change: float | None = None
        self._changes: collections.deque[tuple[float, float]] = collections.deque(maxlen=RECENT_CHANGES)

    def next_seq(self) -> int:
        """The next position; taken when a request is sent (or a message received), so order is real order."""
        with self._lock:
            self._last_seq += 1
            return self._last_seq

    def add(self, record: Any) -> None:
        """Keep ``record`` (an Exchange, or any record with ``seq`` and ``to_dict()``), in ``seq`` order."""
        with self._lock:
            bisect.insort(self._records, record, key=lambda r: r.seq)
            if isinstance(record, Exchange) and record.request.method in UNSAFE_METHODS:
                self._last_change = time.monotonic()
                self._changes.append((self._last_change - record.elapsed_s, self._last_change))

    def note_change(self) -> None:
        """Something the recorder does not see may have changed the target's state now (a stimulus)."""
        with self._lock:
            self._last_change = time.monotonic()
            self._changes.append((self._last_change, self._last_change))

    def change_before(self, moment: float) -> float | None:
        """When (time.monotonic) the latest change that started before ``moment`` ended: what a notification
        received at ``moment`` most likely followed (conformance.delivery); None when none is remembered."""
        with self._lock:
            started_before = [end for start, end in self._changes if start <= moment]
        return started_before[-1] if started_before else None

    @property
    def last_change_monotonic(self) -> float | None:
        """When (time.monotonic) the latest request that may have changed the target's state ended: an
        exchange with an unsafe method (a GET is safe by HTTP's definition: it changes nothing, so it causes no
        message), or a stimulus; None before the first."""
        with self._lock:
            return self._last_change

    @property
    def records(self) -> tuple[Any, ...]:
        with self._lock:
            return tuple(self._records)

    @property
    def exchanges(self) -> tuple[Exchange, ...]:
        return tuple(r for r in self.records if isinstance(r, Exchange))

    def mark(self) -> int:
        """A position to ask ``since`` about: what happened during one test step."""
        with self._lock:
            return self._last_seq

    def since(self, mark: int) -> tuple[Any, ...]:
        # The records are in seq order, so what came after ``mark`` is a tail: found by bisection, not by
        # copying and scanning the whole run's records for every test that asks (the journal asks for each).
        with self._lock:
            return tuple(self._records[bisect.bisect_right(self._records, mark, key=lambda r: r.seq) :])

    def to_jsonl(self) -> str:
        return "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in self.records)

    def write_jsonl(self, path: Path) -> None:
        path.write_text(self.to_jsonl(), encoding="utf-8")


@dataclass(frozen=True)
class Response:
    """A target's answer: what checks read. ``json_body`` is None when the body is not JSON.

    ``is_json`` says whether the body parses as JSON, whatever its Content-Type claims: the suite reads every
    body it can. The label is judged on its own, by the json_content_type check (GWS-GEN-028), with
    ``conformance.checks.http.is_json_media_type``.
    """

    exchange: Exchange
    status_code: int
    headers: httpx.Headers
    content: bytes
    json_body: Any = field(default=None)
    is_json: bool = False

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    @property
    def status_code_field(self) -> int | None:
        """The body's ``statusCode`` when it is an integer, else None."""
        body = self.json_body
        value = body.get("statusCode") if isinstance(body, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None


def tls_context() -> ssl.SSLContext:
    """The TLS context every client of the suite uses (httpx's ``verify``, the listeners' ``ssl``), made once.

    httpx's default (certifi, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), unless ``GWS_CA_BUNDLE`` names the CA
    certificates to trust (a private CA) or ``GWS_INSECURE`` turns verification off (the run then says so
    loudly: conformance.config.insecure_warning). Read from the environment, which the CLI hands its test
    processes, so that no caller needs the settings to make a client. Loading the CA bundle costs ~20 ms per
    client, and a run makes hundreds of clients (one per user session): hence once.
    """
    return _tls_context(os.environ.get("GWS_CA_BUNDLE") or None, is_insecure(os.environ))


@functools.cache
def _tls_context(ca_bundle: str | None, insecure: bool) -> ssl.SSLContext:
    if insecure:
        return httpx.create_ssl_context(verify=False)
    if ca_bundle is not None:
        return ssl.create_default_context(cafile=ca_bundle)
    return httpx.create_ssl_context()


@dataclass(frozen=True)
class Proxy:
    url: str  # http://host:port, without credentials
    credentials: tuple[str, str] | None  # user and password, for Proxy-Authorization


def environment_proxy(url: str) -> Proxy | None:
    """The proxy the environment names for ``url``, as httpx picks one for the suite's REST requests:
    ``HTTPS_PROXY`` for https, ``HTTP_PROXY`` for http, ``ALL_PROXY`` for either, none for a host ``NO_PROXY``
    names (None: direct). For the clients that are not httpx: the CometD listeners (aiohttp, whose own
    ``trust_env`` reads a wss URL's proxy from ``WSS_PROXY`` only, and adds a ``~/.netrc`` login to requests that
    carry their own Authorization, which it then refuses) and the raw connections of the hostile cases."""
    target = urlsplit(url)
    if not target.hostname or urllib.request.proxy_bypass(target.hostname):
        return None
    proxies = urllib.request.getproxies()
    named = proxies.get(target.scheme) or proxies.get("all")
    if not named:
        return None
    proxy = urlsplit(named if "://" in named else f"http://{named}")
    address = proxy.hostname or ""
    if proxy.port is not None:
        address = f"{address}:{proxy.port}"
    credentials = None if proxy.username is None else (unquote(proxy.username), unquote(proxy.password or ""))
    return Proxy(f"{proxy.scheme}://{address}", credentials)


class _DeadlineExceeded(Exception):
    pass


class GwsClient:
    """One user's session with the target. Use as a context manager, or call ``close()``."""

    def __init__(
        self,
        settings: Settings,
        user: Credentials,
        transport: httpx.BaseTransport | None = None,
        recorder: Recorder | None = None,
        *,
        charset: str = "utf-8",
    ) -> None:
        """``charset``: how user:password is encoded for Basic (RFC 7617 leaves it open; E89: some clients send
        ISO-8859-1)."""
        self.settings = settings
        self.user = user
        self.recorder = recorder if recorder is not None else Recorder(settings.secret_values())
        self.recorder.redactor.add_secret(user.password)
        self._csrf_header = DEFAULT_CSRF_HEADER
        self._csrf_token: str | None = None
        auth = None
        if user.password is not None:
            auth = httpx.BasicAuth(user.user.encode(charset), user.password.encode(charset))
        self._http = httpx.Client(
            base_url=settings.base_url,
            auth=auth,
            transport=transport,
            verify=tls_context(),
            timeout=httpx.Timeout(settings.request_timeout_s),
            # A redirect is an answer worth judging, not something to follow silently.
            follow_redirects=False,
            headers={"Accept": "application/json"},
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_S),
        )

    def __enter__(self) -> GwsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._http.cookies

    @property
    def csrf_token(self) -> str | None:
        return self._csrf_token

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Response:
        return self.request("DELETE", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        expect_json: bool = True,
    ) -> Response:
        """Send one request; ``url`` is relative to the base URL ("/me") or absolute (a returned URI).

        Raises TargetUnreachable / TargetTimeout / TargetProtocolError (after recording the attempt)
        when no usable answer arrives — including a body that is not JSON when ``expect_json``
        (every GWS method answers JSON; only a 401 may come without a JSON body, E12).
        """
        method = method.upper()
        extra_headers = dict(headers or {})
        if method in UNSAFE_METHODS and self.settings.csrf != "off":
            if self._csrf_token is None and self.settings.csrf == "on":
                self._prime_csrf()
            if self._csrf_token is not None:
                extra_headers.setdefault(self._csrf_header, self._csrf_token)
        attempt = _Attempt(self.recorder.next_seq(), datetime.now(UTC), time.monotonic())
        try:
            request = self._http.build_request(
                method, url, params=params, json=json, content=content, files=files, data=data, headers=extra_headers
            )
        except httpx.InvalidURL as exc:
            if not url.lower().startswith(("http://", "https://")):
                raise SuiteError(f"the suite built an invalid URL {url!r}: {exc}") from exc
            recorded = RecordedRequest(method, self.recorder.redactor.url(url), (), None)
            self._fail(
                TargetProtocolError, f"TargetProtocolError: invalid URL from the target: {exc}", recorded, attempt
            )
        request.read()  # the exact bytes, multipart included, go into the record
        try:
            raw, content_bytes = self._send(request, attempt, retry=True)
        except StaleConnection:  # the pool's connection had been closed under the request: once more, anew
            attempt = _Attempt(self.recorder.next_seq(), datetime.now(UTC), time.monotonic())
            raw, content_bytes = self._send(request, attempt, retry=False)

        self._capture_csrf(raw.headers)  # first, so a newly named token header is redacted below
        json_body, is_json = _parse_json(content_bytes)
        error = None
        # A 401 may come from a servlet container's own page, without JSON (E12): the checks judge it.
        if expect_json and not is_json and raw.status_code != 401:
            content_type = raw.headers.get("content-type", "absent")
            error = f"TargetProtocolError: the body is not JSON (HTTP {raw.status_code}, Content-Type {content_type!r})"
        exchange = self._record(
            self._recorded_request(request), self._recorded_response(raw, content_bytes), attempt, error
        )
        if error is not None:
            raise TargetProtocolError(exchange.error or error, exchange)
        return Response(exchange, raw.status_code, raw.headers, content_bytes, json_body, is_json)

    def _send(self, request: httpx.Request, attempt: _Attempt, *, retry: bool) -> tuple[httpx.Response, bytes]:
        """The answer and its body. Raises StaleConnection when ``retry`` and the request met a stale pooled
        connection and may be sent again (the attempt is recorded as retried); a TargetError after recording
        any other failure."""
        trace = ConnectionTrace()
        request.extensions["trace"] = trace
        try:
            raw = self._http.send(request, stream=True)
            try:
                return raw, self._read_within_deadline(raw, attempt.started)
            finally:
                raw.close()
        except _DeadlineExceeded:
            message = f"TargetTimeout: the answer took longer than {self.settings.request_timeout_s} s"
            self._fail(TargetTimeout, message, self._recorded_request(request), attempt)
        except httpx.TimeoutException as exc:
            message = f"TargetTimeout: no answer within {self.settings.request_timeout_s} s ({type(exc).__name__})"
            self._fail(TargetTimeout, message, self._recorded_request(request), attempt)
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:  # refused, reset, lost, closed unanswered
            # A peer that closed without answering is a protocol error, as before this retry existed.
            kind: type[TargetError] = TargetUnreachable if isinstance(exc, httpx.NetworkError) else TargetProtocolError
            message = f"{kind.__name__}: {type(exc).__name__}: {exc}"
            stale = trace.stale_connection(exc)
            if stale and retry and request.method in RETRIED_METHODS:
                note = "; retried on a new connection (a reused keep-alive connection closed before any answer)"
                self._record(self._recorded_request(request), None, attempt, message + note)
                raise StaleConnection from None
            if stale:
                message += (
                    " (on a reused keep-alive connection, before any answer: the target may never have seen it; "
                    + (f"{request.method} is not retried)" if retry else "already retried once)")
                )
            self._fail(kind, message, self._recorded_request(request), attempt)
        except httpx.HTTPError as exc:  # protocol, decoding, redirect-loop and scheme errors
            message = f"TargetProtocolError: {type(exc).__name__}: {exc}"
            self._fail(TargetProtocolError, message, self._recorded_request(request), attempt)

    def _read_within_deadline(self, raw: httpx.Response, started: float) -> bytes:
        # httpx's timeouts bound each read; a server dripping bytes would never trip them, so the
        # whole exchange is held to request_timeout_s here.
        chunks: list[bytes] = []
        for chunk in raw.iter_bytes():
            chunks.append(chunk)
            if time.monotonic() - started > self.settings.request_timeout_s:
                raise _DeadlineExceeded
        return b"".join(chunks)

    def _prime_csrf(self) -> None:
        response = self.request("GET", "/me", expect_json=False)
        if self._csrf_token is None:
            raise TargetProtocolError(
                "GWS_CSRF=on, but the target issued no CSRF token (X-CSRF-HEADER / X-CSRF-TOKEN) on GET /me",
                response.exchange,
            )

    def _capture_csrf(self, headers: httpx.Headers) -> None:
        # X-CSRF-HEADER names the header to send back; X-CSRF-TOKEN (or the named header) holds the value.
        named = headers.get("X-CSRF-HEADER")
        if named and named.strip():
            self._csrf_header = named.strip()
            self.recorder.redactor.add_secret_header(self._csrf_header)
        token = headers.get(self._csrf_header) or headers.get(DEFAULT_CSRF_HEADER)
        if token:
            self._csrf_token = token
            self.recorder.redactor.add_secret(token)

    def _recorded_request(self, request: httpx.Request) -> RecordedRequest:
        redactor = self.recorder.redactor
        body = _body_text(request.content, request.headers.get("content-type"))
        return RecordedRequest(
            method=request.method,
            url=redactor.url(str(request.url)),
            headers=redactor.headers(_raw_headers(request.headers)),
            body=redactor.body(body) if body is not None else None,
        )

    def _recorded_response(self, raw: httpx.Response, content: bytes) -> RecordedResponse:
        redactor = self.recorder.redactor
        body = _body_text(content, raw.headers.get("content-type"))
        return RecordedResponse(
            status_code=raw.status_code,
            headers=redactor.headers(_raw_headers(raw.headers)),
            body=redactor.body(body) if body is not None else None,
        )

    def _record(
        self, request: RecordedRequest, response: RecordedResponse | None, attempt: _Attempt, error: str | None
    ) -> Exchange:
        exchange = Exchange(
            seq=attempt.seq,
            timestamp=attempt.timestamp,
            elapsed_s=time.monotonic() - attempt.started,
            role=self.user.role,
            user=self.user.user if self.user.password is not None else None,
            password_env=self.user.password_env,
            request=request,
            response=response,
            error=self.recorder.redactor.text(error) if error is not None else None,
        )
        self.recorder.add(exchange)
        return exchange

    def _fail(self, kind: type[TargetError], message: str, request: RecordedRequest, attempt: _Attempt) -> NoReturn:
        exchange = self._record(request, None, attempt, message)
        # "from None": the httpx exception is summarised in the message; callers never see httpx types.
        raise kind(exchange.error or message, exchange) from None


@dataclass(frozen=True)
class _Attempt:
    seq: int
    timestamp: datetime
    started: float


def _raw_headers(headers: httpx.Headers) -> list[tuple[str, str]]:
    # As sent and received: original casing and order, which is what evidence should show.
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers.raw]


def _parse_json(content: bytes) -> tuple[Any, bool]:
    if not content.strip():
        return None, False
    try:
        return json.loads(content), True
    except (ValueError, RecursionError):  # nested deeper than Python's parser goes: no document a check can read
        return None, False
