"""Agent state through the reference server's REST routes: /me/channels, POST /me, POST /devices/{id}
(Do Not Disturb, forwarding) and the presence session (Start/EndContactCenterSession), with the
/v2/me/channels and /v2/me/devices messages each causes. Replies are checked against spec/openapi.yaml,
messages against spec/notifications (reference_support.drained)."""

from __future__ import annotations

from typing import Any

import pytest
from reference_support import BASE_URL, CREDENTIALS, DEVICE_ID, USER_ID, Api, drained, open_api

from reference_impl.http import SESSION_COOKIE

pytestmark = pytest.mark.anyio

CHANNELS = "/v2/me/channels"
DEVICES = "/v2/me/devices"
OUT_TO_LUNCH = {
    "id": "5C1E7A52-8D0B-4F3A-9B7E-2A6C4D1F0E93",
    "displayName": "Not Ready - Out to lunch",
    "state": "NotReady",
    "reason": "OutToLunch",
}
READY = {"id": "9430250E-0A1B-421F-B372-F29E69366DED", "displayName": "Ready", "state": "Ready"}
NOT_READY = {"id": "900D55CC-2BB0-431F-8BF9-D3525B383BE6", "displayName": "Not Ready", "state": "NotReady"}
OFFLINE = {"id": "0F7F5003-EF26-4D13-A6Ef-D0C7EC819BEB", "displayName": "Offline", "state": "Logout"}


async def channel_states(api: Api, who: str = "agent1") -> dict[str, dict[str, Any]]:
    channels = (await api.ok(who, "GET", "/me/channels"))["channels"]
    return {channel["channel"]: channel["userState"] for channel in channels}


async def my_device(api: Api, who: str = "agent1") -> dict[str, Any]:
    device: dict[str, Any] = (await api.ok(who, "GET", "/devices/{id}", id=DEVICE_ID[who]))["device"]
    return device


# -- reading channels ------------------------------------------------------------------------------------


async def test_channels_are_listed_as_objects_and_read_by_name(api: Api) -> None:
    channels = (await api.ok("agent1", "GET", "/me/channels"))["channels"]
    assert [c["channel"] for c in channels] == ["voice", "email", "chat"]
    assert all(c["userState"] == NOT_READY and c["dndState"] == "Off" for c in channels)
    narrowed = (await api.ok("agent1", "GET", "/me/channels", params={"fields": "userState"}))["channels"]
    assert all(set(c) == {"channel", "userState"} for c in narrowed)
    email = (await api.ok("agent1", "GET", "/me/channels/{channel}", channel="email"))["channel"]
    assert email == {"channel": "email", "userState": NOT_READY, "dndState": "Off"}


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_channel_the_user_lacks_is_not_found(api: Api, method: str) -> None:
    body = {"operationName": "Ready"} if method == "POST" else None
    response = await api.call("agent1", method, "/me/channels/{channel}", channel="twitter", json_body=body)
    assert (response.status_code, response.json()["statusCode"]) == (404, 6)


# -- setting one channel ---------------------------------------------------------------------------------

# (channel, operation, the channel's userState after it, whether the devices follow)
ONE_CHANNEL = [
    ("email", "Ready", READY, False),
    ("chat", "NotReady", NOT_READY, False),
    ("chat", "OutToLunch", OUT_TO_LUNCH, False),
    ("voice", "Ready", READY, True),
]


@pytest.mark.parametrize(("channel", "operation", "expected", "devices_follow"), ONE_CHANNEL)
async def test_a_channel_operation_sets_only_that_channel(
    api: Api, channel: str, operation: str, expected: dict[str, Any], devices_follow: bool
) -> None:
    inbox = api.listen("agent1")
    before = await channel_states(api)
    await api.ok("agent1", "POST", "/me/channels/{channel}", channel=channel, json_body={"operationName": operation})
    after = await channel_states(api)
    assert after == {**before, channel: expected}
    messages = drained(inbox)
    assert [[c["channel"] for c in m["channels"]] for m in messages[CHANNELS]] == [[channel]]
    assert messages[CHANNELS][0]["channels"][0]["userState"] == expected
    device_state = (await my_device(api))["userState"]
    if devices_follow:
        assert device_state == expected and messages[DEVICES][0]["devices"][0]["userState"] == expected
    else:
        assert device_state == NOT_READY and DEVICES not in messages


