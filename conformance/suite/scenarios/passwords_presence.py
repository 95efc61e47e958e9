"""Group 3 — passwords and presence: ChangePassword (own, first login, another user's), ResetPassword,
StartContactCenterSession and EndContactCenterSession.

Every scenario works on a user created for it (``gws_new_user``): changing a configured account's
password or ending its session would break every test after it. Outcomes of password operations
arrive asynchronously (/v2/me for one's own password, /v2/users for another user's, E54); the
supervisor's and admin's /v2/users inboxes ignore messages about users other than the test's own,
which parallel tests may cause.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from conformance.api import ANY, Admin, Agent, Session
from conformance.bayeux import Bayeux
from conformance.client import GwsClient, Recorder
from conformance.cometd import ListenerError, NotificationListener
from conformance.config import Settings
from conformance.discovery import Discovery
from conformance.fixtures.scenarios import NewUser
from conformance.inbox import Inbox
from conformance.notifications import validate_notification
from conformance.outcomes import not_applicable
from conformance.suite.scenarios.support import (
    DEVICES,
    ME,
    USERS,
    cookie_only,
    login,
    me_as_sent,
    require,
    should,
)

SUCCESS = "PasswordChangeSuccessful"
ERROR = "PasswordChangeError"


def _new_password() -> str:
    return f"Np-{uuid.uuid4().hex[:12]}"


def _logs_in(settings: Settings, recorder: Recorder, user_name: str, password: str, *, expected: bool) -> bool:
    with login(settings, recorder, user_name, password, valid=expected) as client:
        return Agent(client).get_me(expect=ANY).status_code == 0


def _me_inbox(user: NewUser, discovery: Discovery, settings: Settings) -> Inbox:
    return Inbox(user.listener("agent", discovery.assigned_features()), settings, topics=[ME], clock=user.clock)


def _users_inbox(open_inbox: Callable[..., Inbox], role: str, user_id: str) -> Inbox:
    return open_inbox(role, topics=[USERS], ignore=lambda data: data.get("userId") != user_id)


def _outcome(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda data: data.get("notificationType") == kind


# -- ChangePassword on /me -------------------------------------------------------------------------------


@pytest.mark.requirement(
    "GWS-NOTIF-009",  # every message it claims names messageType (conformance.habits)
    "GWS-PWD-001",
    "GWS-PWD-002",
    "GWS-PWD-005",
    "GWS-NOTIF-004",
    "GWS-GEN-020",
    "GWS-AUTH-001",
    "GWS-AUTH-002",
    "GWS-AUTH-004",
)
def test_change_own_password(
    gws_new_user: Callable[..., NewUser], gws_discovery: Discovery, gws_settings: Settings, gws_recorder: Recorder
) -> None:
    user = gws_new_user()
    inbox = _me_inbox(user, gws_discovery, gws_settings)
    new = _new_password()
    gws_recorder.redactor.add_secret(new)
    Agent(user.client()).change_password(user.password, new)
    inbox.expect(ME, _outcome(SUCCESS), "MePasswordChangeSuccessful")
    require(
        _logs_in(gws_settings, gws_recorder, user.user_name, new, expected=True),
        "the new password does not log in after PasswordChangeSuccessful",
        "",
        "GWS-PWD-002",
    )
    require(
        not _logs_in(gws_settings, gws_recorder, user.user_name, user.password, expected=False),
        "the old password still logs in after PasswordChangeSuccessful",
        "",
        "GWS-PWD-002",
    )
    inbox.assert_quiet()  # exactly one outcome message


@pytest.mark.requirement("GWS-NOTIF-009", "GWS-PWD-001", "GWS-PWD-003", "GWS-PWD-004")
def test_change_own_password_with_a_wrong_old_password(
    gws_new_user: Callable[..., NewUser], gws_discovery: Discovery, gws_settings: Settings, gws_recorder: Recorder
) -> None:
    user = gws_new_user()
    inbox = _me_inbox(user, gws_discovery, gws_settings)
    reply = Agent(user.client()).change_password(f"wrong-{user.password}", _new_password(), expect={0, 2})
    _wrong_old_password_refused(reply, inbox, ME, "MePasswordChangeError", user, gws_settings, gws_recorder)
    inbox.assert_quiet()


@pytest.mark.requirement(
    "GWS-PWD-006",
    "GWS-PWD-012",
    "GWS-GEN-004",
    "GWS-GEN-011",
    "GWS-GEN-012",
    "GWS-GEN-010",
    "GWS-NOTIF-008",
)
def test_password_operations_refuse_bad_input(
    gws_new_user: Callable[..., NewUser],
    gws_admin: GwsClient,
    gws_supervisor: GwsClient,
    gws_discovery: Discovery,
    gws_settings: Settings,
    gws_recorder: Recorder,
) -> None:
    user = gws_new_user()
    inbox = _me_inbox(user, gws_discovery, gws_settings)
    agent = Agent(user.client())
    agent.change_password("not*base64!", "also not base64!", encoded=True, expect=2)
    agent.change_password(user.password, None, expect=1)
    agent.change_password(None, _new_password(), expect=1)
    agent.change_password(user.password, _new_password(), first_login="maybe", expect=2)
    Admin(gws_admin).reset_password(user.id, "not*base64!", encoded=True, expect=2)
    Admin(gws_admin).reset_password(user.id, None, expect=1)
    Session(gws_supervisor).change_user_password(user.id, "not*base64!", "x*y", encoded=True, expect=2)
    require(
        _logs_in(gws_settings, gws_recorder, user.user_name, user.password, expected=True),
        "a refused password operation changed the password",
        "",
        "GWS-GEN-010",
    )
    inbox.assert_quiet()


@pytest.mark.requirement("GWS-PWD-011", "GWS-PWD-013", "GWS-PWD-005", "GWS-USER-013")
def test_change_password_at_first_login(
    gws_new_user: Callable[..., NewUser],
    gws_admin: GwsClient,
    gws_discovery: Discovery,
    gws_settings: Settings,
    gws_recorder: Recorder,
) -> None:
    user = gws_new_user(changePasswordOnFirstLogin=True)
    admin = Admin(gws_admin)
    require(
        admin.get_user(user.id).get("user", {}).get("changePasswordOnFirstLogin") is True,
        "changePasswordOnFirstLogin set at creation is not true",
        "",
        "GWS-USER-013",
    )
    inbox = _me_inbox(user, gws_discovery, gws_settings)
    new = _new_password()
    gws_recorder.redactor.add_secret(new)
    Agent(user.client()).change_password(user.password, new, first_login=True)
    inbox.expect(ME, _outcome(SUCCESS), "MePasswordChangeSuccessful")
    require(
        _logs_in(gws_settings, gws_recorder, user.user_name, new, expected=True),
        "the password changed at first login does not log in",
        "",
        "GWS-PWD-011",
    )
    flag = admin.get_user(user.id).get("user", {}).get("changePasswordOnFirstLogin")
    should(
        flag is False,
        "changePasswordOnFirstLogin is still set after the first-login change",
        f"{flag!r}",
        "GWS-PWD-013",
    )
    inbox.assert_quiet()


# -- passwords of other users: ResetPassword and ChangePassword on /users/{id} -------------------------------


@pytest.mark.requirement(
    "GWS-NOTIF-009",  # every message it claims names messageType (conformance.habits)
    "GWS-PWD-002",
    "GWS-PWD-005",
    "GWS-PWD-008",
    "GWS-PWD-009",
    "GWS-PWD-010",
    "GWS-PERM-005",
    "GWS-NOTIF-004",
    "GWS-NOTIF-006",
    "GWS-GEN-010",
)
def test_reset_password_by_an_administrator(
    gws_new_user: Callable[..., NewUser],
    gws_admin: GwsClient,
    gws_supervisor: GwsClient,
    gws_agent1: GwsClient,
    gws_inbox: Callable[..., Inbox],
    gws_settings: Settings,
    gws_recorder: Recorder,
) -> None:
    user = gws_new_user()
    supervisor_inbox = _users_inbox(gws_inbox, "supervisor", user.id)
    admin_inbox = _users_inbox(gws_inbox, "admin", user.id)
    eavesdropper = _agent_on_users_topic(user, gws_settings)

    new = _new_password()
    gws_recorder.redactor.add_secret(new)
    Admin(gws_supervisor).reset_password(user.id, _new_password(), expect=5)
    Admin(gws_agent1).reset_password(user.id, _new_password(), expect=5)
    Admin(gws_admin).reset_password(user.id, new)
    for inbox in (supervisor_inbox, admin_inbox):
        message = inbox.expect(USERS, _outcome(SUCCESS), "UserPasswordChangeSuccessful about the user")
        require(
            str(message.data.get("userUri", "")).rstrip("/").endswith(f"/users/{user.id}"),
            "the /v2/users message does not name the user's uri",
            f"{message.data!r}",
            "GWS-PWD-008",
        )
    require(
        _logs_in(gws_settings, gws_recorder, user.user_name, new, expected=True),
        "the password set by ResetPassword does not log in",
        "",
        "GWS-PWD-009",
        "GWS-PWD-002",
    )
    require(
        not _logs_in(gws_settings, gws_recorder, user.user_name, user.password, expected=False),
        "the old password still logs in after ResetPassword",
        "",
        "GWS-PWD-002",
    )
    supervisor_inbox.assert_quiet()
    admin_inbox.assert_quiet(window_s=0)
    if eavesdropper is not None:
        Inbox(eavesdropper, gws_settings, topics=[USERS]).assert_quiet(window_s=0)
        require(
            not eavesdropper.records(USERS),
            "an agent received a /v2/users message",
            f"{eavesdropper.records(USERS)!r}",
            "GWS-NOTIF-006",
        )
        eavesdropper.stop()


def _wrong_old_password_refused(
    reply: Any,
    inbox: Inbox,
    topic: str,
    description: str,
    user: NewUser,
    settings: Settings,
    recorder: Recorder,
    *also_proves: str,
) -> None:
    """A ChangePassword with a wrong oldPassword: accepted then reported by PasswordChangeError with errorCode 2
    (E54), or refused at once (a SHOULD broken); either way the password stays as it was."""
    should(
        reply.ok,
        "a wrong oldPassword is refused synchronously instead of by PasswordChangeError",
        f"{reply.body!r}",
        "GWS-PWD-003",
        evidence=[reply.exchange],
    )
    if reply.ok:
        error = inbox.expect(topic, _outcome(ERROR), description)
        should(
            error.data.get("errorCode") == 2,
            "a wrong oldPassword is not reported with errorCode 2",
            f"{error.data!r}",
            "GWS-PWD-003",
        )
    require(
        _logs_in(settings, recorder, user.user_name, user.password, expected=True),
        "a refused password change changed the password",
        "",
        *also_proves,
        "GWS-PWD-003",
    )


def _agent_on_users_topic(user: NewUser, settings: Settings) -> NotificationListener | None:
    """An agent's attempt to listen on /v2/users: refused (None), or a listener that must hear nothing."""
    listener = NotificationListener(
        settings.cometd_url,
        user.user_name,
        user.password,
        [USERS],
        connect_timeout_s=settings.request_timeout_s,
        schema_check=validate_notification,
    )
    try:
        return listener.start()
    except ListenerError:
        return None


