"""Drive schemathesis cases through the suite's client and judge every reply with the registered checks.

Schemathesis generates the cases (from spec/openapi.yaml); the suite's ``GwsClient`` sends them, so
every exchange is recorded, redacted and reproducible with curl, CSRF and timeouts included. Each
reply goes through ``conformance.checks`` and schemathesis' ``response_schema_conformance``.

Findings are collected, never raised inside Hypothesis: a raised failure would make Hypothesis
replay the case (another request to a target that may have changed state, or hung) and could turn
a stateful server's answer into a "flaky" error. After the run, the distinct findings become one
``FuzzFindings`` violation — MUST findings fail the test, SHOULD-only findings make it a warning.
"""

from __future__ import annotations

import functools
import textwrap
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from requests.structures import CaseInsensitiveDict
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.transport import Response as SchemathesisResponse

from conformance.checks import CHECKS, CheckContext, run_checks
from conformance.client import GwsClient, Response
from conformance.contract import SPEC_ROOT
from conformance.errors import SuiteError, TargetError
from conformance.failures import Level, Violation
from conformance.suite.fuzz.bindings import Guard, World
from conformance.suite.fuzz.catalogue import Operation, field_list, operations, request_breaches

__all__ = ["FuzzFindings", "Judgement", "case_seed", "load_schema", "run_cases", "send_case"]

SCHEMA_CONFORMANCE = "response_schema_conformance"  # schemathesis' check, reported under GWS-GEN-007
SCHEMA_REQUIREMENTS = ("GWS-GEN-007",)
MAX_SHOWN_FINDINGS = 8


@functools.cache
def load_schema() -> Any:
    """spec/openapi.yaml as schemathesis sees it, with an explicit configuration.

    No schemathesis.toml of the working directory applies; credentials are never generated (the
    suite's client sends the configured user's); no undeclared parameters (a server may ignore them).
    """
    schema = schemathesis.openapi.from_path(SPEC_ROOT / "openapi.yaml", config=schemathesis.Config())
    schema.config.generation.update(
        with_security_parameters=False,
        allow_extra_parameters=False,
        modes=[GenerationMode.POSITIVE],  # what the stateful machine generates; single tests choose their own
    )
    return schema


def case_seed(run_seed: int, *parts: str) -> int:
    """A seed per test from the run's seed: each test is reproducible alone, in any order or selection."""
    return zlib.crc32(":".join([str(run_seed), *parts]).encode())


def hypothesis_settings(max_examples: int, **extra: Any) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # no shrinking, no replay: findings are collected, not raised
        suppress_health_check=list(HealthCheck),
        print_blob=False,
        report_multiple_bugs=False,
        verbosity=hypothesis.Verbosity.quiet,
        **extra,
    )


# -- one request --------------------------------------------------------------------------------------


def send_case(client: GwsClient, case: Any) -> Response:
    """Send a schemathesis case with the suite's client (Basic auth, CSRF, deadline, recording)."""
    kwargs = case.as_transport_kwargs(base_url=client.settings.base_url)
    headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() == "content-type"}
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif kwargs.get("files"):
        # Schemathesis describes multipart bodies the way `requests` takes them (form values may be
        # numbers): let requests encode them, then send the exact bytes with their boundary.
        encoded = requests.Request("POST", kwargs["url"], files=kwargs["files"], data=kwargs.get("data")).prepare()
        body["content"] = encoded.body
        headers["Content-Type"] = str(encoded.headers["Content-Type"])
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body["content"] = data if isinstance(data, (bytes, str)) else str(data)
    params = kwargs.get("params") or None
    return client.request(case.method, kwargs["url"], params=params, headers=headers, expect_json=False, **body)


def _schemathesis_response(response: Response) -> SchemathesisResponse:
    recorded = response.exchange.request
    # The request as recorded, field by field: ``requests.Request.prepare()`` would parse, re-encode and
    # re-check the URL and body the client already sent (a third of the schema check's time per case).
    request = requests.PreparedRequest()
    request.method, request.url, request.body = recorded.method, recorded.url, recorded.body
    request.headers = CaseInsensitiveDict(recorded.headers)
    return SchemathesisResponse(
        status_code=response.status_code,
        headers={name: [value] for name, value in response.headers.items()},
        content=response.content,
        request=request,
        elapsed=response.exchange.elapsed_s,
        verify=True,
    )


@dataclass
class Judgement:
    """What the checks found about one reply."""

    findings: list[Violation]
    rejected_as_invalid: bool  # the request broke the contract as sent


