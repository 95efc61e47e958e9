from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.config import (
    FUZZ_PROFILES,
    REDACTED,
    ROLES,
    VARIABLES,
    Credentials,
    load_settings,
    redact_url,
    settings_table_markdown,
)
from conformance.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gws.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    settings = load_settings(env={})
    assert settings.base_url == "http://127.0.0.1:8080/api/v2"
    assert settings.cometd_url == "http://127.0.0.1:8080/api/v2/notifications"
    assert settings.agent2 == Credentials("agent2", "agent2", None)
    assert settings.stimulus == "none"
    assert (settings.request_timeout_s, settings.notification_timeout_s, settings.quiet_window_s) == (10.0, 10.0, 2.0)
    assert (settings.fuzz.profile, settings.fuzz.max_examples) == ("default", FUZZ_PROFILES["default"])
    assert settings.csrf == "auto"
    assert isinstance(settings.seed, int) and settings.origins["GWS_SEED"] == "random"


def test_environment_over_file_over_defaults(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        """
base_url = "http://file.example:8090/api/v2/"
request_timeout_s = 3.5
seed = 7
[users.agent1]
user = "file-agent"
password = "file-secret-1"
[fuzz]
profile = "deep"
""",
    )
    env = {"GWS_SEED": "42", "GWS_AGENT1_PASSWORD": "env-secret-1", "GWS_QUIET_WINDOW_S": "0.5", "GWS_CSRF": "ON"}
    settings = load_settings(env=env, config_file=config)
    assert settings.base_url == "http://file.example:8090/api/v2"  # file; trailing slash dropped
    assert settings.cometd_url == "http://file.example:8090/api/v2/notifications"  # follows the base
    assert settings.request_timeout_s == 3.5  # file
    assert settings.seed == 42  # environment beats file
    assert settings.agent1 == Credentials("agent1", "file-agent", "env-secret-1")
    assert settings.quiet_window_s == 0.5 and settings.csrf == "on"
    assert settings.fuzz.profile == "deep" and settings.fuzz.max_examples == FUZZ_PROFILES["deep"]
    assert settings.origins["GWS_SEED"] == "environment"
    assert settings.origins["GWS_BASE_URL"] == str(config)
    assert settings.origins["GWS_STIMULUS"] == "default"


def test_config_file_named_by_environment(tmp_path: Path) -> None:
    config = write(tmp_path, 'stimulus = "my_pkg.adapters:PbxStimulus"\n[fuzz]\nmax_examples = 3\n')
    settings = load_settings(env={"GWS_CONFIG": str(config)})
    assert settings.stimulus == "my_pkg.adapters:PbxStimulus"
    assert settings.fuzz.max_examples == 3
    assert settings.config_file == config


