"""The simulated agent: one Locust user per agent account, with its CometD session and a weighted mix of work.

Agents are numbered per process so that workers never share an account: the k-th user a process starts is
agent ``index + 1 + workers * k`` (``index`` its worker index, 0 alone). Users come in pairs on one process
(k even calls k + 1), so both ends of a call are judged by one ledger and its latencies by one clock. The
caller dials, waits for the call to be answered, holds, retrieves and hangs up; the callee answers every
call that rings (from its session, as an agent desktop does) and otherwise only changes state. Every
operation registers what each party is owed before its request is sent (conformance.load.ledger) and the
agent waits for its own notification, within the deadline, before its next step.

Inbound work (with a stimulus adapter, conformance.stimulus; tasks ``inbound-call``, ``chat``, ``email``):
the outside world is asked for an event *aimed at this agent*, never at a queue. Routing may offer a queued
chat or e-mail to any Ready agent, so under load nobody could say who is owed its invitation; an offer aimed
at one agent (the stimulus's ``agentId``, an inbound call to the agent's own number) owes it to that agent
alone, and only while that agent can be offered it:

- ``inbound-call``: an outside number (``+1555`` and the agent's number, so the new call is told apart by
  its party) calls the agent's phone: Ringing, then the agent answers (Established) and hangs up
  (Released), each owed to this agent only (the outside party is no GWS user). Only the calling half of
  the pairs takes inbound calls: their partner never dials them, so their device has no other call.
- ``chat`` / ``email``: a customer's chat or e-mail offered to the agent, while it is Ready (POST /me
  Ready makes every channel Ready) and its device not in DND (otherwise routing may not offer it: the
  stimulus would be refused): Invited on /v2/me/interactions (a new interaction of that channel), Accept
  (a chat with a nickname): Accepted, then StopProcessing. The seed shows no message after StopProcessing,
  so nothing is owed for it; its REST reply is judged like every other.

A stimulus refused or failing owes nothing (its expectations are withdrawn) and counts as a failed request.
"""

from __future__ import annotations

import functools
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import gevent
from gevent.event import Event
from locust import User, between, task

from conformance.load.accounts import Account, build_adapter
from conformance.load.ledger import Expectation, Ledger
from conformance.load.options import LoadOptions
from conformance.load.rest import RestJudge
from conformance.load.session import TOPICS, Session, SessionError
from conformance.load.wire import Client
from conformance.notifications import validate_notification
from conformance.stimulus import Party, Stimulus, StimulusAdapter

__all__ = ["AgentUser", "Swarm"]

INTERACTIONS = "/v2/me/interactions"
OUTSIDE_PREFIX = "+1555"  # the outside numbers of inbound calls (no device of the contact center)


@dataclass
class Swarm:
    """What the users of one process share: the target, the options, the ledger, who is who."""

    base_url: str
    cometd_url: str
    options: LoadOptions
    ledger: Ledger
    worker_index: int = 0
    workers: int = 1
    started: int = 0  # users started in this process so far
    numbers: dict[int, str] = field(default_factory=dict)  # agent number -> its phone number, once known
    users: dict[int, Any] = field(default_factory=dict)  # agent number -> its AgentUser, while it runs
    sessions_open: int = 0
    draining: bool = False  # the run is ending: no new work, what is owed may still arrive
    judge: RestJudge | None = None
    adapter: StimulusAdapter | None = None  # the outside world of the inbound tasks (None: no inbound work)

    def __post_init__(self) -> None:
        self.judge = RestJudge(self.ledger, self.options.check_every)
        self.adapter = build_adapter(self.options.stimulus, self.base_url)

    def account(self, number: int) -> Account:
        """Agent ``number``'s (user name, password): the run's accounts, else the reference's naming rule."""
        if self.options.accounts:
            user, password = self.options.accounts[number - 1]
            return str(user), str(password)
        return f"agent{number}", f"agent{number}-secret"

    @property
    def topics(self) -> tuple[str, ...]:
        interactions = self.adapter is not None and any(self.options.mix.get(t, 0) > 0 for t in ("chat", "email"))
        return (*TOPICS, INTERACTIONS) if interactions else TOPICS

    def next_agent(self) -> tuple[int, int]:
        """(agent number, position k in this process)."""
        k = self.started
        self.started += 1
        return self.worker_index + 1 + self.workers * k, k

    def transport_for(self, number: int) -> str:
        if self.options.transport != "mixed":
            return self.options.transport
        return "websocket" if number % 2 else "long-polling"


