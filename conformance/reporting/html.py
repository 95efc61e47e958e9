"""The single-file HTML conformance report: opens offline, fetches nothing, reads like a bug report.

Everything is inline (CSS, a little JavaScript for the filters), and a Content-Security-Policy forbids
the page any request, so a report can be mailed, attached to a ticket or opened from a CI artifact.
Every piece of text from the run is HTML-escaped; the evidence in it was redacted when it was recorded.

Order of the page: what the verdict is, what broke and how to reproduce it, what of that breaks real
clients, then the requirement matrix, the contract coverage, every test, and the run's configuration.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from conformance.reporting import plots
from conformance.reporting.html_assets import CSS, JS
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
    except (ValueError, RecursionError):  # not JSON, or nested too deep to print (hostile input): as it came
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
  <a href="#clients">Real clients <b>{_broken(report.client_requirements)}</b></a>
  <a href="#requirements">Requirements</a><a href="#coverage">Coverage</a><a href="#tests">Tests</a>
  {_delivery_tab(report)}<a href="#run">Run</a>
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
    {_delivery_card(report)}
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


def _broken(requirements: Iterable[RequirementView]) -> int:
    return sum(r.outcome in ("failed", "warning") for r in requirements)


def _clients(report: Report) -> str:
    """What breaks real clients: the requirements whose catalogue entry names the client habits they protect."""
    chosen = report.client_requirements
    head = (
        f'<section id="clients" class="wrap"><h2>What breaks real clients <span class="count">{_broken(chosen)}'
        '</span></h2><p class="lead">The requirements real GWS and CometD clients rely on, each with the client '
        "code that relies on it (the <code>clients</code> entries of spec/requirements.yaml): a server that breaks "
        "one breaks those clients. A MUST broken fails the run, a SHOULD broken is a warning.</p>"
    )
    if not chosen:
        return head + '<p class="empty">No requirement of the catalogue names the clients it protects.</p></section>'
    anchors = {t.nodeid: t.anchor for t in report.tests}
    in_matrix = {r.id for r in report.requirements}
    rows = []
    for r in chosen:
        ident = f"<code>{_e(r.id)}</code>"
        if r.id in in_matrix:
            ident = f'<a href="#r-{_e(r.id)}">{ident}</a>'
        links = "".join(
            f'<li><a href="#{_e(anchors[n])}"><code>{_e(n)}</code></a></li>' for n in r.failing if n in anchors
        )
        failing = f'<ul class="plain small">{links}</ul>' if links else ""
        habits = "".join(
            f'<li>{_e(c.habit)}<div class="muted small"><code>{_e(c.repo)}</code> · <code>{_e(c.path)}</code> · '
            f"{_e(c.where)}</div></li>"
            for c in r.clients
        )
        rows.append(
            f'<tr data-client-outcome="{_e(r.outcome)}"><td>{ident}</td><td>{_level(r.level)}</td>'
            f'<td>{_badge(r.outcome)}{failing}</td><td>{_e(r.text)}</td><td><ul class="habits">{habits}</ul></td></tr>'
        )
    return (
        head + '<div class="card"><table class="matrix clients"><thead><tr><th>ID</th><th>Level</th><th>Outcome</th>'
        "<th>Requirement</th><th>What the client does</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


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


def _ms(seconds: Any) -> str:
    return (
        "—"
        if seconds is None
        else f"{1000 * float(seconds):,.0f} ms"
        if seconds >= 0.01
        else f"{1000 * float(seconds):.1f} ms"
    )


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else "—"


def _delivery_tab(report: Report) -> str:
    delivery = report.results.get("delivery")
    if not delivery:
        return ""
    late = len(delivery.get("late_messages") or ())
    return f'<a href="#delivery">Delivery{f" <b>{late} late</b>" if late else ""}</a>'


def _delivery_card(report: Report) -> str:
    delivery = report.results.get("delivery")
    if not delivery:
        return ""
    latency, windows = delivery.get("latency_s") or {}, delivery.get("windows_s") or {}
    late = delivery.get("late_messages") or []
    late_line = f"<p>{_badge('warning', f'{len(late)} late message(s)')}</p>" if late else ""
    return f"""