@pytest.mark.requirement(
    "GWS-NOTIF-009",  # every message it claims names messageType (conformance.habits)
    "GWS-PWD-003",
    "GWS-PWD-004",
    "GWS-PWD-007",
    "GWS-PWD-008",
    "GWS-PERM-011",
    "GWS-PERM-013",
    "GWS-NOTIF-004",
)
def test_supervisor_changes_another_users_password(
    gws_new_user: Callable[..., NewUser],
    gws_supervisor: GwsClient,
    gws_agent1: GwsClient,
    gws_inbox: Callable[..., Inbox],
    gws_settings: Settings,
    gws_recorder: Recorder,
) -> None:
    user = gws_new_user()
    inbox = _users_inbox(gws_inbox, "supervisor", user.id)
    supervisor = Session(gws_supervisor)

    Session(gws_agent1).change_user_password(user.id, user.password, _new_password(), expect={5, 6})
    wrong = supervisor.change_user_password(user.id, f"wrong-{user.password}", _new_password(), expect={0, 2})
    _wrong_old_password_refused(
        wrong, inbox, USERS, "UserPasswordChangeError about the user", user, gws_settings, gws_recorder, "GWS-PERM-011"
    )

    new = _new_password()
    gws_recorder.redactor.add_secret(new)
    supervisor.change_user_password(user.id, user.password, new)
    message = inbox.expect(USERS, _outcome(SUCCESS), "UserPasswordChangeSuccessful about the user")
    require(
        message.data.get("userId") == user.id,
        "the /v2/users message names another user",
        f"{message.data!r}",
        "GWS-PWD-008",
    )
    require(
        _logs_in(gws_settings, gws_recorder, user.user_name, new, expected=True),
        "the password a supervisor set does not log in",
        "",
        "GWS-PWD-007",
    )
    inbox.assert_quiet()


