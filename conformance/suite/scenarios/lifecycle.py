"""What the e-mail, chat and voice scenarios share: the agents they hold, and how each step is judged.

Isolation under pytest-xdist: a scenario holds every configured account it uses for its whole run
(``gws_exclusive``: one file lock per account, shared by all workers; all of a scenario's accounts
are taken in one call, sorted, so two scenarios cannot deadlock). Under that lock the messages an
account receives belong to the scenario, which is what lets it assert that nothing unexpected or
duplicated arrived: taking the lock waits until what earlier holders caused (their cleanup too) can
no longer arrive. Each scenario also works only on interactions and calls it created itself and
leaves none behind (``Cast.cleanup`` runs even when a step failed).

Capabilities tell the truth: every operation a scenario performs must be listed in the capabilities
of the latest message about that object (``require_listed``); after a step, the object is re-read and
must show the state and capabilities of that message, and one operation the message does *not* list
is tried: it must be refused with statusCode 2 (E13), leave the object as it was, and cause no message
(``refuse_unlisted``).

Quiet checks: a step judges at once what has arrived (``no_stray_yet``); only the scenario's last check
(``quiet``) waits the quiet window, for whatever comes late — conformance/inbox.py says why that loses
nothing but the precision of which step a late stray is blamed on.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance import findings
from conformance.api import Agent, Reply
from conformance.client import GwsClient
from conformance.cometd import NotificationListener
from conformance.config import Settings
from conformance.errors import GwsConformanceError, SuiteError
from conformance.failures import Level, Violation
from conformance.inbox import Inbox
from conformance.notifications import known_value_warnings
from conformance.overlap import at_once
from conformance.stimulus import Party as StimulusParty
from conformance.suite.scenarios.support import Me, require

__all__ = [
    "REFUSAL",
    "Cast",
    "Party",
    "best_effort",
    "capabilities_of",
    "cast_fixture",
    "no_stray_yet",
    "quiet",
    "refuse_unlisted",
    "require_listed",
    "warn_unknown_values",
]

# What every refusal of an operation that is not listed proves (E13, E18): statusCode 2, nothing
# changed, no message.
REFUSAL = ("GWS-GEN-010", "GWS-GEN-013", "GWS-NOTIF-008")
NOT_IN_CAPABILITIES = 2
# What a cleanup waits for a message after its scenario failed (Cast.cleanup).
FAILED_CLEANUP_WAIT_S = 1.0
# What a cleanup waits for a message its own action causes (a call it hung up Released) on an agent that never
# listened in its scenario: no inbox, so no timeout of the scenario's to take.
UNHEARD_CLEANUP_WAIT_S = 5.0

ClientFor = Callable[[str], GwsClient]
Hold = Callable[..., None]
OpenInbox = Callable[..., Inbox]


@dataclass(eq=False)  # one object per agent and scenario: compared and hashed by identity
class Party:
    """A configured agent taking part in a scenario: its client, what GET /me says, its inbox."""

    role: str
    client: GwsClient
    me: Me
    open_inbox: OpenInbox
    listener: NotificationListener
    inbox: Inbox | None = None
    unheard_wait_s: float = UNHEARD_CLEANUP_WAIT_S

    @property
    def agent(self) -> Agent:
        return Agent(self.client)

    @property
    def id(self) -> str:
        return self.me.id

    @property
    def user_name(self) -> str:
        return self.me.user_name

    @property
    def device_id(self) -> str:
        if not self.me.device_ids:
            raise SuiteError(f"{self.role} has no device: the voice scenarios need one per agent")
        return self.me.device_ids[0]

    @property
    def phone(self) -> str:
        return str(self.me.device(self.device_id).get("phoneNumber", ""))

    def stimulus_party(self) -> StimulusParty:
        """The agent as a stimulus adapter names it (user id for control APIs, userName for people)."""
        phone = self.phone if self.me.device_ids else None
        return StimulusParty(self.user_name, self.id, phone)

    def listen(self, *topics: str) -> Inbox:
        """Open the agent's inbox on ``topics``: from now on every message there must be claimed."""
        self.inbox = self.open_inbox(self.role, topics=topics)
        return self.inbox

    def cleanup_wait_s(self, topic: str) -> float:
        """How long a cleanup waits for a message on ``topic`` its action causes: the scenario's timeout (Cast.cleanup
        cuts it when the scenario failed), and not at all on a topic the run knows the target drops. Nothing is
        judged there: what comes later reaches the next holder of the account, which names it as late."""
        if self.inbox is None:
            return self.unheard_wait_s
        clock = self.inbox.clock
        return 0.0 if clock is not None and clock.known_missing(topic) else self.inbox.timeout_s

    @property
    def messages(self) -> Inbox:
        if self.inbox is None:
            raise SuiteError(f"{self.role}: the scenario expects messages before listening")
        return self.inbox