def judge(
    operation: Operation, role: str, case: Any, response: Response, *, negative: bool, path_bound: bool
) -> Judgement:
    """Run the registered checks and schemathesis' schema check on one reply."""
    recorded = response.exchange.request
    breaches = (
        request_breaches(operation, recorded.url, recorded.header("content-type"), _sent_body(response))
        if negative
        else []
    )
    invalid = bool(breaches)
    operation_name = case.body.get("operationName") if isinstance(case.body, Mapping) else None
    label = operation.label + (f"#{operation_name}" if isinstance(operation_name, str) else "")
    fields = field_list(recorded.url)
    ctx = CheckContext(
        operation=label,
        schema_ref=operation.reply_schema(response.status_code) if response.is_json else None,
        collection=operation.collection,
        client_input_invalid=invalid,
        field_schemas=operation.field_schemas(fields) if fields else None,
    )
    names = [name for name in CHECKS if _applies(name, operation, role, operation_name, invalid, path_bound)]
    findings = run_checks(ctx, response, names)
    if invalid and findings:
        note = "The request breaks the contract: " + "; ".join(breaches[:3])
        findings = [_annotated(v, note) for v in findings]
    if not fields:  # schemathesis judges whole objects; a reply to a field list has partial ones (E32)
        findings += _schema_conformance(case, response, label)
    return Judgement(findings, invalid)


def _sent_body(response: Response) -> bytes | None:
    request = response.exchange.request
    return request.body.encode("utf-8") if request.body is not None else None


def _applies(check: str, operation: Operation, role: str, operation_name: Any, invalid: bool, path_bound: bool) -> bool:
    if check == "collection_shape":
        return operation.collection is not None
    if check == "negative_input_rejected":
        # Only where nothing but the input can be wrong: objects that exist, an operationName the role may send.
        return invalid and path_bound and role in operation.roles_for(operation_name)
    return True


def _annotated(violation: Violation, note: str) -> Violation:
    return Violation(
        title=violation.title,
        message=f"{violation.message}\n{note}",
        requirement_ids=violation.requirement_ids,
        level=violation.level,
        evidence=violation.evidence,
        check=violation.check,
    )


def _schema_conformance(case: Any, response: Response, label: str) -> list[Violation]:
    if not response.is_json:
        return []
    # What response_schema_conformance runs, called directly: Case.validate_response would first merge
    # schemathesis' configuration layers and build a check context for every case, for this one check.
    try:
        case.operation.validate_response(_schemathesis_response(response), case=case)
    except FailureGroup as group:
        failures = list(group.exceptions)
    except Failure as failure:
        failures = [failure]
    else:
        failures = []
    return [
        Violation(
            title=f"{failure.title} [{label}] (schemathesis)",
            message=failure.message,
            requirement_ids=SCHEMA_REQUIREMENTS,
            level=Level.MUST,
            evidence=[response.exchange],
            check=SCHEMA_CONFORMANCE,
        )
        for failure in failures
    ]


# -- a whole test ------------------------------------------------------------------------------------------


class FuzzFindings(Violation):
    """The distinct findings of one fuzz test, as one violation (its level: the worst finding's)."""

    def __init__(self, *, subject: str, findings: list[Violation], stats: str) -> None:
        distinct: dict[tuple[str | None, str], list[Violation]] = {}
        for finding in findings:
            distinct.setdefault((finding.check, finding.title), []).append(finding)
        ordered = sorted(distinct.values(), key=lambda group: group[0].is_warning)
        self.findings = [group[0] for group in ordered]
        must = [f for f in self.findings if not f.is_warning]
        lines = [stats, ""]
        for group in ordered[:MAX_SHOWN_FINDINGS]:
            first = group[0]
            lines.append(f"- [{first.level}] {first.title} ({', '.join(first.requirement_ids)}), {len(group)} case(s)")
            lines.append(textwrap.indent(first.message, "    "))
            if first.reproduction:
                lines.append(f"    Reproduce with: {first.reproduction}")
        if len(ordered) > MAX_SHOWN_FINDINGS:
            lines.append(f"… and {len(ordered) - MAX_SHOWN_FINDINGS} more distinct finding(s)")
        super().__init__(
            title=f"{len(self.findings)} distinct finding(s) fuzzing {subject}",
            message="\n".join(lines),
            requirement_ids=list(dict.fromkeys(rid for f in self.findings for rid in f.requirement_ids)),
            level=Level.MUST if must else Level.SHOULD,
            evidence=[f.evidence[0] for f in self.findings[:MAX_SHOWN_FINDINGS] if f.evidence],
            check="fuzz",
        )


