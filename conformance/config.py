"""Target configuration: GWS_* environment variables over one TOML file over defaults.

Every variable is described once, in ``VARIABLES``: the loader reads its defaults from there, and
the README table and ``--help`` are generated from it (``settings_table_markdown``), so the three
cannot drift apart. ``Settings.redacted()`` is the only form of the settings that may be written
anywhere (reports, logs, ``--help`` output).
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar, cast
from urllib.parse import SplitResult, urlsplit, urlunsplit

from conformance.errors import ConfigError

__all__ = [
    "FUZZ_PROFILES",
    "REDACTED",
    "ROLES",
    "TARGET_KINDS",
    "VARIABLES",
    "Credentials",
    "FuzzBudget",
    "Settings",
    "Variable",
    "insecure_warning",
    "is_insecure",
    "load_settings",
    "redact_url",
    "settings_table_markdown",
    "tls_problems",
]

ROLES: tuple[str, ...] = ("admin", "supervisor", "agent1", "agent2", "agent3")
CsrfMode = Literal["auto", "on", "off"]
TargetKind = Literal["gws", "bayeux"]
TARGET_KINDS: tuple[str, ...] = ("gws", "bayeux")
FuzzProfile = Literal["quick", "default", "deep"]
# Examples per operation for each profile; GWS_FUZZ_MAX_EXAMPLES overrides the number.
FUZZ_PROFILES: Mapping[str, int] = MappingProxyType({"quick": 10, "default": 50, "deep": 500})
STIMULUS_KEYWORDS = ("reference", "manual", "none")
REDACTED = "***"

_STIMULUS_PLUGIN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
# Agent accounts of the pool beyond the three named roles: agent4, agent5, ...
_POOL_ROLE = re.compile(r"^agent([1-9]\d*)$")
_POOL_TOML_KEY = re.compile(r"^users\.agent[1-9]\d*\.(user|password)$")
MAX_POOL = 999


@dataclass(frozen=True)
class Variable:
    """One configuration input: its environment name, its TOML key, its default and its meaning."""

    env: str
    toml_key: str | None
    default: str | None  # the raw default, parsed like any input; None: computed or unset (see default_doc)
    description: str
    default_doc: str | None = None  # how the default reads in the docs when it is not a literal
    secret: bool = False

    @property
    def documented_default(self) -> str:
        if self.default_doc is not None:
            return self.default_doc
        return f"`{self.default}`"


def _user_variables(role: str) -> tuple[Variable, ...]:
    upper = role.upper()
    return (
        Variable(f"GWS_{upper}_USER", f"users.{role}.user", role, f"User name of the {role} account (Basic auth)."),
        Variable(
            f"GWS_{upper}_PASSWORD",
            f"users.{role}.password",
            None,
            f"Password of the {role} account; needed only by tests that act as {role}.",
            default_doc="unset (required when used)",
            secret=True,
        ),
    )


VARIABLES: tuple[Variable, ...] = (
    Variable("GWS_CONFIG", None, None, "Path of the TOML configuration file.", default_doc="none"),
    Variable(
        "GWS_BASE_URL", "base_url", "http://127.0.0.1:8080/api/v2", "Base URL of the API (up to and including /api/v2)."
    ),
    Variable(
        "GWS_COMETD_URL",
        "cometd_url",
        None,
        "CometD (Bayeux) endpoint.",
        default_doc="`<base_url>/notifications`",
    ),
    Variable(
        "GWS_TARGET_KIND",
        "target_kind",
        "gws",
        "What the target is: `gws` (a GWS server: everything is judged) or `bayeux` (a generic Bayeux/CometD "
        "server at GWS_COMETD_URL: only the tests marked `bayeux` run; the others are not applicable, "
        "the GWS-specific protocol rules saying so).",
    ),
    *(variable for role in ROLES for variable in _user_variables(role)),
    Variable(
        "GWS_AGENTS",
        "agents",
        "3",
        "How many agent accounts the target offers the suite: agent1 .. agentN. Beyond the third, each is read "
        "from `GWS_AGENT<k>_USER` (default `agent<k>`) and `GWS_AGENT<k>_PASSWORD` (TOML `[users.agent<k>]`); "
        "scenarios then take free accounts from the pool and run side by side on different workers.",
    ),
    Variable(
        "GWS_STIMULUS",
        "stimulus",
        "none",
        "Who makes outside-world events happen (inbound calls, e-mails, chats): `reference` (the reference "
        "server's control API), `manual` (an operator), `module:Class` (a plug-in adapter) or `none` "
        "(such tests report *needs stimulus*).",
    ),
    Variable("GWS_REQUEST_TIMEOUT_S", "request_timeout_s", "10", "Seconds allowed for one complete HTTP exchange."),
    Variable(
        "GWS_NOTIFICATION_TIMEOUT_S", "notification_timeout_s", "10", "Seconds to wait for an expected notification."
    ),
    Variable(
        "GWS_QUIET_WINDOW_S",
        "quiet_window_s",
        "2",
        "Seconds a topic must stay silent to prove that no (further) message comes. Unset, each window is sized "
        "from the delivery latency measured during the run (conformance/delivery.py; this value until enough "
        "is measured); set, it is used as is.",
        default_doc="measured (`2` until measured)",
    ),
    Variable(
        "GWS_FUZZ_PROFILE", "fuzz.profile", "default", "Fuzzing budget: `quick` (a PR gate), `default` or `deep`."
    ),
    Variable(
        "GWS_FUZZ_MAX_EXAMPLES",
        "fuzz.max_examples",
        None,
        "Generated examples per operation.",
        default_doc="by profile: " + ", ".join(f"{name} {count}" for name, count in FUZZ_PROFILES.items()),
    ),
    Variable(
        "GWS_SEED",
        "seed",
        None,
        "Random seed of the fuzzer; every run prints the one it used.",
        default_doc="random, printed",
    ),
    Variable(
        "GWS_CA_BUNDLE",
        None,
        None,
        "PEM file of the CA certificates that sign the target's TLS certificate (a private CA); without it, "
        "httpx's defaults (`SSL_CERT_FILE`, `SSL_CERT_DIR`, else certifi). `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` "
        "and `NO_PROXY` work as for any httpx client, for every connection of the suite (REST, CometD, raw "
        "requests through a CONNECT tunnel).",
        default_doc="unset",
    ),
    Variable(
        "GWS_INSECURE",
        None,
        None,
        "`1` turns TLS certificate verification off (a test server with a self-signed certificate); every run "
        "then says so in a warning. Never for a verdict anyone relies on.",
        default_doc="unset (verify)",
    ),
    Variable(
        "GWS_CSRF",
        "csrf",
        "auto",
        "CSRF handling: `auto` (send the token back once the target has issued one), `on` (the target must "
        "issue one; fetched with GET /me before the first POST/PUT/DELETE) or `off` (never send one).",
    ),
)
_BY_ENV: Mapping[str, Variable] = MappingProxyType({v.env: v for v in VARIABLES})
_TOML_KEYS: Mapping[str, Variable] = MappingProxyType({v.toml_key: v for v in VARIABLES if v.toml_key})


@dataclass(frozen=True)
class Credentials:
    """A user the suite acts as. ``role`` names the configured account ("agent1"), empty for ad-hoc ones."""

    role: str
    user: str
    password: str | None = field(default=None, repr=False)

    @property
    def password_env(self) -> str | None:
        """The variable that holds this password, so evidence can point at it instead of showing it."""
        return f"GWS_{self.role.upper()}_PASSWORD" if self.role in ROLES or _POOL_ROLE.match(self.role) else None


@dataclass(frozen=True)
class FuzzBudget:
    profile: FuzzProfile
    max_examples: int


def _random_seed() -> int:
    return secrets.randbelow(2**32)


@dataclass(frozen=True, repr=False)
class Settings:
    """Everything the suite needs to know about the target. Build it with ``load_settings``."""

    base_url: str
    cometd_url: str
    admin: Credentials
    supervisor: Credentials
    agent1: Credentials
    agent2: Credentials
    agent3: Credentials
    stimulus: str
    request_timeout_s: float
    notification_timeout_s: float
    quiet_window_s: float
    fuzz: FuzzBudget
    seed: int
    csrf: CsrfMode
    target_kind: TargetKind = "gws"
    config_file: Path | None = None
    # False: GWS_QUIET_WINDOW_S was not given, and windows are sized from measured delivery (conformance.delivery).
    quiet_window_fixed: bool = True
    # Agent accounts beyond agent1..agent3 (GWS_AGENTS): agent4 .. agentN.
    extra_agents: tuple[Credentials, ...] = ()
    # Where each value came from (variable -> "environment" | file path | "default"), for the report.
    origins: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:
        # A repr ends up in tracebacks and pytest output: it shows only the redacted form.
        return f"Settings({self.redacted()!r})"

    @property
    def users(self) -> dict[str, Credentials]:
        """Every configured account by role: the named roles, then the pool's agents beyond the third."""
        named = {role: getattr(self, role) for role in ROLES}
        return {**named, **{c.role: c for c in self.extra_agents}}

    @property
    def agent_pool(self) -> tuple[str, ...]:
        """The agent roles the suite may act as: agent1 .. agentN (GWS_AGENTS)."""
        return ("agent1", "agent2", "agent3", *(c.role for c in self.extra_agents))

    def credentials(self, role: str) -> Credentials:
        """The account for ``role``; a ConfigError names the variable when its password is not set."""
        users = self.users
        if role not in users:
            raise ConfigError(f"unknown role {role!r}: expected one of {', '.join(ROLES)} or a pool agent")
        found = users[role]
        if found.password is None:
            raise ConfigError(f"GWS_{role.upper()}_PASSWORD is not set: this test acts as {role}")
        return found

    def redacted(self) -> dict[str, Any]:
        """The settings as plain data with every secret replaced by ``"***"`` — safe to write anywhere."""
        return {
            "base_url": redact_url(self.base_url),
            "cometd_url": redact_url(self.cometd_url),
            "target_kind": self.target_kind,
            "users": {
                role: {"user": c.user, "password": REDACTED if c.password is not None else None}
                for role, c in self.users.items()
            },
            "stimulus": self.stimulus,
            "request_timeout_s": self.request_timeout_s,
            "notification_timeout_s": self.notification_timeout_s,
            "quiet_window_s": self.quiet_window_s,
            "quiet_window_fixed": self.quiet_window_fixed,
            "fuzz": {"profile": self.fuzz.profile, "max_examples": self.fuzz.max_examples},
            "seed": self.seed,
            "csrf": self.csrf,
            "config_file": str(self.config_file) if self.config_file else None,
            "origins": dict(self.origins),
        }

    def secret_values(self) -> tuple[str, ...]:
        """Every configured password, for recorders that scrub free text."""
        return tuple(c.password for c in self.users.values() if c.password)


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def is_insecure(env: Mapping[str, str]) -> bool:
    """Whether GWS_INSECURE turns TLS verification off."""
    return env.get("GWS_INSECURE", "").strip().lower() in _TRUE


