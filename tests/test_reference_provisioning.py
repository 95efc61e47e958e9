"""What the reference server's provisioning routes answer: features, settings, users, skills, devices,
/me, contacts, recordings and routing templates. Every reply is checked against spec/openapi.yaml."""

from __future__ import annotations

import base64

import pytest
from reference_support import (
    BASE_URL,
    CUSTOM_CONTACT_ID,
    DEVICE_ID,
    QUEUE_ID,
    SKILL_ID,
    USER_ID,
    Api,
    drained,
    open_api,
)

pytestmark = pytest.mark.anyio

ABS = f"{BASE_URL}/api/v2"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# -- features ---------------------------------------------------------------------------------------


async def test_features_list_the_assigned_ones_as_uris_or_objects(api: Api) -> None:
    uris = (await api.ok("agent1", "GET", "/features"))["uris"]
    assert f"{ABS}/features/api-multimedia" in uris and len(uris) == 9
    objects = (await api.ok("agent1", "GET", "/features", params={"fields": "*"}))["features"]
    assert {f["id"] for f in objects} == {u.rsplit("/", 1)[1] for u in uris}
    narrowed = (await api.ok("agent1", "GET", "/features", params={"fields": "displayName"}))["features"]
    assert all(set(f) == {"id", "displayName"} for f in narrowed)


async def test_system_features_include_unassigned_ones(api: Api) -> None:
    system = (await api.ok("admin", "GET", "/system/features"))["uris"]
    assert f"{ABS}/features/api-supervisor-recording" in system
    response = await api.call("admin", "GET", "/features/{id}", id="api-supervisor-recording")
    assert (response.status_code, response.json()["statusCode"]) == (404, 6)
    feature = (await api.ok("agent1", "GET", "/features/{id}", id="api-voice"))["feature"]
    assert feature == {
        "id": "api-voice",
        "displayName": "Voice API",
        "description": "The API for the voice channel.",
        "uri": f"{ABS}/features/api-voice",
    }


# -- settings ---------------------------------------------------------------------------------------


async def test_settings_groups_and_general_settings(api: Api) -> None:
    groups = (await api.ok("admin", "GET", "/settings"))["settings"]
    assert {g["uri"] for g in groups} == {f"{ABS}/settings/general-settings", f"{ABS}/settings/agent-states"}
    general = (await api.ok("admin", "GET", "/settings/general-settings"))["settings"]
    assert general == [{"countryCode": "US", "countryDigits": "1", "countryName": "United States"}]


async def test_agent_states_start_with_the_five_defaults(api: Api) -> None:
    body = await api.ok("agent1", "GET", "/settings/agent-states")
    assert body["key"] == "operationName"
    by_name = {s["operationName"]: s for s in body["settings"]}
    assert by_name["Ready"] == {
        "id": "9430250E-0A1B-421F-B372-F29E69366DED",
        "operationName": "Ready",
        "displayName": "Ready",
        "state": "Ready",
    }
    assert {"AfterCallWork", "AuxWork", "NotReady", "Offline", "Ready", "OutToLunch"} == set(by_name)


async def test_custom_agent_state_lifecycle(api: Api) -> None:
    created = await api.ok(
        "admin",
        "POST",
        "/settings/agent-states",
        json_body={
            "operationName": "Training",
            "displayName": "Training",
            "state": "NotReady",
            "workMode": "AuxWork",
            "reason": "Training",
        },
    )
    states = (await api.ok("admin", "GET", "/settings/agent-states"))["settings"]
    assert {
        "id": created["id"],
        "operationName": "Training",
        "displayName": "Training",
        "state": "NotReady",
        "workMode": "AuxWork",
        "reason": "Training",
    } in states

    # Changing the state drops a workMode that belonged to the old one.
    await api.ok("admin", "PUT", "/settings/agent-states", json_body={"operationName": "Training", "state": "Ready"})
    training = api.store.agent_state_settings["Training"]
    assert (training.state, training.work_mode, training.display_name) == ("Ready", None, "Training")

    await api.ok("admin", "DELETE", "/settings/agent-states", json_body={"operationName": "Training"})
    assert "Training" not in api.store.agent_state_settings


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_built_in_agent_states_are_read_only(api: Api, method: str) -> None:
    response = await api.call(
        "admin", method, "/settings/agent-states", json_body={"operationName": "Ready", "displayName": "Go"}
    )
    assert (response.status_code, response.json()["statusCode"]) == (403, 3)
    assert api.store.agent_state_settings["Ready"].display_name == "Ready"


