"""What hostile input costs the reference server: its memory and one state change's latency (a benchmark, not a test).

    python benchmarks/hostile_memory.py [--body-mb 100] [--sessions 10000] [--fault NAME ...]

Starts ``gws-reference serve`` on a free loopback port (a child process; ``--fault bayeux-no-body-limit`` or
``--fault no-session-limit`` shows the server without the E96 limits) and prints its resident memory (VmRSS, Linux
/proc) at start, after one unauthenticated Bayeux POST declaring ``--body-mb`` MB (the body is streamed until the
server answers or the whole body is sent), and after ``--sessions`` handshakes of one agent; then the median
latency of ``POST /me`` (a state change, fanned out to every session of the agent) over 20 requests.
Issue 14 measured, before the limits: 46 -> 351 MB for 100 MB, and 25.8 ms per POST /me with 10,000 sessions.
"""

from __future__ import annotations

import argparse
import base64
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

AGENT = ("agent1", "agent1-secret")  # fixtures/contact-center.yaml
CHUNK = b" " * (1024 * 1024)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS (Linux /proc only)")


def wait_until_serving(base: str, deadline_s: float = 20.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/api/v2/me", auth=AGENT, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)  # a child process starting: nothing to await but its port
    raise RuntimeError("the reference server did not start")


def big_body(port: int, megabytes: int) -> tuple[str, float]:
    """Stream an unauthenticated ``megabytes`` MB Bayeux body; the server's status line and the seconds it took."""
    started = time.monotonic()
    head = (
        b"POST /api/v2/notifications HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n[" % (megabytes * len(CHUNK) + 2)
    )
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        reply = b""
        try:
            for _ in range(megabytes):
                try:
                    reply += sock.recv(65536)  # answered early: stop sending
                    if reply:
                        break
                except BlockingIOError:
                    pass
                sock.setblocking(True)
                sock.sendall(CHUNK)
                sock.setblocking(False)
            else:
                sock.setblocking(True)
                sock.sendall(b"]")
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.setblocking(True)
        sock.settimeout(60)
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    return reply.split(b"\r\n", 1)[0].decode(errors="replace"), time.monotonic() - started


def flood(base: str, sessions: int) -> tuple[int, int]:
    """``sessions`` handshakes of the agent, ten per request; (succeeded, refused)."""
    succeeded = refused = 0
    handshake = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
    with httpx.Client(auth=AGENT, timeout=30) as http:
        for start in range(0, sessions, 10):
            batch = [handshake] * min(10, sessions - start)
            for reply in http.post(f"{base}/api/v2/notifications", json=batch).json():
                if reply.get("successful") is True:
                    succeeded += 1
                else:
                    refused += 1
    return succeeded, refused


def post_me_median_ms(base: str) -> float:
    token = base64.b64encode(f"{AGENT[0]}:{AGENT[1]}".encode()).decode()
    timings = []
    with httpx.Client(headers={"Authorization": f"Basic {token}"}, timeout=30) as http:
        for i in range(20):
            started = time.perf_counter()
            http.post(f"{base}/api/v2/me", json={"operationName": "Ready" if i % 2 else "NotReady"})
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--body-mb", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--fault", action="append", default=[])
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "reference_impl", "serve", "--port", str(port)]
    for fault in args.fault:
        command += ["--fault", fault]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(base)
        print(f"faults: {', '.join(args.fault) or 'none'}")
        print(f"RSS at start: {rss_mb(server.pid):.1f} MB")
        status, seconds = big_body(port, args.body_mb)
        print(
            f"{args.body_mb} MB unauthenticated Bayeux body: {status!r} after {seconds:.2f} s; "
            f"RSS {rss_mb(server.pid):.1f} MB"
        )
        succeeded, refused = flood(base, args.sessions)
        print(
            f"{args.sessions} handshakes of one agent: {succeeded} succeeded, {refused} refused; "
            f"RSS {rss_mb(server.pid):.1f} MB"
        )
        print(f"POST /me median over 20: {post_me_median_ms(base):.1f} ms")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