def tls_problems(env: Mapping[str, str]) -> list[str]:
    """What is wrong with GWS_CA_BUNDLE and GWS_INSECURE (conformance.client.tls_context reads them)."""
    problems = []
    ca_bundle = env.get("GWS_CA_BUNDLE", "")
    if ca_bundle and not Path(ca_bundle).is_file():
        problems.append(f"GWS_CA_BUNDLE={ca_bundle!r} (environment): no such file")
    if env.get("GWS_INSECURE", "").strip().lower() not in (*_TRUE, *_FALSE):
        problems.append(f"GWS_INSECURE={env['GWS_INSECURE']!r} (environment): expected 1 or 0")
    return problems


def insecure_warning(env: Mapping[str, str]) -> str | None:
    """The warning every run with GWS_INSECURE prints; None when certificates are verified."""
    if not is_insecure(env):
        return None
    return (
        "WARNING: GWS_INSECURE is set: TLS certificates are NOT verified; whoever sits between the suite and "
        "the target can read and change everything, credentials included"
    )


def redact_url(url: str) -> str:
    """``url`` with the password of any embedded ``user:password@`` replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None and "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    netloc = f"{user}:{REDACTED}@{hostport}" if has_password else f"{userinfo}@{hostport}"
    return urlunsplit(parts._replace(netloc=netloc))


# --- loading -------------------------------------------------------------------------------------

_T = TypeVar("_T")


@dataclass(frozen=True)
class _Raw:
    value: Any
    origin: str  # "environment", the TOML file's path, or "default"
    variable: Variable

    def describe(self) -> str:
        """How the problem input reads in an error message; secrets are never echoed."""
        shown = REDACTED if self.variable.secret else self.value
        if isinstance(shown, str):
            shown = redact_url(shown)
        if self.origin == "environment":
            return f"{self.variable.env}={shown!r} (environment)"
        if self.origin == "default":
            return f"{self.variable.env} default {shown!r}"
        return f"{self.variable.toml_key} = {shown!r} in {self.origin}"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        # The decoder's message ends with "(at line N, column M)", which is what a user needs.
        raise ConfigError(f"{path}: malformed TOML: {exc}") from exc


def _flatten(document: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in document.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and dotted not in _TOML_KEYS:
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def _parse_url(raw: _Raw) -> str:
    if not isinstance(raw.value, str):
        raise ValueError("expected a string")
    try:
        parts: SplitResult = urlsplit(raw.value.strip())
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError as exc:
        raise ValueError(f"not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValueError("not an http(s) URL with a host, e.g. http://127.0.0.1:8080/api/v2")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query or a fragment")
    # One spelling of the base: no trailing slash, so "<base>/me" never doubles it.
    return urlunsplit(parts).rstrip("/")


def _parse_choice(choices: tuple[str, ...]) -> Callable[[_Raw], str]:
    def parse(raw: _Raw) -> str:
        value = raw.value.strip().lower() if isinstance(raw.value, str) else raw.value
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return cast(str, value)

    return parse


def _parse_int(raw: _Raw) -> int:
    if isinstance(raw.value, bool):
        raise ValueError("not an integer")
    if isinstance(raw.value, int):
        return raw.value
    if isinstance(raw.value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", raw.value):
        return int(raw.value)
    raise ValueError("not an integer")


def _parse_positive_int(raw: _Raw) -> int:
    value = _parse_int(raw)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _parse_seconds(raw: _Raw) -> float:
    if isinstance(raw.value, bool):
        raise ValueError("not a number of seconds")
    try:
        value = float(raw.value)
    except (TypeError, ValueError):
        raise ValueError("not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise ValueError("must be a positive number of seconds")
    return value


def _parse_text(raw: _Raw) -> str:
    if not isinstance(raw.value, str):
        raise ValueError("expected a string")
    return raw.value


def _parse_stimulus(raw: _Raw) -> str:
    value = _parse_text(raw).strip()
    if value.lower() in STIMULUS_KEYWORDS:
        return value.lower()
    if _STIMULUS_PLUGIN.match(value):
        return value
    raise ValueError("expected reference, manual, none or module:Class (e.g. my_pkg.adapters:PbxStimulus)")


class _Loader:
    """Resolves each variable (env > file > default) and collects every problem before failing."""

    def __init__(self, env: Mapping[str, str], file_values: Mapping[str, Any], file_label: str) -> None:
        self.env = env
        self.file_values = file_values
        self.file_label = file_label
        self.problems: list[str] = []
        self.origins: dict[str, str] = {}

    def raw(self, env_name: str) -> _Raw | None:
        variable = _BY_ENV[env_name]
        # An empty variable counts as unset: CI systems export empty strings for absent inputs.
        if self.env.get(env_name, "") != "":
            return _Raw(self.env[env_name], "environment", variable)
        if variable.toml_key is not None and variable.toml_key in self.file_values:
            return _Raw(self.file_values[variable.toml_key], self.file_label, variable)
        if variable.default is not None:
            return _Raw(variable.default, "default", variable)
        return None

    def get(self, env_name: str, parse: Callable[[_Raw], _T], fallback: _T) -> _T:
        raw = self.raw(env_name)
        if raw is None:
            self.origins[env_name] = "default"
            return fallback
        self.origins[env_name] = raw.origin
        try:
            return parse(raw)
        except ValueError as exc:
            self.problems.append(f"{raw.describe()}: {exc}")
            return fallback


def load_settings(env: Mapping[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Build the settings from ``env`` (default: ``os.environ``) over ``config_file`` over defaults.

    ``config_file`` defaults to ``GWS_CONFIG``. Raises one ConfigError listing every problem found.
    """
    env = os.environ if env is None else env
    if config_file is None and env.get("GWS_CONFIG"):
        config_file = Path(env["GWS_CONFIG"])
    file_values: dict[str, Any] = {}
    problems: list[str] = []
    if config_file is not None:
        file_values = _flatten(_read_toml(config_file))
        for key in sorted(set(file_values) - set(_TOML_KEYS)):
            if _POOL_TOML_KEY.match(key):
                continue  # [users.agent<k>] of the pool: read with GWS_AGENTS
            if key.startswith("load."):
                continue  # gws-conformance load's thresholds (conformance/load/options.py): one file for both
            problems.append(f"{config_file}: unknown key {key!r} (known keys: {', '.join(_TOML_KEYS)})")

    loader = _Loader(env, file_values, str(config_file))
    base_url = loader.get("GWS_BASE_URL", _parse_url, "http://127.0.0.1:8080/api/v2")
    cometd_url = loader.get("GWS_COMETD_URL", _parse_url, f"{base_url}/notifications")
    users: dict[str, Credentials] = {}
    for role in ROLES:
        upper = role.upper()
        user = loader.get(f"GWS_{upper}_USER", _parse_text, role)
        password = loader.get(f"GWS_{upper}_PASSWORD", _parse_text, cast(str | None, None))
        users[role] = Credentials(role=role, user=user, password=password)
    problems += tls_problems(env)
    pool_size = loader.get("GWS_AGENTS", _parse_pool_size, 3)
    for key in sorted(k for k in file_values if _POOL_TOML_KEY.match(k) and k not in _TOML_KEYS):
        if int(key.split(".")[1].removeprefix("agent")) > pool_size:
            problems.append(f"{config_file}: unknown key {key!r} (the pool has {pool_size} agents: GWS_AGENTS)")
    extra_agents = _pool_agents(loader, pool_size)
    profile = loader.get("GWS_FUZZ_PROFILE", _parse_choice(tuple(FUZZ_PROFILES)), "default")
    max_examples = loader.get("GWS_FUZZ_MAX_EXAMPLES", _parse_positive_int, FUZZ_PROFILES[profile])
    seed = loader.get("GWS_SEED", _parse_int, cast(int | None, None))
    if seed is None:
        seed = _random_seed()
        loader.origins["GWS_SEED"] = "random"
    settings = Settings(
        base_url=base_url,
        cometd_url=cometd_url,
        stimulus=loader.get("GWS_STIMULUS", _parse_stimulus, "none"),
        request_timeout_s=loader.get("GWS_REQUEST_TIMEOUT_S", _parse_seconds, 10.0),
        notification_timeout_s=loader.get("GWS_NOTIFICATION_TIMEOUT_S", _parse_seconds, 10.0),
        quiet_window_s=loader.get("GWS_QUIET_WINDOW_S", _parse_seconds, 2.0),
        fuzz=FuzzBudget(profile=cast(FuzzProfile, profile), max_examples=max_examples),
        seed=seed,
        csrf=cast(CsrfMode, loader.get("GWS_CSRF", _parse_choice(("auto", "on", "off")), "auto")),
        target_kind=cast(TargetKind, loader.get("GWS_TARGET_KIND", _parse_choice(TARGET_KINDS), "gws")),
        config_file=config_file,
        quiet_window_fixed=loader.origins.get("GWS_QUIET_WINDOW_S") != "default",
        extra_agents=extra_agents,
        origins=MappingProxyType(loader.origins),
        **users,
    )
    problems.extend(loader.problems)
    if problems:
        raise ConfigError(problems)
    return settings


