"""The ``reference`` adapter: the reference server's control API (reference_impl/stimulus.py).

The control API lives beside the REST API at ``<origin>/stimulus`` (the origin of GWS_BASE_URL);
``GWS_STIMULUS_URL`` points elsewhere. It takes no credentials. A refusal (statusCode other than 0)
is the suite's or the sandbox's problem, not the target's: it raises ``SuiteError``.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from conformance.client import tls_context
from conformance.config import Settings
from conformance.errors import SuiteError
from conformance.keepalive import KEEPALIVE_EXPIRY_S
from conformance.stimulus import Party, Stimulus, StimulusAdapter, StimulusContext

__all__ = ["ReferenceStimulus", "configured_url", "stimulus_url"]


def stimulus_url(base_url: str) -> str:
    """``http://host:port/api/v2`` -> ``http://host:port/stimulus``."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, "/stimulus", "", ""))


def configured_url(settings: Settings) -> str:
    """Where the run's control API is: GWS_STIMULUS_URL, else beside the REST API."""
    return os.environ.get("GWS_STIMULUS_URL") or stimulus_url(settings.base_url)


class ReferenceStimulus(StimulusAdapter):
    name = "reference"

    def __init__(self, context: StimulusContext) -> None:
        super().__init__(context)
        self.url = configured_url(context.settings)
        # Idle connections dropped before the server's keep-alive closes them: a POST is never sent twice, and
        # one sent as the server closes its connection is lost (conformance.keepalive).
        self._http = httpx.Client(
            timeout=context.settings.request_timeout_s,
            verify=tls_context(),
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_S),
        )

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        sent = {k: v for k, v in payload.items() if v is not None}
        try:
            response = self._http.post(self.url + path, json=sent)
            reply = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SuiteError(f"stimulus POST {self.url}{path}: {type(exc).__name__}: {exc}") from None
        if not isinstance(reply, dict) or reply.get("statusCode") != 0:
            raise SuiteError(f"stimulus POST {self.url}{path} {sent} was refused: {reply}")
        return {k: v for k, v in reply.items() if k != "statusCode"}

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
        arguments = {
            "fromAddress": from_address,
            "toAddress": to_address,
            "subject": subject,
            "text": text,
            "ccAddresses": cc_addresses or None,
            "replyToAddress": reply_to_address or None,
            "queue": queue,
            "agentId": _id(agent),
        }
        return self._done("inbound_email", arguments, self._post("/emails", arguments))

    def inbound_chat(
        self,
        *,
        nickname: str,
        messages: tuple[str, ...] = (),
        agent: Party | None = None,
        queue: str | None = None,
    ) -> Stimulus:
        arguments = {"nickname": nickname, "messages": list(messages), "queue": queue, "agentId": _id(agent)}
        return self._done("inbound_chat", arguments, self._post("/chats", arguments))

    def customer_chat_message(self, interaction_id: str, text: str) -> Stimulus:
        result = self._post(f"/chats/{interaction_id}/messages", {"text": text})
        return self._done("customer_chat_message", {"interactionId": interaction_id, "text": text}, result)

    def customer_leaves_chat(self, interaction_id: str) -> Stimulus:
        result = self._post(f"/chats/{interaction_id}/leave", {})
        return self._done("customer_leaves_chat", {"interactionId": interaction_id}, result)

    def revoke(self, interaction_id: str, *, agent: Party | None = None) -> Stimulus:
        result = self._post(f"/interactions/{interaction_id}/revoke", {"agentId": _id(agent)})
        return self._done("revoke", {"interactionId": interaction_id, "agentId": _id(agent)}, result)

    def route(self, interaction_id: str, *, agent: Party | None = None) -> Stimulus:
        result = self._post(f"/interactions/{interaction_id}/route", {"agentId": _id(agent)})
        return self._done("route", {"interactionId": interaction_id, "agentId": _id(agent)}, result)

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
        arguments = {
            "agentId": _id(agent),
            "fromAddress": from_address,
            "toAddress": to_address,
            "subject": subject,
            "text": text,
        }
        result = self._post(f"/workbins/{workbin_id}/interactions", arguments)
        return self._done("workbin_change", {"workbinId": workbin_id, **arguments}, result)

    def inbound_call(self, *, from_number: str, to: Party | str) -> Stimulus:
        number = to if isinstance(to, str) else to.phone_number
        if not number:
            raise SuiteError(f"inbound_call: no phone number for {to}")
        arguments = {"from": from_number, "to": number}
        return self._done("inbound_call", arguments, self._post("/calls", arguments))

    def far_end_answers(self, call_id: str, *, number: str | None = None) -> Stimulus:
        result = self._post(f"/calls/{call_id}/answer", {})
        return self._done("far_end_answers", {"callId": call_id}, result)

    def far_end_hangs_up(self, call_id: str, *, number: str | None = None) -> Stimulus:
        result = self._post(f"/calls/{call_id}/hangup", {"number": number})
        return self._done("far_end_hangs_up", {"callId": call_id, "number": number}, result)

    def reset(self) -> Stimulus:
        return self._done("reset", {}, self._post("/reset", {}))


def _id(agent: Party | None) -> str | None:
    if agent is None:
        return None
    if agent.user_id is None:
        raise SuiteError(f"the reference stimulus API names agents by user id; none known for {agent}")
    return agent.user_id