@dataclass
class Cast:
    """The configured agents of one scenario, held exclusively until the test ends."""

    client_for: ClientFor
    hold: Hold
    open_inbox: OpenInbox
    listener_for: Callable[[str], NotificationListener]
    pool: tuple[str, ...] = ("agent1", "agent2", "agent3")  # the agent roles of the pool (Settings.agent_pool)
    cleanups: list[Callable[[], object]] = field(default_factory=list)
    _parties: list[Party] = field(default_factory=list)

    def take(self, *roles: str, whole_pool: bool = False) -> tuple[Party, ...]:
        """Lock the accounts (all at once, once per scenario), then read who they are. The agent roles are played
        by whichever agents of the pool are free (conformance.casting). ``whole_pool``: the scenario's messages
        may go to any agent (routing), so every agent of the pool is held, and those beyond ``roles`` join the
        cast after them."""
        if self._parties:
            raise SuiteError("Cast.take: a scenario takes all its accounts in one call (no lock-order deadlock)")
        self.hold(*roles, recast=True, whole_pool=whole_pool)
        if whole_pool:
            roles = tuple(dict.fromkeys((*roles, *self.pool)))
        clients = [self.client_for(role) for role in roles]
        # Who each is: read at once (a whole-pool scenario reads ten agents; over a network each read is a round trip).
        mes = at_once([functools.partial(Me.read, client) for client in clients])
        for role, client, me in zip(roles, clients, mes, strict=True):
            self._parties.append(Party(role, client, me, self.open_inbox, self.listener_for(role)))
        return tuple(self._parties)

    def on_cleanup(self, action: Callable[[], object]) -> None:
        """Run ``action`` when the scenario ends, passed or failed (last registered runs first)."""
        self.cleanups.append(action)

    def cleanup(self, *, failed: bool = False) -> None:
        """Run the cleanups. The messages they cause are waited out by the next holder of the accounts
        (``gws_exclusive``), which then knows when this scenario last changed anything. ``failed``: the scenario
        failed, so the target may never send what a cleanup waits for (fail fast): each such wait is cut to
        FAILED_CLEANUP_WAIT_S; the next holder's settling still waits out whatever does come."""
        if failed:
            for party in self._parties:
                party.unheard_wait_s = min(party.unheard_wait_s, FAILED_CLEANUP_WAIT_S)
                if party.inbox is not None:
                    party.inbox.timeout_s = min(party.inbox.timeout_s, FAILED_CLEANUP_WAIT_S)
        for action in reversed(self.cleanups):
            best_effort(action)
        self.cleanups.clear()

    @property
    def parties(self) -> list[Party]:
        return self._parties


def cast_fixture() -> Any:
    """A ``cast`` fixture for a scenario module (``cast = cast_fixture()``): the scenario's agents, cleaned
    up after it, before gws_exclusive releases their locks. A new function per module, so that no pytest
    version sees one function made a fixture twice."""

    def cast(
        request: pytest.FixtureRequest,
        gws_client: ClientFor,
        gws_exclusive: Hold,
        gws_inbox: OpenInbox,
        gws_listener: Callable[[str], NotificationListener],
        gws_settings: Settings,
    ) -> Iterator[Cast]:
        scene = Cast(gws_client, gws_exclusive, gws_inbox, gws_listener, gws_settings.agent_pool)
        yield scene
        outcome = dict(request.node.user_properties).get("gws_outcome")  # the plugin's verdict on the call
        scene.cleanup(failed=outcome in ("failed", "error"))

    return pytest.fixture(cast)


def best_effort(action: Callable[[], object]) -> None:
    """Cleanup must not hide the scenario's own result: what it finds is not judged."""
    token = findings.current()
    findings.activate(None)  # nothing cleanup meets becomes a warning of the test
    try:
        action()
    except (GwsConformanceError, AssertionError, KeyError, TypeError, ValueError):
        pass
    finally:
        findings.activate(token)


# -- judging a step ---------------------------------------------------------------------------------


def capabilities_of(item: Mapping[str, Any] | None) -> list[str]:
    value = item.get("capabilities") if isinstance(item, Mapping) else None
    return [c for c in value if isinstance(c, str)] if isinstance(value, list) else []