class AgentUser(User):
    """One agent: its REST calls, its CometD session, its state as it last heard it."""

    abstract = False
    wait_time = between(0.5, 1.5)
    host = "http://127.0.0.1"  # unused: every request names its full URL; Locust wants a host to start

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.swarm: Swarm = environment.gws
        self.number, position = self.swarm.next_agent()
        self.name, self.password = self.swarm.account(self.number)
        self.partner = self._partner(position)
        self.partner_name = self.swarm.account(self.partner)[0] if self.partner is not None else ""
        self.user_id = ""  # known when the run has chats or e-mails: the stimulus names the agent by it
        self.caller = position % 2 == 0
        self.session: Session | None = None
        self.device_id = ""
        self.phone = ""
        self.state = "NotReady"
        self.dnd = "Off"
        self.answered = Event()
        low, high = self.swarm.options.wait_s
        self.wait_time = lambda: random.uniform(low, high)  # type: ignore[method-assign]
        self.http = Client(self.name, self.password)  # not requests: conformance.load.wire says why

    def _partner(self, position: int) -> int | None:
        partner_k = position + 1 if position % 2 == 0 else position - 1
        number = self.swarm.worker_index + 1 + self.swarm.workers * partner_k
        return number if number <= self.swarm.options.agents else None

    @property
    def ledger(self) -> Ledger:
        return self.swarm.ledger

    # -- life cycle --------------------------------------------------------------------------------------

    def _read_state(self) -> bool:
        """The agent's device, Do Not Disturb and voice state as the server has them now; False: unanswered."""
        devices = self._rest("GET /me/devices", "GET", "/me/devices?fields=*")
        device = (devices.get("devices") or [{}])[0]
        channels = self._rest("GET /me/channels", "GET", "/me/channels?fields=*")
        voice: dict[str, Any] = next((c for c in channels.get("channels") or [] if c.get("channel") == "voice"), {})
        if not device.get("id") or not voice:
            return False
        self.device_id, self.phone = str(device.get("id", "")), str(device.get("phoneNumber", ""))
        self.dnd = str(device.get("doNotDisturb") or "Off")
        self.state = str((voice.get("userState") or {}).get("state") or "NotReady")
        return True

    def on_start(self) -> None:
        if not self._read_state():
            # Unanswered (Locust counts the failure): an agent that does not know its own device would judge
            # every message about it misrouted, and one that guessed its state would be owed the wrong ones.
            self.stop()
            return
        self.ledger.own(self.name, [self.device_id, self.phone])
        if INTERACTIONS in self.swarm.topics:
            self.user_id = str((self._rest("GET /me", "GET", "/me").get("user") or {}).get("id", ""))
        self.session = Session(
            self.swarm.cometd_url,
            self.name,
            self.password,
            self.swarm.transport_for(self.number),
            self._on_message,
            self._on_session_event,
            timeout_s=self.swarm.options.thresholds.deadline_s,
        )
        try:
            self.session.open(self.swarm.topics)
        except SessionError as exc:
            self._fire("cometd open", 0.0, exc)
            self.stop()
            return
        self.swarm.sessions_open += 1
        self.swarm.numbers[self.number] = self.phone
        self.swarm.users[self.number] = self

    def on_stop(self) -> None:
        if self.session is not None:
            self.session.close()
            self.swarm.sessions_open -= 1
            self.session = None
        self.swarm.numbers.pop(self.number, None)
        self.swarm.users.pop(self.number, None)
        self.http.close()

    # -- the mix -----------------------------------------------------------------------------------------

    @task
    def work(self) -> None:
        if self.swarm.draining:
            return
        mix = self.swarm.options.mix
        choices = {"state": self.change_state}
        inbound = self.swarm.adapter is not None
        if self.caller:
            choices["dnd"] = self.toggle_dnd
            if self.partner is not None and self.partner in self.swarm.numbers:
                choices["call"] = self.call_partner
            if inbound and self.dnd == "Off":  # a device in DND is not rung (the stimulus is refused)
                choices["inbound-call"] = self.inbound_call
        if inbound and self.user_id and self.state == "Ready" and self.dnd == "Off":
            choices["chat"] = self.inbound_chat
            choices["email"] = self.inbound_email
        names = [n for n in choices if mix.get(n, 0) > 0] or ["state"]
        chosen = random.choices(names, weights=[max(mix.get(n, 0), 1) for n in names])[0]
        choices[chosen]()

    def change_state(self) -> None:
        target = "NotReady" if self.state == "Ready" else "Ready"
        sent = time.monotonic()
        owed = [
            self._expect(self.name, "/v2/me/channels", "channels", target, sent),
            self._expect(self.name, "/v2/me/devices", f"device:{self.device_id}", f"{target}/{self.dnd}", sent, False),
        ]
        if self._operate(f"POST /me#{target}", "/me", target, owed):
            self.state = target
            self._wait(owed[0])

    def toggle_dnd(self) -> None:
        target = "Off" if self.dnd == "On" else "On"
        sent = time.monotonic()
        owed = [self._expect(self.name, "/v2/me/devices", f"device:{self.device_id}", f"{self.state}/{target}", sent)]
        name = f"DoNotDisturb{target}"
        if self._operate(f"POST /devices/{{id}}#{name}", f"/devices/{self.device_id}", name, owed):
            self.dnd = target
            self._wait(owed[0])

    def call_partner(self) -> None:
        partner = self.partner_name
        number = self.swarm.numbers.get(self.partner or 0)
        if not number:
            return
        self.answered.clear()
        sent = time.monotonic()
        dialing = self._expect(self.name, "/v2/me/calls", None, "Dialing", sent, party=number)
        ringing = self._expect(partner, "/v2/me/calls", None, "Ringing", sent, party=self.phone)
        path = f"/devices/{self.device_id}/calls"
        extra = {"destination": {"phoneNumber": number}}
        if not self._operate(
            "POST /devices/{id}/calls#Dial", path, "Dial", [dialing, ringing], extra
        ) or not self._wait(dialing):
            return
        call = (dialing.data or {}).get("call") or {}
        uri, stream = str(call.get("uri", "")), f"call:{call.get('callUuid') or call.get('id')}"
        if not self.answered.wait(self.swarm.options.thresholds.deadline_s):
            self._hang_up(uri, stream, partner)
            return
        for step, state in (("Hold", "Held"), ("Retrieve", "Established")):
            owed = [self._expect(self.name, "/v2/me/calls", stream, state, time.monotonic())]
            if not self._operate(f"POST /me/calls/{{id}}#{step}", uri, step, owed) or not self._wait(owed[0]):
                break
        self._hang_up(uri, stream, partner)

    def _hang_up(self, uri: str, stream: str, partner: str) -> None:
        sent = time.monotonic()
        owed = [
            self._expect(self.name, "/v2/me/calls", stream, "Released", sent),
            self._expect(partner, "/v2/me/calls", stream, "Released", sent),
        ]
        if self._operate("POST /me/calls/{id}#Hangup", uri, "Hangup", owed):
            self._wait(owed[0])

    def _answer(self, data: Any) -> None:
        """The callee's desktop: a call rings, the agent answers; both ends are owed Established."""
        call = data.get("call") or {}
        uri, stream = str(call.get("uri", "")), f"call:{call.get('callUuid') or call.get('id')}"
        caller = self.partner_name
        sent = time.monotonic()
        mine = self._expect(self.name, "/v2/me/calls", stream, "Established", sent)
        theirs = self._expect(caller, "/v2/me/calls", stream, "Established", sent)
        partner_user = self.swarm.users.get(self.partner or 0)
        if partner_user is not None:
            theirs.waiter = partner_user.answered
        self._operate("POST /me/calls/{id}#Answer", uri, "Answer", [mine, theirs])

    # -- inbound work (module docstring) -----------------------------------------------------------------

    def inbound_call(self) -> None:
        outside = f"{OUTSIDE_PREFIX}{self.number:06d}"
        ringing = self._expect(self.name, "/v2/me/calls", None, "Ringing", time.monotonic(), party=outside)
        caused = self._stimulate("inbound_call", [ringing], from_number=outside, to=self.phone)
        if caused is None or not self._wait(ringing):
            return
        call = (ringing.data or {}).get("call") or {}
        self._aimed(caused, "callId", call.get("id"))
        uri, stream = str(call.get("uri", "")), f"call:{call.get('callUuid') or call.get('id')}"
        owed = [self._expect(self.name, "/v2/me/calls", stream, "Established", time.monotonic())]
        if self._operate("POST /me/calls/{id}#Answer", uri, "Answer", owed):
            self._wait(owed[0])
        owed = [self._expect(self.name, "/v2/me/calls", stream, "Released", time.monotonic())]
        if self._operate("POST /me/calls/{id}#Hangup", uri, "Hangup", owed):
            self._wait(owed[0])

    def inbound_chat(self) -> None:
        customer = f"Customer-{self.number}"
        invited = self._expect(self.name, INTERACTIONS, None, "Invited", time.monotonic(), party="chat")
        caused = self._stimulate(
            "inbound_chat", [invited], nickname=customer, messages=("Hello?",), agent=self._party()
        )
        if caused is not None:
            self._handle(caused, invited, {"nickname": self.name})

    def inbound_email(self) -> None:
        invited = self._expect(self.name, INTERACTIONS, None, "Invited", time.monotonic(), party="email")
        caused = self._stimulate(
            "inbound_email",
            [invited],
            from_address=f"customer{self.number}@example.test",
            to_address="support@example.test",
            subject=f"Load {self.number}",
            text="Where is my parcel?",
            agent=self._party(),
        )
        if caused is not None:
            self._handle(caused, invited, {})

    def _handle(self, caused: Stimulus, invited: Expectation, extra: dict[str, Any]) -> None:
        """The agent accepts the interaction it was invited to (Accepted owed to it) and completes it."""
        if not self._wait(invited):
            return
        interaction_id = str((invited.data or {}).get("id", ""))
        self._aimed(caused, "interactionId", interaction_id)
        path, stream = f"/me/interactions/{interaction_id}", f"interaction:{interaction_id}"
        accepted = self._expect(self.name, INTERACTIONS, stream, "Accepted", time.monotonic())
        if not self._operate("POST /me/interactions/{id}#Accept", path, "Accept", [accepted], extra):
            self._operate("POST /me/interactions/{id}#Reject", path, "Reject", [])
            return
        self._wait(accepted)
        self._operate("POST /me/interactions/{id}#StopProcessing", path, "StopProcessing", [])

    def _aimed(self, caused: Stimulus, key: str, received: Any) -> None:
        """The invitation (or ringing call) this agent got must be the one the stimulus aimed at it, when the
        adapter says which it made: another's is misrouted (GWS-NOTIF-005), even when it matched what was owed."""
        made = caused.get(key)
        if made is not None and received is not None and str(made) != str(received):
            self.ledger.note("misrouted", f"{self.name} was offered {received}, not the {made} aimed at it")

    def _party(self) -> Party:
        return Party(self.name, self.user_id, self.phone)

    def _stimulate(self, action: str, owed: list[Expectation], **arguments: Any) -> Stimulus | None:
        """Ask the stimulus adapter for ``action``; refused or broken, nothing is owed for it."""
        adapter = self.swarm.adapter
        assert adapter is not None
        started = time.perf_counter()
        try:
            caused: Stimulus | None = getattr(adapter, action)(**arguments)
            error: BaseException | None = None
        except Exception as exc:  # SuiteError (refused), StimulusUnavailable, a vendor adapter's own
            caused, error = None, exc
            for expectation in owed:
                self.ledger.withdraw(expectation)
        self._fire(f"stimulus {action}", time.perf_counter() - started, error)
        return caused

    # -- notifications -----------------------------------------------------------------------------------

    def _on_message(self, topic: str, data: Any, received: float) -> None:
        errors = list(_schema_errors(topic, json.dumps(data, sort_keys=True)))
        match = self.ledger.receive(self.name, topic, data, errors, received)
        # The called half answers its partner's calls; the calling half takes inbound calls, answered by its task.
        if match is not None and match.state == "Ringing" and not self.caller:
            gevent.spawn(self._answer, data)

    def _on_session_event(self, what: str, seconds: float, error: BaseException | None) -> None:
        self._fire(what, seconds, error)

    # -- plumbing ----------------------------------------------------------------------------------------

    def _expect(
        self,
        agent: str,
        topic: str,
        stream: str | None,
        state: str,
        sent: float,
        required: bool = True,
        *,
        party: str | None = None,
    ) -> Expectation:
        expectation = self.ledger.expect(agent, topic, stream, state, sent, required=required, party=party)
        if agent == self.name:
            expectation.waiter = Event()
        return expectation

    def _wait(self, expectation: Expectation) -> bool:
        waiter = expectation.waiter
        return bool(waiter is not None and waiter.wait(self.swarm.options.thresholds.deadline_s))

    def _operate(
        self, operation: str, path: str, name: str, owed: list[Expectation], extra: dict[str, Any] | None = None
    ) -> bool:
        """POST ``name``; a refused operation owes nothing (GWS-NOTIF-008), so its expectations are withdrawn.

        A request with no reply at all (the generator's timeout, a closed connection) may or may not have been
        performed: what it would owe becomes optional (counted if it comes, never lost, never a duplicate), and
        the agent reads its state again rather than guess it."""
        answered, body = self._exchange(operation, "POST", path, {"operationName": name, **(extra or {})})
        if body.get("statusCode") == 0:
            return True
        for expectation in owed:
            if answered:
                self.ledger.withdraw(expectation)
            else:
                self.ledger.unsure(expectation)
        if not answered:
            self._read_state()
        return False

    def _rest(self, operation: str, method: str, path: str, json: Any = None) -> dict[str, Any]:
        return self._exchange(operation, method, path, json)[1]

    def _exchange(self, operation: str, method: str, path: str, json: Any = None) -> tuple[bool, dict[str, Any]]:
        """(whether any reply came, its JSON object body or {})."""
        url = path if path.startswith("http") else self.swarm.base_url + path
        started = time.perf_counter()
        error: BaseException | None = None
        body: Any = None
        response = None
        try:
            response = self.http.request(method, url, json=json, timeout=self.swarm.options.thresholds.deadline_s)
            try:
                body = response.json()
            except ValueError:
                body = None
        except Exception as exc:
            error = exc
        elapsed = time.perf_counter() - started
        if response is not None:
            assert self.swarm.judge is not None
            self.swarm.judge.judge(operation, self.name, response, body, elapsed)
            code = body.get("statusCode") if isinstance(body, dict) else None
            if code != 0:
                error = RuntimeError(f"HTTP {response.status_code} statusCode {code}")
        self._fire(operation, elapsed, error, len(response.content) if response is not None else 0)
        return response is not None, body if isinstance(body, dict) else {}

    def _fire(self, name: str, seconds: float, error: BaseException | None, length: int = 0) -> None:
        request_type, _, rest = name.partition(" ")
        self.environment.events.request.fire(
            request_type=request_type,
            name=rest or name,
            response_time=seconds * 1000,
            response_length=length,
            exception=error,
            context={},
        )


@functools.lru_cache(maxsize=8192)
def _schema_errors(topic: str, canonical: str) -> tuple[str, ...]:
    """validate_notification, once per distinct message: an agent's channel and device messages repeat the same
    few states all run long, and validating each again was most of the load generator's CPU."""
    return tuple(validate_notification(topic, json.loads(canonical)))