def test_empty_environment_value_counts_as_unset() -> None:
    assert load_settings(env={"GWS_SEED": "", "GWS_BASE_URL": ""}).base_url == "http://127.0.0.1:8080/api/v2"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"GWS_BASE_URL": "127.0.0.1:8080/api/v2"},
            "GWS_BASE_URL='127.0.0.1:8080/api/v2' (environment): not an http(s) URL",
        ),
        ({"GWS_BASE_URL": "http://h:99999/api/v2"}, "GWS_BASE_URL='http://h:99999/api/v2' (environment): not a"),
        ({"GWS_COMETD_URL": "http://h/n?x=1"}, "GWS_COMETD_URL='http://h/n?x=1' (environment): must not carry a query"),
        (
            {"GWS_FUZZ_PROFILE": "thorough"},
            "GWS_FUZZ_PROFILE='thorough' (environment): expected one of quick, default, deep",
        ),
        ({"GWS_SEED": "abc"}, "GWS_SEED='abc' (environment): not an integer"),
        ({"GWS_SEED": "1.5"}, "GWS_SEED='1.5' (environment): not an integer"),
        ({"GWS_FUZZ_MAX_EXAMPLES": "0"}, "GWS_FUZZ_MAX_EXAMPLES='0' (environment): must be at least 1"),
        ({"GWS_REQUEST_TIMEOUT_S": "soon"}, "GWS_REQUEST_TIMEOUT_S='soon' (environment): not a number of seconds"),
        ({"GWS_QUIET_WINDOW_S": "-1"}, "GWS_QUIET_WINDOW_S='-1' (environment): must be a positive number of seconds"),
        ({"GWS_CSRF": "maybe"}, "GWS_CSRF='maybe' (environment): expected one of auto, on, off"),
        ({"GWS_TARGET_KIND": "cometd"}, "GWS_TARGET_KIND='cometd' (environment): expected one of gws, bayeux"),
        (
            {"GWS_STIMULUS": "robot"},
            "GWS_STIMULUS='robot' (environment): expected reference, manual, none or module:Class",
        ),
    ],
)
def test_each_bad_input_has_its_message(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(env=env)
    assert len(raised.value.problems) == 1
    assert raised.value.problems[0].startswith(message), raised.value.problems[0]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(env={"GWS_SEED": "x", "GWS_CSRF": "maybe", "GWS_FUZZ_PROFILE": "huge"})
    assert len(raised.value.problems) == 3
    assert str(raised.value).count("\n") == 2


def test_file_values_are_checked_and_named_with_the_file(tmp_path: Path) -> None:
    config = write(tmp_path, 'seed = "twelve"\nbase_url = 8080\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(env={}, config_file=config)
    assert f"seed = 'twelve' in {config}: not an integer" in raised.value.problems
    assert f"base_url = 8080 in {config}: expected a string" in raised.value.problems


def test_unknown_file_key_is_reported(tmp_path: Path) -> None:
    config = write(tmp_path, 'base_ur = "http://x"\n[users.agent9]\nuser = "a"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(env={}, config_file=config)
    assert raised.value.problems[0].startswith(f"{config}: unknown key 'base_ur'")
    assert raised.value.problems[1].startswith(f"{config}: unknown key 'users.agent9.user'")


def test_malformed_toml_names_file_and_line(tmp_path: Path) -> None:
    config = write(tmp_path, 'base_url = "http://x"\nseed = \n')
    with pytest.raises(ConfigError) as raised:
        load_settings(env={}, config_file=config)
    message = str(raised.value)
    assert message.startswith(f"{config}: malformed TOML:")
    assert "line 2" in message


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match=r"absent\.toml: cannot read the configuration file"):
        load_settings(env={"GWS_CONFIG": str(missing)})


def test_missing_password_is_reported_when_the_role_is_used() -> None:
    settings = load_settings(env={"GWS_ADMIN_PASSWORD": "admin-secret"})
    assert settings.credentials("admin").password == "admin-secret"
    with pytest.raises(ConfigError, match="GWS_AGENT3_PASSWORD is not set"):
        settings.credentials("agent3")


def test_redacted_holds_no_secret() -> None:
    env = {f"GWS_{role.upper()}_PASSWORD": f"pw-{role}-s3cret" for role in ROLES}
    env["GWS_BASE_URL"] = "http://ops:url-s3cret@gws.example/api/v2"
    settings = load_settings(env=env)
    dumped = json.dumps(settings.redacted())
    assert "s3cret" not in dumped
    assert settings.redacted()["users"]["agent1"] == {"user": "agent1", "password": REDACTED}
    assert settings.redacted()["base_url"] == "http://ops:***@gws.example/api/v2"
    assert "s3cret" not in repr(settings)


def test_bad_url_message_hides_embedded_password() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(env={"GWS_BASE_URL": "ftp://ops:url-s3cret@gws.example"})
    assert "s3cret" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://gws.example/api/v2", "http://gws.example/api/v2"),
        ("http://u:p@gws.example:8080/x", "http://u:***@gws.example:8080/x"),
        ("http://u@gws.example/x", "http://u@gws.example/x"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_table_documents_every_variable_with_its_default() -> None:
    table = settings_table_markdown()
    for variable in VARIABLES:
        assert f"`{variable.env}`" in table
    assert "| `GWS_BASE_URL` | `base_url` | `http://127.0.0.1:8080/api/v2` |" in table
    assert "`<base_url>/notifications`" in table
    assert "| `GWS_AGENT3_PASSWORD` | `users.agent3.password` | unset (required when used) |" in table


def test_table_defaults_are_the_loaded_defaults() -> None:
    # The table is the loader's source: a literal default in it must be what load_settings yields.
    settings = load_settings(env={}).redacted()
    assert settings["base_url"] == next(v.default for v in VARIABLES if v.env == "GWS_BASE_URL")
    assert settings["csrf"] == next(v.default for v in VARIABLES if v.env == "GWS_CSRF")
    assert settings["target_kind"] == next(v.default for v in VARIABLES if v.env == "GWS_TARGET_KIND")
    assert str(settings["request_timeout_s"]).rstrip("0").rstrip(".") == next(
        v.default for v in VARIABLES if v.env == "GWS_REQUEST_TIMEOUT_S"
    )


def test_a_pool_of_agents_beyond_the_third_comes_from_gws_agents(tmp_path: Path) -> None:
    config = tmp_path / "gws.toml"
    config.write_text('agents = 5\n[users.agent5]\nuser = "eve"\npassword = "toml-secret-5"\n', encoding="utf-8")
    settings = load_settings(env={"GWS_AGENT4_PASSWORD": "env-secret-4"}, config_file=config)
    assert settings.agent_pool == ("agent1", "agent2", "agent3", "agent4", "agent5")
    assert settings.credentials("agent4").user == "agent4" and settings.credentials("agent5").user == "eve"
    assert settings.credentials("agent5").password == "toml-secret-5"
    assert settings.users["agent4"].password_env == "GWS_AGENT4_PASSWORD"
    assert "env-secret-4" in settings.secret_values() and "env-secret-4" not in repr(settings)
    assert load_settings(env={}).agent_pool == ("agent1", "agent2", "agent3")
    with pytest.raises(ConfigError, match="GWS_AGENTS='2'"):
        load_settings(env={"GWS_AGENTS": "2"})
    with pytest.raises(ConfigError, match="unknown role 'agent4'"):
        load_settings(env={}).credentials("agent4")