def _parse_pool_size(raw: _Raw) -> int:
    value = _parse_int(raw)
    if not 3 <= value <= MAX_POOL:
        raise ValueError(f"must be 3..{MAX_POOL} (agent1..agent3 are always there)")
    return value


def _pool_agents(loader: _Loader, count: int) -> tuple[Credentials, ...]:
    """agent4 .. agent<count>: user and password from GWS_AGENT<k>_* over [users.agent<k>], like the named roles."""
    found = []
    for number in range(4, count + 1):
        role = f"agent{number}"
        values = {}
        for part in ("user", "password"):
            env_name = f"GWS_{role.upper()}_{part.upper()}"
            value = loader.env.get(env_name) or loader.file_values.get(f"users.{role}.{part}")
            if value is not None and not isinstance(value, str):
                loader.problems.append(f"{env_name}: expected a string")
                value = None
            values[part] = value
        found.append(Credentials(role=role, user=values["user"] or role, password=values["password"]))
    return tuple(found)


def settings_table_markdown() -> str:
    """The README / ``--help`` table: every variable, its TOML key, its default and its meaning."""
    lines = ["| Variable | TOML key | Default | Meaning |", "|---|---|---|---|"]
    for v in VARIABLES:
        key = f"`{v.toml_key}`" if v.toml_key else "—"
        lines.append(f"| `{v.env}` | {key} | {v.documented_default} | {v.description} |")
    return "\n".join(lines) + "\n"
