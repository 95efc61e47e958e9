"""The single-file HTML conformance report: opens offline, fetches nothing, reads like a bug report.

Everything is inline (CSS, a little JavaScript for the filters), and a Content-Security-Policy forbids
the page any request, so a report can be mailed, attached to a ticket or opened from a CI artifact.
Every piece of text from the run is HTML-escaped; the evidence in it was redacted when it was recorded.

Order of the page: what the verdict is, what broke and how to reproduce it, then the requirement matrix,
the contract coverage, every test, and the run's configuration.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from conformance.reporting.model import (
    AREA_NAMES,
    OUTCOME_LABELS,
    REQUIREMENT_PRECEDENCE,
    FailureGroup,
    Report,
    RequirementView,
    TestView,
)

__all__ = ["render_html"]

# The failures shown with their details open; the rest stay one click away.
OPEN_FAILURES = 3
MAX_BODY_CHARS = 20_000
TEST_OUTCOME_ORDER = (
    "failed",
    "warning",
    "error",
    "passed",
    "needs_stimulus",
    "not_applicable",
    "skipped",
    "xfailed",
    "xpassed",
)


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _badge(outcome: str, text: str | None = None) -> str:
    return f'<span class="badge o-{_e(outcome)}">{_e(text or OUTCOME_LABELS.get(outcome, outcome))}</span>'


def _level(level: str | None) -> str:
    return f'<span class="level l-{_e(level or "none")}">{_e(level or "—")}</span>' if level else ""


def _pretty(body: str | None) -> str:
    if body is None:
        return ""
    try:
        text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        text = body
    if len(text) > MAX_BODY_CHARS:
        text = text[:MAX_BODY_CHARS] + f"\n… [{len(text) - MAX_BODY_CHARS} more characters]"
    return text


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _when(text: str | None) -> str:
    if not text:
        return "—"
    try:
        return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    except ValueError:
        return text


# -- page parts ------------------------------------------------------------------------------------------


def _header(report: Report) -> str:
    target = report.target
    verdict = report.verdict
    results = report.results
    facts = [
        ("Target", f"<code>{_e(target.get('base_url', '—'))}</code>"),
        ("Server", _e(report.server or "did not say")),
        ("Seed", f"<code>{_e(results.get('seed'))}</code>"),
        ("Profile", _e(results.get("profile") or "—")),
        ("Duration", _e(_duration(results.get("duration_s")))),
        ("Started", _e(_when(results.get("started_at")))),
    ]
    facts_html = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
    return f"""
<header class="top v-{_e(verdict.code)}">
  <div class="wrap">
    <p class="kicker">Genesys Web Services API v2 (8.5) · conformance report</p>
    <h1><span class="verdict">{_e(verdict.headline)}</span></h1>
    <p class="verdict-detail">{_e(verdict.detail)}</p>
    <dl class="facts">{facts_html}</dl>
  </div>
</header>
<nav class="tabs"><div class="wrap">
  <a href="#summary">Summary</a><a href="#failures">Failures <b>{len(report.tests_with("failed"))}</b></a>
  <a href="#warnings">Warnings <b>{len(report.tests_with("warning"))}</b></a>
  <a href="#requirements">Requirements</a><a href="#coverage">Coverage</a><a href="#tests">Tests</a><a href="#run">Run</a>
</div></nav>"""


def _score_card(title: str, score: Any, broken_word: str) -> str:
    percent = score.percent
    width = 0 if percent is None else max(min(percent, 100.0), 0.0)
    klass = "good" if percent == 100.0 else ("bad" if percent is not None else "none")
    return f"""
<div class="card score {klass}">
  <h3>{_e(title)}</h3>
  <div class="big">{_e(score.text())}</div>
  <div class="meter"><span style="width:{width:.1f}%"></span></div>
  <p>{score.passed} passed · {score.failed} {broken_word} · {score.other} without a verdict
  <br><span class="muted">of {score.total} {_e(score.level)} requirements selected</span></p>
</div>"""


def _summary(report: Report) -> str:
    counts = report.outcome_counts()
    rows = "".join(f"<li>{_badge(o)} <b>{counts[o]}</b></li>" for o in TEST_OUTCOME_ORDER if counts.get(o))
    coverage = report.coverage
    ops = f"{coverage.operations_hit}/{len(coverage.operations_declared)}"
    kinds = f"{coverage.kinds_hit}/{len(coverage.kinds_declared)}"
    baseline = ""
    if report.baseline is not None:
        b = report.baseline
        baseline = f"""
<div class="card">
  <h3>Baseline</h3>
  <p><b>{len(b.get("known", []))}</b> known failure(s) accepted · <b>{len(b.get("new", []))}</b> new ·
  <b>{len(b.get("stale", []))}</b> stale entr{"y" if len(b.get("stale", [])) == 1 else "ies"}</p>
  {_stale_list(b.get("stale", []))}
</div>"""
    return f"""
