"""What real GWS clients rely on beyond the seed's letter (issue 11): replies labelled as the JSON they are
(GWS-GEN-028), optional members sent as null (GWS-GEN-029), the session cookie a Basic sign-in opens
(GWS-AUTH-005), and Basic credentials in ISO-8859-1 (GWS-AUTH-006).

Each test sends what such a client sends and judges the answer as that client would; a finding names the
client habit the server breaks. Whatever a test changes is a user, skill or contact it created itself.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import pytest

from conformance.api import ANY, Admin, Agent, Raw, Reply
from conformance.client import GwsClient, Recorder
from conformance.config import Settings
from conformance.fixtures.clients import ClientPool
from conformance.fixtures.scenarios import NewUser
from conformance.suite.scenarios.support import cookie_only, login, me_as_sent, require, should

__all__ = ["NEW_AGENT", "NULL_CASES", "NullCase", "filled"]

# -- GWS-GEN-028: the Content-Type of JSON replies ---------------------------------------------------------


@pytest.mark.requirement("GWS-GEN-028")
def test_json_replies_are_labelled_json(
    gws_agent1: GwsClient, gws_admin: GwsClient, gws_unauthenticated: Callable[[str], GwsClient]
) -> None:
    """Every reply the suite judges passes the json_content_type check (a MUST finding raises there): here one
    reply of each kind a client reads — a success, a refusal, an unknown object, a request without
    credentials. Their statusCodes are other tests' business."""
    Agent(gws_agent1).get_me(expect=ANY)
    Raw(gws_agent1).send("POST /me", body={"operationName": f"GwsNoSuchOperation{uuid.uuid4().hex[:6]}"})
    Admin(gws_admin).get_user(f"gws-no-such-user-{uuid.uuid4().hex[:8]}", expect=ANY)
    Agent(gws_unauthenticated("anonymous")).get_me(expect=ANY)  # a 401 with a JSON body is labelled too


# -- GWS-GEN-029: optional members sent as null -------------------------------------------------------------

NEW_AGENT = "{new agent}"  # as caller: an agent created for the test; as a path value: its id


@dataclass(frozen=True)
class NullCase:
    """One operation sent twice, as a client library serializes it: with its optional members ``nulls`` left out,
    then sent as null. ``undo`` puts the caller back between the two sends; what a create made needs none (it is
    deleted after the test)."""

    operation: str  # "METHOD /path[#operationName]" of spec/openapi.yaml
    caller: str  # a configured role, or NEW_AGENT
    body: Mapping[str, Any]  # without the nulls; "{unique}" in a string: a fresh name for each send
    nulls: tuple[str, ...]  # optional members of the operation's body schema
    path: Mapping[str, str] = field(default_factory=dict)  # path parameters; NEW_AGENT: the created agent's id
    undo: Mapping[str, Any] | None = None  # a body for the same operation that undoes the first send


NULL_CASES = (
    NullCase(
        "POST /me#StartContactCenterSession",
        NEW_AGENT,
        {"operationName": "StartContactCenterSession", "channels": ["chat"]},
        ("place", "loginCode", "queue"),
        undo={"operationName": "EndContactCenterSession"},
    ),
    NullCase(
        "POST /users",
        "admin",
        {"userName": "gwsnull_{unique}", "password": "Pw-{unique}"},
        ("firstName", "lastName", "roles", "changePasswordOnFirstLogin"),
    ),
    NullCase("PUT /users/{id}", "admin", {"firstName": "Nula"}, ("lastName", "password", "roles"), {"id": NEW_AGENT}),
    NullCase("POST /skills", "admin", {"name": "GwsNull_{unique}"}, ("description",)),
    NullCase("POST /contacts", "admin", {"name": "GwsNull_{unique}", "phoneNumber": "{number}"}, ("type",)),
)


