"""Who the simulated agents sign in as (``--accounts``), and the stimulus adapter their inbound work uses.

    pool    the target's own agent accounts. The embedded reference is started with as many as the run
            needs and its naming rule (agent<N>, password agent<N>-secret: reference_impl/population.py); a
            remote target's are the suite's pool (GWS_AGENTS with GWS_AGENT<k>_USER/_PASSWORD or
            ``[users.agent<k>]``, the README's settings table), read from ``--config`` or GWS_CONFIG.
    create  accounts made for the run through the admin API as the configured administrator (the embedded
            reference's is its fixture's): POST /users (ROLE_AGENT, which gives the voice, e-mail and chat
            channels) and POST /users/{id}/devices (a phone number of its own), removed at the end with
            DELETE /users/{id} however the run ends (verdict, failure, Ctrl-C). The seed has no DELETE for a
            device: a created device stays in the contact center assigned to nobody (the reference's
            delete_user does the same), so its number carries the run's random id: a later run collides one
            time in 10,000, and is then refused in one line (exit 2) before it starts.
    numbered  the reference's naming rule on any target (a ``gws-reference serve --agents N`` elsewhere).

A pool smaller than the run, or an account without a password, is a configuration problem: one line, exit 2.
The run's accounts travel to the workers in the master's setup message (Locust's own channel, which the
master binds to loopback unless told otherwise).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from conformance.config import Settings, load_settings
from conformance.errors import ConfigError
from conformance.load.options import OptionsError
from conformance.stimulus import StimulusAdapter, StimulusContext, load_adapter

__all__ = ["Account", "CreatedAccounts", "admin_of", "build_adapter", "pool_accounts", "settings_for", "stimulus_spec"]

Account = tuple[str, str]  # (user name, password)
# Created phone numbers: "8", the run's four digits, the agent's five (the fixture has 500x devices, 700x
# queues; the reference's generated agents 6xxxxx).
_NUMBER = "8{run:04d}{index:05d}"


def settings_for(target: str, config: Path | None) -> Settings:
    """The suite's settings for ``target``: its pool, administrator and stimulus (``config`` or GWS_CONFIG)."""
    import os

    try:
        return load_settings({**os.environ, "GWS_BASE_URL": target}, config_file=config)
    except ConfigError as exc:
        raise OptionsError("; ".join(exc.problems)) from None


def admin_of(settings: Settings) -> Account:
    """The configured administrator (GWS_ADMIN_USER / GWS_ADMIN_PASSWORD), who creates the run's accounts."""
    try:
        admin = settings.credentials("admin")
    except ConfigError as exc:
        raise OptionsError(f"--accounts create: {exc}") from None
    return admin.user, str(admin.password)


def pool_accounts(settings: Settings, count: int) -> list[Account]:
    """The first ``count`` accounts of the suite's pool (agent1, agent2, ...)."""
    pool = settings.agent_pool
    if len(pool) < count:
        raise OptionsError(
            f"--accounts pool: the pool has {len(pool)} agent account(s) (GWS_AGENTS) and the run needs {count}: "
            "configure more (GWS_AGENTS, [users.agent<k>]) or use --accounts create"
        )
    try:
        return [(c.user, str(c.password)) for c in (settings.credentials(role) for role in pool[:count])]
    except ConfigError as exc:
        raise OptionsError(f"--accounts pool: {exc}") from None


@dataclass
class CreatedAccounts:
    """Agent accounts made for one run through the admin API, and removed by ``remove``."""

    base_url: str
    admin: Account
    timeout_s: float = 10.0
    run: int = field(default_factory=lambda: secrets.randbelow(10_000))
    created: list[str] = field(default_factory=list)  # user ids, to remove

    def create(self, count: int) -> list[Account]:
        accounts: list[Account] = []
        with requests.Session() as http:
            http.auth = self.admin
            http.trust_env = False
            for index in range(1, count + 1):
                name, password = f"load{self.run:04d}-agent{index}", secrets.token_urlsafe(12)
                body = {"userName": name, "password": password, "firstName": "Load", "lastName": f"No. {index}"}
                user_id = self._post(http, "/users", {**body, "roles": ["ROLE_AGENT"]})
                self.created.append(user_id)
                number = _NUMBER.format(run=self.run, index=index)
                self._post(http, f"/users/{user_id}/devices", {"phoneNumber": number})
                accounts.append((name, password))
        return accounts

    def _post(self, http: requests.Session, path: str, body: dict[str, Any]) -> str:
        try:
            reply = http.post(self.base_url + path, json=body, timeout=self.timeout_s)
            document = reply.json()
        except (requests.RequestException, ValueError) as exc:
            raise OptionsError(f"--accounts create: POST {path} failed: {type(exc).__name__}") from None
        if not isinstance(document, dict) or document.get("statusCode") != 0:
            raise OptionsError(
                f"--accounts create: POST {path} as {self.admin[0]} was refused (HTTP {reply.status_code}, "
                f"{str(document)[:200]})"
            )
        return str(document.get("id", ""))

    def remove(self) -> list[str]:
        """Delete every created user; the ids that could not be deleted (a line for the person to act on)."""
        left: list[str] = []
        with requests.Session() as http:
            http.auth = self.admin
            http.trust_env = False
            for user_id in self.created:
                try:
                    reply = http.delete(f"{self.base_url}/users/{user_id}", timeout=self.timeout_s)
                    removed = reply.json().get("statusCode") == 0
                except (requests.RequestException, ValueError, AttributeError):
                    removed = False
                if not removed:
                    left.append(user_id)
        self.created = left
        return left


def stimulus_spec(spec: str, base_url: str) -> str:
    """The adapter spec the run uses, checked: it loads, and a person (``manual``) is not asked to keep up."""
    if spec == "none":
        return spec
    if spec == "manual":
        raise OptionsError("--stimulus manual: no person keeps up with a load run; use reference or module:Class")
    adapter = build_adapter(spec, base_url)
    if adapter is not None:
        adapter.close()
    return spec


def build_adapter(spec: str, base_url: str) -> StimulusAdapter | None:
    """The run's stimulus adapter, one per load process (``none``: no inbound work)."""
    if spec == "none":
        return None
    try:
        return load_adapter(spec, StimulusContext(settings_for(base_url, None), say=lambda _: None))
    except ConfigError as exc:
        raise OptionsError(str(exc)) from None