async def test_channel_do_not_disturb_toggles_and_refuses_a_repeat(api: Api) -> None:
    inbox = api.listen("agent1")
    on = {"operationName": "DoNotDisturbOn"}
    await api.ok("agent1", "POST", "/me/channels/{channel}", channel="chat", json_body=on)
    (message,) = drained(inbox)[CHANNELS]
    assert message["channels"] == [{"channel": "chat", "userState": NOT_READY, "dndState": "On"}]
    response = await api.call("agent1", "POST", "/me/channels/{channel}", channel="chat", json_body=on)
    assert (response.status_code, response.json()["statusCode"]) == (400, 2)
    assert drained(inbox) == {}
    channel = (await api.ok("agent1", "GET", "/me/channels/{channel}", channel="chat"))["channel"]
    assert channel["dndState"] == "On"
    assert (await api.ok("agent1", "GET", "/me/channels/{channel}", channel="email"))["channel"]["dndState"] == "Off"


async def test_an_undefined_agent_state_is_refused_on_a_channel(api: Api) -> None:
    inbox = api.listen("agent1")
    body = {"operationName": "Coffee"}
    response = await api.call("agent1", "POST", "/me/channels/{channel}", channel="email", json_body=body)
    assert (response.status_code, response.json()["statusCode"]) == (400, 2)
    assert drained(inbox) == {}


# -- /me: every channel and device -------------------------------------------------------------------------

# (operation, every channel's and device's userState after it, their DND flag)
WHOLE_AGENT = [
    ("Ready", READY, "Off"),
    ("OutToLunch", OUT_TO_LUNCH, "Off"),
    ("DoNotDisturbOn", NOT_READY, "On"),
]


@pytest.mark.parametrize(("operation", "expected", "dnd"), WHOLE_AGENT)
async def test_an_operation_on_me_sets_every_channel_and_device(
    api: Api, operation: str, expected: dict[str, Any], dnd: str
) -> None:
    inbox = api.listen("agent1")
    await api.ok("agent1", "POST", "/me", json_body={"operationName": operation})
    assert set(map(str, (await channel_states(api)).values())) == {str(expected)}
    device = await my_device(api)
    assert (device["userState"], device["doNotDisturb"]) == (expected, dnd)
    messages = drained(inbox)
    assert [c["channel"] for c in messages[CHANNELS][0]["channels"]] == ["voice", "email", "chat"]
    assert all(c["dndState"] == dnd for c in messages[CHANNELS][0]["channels"])
    assert messages[DEVICES][0]["devices"][0]["userState"] == expected
    user = (await api.ok("agent1", "GET", "/me"))["user"]
    assert user["doNotDisturb"] == dnd


# -- devices: Do Not Disturb and forwarding, reflected in capabilities --------------------------------------

# (operations in order, the device's capabilities after them, doNotDisturb, forwardTo)
DEVICE_OPERATIONS = [
    ([], ["DoNotDisturbOn", "ForwardCallsOn"], "Off", None),
    ([{"operationName": "DoNotDisturbOn"}], ["DoNotDisturbOff", "ForwardCallsOn"], "On", None),
    (
        [{"operationName": "ForwardCallsOn", "destination": {"phoneNumber": "5003"}}],
        ["DoNotDisturbOn", "ForwardCallsOff"],
        "Off",
        "5003",
    ),
    (
        [{"operationName": "ForwardCallsOn", "destination": "+16505550101"}, {"operationName": "ForwardCallsOff"}],
        ["DoNotDisturbOn", "ForwardCallsOn"],
        "Off",
        None,
    ),
]


