"""The target a run judges: the embedded reference server started for the run, or a target given by the
user and asked one question before the run starts.

The preflight sends one request (GET /me, within seconds) so that a wrong URL or a wrong password ends the
command at once with one line (UsageError: exit 2; TargetProblem: exit 3), not after a suite of failures.
"""

from __future__ import annotations

import contextlib
import importlib
import ipaddress
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from conformance.errors import TargetProblem, UsageError
from conformance.results import tool_version

__all__ = [
    "EMBEDDED_AGENTS",
    "Target",
    "bayeux_preflight",
    "check_stimulus",
    "check_url",
    "describe_target",
    "embedded_target",
    "on_this_machine",
    "preflight",
]

# The one up-front question must be answered quickly: a target that needs longer is reported as down.
PREFLIGHT_TIMEOUT_S = 5.0
# Preflight asks as the first of these accounts that has a password (agents exist on every target).
PREFLIGHT_ROLES = ("agent1", "admin", "supervisor", "agent2", "agent3")
EMBEDDED_QUIET_WINDOW_S = "0.15"
# Agent accounts the embedded reference offers: agent1..agent3 for the tests that name them, and three more
# for each of two workers' scenarios, which then run side by side (conformance.scheduling).
EMBEDDED_AGENTS = 9


@dataclass
class Target:
    """A target the command started for the run (the embedded reference)."""

    env: dict[str, str]  # GWS_* variables the suite's process gets on top of the environment
    description: str
    server: str | None


@contextlib.contextmanager
def embedded_target(stimulus: str | None, faults: Sequence[str] = (), *, csrf: bool = False) -> Iterator[Target]:
    """The reference server with its stimulus API, on a free loopback port, for the duration of the run; ``csrf``:
    in its CSRF mode (E103)."""
    from conformance.config import ROLES
    from reference_impl.app import create_app
    from reference_impl.embedded import serve_in_thread
    from reference_impl.store import Store

    store = Store.from_file(agents=EMBEDDED_AGENTS)
    app = create_app(store, stimulus=True, csrf=csrf, faults=faults)
    with serve_in_thread(app, "127.0.0.1", 0) as server:
        env = {"GWS_BASE_URL": server.base_url, "GWS_STIMULUS": stimulus or "reference"}
        env["GWS_AGENTS"] = str(EMBEDDED_AGENTS)
        for role in (*ROLES, *(f"agent{n}" for n in range(4, EMBEDDED_AGENTS + 1))):
            user = store.user_by_name(role)
            if user is not None:
                env[f"GWS_{role.upper()}_USER"] = user.user_name
                env[f"GWS_{role.upper()}_PASSWORD"] = user.password
        # Nothing from the environment may point the suite elsewhere than the embedded server.
        env["GWS_COMETD_URL"] = f"{server.base_url}/notifications"
        # On loopback a message arrives within milliseconds (25-43 ms after its publish, tests/test_bayeux.py),
        # and the reference sends no duplicate or stray message that a longer window would catch: a fraction
        # of the 2 s a remote target gets is enough (GWS_QUIET_WINDOW_S still wins). The scenarios' windows
        # are most of a run's time. Margin: the quick profile passed with 0.1 s under four CPU-bound
        # processes on two cores (load average 5), three runs of three.
        env["GWS_QUIET_WINDOW_S"] = os.environ.get("GWS_QUIET_WINDOW_S") or EMBEDDED_QUIET_WINDOW_S
        version = tool_version()
        what = "embedded reference server" + (" in CSRF mode" if csrf else "")
        what += f" with fault {', '.join(faults)}" if faults else ""
        yield Target(env, f"{server.base_url} ({what})", f"gws-reference {version} (embedded)")


