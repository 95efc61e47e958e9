"""Steps and readings the scenario modules share: who an account is, what its messages say.

Nothing here asserts a requirement by itself: these are the words scenarios are written in
(``Me.read(client)``, ``expect_devices(inbox, ids, ...)``, ``should(...)``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance import findings
from conformance.api import Agent, Reply, UnauthenticatedClient, check
from conformance.client import GwsClient, Recorder
from conformance.config import Credentials, Settings
from conformance.failures import Level, Violation
from conformance.inbox import Inbox

__all__ = [
    "CHANNELS",
    "DEVICES",
    "ME",
    "USERS",
    "Me",
    "cookie_only",
    "definition_for",
    "expect_channels",
    "expect_devices",
    "fail",
    "login",
    "matches_definition",
    "me_as_sent",
    "should",
    "state_of",
]

DEVICES = "/v2/me/devices"
CHANNELS = "/v2/me/channels"
ME = "/v2/me"
USERS = "/v2/users"


def fail(title: str, message: str, *ids: str, evidence: Iterable[Any] = ()) -> Violation:
    """A MUST violation of ``ids`` (default: the running test's requirements)."""
    return Violation(
        title=title,
        message=message,
        requirement_ids=ids or findings.requirement_ids(),
        level=Level.MUST,
        evidence=list(evidence),
        check="scenario",
    )


def should(condition: bool, title: str, message: str, *ids: str, evidence: Iterable[Any] = ()) -> None:
    """Record a SHOULD violation of ``ids`` unless ``condition`` holds; the scenario goes on."""
    if not condition:
        findings.warn(
            Violation(
                title=title,
                message=message,
                requirement_ids=ids,
                level=Level.SHOULD,
                evidence=list(evidence),
                check="scenario",
            )
        )


def require(condition: bool, title: str, message: str, *ids: str, evidence: Iterable[Any] = ()) -> None:
    """Raise a MUST violation of ``ids`` unless ``condition`` holds."""
    if not condition:
        raise fail(title, message, *ids, evidence=evidence)


@contextlib.contextmanager
def login(
    settings: Settings,
    recorder: Recorder,
    user_name: str,
    password: str,
    *,
    valid: bool = True,
    charset: str = "utf-8",
) -> Iterator[GwsClient]:
    """A session of a user the scenario knows the password of (a created user, a changed password);
    ``valid=False``: a password that must no longer work (the checks then expect a 401); ``charset``: how the
    Basic credentials are encoded (E89)."""
    recorder.redactor.add_secret(password)
    kind = GwsClient if valid else UnauthenticatedClient
    client = kind(settings, Credentials(role="", user=user_name, password=password), recorder=recorder, charset=charset)
    try:
        yield client
    finally:
        client.close()


@contextlib.contextmanager
def cookie_only(settings: Settings, recorder: Recorder, signed_in: GwsClient) -> Iterator[GwsClient]:
    """A client that sends no credentials, only the cookies ``signed_in`` was given: what a browser client sends
    once it has signed in with Basic (E88)."""
    client = GwsClient(settings, Credentials(role="", user=signed_in.user.user, password=None), recorder=recorder)
    client.cookies.update(signed_in.cookies)
    try:
        yield client
    finally:
        client.close()


def me_as_sent(client: GwsClient) -> Reply:
    """GET /me with what the client sends to authenticate (a session cookie alone, credentials in another charset),
    through the checks every reply passes. A server that does not take it answers as to missing or wrong
    credentials: a 401 is judged as such an answer, not as a mismatch of statusCode and HTTP status."""
    response = client.get("/me", expect_json=False)
    reply = Reply("GET /me", response)
    check(reply, credentials_valid=response.status_code != 401)
    return reply


def state_of(item: Mapping[str, Any] | None) -> dict[str, Any]:
    """The userState of a device or channel ({} when absent)."""
    value = item.get("userState") if isinstance(item, Mapping) else None
    return value if isinstance(value, dict) else {}


@dataclass
class Me:
    """An account as GET /me?subresources=* describes it: its id, devices and channels."""

    client: GwsClient
    user: dict[str, Any]
    reply: Reply
    agent: Agent = field(init=False)

    def __post_init__(self) -> None:
        self.agent = Agent(self.client)

    @classmethod
    def read(cls, client: GwsClient) -> Me:
        reply = Agent(client).get_me(subresources="*")
        user = reply.get("user")
        return cls(client, user if isinstance(user, dict) else {}, reply)

    def refresh(self) -> Me:
        return Me.read(self.client)

    @property
    def id(self) -> str:
        return str(self.user.get("id", ""))

    @property
    def user_name(self) -> str:
        return str(self.user.get("userName", ""))

    @property
    def devices(self) -> list[dict[str, Any]]:
        return [d for d in self.user.get("devices", []) if isinstance(d, dict)]

    @property
    def channels(self) -> list[dict[str, Any]]:
        return [c for c in self.user.get("channels", []) if isinstance(c, dict)]

    @property
    def device_ids(self) -> list[str]:
        return [str(d["id"]) for d in self.devices if "id" in d]

    @property
    def channel_names(self) -> list[str]:
        return [str(c["channel"]) for c in self.channels if "channel" in c]

    def device(self, device_id: str) -> dict[str, Any]:
        return next((d for d in self.devices if d.get("id") == device_id), {})

    def channel(self, name: str) -> dict[str, Any]:
        return next((c for c in self.channels if c.get("channel") == name), {})

    def media_channels(self) -> list[str]:
        """The channels other than voice (voice is the devices seen as a channel)."""
        return [name for name in self.channel_names if name != "voice"]


# -- agent-state definitions --------------------------------------------------------------------------


def definition_for(
    definitions: Iterable[Mapping[str, Any]], state: str, work_mode: str | None = None, reason: str | None = None
) -> list[Mapping[str, Any]]:
    """The definitions of /settings/agent-states whose state, workMode and reason are these."""
    return [
        d for d in definitions if (d.get("state"), d.get("workMode"), d.get("reason")) == (state, work_mode, reason)
    ]


def matches_definition(user_state: Mapping[str, Any], definitions: Iterable[Mapping[str, Any]]) -> bool:
    """A userState names the id and displayName of a definition with its own state/workMode/reason (AGST-006)."""
    candidates = definition_for(
        definitions, user_state.get("state", ""), user_state.get("workMode"), user_state.get("reason")
    )
    if not candidates:
        return True  # no definition matches: nothing to add
    return any(
        user_state.get("id") == d.get("id") and user_state.get("displayName") == d.get("displayName")
        for d in candidates
    )


# -- claiming state messages ------------------------------------------------------------------------------

ItemCheck = Callable[[dict[str, Any]], bool]


def expect_devices(
    inbox: Inbox, device_ids: Iterable[str], check: ItemCheck, description: str
) -> dict[str, dict[str, Any]]:
    """Claim DeviceStateChanged messages until each of ``device_ids`` was reported satisfying ``check``."""
    pending = set(device_ids)
    reported: dict[str, dict[str, Any]] = {}
    while pending:
        record = inbox.expect(
            DEVICES,
            lambda data: any(d.get("id") in pending and check(d) for d in data.get("devices", [])),
            f"DeviceStateChanged: {description}",
        )
        should(
            "messageType" in record.data,
            "DeviceStateChanged names its type in messageTypeName, not messageType",
            f"{record.data!r}",
            "GWS-NOTIF-003",
        )
        for device in record.data.get("devices", []):
            should(
                "doNotDisturb" in device,
                "A device of a DeviceStateChanged message has no doNotDisturb",
                f"Device {device.get('id')} in {record.data!r}",
                "GWS-DEV-014",
            )
            if device.get("id") in pending and check(device):
                pending.discard(device["id"])
                reported[device["id"]] = device
    return reported


def expect_channels(
    inbox: Inbox, names: Iterable[str], check: ItemCheck, description: str
) -> dict[str, dict[str, Any]]:
    """Claim ChannelStateChanged messages until each channel of ``names`` was reported satisfying ``check``.

    An item without a channel name (the seed's DND sample) stands for the one channel awaited when
    exactly one is; naming the channel is a SHOULD (GWS-AGST-014).
    """
    pending = set(names)

    def named(item: dict[str, Any], items: list[Any]) -> str | None:
        if "channel" in item:
            return str(item["channel"])
        return next(iter(pending)) if len(pending) == 1 and len(items) == 1 else None

    reported: dict[str, dict[str, Any]] = {}
    while pending:
        record = inbox.expect(
            CHANNELS,
            lambda data: any(named(c, data["channels"]) in pending and check(c) for c in data.get("channels", [])),
            f"ChannelStateChanged: {description}",
        )
        items = record.data.get("channels", [])
        for item in items:
            should(
                "channel" in item,
                "A ChannelStateChanged item does not name its channel",
                f"{record.data!r}",
                "GWS-AGST-014",
            )
            name = named(item, items)
            if name in pending and check(item):
                pending.discard(name)
                reported[name] = item
    return reported
