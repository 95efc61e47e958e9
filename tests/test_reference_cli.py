"""``gws-reference serve``: bad arguments and unreadable data files end with one line and exit code 2."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from reference_impl.cli import main


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "COMMAND"),
        (["launch"], "invalid choice"),
        (["serve", "--port", "http"], "not a port number"),
        (["serve", "--port", "70000"], "out of range"),
        (["serve", "--colour"], "unrecognized arguments"),
        (["serve", "--agents", "many"], "not a number of agents"),
        (["serve", "--agents", "-1"], "out of range"),
    ],
)
def test_bad_arguments(arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No such file"),
        ("users: [\n", "not valid YAML"),
        ("- a list\n", "expected a mapping"),
        ("users:\n  - {userName: x, roles: [ROLE_AGENT]}\n", "users[0]: missing 'id'"),
        (
            "users:\n  - {id: a, userName: u, password: p, firstName: f, lastName: l, roles: [ROLE_AGENT], channels: 5}\n",
            "unexpected content",
        ),
        (
            (
                "recordings:\n  - {id: r, startTime: soon, endTime: later, callerPhoneNumber: '1', "
                "dialedPhoneNumber: '2', userName: u}\n"
            ),
            "ISO-8601",
        ),
    ],
    ids=["missing", "not-yaml", "not-a-mapping", "missing-field", "wrong-kind", "bad-timestamp"],
)
def test_unreadable_data_file(
    tmp_path: Path, content: str | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "contact-center.yaml"
    if content is not None:
        data.write_text(content, encoding="utf-8")
    assert main(["serve", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_python_dash_m_runs_the_same_cli(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reference_impl", "serve", "--data", str(tmp_path / "absent.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("gws-reference: cannot load the contact center:")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stops_in_order_on_a_signal(stop: signal.Signals) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "reference_impl", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert "serving the GWS API at http://127.0.0.1:" in server.stdout.readline()
        server.send_signal(stop)
        _, err = server.communicate(timeout=30)
    finally:
        server.kill()
    assert server.returncode == 0, err
    assert "gws-reference: stopping" in err and "Traceback" not in err
