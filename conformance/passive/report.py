"""The passive judge's results as the reports ``run`` writes: results.json, junit.xml, report.html, summary.md.

The results file is the one pytest's plugin writes (conformance/results.schema.json), so the HTML and Markdown
come from ``conformance.reporting.write_reports`` unchanged; the JUnit XML, which pytest writes for ``run``, is
written here from the same results (one test case per rule, its outcome in the ``gws_outcome`` property).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.reporting import JUNIT_FILE, RESULTS_FILE, ReportFiles, write_reports
from conformance.results import RunResults

__all__ = ["write_passive_reports"]


def write_passive_reports(
    results: RunResults, directory: Path, *, target: str, command: str | None, interrupted: bool = False
) -> ReportFiles:
    """Write every report of ``results`` into ``directory``; ``target``: what was judged (files, upstream)."""
    directory.mkdir(parents=True, exist_ok=True)
    results.target = {
        "base_url": target,
        "cometd_url": "",
        "users": {},
        "stimulus": "none (passive: recorded traffic)",
        "fuzz": {"profile": "quick", "max_examples": 1},
        "seed": 0,
    }
    results.write(directory / RESULTS_FILE)
    write_junit(results.to_dict()["tests"], directory / JUNIT_FILE)
    context = {"server": None, "command": command, "interrupted": interrupted}
    return write_reports(directory, context=context)


def write_junit(tests: Sequence[dict[str, Any]], path: Path) -> None:
    """JUnit XML as CI systems read it: a failed rule is a <failure>, a warning a passed case with its property."""
    suite = ET.Element("testsuite", name="gws-conformance", tests=str(len(tests)))
    failures = 0
    for test in tests:
        case = ET.SubElement(suite, "testcase", classname="passive", name=str(test["nodeid"]))
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="gws_outcome", value=str(test["outcome"]))
        ET.SubElement(properties, "property", name="requirements", value=" ".join(test["requirements"]))
        if test["outcome"] == "failed":
            failures += 1
            failure = ET.SubElement(case, "failure", message=str(test.get("title") or "failed"))
            failure.text = str(test.get("message") or "")
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
