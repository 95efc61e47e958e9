"""The ``manual`` adapter: a person at the terminal causes each event; the scenario waits for its effect.

Each event is printed as an instruction (pytest's output capture is bypassed for it) and returned
at once with a long wait (``GWS_MANUAL_WAIT_S``, default 300 s): the scenario's next expectation
is the notification the person's action causes, so nothing is typed back. Run such a session
without ``-n`` and with ``-s`` unless the terminal is free anyway.
"""

from __future__ import annotations

import os

from conformance.stimulus import Party, Stimulus, StimulusAdapter, StimulusContext

__all__ = ["ManualStimulus"]

DEFAULT_WAIT_S = 300.0


class ManualStimulus(StimulusAdapter):
    name = "manual"

    def __init__(self, context: StimulusContext) -> None:
        super().__init__(context)
        self.wait_s = float(os.environ.get("GWS_MANUAL_WAIT_S") or DEFAULT_WAIT_S)

    def _ask(self, action: str, instruction: str, **arguments: object) -> Stimulus:
        self.context.say(f"\n>>> GWS conformance needs you ({self.wait_s:g} s): {instruction}\n")
        return self._done(action, dict(arguments), wait_s=self.wait_s)

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
        where = f"so that it is offered to {agent}" if agent else f"into queue {queue or 'the inbound e-mail queue'}"
        headers = "".join(
            f", {name} {value}" for name, value in (("CC", cc_addresses), ("Reply-To", reply_to_address)) if value
        )
        body = f" and this text:\n{text}\n" if text else ""
        return self._ask(
            "inbound_email",
            f"send an e-mail from {from_address} to {to_address}{headers} with subject {subject!r}{body} {where}.",
            fromAddress=from_address,
            toAddress=to_address,
            subject=subject,
            ccAddresses=cc_addresses or None,
            replyToAddress=reply_to_address or None,
            agent=str(agent) if agent else None,
        )

    def inbound_chat(
        self,
        *,
        nickname: str,
        messages: tuple[str, ...] = (),
        agent: Party | None = None,
        queue: str | None = None,
    ) -> Stimulus:
        where = f"so that it is offered to {agent}" if agent else f"through queue {queue or 'the chat queue'}"
        typed = f", typing {' / '.join(messages)!r}" if messages else ""
        return self._ask(
            "inbound_chat",
            f"open a customer chat as {nickname!r}{typed}, {where}.",
            nickname=nickname,
            agent=str(agent) if agent else None,
        )

    def customer_chat_message(self, interaction_id: str, text: str) -> Stimulus:
        return self._ask(
            "customer_chat_message",
            f"as the customer of chat {interaction_id}, write {text!r}.",
            interactionId=interaction_id,
            text=text,
        )

    def customer_leaves_chat(self, interaction_id: str) -> Stimulus:
        return self._ask(
            "customer_leaves_chat", f"as the customer, leave chat {interaction_id}.", interactionId=interaction_id
        )

    def revoke(self, interaction_id: str, *, agent: Party | None = None) -> Stimulus:
        who = f" from {agent}" if agent else ""
        return self._ask(
            "revoke",
            f"have the system withdraw the invitation of {interaction_id}{who} (let it time out).",
            interactionId=interaction_id,
        )

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
        return self._ask(
            "workbin_change",
            f"put a new e-mail from {from_address} with subject {subject!r} into workbin {workbin_id} of {agent}.",
            workbinId=workbin_id,
            agent=str(agent),
            subject=subject,
        )

    def inbound_call(self, *, from_number: str, to: Party | str) -> Stimulus:
        return self._ask("inbound_call", f"call {to} from {from_number}.", fromNumber=from_number, to=str(to))

    def far_end_answers(self, call_id: str, *, number: str | None = None) -> Stimulus:
        return self._ask(
            "far_end_answers",
            f"answer the call ringing at {number or 'the dialled number'}.",
            callId=call_id,
            number=number,
        )

    def far_end_hangs_up(self, call_id: str, *, number: str | None = None) -> Stimulus:
        return self._ask(
            "far_end_hangs_up",
            f"hang up the outside party {number or ''} of call {call_id}.",
            callId=call_id,
            number=number,
        )