def require_listed(operation: str, item: Mapping[str, Any], what: str, *ids: str) -> None:
    """The scenario performs ``operation``: the latest message about the object must have listed it."""
    listed = capabilities_of(item)
    require(
        operation in listed,
        f"{operation} is not in the capabilities of {what}",
        f"The scenario's next step is {operation}, valid in this state, but the latest message about {what} "
        f"lists only {listed}: capabilities must list every operation valid now.",
        *ids,
    )


def quiet(*parties: Party, window_s: float | None = None) -> None:
    """Nothing unclaimed arrived for any of ``parties`` since their inboxes opened, nor arrives within the
    quiet window (one window spent for all of them): a scenario's last check."""
    inboxes = [p.inbox for p in parties if p.inbox is not None]
    if not inboxes:
        return
    window = window_s if window_s is not None else inboxes[0].spend_window()
    deadline = time.monotonic() + window
    for inbox in inboxes:
        inbox.assert_quiet(window_s=max(deadline - time.monotonic(), 0.0))


def no_stray_yet(*parties: Party) -> None:
    """A step's check: nothing unclaimed has arrived for any of ``parties`` so far. No window: the final
    ``quiet`` catches what comes late, since every message must be claimed (conformance/inbox.py)."""
    quiet(*parties, window_s=0)


@dataclass(frozen=True)
class Attempt:
    """An operation tried while it is not listed: its name and how to send it (``expect`` given)."""

    name: str
    send: Callable[..., Reply]
    attributes: Mapping[str, Any] = field(default_factory=dict)


def refuse_unlisted(
    *,
    what: str,
    message: Mapping[str, Any],
    reread: Callable[[], Mapping[str, Any]],
    attempts: Sequence[Attempt],
    parties: Iterable[Party],
    ids: Sequence[str],
    same: Callable[[Mapping[str, Any]], Any],
    compare_state: bool = True,
) -> str:
    """Re-read the object, try the first operation of ``attempts`` that ``message`` does not list.

    ``message``: the object as its latest message showed it; ``reread``: GET of the object;
    ``same``: the part of the object that must not change (state, capabilities, ...).
    The re-read must show the message's state (unless ``compare_state`` is False: a message whose state
    names an event rather than where the object stands, as LeftConference) and capabilities (``ids``:
    the requirements about the object's capabilities); the refusal proves REFUSAL. Returns the name of
    the operation tried.
    """
    before = reread()
    listed = capabilities_of(message)
    require(
        (not compare_state or before.get("state") == message.get("state"))
        and sorted(capabilities_of(before)) == sorted(listed),
        f"{what}: GET disagrees with its latest message",
        f"The latest message showed state {message.get('state')!r} with capabilities {listed}; GET right after "
        f"shows state {before.get('state')!r} with {capabilities_of(before)}.",
        *ids,
    )
    attempt = next((a for a in attempts if a.name not in listed), None)
    if attempt is None:
        raise SuiteError(f"{what}: every operation the scenario could try is listed ({listed}); add a candidate")
    reply = attempt.send(**attempt.attributes, expect=NOT_IN_CAPABILITIES)
    after = reread()
    require(
        same(after) == same(before),
        f"{what}: a refused {attempt.name} changed it",
        f"{attempt.name} was refused (statusCode {reply.status_code}) yet the object changed:\n"
        f"before: {same(before)!r}\nafter:  {same(after)!r}",
        "GWS-GEN-010",
        evidence=[reply.exchange],
    )
    no_stray_yet(*parties)
    return attempt.name


def warn_unknown_values(topic: str, data: Mapping[str, Any], *ids: str) -> None:
    """A capability (or other open-list value) the reference does not list: a warning (E19, E20)."""
    for warning in known_value_warnings(topic, data):
        findings.warn(
            Violation(
                title="A value the reference does not list",
                message=f"{topic}: {warning}",
                requirement_ids=ids,
                level=Level.SHOULD,
                check="known_values",
            )
        )


@dataclass
class Sequenced:
    """Per-object order: the listener index of the latest message claimed about each object id."""

    last: dict[str, int] = field(default_factory=dict)

    def claim(self, object_id: str, index: int, what: str, *ids: str) -> None:
        previous = self.last.get(object_id, -1)
        require(
            index > previous,
            f"{what}: messages out of order",
            f"A message about {what} arrived (#{index}) before one the scenario claimed earlier (#{previous}).",
            *ids,
        )
        self.last[object_id] = index


def ids_in(values: Iterable[Any]) -> Iterator[str]:
    return (str(v) for v in values if isinstance(v, str))