<section id="summary" class="wrap">
  <div class="cards">
    {_score_card("MUST conformance", report.must, "failed")}
    {_score_card("SHOULD conformance", report.should, "warned")}
    <div class="card">
      <h3>Tests</h3>
      <div class="big">{len(report.tests)}</div>
      <ul class="counts">{rows or "<li>none ran</li>"}</ul>
    </div>
    <div class="card">
      <h3>Contract coverage</h3>
      <p><span class="big small">{_e(ops)}</span> operations exercised</p>
      <p><span class="big small">{_e(kinds)}</span> notification kinds received</p>
    </div>
    {baseline}
  </div>
  {_heatmap(report.requirements)}
</section>"""


def _stale_list(stale: Sequence[Mapping[str, str]]) -> str:
    if not stale:
        return ""
    items = "".join(
        f"<li><code>{_e(s.get('test') or s.get('requirement'))}</code> — {_e(s.get('reason'))}</li>" for s in stale
    )
    return f'<p class="muted">Stale entries now pass; remove them from the baseline:</p><ul class="plain">{items}</ul>'


def _by_area(requirements: Iterable[RequirementView]) -> dict[str, list[RequirementView]]:
    grouped: dict[str, list[RequirementView]] = {}
    for requirement in requirements:
        grouped.setdefault(requirement.area, []).append(requirement)
    return grouped


def _heatmap(requirements: Sequence[RequirementView]) -> str:
    rows = []
    for area, items in _by_area(requirements).items():
        cells = "".join(
            f'<a class="cell o-{_e(r.outcome)}" href="#r-{_e(r.id)}" '
            f'title="{_e(r.id)} ({_e(r.level)}): {_e(OUTCOME_LABELS.get(r.outcome, r.outcome))}"></a>'
            for r in items
        )
        rows.append(
            f'<div class="hm-row"><span class="hm-area" title="{_e(AREA_NAMES.get(area, area))}">'
            f'{_e(area)}</span><span class="hm-cells">{cells}</span></div>'
        )
    legend = "".join(f"<span>{_badge(o)}</span>" for o in REQUIREMENT_PRECEDENCE if o != "skipped")
    return f"""
<div class="card heat">
  <h3>Requirement matrix at a glance <span class="muted">— one square per requirement, by area</span></h3>
  {"".join(rows)}
  <div class="legend">{legend}</div>
</div>"""


def _exchange_html(evidence: Mapping[str, Any]) -> str:
    if evidence.get("kind") != "http":
        data = {k: v for k, v in evidence.items() if k not in ("kind",)}
        return f'<div class="exchange"><div class="ex-head">Notification</div><pre>{_e(json.dumps(data, indent=2, ensure_ascii=False, default=str))}</pre></div>'
    request = evidence.get("request") or {}
    response = evidence.get("response")
    req_headers = "\n".join(f"{name}: {value}" for name, value in request.get("headers", []))
    req = f"{request.get('method')} {request.get('url')}\n{req_headers}"
    if request.get("body") is not None:
        req += "\n\n" + _pretty(request.get("body"))
    if response is not None:
        res_headers = "\n".join(f"{name}: {value}" for name, value in response.get("headers", []))
        res = f"HTTP {response.get('status_code')}\n{res_headers}"
        if response.get("body") is not None:
            res += "\n\n" + _pretty(response.get("body"))
    else:
        res = f"(no response) {evidence.get('error') or ''}"
    who = evidence.get("role") or evidence.get("user") or "anonymous"
    return f"""
<div class="exchange">
  <div class="ex-head">#{_e(evidence.get("seq"))} · {_e(who)} · {_e(_when(evidence.get("timestamp")))} ·
  {_e(evidence.get("elapsed_s"))} s{f' · <span class="err">{_e(evidence.get("error"))}</span>' if evidence.get("error") else ""}</div>
  <div class="ex-grid">
    <div><h5>Request</h5><pre class="req">{_e(req)}</pre></div>
    <div><h5>Response</h5><pre class="res">{_e(res)}</pre></div>
  </div>
</div>"""


def _curl(command: str | None) -> str:
    if not command:
        return ""
    return f"""
<div class="repro"><h4>Reproduce</h4>
<div class="curl"><pre>{_e(command)}</pre><button type="button" class="copy" data-copy>Copy</button></div>
<p class="muted">The password comes from the variable named in the command (e.g. <code>$GWS_AGENT1_PASSWORD</code>).</p></div>"""


def _timeline(test: TestView) -> str:
    if not test.timeline:
        return ""
    evidence = test.evidence_seqs
    first = next((e.get("at") for e in test.timeline if e.get("at")), None)
    start = _parse_time(first)
    rows = []
    for entry in test.timeline:
        kind = entry.get("kind")
        offset = _offset(start, entry.get("at"))
        if kind == "omitted":
            rows.append(
                f'<tr class="omitted"><td colspan="5">… {entry.get("count")} earlier entries left out</td></tr>'
            )
            continue
        if kind == "http":
            hot = entry.get("seq") in evidence
            status = entry.get("http_status")
            code = entry.get("status_code")
            result = f"HTTP {status}" if status is not None else f'<span class="err">{_e(entry.get("error"))}</span>'
            if code is not None:
                result += f" · statusCode {code}"
            what = f"<code>{_e(entry.get('method'))} {_e(entry.get('path'))}</code>"
            if entry.get("operation") and "#" in str(entry.get("operation")):
                what += f' <span class="muted">{_e(str(entry["operation"]).split("#", 1)[1])}</span>'
            rows.append(
                f'<tr class="http{" hot" if hot else ""}"><td class="num">+{offset}</td><td>{_e(entry.get("who"))}</td>'
                f'<td><span class="tag">HTTP</span></td><td>{what}</td><td>{result}</td></tr>'
            )
        else:
            errors = entry.get("schema_errors") or []
            detail = ", ".join(f"{k}={v}" for k, v in (entry.get("detail") or {}).items())
            verdict = (
                f'<span class="err" title="{_e("; ".join(errors))}">schema: {len(errors)} error(s)</span>'
                if errors
                else ""
            )
            rows.append(
                f'<tr class="note{" bad" if errors else ""}"><td class="num">+{offset}</td><td>{_e(entry.get("who"))}</td>'
                f'<td><span class="tag n">CometD</span></td><td><code>{_e(entry.get("topic"))}</code> '
                f"<b>{_e(entry.get('notification') or 'unclassified')}</b></td><td>{_e(detail)} {verdict}</td></tr>"
            )
    return f"""