def filled(value: Any) -> Any:
    """``value`` with "{unique}" (a fresh name) and "{number}" (a fresh phone number) filled in, at any depth."""
    if isinstance(value, str):
        number = "9" + "".join(random.choice("0123456789") for _ in range(9))
        return value.replace("{unique}", uuid.uuid4().hex[:10]).replace("{number}", number)
    if isinstance(value, Mapping):
        return {key: filled(member) for key, member in value.items()}
    if isinstance(value, list):
        return [filled(item) for item in value]
    return value


@pytest.mark.requirement("GWS-GEN-029")
@pytest.mark.parametrize("case", [pytest.param(case, id=case.operation) for case in NULL_CASES])
def test_an_optional_member_sent_as_null_means_absent(
    case: NullCase, gws_new_user: Callable[..., NewUser], gws_clients: ClientPool
) -> None:
    agent = gws_new_user()
    client = agent.client() if case.caller == NEW_AGENT else gws_clients.for_role(case.caller)
    path = {name: agent.id if value == NEW_AGENT else value for name, value in case.path.items()}
    with _created_objects(case, gws_clients.for_role("admin")) as created:
        plain = Raw(client).send(case.operation, path, filled(case.body))
        created(plain)
        if case.undo is not None:
            Raw(client).send(case.operation, path, dict(case.undo), expect=ANY)
        nulled = Raw(client).send(case.operation, path, {**filled(case.body), **dict.fromkeys(case.nulls)})
        created(nulled)
    members = ", ".join(case.nulls)
    should(
        nulled.status_code == plain.status_code,
        f"{case.operation} refuses optional members sent as null",
        f"Without {members} the request answered statusCode {plain.status_code}; with them null, statusCode "
        f"{nulled.status_code}{_message(nulled)}. Client libraries (C# DataContract and Newtonsoft, Java Gson and "
        "Jackson models, TypeScript objects built from optional fields) send an optional member they were not "
        "given as null: such a client cannot use this operation. A null optional member means absent (E81).",
        "GWS-GEN-029",
        evidence=[plain.exchange, nulled.exchange],
    )


def _message(reply: Reply) -> str:
    message = reply.get("statusMessage")
    return f" ({message})" if isinstance(message, str) else ""


@contextlib.contextmanager
def _created_objects(case: NullCase, admin: GwsClient) -> Iterator[Callable[[Reply], None]]:
    """Collects what the sends of a create made (a reply with an id) and deletes it afterwards, whatever happens."""
    method, _, collection = case.operation.partition("#")[0].partition(" ")
    made: list[str] = []

    def created(reply: Reply) -> None:
        # A create is a POST to a collection, named by no operationName; its reply names the object (GWS-GEN-018).
        if method == "POST" and "#" not in case.operation and reply.ok and isinstance(reply.get("id"), str):
            made.append(reply["id"])

    try:
        yield created
    finally:
        for object_id in made:
            Raw(admin).send(f"DELETE {collection}/{{id}}", {"id": object_id}, expect=ANY)


# -- GWS-AUTH-005: the session cookie of a Basic sign-in -----------------------------------------------------


@pytest.mark.requirement("GWS-AUTH-005")
def test_a_basic_sign_in_opens_a_session_cookie(
    gws_clients: ClientPool, gws_settings: Settings, gws_recorder: Recorder
) -> None:
    signed_in = gws_clients.session("agent1")  # a fresh client: no cookie yet
    reply = Agent(signed_in).get_me()
    issued = _cookies(reply.response.headers.get_list("set-cookie"))
    should(
        bool(issued),
        "no session cookie after a Basic sign-in",
        "GET /me authenticated by Basic credentials set no cookie. A browser client signs in once with Basic and "
        "then sends only the session cookie; against this server its next request is not authenticated (E88).",
        "GWS-AUTH-005",
        evidence=[reply.exchange],
    )
    if not issued:
        return
    base = urlsplit(gws_settings.base_url).path.rstrip("/") + "/me"
    should(
        any(_covers(morsel["path"], base) and bool(morsel["httponly"]) for morsel in issued),
        "the session cookie is not HttpOnly with a Path covering the API",
        f"Cookies set: {'; '.join(_described(morsel) for morsel in issued)}. A session cookie is HttpOnly (scripts "
        f"cannot read it) and its Path covers {base} (E88).",
        "GWS-AUTH-005",
        evidence=[reply.exchange],
    )
    with cookie_only(gws_settings, gws_recorder, signed_in) as browser:
        again = me_as_sent(browser)
    user = again.get("user")
    who = user.get("userName") if isinstance(user, dict) else None
    should(
        again.ok and who == signed_in.user.user,
        "a request with only the session cookie is not served as the signed-in user",
        f"With only the cookie of {signed_in.user.user}'s Basic sign-in, GET /me answered HTTP "
        f"{again.response.status_code}, statusCode {again.status_code}, userName {who!r}. A browser client that "
        "signed in once sends only this cookie from then on (E88).",
        "GWS-AUTH-005",
        evidence=[reply.exchange, again.exchange],
    )