async def test_agent_state_names_and_reasons_are_unique(api: Api) -> None:
    for body in (
        {"operationName": "OutToLunch", "displayName": "x", "state": "NotReady"},  # exists
        {"operationName": "ChangePassword", "displayName": "x", "state": "NotReady"},  # a POST /me operation
        {"operationName": "Lunch2", "displayName": "x", "state": "NotReady", "reason": "OutToLunch"},  # reason taken
    ):
        response = await api.call("admin", "POST", "/settings/agent-states", json_body=body)
        assert (response.status_code, response.json()["statusCode"]) == (400, 2), body


async def test_unknown_agent_state_is_not_found(api: Api) -> None:
    response = await api.call("admin", "PUT", "/settings/agent-states", json_body={"operationName": "Nap"})
    assert (response.status_code, response.json()["statusCode"]) == (404, 6)


# -- users ------------------------------------------------------------------------------------------


async def test_users_list_as_uris_objects_and_with_subresources(api: Api) -> None:
    uris = (await api.ok("agent1", "GET", "/users"))["uris"]
    assert f"{ABS}/users/{USER_ID['agent2']}" in uris and len(uris) == 6
    users = (await api.ok("admin", "GET", "/users", params={"fields": "*"}))["users"]
    assert all("skills" not in u and "password" not in u for u in users)
    narrowed = (await api.ok("admin", "GET", "/users", params={"fields": "userName,lastName"}))["users"]
    assert all(set(u) == {"id", "userName", "lastName"} for u in narrowed)
    full = (await api.ok("admin", "GET", "/users", params={"subresources": "*"}))["users"]
    agent1 = next(u for u in full if u["id"] == USER_ID["agent1"])
    assert [d["phoneNumber"] for d in agent1["devices"]] == ["5001"]
    assert {s["name"]: s["level"] for s in agent1["skills"]} == {"WFM_Email": "8", "WFM_Chat": "8", "WFM_Voice": "8"}


async def test_user_read_with_chosen_subresources(api: Api) -> None:
    user = (await api.ok("admin", "GET", "/users/{id}", id=USER_ID["agent1"], params={"subresources": "skills"}))[
        "user"
    ]
    assert "skills" in user and "devices" not in user
    assert user["uri"] == f"{ABS}/users/{USER_ID['agent1']}"
    plain = (await api.ok("agent1", "GET", "/users/{id}", id=USER_ID["agent1"]))["user"]
    assert plain["roles"] == ["ROLE_AGENT"] and plain["doNotDisturb"] == "Off" and "skills" not in plain


async def test_create_update_and_delete_a_user(api: Api) -> None:
    created = await api.ok(
        "admin",
        "POST",
        "/users",
        json_body={"userName": "agent9", "password": "pw9", "firstName": "Nia", "lastName": "Nine"},
    )
    assert created["uri"] == f"{ABS}/users/{created['id']}"
    user = (await api.ok("admin", "GET", "/users/{id}", id=created["id"]))["user"]
    assert (user["userName"], user["roles"], user["changePasswordOnFirstLogin"]) == ("agent9", ["ROLE_AGENT"], False)
    assert (await api.ok(None, "GET", "/me", auth=("agent9", "pw9")))["user"]["id"] == created["id"]  # type: ignore[arg-type]

    # PUT replaces the role set (E11), it does not merge.
    await api.ok(
        "admin",
        "PUT",
        "/users/{id}",
        id=created["id"],
        json_body={"roles": ["ROLE_SUPERVISOR"], "lastName": "Ninth", "password": "new9"},
    )
    user = (await api.ok("admin", "GET", "/users/{id}", id=created["id"]))["user"]
    assert (user["roles"], user["lastName"], user["firstName"]) == (["ROLE_SUPERVISOR"], "Ninth", "Nia")
    assert api.store.users[created["id"]].password == "new9"

    await api.ok("admin", "DELETE", "/users/{id}", id=created["id"])
    response = await api.call("admin", "GET", "/users/{id}", id=created["id"])
    assert (response.status_code, response.json()["statusCode"]) == (404, 6)


async def test_deleting_a_user_leaves_its_devices_unassigned(api: Api) -> None:
    await api.ok("admin", "DELETE", "/users/{id}", id=USER_ID["agent2"])
    device = (await api.ok("admin", "GET", "/devices/{id}", id=DEVICE_ID["agent2"]))["device"]
    assert (device["phoneNumber"], device["capabilities"]) == ("5002", [])


