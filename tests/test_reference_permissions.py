"""Every provisioning route as each role: refused with statusCode 5 exactly when spec/openapi.yaml's
x-gws-roles (narrowed by the operationName variant) leave the caller out, and answered otherwise."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from multimedia_support import TEST_WORKBIN
from openapi_helpers import allowed_roles
from reference_support import (
    CUSTOM_CONTACT_ID,
    DEVICE_ID,
    SKILL_ID,
    USER_ID,
    Api,
)

from reference_impl.handlers.attachments import StoredAttachment
from reference_impl.handlers.multimedia import multimedia
from reference_impl.model.email import receive_email

pytestmark = pytest.mark.anyio

# Each role as a fixture user, and the x-gws-roles names that user holds.
CALLERS = {"admin": {"admin"}, "supervisor": {"supervisor", "agent"}, "agent1": {"agent"}}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    # Path parameters for a caller: its own objects where the operation is scoped to them.
    path_params: Callable[[str], dict[str, str]] = lambda who: {}
    # The JSON body, or a function of the prepared values giving it (the id of an object made first).
    body: dict[str, Any] | Callable[[dict[str, str]], dict[str, Any]] | None = None
    params: dict[str, str] = field(default_factory=dict)
    # For objects that must exist first (a call): makes one and returns the path parameters instead.
    prepare: Callable[[Api, str], Awaitable[dict[str, str]]] | None = None
    # A body that is not JSON (an upload): its bytes and Content-Type.
    content: tuple[bytes, str] | None = None

    def __str__(self) -> str:
        name = self.body.get("operationName") if isinstance(self.body, dict) else None
        return f"{self.method} {self.path}" + (f"#{name}" if name else "")


def own(who: str) -> dict[str, str]:
    return {"id": USER_ID[who]}


def own_device(who: str) -> dict[str, str]:
    return {"id": DEVICE_ID.get(who, DEVICE_ID["agent1"])}


def own_skill(who: str) -> dict[str, str]:
    return {"id": SKILL_ID["Customer_Service"] if who != "agent1" else SKILL_ID["WFM_Email"]}


async def own_call(api: Api, who: str) -> dict[str, str]:
    """A call on the caller's device (the admin, who has none, reads agent1's)."""
    dialer = who if who in DEVICE_ID else "agent1"
    dial = {"operationName": "Dial", "destination": "5003"}
    await api.ok(dialer, "POST", "/devices/{id}/calls", id=DEVICE_ID[dialer], json_body=dial)
    (leg,) = api.store.telephony.legs_on(DEVICE_ID[dialer])
    return {"id": leg.id}


async def own_email(api: Api, who: str) -> dict[str, str]:
    """An accepted e-mail of the caller's (the admin, who takes none, reaches agent1's), with an attachment."""
    owner = USER_ID[who if who != "admin" else "agent1"]
    center = multimedia(api.store).center
    email = receive_email(center, from_address="c@example.test", to_address="s@example.test", subject="Hi")
    email.offer(owner)
    email.apply("Accept")
    document = email.add_attachment("a.txt", "text/plain", 2)
    api.store.attachments[document["id"]] = StoredAttachment(email.id, "a.txt", "text/plain", b"hi")
    return {"id": email.id, "attachmentId": document["id"], "workbinId": TEST_WORKBIN}


def in_workbin(values: dict[str, str]) -> dict[str, Any]:
    return {"interactionId": values["id"]}


UPLOAD_PART = b'Content-Disposition: form-data; name="attachment"; filename="a.txt"\r\nContent-Type: text/plain'
UPLOAD = (b"--b\r\n" + UPLOAD_PART + b"\r\n\r\nhello\r\n--b--\r\n", "multipart/form-data; boundary=b")
CREATE_EMAIL = {
    "operationName": "CreateEmail",
    "queueName": "SimpleEmailOutQueue",
    "interactionType": "Outbound",
    "interactionSubType": "OutboundNew",
}


def AGENT2(who: str) -> dict[str, str]:
    return {"id": USER_ID["agent2"]}


def AGENT2_SKILL(who: str) -> dict[str, str]:
    return {"id": USER_ID["agent2"], "skillId": SKILL_ID["WFM_Email"]}


CASES = [
    Case("GET", "/features"),
    Case("GET", "/features/{id}", lambda who: {"id": "api-voice"}),
    Case("DELETE", "/features/{id}", lambda who: {"id": "api-voice"}),
    Case("GET", "/system/features"),
    Case("GET", "/settings"),
    Case("GET", "/settings/general-settings"),
    Case("GET", "/settings/agent-states"),
    Case(
        "POST", "/settings/agent-states", body={"operationName": "Coffee", "displayName": "Coffee", "state": "NotReady"}
    ),
    Case("PUT", "/settings/agent-states", body={"operationName": "OutToLunch", "displayName": "Lunch!"}),
    Case("DELETE", "/settings/agent-states", body={"operationName": "OutToLunch"}),
    Case("GET", "/me", params={"subresources": "*"}),
    Case("POST", "/me", body={"operationName": "Ready"}),
    Case("POST", "/me", body={"operationName": "OutToLunch"}),
    Case("POST", "/me", body={"operationName": "ChangePassword", "oldPassword": "eA==", "newPassword": "eQ=="}),
    Case("POST", "/me", body={"operationName": "StartContactCenterSession", "channels": ["voice"]}),
    Case("POST", "/me", body={"operationName": "EndContactCenterSession"}),
    Case("GET", "/me/devices"),
    Case("GET", "/me/devices/{id}", own_device),
    Case("POST", "/me/devices/{id}/calls", own_device, body={"operationName": "Dial", "destination": "5003"}),
    Case("GET", "/me/channels"),
    Case("GET", "/me/channels/{channel}", lambda who: {"channel": "email"}),
    Case("POST", "/me/channels/{channel}", lambda who: {"channel": "email"}, body={"operationName": "Ready"}),
    Case("GET", "/me/skills"),
    Case("GET", "/me/skills/{id}", own_skill),
    Case("GET", "/me/calls"),
    Case("GET", "/me/calls/{id}", prepare=own_call),
    Case("POST", "/me/calls/{id}", body={"operationName": "Hangup"}, prepare=own_call),
    Case("GET", "/devices"),
    Case("GET", "/devices/{id}", own_device),
    Case("POST", "/devices/{id}", own_device, body={"operationName": "DoNotDisturbOn"}),
    Case("POST", "/devices/{id}/calls", own_device, body={"operationName": "Dial", "destination": "5003"}),
    Case("GET", "/users"),
    Case("POST", "/users", body={"userName": "newbie", "password": "pw"}),
    Case("GET", "/users/{id}", own),
    Case("PUT", "/users/{id}", AGENT2, body={"firstName": "Robert"}),
    Case(
        "POST",
        "/users/{id}",
        AGENT2,
        body={"operationName": "ChangePassword", "oldPassword": "eA==", "newPassword": "eQ=="},
    ),
    Case("POST", "/users/{id}", AGENT2, body={"operationName": "ResetPassword", "newPassword": "eQ=="}),
    Case("DELETE", "/users/{id}", AGENT2),
    Case("GET", "/users/{id}/skills", AGENT2),
    Case("POST", "/users/{id}/skills", AGENT2, body={"id": SKILL_ID["WFM_Chat"], "level": "3"}),
    Case("GET", "/users/{id}/skills/{skillId}", AGENT2_SKILL),
    Case("DELETE", "/users/{id}/skills/{skillId}", AGENT2_SKILL),
    Case("GET", "/users/{id}/devices", AGENT2),
    Case("POST", "/users/{id}/devices", AGENT2, body={"phoneNumber": "5099"}),
    Case("GET", "/skills"),
    Case("POST", "/skills", body={"name": "Juggling"}),
    Case("GET", "/skills/{id}", lambda who: {"id": SKILL_ID["WFM_Chat"]}),
    Case("DELETE", "/skills/{id}", lambda who: {"id": SKILL_ID["WFM_Chat"]}),
    Case("GET", "/contacts"),
    Case("POST", "/contacts", body={"name": "Help desk", "phoneNumber": "5550"}),
    Case("GET", "/contacts/{id}", lambda who: {"id": CUSTOM_CONTACT_ID}),
    Case("PUT", "/contacts/{id}", lambda who: {"id": CUSTOM_CONTACT_ID}, body={"name": "Renamed"}),
    Case("DELETE", "/contacts/{id}", lambda who: {"id": CUSTOM_CONTACT_ID}),
    Case("GET", "/interactions"),
    Case("GET", "/interactions/{id}", prepare=own_email),
    Case("PUT", "/interactions/{id}", body={"Category": "orders"}, prepare=own_email),
    Case("GET", "/me/interactions"),
    Case("POST", "/me/interactions", body=CREATE_EMAIL),
    Case(
        "POST", "/me/interactions/{id}", body={"operationName": "UpdateProperties", "properties": {}}, prepare=own_email
    ),
    Case("POST", "/me/interactions/{id}/attachments", prepare=own_email, content=UPLOAD),
    Case("GET", "/me/interactions/{id}/attachments/{attachmentId}", prepare=own_email),
    Case("DELETE", "/me/interactions/{id}/attachments/{attachmentId}", prepare=own_email),
    Case("GET", "/me/workbins"),
    Case("POST", "/me/workbins/{workbinId}", lambda who: {"workbinId": TEST_WORKBIN}, {"operationName": "Subscribe"}),
    Case("GET", "/me/workbins/{workbinId}/interactions", lambda who: {"workbinId": TEST_WORKBIN}),
    Case("POST", "/me/workbins/{workbinId}/interactions", body=in_workbin, prepare=own_email),
    Case("GET", "/recordings"),
    Case("GET", "/system/routing-templates"),
]


@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_roles_follow_the_contract(api: Api, case: Case, who: str) -> None:
    name = case.body.get("operationName") if isinstance(case.body, dict) else None
    allowed = CALLERS[who] & allowed_roles(case.method, case.path, name)
    path_values = await case.prepare(api, who) if case.prepare else case.path_params(who)
    body = case.body(path_values) if callable(case.body) else case.body
    content, headers = (case.content[0], {"Content-Type": case.content[1]}) if case.content else (None, None)
    response = await api.call(
        who,
        case.method,
        case.path,
        json_body=body,
        params=case.params,
        path_values=path_values,
        content=content,
        headers=headers,
    )
    if response.headers["content-type"] != "application/json":  # a download
        assert allowed and response.status_code == 200
        return
    reply = response.json()
    if allowed:
        assert (response.status_code, reply["statusCode"]) == (200, 0), reply
    else:
        assert (response.status_code, reply["statusCode"]) == (403, 5), reply


def test_every_provisioning_route_has_a_case() -> None:
    from reference_impl.app import REST_ROUTES

    served = {
        (method, route.path.removeprefix("/api/v2")) for route in REST_ROUTES for method in route.methods - {"HEAD"}
    }  # type: ignore[attr-defined]
    assert served == {(c.method, c.path) for c in CASES}


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/users/{id}", {"id": USER_ID["agent2"]}),
        ("GET", "/devices/{id}", {"id": DEVICE_ID["agent2"]}),
    ],
)
async def test_an_agent_reaches_only_its_own_objects(api: Api, method: str, path: str, params: dict[str, str]) -> None:
    for who in ("agent1", "supervisor"):  # x-gws-scope: own binds every caller without the admin role
        response = await api.call(who, method, path, path_values=params)
        assert (response.status_code, response.json()["statusCode"]) == (403, 5)
    assert (await api.call("admin", method, path, path_values=params)).json()["statusCode"] == 0


async def test_scoped_lists_hold_only_the_callers_objects(api: Api) -> None:
    mine = await api.ok("agent1", "GET", "/devices")
    assert mine["uris"] == [f"http://gws.test:8090/api/v2/devices/{DEVICE_ID['agent1']}"]
    everyone = await api.ok("admin", "GET", "/devices")
    assert len(everyone["uris"]) == len(api.store.devices)


@pytest.mark.parametrize("subresources", ["*", "devices", "skills", "skills,devices,settings"])
async def test_users_lists_other_users_without_their_subresources(api: Api, subresources: str) -> None:
    """E97: the directory's attributes for everyone; subresources only on the caller's own entry (or an admin's)."""
    for who in ("agent1", "supervisor", "admin"):
        for fields in ({}, {"fields": "*"}, {"fields": "id,userName,devices,skills,settings"}):
            reply = await api.ok(who, "GET", "/users", params={**fields, "subresources": subresources})
            users = {u["id"]: u for u in reply["users"]}
            assert len(users) == len(api.store.users) and all("userName" in u for u in users.values())
            for user_id, user in users.items():
                revealed = {name for name in ("devices", "skills", "settings") if name in user}
                shown = who == "admin" or user_id == USER_ID[who]
                assert bool(revealed) == shown, (who, fields, user_id, revealed)


def test_the_suites_list_isolation_covers_every_list_an_agent_may_read() -> None:
    from conformance.suite.scenarios.list_isolation import LIST_RULES, agent_lists

    assert agent_lists() == set(LIST_RULES)


async def test_an_unassigned_feature_hides_its_operations(api: Api) -> None:
    """x-gws-feature: without api-voice, /devices behaves as if it did not exist."""
    api.store.assigned_features.remove("api-voice")
    response = await api.call("admin", "GET", "/devices")
    assert (response.status_code, response.json()["statusCode"]) == (404, 6)
    assert (await api.call("admin", "GET", "/skills")).json()["statusCode"] == 0
