"""What the e-mail and chat scenarios share: hearing /v2/me/interactions, refusals, readiness, cleanup.

An interaction has one id for everyone on it; each agent receives its own messages about it. A
scenario claims every message its agents receive on the topics it watches (lifecycle.Party.listen),
checks that messages about one interaction keep their order per agent, and at each step that the
capabilities tell the truth (lifecycle.refuse_unlisted).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from conformance.api import ANY, Channel, Interaction
from conformance.stimulus import Stimulus
from conformance.suite.scenarios.lifecycle import (
    Attempt,
    Cast,
    Party,
    Sequenced,
    best_effort,
    capabilities_of,
    refuse_unlisted,
    warn_unknown_values,
)
from conformance.suite.scenarios.support import require

__all__ = [
    "INTERACTIONS",
    "WORKBINS",
    "Interactions",
    "handled",
    "ready_on",
]

INTERACTIONS = "/v2/me/interactions"
WORKBINS = "/v2/me/workbins"

Predicate = Callable[[dict[str, Any]], bool]


def ready_on(cast: Cast, party: Party, channel: str) -> None:
    """Make the agent Ready on ``channel`` (so that it is offered interactions), NotReady again at the end."""
    media = Channel(party.client, channel)
    media.ready()
    cast.on_cleanup(lambda: media.not_ready(expect=ANY))


def handled(party: Party, interaction_id: str) -> bool:
    """Is the interaction among those GET /me/interactions lists for the agent (by uri and with fields=*)?"""
    uris = party.agent.list_my_interactions().uris()
    items = party.agent.list_my_interactions(fields="*").items("interactions")
    by_uri = any(uri.rstrip("/").rsplit("/", 1)[-1] == interaction_id for uri in uris)
    by_item = any(item.get("id") == interaction_id for item in items)
    require(
        by_uri == by_item,
        "GET /me/interactions and its fields=* form disagree",
        f"{interaction_id}: listed by uri {by_uri}, among the fields=* items {by_item}.",
        "GWS-IXN-001",
    )
    return by_uri


class Interactions:
    """What a scenario heard about its interactions: each agent's latest message per interaction."""

    def __init__(
        self,
        cast: Cast,
        *parties: Party,
        topics: Iterable[str] = (INTERACTIONS,),
        spelling: tuple[str, ...] = ("GWS-IXN-022",),
        capabilities: tuple[str, ...] = (),
    ) -> None:
        """``spelling``: the requirements an unlisted value breaks (SHOULD); ``capabilities``: those a
        GET that disagrees with the latest message breaks."""
        self.parties = parties
        self.spelling = spelling
        self.capability_ids = capabilities
        self.order = Sequenced()
        for party in parties:
            party.listen(*topics)
        cast.on_cleanup(lambda: finish_everything(parties))

    def hear(
        self,
        party: Party,
        description: str,
        *,
        interaction_id: str | None = None,
        state: str | tuple[str, ...] | None = None,
        where: Predicate = lambda data: True,
        timeout_s: float | None = None,
    ) -> dict[str, Any]:
        """Claim the next message of ``party`` about the interaction (any id if None) in ``state``."""
        states = (state,) if isinstance(state, str) else state

        def matches(data: dict[str, Any]) -> bool:
            return (
                (interaction_id is None or data["id"] == interaction_id)
                and (states is None or data["state"] in states)
                and where(data)
            )

        record = party.messages.expect(
            INTERACTIONS, matches, f"{party.role}: {description}", in_order=False, timeout_s=timeout_s
        )
        data = record.data
        self.order.claim(f"{party.role}:{data['id']}", record.index, f"{party.role}'s interaction {data['id']}")
        missing = [m for m in ("id", "channel", "state") if not isinstance(data.get(m), str)]
        require(
            not missing and isinstance(data.get("capabilities"), list),
            "An interaction message lacks id, channel, state or capabilities",
            f"{party.role} received {data!r}; missing or not a string: {missing}"
            + ("" if isinstance(data.get("capabilities"), list) else "; capabilities is not an array"),
            "GWS-IXN-020",
        )
        warn_unknown_values(INTERACTIONS, data, *self.spelling)
        return data

    def hear_invitation(
        self,
        party: Party,
        caused: Stimulus,
        description: str,
        *,
        state: str = "Invited",
        where: Predicate = lambda data: True,
    ) -> dict[str, Any]:
        """The invitation a stimulus caused: by the id it reported, else the first matching one."""
        known = caused.get("interactionId")
        return self.hear(
            party,
            description,
            interaction_id=known if isinstance(known, str) else None,
            state=state,
            where=where,
            timeout_s=caused.wait_s,
        )

    def refuse(self, party: Party, message: Mapping[str, Any], *candidates: str) -> str:
        """GET shows the interaction as ``message`` did; an operation it does not list is refused, unchanged."""
        interaction = Interaction(party.client, str(message["id"]))
        senders: dict[str, Callable[..., Any]] = {
            "Accept": interaction.accept,
            "StopProcessing": interaction.stop_processing,
            "CancelReplyEmail": interaction.cancel_reply_email,
            "CompleteTransfer": interaction.complete_transfer,
            "CompleteConference": interaction.complete_conference,
            "Reject": interaction.reject,
        }
        order = [*candidates, *(name for name in senders if name not in candidates)]
        return refuse_unlisted(
            what=f"{party.role}'s interaction {message['id']}",
            message=message,
            reread=lambda: interaction.get().get("interaction") or {},
            attempts=[Attempt(name, senders[name]) for name in order],
            parties=self.parties,
            ids=self.capability_ids,
            same=_unchanged,
            # E71: LeftConference tells the agents who stay that another left; it is not where they stand.
            compare_state=message.get("state") != "LeftConference",
        )


def _unchanged(interaction: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        interaction.get("state"),
        sorted(capabilities_of(interaction)),
        interaction.get("userData"),
        interaction.get("email_object"),
    )


def finish_everything(parties: Iterable[Party]) -> None:
    """Cleanup: end every interaction the agents still handle without offering it to anyone else."""
    for party in parties:
        items = party.agent.list_my_interactions(fields="*", expect=ANY).items("interactions")
        for item in items:
            if isinstance(item.get("id"), str):
                best_effort(functools.partial(_finish, party, item))


def _finish(party: Party, item: Mapping[str, Any]) -> None:
    interaction = Interaction(party.client, str(item["id"]))
    state = item.get("state")
    if state == "InvitedConference":
        interaction.reject(expect=ANY)  # declining a conference asks nobody else
        return
    if state == "Invited":
        interaction.accept(expect=ANY)  # a Reject would offer it to another agent
    if state == "ReplyCreated":
        interaction.cancel_reply_email(expect=ANY)
        return
    if not interaction.stop_processing(expect=ANY).ok:
        interaction.end_conference(party.id, expect=ANY)
        interaction.stop_processing(expect=ANY)
