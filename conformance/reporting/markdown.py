"""The Markdown summary of a run, short enough for a pull-request comment.

Verdict, both scores, the new failures (at most ``MAX_ROWS``) with the requirement each breaks, the
first one's curl command, what breaks real clients, and what the baseline did. The HTML report holds everything else.
"""

from __future__ import annotations

from conformance.delivery import describe
from conformance.reporting.model import OUTCOME_LABELS, Report

__all__ = ["render_markdown"]

MAX_ROWS = 15
_ICONS = {"conformant": "✅", "not_conformant": "❌", "suite_error": "⚠️", "interrupted": "⏹️"}
_TEST_ORDER = ("passed", "failed", "warning", "error", "needs_stimulus", "not_applicable", "skipped")


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _clients(report: Report) -> list[str]:
    """What breaks real clients: every requirement naming the client habits it protects, broken ones first."""
    chosen = report.client_requirements
    if not chosen:
        return []
    broken = sum(r.outcome in ("failed", "warning") for r in chosen)
    lines = [
        f"#### What breaks real clients ({broken} of {len(chosen)} broken)",
        "",
        "| Requirement | Level | Outcome | What the client does | Source |",
        "|---|---|---|---|---|",
    ]
    for r in chosen:
        failing = "".join(f"<br>`{_cell(n)}`" for n in r.failing[:3])
        habits = "<br>".join(_cell(c.habit) for c in r.clients)
        sources = "<br>".join(f"`{_cell(c.repo)}` `{_cell(c.path)}` ({_cell(c.where)})" for c in r.clients)
        lines.append(
            f"| **{r.id}** {_cell(r.text)} | {r.level} | {OUTCOME_LABELS.get(r.outcome, r.outcome)}{failing} "
            f"| {habits} | {sources} |"
        )
    return [*lines, ""]


def render_markdown(report: Report, html_name: str = "report.html") -> str:
    results = report.results
    verdict = report.verdict
    must, should = report.must, report.should
    lines = [
        f"### {_ICONS.get(verdict.code, '')} GWS conformance: {verdict.headline}",
        "",
        verdict.detail,
        "",
        f"Target `{report.target.get('base_url', '?')}`"
        + (f" · server `{_cell(report.server)}`" if report.server else "")
        + f" · profile {results.get('profile')} · seed `{results.get('seed')}` · {_duration(results.get('duration_s'))}",
        "",
        "| | MUST | SHOULD |",
        "|---|---|---|",
        f"| Score | **{must.text()}** ({must.passed}/{must.judged}) | **{should.text()}** ({should.passed}/{should.judged}) |",
        f"| Broken | {must.failed} | {should.failed} |",
        f"| Without a verdict | {must.other} | {should.other} |",
        "",
    ]
    counts = report.outcome_counts()
    shown = ", ".join(f"{counts[o]} {OUTCOME_LABELS[o].lower()}" for o in _TEST_ORDER if counts.get(o))
    lines += [f"**Tests:** {len(report.tests)} — {shown or 'none ran'}", ""]
    if delivery := describe(results.get("delivery")):
        lines += [f"**Timing:** {'; '.join(line for line in delivery if not line.startswith('LATE'))}", ""]
        lines += [f"- ⚠ {_cell(line)}" for line in delivery if line.startswith("LATE")]
        lines += [""] if any(line.startswith("LATE") for line in delivery) else []
    coverage = report.coverage
    if coverage.journal_found:
        lines += [
            (
                f"**Coverage:** {coverage.operations_hit}/{len(coverage.operations_declared)} operations, "
                f"{coverage.kinds_hit}/{len(coverage.kinds_declared)} notification kinds"
            ),
            "",
        ]
    failures = report.new_failures
    if failures:
        lines += [f"#### Failures ({len(failures)})", "", "| Requirement | Test | What broke |", "|---|---|---|"]
        for test in failures[:MAX_ROWS]:
            ids = ", ".join(test.violated or test.requirements) or "—"
            lines.append(f"| {_cell(ids)} | `{_cell(test.nodeid)}` | {_cell(test.title or 'failed')} |")
        if len(failures) > MAX_ROWS:
            lines.append(f"| … | {len(failures) - MAX_ROWS} more in the HTML report | |")
        lines.append("")
        first = next((t for t in failures if t.reproduce), None)
        if first is not None:
            lines += [
                "<details><summary>Reproduce the first failure</summary>",
                "",
                "```sh",
                str(first.reproduce),
                "```",
                "</details>",
                "",
            ]
    lines += _clients(report)
    warnings = report.tests_with("warning")
    if warnings:
        lines += [f"<details><summary>Warnings ({len(warnings)}): SHOULD requirements broken</summary>", ""]
        lines += [f"- `{_cell(t.nodeid)}` — {_cell(t.title or '')}" for t in warnings[:MAX_ROWS]]
        lines += ["", "</details>", ""]
    if report.baseline is not None:
        baseline = report.baseline
        lines.append(
            f"**Baseline:** {len(baseline.get('known', []))} known failure(s) accepted, "
            f"{len(baseline.get('new', []))} new, {len(baseline.get('stale', []))} stale entr"
            + ("y" if len(baseline.get("stale", [])) == 1 else "ies")
            + (" (now passing: remove them)" if baseline.get("stale") else "")
        )
        for entry in baseline.get("stale", [])[:MAX_ROWS]:
            lines.append(
                f"- stale: `{_cell(entry.get('test') or entry.get('requirement'))}` — {_cell(entry.get('reason'))}"
            )
        lines.append("")
    lines.append(f"Full report: `{html_name}` (with the exchanges, curl commands and timelines of every failure).")
    return "\n".join(lines) + "\n"