async def test_duplicate_user_name_and_self_deletion_are_refused(api: Api) -> None:
    response = await api.call("admin", "POST", "/users", json_body={"userName": "agent1", "password": "x"})
    assert (response.status_code, response.json()["statusCode"]) == (400, 2)
    response = await api.call("admin", "DELETE", "/users/{id}", id=USER_ID["admin"])
    assert (response.status_code, response.json()["statusCode"]) == (403, 3)


# -- passwords (asynchronous: the outcome arrives on /v2/me or /v2/users) ----------------------------


async def test_change_own_password(api: Api) -> None:
    listener = api.listen("agent1")
    await api.ok(
        "agent1",
        "POST",
        "/me",
        json_body={
            "operationName": "ChangePassword",
            "oldPassword": b64("agent1-secret"),
            "newPassword": b64("s3cret"),
        },
    )
    assert drained(listener)["/v2/me"] == [
        {"messageType": "PasswordChangeMessage", "notificationType": "PasswordChangeSuccessful"}
    ]
    response = await api.call("agent1", "GET", "/me")
    assert response.status_code == 401
    assert (await api.ok(None, "GET", "/me", auth=("agent1", "s3cret")))["user"]["userName"] == "agent1"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("old", "new", "error_code"),
    [("wrong", "s3cret", 2), ("agent1-secret", "AGENT1", 1)],
    ids=["wrong-old-password", "password-equals-user-name"],
)
async def test_change_own_password_failures_arrive_on_v2_me(api: Api, old: str, new: str, error_code: int) -> None:
    listener = api.listen("agent1")
    await api.ok(
        "agent1",
        "POST",
        "/me",
        json_body={"operationName": "ChangePassword", "oldPassword": b64(old), "newPassword": b64(new)},
    )
    [message] = drained(listener)["/v2/me"]
    assert (message["messageType"], message["notificationType"], message["errorCode"]) == (
        "PasswordChangeMessage",
        "PasswordChangeError",
        error_code,
    )
    assert api.store.users[USER_ID["agent1"]].password == "agent1-secret"


async def test_a_password_that_is_not_utf8_is_read_as_latin1(api: Api) -> None:
    # E99: the contract admits any base64 bytes; they are read as Basic credentials are (E89).
    await api.ok(
        "agent1",
        "POST",
        "/me",
        json_body={
            "operationName": "ChangePassword",
            "oldPassword": b64("agent1-secret"),
            "newPassword": base64.b64encode("caf\u00e9-secret".encode("iso-8859-1")).decode("ascii"),
        },
    )
    assert api.store.users[USER_ID["agent1"]].password == "caf\u00e9-secret"


async def test_first_login_change_clears_the_flag(api: Api) -> None:
    api.store.users[USER_ID["agent1"]].change_password_on_first_login = True
    await api.ok(
        "agent1",
        "POST",
        "/me",
        params={"firstLogin": "true"},
        json_body={"operationName": "ChangePassword", "oldPassword": b64("agent1-secret"), "newPassword": b64("fresh")},
    )
    assert api.store.users[USER_ID["agent1"]].change_password_on_first_login is False


async def test_supervisor_changes_a_users_password_and_supervisors_and_admins_hear_it(api: Api) -> None:
    listeners = {who: api.listen(who) for who in ("supervisor", "admin", "agent2")}
    await api.ok(
        "supervisor",
        "POST",
        "/users/{id}",
        id=USER_ID["agent2"],
        json_body={"operationName": "ChangePassword", "oldPassword": b64("agent2-secret"), "newPassword": b64("other")},
    )
    expected = {
        "messageType": "PasswordChangeMessage",
        "notificationType": "PasswordChangeSuccessful",
        "userId": USER_ID["agent2"],
        "userUri": f"{ABS}/users/{USER_ID['agent2']}",
    }
    assert drained(listeners["supervisor"])["/v2/users"] == [expected]
    assert drained(listeners["admin"])["/v2/users"] == [expected]
    assert listeners["agent2"].drain() == []


async def test_admin_resets_a_password(api: Api) -> None:
    listener = api.listen("admin")
    await api.ok(
        "admin",
        "POST",
        "/users/{id}",
        id=USER_ID["agent2"],
        json_body={"operationName": "ResetPassword", "newPassword": b64("reset")},
    )
    [message] = drained(listener)["/v2/users"]
    assert message["notificationType"] == "PasswordChangeSuccessful"
    agent2 = api.store.users[USER_ID["agent2"]]
    assert (agent2.password, agent2.change_password_on_first_login) == ("reset", True)


