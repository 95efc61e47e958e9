"""A conformance failure is data: which requirements broke, how badly, and the evidence.

``Violation`` is an ``AssertionError`` so pytest reports it as a failure of the target; its level
decides the outcome (MUST -> fail, SHOULD/MAY -> warning). The evidence is whatever the suite
recorded — HTTP exchanges and notification records — and the text ends with the curl command
that repeats the offending request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

__all__ = ["Evidence", "Level", "Reproducible", "Violation"]


class Level(StrEnum):
    """RFC 2119 strength of the requirement a violation breaks."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


@runtime_checkable
class Evidence(Protocol):
    """A recorded fact: an HTTP exchange, a notification, a CometD reply."""

    @property
    def seq(self) -> int: ...

    def render(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


@runtime_checkable
class Reproducible(Evidence, Protocol):
    """Evidence that a shell command can repeat (an HTTP exchange)."""

    def to_curl(self) -> str: ...


class Violation(AssertionError):
    """The target broke one or more requirements; ``evidence`` shows how."""

    def __init__(
        self,
        *,
        title: str,
        message: str,
        requirement_ids: Sequence[str],
        level: Level = Level.MUST,
        evidence: Iterable[Evidence] = (),
        check: str | None = None,
    ) -> None:
        self.title = title
        self.message = message
        self.requirement_ids: tuple[str, ...] = tuple(requirement_ids)
        self.level = Level(level)
        self.evidence: tuple[Evidence, ...] = tuple(evidence)
        self.check = check
        super().__init__(self.render())

    @property
    def is_warning(self) -> bool:
        """A SHOULD or MAY broken: reported as a warning, never as a failure."""
        return self.level is not Level.MUST

    @property
    def reproduction(self) -> str | None:
        """The curl command for the last HTTP exchange in the evidence (the one the violation is about)."""
        reproducible = [e for e in self.evidence if isinstance(e, Reproducible)]
        return reproducible[-1].to_curl() if reproducible else None

    def render(self) -> str:
        ids = ", ".join(self.requirement_ids) or "no requirement"
        lines = [f"[{self.level}] {self.title} ({ids})", "", self.message]
        if self.evidence:
            lines += ["", "Evidence:"]
            for item in self.evidence:
                lines += ["", item.render()]
        reproduction = self.reproduction
        if reproduction is not None:
            lines += ["", f"Reproduce with: {reproduction}"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "message": self.message,
            "requirement_ids": list(self.requirement_ids),
            "level": str(self.level),
            "check": self.check,
            "evidence": [e.to_dict() for e in self.evidence],
            "reproduce": self.reproduction,
        }