# -- presence ------------------------------------------------------------------------------------------------


def _phone_number() -> str:
    return "7" + uuid.uuid4().int.__str__()[:9]


@pytest.mark.feature("api-voice")
@pytest.mark.requirement(
    "GWS-PRES-001",
    "GWS-PRES-002",
    "GWS-PRES-003",
    "GWS-PRES-004",
    "GWS-DEV-013",
    "GWS-AGST-011",
    "GWS-GEN-010",
)
def test_contact_center_session(
    gws_new_user: Callable[..., NewUser],
    gws_admin: GwsClient,
    gws_agent1: GwsClient,
    gws_discovery: Discovery,
    gws_settings: Settings,
) -> None:
    user = gws_new_user()
    number = _phone_number()
    device_id = str(Admin(gws_admin).create_user_device(user.id, number)["id"])
    inbox = Inbox(
        user.listener("agent", gws_discovery.assigned_features()), gws_settings, topics=[DEVICES], clock=user.clock
    )
    agent = Agent(user.client())
    require(
        [d.get("id") for d in agent.list_my_devices(fields="*").items("devices")] == [device_id],
        "a device assigned by POST /users/{id}/devices is not the user's",
        "",
        "GWS-PRES-001",
    )

    def my_devices() -> list[str]:
        return [str(d.get("id")) for d in agent.list_my_devices(fields="*").items("devices")]

    def about_device(data: dict[str, Any]) -> bool:
        return any(d.get("id") == device_id for d in data.get("devices", []))

    # End: logged out of the device, which is no longer the user's.
    agent.end_contact_center_session()
    inbox.expect(DEVICES, about_device, "DeviceStateChanged for the device logged out")
    require(my_devices() == [], "EndContactCenterSession left the device assigned", "", "GWS-PRES-004")

    # A place holding another user's device is refused, and nothing is assigned.
    taken = [d.get("phoneNumber") for d in gws_discovery.me("agent1").get("devices", []) if d.get("phoneNumber")]
    if taken:
        agent.start_contact_center_session(["voice"], place=str(taken[0]), expect={1, 2, 3, 5, 6})
        require(my_devices() == [], "a refused StartContactCenterSession assigned devices", "", "GWS-PRES-002")
        owner = [d.get("phoneNumber") for d in Agent(gws_agent1).list_my_devices(fields="*").items("devices")]
        require(
            str(taken[0]) in owner,
            "a refused StartContactCenterSession took another user's device",
            f"agent1's devices: {owner}",
            "GWS-PRES-002",
            "GWS-GEN-010",
        )

    # Start on the place of the device: assigned again and logged in.
    agent.start_contact_center_session(["voice"], place=number)
    inbox.expect(DEVICES, about_device, "DeviceStateChanged for the device logged in")
    require(
        my_devices() == [device_id],
        "StartContactCenterSession did not assign the place's device",
        f"GET /me/devices lists {my_devices()}",
        "GWS-PRES-001",
    )

    # The optional attributes are accepted.
    agent.end_contact_center_session()
    inbox.expect(DEVICES, about_device, "DeviceStateChanged for the device logged out")
    agent.start_contact_center_session(["voice"], place=number, login_code=number, queue="7001")
    inbox.expect(DEVICES, about_device, "DeviceStateChanged for the device logged in")
    require(
        my_devices() == [device_id],
        "StartContactCenterSession with loginCode and queue assigned nothing",
        "",
        "GWS-PRES-003",
    )
    inbox.assert_quiet()


