"""The fuzzer's view of the contract, its judgement of requests as sent, and what it may touch."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from conformance.client import GwsClient, Recorder
from conformance.config import load_settings
from conformance.discovery import Discovery
from conformance.suite.fuzz.bindings import Guard, World, bind, restore
from conformance.suite.fuzz.catalogue import operations, request_breaches
from conformance.suite.fuzz.runner import case_seed
from conformance.suite.fuzz.session import examples_per_role, linked_operations

BASE = "http://gws.test/api/v2"
FIXTURE_USER = "53f0ad8d0e0d4111a0681f7bf586434e"
FIXTURE_DEVICE = "ab5282ac2f2847e1a4aecfe891e7532d"


# -- the catalogue ------------------------------------------------------------------------------------


def test_every_operation_with_its_roles_scope_and_feature() -> None:
    catalogue = operations()
    assert len(catalogue) == 63
    assert catalogue["DELETE /features/{id}"].roles == ("cloudAdmin",)
    device = catalogue["POST /devices/{id}"]
    assert device.own_scope and device.feature == "api-voice" and device.roles == ("supervisor", "agent")
    assert catalogue["POST /me/interactions/{id}"].feature == "api-multimedia"


def test_collections_are_named_as_the_contract_names_them() -> None:
    catalogue = operations()
    assert catalogue["GET /users"].collection == "users"
    assert catalogue["GET /system/routing-templates"].collection == "routingTemplates"
    assert catalogue["GET /users/{id}"].collection is None
    assert catalogue["GET /me"].collection is None


def test_variants_narrow_the_roles_of_an_operation() -> None:
    user_operation = operations()["POST /users/{id}"]
    assert user_operation.roles_for("ResetPassword") == {"admin"}
    assert user_operation.roles_for("ChangePassword") == {"admin", "supervisor"}
    assert operations()["POST /me"].roles_for("Ready") == {"supervisor", "agent"}
    assert operations()["POST /me"].roles_for("NoSuchOperation") == {"admin", "supervisor", "agent"}
    assert operations()["POST /me/interactions/{id}"].roles_for("LeaveConference")  # an E04 alias


def test_reply_schemas_by_status() -> None:
    users = operations()["GET /users"]
    assert users.reply_schema(200) == "openapi.yaml#/paths/~1users/get/responses/200/content/application~1json/schema"
    assert users.reply_schema(404) == "openapi.yaml#/components/responses/NotFound/content/application~1json/schema"
    assert users.reply_schema(418) is None
    assert operations()["GET /me/interactions/{id}/attachments/{attachmentId}"].reply_schema(200) is None


def test_only_operations_with_a_body_or_query_can_take_negative_data() -> None:
    assert operations()["POST /skills"].negatable and operations()["GET /users"].negatable
    assert not operations()["GET /features/{id}"].negatable
    assert not operations()["DELETE /users/{id}"].negatable


def test_links_lead_from_created_objects() -> None:
    assert set(operations()["POST /users"].links) == {"getUser", "assignUserSkill", "deleteUser"}
    assert {o.label for o in linked_operations("admin")} >= {"POST /users", "GET /users/{id}", "DELETE /skills/{id}"}
    assert linked_operations("agent") == ()


# -- requests as sent ---------------------------------------------------------------------------------


def breaches(label: str, url: str, body: Any = None, content_type: str = "application/json") -> list[str]:
    raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    return request_breaches(operations()[label], BASE + url, content_type, raw)


def test_a_valid_request_breaks_nothing() -> None:
    assert breaches("POST /skills", "/skills", {"name": "Sales", "anything": ["else"]}) == []
    assert breaches("GET /users", "/users?fields=*&subresources=*") == []
    assert breaches("GET /recordings", "/recordings?offset=10&limit=5") == []


def test_what_breaks_the_contract_as_sent() -> None:
    assert breaches("POST /skills", "/skills", {"description": "no name"}) == ["body $: 'name' is a required property"]
    assert breaches("POST /skills", "/skills", b"{not json") == ["the body is not well-formed JSON"]
    assert breaches("POST /skills", "/skills", b"") == ["the required request body is missing"]
    assert breaches("POST /skills", "/skills", b"name=x", "text/plain") == [
        "content type 'text/plain' is not one the operation takes"
    ]
    assert breaches("GET /users", "/users?fields=") == ["query parameter fields='' breaks its schema"]
    assert breaches("GET /recordings", "/recordings?limit=many")[0].startswith("query parameter limit=")
    assert breaches(
        "POST /me/interactions/{id}/attachments",
        "/me/interactions/1/attachments",
        b"--b--\r\n",
        "multipart/form-data; boundary=b",
    ) == ['the multipart body has no "attachment" part']


def test_a_path_value_or_an_unknown_parameter_is_not_judged() -> None:
    assert breaches("GET /users/{id}", "/users/%00%01?unknown=1") == []


def test_budget_per_operation_is_shared_by_its_roles() -> None:
    assert examples_per_role(10, operations()["GET /features"]) == 4  # admin, supervisor, agent
    assert examples_per_role(10, operations()["POST /skills"]) == 10  # admin alone
    assert examples_per_role(1, operations()["POST /skills"]) == 3  # never fewer than three
    assert examples_per_role(500, operations()["GET /devices/{id}"]) == 167


def test_each_test_has_its_own_seed_from_the_run_seed() -> None:
    assert case_seed(1, "GET /users", "admin", "positive") == case_seed(1, "GET /users", "admin", "positive")
    assert case_seed(1, "GET /users", "admin", "positive") != case_seed(2, "GET /users", "admin", "positive")
    assert case_seed(1, "GET /users", "admin", "positive") != case_seed(1, "GET /users", "agent", "positive")


# -- what the fuzzer may touch --------------------------------------------------------------------------


class FakeTarget:
    """Just enough of a GWS server for discovery and scratch objects, with a log of what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []
        self.created = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.method, request.url.path.removeprefix("/api/v2"), body))
        path = request.url.path.removeprefix("/api/v2")
        user = base64.b64decode(request.headers["authorization"].split()[1]).decode().partition(":")[0]
        if request.method == "POST" and path in ("/users", "/skills", "/contacts"):
            self.created += 1
            return httpx.Response(200, json={"statusCode": 0, "id": f"scratch{self.created}", "uri": BASE + path})
        if request.method == "POST" and path.endswith("/skills"):
            return httpx.Response(200, json={"statusCode": 0})
        listing = {
            "/me": {"user": {"id": FIXTURE_USER if user == "agent1" else "admin-id", "roles": ["ROLE_AGENT"]}},
            "/me/devices": {"devices": [{"id": FIXTURE_DEVICE}]},
            "/users": {"users": [{"id": FIXTURE_USER}, {"id": "admin-id"}]},
            "/devices": {"devices": [{"id": FIXTURE_DEVICE}]},
            "/skills": {"skills": [{"id": "skill1"}]},
            "/contacts": {"contacts": [{"id": "contact1"}]},
            "/settings/agent-states": {"key": "operationName", "settings": [{"operationName": "OutToLunch"}]},
            "/me/channels": {"channels": [{"channel": "voice"}, {"channel": "email"}]},
        }
        if request.method == "GET" and path in listing:
            return httpx.Response(200, json={"statusCode": 0, **listing[path]})
        return httpx.Response(200, json={"statusCode": 0})


