"""Group 7 — permissions and isolation.

The matrix: every operation of spec/openapi.yaml (each operationName on its own) called by an
anonymous client, one with a wrong password, an agent, a supervisor and an administrator; the roles
come from ``x-gws-roles`` (a variant's own roles where it narrows them). What each cell sends is
chosen so that the cell proves one thing and harms nothing, in any order:

- refused (the caller's role is not granted): a well-formed request on real objects created for the
  matrix ("victims"), so that nothing but the role can be the reason to refuse: statusCode 5
  (5 or 6 where no real object can exist without a stimulus: calls, interactions, attachments);
- granted: a request that cannot do harm — an id that does not exist, or a body without the
  operation's required attributes — whose answer must not be statusCode 5; /me operations that need
  nothing (Ready, DoNotDisturbOn, EndContactCenterSession...) run on throwaway users;
- without valid credentials: nothing may be done or revealed (statusCode other than 0, no data);
  the HTTP status SHOULD be 401.

Isolation: agent2 can neither read nor operate agent1's devices, calls, interactions, attachments
and workbin entries (statusCode 5 or 6, nothing changes) and receives none of agent1's messages.
"""

from __future__ import annotations

import base64
import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance import contract
from conformance.api import ANY, HELPERS, Admin, Agent, Call, Device, Interaction, Raw, Session, Workbin, expect_status
from conformance.client import GwsClient, Recorder
from conformance.config import Credentials, Settings
from conformance.discovery import Discovery
from conformance.fixtures.scenarios import ROUTING, AccountLocks
from conformance.inbox import Inbox
from conformance.outcomes import not_applicable
from conformance.suite.scenarios.lifecycle import best_effort
from conformance.suite.scenarios.support import Me, require

CALLERS = ("anonymous", "wrong-password", "agent", "supervisor", "admin")
ROLE_NAMES = {"agent": {"agent"}, "supervisor": {"supervisor", "agent"}, "admin": {"admin"}}
CLOUD_ADMIN_ONLY = "DELETE /features/{id}"  # E26: no role the suite drives may call it
EMAIL_OUT_QUEUE = "SimpleEmailOutQueue"  # the reference's outbound e-mail queue (fixtures/contact-center.yaml)
NOWHERE = "http://127.0.0.1:9/api/v2"


# -- the contract's roles -----------------------------------------------------------------------------------


