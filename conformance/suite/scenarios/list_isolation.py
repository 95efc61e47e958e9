"""Cross-user data through list operations (E97): a list never reveals what the object's own GET refuses.

Every list operation of spec/openapi.yaml outside /me that other roles than the administrator may call with
``fields`` or ``subresources`` and whose objects they may also ask for one by one (``GET <list>/{id}``): GET
/users, /devices, /contacts, /features and /interactions. For an agent and a supervisor, every object the
administrator lists is tried with the caller's own GET of it; each refused one (statusCode 5 or 6) is a
stranger's, and the target's own refusals are the measure (a target that grants them all is not applicable).
Then each combination of the list's ``fields`` (none, ``*``, a list naming every member) and, for GET /users,
``subresources`` (none, ``*``, each subresource alone, all of them by name) is asked, and a stranger's entry is
judged against the refusal:

- GET /users (GWS-PERM-015): the entry may carry the user's own attributes (the directory E97 grants), never
  a subresource member (devices, skills, settings...) nor any id or phone number of the stranger's devices
  and skills, wherever in the reply it would be;
- GET /devices (GWS-DEV-002), GET /contacts, /features, /interactions (GWS-AUTH-009): a stranger's object is
  not listed at all (neither its id nor its uri, anywhere in the reply).

Only a stimulus makes an interaction another agent handles: an e-mail offered to agent2 (held for the test),
accepted, listed, then ended; the interaction test needs the stimulus and api-multimedia.

The subresources are what the administrator's ``GET /users/{id}?subresources=*`` adds to the plain GET, so
a target's own subresource names are tried too; the tokens judged are the administrator's view of them.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance import casting, contract
from conformance.api import ANY, Admin, Agent, Channel, Interaction, Raw, Reply, check, check_response
from conformance.client import Exchange, GwsClient
from conformance.config import Settings
from conformance.discovery import Discovery
from conformance.outcomes import not_applicable
from conformance.stimulus import Party, StimulusAdapter
from conformance.suite.scenarios.email import SUPPORT
from conformance.suite.scenarios.lifecycle import best_effort
from conformance.suite.scenarios.support import require

CALLERS = {"agent": "agent1", "supervisor": "supervisor"}
# Each list operation, the requirement that judges its replies, and the collection its objects come under.
LIST_RULES = {
    "GET /users": ("GWS-PERM-015", "users"),
    "GET /devices": ("GWS-DEV-002", "devices"),
    "GET /contacts": ("GWS-AUTH-009", "contacts"),
    "GET /features": ("GWS-AUTH-009", "features"),
    "GET /interactions": ("GWS-AUTH-009", "interactions"),
}
# Lists whose strangers' objects only a stimulus makes: judged by a test of their own.
STIMULATED = {"GET /interactions"}


def agent_lists() -> set[str]:
    """The GET list operations outside /me other roles than admin may call with fields or subresources, whose
    objects they may also ask for one by one (GET <list>/{id})."""
    paths = contract.load_document("openapi.yaml")["paths"]
    found = set()
    for path, item in paths.items():
        listing, one = item.get("get"), paths.get(f"{path}/{{id}}", {}).get("get")
        if listing is None or one is None or path.startswith("/me"):
            continue
        names = {p.get("$ref", "").rsplit("/", 1)[-1] for p in listing.get("parameters", [])}
        others = set(listing.get("x-gws-roles", [])) & set(one.get("x-gws-roles", [])) - {"admin"}
        if names & {"fields", "subresources"} and others:
            found.add(f"GET {path}")
    return found


def _strings(node: Any) -> Iterator[str]:
    """Every string value anywhere in a JSON value (a token is matched whole, never as a substring)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


@dataclass
class Directory:
    """The administrator's view: every user's subresources, and the tokens that would reveal them."""

    subresources: list[str]
    user_tokens: dict[str, set[str]] = field(default_factory=dict)  # user id -> its devices' and skills' ids...
    objects: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # list -> object id -> its id and uri


