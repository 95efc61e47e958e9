"""The stimulus API: the outside world of the contact center, played on request (``--stimulus`` only).

A real GWS server learns from its media servers and switch that a customer wrote, opened a chat,
called or hung up; this sandbox has none, so a test (or a person with curl) says so here. Every
endpoint takes a JSON object (or no body where nothing is needed) and answers JSON: ``{"statusCode": 0,
...}`` with the ids it created, or ``{"statusCode": n, "statusMessage": ...}`` -- 1 a required member
is missing, 2 a member is wrong or the event is impossible now (nothing changed), 6 an unknown id.
What the event causes reaches the agents as the usual CometD messages.

=================================================  =========================================================
POST /stimulus/reset                               back to the fixture contact center (every user, call,
  ``{}``                                           interaction, attachment and workbin as loaded); sessions
                                                   dropped. CometD clients stay connected.
POST /stimulus/emails                              an e-mail arrives in ``queue`` (default SimpleEmailInQueue)
  ``{"fromAddress", "toAddress",                   and is offered to ``agentId`` (who must be Ready on email,
  "subject", "text"?, "ccAddresses"?,              else statusCode 2) or to the next Ready agent (EmailInvited);
  "replyToAddress"?, "queue"?,                     with nobody Ready it waits in the queue.
  "userData"?, "agentId"?}``                       -> ``{"interactionId", "agentId": id | null}``
POST /stimulus/chats                               a customer opens a chat (having typed ``messages`` already)
  ``{"nickname", "messages"?, "subject"?,          and it is offered like an e-mail, on the chat channel
  "queue"?, "userData"?, "agentId"?}``             (ChatInvited). -> ``{"interactionId", "agentId"}``
POST /stimulus/chats/{id}/messages                 the customer writes: a NEW_MESSAGE event for every agent on
  ``{"text"}``                                     the chat (ChatNotification). -> ``{"eventId"}``
POST /stimulus/chats/{id}/leave                    the customer leaves: a PARTY_LEFT event. -> ``{"eventId"}``
  ``{}``
POST /stimulus/interactions/{id}/revoke            the system withdraws an invitation (agent inactivity):
  ``{"agentId"?}``                                 EmailRevoked / ChatRevoked to the invited agent (for a chat
                                                   with several invitations, ``agentId`` says whose).
                                                   -> ``{"agentId"}``
POST /stimulus/interactions/{id}/route             routing offers an interaction waiting in its queue (after a
  ``{"agentId"?}``                                 revoke, or a reject nobody else was Ready for) again, as a
                                                   new one is. -> ``{"agentId": id | null}``
POST /stimulus/workbins/{workbinId}/interactions   a media server puts a new inbound e-mail into an agent's
  ``{"agentId", "fromAddress",                     workbin: WorkbinEvent PlacedIn (actorType MediaServer) when
  "toAddress", "subject", "text"?,                 the agent subscribed. ``workbinId`` as in GET /me/workbins.
  "userData"?}``                                   -> ``{"interactionId", "uri"}`` (the entry uri a
                                                   PullInteractionFromWorkbin takes)
POST /stimulus/calls                               an outside number calls a device's number: that device (or
  ``{"from", "to"}``                               its forward target) rings (CallStatusChange, Ringing).
                                                   -> ``{"callId"}`` (the ringing party's /me/calls id)
POST /stimulus/calls/{id}/answer                   the outside number a Dialing call (``id``: the dialling
  ``{}``                                           party's call id) rings answers: Established. -> ``{}``
POST /stimulus/calls/{id}/hangup                   an outside party of the call hangs up (``number`` when there
  ``{"number"?}``                                  are several). -> ``{}``
=================================================  =========================================================

Access: no credentials -- the outside world is not a GWS user. The API exists only when the server
was started with ``--stimulus``, which a deployment never does; keep such a server on loopback (the
default ``--host 127.0.0.1``) or a network where every client is trusted. Requests from a browser are
refused (statusCode 3, HTTP 403, whenever an ``Origin`` header is present), so a web page cannot
drive the sandbox of whoever runs it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from reference_impl.events import EventBus
from reference_impl.handlers.multimedia import Multimedia, model_error, multimedia, publish
from reference_impl.http import API_PREFIX, ApiError, StatusCode, error_response, parse_json, read_limited
from reference_impl.jsonio import SafeJSONResponse
from reference_impl.model import ModelError, Notification
from reference_impl.model.call import Telephony
from reference_impl.model.chat import ChatSession, start_chat
from reference_impl.model.email import EmailInteraction, receive_email
from reference_impl.model.interaction import Interaction
from reference_impl.store import Store

__all__ = ["MAX_STIMULUS_BYTES", "stimulus_routes"]

PREFIX = "/stimulus"
MAX_STIMULUS_BYTES = 256 * 1024  # a stimulus is a few members; e-mail text included
MEDIA_SERVER = "stimulus"  # actorMediaServerId of the workbin events a media server causes

Body = dict[str, Any]
Handler = Callable[["Stimulus", Request, Body], Awaitable[Body]]


class Stimulus:
    """What every stimulus handler works on: the store, its multimedia side and the bus."""

    def __init__(self, store: Store, bus: EventBus) -> None:
        self.store = store
        self.bus = bus

    @property
    def media(self) -> Multimedia:
        return multimedia(self.store)

    def run(self, event: Callable[[], list[Notification]]) -> list[Notification]:
        """Apply an event to the models and publish what it causes; a refusal changes nothing."""
        try:
            notifications = event()
        except ModelError as error:
            raise model_error(error) from None
        publish(self.bus, notifications)
        return notifications

    def interaction(self, interaction_id: str) -> Interaction:
        interaction: Interaction | None = self.media.interactions.get(interaction_id)
        if interaction is None:
            raise ApiError(StatusCode.NOT_FOUND, f"no interaction {interaction_id}")
        return interaction

    def chat(self, interaction_id: str) -> ChatSession:
        interaction = self.interaction(interaction_id)
        if not isinstance(interaction, ChatSession):
            raise ApiError(StatusCode.INVALID_PARAMETER, f"interaction {interaction_id} is not a chat")
        return interaction

    def check_offerable(self, agent_id: str, channel: str) -> None:
        """Refuse (statusCode 2) an agentId routing could not offer ``channel`` to: not Ready, or in DND."""
        routing = self.media.routing
        if not routing.is_agent(agent_id):
            raise ApiError(StatusCode.INVALID_PARAMETER, f"agentId {agent_id!r} is not an agent")
        if not routing.available(agent_id, channel):
            raise ApiError(
                StatusCode.INVALID_PARAMETER, f"agent {agent_id} is not Ready on {channel} (or is in Do Not Disturb)"
            )

    def offer(self, interaction: EmailInteraction | ChatSession, agent_id: str | None) -> str | None:
        """Routing gives a waiting interaction to ``agent_id`` or the next Ready agent (None: nobody)."""
        if agent_id is not None:
            self.check_offerable(agent_id, interaction.channel)
            target: str | None = agent_id
        else:
            rejected = set(getattr(interaction, "rejected_by", ()))  # who turned it down is not asked again
            target = self.media.routing.next_ready(interaction.channel, exclude=rejected)
        if target is not None:
            chosen = target
            self.run(lambda: interaction.offer(chosen))
        return target


# -- reading the request ------------------------------------------------------------------------------


def _text(body: Body, name: str, *, required: bool = False, default: str | None = None) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(StatusCode.MISSING_PARAMETER, f"'{name}' is required")
        return default
    if not isinstance(value, str):
        raise ApiError(StatusCode.INVALID_PARAMETER, f"'{name}' must be a string")
    if required and not value.strip():
        raise ApiError(StatusCode.INVALID_PARAMETER, f"'{name}' must not be empty")
    return value


def _object(body: Body, name: str) -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError(StatusCode.INVALID_PARAMETER, f"'{name}' must be a JSON object")
    return value


def _texts(body: Body, name: str) -> tuple[str, ...]:
    value = body.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ApiError(StatusCode.INVALID_PARAMETER, f"'{name}' must be an array of strings")
    return tuple(value)


def _queue(stimulus: Stimulus, body: Body, default: str) -> str:
    queue: str = _text(body, "queue", default=default)
    if not stimulus.media.routing.has_queue(queue):
        raise ApiError(StatusCode.INVALID_PARAMETER, f"no queue named {queue!r}")
    return queue


def _agent(stimulus: Stimulus, body: Body, *, required: bool = False) -> str | None:
    agent: str | None = _text(body, "agentId", required=required)
    if agent is not None and agent not in stimulus.store.users:
        raise ApiError(StatusCode.INVALID_PARAMETER, f"agentId {agent!r} is not a user of this contact center")
    return agent


async def _json_object(request: Request) -> Body:
    raw = await read_limited(request, MAX_STIMULUS_BYTES)
    if not raw.strip():
        return {}
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(StatusCode.INVALID_PARAMETER, f"Content-Type must be application/json, not '{media_type}'")
    body = parse_json(request, raw)
    if not isinstance(body, dict):
        raise ApiError(StatusCode.INVALID_PARAMETER, "request body must be a JSON object")
    return body


# -- the events ---------------------------------------------------------------------------------------


async def reset(stimulus: Stimulus, request: Request, body: Body) -> Body:
    stimulus.store.reset()
    return {}


async def inbound_email(stimulus: Stimulus, request: Request, body: Body) -> Body:
    from_address = _text(body, "fromAddress", required=True)
    to_address = _text(body, "toAddress", required=True)
    subject = _text(body, "subject", required=True)
    text, cc, reply_to = (_text(body, name, default="") for name in ("text", "ccAddresses", "replyToAddress"))
    queue, user_data, agent = (
        _queue(stimulus, body, "SimpleEmailInQueue"),
        _object(body, "userData"),
        _agent(stimulus, body),
    )
    if agent is not None:  # refused before the e-mail exists
        stimulus.check_offerable(agent, "email")
    email = receive_email(
        stimulus.media.center,
        from_address=from_address,
        to_address=to_address,
        subject=subject,
        text=text,
        cc_addresses=cc,
        reply_to_address=reply_to,
        queue=queue,
        user_data=user_data,
    )
    return {"interactionId": email.id, "agentId": stimulus.offer(email, agent)}


async def inbound_chat(stimulus: Stimulus, request: Request, body: Body) -> Body:
    nickname = _text(body, "nickname", required=True)
    messages = _texts(body, "messages")
    subject = _text(body, "subject", default="Customersupport")
    queue, user_data, agent = (
        _queue(stimulus, body, "SimpleChatInQueue"),
        _object(body, "userData"),
        _agent(stimulus, body),
    )
    if agent is not None:  # refused before the chat exists
        stimulus.check_offerable(agent, "chat")
    chat = start_chat(
        stimulus.media.center, nickname=nickname, messages=messages, queue=queue, subject=subject, user_data=user_data
    )
    return {"interactionId": chat.id, "agentId": stimulus.offer(chat, agent)}


async def customer_message(stimulus: Stimulus, request: Request, body: Body) -> Body:
    chat = stimulus.chat(request.path_params["id"])
    text = _text(body, "text", required=True)
    _still_open(chat)
    stimulus.run(lambda: chat.customer_says(text))
    return {"eventId": chat.events[-1].event_id}


async def customer_leaves(stimulus: Stimulus, request: Request, body: Body) -> Body:
    chat = stimulus.chat(request.path_params["id"])
    _still_open(chat)
    stimulus.run(chat.customer_leaves)
    return {"eventId": chat.events[-1].event_id}


async def revoke(stimulus: Stimulus, request: Request, body: Body) -> Body:
    interaction = stimulus.interaction(request.path_params["id"])
    agent = _agent(stimulus, body)
    if isinstance(interaction, EmailInteraction):
        if agent is not None and agent != interaction.owner:
            raise ApiError(StatusCode.INVALID_PARAMETER, f"e-mail {interaction.id} is not offered to {agent}")
        offered_to = interaction.owner
        stimulus.run(interaction.revoke)
        return {"agentId": offered_to}
    assert isinstance(interaction, ChatSession)
    if agent is None:
        invited = [v.user_id for v in interaction.views.values() if v.state in ("Invited", "InvitedConference")]
        if len(invited) != 1:
            raise ApiError(
                StatusCode.INVALID_PARAMETER,
                f"chat {interaction.id} has {len(invited) or 'no'} invitations: name the agentId",
            )
        agent = invited[0]
    invitee = agent
    stimulus.run(lambda: interaction.revoke(invitee))
    return {"agentId": invitee}


async def route(stimulus: Stimulus, request: Request, body: Body) -> Body:
    interaction = stimulus.interaction(request.path_params["id"])
    agent = _agent(stimulus, body)
    if not isinstance(interaction, EmailInteraction | ChatSession):
        raise ApiError(StatusCode.INVALID_PARAMETER, f"interaction {interaction.id} cannot be routed")
    if isinstance(interaction, EmailInteraction) and (
        interaction.state not in ("Queued", "Revoked") or interaction.workbin is not None
    ):
        raise ApiError(StatusCode.INVALID_PARAMETER, f"e-mail {interaction.id} is not waiting in a queue")
    if isinstance(interaction, ChatSession) and interaction.state != "Queued":
        raise ApiError(StatusCode.INVALID_PARAMETER, f"chat {interaction.id} is not waiting in a queue")
    return {"agentId": stimulus.offer(interaction, agent)}


async def workbin_placement(stimulus: Stimulus, request: Request, body: Body) -> Body:
    agent = _agent(stimulus, body, required=True)
    assert agent is not None
    if not stimulus.media.routing.is_agent(agent):
        raise ApiError(StatusCode.INVALID_PARAMETER, f"agentId {agent!r} is not an agent")
    workbin_id = request.path_params["workbinId"]
    if workbin_id not in stimulus.store.workbins:
        raise ApiError(StatusCode.NOT_FOUND, f"no workbin {workbin_id}")
    workbin = stimulus.media.find_workbin(agent, workbin_id)
    assert workbin is not None
    from_address = _text(body, "fromAddress", required=True)
    to_address = _text(body, "toAddress", required=True)
    subject = _text(body, "subject", required=True)
    text, user_data = _text(body, "text", default=""), _object(body, "userData")
    email = receive_email(
        stimulus.media.center,
        from_address=from_address,
        to_address=to_address,
        subject=subject,
        text=text,
        user_data=user_data,
    )
    # Where PlaceInWorkbin puts an e-mail (model/email.py): Queued in the workbin's private queue.
    email.current_queue, email.workbin = f"{workbin.name}/PrivateQueue", workbin
    notifications = workbin.placed(email, agent)
    for _, _, data in notifications:  # placed by a media server, not by the agent (seed's example)
        data["actorInfo"] = {
            "agentId": None,
            "actorMediaServerId": MEDIA_SERVER,
            "actorType": "MediaServer",
            "actorPlaceId": None,
        }
    publish(stimulus.bus, notifications)
    uri = f"{str(request.base_url).rstrip('/')}{API_PREFIX}/me/workbins/{workbin.id}/interactions/{email.id}"
    return {"interactionId": email.id, "uri": uri}


async def inbound_call(stimulus: Stimulus, request: Request, body: Body) -> Body:
    caller = _text(body, "from", required=True)
    callee = _text(body, "to", required=True)
    telephony = _switch(stimulus, request)
    notifications = stimulus.run(lambda: telephony.inbound_call(caller, callee))
    return {"callId": notifications[0][2]["call"]["id"]}


async def far_end_answers(stimulus: Stimulus, request: Request, body: Body) -> Body:
    telephony = _switch(stimulus, request)
    leg_id = _known_call(stimulus, request)
    stimulus.run(lambda: telephony.far_end_answers(leg_id))
    return {}


async def far_end_hangs_up(stimulus: Stimulus, request: Request, body: Body) -> Body:
    telephony = _switch(stimulus, request)
    leg_id = _known_call(stimulus, request)
    number = _text(body, "number")
    stimulus.run(lambda: telephony.far_end_hangs_up(leg_id, number))
    return {}


def _still_open(chat: ChatSession) -> None:
    if chat.closed:
        raise ApiError(StatusCode.INVALID_PARAMETER, f"chat {chat.id} is over")


def _switch(stimulus: Stimulus, request: Request) -> Telephony:
    # The switch writes absolute uris (call, deviceUri) on one base: this request's, as the REST
    # handlers do with theirs (handlers/calls.py).
    telephony = stimulus.store.telephony
    telephony.api_base = f"{str(request.base_url).rstrip('/')}{API_PREFIX}"
    return telephony


def _known_call(stimulus: Stimulus, request: Request) -> str:
    leg_id: str = request.path_params["id"]
    if leg_id not in stimulus.store.telephony.legs:
        raise ApiError(StatusCode.NOT_FOUND, f"no call {leg_id}")
    return leg_id


# -- routes -------------------------------------------------------------------------------------------


def _endpoint(stimulus: Stimulus, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        try:
            if "origin" in request.headers:
                raise ApiError(StatusCode.FORBIDDEN, "the stimulus API does not answer browsers (Origin present)")
            body = await _json_object(request)
            result = await handler(stimulus, request, body)
        except ApiError as error:
            return error_response(error)
        return SafeJSONResponse({"statusCode": 0, **result})

    run.__name__ = handler.__name__
    return run


def stimulus_routes(store: Store, bus: EventBus) -> list[BaseRoute]:
    """The stimulus endpoints (module docstring), to be mounted beside the REST API."""
    stimulus = Stimulus(store, bus)

    def post(path: str, handler: Handler) -> Route:
        return Route(PREFIX + path, _endpoint(stimulus, handler), methods=["POST"])

    return [
        post("/reset", reset),
        post("/emails", inbound_email),
        post("/chats", inbound_chat),
        post("/chats/{id}/messages", customer_message),
        post("/chats/{id}/leave", customer_leaves),
        post("/interactions/{id}/revoke", revoke),
        post("/interactions/{id}/route", route),
        post("/workbins/{workbinId}/interactions", workbin_placement),
        post("/calls", inbound_call),
        post("/calls/{id}/answer", far_end_answers),
        post("/calls/{id}/hangup", far_end_hangs_up),
    ]