<div class="card">
  <h3><a href="#delivery">Notification delivery</a></h3>
  <p><span class="big small">{_e(_ms(latency.get("p99")))}</span> p99 of {_e(latency.get("count", 0))} messages</p>
  <p class="muted">{_e(windows.get("count", 0))} quiet windows ({_e(delivery.get("quiet_window"))}),
  {_e(windows.get("total", 0))} s in all</p>{late_line}
</div>"""


def _delivery(report: Report) -> str:
    """How quickly the target delivered what the scenarios expected, the quiet windows sized from it, and the
    messages that came after the scenario that caused them had ended (conformance/delivery.py)."""
    delivery = report.results.get("delivery")
    if not delivery:
        return ""
    latency, windows = delivery.get("latency_s") or {}, delivery.get("windows_s") or {}
    sizing = delivery.get("sizing") or {}
    if delivery.get("quiet_window") == "fixed":
        rule = "fixed by GWS_QUIET_WINDOW_S (the user's, or the command's own for the embedded reference)"
    else:
        rule = (
            f"sized from the measured delivery: {_number(sizing.get('safety_factor'))} &times; the largest of the recent "
            f"latencies, at least {_number(sizing.get('floor_s'))} s and at most {_number(sizing.get('ceiling_s'))} s (the "
            "configured window until three latencies are known)"
        )
    stats = " · ".join(
        f"{name} {_ms(latency.get(key))}"
        for name, key in (("median", "median"), ("p90", "p90"), ("p99", "p99"), ("max", "max"))
    )
    spent = (
        f"{_e(windows.get('count'))} window{'' if windows.get('count') == 1 else 's'}, median {_e(windows.get('median'))} s, from {_e(windows.get('min'))} s "
        f"to {_e(windows.get('max'))} s, {_e(windows.get('total'))} s in all"
        if windows.get("count")
        else "none spent"
    )
    histogram = plots.histogram(
        "Delivery latency of the expected messages",
        [(float(upper), int(count)) for upper, count in delivery.get("latency_histogram_ms") or ()],
        "ms",
    )
    late = delivery.get("late_messages") or []
    late_html = (
        '<h3>Late messages</h3><p class="lead">Each came after the scenario that caused it had ended and its quiet '
        "window had closed: that scenario treated it as absent, and no later check was failed for it.</p><ul>"
        + "".join(f"<li>{_badge('warning', 'late')} <code>{_e(text)}</code></li>" for text in late)
        + "</ul>"
        if late
        else '<p class="muted">No message arrived after its scenario\'s quiet window.</p>'
    )
    return f"""
<section id="delivery" class="wrap"><h2>Notification delivery</h2>
<p class="lead">Each expected message's delivery latency: from the end of the request (or stimulus) that caused it
to its arrival. The quiet windows, how long the suite watches for a message that must not come, are sized from it.</p>
<div class="card"><table class="kv">
<tr><th>Latency</th><td>{_e(latency.get("count", 0))} messages · {_e(stats)}</td></tr>
<tr><th>Quiet windows</th><td>{spent}</td></tr>
<tr><th>Window rule</th><td class="small">{rule}</td></tr>
</table>
{histogram}
<p class="muted small">The lowest bar also holds the messages that arrived before the response to their request
(counted 0 ms).</p>
{late_html}
</div></section>"""


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
<style>{CSS}</style>
</head><body>
{_header(report)}
<main>
{_summary(report)}
{_failures(report)}
{_clients(report)}
{_requirements(report)}
{_coverage(report)}
{_tests(report)}
{_delivery(report)}
{_run(report)}
</main>
<footer class="wrap">Generated by gws-conformance from the results file (format v{_e(report.results.get("version"))}) · {_e(_when(generated))} ·
the requirement sentences come from spec/requirements.yaml; secrets were redacted when recorded.</footer>
<script>{JS}</script>
</body></html>
"""
