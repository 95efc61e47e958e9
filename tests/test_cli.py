"""``gws-conformance``: every bad input ends within seconds with one line naming it and its exit code.

2  usage or configuration: malformed URL, missing or malformed config, unknown profile, area or
   requirement ID, no account, credentials the target refuses, a bad baseline
3  the target is unreachable, hangs, or is not a GWS server
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_reference import PASSWORDS, serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from conformance.cli import EXIT_TARGET, EXIT_USAGE, MAX_DEFAULT_WORKERS, _default_workers, build_parser, main
from reference_impl.embedded import serve_in_thread

# Generous for a loaded CI machine; the preflight itself gives up after 5 s.
FAST_S = 10


@pytest.fixture(autouse=True)
def _no_gws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("GWS_"):
            monkeypatch.delenv(name)


def _one_line_failure(argv: list[str], capsys: pytest.CaptureFixture[str], code: int, *fragments: str) -> None:
    started = time.monotonic()
    try:
        returned = main(argv)
    except SystemExit as exited:  # argparse's usage errors
        returned = int(exited.code or 0)
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert returned == code, err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("gws-conformance"), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    assert elapsed < FAST_S


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def target_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for role, password in PASSWORDS.items():
        monkeypatch.setenv(f"GWS_{role.upper()}_PASSWORD", password)


# -- exit 2: the person's input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["run", "--target", "htp:/nowhere"], ("--target 'htp:/nowhere'", "not an http(s) URL")),
        (["run", "--target", "http://host:99999/api/v2"], ("--target",)),
        (["run", "--profile", "fast"], ("--profile", "invalid choice: 'fast'")),
        (["run", "--requirement", "GWS-FOO-001"], ("unknown requirement ID GWS-FOO-001",)),
        (["run", "--area", "XYZ"], ("unknown area XYZ",)),
        (["run", "-n", "two"], ("-n/--workers",)),
        (["run", "--seed", "abc"], ("--seed", "not an integer")),
        (["run", "--colour"], ("unrecognized arguments",)),
        (["launch"], ("invalid choice: 'launch'",)),
        (["requirements", "--level", "COULD"], ("--level",)),
        (["diff", "/no/such/old.json", "/no/such/new.json"], ("/no/such/old.json", "cannot read")),
    ],
)
def test_bad_arguments(argv: list[str], fragments: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    _one_line_failure(argv, capsys, EXIT_USAGE, *fragments)


def test_missing_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _one_line_failure(["run", "--config", str(tmp_path / "absent.toml")], capsys, EXIT_USAGE, "no such file")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('base_url = "http://x\n', "malformed TOML"),
        ("colour = 1\n", "unknown key 'colour'"),
        ('base_url = "ftp://x/api/v2"\n', "not an http(s) URL"),
        ("request_timeout_s = -1\n", "positive number of seconds"),
    ],
)
def test_malformed_config_file(tmp_path: Path, content: str, fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "gws.toml"
    config.write_text(content, encoding="utf-8")
    _one_line_failure(["run", "--config", str(config)], capsys, EXIT_USAGE, "configuration:", fragment)


def test_a_stimulus_adapter_that_cannot_be_loaded(capsys: pytest.CaptureFixture[str]) -> None:
    _one_line_failure(["run", "--stimulus", "no_such_module:Adapter"], capsys, EXIT_USAGE, "cannot load")


@pytest.mark.usefixtures("target_env")
@pytest.mark.parametrize("configured", ["option", "environment"])
def test_the_manual_stimulus_refuses_parallel_workers(
    configured: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve() as live:
        argv = ["run", "--target", live.base_url, "-n", "2"]
        if configured == "option":
            argv += ["--stimulus", "manual"]
        else:
            monkeypatch.setenv("GWS_STIMULUS", "manual")
        _one_line_failure(argv, capsys, EXIT_USAGE, "manual stimulus", "without -n")


@pytest.mark.parametrize(
    ("chosen", "stimulus", "cores", "workers"),
    [
        (None, "reference", 2, "4"),  # two per core: a worker waiting on the server leaves its core to another
        (None, "reference", 32, str(MAX_DEFAULT_WORKERS)),  # ... up to the useful number
        (None, "reference", 1, "0"),  # one core: no worker processes at all
        (None, "manual", 8, "0"),  # one person at one terminal
        ("auto", "reference", 8, "auto"),  # what is asked for is what runs
        ("0", "reference", 8, "0"),
        ("2", "reference", 8, "2"),
    ],
)
def test_workers_by_default_on_this_machine(
    chosen: str | None, stimulus: str, cores: int, workers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded reference and a target on this machine alike: both share the cores."""
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert _default_workers(chosen, stimulus) == workers