@pytest.mark.parametrize(("operations", "capabilities", "dnd", "forward_to"), DEVICE_OPERATIONS)
async def test_device_operations_show_in_the_device_and_its_messages(
    api: Api, operations: list[dict[str, Any]], capabilities: list[str], dnd: str, forward_to: str | None
) -> None:
    inbox = api.listen("agent1")
    for body in operations:
        await api.ok("agent1", "POST", "/devices/{id}", id=DEVICE_ID["agent1"], json_body=body)
    device = await my_device(api)
    assert (sorted(device["capabilities"]), device["doNotDisturb"], device.get("forwardTo")) == (
        capabilities,
        dnd,
        forward_to,
    )
    messages = drained(inbox).get(DEVICES, [])
    assert len(messages) == len(operations)
    if messages:
        last = messages[-1]["devices"][0]
        assert (last["doNotDisturb"], last.get("forwardTo")) == (dnd, forward_to)
    assert (await api.ok("agent1", "GET", "/me/devices/{id}", id=DEVICE_ID["agent1"]))["device"] == device


# (the body, the statusCode it gets); nothing changes and nothing is published
DEVICE_REFUSALS = [
    ({"operationName": "DoNotDisturbOff"}, 2),  # not on
    ({"operationName": "ForwardCallsOff"}, 2),  # not forwarding
    ({"operationName": "ForwardCallsOn"}, 1),
    ({"operationName": "ForwardCallsOn", "destination": "5001"}, 2),  # itself
    ({"operationName": "ForwardCallsOn", "destination": "somewhere"}, 2),
    ({"operationName": "Ready"}, 2),  # not a device operation
]


@pytest.mark.parametrize(("body", "status_code"), DEVICE_REFUSALS, ids=str)
async def test_device_refusals_change_nothing(api: Api, body: dict[str, Any], status_code: int) -> None:
    inbox = api.listen("agent1")
    before = await my_device(api)
    response = await api.call("agent1", "POST", "/devices/{id}", id=DEVICE_ID["agent1"], json_body=body)
    assert (response.status_code, response.json()["statusCode"]) == (400, status_code)
    assert await my_device(api) == before
    assert drained(inbox) == {}


async def test_an_agent_cannot_switch_another_agents_device(api: Api) -> None:
    inbox = api.listen("agent2")
    body = {"operationName": "ForwardCallsOn", "destination": "5003"}
    response = await api.call("agent1", "POST", "/devices/{id}", id=DEVICE_ID["agent2"], json_body=body)
    assert (response.status_code, response.json()["statusCode"]) == (403, 5)
    assert "forwardTo" not in await my_device(api, "agent2")
    assert drained(inbox) == {}


# -- presence: StartContactCenterSession / EndContactCenterSession ------------------------------------------

START = {"operationName": "StartContactCenterSession", "channels": ["voice", "email", "chat"]}
END = {"operationName": "EndContactCenterSession"}


async def test_end_logs_out_and_unassigns_the_devices_and_start_gives_them_back(api: Api) -> None:
    inbox = api.listen("agent1")
    await api.ok("agent1", "POST", "/me", json_body={"operationName": "Ready"})
    drained(inbox)

    await api.ok("agent1", "POST", "/me", json_body=END)
    messages = drained(inbox)
    (ended,) = messages[DEVICES][0]["devices"]
    assert (ended["id"], ended["deviceState"], ended["userState"]) == (DEVICE_ID["agent1"], "Inactive", OFFLINE)
    assert all(c["userState"] == OFFLINE for c in messages[CHANNELS][0]["channels"])
    assert (await api.ok("agent1", "GET", "/me/devices"))["uris"] == []
    assert (await api.ok("admin", "GET", "/users/{id}/devices", id=USER_ID["agent1"]))["uris"] == []
    device = (await api.ok("admin", "GET", "/devices/{id}", id=DEVICE_ID["agent1"]))["device"]
    assert (device["deviceState"], device["capabilities"]) == ("Inactive", [])
    response = await api.call("agent1", "GET", "/devices/{id}", id=DEVICE_ID["agent1"])
    assert response.json()["statusCode"] == 5  # no longer this agent's device

    await api.ok("agent1", "POST", "/me", json_body=START)
    messages = drained(inbox)
    assert messages[DEVICES][-1]["devices"][0]["deviceState"] == "Active"
    assert set(map(str, (await channel_states(api)).values())) == {str(NOT_READY)}
    device = await my_device(api)
    assert (device["deviceState"], device["userState"]) == ("Active", NOT_READY)
    assert (await api.ok("agent1", "GET", "/me/devices"))["uris"] == [
        f"{BASE_URL}/api/v2/devices/{DEVICE_ID['agent1']}"
    ]