# -- skills -----------------------------------------------------------------------------------------


async def test_skills_lifecycle(api: Api) -> None:
    created = await api.ok("admin", "POST", "/skills", json_body={"name": "Juggling"})
    skill = (await api.ok("admin", "GET", "/skills/{id}", id=created["id"]))["skill"]
    assert skill == {"id": created["id"], "name": "Juggling", "uri": created["uri"]}  # no description given
    listed = (await api.ok("admin", "GET", "/skills", params={"fields": "*"}))["skills"]
    assert {s["name"] for s in listed} == {"WFM_Email", "WFM_Chat", "WFM_Voice", "Customer_Service", "Juggling"}
    duplicate = await api.call("admin", "POST", "/skills", json_body={"name": "Juggling"})
    assert duplicate.json()["statusCode"] == 2

    await api.ok("admin", "POST", "/users/{id}/skills", id=USER_ID["agent2"], json_body={"id": created["id"]})
    await api.ok("admin", "DELETE", "/skills/{id}", id=created["id"])
    assert created["id"] not in api.store.users[USER_ID["agent2"]].skill_levels


async def test_user_skill_assignment(api: Api) -> None:
    agent2, chat = USER_ID["agent2"], SKILL_ID["WFM_Chat"]
    await api.ok("admin", "POST", "/users/{id}/skills", id=agent2, json_body={"id": chat, "level": "7"})
    skill = (await api.ok("admin", "GET", "/users/{id}/skills/{skillId}", id=agent2, skillId=chat))["skill"]
    assert (skill["name"], skill["level"], skill["uri"]) == ("WFM_Chat", "7", f"{ABS}/users/{agent2}/skills/{chat}")
    await api.ok("admin", "POST", "/users/{id}/skills", id=agent2, json_body={"id": chat})  # again: default level
    assert api.store.users[agent2].skill_levels[chat] == "0"
    uris = (await api.ok("admin", "GET", "/users/{id}/skills", id=agent2))["uris"]
    assert f"{ABS}/users/{agent2}/skills/{chat}" in uris
    await api.ok("admin", "DELETE", "/users/{id}/skills/{skillId}", id=agent2, skillId=chat)
    gone = await api.call("admin", "GET", "/users/{id}/skills/{skillId}", id=agent2, skillId=chat)
    assert (gone.status_code, gone.json()["statusCode"]) == (404, 6)


# -- devices ----------------------------------------------------------------------------------------


async def test_device_shape(api: Api) -> None:
    device = (await api.ok("agent1", "GET", "/devices/{id}", id=DEVICE_ID["agent1"]))["device"]
    assert device["userState"] == {
        "id": "900D55CC-2BB0-431F-8BF9-D3525B383BE6",
        "displayName": "Not Ready",
        "state": "NotReady",
    }
    assert (device["phoneNumber"], device["e164Number"], device["doNotDisturb"]) == ("5001", "5001", "Off")
    assert set(device["capabilities"]) == {"DoNotDisturbOn", "ForwardCallsOn"}
    assert device["telephonyNetwork"] == "Private" and device["channels"] == ["voice"]


async def test_create_and_assign_a_device(api: Api) -> None:
    created = await api.ok(
        "admin",
        "POST",
        "/users/{id}/devices",
        id=USER_ID["agent2"],
        json_body={"phoneNumber": "5012", "telephonyNetwork": "Public", "model": "Desk"},
    )
    assert created["uri"] == f"{ABS}/devices/{created['id']}"
    assert created["uri"] in (await api.ok("agent2", "GET", "/me/devices"))["uris"]
    listed = (await api.ok("admin", "GET", "/users/{id}/devices", id=USER_ID["agent2"], params={"fields": "*"}))[
        "devices"
    ]
    new = next(d for d in listed if d["id"] == created["id"])
    assert (new["telephonyNetwork"], new["model"], new["userState"]["state"]) == ("Public", "Desk", "NotReady")
    duplicate = await api.call(
        "admin", "POST", "/users/{id}/devices", id=USER_ID["agent1"], json_body={"phoneNumber": "5012"}
    )
    assert duplicate.json()["statusCode"] == 2


# -- /me --------------------------------------------------------------------------------------------


