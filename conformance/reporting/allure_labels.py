"""pytest plugin: Allure labels that keep fuzz cases apart from scenarios and group tests by requirement.

Loaded by ``gws-conformance run`` next to ``--alluredir`` (``-p conformance.reporting.allure_labels``).
Every test stays its own Allure result (one per operation and role for the fuzz tests); the labels
put the fuzz cases under their own epic and parent suite, and file every test under the areas
(feature) and requirement IDs (story) it proves, so the Behaviors view reads like the catalogue.
"""

from __future__ import annotations

import pytest

from conformance import contract

__all__ = ["FUZZ_EPIC", "SCENARIO_EPIC", "labels_for"]

FUZZ_EPIC = "Fuzzing (every operation, every role)"
SCENARIO_EPIC = "Scenarios and protocol checks"


def labels_for(nodeid: str, requirement_ids: list[str]) -> dict[str, list[str]]:
    """Allure label type -> values for a test."""
    areas = contract.load_document("requirements.yaml").get("areas", {})
    levels = {r["id"]: r["level"] for r in contract.requirements()}
    epic = FUZZ_EPIC if nodeid.split("/", 1)[0] == "fuzz" or "/fuzz/" in nodeid else SCENARIO_EPIC
    features = []
    for rid in requirement_ids:
        area = rid.split("-")[1] if rid.count("-") == 2 else ""
        name = f"{area} — {areas[area]}" if area in areas else area
        if name and name not in features:
            features.append(name)
    must = any(levels.get(rid) == "MUST" for rid in requirement_ids)
    return {
        "epic": [epic],
        "parentSuite": ["fuzz" if epic == FUZZ_EPIC else "scenarios"],
        "feature": features,
        "story": list(requirement_ids),
        "severity": ["critical" if must else "normal"],
    }


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("allure_report_dir", None):
        return
    import allure

    for item in items:
        ids = list(dict.fromkeys(str(rid) for mark in item.iter_markers("requirement") for rid in mark.args))
        for label_type, values in labels_for(item.nodeid, ids).items():
            if values:
                item.add_marker(allure.label(label_type, *values))