<details class="timeline"><summary>Timeline of the test — {len(test.timeline)} HTTP calls and notifications
<span class="muted">(highlighted: the evidence)</span></summary>
<table><thead><tr><th>t</th><th>who</th><th></th><th>what</th><th>result</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></details>"""


def _parse_time(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _offset(start: datetime | None, text: Any) -> str:
    at = _parse_time(text)
    if start is None or at is None:
        return "?"
    return f"{(at - start).total_seconds() * 1000:.0f} ms"


def _requirement_lines(report: Report, ids: Sequence[str]) -> str:
    catalogue = {r.id: r for r in report.requirements}
    lines = []
    for rid in ids:
        requirement = catalogue.get(rid)
        if requirement is None:
            lines.append(f"<li><code>{_e(rid)}</code></li>")
            continue
        lines.append(
            f'<li><a href="#r-{_e(rid)}"><code>{_e(rid)}</code></a> {_level(requirement.level)} '
            f'{_e(requirement.text)} <span class="muted">— reference: {_e(requirement.section)}</span></li>'
        )
    return f'<ul class="reqs">{"".join(lines)}</ul>' if lines else ""


def _findings(test: TestView) -> str:
    if len(test.findings) <= 1:
        return ""
    items = []
    for finding in test.findings:
        ids = ", ".join(finding.get("requirement_ids") or [])
        items.append(f"""
<li><b>{_e(finding.get("title"))}</b> {_level(finding.get("level"))} <span class="muted">{_e(ids)}</span>
<details><summary>details and reproduction</summary><pre>{_e(finding.get("message"))}</pre>
{f'<pre class="cmd">{_e(finding.get("reproduce"))}</pre>' if finding.get("reproduce") else ""}</details></li>""")
    return f'<div class="findings"><h4>{len(test.findings)} distinct findings</h4><ul>{"".join(items)}</ul></div>'


def _affected(group: FailureGroup) -> str:
    if len(group.tests) == 1:
        return ""
    items = "".join(
        f'<li id="{_e(t.anchor)}"><code>{_e(t.nodeid)}</code> <span class="muted">· {_e(t.phase)}</span></li>'
        for t in group.tests[1:]
    )
    return (
        f'<details class="affected"><summary>Seen in {len(group.tests)} tests — the same failure, told once'
        f'</summary><ul class="plain">{items}</ul></details>'
    )


def _failure_card(report: Report, group: FailureGroup, open_details: bool) -> str:
    test = group.first
    ids = test.violated or test.requirements
    known = f'<p class="known">Known failure (baseline): {_e(test.known)}</p>' if test.known else ""
    evidence = "".join(_exchange_html(e) for e in test.evidence)
    evidence_box = (
        f"<details{' open' if open_details else ''}><summary>Evidence — {len(test.evidence)} recorded "
        f"exchange(s), secrets redacted</summary>{evidence}</details>"
        if test.evidence
        else ""
    )
    more = f' <span class="count">×{len(group.tests)}</span>' if len(group.tests) > 1 else ""
    return f"""
<article class="failure o-{_e(test.outcome)}" id="{_e(test.anchor)}" data-outcome="{_e(test.outcome)}">
  <header>
    {_badge(test.outcome)} {_level(test.level)}
    <h3>{_e(test.title or "Failure")}</h3>{more}
    <p class="nodeid"><code>{_e(test.nodeid)}</code> <span class="muted">· {test.kind} · {test.phase} ·
    {_e(_duration(test.duration_s))}</span></p>
  </header>
  {known}
  {_requirement_lines(report, ids)}
  {_curl(test.reproduce)}
  <details{" open" if open_details else ""}><summary>What the suite saw</summary>
    <pre class="message">{_e(test.message or "")}</pre>
  </details>
  {evidence_box}
  {_findings(test)}
  {_timeline(test)}
  {_affected(group)}
