"""REST replies of a load run through the suite's checks registry, and their tally in the ledger.

The same checks judge a reply here as in the suite (conformance.checks, with the operation's reply schema
from spec/openapi.yaml): a MUST finding counts as a REST violation (it fails the load verdict), a SHOULD
finding as a warning. ``check_every`` samples the replies when checking all of them costs too much CPU.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import conformance.api  # noqa: F401 - registers every helper, so checks_of knows each list GET's collection
from conformance.api._core import checks_of, reply_schema
from conformance.checks import CheckContext, run_checks
from conformance.client import Exchange, RecordedRequest, RecordedResponse, Response
from conformance.load.ledger import Ledger
from conformance.load.wire import Reply

__all__ = ["RestJudge", "is_server_error"]

_exchanges = itertools.count(1)


def is_server_error(http_status: int, status_code: int | None) -> bool:
    """The server's own failure (HTTP 5xx, statusCode 4 "internal error"), as opposed to a refusal of the
    request (statusCode 1-3, 5, 6: the request or the state was wrong, which a load run does not plan for
    but a correct server may answer)."""
    return http_status >= 500 or status_code == 4


class RestJudge:
    """Counts every reply by status in the ledger and runs the checks registry on every ``check_every``-th."""

    def __init__(self, ledger: Ledger, check_every: int) -> None:
        self.ledger = ledger
        self.check_every = max(1, check_every)
        self._count = itertools.count()

    def judge(self, operation: str, user: str, response: Reply, body: Any, elapsed_s: float) -> None:
        status_code = body.get("statusCode") if isinstance(body, dict) else None
        status_code = status_code if isinstance(status_code, int) and not isinstance(status_code, bool) else None
        self.ledger.rest(
            response.status_code, status_code, is_server_error(response.status_code, status_code), elapsed_s
        )
        if next(self._count) % self.check_every:
            return
        self.ledger.rest_checked += 1
        wrapped = _response(user, response, body, elapsed_s)
        names, collection = checks_of(operation)
        schema = reply_schema(operation) if status_code == 0 and body is not None else None
        ctx = CheckContext(operation=operation, schema_ref=schema, collection=collection)
        for violation in run_checks(ctx, wrapped, names):
            name = violation.check or "check"
            if violation.is_warning:
                self.ledger.rest_warnings[name] += 1
            else:
                self.ledger.rest_violations[name] += 1
                if len(self.ledger.examples["rest"]) < 5:
                    self.ledger.examples["rest"].append(f"{operation}: {violation.title}: {violation.message[:200]}")


def _response(user: str, response: Reply, body: Any, elapsed_s: float) -> Response:
    request = response.request
    raw = request.body
    sent = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw if isinstance(raw, str) else None
    exchange = Exchange(
        seq=next(_exchanges),
        timestamp=datetime.now(UTC),
        elapsed_s=elapsed_s,
        role="",
        user=user,
        password_env=None,
        request=RecordedRequest(
            str(request.method),
            str(request.url),
            tuple((k, str(v)) for k, v in request.headers.items() if k.lower() != "authorization"),
            sent,
        ),
        response=RecordedResponse(response.status_code, tuple(response.headers.items()), response.text),
    )
    return Response(
        exchange=exchange,
        status_code=response.status_code,
        headers=_headers(response),
        content=response.content,
        json_body=body,
        is_json=body is not None,
    )


def _headers(response: Reply) -> Any:
    import httpx

    return httpx.Headers(list(response.headers.items()))