async def test_start_on_a_working_agent_changes_nothing(api: Api) -> None:
    await api.ok("agent1", "POST", "/me", json_body={"operationName": "Ready"})
    inbox = api.listen("agent1")
    await api.ok("agent1", "POST", "/me", json_body={**START, "loginCode": "1001", "queue": "8001"})
    assert drained(inbox) == {}
    assert set(map(str, (await channel_states(api)).values())) == {str(READY)}


async def test_a_place_is_named_by_its_device_and_cannot_be_taken_from_its_user(api: Api) -> None:
    snapshot = api.store.devices[DEVICE_ID["agent2"]].user_id
    response = await api.call("agent1", "POST", "/me", json_body={**START, "place": "5002"})
    assert (response.status_code, response.json()["statusCode"]) == (400, 2)
    assert api.store.devices[DEVICE_ID["agent2"]].user_id == snapshot

    await api.ok("agent2", "POST", "/me", json_body=END)
    await api.ok("agent1", "POST", "/me", json_body={**START, "place": "5002"})
    uris = (await api.ok("agent1", "GET", "/me/devices"))["uris"]
    assert sorted(uris) == sorted(f"{BASE_URL}/api/v2/devices/{DEVICE_ID[who]}" for who in ("agent1", "agent2"))
    response = await api.call("agent2", "POST", "/me", json_body=START)  # its own place is agent1's now
    assert (response.status_code, response.json()["statusCode"]) == (400, 2)


@pytest.mark.parametrize(
    "body",
    [
        {**START, "place": "9999"},
        {**START, "channels": ["voice", "twitter"]},
        {"operationName": START["operationName"]},
    ],
    ids=["unknown place", "unknown channel", "no channels"],
)
async def test_start_refusals_change_nothing(api: Api, body: dict[str, Any]) -> None:
    await api.ok("agent1", "POST", "/me", json_body=END)
    inbox = api.listen("agent1")
    response = await api.call("agent1", "POST", "/me", json_body=body)
    assert response.json()["statusCode"] in (1, 2)
    assert drained(inbox) == {}
    assert (await api.ok("agent1", "GET", "/me/devices"))["uris"] == []


async def test_end_is_refused_while_a_call_is_up(api: Api) -> None:
    dial = {"operationName": "Dial", "destination": "5002"}
    await api.ok("agent1", "POST", "/devices/{id}/calls", id=DEVICE_ID["agent1"], json_body=dial)
    inbox = api.listen("agent1")
    response = await api.call("agent1", "POST", "/me", json_body=END)
    assert (response.status_code, response.json()["statusCode"]) == (400, 2)
    assert drained(inbox) == {}
    assert (await my_device(api))["deviceState"] == "Active"


async def test_end_invalidates_the_session_cookie() -> None:
    async with open_api(csrf=True) as api:
        await api.ok("agent1", "GET", "/me")
        cookie = {"Cookie": f"{SESSION_COOKIE}={api.client.cookies[SESSION_COOKIE]}"}
        api.client.cookies.clear()
        assert (await api.call(None, "GET", "/me", headers=cookie)).status_code == 200

        await api.ok("agent1", "POST", "/me", json_body=END, headers=cookie)
        assert (await api.call(None, "GET", "/me", headers=cookie)).status_code == 401
        assert (await api.call(None, "GET", "/me", auth=CREDENTIALS["agent1"])).status_code == 200