def _resolve(ref: str) -> dict[str, Any]:
    node: Any = contract.load_document("openapi.yaml")
    for token in ref.lstrip("#/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node if isinstance(node, dict) else {}


def operation_spec(op: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The operation object of ``op`` and the body schema of its variant (or its body), if any."""
    method, _, rest = op.partition(" ")
    path, _, name = rest.partition("#")
    spec = contract.load_document("openapi.yaml")["paths"][path][method.lower()]
    schema = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return spec, None
    if "$ref" in schema:
        return spec, _resolve(schema["$ref"])
    mapping = schema.get("discriminator", {}).get("mapping", {})
    if name in mapping:
        return spec, _resolve(mapping[name])
    open_variants = [_resolve(o["$ref"]) for o in schema.get("oneOf", []) if o["$ref"] not in mapping.values()]
    return spec, open_variants[0] if open_variants else None


def allowed_roles(op: str) -> frozenset[str]:
    spec, variant = operation_spec(op)
    roles = (variant or {}).get("x-gws-roles") or spec.get("x-gws-roles", [])
    return frozenset(roles)


def granted(op: str, caller: str) -> bool:
    return bool(ROLE_NAMES[caller] & allowed_roles(op))


SPECIFIC_REFUSALS = {f"GWS-PERM-00{n}" for n in range(3, 9)}  # "refuses ... to an agent"
GRANTS = {"agent": "GWS-PERM-009", "supervisor": "GWS-PERM-013", "admin": "GWS-PERM-014"}


def _requirements(op: str, caller: str) -> tuple[str, ...]:
    if caller not in ROLE_NAMES:
        return ("GWS-AUTH-002", "GWS-AUTH-003")
    if granted(op, caller):
        return (GRANTS[caller],)
    ids = ["GWS-PERM-001"]
    for requirement in contract.requirements():
        operations = set(requirement.get("operations") or ())
        if op not in operations and op.partition("#")[0] not in operations:
            continue
        rid = requirement["id"]
        if (rid in SPECIFIC_REFUSALS and caller == "agent") or (rid == "GWS-PWD-010" and caller != "admin"):
            ids.append(rid)
    return tuple(ids)


def _cells() -> Iterator[Any]:
    for op in sorted(HELPERS):
        for caller in CALLERS:
            if op == CLOUD_ADMIN_ONLY and caller in ROLE_NAMES:
                continue  # E26: Cloud Admin is outside the three roles (reported untested)
            yield pytest.param(
                op, caller, id=f"{op}-{caller}", marks=pytest.mark.requirement(*_requirements(op, caller))
            )


# -- the objects the matrix works on ----------------------------------------------------------------------


@dataclass
class Victims:
    """Real objects for refused cells; throwaway callers for granted ones."""

    user_id: str
    skill_id: str
    contact_id: str
    agent_state: str
    device_id: str | None
    workbin_id: str | None
    callers: dict[str, GwsClient] = field(default_factory=dict)


@pytest.fixture(scope="module")
def victims(
    gws_clients: Any, gws_settings: Settings, gws_recorder: Recorder, gws_discovery: Discovery
) -> Iterator[Victims]:
    admin = Admin(gws_clients.for_role("admin"))
    suffix = uuid.uuid4().hex[:10]
    created_users: list[str] = []
    sessions: list[GwsClient] = []

    def user(prefix: str, roles: list[str]) -> tuple[str, str, str]:
        name, password = f"{prefix}{suffix}", f"Pw-{uuid.uuid4().hex[:12]}"
        gws_recorder.redactor.add_secret(password)
        user_id = str(admin.create_user(userName=name, password=password, roles=roles)["id"])
        created_users.append(user_id)
        return user_id, name, password

    skill_id = contact_id = agent_state = ""
    try:
        victim_id, _, _ = user("gwsvictim", ["ROLE_AGENT"])
        skill_id = str(admin.create_skill(f"GwsMatrix_{suffix}")["id"])
        admin.assign_user_skill(victim_id, skill_id, level="1")
        contact_id = str(
            admin.create_contact(name=f"GwsMatrix_{suffix}", phoneNumber=f"+1650{suffix[:7]}", type="Custom")["id"]
        )
        agent_state = f"GwsMatrix_{suffix}"
        admin.create_agent_state(agent_state, "Matrix", "NotReady", reason=f"GwsMatrix_{suffix}")
        device_id = None
        if gws_discovery.feature_assigned("api-voice"):
            number = "6" + str(uuid.uuid4().int)[:9]
            device_id = str(admin.create_user_device(victim_id, number)["id"])
        workbins = (
            gws_discovery.objects("agent1", "/me/workbins") if gws_discovery.feature_assigned("api-multimedia") else []
        )
        workbin_id = str(workbins[0]["workbinId"]) if workbins and "workbinId" in workbins[0] else None
        found = Victims(victim_id, skill_id, contact_id, agent_state, device_id, workbin_id)
        supervisor_roles = gws_discovery.roles("supervisor") or ["ROLE_SUPERVISOR", "ROLE_AGENT"]
        for caller, roles in (("agent", ["ROLE_AGENT"]), ("supervisor", supervisor_roles)):
            _, name, password = user(f"gwsmatrix{caller}", roles)
            session = GwsClient(gws_settings, Credentials(role="", user=name, password=password), recorder=gws_recorder)
            sessions.append(session)
            found.callers[caller] = session
        found.callers["admin"] = gws_clients.for_role("admin")
        yield found
    finally:
        for session in sessions:
            session.close()
        for user_id in created_users:
            admin.delete_user(user_id, expect=ANY)
        if skill_id:
            admin.delete_skill(skill_id, expect=ANY)
        if contact_id:
            admin.delete_contact(contact_id, expect=ANY)
        if agent_state:
            admin.delete_agent_state(agent_state, expect=ANY)


# -- building a cell's request --------------------------------------------------------------------------------


def _fabricated() -> str:
    return f"gws-none-{uuid.uuid4().hex[:12]}"


def _path_values(path: str, victims: Victims, real: bool) -> tuple[dict[str, str], bool]:
    """Values for the path's parameters, and whether they all name real objects."""
    values: dict[str, str] = {}
    all_real = True
    for name in [p.strip("{}") for p in path.split("/") if p.startswith("{")]:
        value: str | None = None
        if real:
            if name == "skillId" or (name == "id" and path.startswith("/skills")):
                value = victims.skill_id
            elif name == "id" and path.startswith("/users"):
                value = victims.user_id
            elif name == "id" and path.startswith("/contacts"):
                value = victims.contact_id
            elif name == "id" and path.startswith("/features"):
                value = "api-voice"
            elif name == "id" and "devices" in path:
                value = victims.device_id
            elif name == "workbinId":
                value = victims.workbin_id
            elif name == "channel":
                value = "email"
        all_real = all_real and value is not None
        values[name] = value if value is not None else _fabricated()
    return values, all_real


def _sample(attribute: str, victims: Victims) -> Any:
    unique = uuid.uuid4().hex[:10]
    samples: dict[str, Any] = {
        "destination": "+16505550100",
        "consultCallUri": f"{NOWHERE}/me/calls/x",
        "otherCallUri": f"{NOWHERE}/me/calls/y",
        "digits": "123",
        "participant": "+16505550100",
        "userData": {"gws": "matrix"},
        "key": "gws",
        "queue": EMAIL_OUT_QUEUE,
        "queueName": EMAIL_OUT_QUEUE,
        "properties": {"gws": "matrix"},
        "workbin": victims.workbin_id or "TestWorkbin",
        "targetId": victims.user_id,
        "agentId": victims.user_id,
        "email_object": {
            "toAddress": "to@example.test",
            "fromAddress": "from@example.test",
            "subject": "s",
            "text": "t",
        },
        "text": "hello",
        "notification": "TypingStarted",
        "uri": f"{NOWHERE}/me/workbins/x/interactions/y",
        "channels": ["voice"],
        "oldPassword": base64.b64encode(b"old-password").decode(),
        "newPassword": base64.b64encode(f"New-{unique}".encode()).decode(),
        "interactionType": "Outbound",
        "interactionSubType": "OutboundNew",
        "userName": f"gwsnobody{unique}",
        "password": f"Pw-{unique}",
        "name": f"GwsNobody_{unique}",
        "phoneNumber": "5" + str(uuid.uuid4().int)[:9],
        "id": victims.skill_id,
        "level": "1",
        "interactionId": _fabricated(),
        "displayName": "Matrix",
        "state": "NotReady",
    }
    return samples.get(attribute, "x")


def _body(op: str, victims: Victims, *, complete: bool) -> dict[str, Any] | None:
    """The cell's JSON body: complete (refused cells) or only the operationName (granted, unauthenticated)."""
    _, schema = operation_spec(op)
    if schema is None:
        return None
    name = op.partition("#")[2]
    body: dict[str, Any] = {}
    if name:
        body["operationName"] = victims.agent_state if name == "*" else name
    if complete:
        for attribute in schema.get("required", []):
            if attribute != "operationName":
                body[attribute] = _sample(attribute, victims)
        if op.startswith(("PUT /settings/agent-states", "DELETE /settings/agent-states")):
            body["operationName"] = victims.agent_state
        elif op == "POST /settings/agent-states":
            body["operationName"] = f"GwsNobody_{uuid.uuid4().hex[:10]}"
    elif not name and op.startswith(("PUT /settings", "DELETE /settings")):
        body = {"operationName": f"GwsNobody_{uuid.uuid4().hex[:10]}"}
    return body


# -- the matrix -----------------------------------------------------------------------------------------------


# Granted cells that leave their throwaway caller Ready, whom routing may then offer another test's e-mail.
MAKES_READY = frozenset({"POST /me#Ready", "POST /me/channels/{channel}#Ready"})


def holds_routing(op: str, caller: str) -> bool:
    """Whether the cell holds the routing (``routable_while_ready``); the scheduler reads it too."""
    return op in MAKES_READY and caller in ROLE_NAMES and granted(op, caller)


@contextlib.contextmanager
def routable_while_ready(locks: AccountLocks, client: GwsClient, op: str, values: dict[str, str]) -> Iterator[None]:
    """Around a cell of MAKES_READY: hold ROUTING shared (no whole-pool scenario's e-mail is routed meanwhile), and
    put the caller back NotReady before letting go (unjudged: the cell's own reply is what the matrix judges)."""
    with locks.hold(ROUTING, shared=True):
        try:
            yield
        finally:
            best_effort(
                lambda: Raw(client).send(op.replace("#Ready", "#NotReady"), values, {"operationName": "NotReady"})
            )


@pytest.mark.parametrize(("op", "caller"), list(_cells()))
def test_permission_matrix(
    op: str,
    caller: str,
    victims: Victims,
    gws_unauthenticated: Callable[[str], GwsClient],
    gws_account_locks: AccountLocks,
) -> None:
    rest = op.partition(" ")[2]
    path = rest.partition("#")[0]
    authenticated = caller in ROLE_NAMES
    refused = authenticated and not granted(op, caller)
    values, all_real = _path_values(path, victims, real=refused)
    client = victims.callers[caller] if authenticated else gws_unauthenticated(caller)
    upload = op == "POST /me/interactions/{id}/attachments"
    files = {"attachment": ("matrix.txt", b"matrix", "text/plain")} if upload else None
    routing = routable_while_ready(gws_account_locks, client, op, values) if holds_routing(op, caller) else None
    with routing or contextlib.nullcontext():
        reply = Raw(client).send(op, values, _body(op, victims, complete=refused), files=files)
    if not authenticated:
        leaked = [k for k, v in reply.body.items() if k not in ("statusCode", "statusMessage") and v]
        require(
            reply.status_code != 0 and not leaked,
            f"{op} answered a request without valid credentials",
            f"statusCode {reply.status_code}, members {sorted(reply.body)}",
            "GWS-AUTH-003",
            evidence=[reply.exchange],
        )
    elif refused:
        expect_status(reply, 5 if all_real else {5, 6})
    else:
        require(
            reply.status_code not in (5, None),
            f"{op} refused to a role x-gws-roles grants it",
            f"{caller} got statusCode {reply.status_code}: {reply.body!r}",
            evidence=[reply.exchange],
        )


# -- isolation ------------------------------------------------------------------------------------------------


@pytest.fixture
def pair(gws_exclusive: Callable[..., None], gws_client: Callable[[str], GwsClient]) -> tuple[Me, Me]:
    """agent1 and agent2, held; with a pool, whichever agents are free (the tests are marked ``recast``)."""
    gws_exclusive("agent1", "agent2")
    return Me.read(gws_client("agent1")), Me.read(gws_client("agent2"))


@pytest.mark.recast
@pytest.mark.feature("api-voice")
@pytest.mark.requirement("GWS-PERM-002", "GWS-DEV-002", "GWS-NOTIF-005", "GWS-GEN-010")
def test_an_agent_cannot_reach_another_agents_devices_and_calls(
    pair: tuple[Me, Me], gws_inbox: Callable[..., Inbox]
) -> None:
    owner, other = pair
    if not owner.device_ids:
        not_applicable(f"{owner.user_name} has no device")
    device_id = owner.device_ids[0]
    bystander = gws_inbox("agent2")
    calls = gws_inbox("agent1", topics=["/v2/me/calls"])

    # Devices: neither read nor operated; not listed.
    stranger = Device(other.client, device_id)
    stranger.get(expect={5, 6})
    Agent(other.client).get_my_device(device_id, expect={5, 6})
    stranger.dnd_on(expect={5, 6})
    stranger.forward_calls_on("+16505550100", expect={5, 6})
    stranger.dial("+16505550100", expect={5, 6})
    listed = Session(other.client).list_devices(fields="*", expect=ANY)
    require(
        all(d.get("id") != device_id for d in listed.items("devices")),
        "an agent's GET /devices lists another agent's device",
        "",
        "GWS-DEV-002",
    )
    device = Device(owner.client, device_id).get().get("device", {})
    require(
        device.get("doNotDisturb") == "Off" and "forwardTo" not in device,
        "another agent's refused operation changed the device",
        f"{device!r}",
        "GWS-GEN-010",
    )

    # Calls: agent1 dials out; agent2 can do nothing to the call.
    Device(owner.client, device_id).dial("+16505550177")
    dialing = calls.expect(
        "/v2/me/calls",
        lambda d: d.get("call", {}).get("state") in ("Dialing", "Established"),
        "CallStatusChange for the call agent1 dialled",
    )
    call_id = str(dialing.data["call"]["id"])
    try:
        stranger_call = Call(other.client, call_id)
        stranger_call.get(expect={5, 6})
        stranger_call.hangup(expect={5, 6})
        stranger_call.hold(expect={5, 6})
        stranger_call.attach_user_data({"gws": "intruder"}, expect={5, 6})
        require(
            all(c.get("id") != call_id for c in Agent(other.client).list_my_calls(fields="*").items("calls")),
            "another agent's call is in GET /me/calls",
            "",
            "GWS-PERM-002",
        )
        state = Call(owner.client, call_id).get().get("call", {}).get("state")
        require(
            state in ("Dialing", "Established"),
            "another agent's refused operation changed the call",
            f"state {state!r}",
            "GWS-GEN-010",
        )
    finally:
        Call(owner.client, call_id).hangup(expect=ANY)
    calls.expect("/v2/me/calls", lambda d: d.get("call", {}).get("state") == "Released", "the call Released")
    bystander.assert_quiet()


@pytest.mark.recast
@pytest.mark.feature("api-multimedia")
@pytest.mark.requirement("GWS-PERM-002", "GWS-NOTIF-005", "GWS-GEN-010", "GWS-ATT-004")
def test_an_agent_cannot_reach_another_agents_interactions_attachments_and_workbins(
    pair: tuple[Me, Me], gws_inbox: Callable[..., Inbox], gws_settings: Settings
) -> None:
    owner, other = pair
    bystander = gws_inbox("agent2")
    mine = gws_inbox("agent1", topics=["/v2/me/interactions"])
    created = Agent(owner.client).create_email(EMAIL_OUT_QUEUE)
    message = mine.expect(
        "/v2/me/interactions",
        lambda d: d.get("state") == "ReplyCreated" and d.get("interactionSubType") == "OutboundNew",
        "the created e-mail (ReplyCreated)",
    )
    interaction_id = str(message.data.get("id") or created.get("id"))
    interaction = Interaction(owner.client, interaction_id)
    stranger = Interaction(other.client, interaction_id)
    try:
        # Interactions: neither read nor operated.
        stranger.get(expect={5, 6})
        stranger.update({"subject": "intruder"}, expect={5, 6})
        stranger.update_properties({"gws": "intruder"}, expect={5, 6})
        stranger.cancel_reply_email(expect={5, 6})
        stranger.send(
            EMAIL_OUT_QUEUE,
            {"toAddress": "x@example.test", "fromAddress": "y@example.test", "subject": "s", "text": "t"},
            expect={5, 6},
        )
        require(
            all(
                not u.rstrip("/").endswith("/" + interaction_id)
                for u in Agent(other.client).list_my_interactions().uris()
            ),
            "another agent's interaction is in GET /me/interactions",
            "",
            "GWS-PERM-002",
        )

        # Attachments: neither downloaded, deleted nor added to.
        content = b"isolation " + uuid.uuid4().bytes
        document = str(interaction.upload_attachment("isolation.bin", content)["documentId"])
        stranger.get_attachment(document, expect={5, 6})
        stranger.delete_attachment(document, expect={5, 6})
        stranger.upload_attachment("intruder.bin", b"intruder", expect={5, 6})
        download = interaction.get_attachment(document)
        require(
            download.response.content == content,
            "a refused operation changed the attachment",
            "",
            "GWS-GEN-010",
            "GWS-ATT-004",
        )

        # Workbins: the entry is agent1's; agent2 sees it nowhere and can neither add nor pull it.
        workbins = Agent(owner.client).list_my_workbins(fields="*").get("workbins", [])
        if workbins:
            workbin_id = str(workbins[0]["workbinId"])
            interaction.place_in_workbin(workbin_id)
            theirs = Workbin(other.client, workbin_id).get_content(fields="*").get("interactions", [])
            require(
                all(interaction_id not in map(str, item.values()) for item in theirs),
                "another agent's workbin entry is in the agent's workbin",
                f"{theirs!r}",
                "GWS-PERM-002",
            )
            workbin = Workbin(other.client, workbin_id)
            workbin.add_interaction(interaction_id, expect={5, 6})
            entry = f"{gws_settings.base_url}/me/workbins/{workbin_id}/interactions/{interaction_id}"
            Agent(other.client).pull_interaction_from_workbin(entry, expect={5, 6})
            Agent(owner.client).pull_interaction_from_workbin(entry)
            mine.expect(
                "/v2/me/interactions",
                lambda d: d.get("id") == interaction_id and d.get("state") == "Pulled",
                "the e-mail pulled back (Pulled)",
            )
    finally:
        interaction.cancel_reply_email(expect=ANY)
    bystander.assert_quiet()