@dataclass
class RunState:
    """What a fuzz test saw, across its cases."""

    sent: int = 0
    refused: list[str] = field(default_factory=list)
    findings: list[Violation] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)
    invalid_sent: int = 0
    target_error: TargetError | None = None
    stopped: str | None = None  # why a run ended before its budget, when it did

    def stats(self, mode: str) -> str:
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(self.codes.items()))
        line = f"{self.sent} {mode} case(s) sent; statusCode {codes or '-'}"
        if mode == "negative":
            line += f"; {self.invalid_sent} broke the contract as sent"
        if self.refused:
            line += f"; {len(self.refused)} not sent to protect the fixture ({self.refused[0]})"
        if self.stopped:
            line += f"; {self.stopped}"
        return line


def run_cases(
    *,
    strategy: st.SearchStrategy[Any],
    operation: Operation,
    role: str,
    mode: str,
    client: GwsClient,
    guard: Guard,
    world: World,
    path_bound: Callable[[Any], bool],
    settings: hypothesis.settings,
    seed: int,
) -> RunState:
    """Send up to ``settings.max_examples`` cases drawn from ``strategy`` and judge each reply."""
    state = RunState()
    negative = mode == "negative"

    @hypothesis.given(strategy)
    @settings
    @hypothesis.seed(seed)
    def one_case(case: Any) -> None:
        if state.target_error is not None:
            return  # the target stopped answering: the remaining cases are not sent
        refusal = guard.refuses(operation, case.path_parameters or {}, case.body)
        if refusal is not None:
            state.refused.append(refusal)
            hypothesis.reject()
        try:
            response = send_case(client, case)
        except TargetError as exc:
            state.target_error = exc
            return
        state.sent += 1
        code = response.status_code_field
        state.codes[str(code) if code is not None else "none"] += 1
        world.adopt(operation, case.body, response.json_body)
        verdict = judge(operation, role, case, response, negative=negative, path_bound=path_bound(case))
        state.invalid_sent += verdict.rejected_as_invalid
        state.findings += verdict.findings

    # The settings keep no example database, so the key Hypothesis would derive for it is never used: a
    # digest of this function's source, for which it tokenized this module again in every test (2 ms each).
    one_case._hypothesis_internal_database_key = None  # type: ignore[attr-defined]

    try:
        one_case()
    except Unsatisfiable:
        pass  # every case was refused by the guard: reported below
    return state


def conclude(state: RunState, subject: str, mode: str) -> None:
    """Raise what the test found: a TargetError, the findings, or nothing."""
    __tracebackhide__ = True  # the report is the finding, not the suite's frames
    print(f"{subject}: {state.stats(mode)}")  # captured output: shown with -rP and on failure
    if state.target_error is not None:
        raise state.target_error
    if state.sent == 0:
        reason = state.refused[0] if state.refused else "no case could be generated"
        raise SuiteError(f"{subject}: no {mode} case was sent ({reason})")
    if state.findings:
        raise FuzzFindings(subject=subject, findings=state.findings, stats=state.stats(mode))


def strategies(schema_operation: Any, mode: GenerationMode, bound: Mapping[str, str]) -> Iterable[Any]:
    """Cases addressing the bound objects first; for positive data also free (generated) path values."""
    made = []
    if bound:
        made.append(schema_operation.as_strategy(generation_mode=mode, path_parameters=dict(bound)))
    if not bound or mode is GenerationMode.POSITIVE:
        made.append(schema_operation.as_strategy(generation_mode=mode))
    if mode is GenerationMode.POSITIVE:
        return [strategy.map(_field_lists) for strategy in made]
    return made


def _field_lists(case: Any) -> Any:
    """Positive data asks for ``fields=*``, no fields at all, or a list of the collection's own member names.

    A generated value that names nothing the objects have becomes a list of some of their members (which ones is
    drawn from the value, so a seed repeats it); the reply is then judged on the members asked for (E32,
    ``CheckContext.field_schemas``). An operation whose objects name no members gets ``*``.
    """
    if not isinstance(case.query, dict) or case.query.get("fields") in (None, "*"):
        return case
    operation = operations().get(f"{case.method.upper()} {case.path}")
    names = operation.members if operation is not None else ()
    if not names:
        case.query["fields"] = "*"
        return case
    draw = zlib.crc32(str(case.query["fields"]).encode())
    chosen = [name for bit, name in enumerate(names) if draw >> (bit % 32) & 1] or names[: 1 + draw % len(names)]
    case.query["fields"] = ",".join(chosen)
    return case
