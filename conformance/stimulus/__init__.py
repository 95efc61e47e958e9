"""Stimulus adapters: who makes the outside world happen (a customer's e-mail, chat, call).

Scenarios that need an event no API user can cause ask the run's adapter for it. The adapter says
what it did in a ``Stimulus`` record (kept in the test's findings, so the report shows which
adapter caused each event) and how long the scenario should wait for its effect; the scenario then
waits for the notification the event causes, as for any other step.

    reference       the reference server's control API (POST /stimulus/..., reference_impl/stimulus.py)
    manual          a person at the terminal is told what to cause; the scenario waits for the result
    module:Class    a vendor's adapter, a subclass of ``StimulusAdapter`` (constructor: ``(context)``)
    none            no adapter: tests marked ``needs_stimulus`` report "needs stimulus"

An adapter that cannot produce one kind of event raises ``StimulusUnavailable``: the test then reports
"needs stimulus" for that event, neither passing nor failing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from conformance.config import Settings
from conformance.errors import ConfigError

__all__ = [
    "Party",
    "Stimulus",
    "StimulusAdapter",
    "StimulusContext",
    "StimulusUnavailable",
    "load_adapter",
]


class StimulusUnavailable(Exception):
    """The adapter cannot cause this event (the test reports "needs stimulus")."""


@dataclass(frozen=True)
class Party:
    """An agent as a stimulus names it: by user id (control APIs) and userName (people)."""

    user_name: str
    user_id: str | None = None
    phone_number: str | None = None

    def __str__(self) -> str:
        return self.user_name + (f" (phone {self.phone_number})" if self.phone_number else "")


@dataclass
class Stimulus:
    """One event an adapter caused: the evidence a report shows next to the notifications it caused."""

    adapter: str
    action: str
    arguments: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)  # ids the adapter learnt (interactionId, callId...)
    wait_s: float | None = None  # how long the effect may take to show (None: the usual notification timeout)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __getitem__(self, key: str) -> Any:
        return self.result[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.result.get(key, default)

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.arguments.items())
        got = f" -> {self.result}" if self.result else ""
        return f"{self.at.isoformat(timespec='seconds')} [{self.adapter}] {self.action}({shown}){got}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "stimulus",
            "adapter": self.adapter,
            "action": self.action,
            "arguments": self.arguments,
            "result": self.result,
            "at": self.at.isoformat(),
        }


@dataclass
class StimulusContext:
    """What an adapter gets: the run's settings and a way to talk to the person running it."""

    settings: Settings
    say: Callable[[str], None] = print
    record: Callable[[Stimulus], None] = lambda stimulus: None


class StimulusAdapter:
    """The outside world of a contact center. Every event is optional: the default is "cannot"."""

    name = "adapter"

    def __init__(self, context: StimulusContext) -> None:
        self.context = context

    # Every public method returns the Stimulus it caused, after ``_done`` recorded it.
    def _done(
        self, action: str, arguments: dict[str, Any], result: dict[str, Any] | None = None, wait_s: float | None = None
    ) -> Stimulus:
        stimulus = Stimulus(
            self.name, action, {k: v for k, v in arguments.items() if v is not None}, dict(result or {}), wait_s
        )
        self.context.record(stimulus)
        return stimulus

    def _cannot(self, action: str) -> StimulusUnavailable:
        return StimulusUnavailable(f"the {self.name} stimulus adapter cannot cause {action}")

    def inbound_email(
        self,
        *,
        from_address: str,
        to_address: str,
        subject: str,
        text: str = "",
        cc_addresses: str = "",
        reply_to_address: str = "",
        agent: Party | None = None,
        queue: str | None = None,
    ) -> Stimulus:
        """A customer's e-mail arrives (CC and Reply-To optional: the reply rules read them, E65);
        offered to ``agent`` (Ready on email) or through ``queue``."""
        raise self._cannot("an inbound e-mail")

    def inbound_chat(
        self,
        *,
        nickname: str,
        messages: tuple[str, ...] = (),
        agent: Party | None = None,
        queue: str | None = None,
    ) -> Stimulus:
        """A customer opens a chat (having typed ``messages``); offered to ``agent`` or through ``queue``."""
        raise self._cannot("an inbound chat")

    def customer_chat_message(self, interaction_id: str, text: str) -> Stimulus:
        raise self._cannot("a customer chat message")

    def customer_leaves_chat(self, interaction_id: str) -> Stimulus:
        raise self._cannot("a customer leaving a chat")

    def revoke(self, interaction_id: str, *, agent: Party | None = None) -> Stimulus:
        """The system withdraws an invitation (e.g. the agent did not answer in time)."""
        raise self._cannot("a revoked invitation")

    def route(self, interaction_id: str, *, agent: Party | None = None) -> Stimulus:
        """Routing offers an interaction waiting in a queue again."""
        raise self._cannot("routing of a queued interaction")

    def workbin_change(
        self,
        workbin_id: str,
        *,
        agent: Party,
        from_address: str,
        to_address: str,
        subject: str,
        text: str = "",
    ) -> Stimulus:
        """Something outside the agent's session puts a new e-mail into the agent's workbin."""
        raise self._cannot("a workbin change")

    def inbound_call(self, *, from_number: str, to: Party | str) -> Stimulus:
        """An outside number calls an agent's device (``to``: the agent, or a number)."""
        raise self._cannot("an inbound call")

    def far_end_answers(self, call_id: str, *, number: str | None = None) -> Stimulus:
        """The outside party an agent dialled answers (``call_id``: the agent's call)."""
        raise self._cannot("an outside party answering")

    def far_end_hangs_up(self, call_id: str, *, number: str | None = None) -> Stimulus:
        raise self._cannot("an outside party hanging up")

    def reset(self) -> Stimulus:
        """Return the contact center to its initial state (only a sandbox can)."""
        raise self._cannot("a reset")

    def close(self) -> None:
        return None


BUILT_IN = {
    "reference": "conformance.stimulus.reference:ReferenceStimulus",
    "manual": "conformance.stimulus.manual:ManualStimulus",
}


def load_adapter(spec: str, context: StimulusContext) -> StimulusAdapter | None:
    """The adapter ``spec`` names (reference, manual, module:Class), or None for ``none``."""
    if spec == "none":
        return None
    target = BUILT_IN.get(spec, spec)
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        adapter_class = getattr(module, class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"GWS_STIMULUS={spec!r}: cannot load {target} ({type(exc).__name__}: {exc})") from None
    if not (isinstance(adapter_class, type) and issubclass(adapter_class, StimulusAdapter)):
        raise ConfigError(f"GWS_STIMULUS={spec!r}: {target} is not a StimulusAdapter subclass")
    adapter: StimulusAdapter = adapter_class(context)
    return adapter