def test_a_bad_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text("known_failures:\n  - {test: x}\n", encoding="utf-8")
    _one_line_failure(["run", "--baseline", str(baseline)], capsys, EXIT_USAGE, "needs a 'reason'")


def test_no_account_configured(capsys: pytest.CaptureFixture[str]) -> None:
    with serve() as live:
        _one_line_failure(["run", "--target", live.base_url], capsys, EXIT_USAGE, "GWS_AGENT1_PASSWORD")


@pytest.mark.usefixtures("target_env")
def test_wrong_credentials(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GWS_SUPERVISOR_PASSWORD", "not-the-password")
    with serve() as live:
        _one_line_failure(
            ["run", "--target", live.base_url],
            capsys,
            EXIT_USAGE,
            "refused the credentials of supervisor",
            "GWS_SUPERVISOR_PASSWORD",
        )


# -- exit 3: the target ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("target_env")
def test_unreachable_target(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_free_port()}/api/v2"
    _one_line_failure(["run", "--target", url], capsys, EXIT_TARGET, "unreachable", "connection refused")


@pytest.mark.usefixtures("target_env")
def test_unknown_host(capsys: pytest.CaptureFixture[str]) -> None:
    _one_line_failure(["run", "--target", "http://gws.invalid/api/v2"], capsys, EXIT_TARGET, "unreachable")


@pytest.fixture
def silent_socket() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


@pytest.mark.usefixtures("target_env")
def test_a_target_that_never_answers(
    silent_socket: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GWS_REQUEST_TIMEOUT_S", "1")
    url = f"http://127.0.0.1:{silent_socket}/api/v2"
    _one_line_failure(["run", "--target", url], capsys, EXIT_TARGET, "no answer to GET /me within 1 s")


async def _not_found_page(request: Request) -> HTMLResponse:
    return HTMLResponse("<h1>Not Found</h1>", status_code=404)


@pytest.mark.usefixtures("target_env")
def test_a_target_that_is_not_a_gws_server(capsys: pytest.CaptureFixture[str]) -> None:
    app = Starlette(routes=[Route("/{path:path}", _not_found_page)])
    with serve_in_thread(app) as server:
        _one_line_failure(
            ["run", "--target", server.base_url], capsys, EXIT_TARGET, "does not look like a GWS API", "HTTP 404"
        )


def test_the_installed_command_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GWS_")}
    env["GWS_AGENT1_PASSWORD"] = "x"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "run",
            "--target",
            f"http://127.0.0.1:{_free_port()}/api/v2",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == EXIT_TARGET
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


# -- the other commands ----------------------------------------------------------------------------------


def test_requirements_filters_by_area_and_level(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["requirements", "--area", "gen", "--level", "should"]) == 0
    out = capsys.readouterr().out
    assert "GWS-GEN-003" in out and "SHOULD" in out
    assert "GWS-GEN-001" not in out and "GWS-CALL-" not in out


def test_requirements_as_markdown_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["requirements", "--area", "REC", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("| ID | Level | Section | Requirement |")
    assert main(["requirements", "--area", "REC", "--format", "json"]) == 0
    assert '"id": "GWS-REC-001"' in capsys.readouterr().out


def test_serve_shares_the_reference_servers_options() -> None:
    arguments = build_parser().parse_args(
        ["serve", "--port", "0", "--stimulus", "--fault", "reply-without-status-code"]
    )
    assert (arguments.port, arguments.stimulus, arguments.fault) == (0, True, ["reply-without-status-code"])


def test_serve_refuses_a_taken_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == EXIT_USAGE
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err


def test_gws_insecure_is_announced_before_the_target_is_asked_anything(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GWS_INSECURE", "1")
    returned = main(["run", "--target", f"https://127.0.0.1:{_free_port()}/api/v2"])
    err = capsys.readouterr().err.splitlines()
    assert returned == EXIT_TARGET
    assert "GWS_INSECURE is set: TLS certificates are NOT verified" in err[0] and "unreachable" in err[1]
