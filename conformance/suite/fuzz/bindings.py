"""Which objects a fuzz test addresses, and what it must never touch.

Path parameters are bound to objects the calling role can reach, so a case tests the operation
and not merely "no such object": reads address the role's own user, device, skill, channel or
workbin (``x-gws-scope: own``) or a catalogue object (a feature, a contact); writes — PUT,
DELETE, and the POSTs that change a user — address *scratch* objects the fuzz run creates for
that one test, as admin, and deletes at the end of the run.

The fixture contact center is protected three ways:
- ``Guard`` refuses to send a PUT or DELETE (or a POST on /users/{id}...) that names an object
  that existed when the run started, or a PUT/DELETE of an existing agent-state descriptor;
- ``RESTORE`` puts back what fuzzing a role's own objects may change (Do Not Disturb, call
  forwarding, agent state, the devices EndContactCenterSession unassigns, calls made by Dial)
  after each such test;
- ``World.adopt`` remembers what successful cases create (users, skills, contacts, agent-state
  descriptors, in single and stateful tests) and ``World.clean_up`` deletes it, with the scratch
  objects, at the end of the run.
Not put back: interactions a CreateEmail case opens, attachments, workbin subscriptions. Run the
fuzz part before scenarios that need a pristine multimedia state, or against a reference server
started afresh (or reset through its ``--stimulus`` control API) between suites.
"""

from __future__ import annotations

import base64
import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.client import GwsClient
from conformance.discovery import Discovery
from conformance.errors import TargetError
from conformance.suite.fuzz.catalogue import Operation

__all__ = ["ACCOUNTS", "RESTORE", "Guard", "World", "bind"]

# x-gws-roles name -> the configured account that plays it.
ACCOUNTS: Mapping[str, str] = {"admin": "admin", "supervisor": "supervisor", "agent": "agent1"}
SCRATCH_PREFIX = "gws-fuzz"

# (path, parameter) -> where a read finds a value (any method that does not change the object itself).
READ_SOURCES: Mapping[tuple[str, str], str] = {
    ("/features/{id}", "id"): "feature",
    ("/me/devices/{id}", "id"): "own_device",
    ("/me/devices/{id}/calls", "id"): "own_device",
    ("/me/channels/{channel}", "channel"): "own_channel",
    ("/me/skills/{id}", "id"): "own_skill",
    ("/devices/{id}", "id"): "own_device",
    ("/devices/{id}/calls", "id"): "own_device",
    ("/users/{id}", "id"): "own_user",
    ("/users/{id}/skills", "id"): "own_user",
    ("/users/{id}/devices", "id"): "own_user",
    ("/users/{id}/skills/{skillId}", "id"): "own_user",
    ("/users/{id}/skills/{skillId}", "skillId"): "own_skill",
    ("/skills/{id}", "id"): "own_skill",
    ("/contacts/{id}", "id"): "contact",
    ("/me/workbins/{workbinId}", "workbinId"): "own_workbin",
    ("/me/workbins/{workbinId}/interactions", "workbinId"): "own_workbin",
}
# (path, parameter) -> the scratch object a change addresses instead of a fixture object.
WRITE_SOURCES: Mapping[tuple[str, str], str] = {
    ("/users/{id}", "id"): "scratch_user",
    ("/users/{id}/skills", "id"): "scratch_user",
    ("/users/{id}/devices", "id"): "scratch_user",
    ("/users/{id}/skills/{skillId}", "id"): "scratch_user",
    ("/users/{id}/skills/{skillId}", "skillId"): "scratch_user_skill",
    ("/skills/{id}", "id"): "scratch_skill",
    ("/contacts/{id}", "id"): "scratch_contact",
}

# In a RESTORE body: the role's channel names (GET /me/channels; voice without the multimedia feature).
CHANNELS = "<the role's channels>"

# After a test of these operations, requests that put the role's own objects back as they were
# (best effort: their answers are not judged). "{id}"/"{channel}" are the bound path values.
# EndContactCenterSession unassigns the agent's devices: StartContactCenterSession gives them back.
RESTORE: Mapping[str, tuple[tuple[str, str, dict[str, Any]], ...]] = {
    "POST /me": (
        ("POST", "/me", {"operationName": "StartContactCenterSession", "channels": CHANNELS}),
        ("POST", "/me", {"operationName": "DoNotDisturbOff"}),
        ("POST", "/me", {"operationName": "NotReady"}),
    ),
    "POST /me/channels/{channel}": (
        ("POST", "/me/channels/{channel}", {"operationName": "DoNotDisturbOff"}),
        ("POST", "/me/channels/{channel}", {"operationName": "NotReady"}),
    ),
    "POST /devices/{id}": (
        ("POST", "/devices/{id}", {"operationName": "ForwardCallsOff"}),
        ("POST", "/devices/{id}", {"operationName": "DoNotDisturbOff"}),
    ),
    "POST /devices/{id}/calls": (("HANGUP", "/me/calls", {}),),
    "POST /me/devices/{id}/calls": (("HANGUP", "/me/calls", {}),),
}