@pytest.fixture
def fake() -> tuple[FakeTarget, World, Guard]:
    target = FakeTarget()
    settings = load_settings(
        env={
            "GWS_BASE_URL": BASE,
            "GWS_ADMIN_PASSWORD": "admin-pw",
            "GWS_AGENT1_PASSWORD": "agent1-pw",
            "GWS_SEED": "4",
        }
    )
    recorder = Recorder()
    clients: dict[str, GwsClient] = {}

    def client_for(role: str) -> GwsClient:
        if role not in clients:
            transport = httpx.MockTransport(target)
            clients[role] = GwsClient(settings, settings.credentials(role), transport=transport, recorder=recorder)
        return clients[role]

    discovery = Discovery(client_for)
    return target, World(discovery, client_for, run_tag="4"), Guard(discovery)


def test_reads_address_the_roles_own_objects(fake: tuple[FakeTarget, World, Guard]) -> None:
    _, world, _ = fake
    assert bind(operations()["GET /users/{id}"], "agent", world, "agent1") == {"id": FIXTURE_USER}
    assert bind(operations()["POST /devices/{id}"], "agent", world, "agent1") == {"id": FIXTURE_DEVICE}
    assert bind(operations()["GET /contacts/{id}"], "agent", world, "agent1") == {"id": "contact1"}
    assert bind(operations()["GET /me/calls/{id}"], "agent", world, "agent1") == {}  # nothing known: generated