@pytest.fixture(scope="module")
def directory(gws_clients: Any, gws_discovery: Discovery) -> Iterator[Directory]:
    """A stranger of every caller with a skill and, where voice is assigned, a device; the admin's view."""
    admin = Admin(gws_clients.for_role("admin"))
    suffix = uuid.uuid4().hex[:10]
    user_id = str(admin.create_user(userName=f"gwslists{suffix}", password=f"Pw-{suffix}", roles=["ROLE_AGENT"])["id"])
    skill_id = ""
    try:
        skill_id = str(admin.create_skill(f"GwsLists_{suffix}")["id"])
        admin.assign_user_skill(user_id, skill_id, level="1")
        if gws_discovery.feature_assigned("api-voice"):
            admin.create_user_device(user_id, "7" + str(uuid.uuid4().int)[:9])
        plain = admin.get_user(user_id).get("user", {})
        full = admin.get_user(user_id, subresources="*").get("user", {})
        found = Directory(sorted(set(full) - set(plain)) or ["devices", "skills"])
        everyone = admin.list_users(fields="*", subresources="*").items("users")
        for user in everyone:
            subresources = {name: user.get(name) for name in found.subresources if name in user}
            found.user_tokens[str(user.get("id"))] = _tokens(subresources)
        for op, (_, collection) in LIST_RULES.items():
            if op != "GET /users" and op not in STIMULATED:
                found.objects[op] = _identities(_list(op, admin.client, {"fields": "*"}).items(collection))
        yield found
    finally:
        admin.delete_user(user_id, expect=ANY)
        if skill_id:
            admin.delete_skill(skill_id, expect=ANY)


def _tokens(subresources: dict[str, Any]) -> set[str]:
    """What identifies a subresource object: its id, uri, phone numbers (not names or states shared by many)."""
    tokens: set[str] = set()
    for objects in subresources.values():
        for obj in objects if isinstance(objects, list) else [objects]:
            if isinstance(obj, dict):
                keys = ("id", "uri", "phoneNumber", "e164Number")
                tokens |= {str(obj[k]) for k in keys if isinstance(obj.get(k), (str, int)) and str(obj[k])}
    return tokens