def _write(operation: Operation) -> bool:
    """Whether the operation changes the object its path names (so it gets a scratch object)."""
    if operation.method in ("PUT", "DELETE"):
        return True
    return operation.method == "POST" and operation.path.startswith("/users/{id}")


@dataclass(frozen=True)
class Scratch:
    """An object the run made, and the request that deletes it."""

    path: str  # "/users/<id>", or "/settings/agent-states" with a body naming the descriptor
    body: dict[str, Any] | None = None


# Creating operations whose successes the run deletes again at its end (devices go with their user).
CREATED: Mapping[str, str] = {"POST /users": "/users", "POST /skills": "/skills", "POST /contacts": "/contacts"}


class World:
    """Finds the objects each role may address and makes the scratch objects writes address."""

    def __init__(self, discovery: Discovery, client_for: Callable[[str], GwsClient], run_tag: str) -> None:
        self.discovery = discovery
        self.client_for = client_for
        self.run_tag = run_tag
        self._lock = threading.RLock()  # a scratch user-skill makes its scratch user under the same lock
        self._scratch: dict[tuple[str, str], str | None] = {}
        self._made: list[Scratch] = []
        self._counter = itertools.count(1)

    # reads --------------------------------------------------------------------------------------

    def source(self, name: str, account: str, owner: str) -> str | None:
        """The value of source ``name`` for ``account``; ``owner`` names the test a scratch object belongs to."""
        try:
            if name.startswith("scratch_"):
                return self._scratch_value(name, owner)
            return self._read(name, account)
        except TargetError:
            return None  # the object cannot be found; the case uses a generated value instead

    def _read(self, name: str, account: str) -> str | None:
        discovery = self.discovery
        if name == "feature":
            features = sorted(discovery.assigned_features())
            return features[0] if features else None
        if name == "own_user":
            return _text(discovery.me(account).get("id"))
        if name == "own_device":
            return _first_id(discovery.objects(account, "/me/devices")) or _first_id(
                discovery.objects(account, "/devices")
            )
        if name == "own_skill":
            return _first_id(discovery.objects(account, "/me/skills"))
        if name == "own_channel":
            channels = discovery.objects(account, "/me/channels")
            return next((c["channel"] for c in channels if isinstance(c.get("channel"), str)), None)
        if name == "own_workbin":
            workbins = discovery.objects(account, "/me/workbins")
            return next((_text(w.get("workbinId") or w.get("id")) for w in workbins), None)
        if name == "contact":
            return _first_id(discovery.objects(account, "/contacts"))
        raise KeyError(name)

    def channels(self, account: str) -> list[str]:
        """The account's channel names (voice alone when the target lists none)."""
        try:
            found = [
                c["channel"]
                for c in self.discovery.objects(account, "/me/channels")
                if isinstance(c.get("channel"), str)
            ]
        except TargetError:
            found = []
        return found or ["voice"]

    # scratch objects ------------------------------------------------------------------------------

    def _scratch_value(self, name: str, owner: str) -> str | None:
        with self._lock:
            key = (owner, name)
            if key not in self._scratch:
                self._scratch[key] = self._make(name, owner)
            return self._scratch[key]

    def _make(self, name: str, owner: str) -> str | None:
        admin = self.client_for("admin")
        label = f"{SCRATCH_PREFIX}-{self.run_tag}-{next(self._counter)}"
        if name == "scratch_user":
            password = base64.b64encode(f"{label}-pw".encode()).decode()
            return self._create(
                admin,
                "/users",
                {
                    "userName": label,
                    "password": password,
                    "firstName": "Fuzz",
                    "lastName": "Scratch",
                    "roles": ["ROLE_AGENT"],
                },
            )
        if name == "scratch_skill":
            return self._create(admin, "/skills", {"name": label})
        if name == "scratch_contact":
            return self._create(admin, "/contacts", {"name": label, "phoneNumber": "+15550100"})
        if name == "scratch_user_skill":
            user = self._scratch_value("scratch_user", owner)
            skill = _first_id(self.discovery.objects("admin", "/skills"))
            if user is None or skill is None:
                return None
            response = admin.post(f"/users/{user}/skills", json={"id": skill, "level": "1"})
            return skill if response.status_code_field == 0 else None
        raise KeyError(name)

    def _create(self, admin: GwsClient, path: str, body: dict[str, Any]) -> str | None:
        response = admin.post(path, json=body)
        created = response.json_body.get("id") if isinstance(response.json_body, dict) else None
        if response.status_code_field != 0 or not isinstance(created, str):
            return None
        self._made.append(Scratch(f"{path}/{created}"))
        return created

    def adopt(self, operation: Operation, sent: Any, reply: Any) -> None:
        """Remember an object a fuzz case created, so that the run deletes it at its end."""
        if not isinstance(reply, dict) or reply.get("statusCode") != 0:
            return
        with self._lock:
            if operation.label in CREATED and isinstance(reply.get("id"), str):
                self._made.append(Scratch(f"{CREATED[operation.label]}/{reply['id']}"))
            elif operation.label == "POST /settings/agent-states" and isinstance(sent, dict):
                name = sent.get("operationName")
                if isinstance(name, str):
                    self._made.append(Scratch("/settings/agent-states", {"operationName": name}))

    def clean_up(self) -> None:
        """Delete every scratch object still there (best effort: a failure here judges nothing)."""
        admin = None
        for scratch in reversed(self._made):
            try:
                admin = admin or self.client_for("admin")
                admin.request("DELETE", scratch.path, json=scratch.body, expect_json=False)
            except TargetError:
                return
        self._made.clear()


