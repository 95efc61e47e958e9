"""Group 2 — provisioning: users, skills, devices of users, contacts, features, settings, and the
read-only searches (recordings, routing templates).

Every scenario creates what it changes under a unique name and removes it at the end; objects of
the contact center it only reads (features, the default settings, Queue and User contacts) are
left as found — a refused change is checked to have changed nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from conformance.api import ANY, Admin, Agent, Channel, Device, Session, check_response
from conformance.client import GwsClient, Recorder
from conformance.config import Settings
from conformance.discovery import Discovery
from conformance.fixtures.scenarios import NewUser
from conformance.outcomes import not_applicable
from conformance.suite.scenarios.support import login, require, should

USER_MEMBERS = ("id", "userName", "firstName", "lastName", "roles", "doNotDisturb", "changePasswordOnFirstLogin")
DEVICE_MEMBERS = ("id", "phoneNumber", "e164Number", "deviceState", "telephonyNetwork", "doNotDisturb", "capabilities")
DEFAULT_FEATURES = (
    "api-provisioning-read",
    "api-provisioning-write",
    "api-voice",
    "ui-supervisor-provisioning-routing",
    "ui-supervisor-provisioning-skill",
    "ui-supervisor-provisioning-user",
    "ui-supervisor-recording",
    "ui-supervisor-reporting",
)


def _phone_number() -> str:
    # Unique enough across workers and runs; no contact center numbers its devices like this.
    return "8" + "".join(random.choice("0123456789") for _ in range(9))


def _resolves(client: GwsClient, uri: str) -> bool:
    response = client.get(uri)
    check_response(response)
    return response.status_code_field == 0


def _has_password(value: Any) -> bool:
    if isinstance(value, dict):
        return any(str(k).lower() == "password" or _has_password(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_password(v) for v in value)
    return False


# -- users -------------------------------------------------------------------------------------------------


@pytest.mark.requirement(
    "GWS-USER-001",
    "GWS-USER-002",
    "GWS-USER-003",
    "GWS-USER-004",
    "GWS-USER-005",
    "GWS-USER-006",
    "GWS-USER-007",
    "GWS-USER-008",
    "GWS-USER-009",
    "GWS-USER-010",
    "GWS-USER-011",
    "GWS-USER-012",
    "GWS-USER-013",
    "GWS-GEN-005",
    "GWS-GEN-006",
    "GWS-GEN-015",
    "GWS-GEN-016",
    "GWS-GEN-017",
    "GWS-GEN-018",
    "GWS-GEN-019",
    "GWS-GEN-023",
    "GWS-CONT-012",
    "GWS-AUTH-001",
    "GWS-AUTH-004",
    "GWS-PERM-014",
    # Every reply of the workflow goes through the registered checks (conformance.api):
    "GWS-GEN-001",
    "GWS-GEN-002",
    "GWS-GEN-003",
    "GWS-GEN-007",
    "GWS-GEN-008",
)
def test_user_lifecycle(
    gws_admin: GwsClient, gws_settings: Settings, gws_recorder: Recorder, gws_unique: Callable[[str], str]
) -> None:
    admin = Admin(gws_admin)
    user_name, password = gws_unique("gwsuser").lower(), gws_unique("Pw")
    created = admin.create_user(
        userName=user_name,
        password=password,
        firstName="Ursula",
        lastName="Created",
        roles=["ROLE_AGENT", "ROLE_SUPERVISOR"],
    )
    user_id = created.get("id")
    try:
        require(
            isinstance(user_id, str) and bool(user_id) and isinstance(created.get("uri"), str),
            "POST /users does not answer the new user's id and uri",
            f"{created.body!r}",
            "GWS-USER-004",
            "GWS-GEN-018",
            evidence=[created.exchange],
        )
        _user_steps(admin, str(user_id), str(created["uri"]), user_name, password, gws_settings, gws_recorder)
    finally:
        admin.delete_user(str(user_id), expect=ANY)


def _user_steps(
    admin: Admin, user_id: str, uri: str, user_name: str, password: str, settings: Settings, recorder: Recorder
) -> None:
    # Read it: the user object, with and without subresources, never with a password.
    read = admin.get_user(user_id)
    user = read.get("user", {})
    require(
        all(member in user for member in USER_MEMBERS),
        "GET /users/{id} lacks user attributes",
        f"expected {USER_MEMBERS}; got {sorted(user)}",
        "GWS-USER-002",
        "GWS-GEN-016",
        evidence=[read.exchange],
    )
    require(
        user.get("userName") == user_name and sorted(user.get("roles", [])) == ["ROLE_AGENT", "ROLE_SUPERVISOR"],
        "the created user reads differently",
        f"{user!r}",
        "GWS-USER-002",
    )
    require(
        user.get("changePasswordOnFirstLogin") is False,
        "changePasswordOnFirstLogin is not false unless set",
        f"{user.get('changePasswordOnFirstLogin')!r}",
        "GWS-USER-013",
    )
    require(not _has_password(read.body), "a user read carries the password", f"{read.body!r}", "GWS-USER-011")
    require(_resolves(admin.client, uri), "the uri of a created user does not read it", uri, "GWS-GEN-018")
    require(
        "skills" not in user and "devices" not in user,
        "subresources without subresources=*",
        f"GET /users/{{id}} carries {sorted(user)}",
        "GWS-GEN-023",
    )
    full = admin.get_user(user_id, subresources="*").get("user", {})
    require(
        isinstance(full.get("skills"), list) and isinstance(full.get("devices"), list),
        "subresources=* does not add skills and devices",
        f"{full!r}",
        "GWS-GEN-023",
    )

    # Listed: as a uri that resolves, as an object with fields=*, and as a User contact.
    listed = admin.list_users()
    require(
        uri in listed.uris() or any(u.rstrip("/").endswith("/" + user_id) for u in listed.uris()),
        "GET /users does not list the new user",
        f"{listed.uris()!r}",
        "GWS-USER-001",
        "GWS-GEN-005",
    )
    for other in listed.uris()[:3]:
        require(_resolves(admin.client, other), "a uri of GET /users does not resolve", other, "GWS-GEN-017")
    objects = admin.list_users(fields="*")
    require(
        any(u.get("id") == user_id and u.get("userName") == user_name for u in objects.items("users")),
        "GET /users?fields=* does not describe the new user",
        "",
        "GWS-USER-001",
        "GWS-GEN-006",
    )
    require(not _has_password(objects.body), "GET /users?fields=* carries passwords", "", "GWS-USER-011")
    with_subresources = admin.list_users(subresources="*")
    require(
        any(u.get("id") == user_id for u in with_subresources.items("users")),
        "GET /users?subresources=* does not describe the new user",
        "",
        "GWS-USER-001",
    )
    contacts = admin.list_contacts(fields="*", type="User").items("contacts")
    require(
        any(c.get("userName") == user_name and c.get("type") == "User" for c in contacts),
        "the new user is not a contact of type User",
        "",
        "GWS-CONT-012",
    )

    # The user itself: GET /me describes it as GET /users/{id} does.
    with login(settings, admin.client.recorder, user_name, password) as own:
        me = Agent(own).get_me().get("user", {})
        require(
            all(me.get(m) == user.get(m) for m in ("id", "userName", "firstName", "lastName"))
            and sorted(me.get("roles", [])) == sorted(user.get("roles", [])),
            "GET /me does not describe the user as GET /users/{id} does",
            f"/me {me!r}\n/users {user!r}",
            "GWS-USER-003",
            "GWS-AUTH-001",
        )

    # Refused creations and operations change nothing.
    admin.create_user(userName=f"{user_name}-x", expect=1)
    admin.create_user(password="secret-x1", expect=1)
    admin.create_user(userName=f"{user_name}-r", password="secret-x1", roles=["ROLE_BOSS"], expect=2)
    duplicate = admin.create_user(userName=user_name, password="another-pw1", expect=ANY)
    if duplicate.ok:
        admin.delete_user(str(duplicate.get("id")), expect=ANY)
    should(
        duplicate.status_code == 2,
        "a second user with the same userName was not refused with statusCode 2",
        f"{duplicate.body!r}",
        "GWS-USER-006",
        evidence=[duplicate.exchange],
    )
    missing = admin.client.post(f"/users/{user_id}", json={"firstName": "x"})
    check_response(missing)
    require(
        missing.status_code_field == 1,
        "POST /users/{id} without operationName is not statusCode 1",
        f"{missing.json_body!r}",
        "GWS-USER-009",
        evidence=[missing.exchange],
    )

    # Update: names, password, roles replaced; the userName stays.
    new_password = password + "-2"
    admin.client.recorder.redactor.add_secret(new_password)
    admin.update_user(user_id, firstName="Ulla", lastName="Updated", roles=["ROLE_AGENT"], password=new_password)
    admin.update_user(user_id, roles=["ROLE_BOSS"], expect=2)
    renamed = admin.update_user(user_id, userName=f"{user_name}-renamed", expect=ANY)
    require(
        renamed.status_code in (0, 2),
        "PUT /users/{id} with a userName answered neither 0 nor 2",
        f"{renamed.body!r}",
        "GWS-USER-008",
        evidence=[renamed.exchange],
    )
    updated = admin.get_user(user_id).get("user", {})
    require(
        updated.get("firstName") == "Ulla" and updated.get("lastName") == "Updated",
        "PUT /users/{id} did not update the names",
        f"{updated!r}",
        "GWS-USER-007",
    )
    require(
        updated.get("roles") == ["ROLE_AGENT"],
        "PUT /users/{id} did not replace the roles",
        f"roles after PUT roles=[ROLE_AGENT]: {updated.get('roles')!r}",
        "GWS-USER-007",
        "GWS-USER-012",
    )
    require(
        updated.get("userName") == user_name,
        "PUT /users/{id} changed the userName",
        f"{updated.get('userName')!r}",
        "GWS-USER-008",
    )
    with login(settings, admin.client.recorder, user_name, new_password) as own:
        require(
            Agent(own).get_me(expect=ANY).status_code == 0,
            "the password set by PUT does not log in",
            "",
            "GWS-USER-007",
        )
    with login(settings, admin.client.recorder, user_name, password, valid=False) as old:
        require(Agent(old).get_me(expect=ANY).status_code != 0, "the old password still logs in", "", "GWS-USER-007")

    # Delete: gone.
    admin.delete_user(user_id)
    admin.get_user(user_id, expect=6)
    admin.delete_user(user_id, expect=6)
    require(
        not any(u.rstrip("/").endswith("/" + user_id) for u in admin.list_users().uris()),
        "a deleted user is still listed",
        "",
        "GWS-USER-010",
    )


@pytest.mark.requirement("GWS-USER-013")
def test_user_created_to_change_password_at_first_login(gws_new_user: Callable[..., NewUser]) -> None:
    user = gws_new_user(changePasswordOnFirstLogin=True)
    shown = Agent(user.client()).get_me().get("user", {})
    require(
        shown.get("changePasswordOnFirstLogin") is True,
        "changePasswordOnFirstLogin set at creation is not true",
        f"{shown!r}",
        "GWS-USER-013",
    )


# -- skills ------------------------------------------------------------------------------------------------


@pytest.mark.requirement(
    "GWS-SKILL-001",
    "GWS-SKILL-002",
    "GWS-SKILL-003",
    "GWS-SKILL-004",
    "GWS-SKILL-005",
    "GWS-SKILL-006",
    "GWS-SKILL-007",
    "GWS-SKILL-008",
    "GWS-SKILL-009",
    "GWS-SKILL-010",
    "GWS-SKILL-011",
    "GWS-SKILL-012",
    "GWS-GEN-016",
    "GWS-GEN-018",
    "GWS-GEN-019",
)
def test_skill_lifecycle(
    gws_admin: GwsClient, gws_new_user: Callable[..., NewUser], gws_unique: Callable[[str], str]
) -> None:
    admin = Admin(gws_admin)
    user = gws_new_user()
    name = gws_unique("Skill")
    admin.create_skill(None, description="no name", expect=1)
    created = admin.create_skill(name)
    skill_id = str(created.get("id"))
    try:
        require(
            bool(created.get("id")) and isinstance(created.get("uri"), str),
            "POST /skills does not answer id and uri",
            f"{created.body!r}",
            "GWS-SKILL-004",
            "GWS-GEN-018",
        )
        skill = admin.get_skill(skill_id).get("skill", {})
        require(
            skill.get("id") == skill_id and skill.get("name") == name,
            "GET /skills/{id} lacks id or name",
            f"{skill!r}",
            "GWS-SKILL-003",
            "GWS-GEN-016",
        )
        require(
            "description" not in skill, "a skill created without description has one", f"{skill!r}", "GWS-SKILL-002"
        )
        require(
            any(u.rstrip("/").endswith("/" + skill_id) for u in admin.list_skills().uris()),
            "GET /skills does not list the new skill",
            "",
            "GWS-SKILL-001",
        )
        listed = [s for s in admin.list_skills(fields="*").items("skills") if s.get("id") == skill_id]
        require(
            len(listed) == 1 and listed[0].get("name") == name and "description" not in listed[0],
            "GET /skills?fields=* does not describe the new skill",
            f"{listed!r}",
            "GWS-SKILL-001",
            "GWS-SKILL-002",
        )

        # Assign it with a level; a level that is not digits and a skill that does not exist are refused.
        admin.assign_user_skill(user.id, skill_id, level="high", expect=2)
        admin.assign_user_skill(user.id, gws_unique("noskill"), level="1", expect={2, 6})
        admin.assign_user_skill(user.id, skill_id, level="7")
        require(
            any(u.rstrip("/").endswith("/" + skill_id) for u in admin.list_user_skills(user.id).uris()),
            "GET /users/{id}/skills does not list the assigned skill",
            "",
            "GWS-SKILL-006",
            "GWS-SKILL-008",
        )
        assigned = [s for s in admin.list_user_skills(user.id, fields="*").items("skills") if s.get("id") == skill_id]
        require(
            len(assigned) == 1 and assigned[0].get("level") == "7",
            "the assigned skill or level is not listed",
            f"{assigned!r}",
            "GWS-SKILL-006",
            "GWS-SKILL-009",
        )
        one = admin.get_user_skill(user.id, skill_id).get("skill", {})
        require(
            one.get("id") == skill_id and one.get("name") == name and one.get("level") == "7",
            "GET /users/{id}/skills/{skillId} lacks id, name or level",
            f"{one!r}",
            "GWS-SKILL-007",
            "GWS-SKILL-009",
        )
        mine = Agent(user.client())
        require(
            any(
                s.get("id") == skill_id and s.get("level") == "7"
                for s in mine.list_my_skills(fields="*").items("skills")
            ),
            "GET /me/skills does not show the assigned skill",
            "",
            "GWS-SKILL-011",
        )
        own = mine.get_my_skill(skill_id).get("skill", {})
        require(
            own.get("id") == skill_id and own.get("level") == "7",
            "GET /me/skills/{id} lacks the skill or level",
            f"{own!r}",
            "GWS-SKILL-011",
        )

        # Unassign: the user no longer has it; the skill stays.
        admin.unassign_user_skill(user.id, skill_id)
        admin.get_user_skill(user.id, skill_id, expect=6)
        mine.get_my_skill(skill_id, expect=6)
        admin.get_skill(skill_id)
        admin.unassign_user_skill(user.id, skill_id, expect=6)
    finally:
        admin.delete_skill(skill_id, expect=ANY)
    admin.get_skill(skill_id, expect=6)


# -- devices -----------------------------------------------------------------------------------------------


@pytest.mark.feature("api-voice")
@pytest.mark.requirement(
    "GWS-DEV-001",
    "GWS-DEV-002",
    "GWS-DEV-003",
    "GWS-DEV-004",
    "GWS-DEV-005",
    "GWS-DEV-006",
    "GWS-DEV-008",
    "GWS-DEV-009",
    "GWS-DEV-010",
    "GWS-DEV-011",
    "GWS-DEV-012",
    "GWS-AGST-002",
    "GWS-PERM-002",
    "GWS-GEN-021",
)
def test_devices_created_and_assigned_in_one_call(
    gws_admin: GwsClient, gws_agent1: GwsClient, gws_new_user: Callable[..., NewUser]
) -> None:
    admin = Admin(gws_admin)
    user = gws_new_user()
    admin.create_user_device(user.id, None, expect=1)
    number = _phone_number()
    created = admin.create_user_device(user.id, number, model="Softphone")
    device_id = str(created.get("id"))
    require(
        bool(created.get("id")) and isinstance(created.get("uri"), str),
        "POST /users/{id}/devices does not answer id and uri",
        f"{created.body!r}",
        "GWS-DEV-010",
    )

    # Listed per user, for everyone (admin) and for its owner.
    require(
        any(u.rstrip("/").endswith("/" + device_id) for u in admin.list_user_devices(user.id).uris()),
        "GET /users/{id}/devices does not list the new device",
        "",
        "GWS-DEV-009",
    )
    per_user = admin.list_user_devices(user.id, fields="*").items("devices")
    require(
        [d.get("id") for d in per_user] == [device_id],
        "GET /users/{id}/devices?fields=* is not its device",
        f"{per_user!r}",
        "GWS-DEV-009",
        "GWS-GEN-021",
    )
    require(
        any(u.rstrip("/").endswith("/" + device_id) for u in admin.list_devices().uris()),
        "an administrator's GET /devices does not list the new device",
        "",
        "GWS-DEV-001",
    )
    require(
        any(d.get("id") == device_id for d in admin.list_devices(fields="*").items("devices")),
        "an administrator's GET /devices?fields=* does not describe the new device",
        "",
        "GWS-DEV-001",
    )
    owner = Agent(user.client())
    require(
        [d.get("id") for d in owner.list_my_devices(fields="*").items("devices")] == [device_id],
        "GET /me/devices does not list the user's device",
        "",
        "GWS-AGST-002",
    )
    own = owner.list_devices(fields="*", expect=ANY)
    should(
        own.ok,
        "an agent's GET /devices is refused rather than listing its own devices",
        f"{own.body!r}",
        "GWS-DEV-003",
        evidence=[own.exchange],
    )
    if own.ok:
        require(
            [d.get("id") for d in own.items("devices")] == [device_id],
            "an agent's GET /devices lists other users' devices",
            f"{own.items('devices')!r}",
            "GWS-DEV-002",
        )

    # Read by the administrator and the owner; the device attributes; Private by default.
    for reader in (admin, owner):
        device = Device(reader.client, device_id).get().get("device", {})
        require(
            all(m in device for m in DEVICE_MEMBERS) and device.get("phoneNumber") == number,
            "GET /devices/{id} lacks device attributes",
            f"expected {DEVICE_MEMBERS}: {device!r}",
            "GWS-DEV-004",
            "GWS-DEV-005",
        )
        require(
            device.get("telephonyNetwork") == "Private",
            "a device created without telephonyNetwork is not Private",
            f"{device.get('telephonyNetwork')!r}",
            "GWS-DEV-012",
        )
        require(
            "supervisorMonitoringState" not in device,
            "supervisorMonitoringState without monitoring",
            f"{device!r}",
            "GWS-DEV-008",
        )
        country = device.get("country")
        require(
            country is None or (isinstance(country, dict) and {"name", "code", "callingCode"} <= set(country)),
            "a device's country lacks name, code or callingCode",
            f"{country!r}",
            "GWS-DEV-006",
        )
    # Another agent can neither read it nor operate it.
    Device(gws_agent1, device_id).get(expect={5, 6})
    Device(gws_agent1, device_id).dnd_on(expect={5, 6})
    require(
        Device(admin.client, device_id).get().get("device", {}).get("doNotDisturb") == "Off",
        "another agent's refused DoNotDisturbOn changed the device",
        "",
        "GWS-PERM-002",
    )


# -- contacts ----------------------------------------------------------------------------------------------


@pytest.mark.requirement(
    "GWS-CONT-001",
    "GWS-CONT-002",
    "GWS-CONT-003",
    "GWS-CONT-004",
    "GWS-CONT-005",
    "GWS-CONT-006",
    "GWS-CONT-007",
    "GWS-CONT-008",
    "GWS-CONT-009",
    "GWS-CONT-010",
    "GWS-CONT-011",
    "GWS-GEN-010",
)
def test_contacts(gws_admin: GwsClient, gws_agent1: GwsClient, gws_unique: Callable[[str], str]) -> None:
    admin = Admin(gws_admin)
    name, number = gws_unique("Contact"), _phone_number()
    admin.create_contact(name=f"{name}-q", phoneNumber=number, type="Queue", expect=2)
    created = admin.create_contact(name=name, phoneNumber=number, type="Custom")
    contact_id = str(created.get("id"))
    try:
        require(
            bool(created.get("id")) and isinstance(created.get("uri"), str),
            "POST /contacts does not answer id and uri",
            f"{created.body!r}",
            "GWS-CONT-005",
        )
        everything = Session(gws_agent1).list_contacts(fields="*").items("contacts")
        types = {c.get("type") for c in everything}
        require(
            {"Custom", "Queue", "User"} <= types,
            "GET /contacts does not hold queues, users and custom contacts",
            f"types listed: {sorted(map(str, types))}",
            "GWS-CONT-001",
        )
        for contact in everything:
            needed = ["id", "name", "type"] + (
                ["userName", "firstName", "lastName"] if contact.get("type") == "User" else []
            )
            require(
                all(m in contact for m in needed),
                "a contact lacks attributes",
                f"expected {needed}: {contact!r}",
                "GWS-CONT-002",
            )
        require(
            any(u.rstrip("/").endswith("/" + contact_id) for u in admin.list_contacts().uris())
            or any(c.get("id") == contact_id for c in admin.list_contacts().items("contacts")),
            "GET /contacts does not list the new contact",
            "",
            "GWS-CONT-001",
        )

        # Filters: AND-combined, type without regard to case.
        found = admin.list_contacts(fields="*", type="custom", name=name).items("contacts")
        require(
            [c.get("id") for c in found] == [contact_id],
            "type=custom&name= does not find exactly the contact",
            f"{found!r}",
            "GWS-CONT-003",
            "GWS-CONT-004",
        )
        none = admin.list_contacts(fields="*", type="Queue", name=name).items("contacts")
        require(none == [], "filters are not combined with AND", f"type=Queue&name={name}: {none!r}", "GWS-CONT-003")

        one = admin.get_contact(contact_id).get("contact", {})
        require(
            one.get("id") == contact_id and one.get("name") == name and one.get("type") == "Custom",
            "GET /contacts/{id} does not describe the contact",
            f"{one!r}",
            "GWS-CONT-007",
            "GWS-CONT-002",
        )
        admin.update_contact(contact_id, name=f"{name}-renamed", phoneNumber="+16505550111")
        changed = admin.get_contact(contact_id).get("contact", {})
        require(
            changed.get("name") == f"{name}-renamed" and changed.get("phoneNumber") == "+16505550111",
            "PUT /contacts/{id} did not change name and phoneNumber",
            f"{changed!r}",
            "GWS-CONT-008",
        )

        # Queue and User contacts are read-only.
        for kind in ("Queue", "User"):
            target = next((c for c in everything if c.get("type") == kind), None)
            if target is None:
                continue
            target_id = str(target["id"])
            before = admin.get_contact(target_id).get("contact", {})
            for reply in (
                admin.update_contact(target_id, name=f"{name}-{kind}", expect=ANY),
                admin.delete_contact(target_id, expect=ANY),
            ):
                require(
                    reply.status_code not in (0, None),
                    f"a {kind} contact was changed",
                    f"{reply.operation}: {reply.body!r}",
                    "GWS-CONT-010",
                    evidence=[reply.exchange],
                )
                should(
                    reply.status_code == 3,
                    f"a change of a {kind} contact refused without statusCode 3",
                    f"{reply.body!r}",
                    "GWS-CONT-011",
                    evidence=[reply.exchange],
                )
            require(
                admin.get_contact(target_id).get("contact", {}) == before,
                f"a refused change altered a {kind} contact",
                "",
                "GWS-CONT-010",
                "GWS-GEN-010",
            )

        admin.delete_contact(contact_id)
        admin.get_contact(contact_id, expect=6)
    finally:
        admin.delete_contact(contact_id, expect=ANY)


# -- features and settings ----------------------------------------------------------------------------------


@pytest.mark.requirement(
    "GWS-FEAT-001",
    "GWS-FEAT-002",
    "GWS-FEAT-003",
    "GWS-FEAT-004",
    "GWS-FEAT-005",
    "GWS-FEAT-006",
    "GWS-PERM-009",
    "GWS-GEN-021",
)
def test_features_and_system_features(gws_admin: GwsClient, gws_agent1: GwsClient) -> None:
    admin, agent = Admin(gws_admin), Session(gws_agent1)
    uris = agent.list_features().uris()
    features = {f.get("id"): f for f in agent.list_features(fields="*").items("features")}
    require(
        len(uris) == len(features) and set(features) >= set(DEFAULT_FEATURES),
        "GET /features does not list the assigned features",
        f"uris {uris}\nids {sorted(map(str, features))}",
        "GWS-FEAT-001",
        "GWS-FEAT-004",
    )
    system = {f.get("id") for f in admin.list_system_features(fields="*").items("features")}
    require(
        len(admin.list_system_features().uris()) == len(system) and set(features) <= system,
        "GET /features lists a feature GET /system/features does not",
        f"{sorted(map(str, set(features) - system))}",
        "GWS-FEAT-002",
        "GWS-FEAT-005",
    )
    for feature_id in features:
        one = agent.get_feature(str(feature_id)).get("feature", {})
        require(
            one.get("id") == feature_id
            and isinstance(one.get("displayName"), str)
            and isinstance(one.get("description"), str),
            "GET /features/{id} lacks id, displayName or description",
            f"{one!r}",
            "GWS-FEAT-003",
        )
        should(
            all(c.isalnum() or c in "-._~" for c in str(feature_id)),
            "a feature id is not URI-compatible",
            f"{feature_id!r}",
            "GWS-FEAT-006",
        )


@pytest.mark.requirement("GWS-FEAT-007", "GWS-FEAT-008", "GWS-GEN-010")
def test_a_feature_the_contact_center_lacks_answers_as_absent(
    gws_agent1: GwsClient, gws_discovery: Discovery, gws_unique: Callable[[str], str]
) -> None:
    """E39: without api-multimedia its resources answer statusCode 6, its operations statusCode 2."""
    if gws_discovery.feature_assigned("api-multimedia"):
        not_applicable("api-multimedia is assigned: its resources exist (GWS-FEAT-007/008 concern a lacking feature)")
    agent = Agent(gws_agent1)
    agent.list_my_channels(expect=6)
    agent.list_my_interactions(expect=6)
    agent.list_my_workbins(expect=6)
    Channel(gws_agent1, "email").ready(expect=2)
    agent.create_email(gws_unique("Queue"), expect=2)


@pytest.mark.requirement("GWS-SET-001", "GWS-SET-002", "GWS-SET-003", "GWS-SET-006")
def test_settings_groups_and_general_settings(gws_admin: GwsClient) -> None:
    admin = Admin(gws_admin)
    groups = admin.list_settings_groups()
    items = groups.get("settings")
    require(
        (isinstance(items, list) and all(isinstance(g, dict) and "uri" in g and "displayName" in g for g in items))
        or bool(groups.uris()),
        "GET /settings lists no groups with uri and displayName",
        f"{groups.body!r}",
        "GWS-SET-001",
    )
    for group in items if isinstance(items, list) else []:
        require(
            _resolves(admin.client, str(group["uri"])),
            "a settings group uri does not resolve",
            str(group["uri"]),
            "GWS-SET-001",
        )
    general = admin.get_general_settings().get("settings", [])
    require(
        isinstance(general, list)
        and bool(general)
        and all(k in general[0] for k in ("countryCode", "countryDigits", "countryName")),
        "GET /settings/general-settings lacks countryCode, countryDigits or countryName",
        f"{general!r}",
        "GWS-SET-002",
    )
    states = admin.list_agent_states().get("settings", [])
    require(
        all({"id", "operationName", "displayName", "state"} <= set(s) for s in states),
        "an agent state lacks id, operationName, displayName or state",
        f"{states!r}",
        "GWS-SET-003",
    )


@pytest.mark.requirement("GWS-GEN-021", "GWS-GEN-006")
def test_fields_star_on_every_collection(gws_admin: GwsClient, gws_agent1: GwsClient, gws_discovery: Discovery) -> None:
    admin, agent = Admin(gws_admin), Agent(gws_agent1)
    agent1_id = str(gws_discovery.me("agent1").get("id"))
    voice = gws_discovery.feature_assigned("api-voice")
    replies = [
        ("features", admin.list_features(fields="*")),
        ("features", admin.list_system_features(fields="*")),
        ("skills", admin.list_skills(fields="*")),
        ("skills", agent.list_my_skills(fields="*")),
        ("users", admin.list_users(fields="*")),
        ("routingTemplates", admin.list_routing_templates(fields="*")),
    ]
    if voice:
        replies += [
            ("devices", admin.list_devices(fields="*")),
            ("devices", agent.list_my_devices(fields="*")),
            ("calls", agent.list_my_calls(fields="*")),
            ("devices", admin.list_user_devices(agent1_id, fields="*")),
        ]
    for name, reply in replies:
        require(
            isinstance(reply.get(name), list),
            f"{reply.operation}?fields=* answers no {name} array",
            f"{reply.body!r}"[:500],
            "GWS-GEN-021",
            evidence=[reply.exchange],
        )


# -- read-only searches ------------------------------------------------------------------------------------


@pytest.mark.requirement("GWS-REC-001", "GWS-REC-002", "GWS-REC-003", "GWS-REC-004")
def test_recordings_search(gws_admin: GwsClient) -> None:
    admin = Admin(gws_admin)
    everything = admin.list_recordings(fields="*")
    require(
        isinstance(everything.get("recordings"), list) or bool(everything.uris()),
        "GET /recordings answers no list",
        f"{everything.body!r}",
        "GWS-REC-001",
    )
    admin.list_recordings(
        startTime="2000-01-01T00:00:00Z",
        endTime="2100-01-01T00:00:00Z",
        callerPhoneNumber="+16505550123",
        dialedPhoneNumber="5001",
        userName="agent1",
        offset=0,
        limit=10,
    )
    recordings = everything.items("recordings")
    if recordings and "userName" in recordings[0]:
        user_name = recordings[0]["userName"]
        filtered = admin.list_recordings(fields="*", userName=user_name).items("recordings")
        should(
            bool(filtered) and all(r.get("userName") == user_name for r in filtered),
            "GET /recordings?userName= returns other users' recordings",
            f"{filtered!r}",
            "GWS-REC-003",
        )
    limited = admin.list_recordings(fields="*", limit=1).items("recordings")
    should(len(limited) <= 1, "GET /recordings?limit=1 returns more than one recording", f"{limited!r}", "GWS-REC-003")
    for bad in ({"offset": -1}, {"limit": "many"}):
        reply = admin.list_recordings(expect=ANY, **bad)
        should(
            reply.status_code == 2,
            f"GET /recordings with {bad} is not refused with statusCode 2",
            f"{reply.body!r}",
            "GWS-REC-004",
            evidence=[reply.exchange],
        )


@pytest.mark.requirement("GWS-ROUT-001", "GWS-ROUT-002", "GWS-ROUT-003")
def test_routing_templates_search(gws_admin: GwsClient) -> None:
    admin = Admin(gws_admin)
    listed = admin.list_routing_templates()
    require(
        listed.ok and (bool(listed.uris()) or isinstance(listed.get("routingTemplates"), list)),
        "GET /system/routing-templates answers no list",
        f"{listed.body!r}",
        "GWS-ROUT-001",
    )
    templates = admin.list_routing_templates(fields="*").items("routingTemplates")
    sample = next((t for t in templates if "channel" in t and "version" in t), None)
    admin.list_routing_templates(channel="email", version="1.0")
    if sample is not None:
        chosen = admin.list_routing_templates(fields="*", channel=sample["channel"], version=sample["version"])
        found = chosen.items("routingTemplates")
        should(
            bool(found)
            and all(t.get("channel") == sample["channel"] and t.get("version") == sample["version"] for t in found),
            "GET /system/routing-templates?channel=&version= returns other templates",
            f"{found!r}",
            "GWS-ROUT-003",
            evidence=[chosen.exchange],
        )
