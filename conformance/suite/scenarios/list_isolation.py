"""Cross-user data through list operations (E97): a list never reveals what the object's own GET refuses.

The list operations of spec/openapi.yaml whose objects are read one by one under an owner's scope
(``x-gws-scope: own`` on ``GET <list>/{id}``) and that other roles than the administrator may call: GET /users
and GET /devices. For an agent and a supervisor, every object the administrator sees is tried with the
caller's own GET of it; each refused one (statusCode 5 or 6) is a stranger's. Then each combination of the
list's ``fields`` (none, ``*``, a list naming every member) and ``subresources`` (none, ``*``, each
subresource alone, all of them by name) is asked, and a stranger's entry is judged against the refusal:

- GET /users (GWS-PERM-015): the entry may carry the user's own attributes (the directory E97 grants), never
  a subresource member (devices, skills, settings...) nor any id or phone number of the stranger's devices
  and skills, wherever in the reply it would be;
- GET /devices (GWS-DEV-002): a stranger's device is not listed at all (neither its id nor its uri).

The subresources are what the administrator's ``GET /users/{id}?subresources=*`` adds to the plain GET, so
a target's own subresource names are tried too; the tokens judged are the administrator's view of them.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance import contract
from conformance.api import ANY, Admin, Device, Reply, Session
from conformance.client import Exchange, GwsClient
from conformance.discovery import Discovery
from conformance.outcomes import not_applicable
from conformance.suite.scenarios.support import require

CALLERS = {"agent": "agent1", "supervisor": "supervisor"}
# Each list operation, the requirement that judges its replies, and the collection its objects come under.
LIST_RULES = {"GET /users": ("GWS-PERM-015", "users"), "GET /devices": ("GWS-DEV-002", "devices")}


def owner_scoped_lists() -> set[str]:
    """The GET list operations other roles than admin may call whose items' GET is scoped to their owner."""
    paths = contract.load_document("openapi.yaml")["paths"]
    found = set()
    for path, item in paths.items():
        listing, one = item.get("get"), paths.get(f"{path}/{{id}}", {}).get("get")
        if listing is None or one is None or path.startswith("/me"):
            continue
        names = {p.get("$ref", "").rsplit("/", 1)[-1] for p in listing.get("parameters", [])}
        roles = set(listing.get("x-gws-roles", []))
        if names & {"fields", "subresources"} and roles - {"admin"} and one.get("x-gws-scope") == "own":
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
    device_tokens: dict[str, set[str]] = field(default_factory=dict)  # device id -> its id and uri


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
        for device in admin.list_devices(fields="*").items("devices"):
            found.device_tokens[str(device.get("id"))] = {str(device.get(k)) for k in ("id", "uri") if device.get(k)}
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


def _combinations(op: str, directory: Directory) -> list[dict[str, str | None]]:
    members = ["id", "uri", "userName", *directory.subresources] if op == "GET /users" else ["id", "uri", "phoneNumber"]
    fields: list[str | None] = [None, "*", ",".join(members)]
    if op != "GET /users":
        return [{"fields": f} for f in fields]
    names = directory.subresources
    subresources: list[str | None] = [None, "*", *names, ",".join(names)]
    return [{"fields": f, "subresources": s} for f, s in itertools.product(fields, subresources)]


def _strangers(op: str, client: GwsClient, directory: Directory) -> dict[str, set[str]]:
    """The objects whose own GET the caller is refused (5 or 6), with the tokens that would reveal them."""
    if op == "GET /users":
        session = Session(client)
        return {u: t for u, t in directory.user_tokens.items() if session.get_user(u, expect=ANY).status_code in (5, 6)}
    return {d: t for d, t in directory.device_tokens.items() if Device(client, d).get(expect=ANY).status_code in (5, 6)}


def _cases() -> Iterator[Any]:
    for op, (rule, _) in sorted(LIST_RULES.items()):
        for caller in sorted(CALLERS):
            yield pytest.param(op, caller, id=f"{op}-{caller}", marks=pytest.mark.requirement(rule))


@pytest.mark.parametrize(("op", "caller"), list(_cases()))
def test_a_list_reveals_nothing_the_objects_own_get_refuses(
    op: str, caller: str, directory: Directory, gws_clients: Any
) -> None:
    rule, collection = LIST_RULES[op]
    client = gws_clients.for_role(CALLERS[caller])
    strangers = _strangers(op, client, directory)
    if not strangers:
        # Whether that may be is GWS-PERM-002's matter; with nothing refused, no list can reveal more.
        not_applicable(f"the {caller}'s own GET grants every object {op} lists: nothing to compare the list with")
    leaks: list[str] = []
    evidence: list[Exchange] = []
    for params in _combinations(op, directory):
        reply: Reply = _list(op, client, params)
        for entry in reply.items(collection) or [{"uri": u} for u in reply.uris()]:
            leaks += _judge(op, entry, strangers, directory, params)
        if op == "GET /devices":
            seen = set(_strings(reply.body))
            asked = f"fields={params['fields']}" if params["fields"] else "no parameters"
            leaks += [f"{asked}: another user's device {d} listed" for d, tokens in strangers.items() if tokens & seen]
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
    session = Session(client)
    if op == "GET /users":
        return session.list_users(fields=params["fields"], subresources=params.get("subresources"), expect=ANY)
    return session.list_devices(fields=params["fields"], expect=ANY)


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
