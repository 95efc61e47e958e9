"""pytest plugin: what each test did on the wire, for the report's timelines and contract coverage.

Loaded by ``gws-conformance run`` (``-p conformance.reporting.journal --gws-journal DIR``) where the
tests run — in each pytest-xdist worker, or in the one pytest process. After each test it appends one
JSON line to ``DIR/<worker>.jsonl``:

    {"nodeid", "worker", "outcome", "operations": [...], "notifications": [...],
     "http_count", "notification_count", "started", "ended",      # started, ended: wall clock (time.time)
     "waited_for_accounts_s", "settling_s",                       # only when the test waited for accounts
     "timeline": [...]}                                           # timeline: only when the test did not pass

``operations`` are the declared operations the test's HTTP exchanges were (conformance.reporting.coverage),
``notifications`` the notification kinds its users' listeners received meanwhile. The timeline is the
test's HTTP exchanges and notifications in time order (the last ``TIMELINE_LIMIT``), already redacted —
it comes from the run's Recorder and listeners, which never hold a secret.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conformance.reporting.coverage import operation_key

__all__ = ["TIMELINE_LIMIT", "timeline_entry_of_exchange", "timeline_entry_of_notification"]

TIMELINE_LIMIT = 150
_SEVERITY = {"passed": 0, "skipped": 1, "not_applicable": 1, "needs_stimulus": 1, "warning": 2, "failed": 3, "error": 3}
_QUIET_OUTCOMES = frozenset({"passed", "skipped", "not_applicable", "needs_stimulus", "xfailed", "xpassed"})
_STATE_KEY = pytest.StashKey["_Journal"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("gws").addoption(
        "--gws-journal",
        metavar="DIR",
        dest="gws_journal",
        help="Write what each test did (operations, notification kinds, timeline) as JSON lines under DIR.",
    )


def pytest_configure(config: pytest.Config) -> None:
    directory = config.getoption("gws_journal", None)
    # Under pytest-xdist the controller runs no test: only workers (and a plain run) keep a journal.
    controller = getattr(config.option, "dist", "no") != "no" and not hasattr(config, "workerinput")
    if not directory or controller:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    path = Path(config.invocation_params.dir, directory, f"{worker}.jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("", encoding="utf-8")
    journal = _Journal(config, path, worker)
    config.stash[_STATE_KEY] = journal
    config.pluginmanager.register(journal, "gws-journal")


class _Journal:
    def __init__(self, config: pytest.Config, path: Path, worker: str) -> None:
        self.config = config
        self.path = path
        self.worker = worker
        self._http_mark = 0
        self._listener_marks: dict[str, int] = {}
        self._outcome = "passed"
        self._started = 0.0
        self._handover_marks = (0.0, 0.0)

    def _session(self) -> Any | None:
        from conformance import plugin
        from conformance.fixtures import gws_session

        return gws_session(self.config) if plugin.active(self.config) else None

    def _listeners(self) -> dict[str, Any]:
        session = self._session()
        pool = session.existing("listeners") if session is not None else None
        return dict(pool.started()) if pool is not None else {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        session = self._session()
        self._http_mark = session.recorder.mark() if session is not None else 0
        self._listener_marks = {role: listener.mark() for role, listener in self._listeners().items()}
        self._outcome = "passed"
        self._started = time.time()
        self._handover_marks = self._handover()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "gws", None)
        outcome = data.get("outcome") if isinstance(data, dict) else report.outcome
        if _SEVERITY.get(str(outcome), 0) > _SEVERITY.get(self._outcome, 0):
            self._outcome = str(outcome)

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        session = self._session()
        if session is None:
            return
        exchanges = [r for r in session.recorder.since(self._http_mark) if getattr(r, "kind", None) == "http"]
        notifications = [
            record
            for role, listener in self._listeners().items()
            for record in listener.records(after=self._listener_marks.get(role, 0))
        ]
        base_path = urlsplit(session.settings.base_url).path
        operations = sorted(
            {
                key
                for exchange in exchanges
                if (
                    key := operation_key(
                        exchange.request.method, exchange.request.url, exchange.request.body, base_path
                    )
                )
            }
        )
        entry: dict[str, Any] = {
            "nodeid": nodeid,
            "worker": self.worker,
            "outcome": self._outcome,
            "operations": operations,
            "notifications": sorted({kind for record in notifications if (kind := _kind(record))}),
            "http_count": len(exchanges),
            "notification_count": len(notifications),
            "started": round(self._started, 3),
            "ended": round(time.time(), 3),
        }
        waited, settled = (
            round(now - mark, 3) for now, mark in zip(self._handover(), self._handover_marks, strict=True)
        )
        if waited or settled:
            entry["waited_for_accounts_s"], entry["settling_s"] = waited, settled
        if self._outcome not in _QUIET_OUTCOMES:
            entry["timeline"] = _timeline(exchanges, notifications, base_path)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")

    def _handover(self) -> tuple[float, float]:
        """This process's seconds so far waiting for accounts, and for their previous holders' messages to settle."""
        session = self._session()
        locks = session.existing("account-locks") if session is not None else None
        return (locks.waited_s, locks.settled_s) if locks is not None else (0.0, 0.0)


def _kind(record: Any) -> str | None:
    from conformance.notifications import classify

    return classify(record.topic, record.data)


def _timeline(exchanges: Iterable[Any], notifications: Iterable[Any], base_path: str) -> list[dict[str, Any]]:
    entries = [timeline_entry_of_exchange(e, base_path) for e in exchanges]
    entries += [timeline_entry_of_notification(n) for n in notifications]
    entries.sort(key=lambda e: e["at"])
    if len(entries) > TIMELINE_LIMIT:
        omitted = len(entries) - TIMELINE_LIMIT
        entries = [{"kind": "omitted", "at": entries[0]["at"], "count": omitted}, *entries[-TIMELINE_LIMIT:]]
    return entries


def timeline_entry_of_exchange(exchange: Any, base_path: str) -> dict[str, Any]:
    """One HTTP exchange (conformance.client.Exchange) as a timeline line."""
    request, response = exchange.request, exchange.response
    status_code = None
    if response is not None and response.body:
        try:
            body = json.loads(response.body)
        except (ValueError, RecursionError):  # RecursionError: nested too deep to read (hostile input)
            body = None
        value = body.get("statusCode") if isinstance(body, dict) else None
        status_code = value if isinstance(value, int) and not isinstance(value, bool) else None
    parts = urlsplit(request.url)
    path = parts.path.removeprefix(base_path.rstrip("/"))
    return {
        "kind": "http",
        "at": exchange.timestamp.isoformat(),
        "seq": exchange.seq,
        "who": exchange.role or exchange.user or "anonymous",
        "method": request.method,
        "path": path + (f"?{parts.query}" if parts.query else ""),
        "operation": operation_key(request.method, request.url, request.body, base_path),
        "http_status": response.status_code if response is not None else None,
        "status_code": status_code,
        "elapsed_s": round(exchange.elapsed_s, 4),
        "error": exchange.error,
    }


def timeline_entry_of_notification(record: Any) -> dict[str, Any]:
    """One received message (conformance.cometd.NotificationRecord) as a timeline line."""
    data = record.data if isinstance(record.data, dict) else {}
    # What a reader scans for: the kind and the state or event it reports.
    detail = {key: data[key] for key in ("messageType", "notificationType", "state", "status") if key in data}
    for container in ("call", "interaction", "user"):
        inner = data.get(container)
        if isinstance(inner, dict):
            detail.update({f"{container}.{k}": inner[k] for k in ("id", "state", "status") if k in inner})
    return {
        "kind": "notification",
        "at": record.received_at.isoformat(),
        "who": record.user,
        "topic": record.topic,
        "notification": _kind(record),
        "detail": detail,
        "schema_errors": list(record.schema_errors),
    }
