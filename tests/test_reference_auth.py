"""Authentication of the reference server: Basic credentials (UTF-8, else ISO-8859-1: E89), the cookie session
every Basic sign-in opens (E88), and with --csrf the token unsafe requests on that cookie must echo."""

from __future__ import annotations

import base64

import pytest
from reference_support import USER_ID, open_api, snapshot

from reference_impl.http import SESSION_COOKIE, authenticate

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("description", "headers"),
    [
        ("no credentials", {}),
        ("wrong password", {"authorization": "Basic YWRtaW46bm9wZQ=="}),  # admin:nope
        ("unknown user", {"authorization": "Basic Z2hvc3Q6Ym9v"}),  # ghost:boo
        ("not base64", {"authorization": "Basic !!!"}),
        ("no colon", {"authorization": "Basic YWRtaW4="}),  # admin
        ("another scheme", {"authorization": "Bearer abc"}),
        # Neither UTF-8 nor, read as ISO-8859-1, the password: a wrong password, not a server error (E89).
        ("bytes that are not UTF-8", {"authorization": "Basic " + base64.b64encode(b"admin:\xff\xfe\x80").decode()}),
    ],
)
async def test_missing_or_wrong_credentials_answer_401(description: str, headers: dict[str, str]) -> None:
    async with open_api() as api:
        response = await api.client.get("/api/v2/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert response.json()["statusCode"] == 3 and response.json()["statusMessage"]


async def test_a_basic_sign_in_opens_a_session_cookie_that_authenticates_alone() -> None:
    async with open_api() as api:
        response = await api.call("agent1", "GET", "/me")
        set_cookie = response.headers["set-cookie"]
        assert set_cookie.startswith(f"{SESSION_COOKIE}=") and "httponly" in set_cookie.lower()
        assert "path=/;" in set_cookie.lower().replace(" ", "") + ";"  # "/" covers /api/v2
        assert "x-csrf-token" not in response.headers  # tokens are --csrf's
        # The client keeps the cookie: it alone authenticates, as the same user, reads and changes alike.
        alone = await api.call(None, "GET", "/me")
        assert alone.json()["user"]["userName"] == "agent1"
        assert "set-cookie" not in alone.headers  # a request carrying its valid cookie gets no new one
        assert (await api.call(None, "POST", "/me", json_body={"operationName": "Ready"})).json()["statusCode"] == 0
        # Credentials of another user win over the cookie, and get a session of their own.
        other = await api.call("agent2", "GET", "/me")
        assert other.json()["user"]["userName"] == "agent2" and other.cookies[SESSION_COOKIE]


async def test_end_contact_center_session_ends_the_cookie_session() -> None:
    async with open_api() as api:
        await api.ok("agent3", "GET", "/me")
        cookie = api.client.cookies[SESSION_COOKIE]
        ended = await api.call("agent3", "POST", "/me", json_body={"operationName": "EndContactCenterSession"})
        assert ended.json()["statusCode"] == 0 and SESSION_COOKIE in ended.headers["set-cookie"]  # deleted
        api.client.cookies.set(SESSION_COOKIE, cookie)
        assert (await api.call(None, "GET", "/me")).status_code == 401


async def test_no_session_cookie_fault_opens_none() -> None:
    async with open_api(faults=("no-session-cookie",)) as api:
        response = await api.call("agent1", "GET", "/me")
        assert SESSION_COOKIE not in response.cookies and "x-csrf-token" not in response.headers
        # A cookie is no credential when sessions are off.
        session = api.store.open_session(USER_ID["agent1"])
        api.client.cookies.set(SESSION_COOKIE, session.id)
        assert (await api.call(None, "GET", "/me")).status_code == 401


ACCENTED = "Pässwörd-é1"  # every character in ISO-8859-1


def _basic(user: str, password: str, charset: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode(charset)).decode()}


@pytest.mark.parametrize(("faults", "latin_1_accepted"), [((), True), (("basic-utf8-only",), False)])
async def test_basic_credentials_are_utf8_else_iso_8859_1(faults: tuple[str, ...], latin_1_accepted: bool) -> None:
    async with open_api(faults=faults) as api:
        await api.ok("admin", "POST", "/users", json_body={"userName": "zoe", "password": ACCENTED})
        utf8 = await api.client.get("/api/v2/me", headers=_basic("zoe", ACCENTED, "utf-8"))
        api.client.cookies.clear()
        latin_1 = await api.client.get("/api/v2/me", headers=_basic("zoe", ACCENTED, "iso-8859-1"))
        api.client.cookies.clear()
        wrong = await api.client.get("/api/v2/me", headers=_basic("zoe", "Passwörd-é1", "iso-8859-1"))
    assert utf8.status_code == 200 and utf8.json()["user"]["userName"] == "zoe"
    assert latin_1.status_code == (200 if latin_1_accepted else 401)
    assert wrong.status_code == 401


async def test_csrf_session_cookie_and_token() -> None:
    async with open_api(csrf=True) as api:
        first = await api.call("admin", "GET", "/skills")
        assert first.headers["x-csrf-header"] == "X-CSRF-TOKEN"
        token = first.headers["x-csrf-token"]
        assert first.cookies[SESSION_COOKIE]
        # The client keeps the cookie: from now on it authenticates without credentials.
        assert (await api.call(None, "GET", "/me")).json()["user"]["userName"] == "admin"

        before = snapshot(api.store)
        refused = await api.call(None, "POST", "/skills", json_body={"name": "Knitting"})
        assert (refused.status_code, refused.json()) == (
            403,
            {"statusCode": 3, "statusMessage": "CSRF token missing or invalid"},
        )
        forged = await api.call(None, "POST", "/skills", json_body={"name": "Knitting"}, headers={"X-CSRF-TOKEN": "x"})
        assert forged.status_code == 403
        assert snapshot(api.store) == before

        accepted = await api.call(
            None, "POST", "/skills", json_body={"name": "Knitting"}, headers={"X-CSRF-TOKEN": token}
        )
        assert accepted.json()["statusCode"] == 0
        # Basic credentials keep working without the token.
        with_basic = await api.call("admin", "POST", "/skills", json_body={"name": "Weaving"})
        assert with_basic.json()["statusCode"] == 0


async def test_authenticate_serves_the_cometd_endpoint_too() -> None:
    from starlette.requests import HTTPConnection

    async with open_api(csrf=True) as api:

        def connection(headers: list[tuple[bytes, bytes]]) -> HTTPConnection:
            return HTTPConnection({"type": "http", "headers": headers, "app": api.app})

        assert (
            await authenticate(connection([(b"authorization", b"Basic YWdlbnQxOmFnZW50MS1zZWNyZXQ=")]))
            == USER_ID["agent1"]
        )
        assert await authenticate(connection([])) is None
        session = api.store.open_session(USER_ID["agent2"])
        cookie = f"{SESSION_COOKIE}={session.id}".encode()
        assert await authenticate(connection([(b"cookie", cookie)])) == USER_ID["agent2"]


async def test_the_oldest_sessions_are_forgotten_beyond_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from reference_impl import store as store_module

    monkeypatch.setattr(store_module, "MAX_SESSIONS", 3)
    async with open_api() as api:
        first = api.store.open_session(USER_ID["agent1"])
        later = [api.store.open_session(USER_ID["agent2"]) for _ in range(3)]
        assert first.id not in api.store.sessions and all(s.id in api.store.sessions for s in later)
