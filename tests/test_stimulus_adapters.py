"""conformance.stimulus: loading adapters, the reference adapter against a live reference server, the manual one."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from live_reference import LiveTarget, serve

from conformance.config import Settings, load_settings
from conformance.errors import ConfigError, SuiteError
from conformance.stimulus import Party, Stimulus, StimulusAdapter, StimulusContext, StimulusUnavailable, load_adapter
from conformance.stimulus.manual import ManualStimulus
from conformance.stimulus.reference import ReferenceStimulus, stimulus_url

AGENT1_ID = "53f0ad8d0e0d4111a0681f7bf586434e"  # fixtures/contact-center.yaml


class VendorStimulus(StimulusAdapter):
    name = "vendor"

    def inbound_call(self, *, from_number: str, to: Party | str) -> Stimulus:
        return self._done("inbound_call", {"from": from_number, "to": str(to)}, {"callId": "c1"})


def settings_for(base_url: str = "http://127.0.0.1:9/api/v2") -> Settings:
    return load_settings(env={"GWS_BASE_URL": base_url})


def context(
    settings: Settings, said: list[str] | None = None, recorded: list[Stimulus] | None = None
) -> StimulusContext:
    return StimulusContext(
        settings,
        say=(said.append if said is not None else print),
        record=(recorded.append if recorded is not None else (lambda s: None)),
    )


def test_none_is_no_adapter() -> None:
    assert load_adapter("none", context(settings_for())) is None


def test_built_in_and_plug_in_adapters_load_by_name() -> None:
    ctx = context(settings_for())
    assert isinstance(load_adapter("manual", ctx), ManualStimulus)
    reference = load_adapter("reference", ctx)
    assert isinstance(reference, ReferenceStimulus)
    reference.close()
    vendor = load_adapter("tests.test_stimulus_adapters:VendorStimulus", ctx)
    assert type(vendor).__qualname__ == "VendorStimulus"  # imported by name, maybe a second copy of this module
    assert vendor.inbound_call(from_number="+1650", to="5001")["callId"] == "c1"


@pytest.mark.parametrize(
    "spec", ["no_such_module:Adapter", "tests.test_stimulus_adapters:Missing", "tests.test_stimulus_adapters:Party"]
)
def test_a_bad_adapter_name_is_a_configuration_error(spec: str) -> None:
    with pytest.raises(ConfigError):
        load_adapter(spec, context(settings_for()))


def test_an_event_the_adapter_cannot_cause_is_unavailable() -> None:
    with pytest.raises(StimulusUnavailable, match="vendor stimulus adapter cannot cause an inbound e-mail"):
        VendorStimulus(context(settings_for())).inbound_email(from_address="a", to_address="b", subject="s")


def test_the_manual_adapter_tells_a_person_and_waits_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GWS_MANUAL_WAIT_S", "42")
    said: list[str] = []
    recorded: list[Stimulus] = []
    adapter = ManualStimulus(context(settings_for(), said, recorded))
    stimulus = adapter.inbound_chat(nickname="Kim", messages=("hello",), agent=Party("agent1", AGENT1_ID))
    assert "open a customer chat as 'Kim'" in said[0] and "agent1" in said[0]
    assert stimulus.wait_s == 42 and recorded == [stimulus]
    assert "[manual] inbound_chat" in stimulus.describe()


def test_the_reference_control_api_lives_beside_the_api() -> None:
    assert stimulus_url("http://127.0.0.1:8080/api/v2") == "http://127.0.0.1:8080/stimulus"


@pytest.fixture(scope="module")
def target() -> Iterator[LiveTarget]:
    with serve(stimulus=True) as live:
        yield live


def test_the_reference_adapter_causes_events_and_records_them(target: LiveTarget) -> None:
    recorded: list[Stimulus] = []
    adapter = ReferenceStimulus(context(settings_for(target.base_url), recorded=recorded))
    try:
        auth = ("agent1", "agent1-secret")
        httpx.post(f"{target.base_url}/me/channels/email", json={"operationName": "Ready"}, auth=auth)
        email = adapter.inbound_email(
            from_address="kim@example.test",
            to_address="support@example.test",
            subject="Order",
            text="Where is it?",
            agent=Party("agent1", AGENT1_ID),
        )
        assert email["agentId"] == AGENT1_ID and email["interactionId"]
        call = adapter.inbound_call(from_number="+16505550123", to=Party("agent2", phone_number="5002"))
        assert call["callId"]
        assert [s.action for s in recorded] == ["inbound_email", "inbound_call"]
        assert all(s.adapter == "reference" for s in recorded)
        with pytest.raises(SuiteError, match="was refused"):
            adapter.customer_chat_message("no-such-chat", "hello")
        with pytest.raises(SuiteError, match="by user id"):
            adapter.revoke(email["interactionId"], agent=Party("agent1"))
    finally:
        adapter.close()
