"""Who a load run signs in as and which work it mixes, without running one (conformance.load.accounts, options).

The runs themselves (created accounts removed, inbound work accounted for) are in tests/test_load_run.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.config import load_settings
from conformance.load.accounts import admin_of, pool_accounts, settings_for, stimulus_spec
from conformance.load.ledger import Ledger, signature
from conformance.load.options import INBOUND_TASKS, MIX_TASKS, OptionsError, default_mix, parse_mix, read_thresholds

TARGET = "http://127.0.0.1:9/api/v2"


@pytest.fixture(autouse=True)
def _no_suite_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """settings_for reads the environment: the settings of whoever runs the tests must not decide these."""
    import os

    for name in [n for n in os.environ if n.startswith("GWS_")]:
        monkeypatch.delenv(name)


def test_the_pool_gives_its_accounts_in_order_and_refuses_a_run_bigger_than_it() -> None:
    env = {"GWS_AGENTS": "4", **{f"GWS_AGENT{k}_PASSWORD": f"secret-{k}" for k in range(1, 5)}}
    env["GWS_AGENT4_USER"] = "dora"
    settings = load_settings(env)
    assert pool_accounts(settings, 4) == [
        ("agent1", "secret-1"),
        ("agent2", "secret-2"),
        ("agent3", "secret-3"),
        ("dora", "secret-4"),
    ]
    assert pool_accounts(settings, 2) == [("agent1", "secret-1"), ("agent2", "secret-2")]
    with pytest.raises(OptionsError, match=r"the pool has 4 agent account\(s\) .* needs 5"):
        pool_accounts(settings, 5)


def test_a_pool_account_without_a_password_is_named() -> None:
    settings = load_settings({"GWS_AGENT1_PASSWORD": "one"})
    assert pool_accounts(settings, 1) == [("agent1", "one")]
    with pytest.raises(OptionsError, match="GWS_AGENT2_PASSWORD is not set"):
        pool_accounts(settings, 2)
    with pytest.raises(OptionsError, match="GWS_ADMIN_PASSWORD is not set"):
        admin_of(settings)
    assert admin_of(load_settings({"GWS_ADMIN_USER": "root", "GWS_ADMIN_PASSWORD": "pw"})) == ("root", "pw")


def test_one_config_file_holds_the_suites_settings_and_the_load_thresholds(tmp_path: Path) -> None:
    config = tmp_path / "gws.toml"
    config.write_text(
        '[load]\nmax_lost = 2\np99_delivery_ms = 80\n\n[users.agent1]\npassword = "from-file"\n', encoding="utf-8"
    )
    assert pool_accounts(settings_for(TARGET, config), 1) == [("agent1", "from-file")]
    assert read_thresholds(config).max_lost == 2
    config.write_text("[lode]\nmax_lost = 2\n", encoding="utf-8")  # a typo is still told
    with pytest.raises(OptionsError, match=r"unknown key 'lode\.max_lost'"):
        settings_for(TARGET, config)


def test_inbound_tasks_are_in_the_default_mix_only_with_a_stimulus() -> None:
    assert default_mix(True) == MIX_TASKS
    assert set(default_mix(False)) == set(MIX_TASKS) - set(INBOUND_TASKS) == {"state", "dnd", "call"}
    assert parse_mix("inbound-call=2,chat,email=0") == {"inbound-call": 2, "chat": 1, "email": 0}


def test_a_stimulus_adapter_is_checked_before_the_run() -> None:
    assert stimulus_spec("reference", TARGET) == "reference"
    with pytest.raises(OptionsError, match="no person keeps up"):
        stimulus_spec("manual", TARGET)
    with pytest.raises(OptionsError, match="not a StimulusAdapter subclass"):
        stimulus_spec("conformance.load.options:LoadOptions", TARGET)


def test_interaction_messages_are_one_stream_per_interaction_told_apart_by_channel() -> None:
    invited = {"messageType": "InteractionStateMessage", "id": "i1", "state": "Invited", "channel": "chat"}
    sig = signature("/v2/me/interactions", invited)
    assert (sig.stream, sig.state, sig.party) == ("interaction:i1", "Invited", "chat")
    ledger = Ledger(deadline_s=10)
    # Owed: a new interaction of channel email. A chat invitation is not it (unexpected); the e-mail's is, once.
    owed = ledger.expect("agent1", "/v2/me/interactions", None, "Invited", 0.0, party="email")
    assert ledger.receive("agent1", "/v2/me/interactions", invited, [], 0.001) is None
    email = {**invited, "id": "i2", "channel": "email"}
    assert ledger.receive("agent1", "/v2/me/interactions", email, [], 0.002) is owed
    assert ledger.receive("agent1", "/v2/me/interactions", email, [], 0.003) is None
    assert ledger.counters["duplicated"] == 1 and ledger.unexpected == 1 and ledger.delivered == 1