</article>"""


def _failures(report: Report) -> str:
    failed, warnings, errors = report.groups("failed"), report.groups("warning"), report.groups("error")
    n_failed, n_warn = len(report.tests_with("failed")), len(report.tests_with("warning"))
    parts = [f'<section id="failures" class="wrap"><h2>Failures <span class="count">{n_failed}</span></h2>']
    if failed:
        parts.append(
            f'<p class="lead">{n_failed} failing test(s) in {len(failed)} distinct failure(s). Each names '
            "the requirement it breaks, shows the exchange that broke it and a command that repeats it.</p>"
        )
        parts += [_failure_card(report, g, i < OPEN_FAILURES) for i, g in enumerate(failed)]
    else:
        parts.append('<p class="empty">No MUST requirement failed.</p>')
    parts.append("</section>")
    parts.append(f'<section id="warnings" class="wrap"><h2>Warnings <span class="count">{n_warn}</span></h2>')
    if warnings:
        parts.append('<p class="lead">SHOULD (or MAY) requirements broken: reported, never failing the run.</p>')
        parts += [_failure_card(report, g, False) for g in warnings]
    else:
        parts.append('<p class="empty">No SHOULD requirement was broken.</p>')
    parts.append("</section>")
    if errors:
        parts.append(
            f'<section id="errors" class="wrap"><h2>Suite errors <span class="count">'
            f'{len(report.tests_with("error"))}</span></h2><p class="lead">The suite itself broke in these '
            "tests: they judge nothing and are never counted against the target.</p>"
        )
        parts += [_failure_card(report, g, False) for g in errors]
        parts.append("</section>")
    return "".join(parts)


def _filter_bar(counts: Mapping[str, int], order: Sequence[str], group: str) -> str:
    every = f"<b>{sum(counts.values())}</b>"
    chips = [f'<button type="button" class="chip active" data-filter="{group}" data-value="all">All {every}</button>']
    chips += [
        f'<button type="button" class="chip o-{_e(o)}" data-filter="{group}" data-value="{_e(o)}">'
        f"{_e(OUTCOME_LABELS.get(o, o))} <b>{counts[o]}</b></button>"
        for o in order
        if counts.get(o)
    ]
    search = (
        f'<input type="search" class="search" data-search="{group}" placeholder="Filter by ID, text or test…" '
        'aria-label="filter">'
    )
    return f'<div class="filters">{"".join(chips)}{search}</div>'


def _requirements(report: Report) -> str:
    failing_anchor = {t.nodeid: t.anchor for t in report.tests}
    parts = [
        '<section id="requirements" class="wrap"><h2>Requirements</h2>',
        (
            '<p class="lead">Every requirement of the catalogue (spec/requirements.yaml) in this run\'s selection, '
            "by area, with the outcome the run gave it.</p>"
        ),
        _filter_bar(report.requirement_counts(), REQUIREMENT_PRECEDENCE, "req"),
    ]
    for area, items in _by_area(report.requirements).items():
        counts: dict[str, int] = {}
        for r in items:
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
        bar = "".join(
            f'<span class="o-{_e(o)}" style="flex:{counts[o]}" title="{_e(OUTCOME_LABELS[o])}: {counts[o]}"></span>'
            for o in REQUIREMENT_PRECEDENCE
            if counts.get(o)
        )
        rows = []
        for r in items:
            link = ""
            if r.failing:
                first = r.failing[0]
                link = f' <a href="#{_e(failing_anchor.get(first, ""))}">see failure</a>'
            known = ' <span class="muted">(known)</span>' if r.known else ""
            rows.append(
                f'<tr id="r-{_e(r.id)}" data-outcome="{_e(r.outcome)}" data-text="{_e((r.id + " " + r.text).lower())}">'
                f"<td><code>{_e(r.id)}</code></td><td>{_level(r.level)}</td><td>{_badge(r.outcome)}{known}</td>"
                f'<td>{_e(r.text)}<div class="muted small">{_e(r.section)} · {len(r.tests)} test(s){link}</div></td></tr>'
            )
        parts.append(f"""
<div class="area" data-area="{_e(area)}">
  <h3><span class="area-id">{_e(area)}</span> {_e(AREA_NAMES.get(area, ""))} <span class="muted">({len(items)})</span></h3>
  <div class="stack">{bar}</div>
  <table class="matrix"><thead><tr><th>ID</th><th>Level</th><th>Outcome</th><th>Requirement</th></tr></thead>
  <tbody>{"".join(rows)}</tbody></table>
</div>""")
    parts.append('<p class="empty hidden" data-empty="req">No requirement matches the filter.</p></section>')
    return "".join(parts)


def _coverage(report: Report) -> str:
    coverage = report.coverage
    if not coverage.journal_found:
        note = '<p class="muted">No run journal was found next to the results: coverage is unknown.</p>'
    else:
        note = ""

    def chips(declared: Sequence[str], exercised: Mapping[str, int]) -> str:
        return "".join(
            f'<span class="op {"hit" if name in exercised else "miss"}" '
            f'title="{_e(name)}: {exercised.get(name, 0)} test(s)">{_e(name)}</span>'
            for name in declared
        )

    def meter(hit: int, total: int) -> str:
        width = 100.0 * hit / total if total else 0.0
        return f'<div class="meter"><span style="width:{width:.1f}%"></span></div>'

    ops_total, kinds_total = len(coverage.operations_declared), len(coverage.kinds_declared)
    return f"""