def check_url(url: str, option: str = "--target") -> None:
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError as exc:
        raise UsageError(f"{option} {url!r}: not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise UsageError(f"{option} {url!r}: not an http(s) URL with a host, e.g. https://gws.example.com/api/v2")


def describe_target(settings: Any) -> str:
    if settings.target_kind == "bayeux":
        return f"{settings.cometd_url} (a generic Bayeux server: the protocol alone is judged)"
    return str(settings.base_url)


def bayeux_preflight(settings: Any) -> str | None:
    """One handshake decides whether a generic Bayeux target can be judged; returns its Server header."""
    import httpx

    from conformance.bayeux import probe

    if settings.origins.get("GWS_COMETD_URL", "default") == "default":
        raise UsageError(
            "a generic Bayeux target (--target-kind bayeux) needs its endpoint: --cometd-url URL or GWS_COMETD_URL"
        )
    url = settings.cometd_url
    try:
        response, reply = probe(settings, timeout_s=min(PREFLIGHT_TIMEOUT_S, settings.request_timeout_s))
    except httpx.TimeoutException:
        raise TargetProblem(f"Bayeux target {url}: no answer to a /meta/handshake") from None
    except httpx.ConnectError as exc:
        raise TargetProblem(f"Bayeux target {url} is unreachable: {_reason(exc)}") from None
    except httpx.HTTPError as exc:
        raise TargetProblem(f"Bayeux target {url}: {type(exc).__name__}: {_reason(exc)}") from None
    if reply is None:
        kind = response.headers.get("content-type", "no content type")
        raise TargetProblem(
            f"{url} does not look like a Bayeux server: a /meta/handshake posted there answered HTTP "
            f"{response.status_code} ({kind}), not a JSON array with the /meta/handshake reply"
        )
    server: str | None = response.headers.get("server")
    return server


def check_stimulus(spec: str) -> None:
    """A plug-in adapter that cannot be imported is the user's input error, found before the run."""
    from conformance.stimulus import BUILT_IN, StimulusAdapter

    if spec == "none":
        return
    module_name, _, class_name = BUILT_IN.get(spec, spec).partition(":")
    try:
        adapter = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise UsageError(
            f"--stimulus {spec}: cannot load {module_name}:{class_name} ({type(exc).__name__}: {exc})"
        ) from None
    if not (isinstance(adapter, type) and issubclass(adapter, StimulusAdapter)):
        raise UsageError(f"--stimulus {spec}: {module_name}:{class_name} is not a StimulusAdapter subclass")


def preflight(settings: Any, roles: Sequence[str]) -> str | None:
    """One request decides whether the run can start; then each configured account's credentials.

    Returns what the target says about itself (its Server header), if anything.
    """
    import httpx

    accounts = [settings.users[r] for r in (*PREFLIGHT_ROLES, *roles) if settings.users[r].password is not None]
    accounts = list({a.role: a for a in accounts}.values())
    url = f"{settings.base_url}/me"
    timeout = min(PREFLIGHT_TIMEOUT_S, settings.request_timeout_s)
    with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False) as http:
        # Reachability and "is it GWS?" first: asked with the first account, or without one.
        first = accounts[0] if accounts else None
        response = _ask(http, url, settings.base_url, (first.user, first.password) if first else None)
        body = _json_object(response)
        if first is None:
            if response.status_code != 401 and (body is None or "statusCode" not in body):
                raise TargetProblem(_not_gws(settings.base_url, response))
            raise UsageError(
                "no account is configured: set GWS_AGENT1_PASSWORD (and GWS_ADMIN_PASSWORD, "
                "GWS_SUPERVISOR_PASSWORD, GWS_AGENT2_PASSWORD, GWS_AGENT3_PASSWORD) or [users.<role>] in the "
                "configuration file"
            )
        server: str | None = response.headers.get("server")
        for index, account in enumerate(accounts):
            if index:
                response = _ask(http, url, settings.base_url, (account.user, account.password))
                body = _json_object(response)
            if response.status_code in (401, 403) or (body is not None and body.get("statusCode") == 3):
                raise UsageError(
                    f"the target refused the credentials of {account.role} (user {account.user!r}, HTTP "
                    f"{response.status_code} on GET /me): check GWS_{account.role.upper()}_USER and "
                    f"GWS_{account.role.upper()}_PASSWORD"
                )
            if index == 0 and (body is None or not ("user" in body or "statusCode" in body)):
                raise TargetProblem(_not_gws(settings.base_url, response))
    return server


def _ask(http: Any, url: str, base_url: str, auth: tuple[str, str] | None) -> Any:
    import httpx

    # Each account is asked on its own merits: a session cookie the previous one was given (E88) must not answer
    # for the next account's credentials.
    http.cookies.clear()
    try:
        return http.get(url, auth=auth)
    except httpx.TimeoutException:
        raise TargetProblem(f"target {base_url}: no answer to GET /me within {http.timeout.read:g} s") from None
    except httpx.ConnectError as exc:
        raise TargetProblem(f"target {base_url} is unreachable: {_reason(exc)}") from None
    except httpx.HTTPError as exc:
        raise TargetProblem(
            f"target {base_url} does not speak HTTP as expected: {type(exc).__name__}: {_reason(exc)}"
        ) from None


def _not_gws(base_url: str, response: Any) -> str:
    kind = response.headers.get("content-type", "no content type")
    return (
        f"{base_url} does not look like a GWS API: GET /me answered HTTP {response.status_code} ({kind}), "
        "not a JSON object with the user"
    )


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "host name not found"
    return text


def _json_object(response: Any) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def on_this_machine(url: str) -> bool:
    """Whether ``url`` names this machine (a loopback name or address): such a target shares its cores."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
