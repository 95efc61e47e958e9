"""What the recording proxy adds to an exchange on loopback (a benchmark, not a test).

    python benchmarks/proxy_latency.py [--requests N] [--gzip]

Serves the reference server and ``gws-conformance proxy``'s app (judging and recording, as the command does) on
127.0.0.1, then sends the same requests directly and through the proxy, interleaved so that load on the machine
falls on both alike: GET /me (a small JSON reply the proxy rewrites: it names the user's URI), GET /me/devices
(a list of URIs) and a /meta/connect with advice timeout 0 (long-polling, answered at once). Prints the median
and 90th percentile of each, direct and proxied, and the added median per exchange (target: under 1 ms).
With ``--gzip`` the reference compresses every reply (Starlette's GZipMiddleware): the proxy then decodes each,
and encodes again those that name the upstream (GET /me, GET /me/devices; conformance.passive.rewrite).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
from starlette.middleware.gzip import GZipMiddleware

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance.passive.judge import Judge
from conformance.passive.proxy import Proxy
from reference_impl.app import create_app
from reference_impl.embedded import serve_in_thread

AUTH = ("agent1", "agent1-secret")


def timed(client: httpx.Client, method: str, url: str, **kwargs: object) -> float:
    started = time.perf_counter()
    response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
    response.read()
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=300, help="exchanges of each kind per route (default 300)")
    parser.add_argument("--gzip", action="store_true", help="the reference gzip-compresses every reply")
    args = parser.parse_args()
    app = GZipMiddleware(create_app(), minimum_size=0) if args.gzip else create_app()
    with serve_in_thread(app) as reference:
        proxy = Proxy(reference.origin, Judge())
        with serve_in_thread(proxy, server_headers=False) as front, httpx.Client(auth=AUTH, timeout=10) as client:
            handshake = [{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}]
            sessions = {}
            for origin in (reference.origin, front.origin):
                reply = client.post(f"{origin}/api/v2/notifications", json=handshake).json()
                sessions[origin] = reply[0]["clientId"]
            kinds = {
                "GET /me": lambda o: ("GET", f"{o}/api/v2/me", {}),
                "GET /me/devices": lambda o: ("GET", f"{o}/api/v2/me/devices", {}),
                "/meta/connect": lambda o: (
                    "POST",
                    f"{o}/api/v2/notifications",
                    {
                        "json": [
                            {
                                "channel": "/meta/connect",
                                "clientId": sessions[o],
                                "connectionType": "long-polling",
                                "advice": {"timeout": 0},
                            }
                        ]
                    },
                ),
            }
            replies = "gzip-compressed replies" if args.gzip else "plain replies"
            print(
                f"loopback, {replies}, {args.requests} exchanges per kind and route, "
                f"load average {os.getloadavg()[0]:.2f}"
            )
            print(
                f"{'exchange':<16} {'direct median':>14} {'proxied median':>15} {'added':>9} {'direct p90':>11} {'proxied p90':>12}"
            )
            added_all = []
            for name, make in kinds.items():
                samples: dict[str, list[float]] = {reference.origin: [], front.origin: []}
                for _ in range(args.requests):
                    for origin in (reference.origin, front.origin):
                        method, url, kwargs = make(origin)
                        samples[origin].append(timed(client, method, url, **kwargs))
                direct, proxied = samples[reference.origin], samples[front.origin]
                added = statistics.median(proxied) - statistics.median(direct)
                added_all.append(added)
                p90 = lambda xs: statistics.quantiles(xs, n=10)[-1]  # noqa: E731
                print(
                    f"{name:<16} {statistics.median(direct) * 1000:>11.3f} ms {statistics.median(proxied) * 1000:>12.3f} ms "
                    f"{added * 1000:>6.3f} ms {p90(direct) * 1000:>8.3f} ms {p90(proxied) * 1000:>9.3f} ms"
                )
            print(f"judged {proxy.judged().tally.line()}")
            print(f"added median latency per exchange (worst kind): {max(added_all) * 1000:.3f} ms")


if __name__ == "__main__":
    main()