<section id="coverage" class="wrap"><h2>Contract coverage</h2>{note}
<p class="lead">What this run exercised of spec/openapi.yaml and spec/topics.yaml. Green: called (or received) at least once.</p>
<div class="card"><h3>Operations — {coverage.operations_hit} of {ops_total}</h3>{meter(coverage.operations_hit, ops_total)}
<div class="ops">{chips(coverage.operations_declared, coverage.operations_exercised)}</div></div>
<div class="card"><h3>Notification kinds — {coverage.kinds_hit} of {kinds_total}</h3>{meter(coverage.kinds_hit, kinds_total)}
<div class="ops">{chips(coverage.kinds_declared, coverage.kinds_exercised)}</div></div>
</section>"""


def _tests(report: Report) -> str:
    counts = report.outcome_counts()
    rows = []
    for test in sorted(
        report.tests,
        key=lambda t: (TEST_OUTCOME_ORDER.index(t.outcome) if t.outcome in TEST_OUTCOME_ORDER else 99, t.nodeid),
    ):
        link = (
            f'<a href="#{_e(test.anchor)}">{_e(test.title or "details")}</a>'
            if test.outcome in ("failed", "warning", "error")
            else _e(test.title or (test.message or "")[:160])
        )
        rows.append(
            f'<tr data-outcome="{_e(test.outcome)}" data-text="{_e((test.nodeid + " " + " ".join(test.requirements)).lower())}">'
            f'<td>{_badge(test.outcome)}</td><td><code>{_e(test.nodeid)}</code><div class="muted small">{link}</div></td>'
            f'<td class="small">{_e(" ".join(test.requirements))}</td><td class="num">{test.duration_s:.2f} s</td></tr>'
        )
    return f"""
<section id="tests" class="wrap"><h2>Tests <span class="count">{len(report.tests)}</span></h2>
<details class="tests-box"><summary>Every test of the run, with its outcome</summary>
{_filter_bar(counts, TEST_OUTCOME_ORDER, "test")}
<table class="matrix tests"><thead><tr><th>Outcome</th><th>Test</th><th>Requirements</th><th>Time</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<p class="empty hidden" data-empty="test">No test matches the filter.</p></details></section>"""


def _run(report: Report) -> str:
    results = report.results
    target = dict(report.target)
    users = target.pop("users", {}) or {}
    origins = target.pop("origins", {}) or {}
    rows = "".join(
        f"<tr><th>{_e(k)}</th><td><code>{_e(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)}</code></td></tr>"
        for k, v in target.items()
    )
    user_rows = "".join(
        f"<tr><th>{_e(role)}</th><td><code>{_e(u.get('user'))}</code> · password {_e('set (***)' if u.get('password') else 'not set')}</td></tr>"
        for role, u in users.items()
    )
    selection = results.get("selection") or {}
    chosen = ", ".join([*selection.get("areas", []), *selection.get("requirements", [])]) or "everything"
    tool = results.get("tool") or {}
    command = report.command or ""
    origin_note = ", ".join(f"{k} from {v}" for k, v in origins.items() if v not in ("default",))
    return f"""