def test_changes_address_scratch_objects_made_for_the_test(fake: tuple[FakeTarget, World, Guard]) -> None:
    target, world, _ = fake
    deleted = bind(operations()["DELETE /users/{id}"], "admin", world, "admin")
    updated = bind(operations()["PUT /users/{id}"], "admin", world, "admin")
    assert deleted["id"].startswith("scratch") and updated["id"].startswith("scratch")
    assert deleted != updated  # each test its own object
    made = [body for method, path, body in target.sent if (method, path) == ("POST", "/users")]
    assert all(body["userName"].startswith("gws-fuzz-4-") for body in made)
    unassign = bind(operations()["DELETE /users/{id}/skills/{skillId}"], "admin", world, "admin")
    assert unassign["skillId"] == "skill1" and unassign["id"].startswith("scratch")
    world.clean_up()
    assert {(m, p) for m, p, _ in target.sent if m == "DELETE"} >= {("DELETE", f"/users/{deleted['id']}")}


def test_the_guard_keeps_the_fixture_contact_center(fake: tuple[FakeTarget, World, Guard]) -> None:
    _, _, guard = fake
    catalogue = operations()
    assert guard.refuses(catalogue["DELETE /users/{id}"], {"id": FIXTURE_USER}, None)
    assert guard.refuses(catalogue["POST /users/{id}"], {"id": FIXTURE_USER}, {"operationName": "ResetPassword"})
    assert guard.refuses(catalogue["DELETE /settings/agent-states"], {}, {"operationName": "OutToLunch"})
    assert guard.refuses(catalogue["DELETE /users/{id}"], {"id": "scratch9"}, None) is None
    assert (
        guard.refuses(catalogue["POST /devices/{id}"], {"id": FIXTURE_DEVICE}, {"operationName": "DoNotDisturbOn"})
        is None
    )
    assert guard.refuses(catalogue["DELETE /settings/agent-states"], {}, {"operationName": "gws-fuzz-x"}) is None
    assert guard.refuses(catalogue["GET /users/{id}"], {"id": FIXTURE_USER}, None) is None


def test_what_fuzzing_a_roles_own_objects_changed_is_put_back(fake: tuple[FakeTarget, World, Guard]) -> None:
    target, world, _ = fake
    agent = world.client_for("agent1")
    restore(operations()["POST /me"], agent, {}, world.channels("agent1"))
    restore(operations()["POST /devices/{id}"], agent, {"id": FIXTURE_DEVICE}, ["voice"])
    sent = [(m, p, b) for m, p, b in target.sent if m == "POST"]
    assert ("POST", "/me", {"operationName": "StartContactCenterSession", "channels": ["voice", "email"]}) in sent
    assert ("POST", f"/devices/{FIXTURE_DEVICE}", {"operationName": "ForwardCallsOff"}) in sent


def test_what_fuzz_cases_create_is_deleted_at_the_end(fake: tuple[FakeTarget, World, Guard]) -> None:
    target, world, _ = fake
    catalogue = operations()
    world.adopt(catalogue["POST /users"], {"userName": "x"}, {"statusCode": 0, "id": "u9", "uri": "…"})
    world.adopt(catalogue["POST /skills"], {"name": "y"}, {"statusCode": 2, "statusMessage": "exists"})
    world.adopt(catalogue["POST /settings/agent-states"], {"operationName": "Gone"}, {"statusCode": 0})
    world.clean_up()
    deletes = [(p, b) for m, p, b in target.sent if m == "DELETE"]
    assert deletes == [("/settings/agent-states", {"operationName": "Gone"}), ("/users/u9", None)]
