"""A keep-alive connection closed under a request: retried once for safe methods, recorded, never blamed blindly.

The server here is a raw socket that follows a script per connection, so the close comes exactly where a
server's keep-alive timer (or a middlebox) would put it: after the request arrived on a reused connection,
before any byte of an answer.
"""

from __future__ import annotations

import functools
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import pytest

from conformance import bayeux
from conformance.client import GwsClient
from conformance.config import load_settings
from conformance.errors import TargetProtocolError
from conformance.stimulus import StimulusContext, reference

ANSWER = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"statusCode":0}'


class ScriptedServer:
    """Serves connections one after another; for each, ``script`` says per request "answer" or "close"."""

    def __init__(self, script: Sequence[Sequence[str]]) -> None:
        self.script = [list(actions) for actions in script]
        self.requests: list[tuple[int, bytes]] = []  # (connection number, request line) as received
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)  # accept wakes up to see whether the test is over
        self._stop = threading.Event()
        self.port = int(self._socket.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        for number, actions in enumerate(self.script):
            connection = self._accept()
            if connection is None:
                return
            with connection:
                for action in actions:
                    request = _read_request(connection)
                    if request is None:
                        break
                    self.requests.append((number, request.split(b"\r\n", 1)[0]))
                    if action == "close":
                        break
                    connection.sendall(ANSWER)

    def _accept(self) -> socket.socket | None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return None
            connection.settimeout(5)
            return connection
        return None

    def close(self) -> None:
        self._stop.set()
        self._socket.close()
        self._thread.join(timeout=5)


def _read_request(connection: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head


@pytest.fixture
def scripted() -> Iterator[list[ScriptedServer]]:
    made: list[ScriptedServer] = []
    yield made
    for server in made:
        server.close()


def client_of(servers: list[ScriptedServer], *script: Sequence[str]) -> tuple[GwsClient, ScriptedServer]:
    server = ScriptedServer(script)
    servers.append(server)
    settings = load_settings(
        env={"GWS_BASE_URL": f"http://127.0.0.1:{server.port}/api/v2", "GWS_AGENT1_PASSWORD": "ag1-Secret-pw"}
    )
    return GwsClient(settings, settings.credentials("agent1")), server


def test_a_get_on_a_connection_closed_under_it_is_sent_again_once_and_both_attempts_are_recorded(
    scripted: list[ScriptedServer],
) -> None:
    client, server = client_of(scripted, ["answer", "close"], ["answer"])
    with client:
        assert client.get("/me").status_code == 200
        assert client.get("/me", params={"subresources": "*"}).status_code == 200
    assert [number for number, _ in server.requests] == [0, 0, 1]
    first, given_up, retried = client.recorder.exchanges
    assert first.error is None and retried.error is None and retried.response is not None
    assert given_up.response is None and given_up.error is not None
    assert "Server disconnected without sending a response" in given_up.error
    assert "retried on a new connection" in given_up.error
    assert given_up.request.url == retried.request.url and given_up.seq < retried.seq


def test_a_post_is_never_sent_twice_and_its_failure_says_the_target_may_not_have_seen_it(
    scripted: list[ScriptedServer],
) -> None:
    client, server = client_of(scripted, ["answer", "close"], ["answer"])
    with client:
        client.get("/me")
        with pytest.raises(TargetProtocolError, match="may never have seen it; POST is not retried"):
            client.post("/me", json={"operationName": "Ready"})
    assert [number for number, _ in server.requests] == [0, 0]
    assert len(client.recorder.exchanges) == 2


def test_a_fresh_connection_closed_without_an_answer_is_the_targets_failure(scripted: list[ScriptedServer]) -> None:
    # Nothing closes a connection a moment old but the server that read the request: no retry.
    client, server = client_of(scripted, ["close"], ["answer"])
    with client, pytest.raises(TargetProtocolError, match="without sending a response") as failure:
        client.get("/me")
    assert "reused" not in str(failure.value)
    assert len(server.requests) == 1 and len(client.recorder.exchanges) == 1


def test_a_second_close_in_a_row_is_not_retried_again(scripted: list[ScriptedServer]) -> None:
    # The retry's connection is fresh: a close there is the server failing, whatever the first one was.
    client, server = client_of(scripted, ["answer", "close"], ["close"], ["answer"])
    with client:
        client.get("/me")
        with pytest.raises(TargetProtocolError, match="without sending a response"):
            client.get("/me")
    assert [number for number, _ in server.requests] == [0, 0, 1]
    assert len(client.recorder.exchanges) == 3


@pytest.mark.parametrize("kind", ["stimulus", "bayeux"])
def test_the_stimulus_and_raw_bayeux_clients_drop_idle_connections_before_the_server_does(
    kind: str, scripted: list[ScriptedServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their POSTs are never retried, so a connection idle longer than KEEPALIVE_EXPIRY_S must not be reused: at a
    50 ms round trip, a stimulus POST sent on a connection idle for just under uvicorn's 5 s met the close
    (benchmarks/remote.py -n 4, "Server disconnected without sending a response"). Idle longer than the
    (shortened) expiry, the second POST opens a new connection while the first one is still open."""
    monkeypatch.delenv("GWS_STIMULUS_URL", raising=False)
    monkeypatch.setattr(reference, "KEEPALIVE_EXPIRY_S", 0.2)
    monkeypatch.setattr(bayeux, "KEEPALIVE_EXPIRY_S", 0.2)
    server = ScriptedServer([["answer", "answer"], ["answer"]])
    scripted.append(server)
    origin = f"http://127.0.0.1:{server.port}"
    settings = load_settings(env={"GWS_BASE_URL": f"{origin}/api/v2", "GWS_AGENT1_PASSWORD": "ag1-Secret-pw"})
    send: Callable[[], object]
    if kind == "stimulus":
        stimulus = reference.ReferenceStimulus(StimulusContext(settings))
        send, close = functools.partial(stimulus._post, "/emails", {}), stimulus.close
    else:
        session = bayeux.Bayeux(settings, "agent1")
        send, close = functools.partial(session.http.post, f"{origin}/cometd", json=[]), session.close
    send()
    time.sleep(0.4)  # the idle time is what is tested: longer than the expiry
    send()
    close()
    assert [number for number, _ in server.requests] == [0, 1]
