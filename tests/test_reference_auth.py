"""Authentication of the reference server: Basic credentials, and with --csrf the cookie session
whose unsafe requests must echo X-CSRF-TOKEN."""

from __future__ import annotations

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
    ],
)
async def test_missing_or_wrong_credentials_answer_401(description: str, headers: dict[str, str]) -> None:
    async with open_api() as api:
        response = await api.client.get("/api/v2/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert response.json()["statusCode"] == 3 and response.json()["statusMessage"]


async def test_without_csrf_no_session_is_opened() -> None:
    async with open_api() as api:
        response = await api.call("agent1", "GET", "/me")
        assert SESSION_COOKIE not in response.cookies and "x-csrf-token" not in response.headers
        # A cookie is no credential when sessions are off.
        session = api.store.open_session(USER_ID["agent1"])
        api.client.cookies.set(SESSION_COOKIE, session.id)
        assert (await api.call(None, "GET", "/me")).status_code == 401


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


async def test_csrf_session_belongs_to_its_user() -> None:
    async with open_api(csrf=True) as api:
        await api.call("agent1", "GET", "/me")
        # Credentials of another user win over the cookie, and get a session of their own.
        other = await api.call("agent2", "GET", "/me")
        assert other.json()["user"]["userName"] == "agent2"
        assert other.cookies[SESSION_COOKIE]


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
