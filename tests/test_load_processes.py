"""The load generator's own machinery: its worker processes (``--processes``) and its HTTP client (wire).

``--processes 2`` runs the command as a master of two worker processes it starts itself: both simulate agents
(the report counts two workers and every agent's session) and their ledgers merge. The HTTP client keeps one connection per origin and sends a request once more on a new connection when
the server closed the kept-alive one as it went out, and only then; requests at once (an agent answering a
call while its own task runs) never share a connection. About 10 s, most of it the one load run.
"""

from __future__ import annotations

import http.server
import json
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.load import main as load_main
from conformance.load import wire
from conformance.load.wire import Client

PATIENT = ["--p99-ms", "60000", "--deadline", "30"]


def test_processes_two_runs_two_workers_of_its_own_and_merges_them(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "conformance.load", "--agents", "6", "--duration", "4", "--processes", "2"]
    command += ["--wait", "0.05,0.2", *PATIENT, "--report-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "2 load generator processes" in output
    document = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    assert document["workers"] == 2
    assert max(row.get("sessions", 0) for row in document["timeline"]) == 6  # both workers' agents reported
    assert document["owed"] > 10 and document["delivered"] == document["owed"]
    assert all(value == 0 for value in document["counters"].values()), document["counters"]
    assert document["rest"]["operations"]["cometd open"]["requests"] == 6  # Locust merged the workers' figures


def test_processes_is_refused_beside_master(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "conformance.load", "--master", "--processes", "2", "--report-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == load_main.EXIT_USAGE, done.stderr
    assert done.stderr.count("\n") == 1 and "--processes" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "load.json").exists()


@pytest.mark.parametrize(
    ("agents", "cores", "expected"), [(10, 2, 1), (100, 2, 1), (101, 2, 2), (200, 2, 2), (500, 2, 2), (500, 16, 5)]
)
def test_default_processes_one_per_hundred_agents_at_most_one_per_core(
    agents: int, cores: int, expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load_main.os, "sched_getaffinity", lambda _: set(range(cores)), raising=False)
    assert load_main.default_processes(agents) == expected


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless told otherwise
    server: _Server

    def do_POST(self) -> None:
        time.sleep(self.server.delay_s)
        self.server.served += 1
        length = int(self.headers.get("Content-Length", 0))
        body = {
            "path": self.path,
            "peer": self.client_address[1],
            "authorization": self.headers.get("Authorization"),
            "sent": json.loads(self.rfile.read(length)) if length else None,
        }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        # Closing without "Connection: close": the client learns it only when it uses the connection again.
        self.close_connection = self.server.close_silently

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    close_silently = False
    delay_s = 0.0
    served = 0


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_the_client_keeps_one_connection_alive_per_origin(server: _Server) -> None:
    client = Client("agent1", "agent1-secret")
    url = f"http://127.0.0.1:{server.server_address[1]}/api/v2/me?fields=*"
    first = client.request("POST", url, json={"operationName": "Ready"})
    second = client.request("GET", url)
    client.close()
    assert first.status_code == 200 and first.json()["path"] == "/api/v2/me?fields=*"
    assert first.json()["sent"] == {"operationName": "Ready"}
    assert first.json()["authorization"] == "Basic YWdlbnQxOmFnZW50MS1zZWNyZXQ="
    assert first.request.body == b'{"operationName": "Ready"}' and first.request.method == "POST"
    assert second.json()["peer"] == first.json()["peer"]  # the same connection
    assert json.loads(second.text)["sent"] is None


def test_a_connection_the_server_closed_is_not_reused(server: _Server) -> None:
    server.close_silently = True
    client = Client("agent1", "agent1-secret")
    url = f"http://127.0.0.1:{server.server_address[1]}/x"
    peers = [client.request("GET", url).json()["peer"] for _ in range(3)]
    client.close()
    assert len(set(peers)) == 3  # each request after the first found its connection closed, and opened one


def test_a_get_that_meets_a_connection_closing_is_sent_once_more_a_post_is_not(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.close_silently = True
    # The server closes between the check and the request: the check sees nothing, the request meets the close.
    monkeypatch.setattr(wire, "_readable", lambda sock: False)
    client = Client("agent1", "agent1-secret")
    url = f"http://127.0.0.1:{server.server_address[1]}/x"
    replies = [client.request("GET", f"{url}?n={n}").json() for n in range(3)]
    assert [r["path"] for r in replies] == ["/x?n=0", "/x?n=1", "/x?n=2"]
    assert server.served == 3  # each sent once to a server that read it
    with pytest.raises(wire._RETRIED):
        client.request("POST", url, json={"n": 3})  # it may have been read: never sent twice
    client.close()
    assert server.served == 3


def test_requests_at_once_never_share_a_connection(server: _Server) -> None:
    server.delay_s = 0.2
    client = Client("agent1", "agent1-secret")
    url = f"http://127.0.0.1:{server.server_address[1]}/x"
    replies: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=lambda n=n: replies.append(client.request("POST", url, json={"n": n}).json()))
        for n in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    client.close()
    assert sorted(r["sent"]["n"] for r in replies) == [0, 1, 2]
    assert len({r["peer"] for r in replies}) == 3


def test_a_server_that_is_not_there_is_an_error_not_a_retry() -> None:
    with socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler) as taken:
        port = taken.server_address[1]
    with pytest.raises(ConnectionRefusedError):
        Client("agent1", "agent1-secret").request("GET", f"http://127.0.0.1:{port}/x", timeout=2)


def test_readable_tells_an_idle_connection_from_a_closed_one_without_waiting() -> None:
    import socket

    mine, theirs = socket.socketpair()
    with mine, theirs:
        mine.settimeout(5.0)
        assert wire._readable(mine) is False and mine.gettimeout() == 5.0
        theirs.close()
        assert wire._readable(mine) is True
