"""Group 1 — agent state: Ready/NotReady everywhere and per channel, custom agent states, workMode
rules, Do Not Disturb on /me, per device and per channel, call forwarding.

Every scenario holds agent1 (``gws_exclusive``: with a pool, whichever agent is free plays agent1, its data read
through the casting), brings it to the baseline (NotReady, Do Not Disturb
off, no forwarding) claiming the messages that causes, opens an inbox, and checks each step's reply,
the resulting reads and the messages it causes on /v2/me/devices and /v2/me/channels — and that
nothing else arrives there. Each scenario ends at the baseline; a failed one is put back by its
fixture before the account is released.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conformance import casting
from conformance.api import ANY, Admin, Channel, Device, Session
from conformance.client import GwsClient
from conformance.discovery import Discovery
from conformance.inbox import Inbox
from conformance.outcomes import not_applicable
from conformance.suite.scenarios.support import (
    CHANNELS,
    DEVICES,
    Me,
    expect_channels,
    expect_devices,
    matches_definition,
    require,
    should,
    state_of,
)

# With a pool, whichever agent is free plays agent1 (conformance.casting): each test is then a unit of its own.
pytestmark = pytest.mark.recast

# The five built-in definitions (Settings > Agent States; GWS-SET-006): operationName -> (state, workMode).
DEFAULT_STATES = {
    "AfterCallWork": ("NotReady", "AfterCallWork"),
    "AuxWork": ("NotReady", "AuxWork"),
    "NotReady": ("NotReady", None),
    "Offline": ("Logout", None),
    "Ready": ("Ready", None),
}


class Scene:
    """agent1 under test: its account, what the target offers, its inbox and the definitions."""

    def __init__(self, me: Me, discovery: Discovery, open_inbox: Callable[..., Inbox]) -> None:
        self.me = me
        self.name = casting.account("agent1")  # the account playing agent1, as the evidence names it
        self.voice = discovery.feature_assigned("api-voice") and bool(me.device_ids)
        self.media = discovery.feature_assigned("api-multimedia") and bool(me.channel_names)
        self._open_inbox = open_inbox
        self.finished = False

    @property
    def agent(self) -> Any:
        return self.me.agent

    @property
    def topics(self) -> list[str]:
        return [topic for topic, on in ((DEVICES, self.voice), (CHANNELS, self.media)) if on]

    def inbox(self) -> Inbox:
        return self._open_inbox("agent1", topics=self.topics)

    def definitions(self) -> list[dict[str, Any]]:
        settings = Session(self.me.client).list_agent_states().get("settings", [])
        return [d for d in settings if isinstance(d, dict)]

    # -- the baseline ------------------------------------------------------------------------------

    def settle(self) -> None:
        """NotReady everywhere, Do Not Disturb off, no forwarding; the messages this causes are claimed."""
        me = self.me.refresh()
        inbox = self.inbox()
        if any(d.get("doNotDisturb") == "On" for d in me.devices) or any(
            c.get("dndState") == "On" for c in me.channels
        ):
            self.agent.dnd_off()
            self.expect_everywhere(
                inbox, lambda item: item.get("doNotDisturb", item.get("dndState")) != "On", "Do Not Disturb off"
            )
        for device in me.devices:
            if self.voice and device.get("forwardTo"):
                Device(me.client, device["id"]).forward_calls_off()
                expect_devices(inbox, [device["id"]], lambda d: "forwardTo" not in d, "forwarding off")
        if not all(_plain(x, "NotReady") for x in [*me.devices, *me.channels]):
            self.agent.not_ready()
            self.expect_everywhere(inbox, lambda item: _plain(item, "NotReady"), "NotReady")
        self.me = me.refresh()

    def expect_everywhere(self, inbox: Inbox, check: Callable[[dict[str, Any]], bool], description: str) -> None:
        """A /me operation: every device and every channel reported satisfying ``check``."""
        if self.voice:
            expect_devices(inbox, self.me.device_ids, check, f"every device {description}")
        if self.media:
            expect_channels(inbox, self.me.channel_names, check, f"every channel {description}")

    def restore(self) -> None:
        """Best effort after a failed step: back to the baseline, without judging anything."""
        agent = self.agent
        agent.dnd_off(expect=ANY)
        for device_id in self.me.device_ids:
            Device(self.me.client, device_id).forward_calls_off(expect=ANY)
        agent.not_ready(expect=ANY)


def _dnd_is(flag: str) -> Callable[[dict[str, Any]], bool]:
    return lambda item: item.get("dndState") == flag


def _plain(item: dict[str, Any], state: str) -> bool:
    user_state = state_of(item)
    return user_state.get("state") == state and not user_state.get("workMode") and not user_state.get("reason")


@pytest.fixture
def scene(
    gws_exclusive: Callable[..., None],
    gws_client: Callable[[str], GwsClient],
    gws_discovery: Discovery,
    gws_inbox: Callable[..., Inbox],
) -> Iterator[Scene]:
    gws_exclusive("agent1")
    scene = Scene(Me.read(gws_client("agent1")), gws_discovery, gws_inbox)
    if not scene.voice and not scene.media:
        not_applicable(f"{scene.name} has neither devices (api-voice) nor channels (api-multimedia)")
    scene.settle()
    yield scene
    if not scene.finished:
        scene.restore()


def _assert_user_state(
    item: dict[str, Any],
    state: str,
    definitions: list[dict[str, Any]],
    where: str,
    *,
    work_mode: str | None = None,
    reason: str | None = None,
) -> None:
    user_state = state_of(item)
    require(
        user_state.get("state") == state
        and user_state.get("workMode") == work_mode
        and user_state.get("reason") == reason,
        f"{where}: userState is not {state}/{work_mode}/{reason}",
        f"{where} has userState {user_state!r}; expected state {state!r}, workMode {work_mode!r}, reason {reason!r}.",
    )
    require(
        matches_definition(user_state, definitions),
        f"{where}: userState does not name its agent-state definition",
        f"userState {user_state!r} matches a definition of /settings/agent-states by state, workMode and "
        f"reason, and must then carry that definition's id and displayName.",
        "GWS-AGST-006",
    )


# -- steps ------------------------------------------------------------------------------------------------


def step_set_everywhere(
    scene: Scene,
    inbox: Inbox,
    definitions: list[dict[str, Any]],
    state: str,
    *,
    work_mode: str | None = None,
    reason: str | None = None,
    custom: str | None = None,
) -> None:
    """POST /me Ready / NotReady / a custom state: every device and channel reports it, with its definition."""
    agent = scene.agent
    if custom is not None:
        agent.set_agent_state(custom)
    elif state == "Ready":
        agent.ready(work_mode=work_mode)
    else:
        agent.not_ready(work_mode=work_mode)

    def wanted(item: dict[str, Any]) -> bool:
        user_state = state_of(item)
        return (user_state.get("state"), user_state.get("workMode"), user_state.get("reason")) == (
            state,
            work_mode,
            reason,
        )

    if scene.voice:
        for device_id, device in expect_devices(inbox, scene.me.device_ids, wanted, f"{state}").items():
            _assert_user_state(
                device, state, definitions, f"DeviceStateChanged device {device_id}", work_mode=work_mode, reason=reason
            )
    if scene.media:
        for name, channel in expect_channels(inbox, scene.me.channel_names, wanted, f"{state}").items():
            _assert_user_state(
                channel, state, definitions, f"ChannelStateChanged channel {name}", work_mode=work_mode, reason=reason
            )


def step_reads_show(
    scene: Scene,
    definitions: list[dict[str, Any]],
    state: str,
    *,
    work_mode: str | None = None,
    reason: str | None = None,
) -> None:
    """GET /me?subresources=*, /me/devices(/{id}), /me/channels(/{channel}) all show the state."""
    me = scene.me.refresh()
    for device in me.devices if scene.voice else []:
        _assert_user_state(
            device,
            state,
            definitions,
            f"GET /me?subresources=* device {device.get('id')}",
            work_mode=work_mode,
            reason=reason,
        )
    for channel in me.channels if scene.media else []:
        _assert_user_state(
            channel,
            state,
            definitions,
            f"GET /me?subresources=* channel {channel.get('channel')}",
            work_mode=work_mode,
            reason=reason,
        )
    agent = scene.agent
    if scene.voice:
        listed = agent.list_my_devices()
        require(
            len(listed.uris()) == len(me.device_ids),
            "GET /me/devices does not list the user's devices",
            f"uris {listed.uris()} for devices {me.device_ids}",
            "GWS-AGST-002",
            evidence=[listed.exchange],
        )
        for device in agent.list_my_devices(fields="*").items("devices"):
            _assert_user_state(
                device,
                state,
                definitions,
                f"GET /me/devices?fields=* device {device.get('id')}",
                work_mode=work_mode,
                reason=reason,
            )
        one = agent.get_my_device(me.device_ids[0]).get("device", {})
        _assert_user_state(one, state, definitions, "GET /me/devices/{id}", work_mode=work_mode, reason=reason)
    if scene.media:
        channels = agent.list_my_channels().items("channels")
        require(
            sorted(c.get("channel", "") for c in channels) == sorted(me.channel_names),
            "GET /me/channels does not name every channel",
            f"{channels!r} for {me.channel_names}",
            "GWS-AGST-004",
        )
        for channel in channels:
            _assert_user_state(
                channel,
                state,
                definitions,
                f"GET /me/channels {channel.get('channel')}",
                work_mode=work_mode,
                reason=reason,
            )
        name = me.channel_names[0]
        one = Channel(me.client, name).get().get("channel", {})
        require(
            one.get("channel") == name,
            "GET /me/channels/{channel} names another channel",
            f"asked for {name}, got {one!r}",
            "GWS-AGST-005",
        )
        _assert_user_state(one, state, definitions, f"GET /me/channels/{name}", work_mode=work_mode, reason=reason)


def step_refused_work_mode(scene: Scene, inbox: Inbox) -> None:
    """Ready with a NotReady workMode is an invalid value: statusCode 2, nothing changes, nothing notified."""
    before = scene.me.refresh()
    scene.agent.ready(work_mode="AfterCallWork", expect=2)
    after = before.refresh()
    require(
        [state_of(x) for x in after.devices + after.channels]
        == [state_of(x) for x in before.devices + before.channels],
        "A refused Ready changed the agent state",
        f"before {before.user!r}\nafter {after.user!r}",
        "GWS-GEN-010",
    )


# -- scenarios -------------------------------------------------------------------------------------------


@pytest.mark.requirement(
    "GWS-NOTIF-009",  # every message it claims names messageType (conformance.habits)
    "GWS-AGST-001",
    "GWS-AGST-002",
    "GWS-AGST-003",
    "GWS-AGST-004",
    "GWS-AGST-005",
    "GWS-AGST-006",
    "GWS-AGST-007",
    "GWS-AGST-008",
    "GWS-AGST-011",
    "GWS-AGST-012",
    "GWS-AGST-013",
    "GWS-NOTIF-001",
    "GWS-NOTIF-002",
    "GWS-NOTIF-003",
    "GWS-NOTIF-004",
    "GWS-GEN-010",
    "GWS-GEN-012",
    "GWS-GEN-020",
    "GWS-NOTIF-008",
)
def test_ready_and_not_ready_on_all_channels(scene: Scene) -> None:
    definitions = scene.definitions()
    inbox = scene.inbox()
    step_set_everywhere(scene, inbox, definitions, "Ready")
    step_reads_show(scene, definitions, "Ready")
    step_set_everywhere(scene, inbox, definitions, "NotReady", work_mode="AfterCallWork")
    step_reads_show(scene, definitions, "NotReady", work_mode="AfterCallWork")
    step_refused_work_mode(scene, inbox)
    step_set_everywhere(scene, inbox, definitions, "NotReady")
    step_reads_show(scene, definitions, "NotReady")
    inbox.assert_quiet()
    scene.finished = True


@pytest.mark.feature("api-multimedia")
@pytest.mark.requirement(
    "GWS-AGST-005",
    "GWS-AGST-012",
    "GWS-AGST-013",
    "GWS-AGST-014",
    "GWS-AGST-018",
    "GWS-AGST-019",
    "GWS-AGST-025",
    "GWS-GEN-015",
)
def test_ready_and_not_ready_per_channel(scene: Scene, gws_unique: Callable[[str], str]) -> None:
    channels = scene.me.media_channels()
    if len(channels) < 2:
        not_applicable(f"{scene.name} needs two media channels besides voice; it has {channels}")
    first, second = channels[:2]
    client = scene.me.client
    definitions = scene.definitions()
    inbox = scene.inbox()

    def step_channel(name: str, state: str) -> None:
        channel = Channel(client, name)
        channel.ready() if state == "Ready" else channel.not_ready()
        reported = expect_channels(inbox, [name], lambda c: _plain(c, state), f"{name} {state}")
        _assert_user_state(reported[name], state, definitions, f"ChannelStateChanged {name}")

    def step_only(states: dict[str, str]) -> None:
        listed = {c.get("channel"): c for c in scene.agent.list_my_channels().items("channels")}
        for name, state in states.items():
            require(
                state_of(listed.get(name)).get("state") == state,
                f"channel {name} is not {state}",
                f"After setting channels one by one, GET /me/channels shows {listed.get(name)!r} for {name}; "
                f"expected {state} (only the named channel changes).",
            )

    step_channel(first, "Ready")
    step_only({first: "Ready", second: "NotReady"})
    step_channel(second, "Ready")
    step_channel(first, "NotReady")
    step_only({first: "NotReady", second: "Ready"})
    step_channel(second, "NotReady")

    missing = Channel(client, gws_unique("nochannel"))
    missing.get(expect=6)
    missing.ready(expect=6)
    inbox.assert_quiet([*scene.topics])
    scene.finished = True


@pytest.mark.requirement(
    "GWS-SET-003",
    "GWS-SET-004",
    "GWS-SET-005",
    "GWS-SET-009",
    "GWS-SET-014",
    "GWS-SET-015",
    "GWS-SET-016",
    "GWS-SET-017",
    "GWS-AGST-006",
    "GWS-AGST-009",
    "GWS-AGST-010",
    "GWS-AGST-020",
)
def test_custom_agent_state_lifecycle(scene: Scene, gws_admin: GwsClient, gws_unique: Callable[[str], str]) -> None:
    admin = Admin(gws_admin)
    name, reason = gws_unique("OutToLunch"), gws_unique("Lunch")
    display = f"Not Ready - Out to lunch ({name})"
    try:
        _custom_state_steps(scene, admin, name, reason, display)
    finally:
        admin.delete_agent_state(name, expect=ANY)


def _custom_state_steps(scene: Scene, admin: Admin, name: str, reason: str, display: str) -> None:
    # Create: a body "id" is not taken (GWS-SET-016).
    created = admin.create_agent_state(name, display, "NotReady", reason=reason, id="00000000-BOGUS")
    new_id = created.get("id")
    require(
        isinstance(new_id, str) and new_id not in ("", "00000000-BOGUS") and isinstance(created.get("uri"), str),
        "POST /settings/agent-states does not answer a new id and uri",
        f"The reply is {created.body!r}.",
        "GWS-SET-009",
        "GWS-SET-016",
        evidence=[created.exchange],
    )

    listed = Session(scene.me.client).list_agent_states()
    should(
        listed.get("key") == "operationName",
        "GET /settings/agent-states does not return key operationName",
        f"key is {listed.get('key')!r}",
        "GWS-SET-004",
        evidence=[listed.exchange],
    )
    definitions = [d for d in listed.get("settings", []) if isinstance(d, dict)]
    mine = [d for d in definitions if d.get("operationName") == name]
    require(
        len(mine) == 1
        and mine[0].get("id") == new_id
        and mine[0].get("displayName") == display
        and mine[0].get("state") == "NotReady"
        and mine[0].get("reason") == reason,
        "the created agent state is not listed as created",
        f"GET /settings/agent-states lists {mine!r} for {name}.",
        "GWS-SET-003",
        "GWS-SET-009",
        evidence=[listed.exchange],
    )
    ids = [d.get("id") for d in definitions]
    require(len(ids) == len(set(ids)), "agent states share an id", f"ids: {ids}", "GWS-SET-016")

    inbox = scene.inbox()
    # Use it on every channel and device: its id and displayName show in each userState.
    step_set_everywhere(scene, inbox, definitions, "NotReady", reason=reason, custom=name)
    step_reads_show(scene, definitions, "NotReady", reason=reason)

    # Use it on one channel only (GWS-AGST-020).
    if scene.media and len(scene.me.media_channels()) >= 2:
        first, second = scene.me.media_channels()[:2]
        step_set_everywhere(scene, inbox, definitions, "Ready")
        Channel(scene.me.client, first).set_agent_state(name)
        reported = expect_channels(inbox, [first], lambda c: state_of(c).get("reason") == reason, f"{first} {name}")
        _assert_user_state(reported[first], "NotReady", definitions, f"ChannelStateChanged {first}", reason=reason)
        others = {c.get("channel"): c for c in scene.agent.list_my_channels().items("channels")}
        require(
            state_of(others.get(second)).get("state") == "Ready",
            "a custom state set on one channel changed another",
            f"{second} is {others.get(second)!r} after {name} was set on {first}.",
            "GWS-AGST-020",
        )

    # Modify it: the list and the userState show the new displayName.
    renamed = f"{display} - Lunch!"
    admin.update_agent_state(name, displayName=renamed)
    definitions = Session(scene.me.client).list_agent_states().get("settings", [])
    changed = [d for d in definitions if d.get("operationName") == name]
    require(
        len(changed) == 1 and changed[0].get("displayName") == renamed and changed[0].get("id") == new_id,
        "PUT /settings/agent-states did not change the displayName",
        f"after PUT displayName={renamed!r}: {changed!r}",
        "GWS-SET-005",
        "GWS-SET-014",
    )
    if scene.media:
        shown = [
            state_of(c) for c in scene.agent.list_my_channels().items("channels") if state_of(c).get("reason") == reason
        ]
        require(
            bool(shown) and all(s.get("displayName") == renamed for s in shown),
            "userState does not show the definition's new displayName",
            f"channels in the custom state show {shown!r}; the definition's displayName is {renamed!r}.",
            "GWS-AGST-006",
        )

    # Delete it: gone from the list; using, changing or deleting it again is refused.
    step_set_everywhere(scene, inbox, definitions, "NotReady")
    admin.delete_agent_state(name)
    remaining = Session(scene.me.client).list_agent_states().get("settings", [])
    require(
        all(d.get("operationName") != name for d in remaining),
        "a deleted agent state is still listed",
        f"{name} is still in GET /settings/agent-states.",
        "GWS-SET-015",
    )
    admin.update_agent_state(name, displayName="gone", expect=6)
    admin.delete_agent_state(name, expect=6)
    scene.agent.set_agent_state(name, expect=2)
    if scene.media:
        Channel(scene.me.client, scene.me.channel_names[0]).set_agent_state(name, expect=2)
    inbox.assert_quiet()
    scene.finished = True


@pytest.mark.requirement("GWS-SET-006", "GWS-SET-007", "GWS-SET-008", "GWS-GEN-010")
def test_default_agent_states_refuse_modification(gws_admin: GwsClient) -> None:
    admin = Admin(gws_admin)
    before = {d.get("operationName"): d for d in admin.list_agent_states().get("settings", []) if isinstance(d, dict)}
    for operation_name, (state, work_mode) in DEFAULT_STATES.items():
        found = before.get(operation_name)
        require(
            found is not None and found.get("state") == state and found.get("workMode") == work_mode,
            f"default agent state {operation_name} is missing or different",
            f"expected state {state!r}, workMode {work_mode!r}; listed: {found!r}",
            "GWS-SET-006",
        )
    for operation_name in DEFAULT_STATES:
        for reply in (
            admin.update_agent_state(operation_name, displayName=f"{operation_name} (changed)", expect=ANY),
            admin.delete_agent_state(operation_name, expect=ANY),
        ):
            require(
                reply.status_code not in (0, None),
                f"a change of default agent state {operation_name} was accepted",
                f"{reply.operation} answered statusCode {reply.status_code}; the five defaults are read only.",
                "GWS-SET-007",
                evidence=[reply.exchange],
            )
            should(
                reply.status_code == 3,
                f"default agent state {operation_name} refused without statusCode 3",
                f"{reply.operation} answered statusCode {reply.status_code}; statusCode 3 (forbidden) is due.",
                "GWS-SET-008",
                evidence=[reply.exchange],
            )
    after = {d.get("operationName"): d for d in admin.list_agent_states().get("settings", []) if isinstance(d, dict)}
    for operation_name in DEFAULT_STATES:
        require(
            after.get(operation_name) == before.get(operation_name),
            f"default agent state {operation_name} changed",
            f"before {before.get(operation_name)!r}, after {after.get(operation_name)!r}",
            "GWS-SET-007",
            "GWS-GEN-010",
        )


@pytest.mark.requirement("GWS-SET-010", "GWS-SET-011", "GWS-SET-012", "GWS-SET-013", "GWS-GEN-004", "GWS-GEN-011")
def test_agent_state_definition_rules(gws_admin: GwsClient, gws_unique: Callable[[str], str]) -> None:
    admin = Admin(gws_admin)
    created: list[str] = []

    def attempt(
        name: str | None,
        display: str | None,
        state: str | None,
        expected: int,
        *ids: str,
        level_should: bool = False,
        **options: Any,
    ) -> None:
        reply = admin.create_agent_state(name, display, state, expect=ANY, **options)
        if reply.ok and name:
            created.append(name)
        check = should if level_should else require
        check(
            reply.status_code == expected,
            f"POST /settings/agent-states answered {reply.status_code}, expected {expected}",
            f"body {reply.exchange.request.body}: {reply.body!r}",
            *ids,
            evidence=[reply.exchange],
        )

    try:
        good, reason = gws_unique("Walkaway"), gws_unique("Walk")
        attempt(gws_unique("NoDisplay"), None, "NotReady", 1, "GWS-SET-010", "GWS-GEN-011")
        attempt(gws_unique("NoState"), "No state", None, 1, "GWS-SET-010", "GWS-GEN-011")
        attempt(None, "No name", "NotReady", 1, "GWS-SET-010", "GWS-GEN-011")
        attempt(gws_unique("Logout"), "Logged out", "Logout", 2, "GWS-SET-013")
        attempt(gws_unique("Busy"), "Busy", "Busy", 2, "GWS-SET-013")
        attempt(
            gws_unique("Mismatch"),
            "Ready after call",
            "Ready",
            2,
            "GWS-SET-012",
            level_should=True,
            # Not AfterCallWork: the scenarios above, run beside this test with a pool, expect Ready/AfterCallWork
            # refused, which a server that took this definition might then accept.
            work_mode="AuxWork",
        )
        attempt(good, "Walking", "NotReady", 0, "GWS-SET-012", work_mode="WalkAway", reason=reason)
        attempt(gws_unique("Manual"), "Manual in", "Ready", 0, "GWS-SET-012", work_mode="ManualIn")
        attempt(good, "Same name", "NotReady", 2, "GWS-SET-011")
        attempt(gws_unique("SameReason"), "Same reason", "NotReady", 2, "GWS-SET-011", reason=reason)
        for changes, expected, ids in (
            ({"workMode": "ManualIn"}, 2, ("GWS-SET-012",)),
            ({"state": "Logout"}, 2, ("GWS-SET-013",)),
        ):
            reply = admin.update_agent_state(good, expect=ANY, **changes)
            (should if "GWS-SET-012" in ids else require)(
                reply.status_code == expected,
                f"PUT /settings/agent-states {changes} answered {reply.status_code}",
                f"expected statusCode {expected}: {reply.body!r}",
                *ids,
                evidence=[reply.exchange],
            )
        kept = [d for d in admin.list_agent_states().get("settings", []) if d.get("operationName") == good]
        require(
            len(kept) == 1 and kept[0].get("workMode") == "WalkAway" and kept[0].get("state") == "NotReady",
            "a refused PUT changed the agent state",
            f"{good} now reads {kept!r}",
            "GWS-SET-013",
        )
    finally:
        for name in created:
            admin.delete_agent_state(name, expect=ANY)


@pytest.mark.requirement(
    "GWS-AGST-011",
    "GWS-AGST-012",
    "GWS-AGST-013",
    "GWS-AGST-015",
    "GWS-AGST-016",
    "GWS-DEV-007",
    "GWS-USER-013",
    "GWS-PERM-010",
)
def test_do_not_disturb_on_me(scene: Scene) -> None:
    inbox = scene.inbox()
    user = Session(scene.me.client)

    def step_dnd(on: bool) -> None:
        flag = "On" if on else "Off"
        scene.agent.dnd_on() if on else scene.agent.dnd_off()
        if scene.voice:
            expect_devices(inbox, scene.me.device_ids, lambda d: d.get("doNotDisturb") == flag, f"DND {flag}")
        if scene.media:
            expect_channels(inbox, scene.me.channel_names, lambda c: c.get("dndState") == flag, f"DND {flag}")
        me = scene.me.refresh()
        for device in me.devices if scene.voice else []:
            require(device.get("doNotDisturb") == flag, f"device DND is not {flag}", f"{device!r}", "GWS-AGST-015")
            wanted, unwanted = ("DoNotDisturbOff", "DoNotDisturbOn") if on else ("DoNotDisturbOn", "DoNotDisturbOff")
            capabilities = Device(me.client, device["id"]).get().get("device", {}).get("capabilities", [])
            require(
                wanted in capabilities and unwanted not in capabilities,
                "device capabilities do not follow Do Not Disturb",
                f"with DND {flag} the device lists {capabilities}; expected {wanted}, not {unwanted}.",
                "GWS-DEV-007",
            )
        for channel in me.channels if scene.media else []:
            require(
                channel.get("dndState") == flag,
                f"channel DND is not {flag}",
                f"{channel!r}",
                "GWS-AGST-015" if on else "GWS-AGST-016",
            )
        own = user.get_user(me.id).get("user", {})
        require(
            own.get("doNotDisturb") == flag,
            f"the user's doNotDisturb is not {flag}",
            f"GET /users/{{id}} shows doNotDisturb {own.get('doNotDisturb')!r}",
            "GWS-USER-013",
        )

    step_dnd(True)
    step_dnd(False)
    inbox.assert_quiet()
    scene.finished = True


@pytest.mark.feature("api-voice")
@pytest.mark.requirement(
    "GWS-AGST-011",
    "GWS-AGST-022",
    "GWS-DEV-007",
    "GWS-DEV-013",
    "GWS-DEV-014",
    "GWS-GEN-013",
    "GWS-GEN-010",
    "GWS-NOTIF-008",
)
def test_do_not_disturb_per_device(scene: Scene) -> None:
    if not scene.voice:
        not_applicable(f"{scene.name} has no device")
    device_id = scene.me.device_ids[0]
    device = Device(scene.me.client, device_id)
    inbox = scene.inbox()

    def step(on: bool) -> None:
        flag = "On" if on else "Off"
        device.dnd_on() if on else device.dnd_off()
        reported = expect_devices(inbox, [device_id], lambda d: d.get("doNotDisturb") == flag, f"DND {flag}")
        require(
            reported[device_id].get("deviceState") in ("Active", "Inactive") and "userState" in reported[device_id],
            "DeviceStateChanged device lacks deviceState or userState",
            f"{reported[device_id]!r}",
            "GWS-DEV-013",
        )
        shown = device.get().get("device", {})
        require(
            shown.get("doNotDisturb") == flag,
            f"GET /devices/{{id}} does not show DND {flag}",
            f"{shown!r}",
            "GWS-AGST-022",
        )
        capability = "DoNotDisturbOff" if on else "DoNotDisturbOn"
        require(
            capability in shown.get("capabilities", []),
            "device capabilities do not follow Do Not Disturb",
            f"{shown.get('capabilities')}: {capability} expected",
            "GWS-DEV-007",
        )
        others = [d for d in scene.me.refresh().devices if d.get("id") != device_id]
        require(
            all(d.get("doNotDisturb") == "Off" for d in others),
            "DND on one device changed another",
            f"{others!r}",
            "GWS-AGST-022",
        )

    step(True)
    # Not among the capabilities now: refused, nothing changes, nothing is notified.
    device.dnd_on(expect=2)
    step(False)
    device.dnd_off(expect=2)
    inbox.assert_quiet()
    scene.finished = True


@pytest.mark.feature("api-multimedia")
@pytest.mark.requirement("GWS-AGST-012", "GWS-AGST-013", "GWS-AGST-021")
def test_do_not_disturb_per_channel(scene: Scene) -> None:
    channels = scene.me.media_channels()
    if not channels:
        not_applicable(f"{scene.name} has no media channel besides voice")
    name, others = channels[0], channels[1:]
    channel = Channel(scene.me.client, name)
    inbox = scene.inbox()
    for on in (True, False):
        flag = "On" if on else "Off"
        channel.dnd_on() if on else channel.dnd_off()
        expect_channels(inbox, [name], _dnd_is(flag), f"{name} DND {flag}")
        listed = {c.get("channel"): c for c in scene.agent.list_my_channels().items("channels")}
        require(
            listed.get(name, {}).get("dndState") == flag,
            f"channel {name} does not show DND {flag}",
            f"{listed.get(name)!r}",
            "GWS-AGST-021",
        )
        require(
            all(listed.get(o, {}).get("dndState", "Off") == "Off" for o in others),
            "DND on one channel changed another",
            f"{listed!r}",
            "GWS-AGST-021",
        )
    inbox.assert_quiet()
    scene.finished = True


@pytest.mark.feature("api-voice")
@pytest.mark.requirement(
    "GWS-AGST-011",
    "GWS-AGST-023",
    "GWS-AGST-024",
    "GWS-DEV-007",
    "GWS-DEV-014",
    "GWS-GEN-011",
    "GWS-GEN-013",
)
def test_call_forwarding_on_and_off(scene: Scene, gws_discovery: Discovery) -> None:
    if not scene.voice:
        not_applicable(f"{scene.name} has no device")
    device_id = scene.me.device_ids[0]
    device = Device(scene.me.client, device_id)
    # Another agent's number (never its own: with a pool, agent2 itself may be playing agent1).
    own = {d.get("phoneNumber") for d in scene.me.devices}
    others = [
        phone
        for role in ("agent2", "agent3")
        for d in gws_discovery.me(role).get("devices", [])
        if (phone := d.get("phoneNumber")) and phone not in own
    ]
    destination = str(others[0]) if others else "+16505550100"
    inbox = scene.inbox()

    device.forward_calls_on(None, expect=1)
    device.forward_calls_on(destination)
    reported = expect_devices(
        inbox,
        [device_id],
        lambda d: d.get("forwardTo") == destination or "ForwardCallsOff" in d.get("capabilities", []),
        "forwarding on",
    )
    should(
        reported[device_id].get("forwardTo") == destination,
        "DeviceStateChanged does not show forwardTo",
        f"{reported[device_id]!r}",
        "GWS-DEV-014",
    )
    shown = device.get().get("device", {})
    require(
        shown.get("forwardTo") == destination,
        "GET /devices/{id} does not show forwardTo",
        f"forwarding to {destination}: {shown!r}",
        "GWS-AGST-023",
    )
    require(
        "ForwardCallsOff" in shown.get("capabilities", []) and "ForwardCallsOn" not in shown.get("capabilities", []),
        "device capabilities do not follow forwarding",
        f"{shown.get('capabilities')}",
        "GWS-DEV-007",
    )
    device.forward_calls_on(destination, expect=2)

    device.forward_calls_off()
    expect_devices(inbox, [device_id], lambda d: "forwardTo" not in d, "forwarding off")
    shown = device.get().get("device", {})
    require(
        "forwardTo" not in shown and "ForwardCallsOn" in shown.get("capabilities", []),
        "forwarding still shown after ForwardCallsOff",
        f"{shown!r}",
        "GWS-AGST-024",
    )
    device.forward_calls_off(expect=2)
    inbox.assert_quiet()
    scene.finished = True