def bind(operation: Operation, role: str, world: World, account: str) -> dict[str, str]:
    """Path values for ``operation`` called as ``role`` by ``account``: bound where an object is known, else left
    out."""
    write = _write(operation)
    bound: dict[str, str] = {}
    for parameter in operation.path_params:
        key = (operation.path, parameter)
        source = WRITE_SOURCES.get(key) if write else None
        source = source or READ_SOURCES.get(key)
        if source is None:
            continue
        value = world.source(source, account, owner=f"{operation.label} as {role}")
        if value is not None:
            bound[parameter] = value
    return bound


class Guard:
    """Refuses requests that would change the fixture contact center (see the module docstring)."""

    def __init__(self, discovery: Discovery) -> None:
        self._ids: frozenset[str] | None = None
        self._states: frozenset[str] | None = None
        self._discovery = discovery
        self._lock = threading.Lock()

    def snapshot(self) -> None:
        """Record the objects that exist now: call before any fuzz test changes anything."""
        with self._lock:
            if self._ids is not None:
                return
            ids: set[str] = set()
            for path in ("/users", "/devices", "/skills", "/contacts"):
                try:
                    ids.update(i for i in (_text(o.get("id")) for o in self._discovery.objects("admin", path)) if i)
                except TargetError:
                    pass
            self._ids = frozenset(ids)
            try:
                states = self._discovery.objects("admin", "/settings/agent-states")
            except TargetError:
                states = []
            self._states = frozenset(s for s in (_text(o.get("operationName")) for o in states) if s)

    def refuses(self, operation: Operation, path_values: Mapping[str, Any], body: Any) -> str | None:
        """Why the request may not be sent (None: it may)."""
        self.snapshot()
        assert self._ids is not None and self._states is not None
        if _write(operation) and operation.path_params:
            # The first path parameter names the object a change addresses (the user whose skill is
            # unassigned, not the skill).
            owner = str(path_values.get(operation.path_params[0], ""))
            if owner in self._ids:
                return f"{operation.label} would change the fixture object {owner}"
        if operation.path == "/settings/agent-states" and operation.method in ("PUT", "DELETE"):
            name = body.get("operationName") if isinstance(body, dict) else None
            if isinstance(name, str) and name in self._states:
                return f"{operation.label} would change the fixture agent state {name!r}"
        return None


def restore(operation: Operation, client: GwsClient, path_values: Mapping[str, str], channels: list[str]) -> None:
    """Send the RESTORE requests of ``operation`` (their answers are not judged)."""
    for method, template, body in RESTORE.get(operation.label, ()):
        try:
            path = template.format(**path_values)
        except KeyError:
            continue  # the test ran without a bound object: nothing of the role's was touched
        sent = {key: (channels if value == CHANNELS else value) for key, value in body.items()}
        try:
            if method == "HANGUP":
                _hang_up_all(client)
            else:
                client.request(method, path, json=sent, expect_json=False)
        except TargetError:
            return


def _hang_up_all(client: GwsClient) -> None:
    response = client.get("/me/calls", params={"fields": "*"}, expect_json=False)
    calls = response.json_body.get("calls") if isinstance(response.json_body, dict) else None
    for call in calls if isinstance(calls, list) else []:
        if isinstance(call, dict) and isinstance(call.get("id"), str):
            client.post(f"/me/calls/{call['id']}", json={"operationName": "Hangup"}, expect_json=False)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _first_id(objects: list[dict[str, Any]]) -> str | None:
    return next((i for i in (_text(o.get("id")) for o in objects) if i), None)