<section id="run" class="wrap"><h2>Run</h2>
<div class="card"><table class="kv">
<tr><th>Tool</th><td>{_e(tool.get("name"))} {_e(tool.get("version"))} · results format v{_e(results.get("version"))}</td></tr>
<tr><th>Selection</th><td>{_e(chosen)}</td></tr>
<tr><th>Started / finished</th><td>{_e(_when(results.get("started_at")))} → {_e(_when(results.get("finished_at")))}</td></tr>
{f"<tr><th>Command</th><td><code>{_e(command)}</code></td></tr>" if command else ""}
<tr><th>Repeat the fuzzing</th><td><code>gws-conformance run --seed {_e(results.get("seed"))} --profile {_e(results.get("profile"))}</code> (same target)</td></tr>
{rows}{user_rows}
{f'<tr><th>Configured by</th><td class="small">{_e(origin_note)}</td></tr>' if origin_note else ""}
</table></div></section>"""


_CSS = """
:root{--bg:#f5f6f8;--panel:#fff;--text:#1f2328;--muted:#5d6773;--border:#d8dee4;--accent:#0a58ca;
--pass:#1a7f37;--pass-bg:#dcf5e3;--fail:#c62828;--fail-bg:#fde7e7;--warn:#8a5a00;--warn-bg:#fff3c4;
--na:#5d6773;--na-bg:#eceff3;--stim:#6f42c1;--stim-bg:#f1eafc;--err:#b0306f;--err-bg:#fbe6f1;
--inc:#0b6b80;--inc-bg:#e1f3f7;--untested:#7b8591;--untested-bg:#fff;--code:#f0f2f5;
--mono:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace}
@media (prefers-color-scheme:dark){:root{--bg:#0f1217;--panel:#171b22;--text:#e6e9ee;--muted:#9aa4b0;
--border:#2c333d;--accent:#6ea8fe;--pass:#56d37b;--pass-bg:#143321;--fail:#ff7b72;--fail-bg:#3d1618;
--warn:#e3b341;--warn-bg:#3a2d0c;--na:#9aa4b0;--na-bg:#222831;--stim:#c3a5ff;--stim-bg:#2a1f45;
--err:#f57cb5;--err-bg:#3d1429;--inc:#62c6dc;--inc-bg:#11323a;--untested:#8b949e;--untested-bg:#171b22;--code:#11151b}}
*{box-sizing:border-box}html{scroll-behavior:smooth}[id]{scroll-margin-top:64px}
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
.wrap{max-width:1240px;margin:0 auto;padding:0 24px}
code,pre{font-family:var(--mono);font-size:12.5px}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
.muted{color:var(--muted)}.small{font-size:12px}.hidden{display:none!important}
header.top{color:#fff;padding:28px 0 22px;background:linear-gradient(135deg,#334155,#1e293b)}
header.top.v-conformant{background:linear-gradient(135deg,#1a7f37,#11592a)}
header.top.v-not_conformant{background:linear-gradient(135deg,#c62828,#8e1b1b)}
header.top.v-suite_error{background:linear-gradient(135deg,#8a4b9e,#5b2a6b)}
header.top.v-interrupted{background:linear-gradient(135deg,#6b7280,#374151)}
.kicker{margin:0;opacity:.85;letter-spacing:.04em;text-transform:uppercase;font-size:12px}
header h1{margin:6px 0 4px;font-size:34px;line-height:1.15}
.verdict-detail{margin:0 0 16px;font-size:15px;opacity:.95}
.facts{display:flex;flex-wrap:wrap;gap:8px 28px;margin:0}
.facts div{min-width:0}.facts dt{font-size:11px;text-transform:uppercase;letter-spacing:.05em;opacity:.75}
.facts dd{margin:0;font-weight:600;word-break:break-all}.facts code{color:#fff;font-size:13px}
nav.tabs{position:sticky;top:0;z-index:5;background:var(--panel);border-bottom:1px solid var(--border)}
nav.tabs .wrap{display:flex;gap:4px;overflow-x:auto}
nav.tabs a{padding:11px 12px;color:var(--text);font-weight:500;white-space:nowrap;border-bottom:2px solid transparent}
nav.tabs a:hover{border-bottom-color:var(--accent);text-decoration:none}
nav.tabs b{font-weight:600;color:var(--muted);margin-left:2px}
section.wrap{padding-top:26px}h2{font-size:22px;margin:0 0 6px}h3{margin:0 0 8px;font-size:15px}
.count{display:inline-block;min-width:26px;padding:0 8px;border-radius:12px;background:var(--na-bg);
color:var(--muted);font-size:14px;text-align:center;vertical-align:middle}
.lead{color:var(--muted);margin:0 0 14px}.empty{padding:14px;background:var(--panel);border:1px dashed var(--border);
border-radius:8px;color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:14px}
.card{background:var(--panel);border:1px solid var(--border);border-radius:10px;padding:16px;margin-bottom:14px}
.cards .card{margin-bottom:0}
.big{font-size:32px;font-weight:700;line-height:1.1}.big.small{font-size:20px}
.score.good .big{color:var(--pass)}.score.bad .big{color:var(--fail)}.score.none .big{color:var(--muted)}
.score p{margin:8px 0 0;font-size:13px}
.meter{height:8px;background:var(--na-bg);border-radius:4px;overflow:hidden;margin-top:8px}
.meter span{display:block;height:100%;background:var(--pass)}.score.bad .meter span{background:var(--fail)}
.meter span{min-width:0}
ul.counts{list-style:none;padding:0;margin:8px 0 0;display:flex;flex-wrap:wrap;gap:6px 12px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap;
border:1px solid transparent}
.o-passed.badge{background:var(--pass-bg);color:var(--pass)}
.o-failed.badge{background:var(--fail-bg);color:var(--fail)}.o-warning.badge{background:var(--warn-bg);color:var(--warn)}
.o-error.badge{background:var(--err-bg);color:var(--err)}.o-not_applicable.badge,.o-skipped.badge{background:var(--na-bg);color:var(--na)}
.o-needs_stimulus.badge{background:var(--stim-bg);color:var(--stim)}.o-inconclusive.badge{background:var(--inc-bg);color:var(--inc)}
.o-untested.badge{background:var(--untested-bg);color:var(--untested);border-color:var(--border)}
.o-xfailed.badge,.o-xpassed.badge{background:var(--na-bg);color:var(--na)}
.level{display:inline-block;padding:0 6px;border-radius:4px;font-size:11px;font-weight:700;letter-spacing:.03em;
border:1px solid var(--border);color:var(--muted)}
.level.l-MUST{color:var(--fail);border-color:currentColor}.level.l-SHOULD{color:var(--warn);border-color:currentColor}
.heat .hm-row{display:flex;align-items:center;gap:10px;margin:3px 0}
.hm-area{width:64px;font:600 12px var(--mono);color:var(--muted)}
.hm-cells{display:flex;flex-wrap:wrap;gap:3px}
.cell{width:13px;height:13px;border-radius:3px;display:inline-block}
.cell.o-passed{background:var(--pass)}.cell.o-failed{background:var(--fail)}.cell.o-warning{background:#d4a72c}
.cell.o-error{background:var(--err)}.cell.o-inconclusive{background:var(--inc)}.cell.o-needs_stimulus{background:var(--stim)}
.cell.o-not_applicable,.cell.o-skipped{background:#9aa4b0}.cell.o-untested{background:transparent;border:1px solid var(--border)}
.cell:hover{outline:2px solid var(--accent)}
.legend{display:flex;flex-wrap:wrap;gap:6px;margin-top:12px}
article.failure{background:var(--panel);border:1px solid var(--border);border-left:5px solid var(--fail);
border-radius:10px;padding:16px 18px;margin-bottom:16px}
article.failure.o-warning{border-left-color:#d4a72c}article.failure.o-error{border-left-color:var(--err)}
article.failure header h3{display:inline;font-size:16px;margin-left:6px}
.nodeid{margin:6px 0 0;word-break:break-all}
ul.plain{list-style:none;padding-left:0;margin:6px 0}ul.plain li{margin:3px 0;word-break:break-all}
.known{background:var(--na-bg);padding:6px 10px;border-radius:6px}
ul.reqs{margin:12px 0;padding-left:18px}ul.reqs li{margin:4px 0}
details{margin:10px 0}details>summary{cursor:pointer;font-weight:600;color:var(--text)}
pre{background:var(--code);border:1px solid var(--border);border-radius:6px;padding:10px 12px;overflow:auto;
max-height:420px;margin:8px 0;white-space:pre-wrap;word-break:break-word}
.repro h4,.findings h4{margin:12px 0 0;font-size:13px}
.curl{position:relative}.curl pre{padding-right:72px;border-left:3px solid var(--accent)}
.copy{position:absolute;top:6px;right:6px;border:1px solid var(--border);background:var(--panel);color:var(--text);
border-radius:6px;padding:3px 10px;cursor:pointer;font:inherit;font-size:12px}
.exchange{border:1px solid var(--border);border-radius:8px;margin:10px 0;overflow:hidden}
.ex-head{background:var(--na-bg);padding:6px 10px;font-size:12px;color:var(--muted)}
.ex-grid{display:grid;grid-template-columns:1fr 1fr;gap:0 10px;padding:0 10px}
@media (max-width:900px){.ex-grid{grid-template-columns:1fr}}
.ex-grid h5{margin:8px 0 0;font-size:12px;text-transform:uppercase;color:var(--muted)}
.err{color:var(--fail)}
.timeline table{width:100%;border-collapse:collapse;font-size:12.5px;margin-top:8px}
.timeline td,.timeline th{padding:4px 8px;border-bottom:1px solid var(--border);text-align:left;vertical-align:top}
.timeline tr.hot{background:var(--fail-bg)}.timeline tr.note.bad{background:var(--warn-bg)}
.timeline tr.omitted td{color:var(--muted);font-style:italic}
.tag{display:inline-block;font-size:10.5px;font-weight:700;padding:0 5px;border-radius:3px;background:var(--na-bg);color:var(--muted)}
.tag.n{background:var(--stim-bg);color:var(--stim)}
.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.filters{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:0 0 12px;position:sticky;top:44px;z-index:4;
background:var(--bg);padding:8px 0}
.chip{border:1px solid var(--border);background:var(--panel);color:var(--text);border-radius:16px;padding:4px 12px;
cursor:pointer;font:inherit;font-size:13px}.chip b{font-weight:600;margin-left:2px;color:var(--muted)}
.chip.active{border-color:var(--accent);box-shadow:0 0 0 1px var(--accent) inset}
.chip[class*=" o-"]::before{content:"";display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px;
background:var(--dot,#9aa4b0)}
.chip.o-passed{--dot:var(--pass)}.chip.o-failed{--dot:var(--fail)}.chip.o-warning{--dot:#d4a72c}.chip.o-error{--dot:var(--err)}
.chip.o-inconclusive{--dot:var(--inc)}.chip.o-needs_stimulus{--dot:var(--stim)}.chip.o-untested{--dot:transparent;
}.chip.o-untested::before{border:1px solid var(--untested)}
.search{margin-left:auto;min-width:240px;padding:6px 10px;border:1px solid var(--border);border-radius:8px;
background:var(--panel);color:var(--text);font:inherit}
.area{background:var(--panel);border:1px solid var(--border);border-radius:10px;padding:14px 16px;margin-bottom:14px}
.area h3{font-size:15px}.area-id{font-family:var(--mono);background:var(--na-bg);padding:1px 7px;border-radius:5px}
.stack{display:flex;height:6px;border-radius:3px;overflow:hidden;margin:4px 0 10px;gap:1px}
.stack span.o-passed{background:var(--pass)}.stack span.o-failed{background:var(--fail)}.stack span.o-warning{background:#d4a72c}
.stack span.o-error{background:var(--err)}.stack span.o-inconclusive{background:var(--inc)}.stack span.o-needs_stimulus{background:var(--stim)}
.stack span.o-not_applicable,.stack span.o-skipped{background:#9aa4b0}.stack span.o-untested{background:var(--border)}
table.matrix{width:100%;border-collapse:collapse}
table.matrix th{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);text-align:left;
padding:6px 8px;border-bottom:1px solid var(--border)}
table.matrix td{padding:7px 8px;border-bottom:1px solid var(--border);vertical-align:top}
table.matrix tr:last-child td{border-bottom:0}
table.matrix td:first-child{white-space:nowrap}
table.matrix tr:target{background:var(--warn-bg)}
.ops{display:flex;flex-wrap:wrap;gap:5px;margin-top:12px}
.op{font:12px var(--mono);padding:2px 7px;border-radius:5px;border:1px solid var(--border)}
.op.hit{background:var(--pass-bg);color:var(--pass);border-color:transparent}.op.miss{color:var(--muted)}
table.kv{border-collapse:collapse;width:100%}table.kv th{text-align:left;width:220px;color:var(--muted);font-weight:500;
padding:5px 8px;vertical-align:top}table.kv td{padding:5px 8px;word-break:break-all}
footer{padding:30px 0 40px;color:var(--muted);font-size:12px}
@media print{nav.tabs,.filters,.copy{display:none}details{display:block}}
"""

_JS = """
(function(){
  'use strict';
  var state = {};
  function rowsOf(group){
    return group === 'req' ? document.querySelectorAll('#requirements tr[data-outcome]')
                           : document.querySelectorAll('#tests tr[data-outcome]');
  }
  function apply(group){
    var s = state[group] || {value: 'all', text: ''};
    var shown = 0;
    rowsOf(group).forEach(function(row){
      var ok = (s.value === 'all' || row.getAttribute('data-outcome') === s.value) &&
               (!s.text || (row.getAttribute('data-text') || '').indexOf(s.text) !== -1);
      row.classList.toggle('hidden', !ok);
      if (ok) { shown += 1; }
    });
    if (group === 'req') {
      document.querySelectorAll('#requirements .area').forEach(function(area){
        area.classList.toggle('hidden', !area.querySelector('tr[data-outcome]:not(.hidden)'));
      });
    }
    var empty = document.querySelector('[data-empty="' + group + '"]');
    if (empty) { empty.classList.toggle('hidden', shown !== 0); }
  }
  document.querySelectorAll('.chip[data-filter]').forEach(function(chip){
    chip.addEventListener('click', function(){
      var group = chip.getAttribute('data-filter');
      state[group] = state[group] || {value: 'all', text: ''};
      state[group].value = chip.getAttribute('data-value');
      document.querySelectorAll('.chip[data-filter="' + group + '"]').forEach(function(other){
        other.classList.toggle('active', other === chip);
      });
      apply(group);
    });
  });
  document.querySelectorAll('input[data-search]').forEach(function(input){
    input.addEventListener('input', function(){
      var group = input.getAttribute('data-search');
      state[group] = state[group] || {value: 'all', text: ''};
      state[group].text = input.value.trim().toLowerCase();
      apply(group);
    });
  });
  document.querySelectorAll('[data-copy]').forEach(function(button){
    button.addEventListener('click', function(){
      var text = button.parentNode.querySelector('pre').textContent;
      function done(){ button.textContent = 'Copied'; setTimeout(function(){ button.textContent = 'Copy'; }, 1500); }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function(){});
      } else {
        var range = document.createRange();
        range.selectNodeContents(button.parentNode.querySelector('pre'));
        var selection = window.getSelection();
        selection.removeAllRanges(); selection.addRange(range);
        button.textContent = 'Selected: Ctrl+C';
      }
    });
  });
  // Opening a link to a requirement or a failure shows it even when a filter hid it.
  function reveal(){
    var id = decodeURIComponent(location.hash.slice(1));
    var node = id && document.getElementById(id);
    if (!node) { return; }
    if (node.classList.contains('hidden')) {
      var group = node.closest('#tests') ? 'test' : 'req';
      var all = document.querySelector('.chip[data-filter="' + group + '"][data-value="all"]');
      if (all) { all.click(); }
    }
    var box = node.closest('details');
    if (box) { box.open = true; }
  }
  window.addEventListener('hashchange', reveal);
  reveal();
})();
"""


def render_html(report: Report) -> str:
    """The whole report as one HTML document."""
    target = report.target.get("base_url", "")
    title = f"GWS conformance — {report.verdict.headline} — {target}"
    csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'"
    generated = report.results.get("finished_at") or ""
    return f"""<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="gws-conformance">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head><body>
{_header(report)}
<main>
{_summary(report)}
{_failures(report)}
{_requirements(report)}
{_coverage(report)}
{_tests(report)}
{_run(report)}
</main>
<footer class="wrap">Generated by gws-conformance from the results file (format v{_e(report.results.get("version"))}) · {_e(_when(generated))} ·
the requirement sentences come from spec/requirements.yaml; secrets were redacted when recorded.</footer>
<script>{_JS}</script>
</body></html>
"""