@pytest.mark.requirement("GWS-PRES-005")
def test_end_contact_center_session_invalidates_the_http_session(
    gws_new_user: Callable[..., NewUser], gws_settings: Settings, gws_recorder: Recorder
) -> None:
    user = gws_new_user()
    client = user.client()
    agent = Agent(client)
    agent.get_me()  # the Basic sign-in that opens the session (E88)
    notifications = Bayeux(gws_settings, None)  # a browser's CometD client: the session cookie and nothing else
    try:
        with cookie_only(gws_settings, gws_recorder, client) as browser:
            if not client.cookies or not me_as_sent(browser).ok:
                not_applicable(
                    "the server opens no cookie session (a request with only its cookie is not served; GWS-AUTH-005 "
                    "judges that)"
                )
            notifications.http.cookies.update(client.cookies)
            on_cookie = _cookie_handshake(notifications)
            agent.end_contact_center_session()
            after = me_as_sent(browser)
        require(
            after.response.status_code == 401 or after.status_code not in (0, None),
            "a request with only the session cookie is served after EndContactCenterSession",
            f"HTTP {after.response.status_code}, statusCode {after.status_code}: EndContactCenterSession invalidates "
            "the HTTP session, so its cookie no longer authenticates.",
            "GWS-PRES-005",
            evidence=[after.exchange],
        )
        if on_cookie:
            # E104: the CometD session that rode on the cookie ends with the HTTP session.
            response, replies = notifications.send(
                "/meta/connect", connectionType="long-polling", advice={"timeout": 0}
            )
            reply = next((m for m in replies if m.get("channel") == "/meta/connect"), None)
            require(
                response.status_code == 401 or (reply is not None and reply.get("successful") is False),
                "a CometD session on the session cookie is still served after EndContactCenterSession",
                f"HTTP {response.status_code}, reply {reply!r}: a /meta/connect carrying only the invalidated cookie "
                "is refused (401, or its clientId unknown), as every REST request with it is (E104).",
                "GWS-PRES-005",
            )
    finally:
        notifications.close()


def _cookie_handshake(session: Bayeux) -> bool:
    """A CometD session opened with the session cookie alone (False: the endpoint does not take the cookie)."""
    _, replies = session.send(
        "/meta/handshake", version="1.0", minimumVersion="1.0", supportedConnectionTypes=["long-polling"]
    )
    reply = next((m for m in replies if m.get("channel") == "/meta/handshake"), {})
    if reply.get("successful") is not True or not isinstance(reply.get("clientId"), str):
        return False
    session.client_id = reply["clientId"]
    _, replies = session.send("/meta/connect", connectionType="long-polling", advice={"timeout": 0})
    return any(m.get("channel") == "/meta/connect" and m.get("successful") is True for m in replies)
