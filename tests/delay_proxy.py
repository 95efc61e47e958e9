"""A TCP proxy on loopback that adds a round-trip time: a remote target's network, without a network.

Every chunk read on one side is written to the other half the round trip later, in order, without
holding the chunks behind it (a pipe with latency, not a slow link): a request and its answer take one
round trip more, as they do across a real network, and a held /meta/connect is held as long as before.
A close travels with the same delay, so a keep-alive connection the server closes is still open for
the client for half a round trip: the race a real network has (conformance/client.py).

Used by tests/test_remote.py and benchmarks/remote.py; listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["DelayProxy", "delay_proxy"]

CHUNK = 65536


@dataclass
class DelayProxy:
    """A running proxy: where it listens and how many connections it carried."""

    port: int
    rtt_s: float
    connections: int = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay_s: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)  # the network's latency, which is what this proxy is for
            if not data:
                break
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            if writer.can_write_eof():
                writer.write_eof()

    delivery = asyncio.create_task(deliver())
    try:
        while True:
            try:
                data = await reader.read(CHUNK)
            except OSError:
                data = b""
            queue.put_nowait((loop.time() + delay_s, data))
            if not data:
                break
        await delivery
    except (OSError, asyncio.CancelledError):
        delivery.cancel()
    finally:
        writer.close()


@contextlib.contextmanager
def delay_proxy(upstream_host: str, upstream_port: int, rtt_s: float) -> Iterator[DelayProxy]:
    """Proxy 127.0.0.1:<port> to the upstream, adding ``rtt_s`` to every round trip, until the block ends."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    proxy = DelayProxy(port=0, rtt_s=rtt_s)
    server: asyncio.Server | None = None

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        proxy.connections += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(upstream_host, upstream_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            _pipe(client_reader, upstream_writer, rtt_s / 2),
            _pipe(upstream_reader, client_writer, rtt_s / 2),
        )

    async def start() -> None:
        nonlocal server
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        proxy.port = int(server.sockets[0].getsockname()[1])
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, name="delay-proxy", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the delay proxy did not start")
    try:
        yield proxy
    finally:

        async def stop() -> None:
            if server is not None:
                server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
