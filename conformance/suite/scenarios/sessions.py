"""Session security: what survives a password change (E102), and the CSRF rules of a server that issues tokens (E103).

Every scenario works on a user created for it (``gws_new_user``): changing a configured account's password
would break every test after it.

- A password change (the user's own ChangePassword, a supervisor's ChangePassword on /users/{id}, an
  administrator's ResetPassword or PUT /users/{id} with a password) ends what the old password opened (GWS-AUTH-007): the session cookie, a CometD clientId (presented afterwards with the new password, as a
  client that learned it would) and a websocket upgraded with the old password. A message the user causes after
  the change (a refused ChangePassword's PasswordChangeError on /v2/me) is proved delivered to a session opened
  with the new password, and must reach none of the old ones.
- CSRF (GWS-AUTH-008), judged only when a Basic sign-in's ``GET /me`` names a token (``X-CSRF-HEADER`` /
  ``X-CSRF-TOKEN``, as real deployments and ``gws-reference serve --csrf`` do): a cookie-only ChangePassword
  without the token, and with another user's token, is refused with HTTP 403 / statusCode 3 and changes nothing;
  with the session's own token it is performed; a Basic-authenticated one needs no token.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from websockets.sync.client import ClientConnection

from conformance.api import ANY, Admin, Agent, Reply, Session, b64, check
from conformance.bayeux import Bayeux, Message, WebSocketSession, basic_authorization, open_websocket
from conformance.client import GwsClient, Recorder
from conformance.config import Credentials, Settings
from conformance.fixtures.scenarios import NewUser
from conformance.outcomes import not_applicable
from conformance.suite.scenarios.support import ME, cookie_only, login, me_as_sent, require, should

PASSWORD_RULE, CSRF_RULE = "GWS-AUTH-007", "GWS-AUTH-008"
# Every way the seed gives to change a password (E102): the user's own, a supervisor's of another user (line 3517),
# an administrator's reset (line 3576) and an administrator's update of the user (PUT /users/{id}, E11).
WAYS = ("ChangePassword", "ResetPassword", "SupervisorChangePassword", "UpdateUser")


def _new_password() -> str:
    return f"Np-{uuid.uuid4().hex[:12]}"


def _logs_in(settings: Settings, recorder: Recorder, user_name: str, password: str, *, expected: bool) -> bool:
    with login(settings, recorder, user_name, password, valid=expected) as client:
        return Agent(client).get_me(expect=ANY).status_code == 0


def _logs_in_eventually(settings: Settings, recorder: Recorder, user_name: str, password: str) -> bool:
    """A password change is asynchronous (its outcome is a notification): the new password within the wait."""
    deadline = time.monotonic() + settings.notification_timeout_s
    while not _logs_in(settings, recorder, user_name, password, expected=True):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _password_error(message: Message) -> bool:
    data = message.get("data")
    return isinstance(data, dict) and data.get("notificationType") == "PasswordChangeError"


# -- a websocket session, spoken by hand ----------------------------------------------------------------------


class _Socket(WebSocketSession):
    """A CometD session of one user over a websocket: its clientId sent with every message after the handshake."""

    def __init__(self, socket: ClientConnection, timeout_s: float) -> None:
        super().__init__(socket, timeout_s)
        self.client_id: str | None = None

    def meta(self, channel: str, **fields: Any) -> Message | None:
        """The reply to one message on ``channel`` (None: the socket closed, or no reply within the timeout)."""
        if self.client_id is not None and channel != "/meta/handshake":
            fields = {"clientId": self.client_id, **fields}
        return self.request(channel, **fields)

    def open(self) -> bool:
        """Handshake, subscribe to /v2/me and connect (so that the server pushes): True when all succeeded."""
        offer = {"version": "1.0", "minimumVersion": "1.0", "supportedConnectionTypes": ["websocket"]}
        reply = self.meta("/meta/handshake", **offer)
        if reply is None or reply.get("successful") is not True or not isinstance(reply.get("clientId"), str):
            return False
        self.client_id = reply["clientId"]
        subscribed = self.meta("/meta/subscribe", subscription=ME)
        connected = self.meta("/meta/connect", connectionType="websocket", advice={"timeout": 0})
        return all(r is not None and r.get("successful") is True for r in (subscribed, connected))


# -- GWS-AUTH-007: a password change ends the sessions of the old password ----------------------------------


def _drain(old: Bayeux, rounds: int = 3) -> tuple[Message | None, list[Message]]:
    """The old clientId's connects: each successful one must still carry what was queued before the change
    (E102 lets it deliver that); the last reply (None: none paired), and every message they carried."""
    delivered: list[Message] = []
    reply: Message | None = None
    for _ in range(rounds):
        _, replies = old.send("/meta/connect", connectionType="long-polling", advice={"timeout": 0})
        carried = [m for m in replies if not str(m.get("channel", "")).startswith("/meta/")]
        delivered += carried
        paired = [m for m in replies if m.get("channel") == "/meta/connect" and m.get("id") == old.last_id]
        reply = paired[-1] if paired else None
        if reply is None or reply.get("successful") is not True or not carried:
            break
    return reply, delivered


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.requirement(PASSWORD_RULE, "GWS-PWD-002")
def test_a_password_change_ends_the_sessions_of_the_old_password(
    way: str,
    gws_new_user: Callable[..., NewUser],
    gws_admin: GwsClient,
    gws_supervisor: GwsClient,
    gws_settings: Settings,
    gws_recorder: Recorder,
) -> None:
    user = gws_new_user()
    signed_in = user.client()
    Agent(signed_in).get_me()  # the Basic sign-in that opens the cookie session (E88)
    with cookie_only(gws_settings, gws_recorder, signed_in) as browser:
        cookie_session = bool(signed_in.cookies) and me_as_sent(browser).ok
    old = Bayeux(gws_settings, None)
    old.sign_in(user.user_name, user.password)
    old.handshake()
    old.subscribe(ME, "GWS-COMETD-007")
    old.connect()
    raw_socket = open_websocket(gws_settings, {"Authorization": basic_authorization(user.user_name, user.password)})
    socket = _Socket(raw_socket, gws_settings.request_timeout_s) if raw_socket is not None else None
    fresh = Bayeux(gws_settings, None)
    try:
        websocket_session = socket is not None and socket.open()
        new = _new_password()
        gws_recorder.redactor.add_secret(new)
        if way == "ChangePassword":
            Agent(signed_in).change_password(user.password, new)
        elif way == "SupervisorChangePassword":
            Session(gws_supervisor).change_user_password(user.id, user.password, new)
        elif way == "UpdateUser":
            Admin(gws_admin).update_user(user.id, password=new)
        else:
            Admin(gws_admin).reset_password(user.id, new)
        require(
            _logs_in_eventually(gws_settings, gws_recorder, user.user_name, new),
            f"the password set by {way} does not log in",
            "",
            "GWS-PWD-002",
        )
        require(
            not _logs_in(gws_settings, gws_recorder, user.user_name, user.password, expected=False),
            f"the old password still logs in after {way}",
            "",
            "GWS-PWD-002",
        )

        # A message caused after the change: proved delivered to a session of the new password.
        fresh.sign_in(user.user_name, new)
        fresh.handshake()
        fresh.subscribe(ME, "GWS-COMETD-007")
        fresh.connect()
        with login(gws_settings, gws_recorder, user.user_name, new) as client:
            Agent(client).change_password(f"wrong-{new}", _new_password(), expect={0, 2})
        marker = any(
            _password_error(m) for m in fresh.receive_until(ME, gws_settings.notification_timeout_s, _password_error)
        )

        if cookie_session:
            with cookie_only(gws_settings, gws_recorder, signed_in) as browser:
                after = me_as_sent(browser)
            should(
                after.response.status_code == 401 or after.status_code not in (0, None),
                f"the session cookie of the old password is still served after {way}",
                f"HTTP {after.response.status_code}, statusCode {after.status_code}: a cookie issued before the "
                "password changed must no longer authenticate anyone (E102).",
                PASSWORD_RULE,
                evidence=[after.exchange],
            )

        old.sign_in(user.user_name, new)  # a client that learned the new password, or a thief who kept the clientId
        reply, delivered = _drain(old)
        should(
            reply is not None and reply.get("successful") is False and str(reply.get("error", "")).startswith("402"),
            f"the clientId handshaken before {way} is still served",
            f"last /meta/connect reply {reply!r} (with the new password): once what was queued before the change is "
            "delivered, the session ends and its clientId is answered as an unknown client (402, E102).",
            PASSWORD_RULE,
        )
        should(
            not (marker and any(_password_error(m) for m in delivered)),
            f"the clientId handshaken before {way} receives a message caused after it",
            f"delivered {delivered!r}: nothing published after the change may reach a session of the old password "
            "(E102).",
            PASSWORD_RULE,
        )

        if socket is not None and websocket_session:
            pushed = socket.pushed(0.2)
            again = socket.meta("/meta/handshake", version="1.0", supportedConnectionTypes=["websocket"])
            should(
                again is None or again.get("successful") is not True,
                f"a websocket opened with the old password serves a new handshake after {way}",
                f"reply {again!r}: the credentials the socket was upgraded with no longer authenticate anyone; a "
                "frame on it is refused (the server may close it, E102).",
                PASSWORD_RULE,
            )
            should(
                not (marker and any(_password_error(m) for m in pushed)),
                f"a websocket session of the old password receives a message caused after {way}",
                f"pushed {pushed!r} (E102).",
                PASSWORD_RULE,
            )
    finally:
        for session in (old, fresh):
            session.close()
        if raw_socket is not None:
            raw_socket.close()


# -- GWS-AUTH-008: CSRF tokens, when the server issues them ---------------------------------------------------


def _token(reply: Reply) -> tuple[str, str] | None:
    """(header name, token) named by a reply: X-CSRF-HEADER names the header, X-CSRF-TOKEN (or it) the value."""
    headers = reply.response.headers
    name = str(headers.get("X-CSRF-HEADER") or "X-CSRF-TOKEN").strip()
    value = headers.get(name) or headers.get("X-CSRF-TOKEN")
    return (name, str(value)) if value else None


@contextlib.contextmanager
def _signed_in(settings: Settings, recorder: Recorder, user_name: str, password: str) -> Iterator[GwsClient]:
    """A client that never sends a token by itself (GWS_CSRF=off): the test decides which header goes."""
    quiet = dataclasses.replace(settings, csrf="off")
    client = GwsClient(quiet, Credentials(role="", user=user_name, password=password), recorder=recorder)
    try:
        yield client
    finally:
        client.close()


def _change_password(client: GwsClient, old: str, new: str, headers: dict[str, str]) -> Reply:
    """ChangePassword on /me with exactly ``headers`` added, judged by the checks every reply passes."""
    payload = {"operationName": "ChangePassword", "oldPassword": b64(old), "newPassword": b64(new)}
    response = client.post("/me", json=payload, headers=headers, expect_json=False)
    reply = Reply("POST /me", response)
    check(reply, credentials_valid=response.status_code != 401)
    return reply


def _refused(reply: Reply) -> bool:
    return reply.response.status_code == 403 and reply.status_code == 3


@pytest.mark.requirement(CSRF_RULE)
def test_a_cookie_only_request_needs_its_own_sessions_csrf_token(
    gws_new_user: Callable[..., NewUser], gws_settings: Settings, gws_recorder: Recorder
) -> None:
    user = gws_new_user()
    stranger = gws_new_user()
    quiet = dataclasses.replace(gws_settings, csrf="off")
    with (
        _signed_in(gws_settings, gws_recorder, user.user_name, user.password) as signed_in,
        _signed_in(gws_settings, gws_recorder, stranger.user_name, stranger.password) as other,
    ):
        issued = _token(Agent(signed_in).get_me())
        if issued is None:
            not_applicable("a Basic sign-in's GET /me names no CSRF token (X-CSRF-HEADER / X-CSRF-TOKEN): MAY (E103)")
        header, token = issued
        foreign = _token(Agent(other).get_me())
        if foreign is None or not signed_in.cookies:
            not_applicable("the server issued a CSRF token without a session cookie to go with it: nothing to forge")
        gws_recorder.redactor.add_secret(token)
        gws_recorder.redactor.add_secret(foreign[1])
        with cookie_only(quiet, gws_recorder, signed_in) as browser:
            attempts = {
                "without a token": {},
                "with another user's session token": {header: foreign[1]},
                "with a made-up token": {header: f"forged-{uuid.uuid4().hex}"},
            }
            for what, headers in attempts.items():
                forged = _change_password(browser, user.password, _new_password(), headers)
                should(
                    _refused(forged),
                    f"a cookie-only POST {what} is not refused with HTTP 403 and statusCode 3",
                    f"HTTP {forged.response.status_code}, statusCode {forged.status_code}: a server that issues CSRF "
                    "tokens performs a cookie-only POST, PUT or DELETE only with the token of that session (E103).",
                    CSRF_RULE,
                    evidence=[forged.exchange],
                )
                if forged.ok:
                    return  # performed: the password the rest relies on may have changed
                should(
                    _logs_in(gws_settings, gws_recorder, user.user_name, user.password, expected=True),
                    f"a refused cookie-only ChangePassword {what} changed the password",
                    "the refused request must perform nothing (E103).",
                    CSRF_RULE,
                    evidence=[forged.exchange],
                )
            new = _new_password()
            gws_recorder.redactor.add_secret(new)
            own = _change_password(browser, user.password, new, {header: token})
        should(
            own.ok and _logs_in_eventually(gws_settings, gws_recorder, user.user_name, new),
            "a cookie-only ChangePassword with the session's own token is not performed",
            f"HTTP {own.response.status_code}, statusCode {own.status_code}: the token the server named on GET /me "
            f"in {header} must let the session's own client act (E103).",
            CSRF_RULE,
            evidence=[own.exchange],
        )
    # Basic credentials need no token: a forged cross-site request cannot carry them.
    with _signed_in(gws_settings, gws_recorder, user.user_name, new) as basic:
        newer = _new_password()
        gws_recorder.redactor.add_secret(newer)
        plain = _change_password(basic, new, newer, {})
    should(
        plain.ok and _logs_in_eventually(gws_settings, gws_recorder, user.user_name, newer),
        "a Basic-authenticated ChangePassword without a CSRF token is not performed",
        f"HTTP {plain.response.status_code}, statusCode {plain.status_code}: only a request authenticated by the "
        "session cookie alone needs the token (E103).",
        CSRF_RULE,
        evidence=[plain.exchange],
    )
