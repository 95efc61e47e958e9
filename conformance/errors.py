"""The exceptions the conformance engine raises.

Each branch maps to one outcome, so the report never blames the target for the suite's own faults:

GwsConformanceError
 ├── ConfigError             the suite's configuration is unusable (outcome: error)
 ├── TargetError             the target could not be talked to; carries the recorded exchange (outcome: fail)
 │    ├── TargetUnreachable      connection refused, reset or lost; name not resolved
 │    ├── TargetTimeout          no complete answer within request_timeout_s
 │    └── TargetProtocolError    an answer that is not usable HTTP, or not JSON where JSON is due
 ├── SuiteError              the suite itself broke: a missing schema, a misused check (outcome: error)
 ├── UsageError              the command was given bad input (one line, exit 2)
 └── TargetProblem           the command's target is unreachable or not a GWS server (one line, exit 3)

A conformance failure of a *reachable* target is not an exception here: it is a
``conformance.failures.Violation`` (an ``AssertionError``), which pytest reports as a failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the client imports this module; only type checkers need the reverse link
    from conformance.client import Exchange

__all__ = [
    "ConfigError",
    "GwsConformanceError",
    "SuiteError",
    "TargetError",
    "TargetProblem",
    "TargetProtocolError",
    "TargetTimeout",
    "TargetUnreachable",
    "UsageError",
]


class GwsConformanceError(Exception):
    """Base of every exception the engine raises on purpose."""


class ConfigError(GwsConformanceError):
    """The configuration cannot be used; ``problems`` holds one sentence per bad input."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems: tuple[str, ...] = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("\n".join(self.problems))


class TargetError(GwsConformanceError):
    """The target failed below the API level. ``exchange`` is the recorded attempt (evidence)."""

    def __init__(self, message: str, exchange: Exchange | None = None) -> None:
        super().__init__(message)
        self.exchange = exchange

    def render(self) -> str:
        """The message, the recorded exchange and the curl command that repeats the attempt."""
        if self.exchange is None:
            return str(self)
        return f"{self}\n\n{self.exchange.render()}\n\nReproduce with: {self.exchange.to_curl()}"


class TargetUnreachable(TargetError):
    """No connection could be made, or the connection was reset or lost before a complete answer."""


class TargetTimeout(TargetError):
    """The target did not answer completely within the configured request timeout."""


class TargetProtocolError(TargetError):
    """The target answered, but not with HTTP the suite can read, or not with JSON where JSON is due."""


class SuiteError(GwsConformanceError):
    """The suite itself is broken (never counted against the target)."""


class UsageError(GwsConformanceError):
    """Bad input from the person running the command: one line, exit 2."""


class TargetProblem(GwsConformanceError):
    """The target cannot be reached or is not a GWS server: one line, exit 3."""