def _cookies(headers: list[str]) -> list[Any]:
    morsels = []
    for header in headers:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            continue  # a malformed cookie is no session a client can keep
        morsels += list(jar.values())
    return morsels


def _described(morsel: Any) -> str:
    return f"{morsel.key} (Path {morsel['path'] or 'absent'}, {'' if morsel['httponly'] else 'not '}HttpOnly)"


def _covers(cookie_path: str, request_path: str) -> bool:
    """RFC 6265 §5.1.4 path-match; no Path attribute: the default path of the request, which covers it."""
    if not cookie_path:
        return True
    return request_path == cookie_path or (
        request_path.startswith(cookie_path) and (cookie_path.endswith("/") or request_path[len(cookie_path)] == "/")
    )


# -- GWS-AUTH-006: Basic credentials in ISO-8859-1 ------------------------------------------------------------


@pytest.mark.requirement("GWS-AUTH-006", "GWS-GEN-004")
def test_basic_credentials_in_iso_8859_1(
    gws_new_user: Callable[..., NewUser], gws_settings: Settings, gws_recorder: Recorder
) -> None:
    password = f"Pässwörd-é-{uuid.uuid4().hex[:6]}"  # every character in ISO-8859-1; not ASCII
    user = gws_new_user(password=password)
    outcomes = {}
    for charset in ("utf-8", "iso-8859-1"):
        with login(gws_settings, gws_recorder, user.user_name, password, charset=charset) as client:
            outcomes[charset] = me_as_sent(client)
    utf8, latin_1 = outcomes["utf-8"], outcomes["iso-8859-1"]
    should(
        utf8.ok,
        "a password with accented letters does not sign in (UTF-8)",
        f"Basic credentials encoded in UTF-8 got HTTP {utf8.response.status_code}; a password with non-ASCII "
        "characters is accepted in either encoding (E89).",
        "GWS-AUTH-006",
        evidence=[utf8.exchange],
    )
    should(
        latin_1.ok,
        "Basic credentials encoded in ISO-8859-1 are refused",
        f"The same password encoded in ISO-8859-1 got HTTP {latin_1.response.status_code}. .NET's and browsers' "
        "Basic helpers may encode user:password in ISO-8859-1; a server that decodes only UTF-8 locks those users "
        "out for their password's accents (E89: UTF-8 first, else ISO-8859-1).",
        "GWS-AUTH-006",
        evidence=[latin_1.exchange],
    )
    # Bytes that are not UTF-8 and, read as ISO-8859-1, not the password: a wrong password, never a server error.
    wrong = password.replace("é", "ÿ")
    with login(gws_settings, gws_recorder, user.user_name, wrong, valid=False, charset="iso-8859-1") as client:
        refused = Agent(client).get_me(expect=ANY)  # the checks expect a 401 (GWS-AUTH-002)
    require(
        refused.response.status_code < 500,
        "Basic credentials that are not UTF-8 answer a server error",
        f"HTTP {refused.response.status_code}: credentials the server cannot read are wrong credentials (401).",
        "GWS-GEN-004",
        evidence=[refused.exchange],
    )