def _identities(objects: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Object id -> what names it in a reply (its id and uri)."""
    return {str(obj["id"]): {str(obj[k]) for k in ("id", "uri") if obj.get(k)} for obj in objects if obj.get("id")}


MEMBERS = {"GET /devices": ["phoneNumber"], "GET /contacts": ["name"], "GET /features": ["name"]}


def _combinations(op: str, directory: Directory) -> list[dict[str, str | None]]:
    extra = [*directory.subresources, "userName"] if op == "GET /users" else MEMBERS.get(op, [])
    fields: list[str | None] = [None, "*", ",".join(["id", "uri", *extra])]
    if op != "GET /users":
        return [{"fields": f} for f in fields]
    names = directory.subresources
    subresources: list[str | None] = [None, "*", *names, ",".join(names)]
    return [{"fields": f, "subresources": s} for f, s in itertools.product(fields, subresources)]


def _strangers(op: str, client: GwsClient, objects: dict[str, set[str]]) -> dict[str, set[str]]:
    """The objects whose own GET the caller is refused (5 or 6), with the tokens that would reveal them."""
    one = f"{op}/{{id}}"
    return {key: tokens for key, tokens in objects.items() if Raw(client).send(one, {"id": key}).status_code in (5, 6)}


def _cases() -> Iterator[Any]:
    for op, (rule, _) in sorted(LIST_RULES.items()):
        for caller in sorted(CALLERS):
            if op not in STIMULATED:
                yield pytest.param(op, caller, id=f"{op}-{caller}", marks=pytest.mark.requirement(rule))


@pytest.mark.parametrize(("op", "caller"), list(_cases()))
def test_a_list_reveals_nothing_the_objects_own_get_refuses(
    op: str, caller: str, directory: Directory, gws_clients: Any
) -> None:
    objects = directory.user_tokens if op == "GET /users" else directory.objects[op]
    _judge_list(op, caller, gws_clients.for_role(CALLERS[caller]), objects, directory)


def _judge_list(op: str, caller: str, client: GwsClient, objects: dict[str, set[str]], directory: Directory) -> None:
    rule, collection = LIST_RULES[op]
    strangers = _strangers(op, client, objects)
    if not strangers:
        # Whether that may be is GWS-PERM-002's matter; with nothing refused, no list can reveal more.
        not_applicable(f"the {caller}'s own GET grants every object {op} lists: nothing to compare the list with")
    leaks: list[str] = []
    evidence: list[Exchange] = []
    for params in _combinations(op, directory):
        reply: Reply = _list(op, client, params)
        for entry in reply.items(collection) or [{"uri": u} for u in reply.uris()]:
            leaks += _judge(op, entry, strangers, directory, params)
        if op != "GET /users":
            seen = set(_strings(reply.body))
            asked = f"fields={params['fields']}" if params["fields"] else "no parameters"
            leaks += [f"{asked}: {collection[:-1]} {key} listed" for key, tokens in strangers.items() if tokens & seen]
        if leaks and not evidence:
            evidence.append(reply.exchange)
    require(
        not leaks,
        f"{op} reveals to the {caller} what the objects' own GET refuses",
        "; ".join(sorted(set(leaks))[:12]) + f" ({len(leaks)} in all; E97)",
        rule,
        evidence=evidence,
    )


def _list(op: str, client: GwsClient, params: dict[str, str | None]) -> Reply:
    """The list as the caller gets it, through the checks every reply passes; the reply to a field list is not held
    to the list's schema (its objects carry what was asked, E32)."""
    response = client.get(op.partition(" ")[2], params={k: v for k, v in params.items() if v is not None})
    reply = Reply(op, response)
    if params.get("fields") in (None, "*"):
        check(reply)
    else:
        check_response(reply.response)
    return reply


def _judge(
    op: str, entry: dict[str, Any], strangers: dict[str, set[str]], directory: Directory, params: dict[str, Any]
) -> list[str]:
    if op != "GET /users":
        return []
    user_id = str(entry.get("id") or str(entry.get("uri", "")).rstrip("/").rsplit("/", 1)[-1])
    if user_id not in strangers:
        return []
    members = sorted(name for name in directory.subresources if name in entry)
    tokens = sorted(strangers[user_id] & set(_strings(entry)))
    if not members and not tokens:
        return []
    asked = ", ".join(f"{k}={v}" for k, v in params.items() if v is not None) or "no parameters"
    return [f"{asked}: user {user_id} carries {', '.join(members) or 'no subresource member'} and {tokens}"]


# -- GET /interactions: an e-mail another agent handles --------------------------------------------------


@pytest.mark.recast  # with a pool, whichever agent is free handles the e-mail
@pytest.mark.feature("api-multimedia")
@pytest.mark.needs_stimulus
@pytest.mark.requirement("GWS-AUTH-009")
@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_an_interaction_list_reveals_nothing_its_get_refuses(
    caller: str,
    directory: Directory,
    gws_clients: Any,
    gws_stimulus: StimulusAdapter,
    gws_exclusive: Any,
    gws_settings: Settings,
) -> None:
    gws_exclusive("agent2")  # the e-mail's handler: Ready on e-mail only while it is offered
    handler, handler_name = gws_clients.for_role("agent2"), casting.account("agent2")
    # The agent caller reads as agent1, not held (it only lists) -- or, when agent1 itself plays the handler (a
    # pool whose other agents are busy), as agent3: the caller must be a stranger to the e-mail.
    caller_role = CALLERS[caller] if casting.account(CALLERS[caller]) != handler_name else "agent3"
    interaction_id = _email_handled_by(handler, handler_name, gws_stimulus, gws_settings)
    try:
        admin = gws_clients.for_role("admin")
        listed = _identities(_list("GET /interactions", admin, {"fields": "*"}).items("interactions"))
        require(
            interaction_id in listed,
            "an administrator's GET /interactions does not list an active interaction",
            f"interaction {interaction_id}, accepted by {handler_name}, is not among {sorted(listed)}",
            "GWS-IXN-003",
        )
        objects = {interaction_id: listed[interaction_id]}
        _judge_list("GET /interactions", caller, gws_clients.for_role(caller_role), objects, directory)
    finally:
        best_effort(Interaction(handler, interaction_id).stop_processing)


def _email_handled_by(handler: GwsClient, name: str, stimulus: StimulusAdapter, settings: Settings) -> str:
    """A customer's e-mail offered to the handler (Ready on e-mail for that moment only) and accepted: its id."""
    user = Agent(handler).get_me().get("user", {})
    email = Channel(handler, "email")
    email.ready()
    try:
        caused = stimulus.inbound_email(
            from_address=f"customer-{uuid.uuid4().hex[:8]}@example.test",
            to_address=SUPPORT,
            subject=f"list isolation {uuid.uuid4().hex[:8]}",
            agent=Party(str(user.get("userName")), str(user.get("id"))),
        )
    finally:
        best_effort(email.not_ready)
    interaction_id = caused.get("interactionId")
    if not isinstance(interaction_id, str):
        not_applicable("the stimulus names no interaction id for the e-mail it caused")
    # Accepted once the invitation has reached the handler (at once on the reference, within the wait elsewhere).
    deadline = time.monotonic() + (caused.wait_s or settings.notification_timeout_s)
    while not Interaction(handler, interaction_id).accept(expect=ANY).ok:
        if time.monotonic() > deadline:
            not_applicable(f"{name} could not accept the e-mail {interaction_id} offered to it")
        time.sleep(0.2)
    return interaction_id