async def test_me_with_subresources(api: Api) -> None:
    user = (await api.ok("agent1", "GET", "/me", params={"subresources": "*"}))["user"]
    assert user["id"] == USER_ID["agent1"]
    assert [c["channel"] for c in user["channels"]] == ["voice", "email", "chat"]
    assert user["devices"][0]["id"] == DEVICE_ID["agent1"]
    assert all(s["uri"].startswith(f"{ABS}/me/skills/") for s in user["skills"])
    assert {f["id"] for f in user["features"]} >= {"api-voice", "api-multimedia"}
    assert user["settings"] == {"htcc": {"roles": "agent"}}
    some = (await api.ok("agent1", "GET", "/me", params={"subresources": "devices,skills"}))["user"]
    assert "devices" in some and "skills" in some and "channels" not in some


async def test_my_devices_and_skills(api: Api) -> None:
    assert (await api.ok("agent1", "GET", "/me/devices"))["uris"] == [f"{ABS}/devices/{DEVICE_ID['agent1']}"]
    device = (await api.ok("agent1", "GET", "/me/devices/{id}", id=DEVICE_ID["agent1"]))["device"]
    assert device["id"] == DEVICE_ID["agent1"]
    other = await api.call("agent1", "GET", "/me/devices/{id}", id=DEVICE_ID["agent2"])
    assert (other.status_code, other.json()["statusCode"]) == (404, 6)
    skills = (await api.ok("agent2", "GET", "/me/skills", params={"fields": "*"}))["skills"]
    assert {s["name"]: s["level"] for s in skills} == {"WFM_Email": "5", "WFM_Voice": "5"}
    skill = (await api.ok("agent2", "GET", "/me/skills/{id}", id=SKILL_ID["WFM_Voice"]))["skill"]
    assert skill["level"] == "5"
    missing = await api.call("agent2", "GET", "/me/skills/{id}", id=SKILL_ID["WFM_Chat"])
    assert (missing.status_code, missing.json()["statusCode"]) == (404, 6)


async def test_agent_state_operations_on_me_publish_device_and_channel_states(api: Api) -> None:
    listener = api.listen("agent1")
    await api.ok("agent1", "POST", "/me", json_body={"operationName": "OutToLunch"})
    heard = drained(listener)
    [devices] = heard["/v2/me/devices"]
    assert devices["devices"][0]["userState"]["displayName"] == "Not Ready - Out to lunch"
    [channels] = heard["/v2/me/channels"]
    assert {c["userState"]["state"] for c in channels["channels"]} == {"NotReady"}
    unknown = await api.call("agent1", "POST", "/me", json_body={"operationName": "Siesta"})
    assert (unknown.status_code, unknown.json()["statusCode"]) == (400, 2)


# -- contacts ---------------------------------------------------------------------------------------


async def test_contacts_of_every_type_and_filters(api: Api) -> None:
    uris = (await api.ok("agent1", "GET", "/contacts"))["uris"]
    assert len(uris) == 2 + 4 + 6  # custom, queues, users
    custom = (await api.ok("agent1", "GET", "/contacts", params={"type": "custom", "fields": "*"}))["contacts"]
    assert {c["type"] for c in custom} == {"Custom"} and len(custom) == 2  # type compares case-insensitively (E25)
    joe = (await api.ok("agent1", "GET", "/contacts", params={"firstName": "Bob", "lastName": "Agent", "fields": "*"}))[
        "contacts"
    ]
    assert [(c["type"], c["userName"], c["phoneNumber"]) for c in joe] == [("User", "agent2", "5002")]
    none = (await api.ok("agent1", "GET", "/contacts", params={"firstName": "Bob", "lastName": "Nobody"}))["uris"]
    assert none == []
    queue = (await api.ok("agent1", "GET", "/contacts/{id}", id=QUEUE_ID))["contact"]
    assert (queue["type"], queue["name"]) == ("Queue", "SimpleEmailInQueue")


async def test_custom_contact_lifecycle(api: Api) -> None:
    created = await api.ok(
        "admin", "POST", "/contacts", json_body={"name": "Help", "type": "Custom", "phoneNumber": "555"}
    )
    await api.ok("admin", "PUT", "/contacts/{id}", id=created["id"], json_body={"phoneNumber": "556"})
    contact = (await api.ok("admin", "GET", "/contacts/{id}", id=created["id"]))["contact"]
    assert (contact["name"], contact["phoneNumber"], contact["type"]) == ("Help", "556", "Custom")
    await api.ok("admin", "DELETE", "/contacts/{id}", id=created["id"])
    gone = await api.call("admin", "GET", "/contacts/{id}", id=created["id"])
    assert gone.json()["statusCode"] == 6


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("contact_id", [QUEUE_ID, USER_ID["agent1"]], ids=["queue", "user"])
async def test_queue_and_user_contacts_are_read_only(api: Api, method: str, contact_id: str) -> None:
    response = await api.call(
        "admin", method, "/contacts/{id}", id=contact_id, json_body={"name": "x"} if method == "PUT" else None
    )
    assert (response.status_code, response.json()["statusCode"]) == (403, 3)
    assert CUSTOM_CONTACT_ID in api.store.contacts


