"""Every operation of spec/openapi.yaml, fuzzed as every role its ``x-gws-roles`` allows.

One test per (operation, role) for each kind, so a JUnit or Allure report shows which operation
broke for whom — never one test for the whole API:

- positive data: schema-valid requests succeed (statusCode 0) or get a documented error
  (statusCode 1..6 with its statusMessage, HTTP status per E12); every reply matches its schema.
- negative data: requests that still break the contract as sent are refused with statusCode 1
  or 2 (E13) — never a 5xx or statusCode 4 (GEN-004). Only operations that take a body or query
  parameters have negative tests: a path value alone cannot break the contract (a 6 is right).
- stateful: chains through the contract's OpenAPI links (create a user, assign it a skill, delete it).

The cases come from the run's seed (``--gws-seed``); the budget from ``--gws-profile``. How the
fixture contact center is kept intact: conformance/suite/fuzz/bindings.py. Fuzzing changes the
state of the accounts it acts as: each test holds its account as the scenarios do (their account
locks), so a scenario on another pytest-xdist worker never shares it with a fuzz test.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from conformance.errors import GwsConformanceError
from conformance.stimulus import StimulusUnavailable
from conformance.suite.fuzz.catalogue import Operation, operations
from conformance.suite.fuzz.session import linked_operations

# What every fuzz test proves about each reply (the registered checks it runs).
REPLY_REQUIREMENTS = (
    "GWS-GEN-001",
    "GWS-GEN-002",
    "GWS-GEN-003",
    "GWS-GEN-007",
    "GWS-GEN-009",
    "GWS-GEN-026",
    "GWS-GEN-028",
)
LIST_REQUIREMENTS = ("GWS-GEN-005", "GWS-GEN-006")
NEGATIVE_REQUIREMENTS = ("GWS-GEN-004", "GWS-GEN-011", "GWS-GEN-012", "GWS-GEN-014")
# E26: the Cloud Admin operation is declared, and reported not applicable.
ROLE_REQUIREMENTS = {"cloudAdmin": ("GWS-FEAT-010",)}


@pytest.fixture(scope="module", autouse=True)
def _leave_the_contact_center_as_found(
    request: pytest.FixtureRequest, gws_fuzz: Any, gws_stimulus_adapter: Any
) -> Iterator[None]:
    """After the last fuzz test: delete what the run made; a sandbox with a reset goes back to its fixture."""
    yield
    gws_fuzz.close()
    if hasattr(request.config, "workerinput"):
        return  # other pytest-xdist workers may be running tests against the same contact center
    adapter = gws_stimulus_adapter
    if adapter is not None:
        with contextlib.suppress(StimulusUnavailable, GwsConformanceError):
            adapter.reset()  # interactions and calls fuzzing opened go too (only a sandbox can)


def _marks(operation: Operation, role: str, requirement_ids: tuple[str, ...]) -> list[Any]:
    marks = [pytest.mark.requirement(*requirement_ids, *ROLE_REQUIREMENTS.get(role, ()))]
    if operation.feature:
        marks.append(pytest.mark.feature(operation.feature))
    return marks


def _cases(kind: str) -> Iterator[Any]:
    for operation in operations().values():
        if kind == "negative" and not operation.negatable:
            continue
        ids = REPLY_REQUIREMENTS + (LIST_REQUIREMENTS if operation.collection else ())
        ids += NEGATIVE_REQUIREMENTS if kind == "negative" else ()
        for role in operation.roles:
            yield pytest.param(
                operation.label, role, id=f"{operation.label} as {role}", marks=_marks(operation, role, ids)
            )


@pytest.mark.parametrize(("label", "role"), list(_cases("positive")))
def test_positive_data(label: str, role: str, gws_fuzz: Any) -> None:
    __tracebackhide__ = True
    gws_fuzz.fuzz(label, role, "positive")


@pytest.mark.parametrize(("label", "role"), list(_cases("negative")))
def test_negative_data(label: str, role: str, gws_fuzz: Any) -> None:
    __tracebackhide__ = True
    gws_fuzz.fuzz(label, role, "negative")


@pytest.mark.parametrize(
    "role",
    [pytest.param(role, id=f"links as {role}") for role in ("admin", "supervisor", "agent") if linked_operations(role)],
)
@pytest.mark.requirement(*REPLY_REQUIREMENTS, "GWS-GEN-018", "GWS-GEN-019")
def test_stateful_links(role: str, gws_fuzz: Any) -> None:
    __tracebackhide__ = True
    gws_fuzz.stateful(role)
