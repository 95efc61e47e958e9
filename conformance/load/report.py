"""The load run's reports: ``load.json`` (everything measured), ``junit.xml`` (one case per criterion) and
``report.html`` (the conformance report's look, with inline SVG plots; it fetches nothing)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.load.ledger import COUNTERS
from conformance.load.verdict import Criterion
from conformance.reporting import plots
from conformance.reporting.html_assets import CSS

if TYPE_CHECKING:  # run imports Locust, which patches the process with gevent: not for a reader of reports
    from conformance.load.run import Measured

__all__ = ["HTML_FILE", "JSON_FILE", "JUNIT_FILE", "build_document", "write_reports"]

JSON_FILE, JUNIT_FILE, HTML_FILE = "load.json", "junit.xml", "report.html"


def build_document(measured: Measured, criteria: Sequence[Criterion], context: Mapping[str, Any]) -> dict[str, Any]:
    totals = measured.totals
    start = int(measured.started)
    seconds = sorted({*totals.series, *measured.gauges})
    timeline = []
    for second in seconds:
        counts: Mapping[str, int] = totals.series.get(second, {})
        gauge = measured.gauges.get(second, {})
        timeline.append(
            {
                "t": second - start,
                "delivered": counts.get("delivered", 0),
                "requests": counts.get("requests", 0),
                "errors": counts.get("errors", 0),
                "delivery_p50_ms": totals.percentile_ms(0.5, totals.series_latency.get(second, {})),
                "delivery_p99_ms": totals.percentile_ms(0.99, totals.series_latency.get(second, {})),
                "rest_p50_ms": totals.percentile_ms(0.5, totals.series_rest.get(second, {})),
                "rest_p99_ms": totals.percentile_ms(0.99, totals.series_rest.get(second, {})),
                **gauge,
            }
        )
    rss = [g["rss_mb"] for g in measured.gauges.values() if "rss_mb" in g]
    cpu = [g["generator_cpu"] for g in measured.gauges.values() if "generator_cpu" in g]
    server_cpu = [g["server_cpu"] for g in measured.gauges.values() if "server_cpu" in g]
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "passed": all(c.passed for c in criteria),
        "context": dict(context),
        "duration_s": round(measured.ended - measured.started, 1),
        "workers": measured.workers,
        "criteria": [asdict(c) for c in criteria],
        "counters": dict(totals.counters),
        "delivered": totals.delivered,
        "owed": totals.owed,
        "unexpected": totals.unexpected,
        # Counted by Locust as requests named "cometd reopen", so a distributed run's workers are summed.
        "sessions_reopened": measured.rest.get("operations", {}).get("cometd reopen", {}).get("requests", 0),
        "delivery_ms": {q: totals.percentile_ms(f) for q, f in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))},
        "delivery_histogram": totals.histogram_ms(),
        "rest": measured.rest,
        "rest_status": dict(totals.rest_status),
        "rest_checked": totals.rest_checked,
        "rest_violations": dict(totals.rest_violations),
        "rest_warnings": dict(totals.rest_warnings),
        "reference_rss_mb": {"max": round(max(rss), 1), "last": round(rss[-1], 1)} if rss else None,
        # Every load generator process: this one plus what each worker last reported (100 = one core).
        "generator_cpu_percent": _mean_max(cpu),
        "reference_cpu_percent": _mean_max(server_cpu),
        "examples": {k: v for k, v in totals.examples.items() if v},
        "timeline": timeline,
    }


def _mean_max(values: Sequence[float]) -> dict[str, float] | None:
    return {"mean": round(sum(values) / len(values), 1), "max": round(max(values), 1)} if values else None


def write_reports(directory: Path, document: Mapping[str, Any]) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"json": directory / JSON_FILE, "junit": directory / JUNIT_FILE, "html": directory / HTML_FILE}
    paths["json"].write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    paths["junit"].write_bytes(_junit(document))
    paths["html"].write_text(render_html(document), encoding="utf-8")
    return paths


def _junit(document: Mapping[str, Any]) -> bytes:
    criteria = document["criteria"]
    failed = [c for c in criteria if not c["passed"]]
    suite = ET.Element(
        "testsuite",
        name="gws-conformance-load",
        tests=str(len(criteria)),
        failures=str(len(failed)),
        errors="0",
        time=str(document["duration_s"]),
    )
    for criterion in criteria:
        case = ET.SubElement(suite, "testcase", classname="load", name=criterion["name"])
        properties = ET.SubElement(case, "properties")
        for rid in criterion["requirements"]:
            ET.SubElement(properties, "property", name="requirement", value=rid)
        if not criterion["passed"]:
            examples = document["examples"].get(criterion["name"], [])
            failure = ET.SubElement(
                case, "failure", message=f"{criterion['name']} = {criterion['value']} (limit {criterion['limit']})"
            )
            failure.text = "\n".join([criterion["meaning"], *examples])
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True)


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:g}" if isinstance(value, float) else str(value)


def render_html(document: Mapping[str, Any]) -> str:
    passed = document["passed"]
    context = document["context"]
    verdict = "v-conformant" if passed else "v-not_conformant"
    headline = "Passed under load" if passed else "Failed under load"
    broken = [c["name"] for c in document["criteria"] if not c["passed"]]
    detail = (
        "every counter and the delivery objective within its threshold" if passed else "broken: " + ", ".join(broken)
    )
    facts = {
        "Target": context.get("target"),
        "Agents": context.get("agents"),
        "Transport": context.get("transport"),
        "Duration": f"{document['duration_s']} s",
        "Workers": document["workers"],
        "Delivered": document["delivered"],
        "Delivery p99": f"{_fmt(document['delivery_ms']['p99'])} ms",
        "Reference RSS": f"{document['reference_rss_mb']['max']} MB" if document.get("reference_rss_mb") else "—",
    }
    header = (
        f'<header class="top {verdict}"><div class="wrap"><p class="kicker">gws-conformance load</p>'
        f'<h1>{headline}</h1><p class="verdict-detail">{_e(detail)}</p><dl class="facts">'
        + "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in facts.items())
        + "</dl></div></header>"
    )
    cards = []
    for criterion in document["criteria"]:
        state = "good" if criterion["passed"] else "bad"
        ids = " ".join(f"<code>{_e(i)}</code>" for i in criterion["requirements"])
        examples = "".join(f"<li><code>{_e(x)}</code></li>" for x in document["examples"].get(criterion["name"], []))
        cards.append(
            f'<div class="card score {state}"><h3>{_e(criterion["name"])}</h3>'
            f'<div class="big">{_e(_fmt(criterion["value"]))}</div>'
            f"<p>limit {_e(_fmt(criterion['limit']))} · {_e(criterion['meaning'])} {ids}</p>"
            + (f'<ul class="small">{examples}</ul>' if examples else "")
            + "</div>"
        )
    timeline = document["timeline"]

    def points(key: str) -> list[tuple[float, float]]:
        return [(row["t"], row[key]) for row in timeline if row.get(key) is not None]

    figures = [
        plots.lines(
            "Delivery latency over time (REST request sent -> notification received)",
            {"p50": points("delivery_p50_ms"), "p99": points("delivery_p99_ms")},
            "s",
            "ms",
        ),
        plots.lines("REST latency over time", {"p50": points("rest_p50_ms"), "p99": points("rest_p99_ms")}, "s", "ms"),
        plots.lines(
            "Throughput per second",
            {"notifications delivered": points("delivered"), "REST requests": points("requests")},
            "s",
            "per s",
        ),
        plots.histogram("Delivery latency histogram", [(b, n) for b, n in document["delivery_histogram"]], "ms"),
        plots.lines("CometD sessions open", {"sessions": points("sessions")}, "s", "sessions"),
        plots.lines("Reference server memory (RSS)", {"RSS": points("rss_mb")}, "s", "MB"),
        plots.lines(
            "CPU (100 = one core)",
            {"load generator": points("generator_cpu"), "reference server": points("server_cpu")},
            "s",
            "%",
        ),
    ]
    rest_rows = "".join(
        f"<tr><td><code>{_e(name)}</code></td>"
        + "".join(f"<td>{_e(_fmt(f.get(k)))}</td>" for k in ("requests", "failures", "p50_ms", "p95_ms", "p99_ms"))
        + "</tr>"
        for name, f in {**document["rest"].get("operations", {}), "Total": document["rest"].get("total", {})}.items()
    )
    status_rows = "".join(
        f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in sorted(document["rest_status"].items())
    )
    checks = ", ".join(f"{k} {v}" for k, v in document["rest_warnings"].items()) or "none"
    counters = " · ".join(f"{name} {document['counters'].get(name, 0)}" for name in COUNTERS)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>gws-conformance load — {_e(headline)}</title>
<style>{CSS}
figure{{margin:0 0 18px;background:var(--panel);border:1px solid var(--border);border-radius:10px;padding:12px}}
figcaption{{font-weight:600;margin-bottom:6px}}svg.plot{{max-width:100%;height:auto;color:var(--muted)}}
.plots{{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:14px}}
table.t{{border-collapse:collapse;width:100%;background:var(--panel)}}
table.t td,table.t th{{padding:4px 8px;border-bottom:1px solid var(--border);text-align:left}}
</style></head><body>
{header}
<section class="wrap"><h2>Verdict</h2>
<p class="lead">Every notification each agent was owed, matched as it arrived: {_e(counters)}; delivered
{_e(document["delivered"])} of {_e(document["owed"])} owed, {_e(document["unexpected"])} unexpected (reported,
not judged), {_e(document["sessions_reopened"])} session(s) re-opened. Latency is measured on the process that sent
the request.</p>
<div class="cards">{"".join(cards)}</div></section>
<section class="wrap"><h2>Over time</h2><div class="plots">{"".join(figures)}</div></section>
<section class="wrap"><h2>REST</h2>
<p class="lead">{_e(document["rest_checked"])} replies went through the checks registry; SHOULD findings:
{_e(checks)}.</p>
<table class="t"><thead><tr><th>Operation</th><th>Requests</th><th>Failures</th><th>p50 ms</th><th>p95 ms</th>
<th>p99 ms</th></tr></thead><tbody>{rest_rows}</tbody></table>
<h3 style="margin-top:14px">Replies by status</h3>
<table class="t"><tbody>{status_rows}</tbody></table></section>
<section class="wrap"><p class="muted small">Generated {_e(document["generated_at"])} ·
<code>{_e(context.get("command") or "")}</code></p></section>
</body></html>
"""