# -- recordings and routing templates -------------------------------------------------------------


async def test_recordings_search(api: Api) -> None:
    everything = (await api.ok("supervisor", "GET", "/recordings"))["recordings"]
    assert [r["startTime"] for r in everything] == [
        "2024-03-01T09:00:00Z",
        "2024-03-01T10:15:00Z",
        "2024-03-02T14:00:00Z",
    ]
    by_agent2 = (await api.ok("admin", "GET", "/recordings", params={"userName": "agent2"}))["recordings"]
    assert len(by_agent2) == 2
    window = await api.ok(
        "admin",
        "GET",
        "/recordings",
        params={"startTime": "2024-03-01T10:00:00Z", "endTime": "2024-03-02T00:00:00+00:00"},
    )
    assert [r["dialedPhoneNumber"] for r in window["recordings"]] == ["+16505550199"]
    # RFC 3339 (E99) lets "t" and "z" be lower case.
    lower = await api.ok("admin", "GET", "/recordings", params={"startTime": "2024-03-01t10:00:00z"})
    assert len(lower["recordings"]) == 2
    for not_a_date_time in ("2024-03-01", "2024-03-01T10:00:00", "0"):
        refused = await api.call("admin", "GET", "/recordings", params={"startTime": not_a_date_time})
        assert refused.json()["statusCode"] == 2, not_a_date_time
    page = await api.ok("admin", "GET", "/recordings", params={"offset": "1", "limit": "1", "fields": "userName"})
    assert page["recordings"] == [{"id": everything[1]["id"], "userName": "agent2"}]


async def test_routing_templates_filter_by_channel_and_version(api: Api) -> None:
    everything = (await api.ok("admin", "GET", "/system/routing-templates"))["routingTemplates"]
    assert len(everything) == 3
    email = (await api.ok("admin", "GET", "/system/routing-templates", params={"channel": "email"}))["routingTemplates"]
    assert [t["channel"] for t in email] == ["email"]
    v2 = (await api.ok("admin", "GET", "/system/routing-templates", params={"version": "2.0"}))["routingTemplates"]
    assert [t["name"] for t in v2] == ["Route to queue"]


# -- uris -------------------------------------------------------------------------------------------


async def test_uris_follow_the_requests_host() -> None:
    async with open_api() as api:
        api.client.base_url = "https://gws.example.org:9443"
        uris = (await api.ok("admin", "GET", "/skills"))["uris"]
    assert all(u.startswith("https://gws.example.org:9443/api/v2/skills/") for u in uris)


# -- store ------------------------------------------------------------------------------------------


async def test_reset_restores_the_fixture(api: Api) -> None:
    from reference_support import snapshot

    before = snapshot(api.store)
    await api.ok("admin", "POST", "/users", json_body={"userName": "temp", "password": "pw"})
    await api.ok("admin", "DELETE", "/skills/{id}", id=SKILL_ID["WFM_Chat"])
    await api.ok("agent1", "POST", "/me", json_body={"operationName": "Ready"})
    assert snapshot(api.store) != before
    api.store.reset()
    assert snapshot(api.store) == before


def test_v2_users_is_offered_to_supervisors_and_admins_only() -> None:
    from reference_impl.http import allowed_topics
    from reference_impl.store import Store

    store = Store.from_file()
    assert "/v2/users" in allowed_topics(store, USER_ID["supervisor"])
    assert "/v2/users" in allowed_topics(store, USER_ID["admin"])
    agent_topics = allowed_topics(store, USER_ID["agent1"])
    assert "/v2/users" not in agent_topics and {"/v2/me", "/v2/me/calls", "/v2/me/interactions"} <= agent_topics
    store.assigned_features.remove("api-multimedia")
    assert "/v2/me/interactions" not in allowed_topics(store, USER_ID["agent1"])
    assert allowed_topics(store, "nobody") == set()
