"""JUnit XML as CI systems read it: a suite error is an <error>, not a <failure>.

pytest writes every failed call as <failure>, so a test that broke in the suite itself (outcome
"error": never counted against the target) would read as a conformance failure to a CI system. The
plugin marks each test case with its outcome (the ``gws_outcome`` property); this turns the failed
ones whose outcome is "error" into <error> elements and keeps the suite's counts right.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

__all__ = ["mark_suite_errors"]


def mark_suite_errors(path: Path) -> int:
    """Rewrite ``path`` in place; returns how many test cases became errors (0: the file is untouched)."""
    tree = ET.parse(path)
    changed = 0
    for suite in tree.getroot().iter("testsuite"):
        moved = 0
        for case in suite.iter("testcase"):
            outcome = case.find("properties/property[@name='gws_outcome']")
            failure = case.find("failure")
            if outcome is not None and outcome.get("value") == "error" and failure is not None:
                failure.tag = "error"
                moved += 1
        if moved:
            suite.set("failures", str(int(suite.get("failures", "0")) - moved))
            suite.set("errors", str(int(suite.get("errors", "0")) + moved))
            changed += moved
    if changed:
        tree.write(path, encoding="utf-8", xml_declaration=True)
    return changed
