"""An HTTP forward proxy nobody here wrote (npm "proxy", tests/js/forward_proxy.mjs), for tests of a suite that
reaches its target through ``HTTPS_PROXY`` / ``HTTP_PROXY``, as a vendor behind a corporate proxy does.

``serve()`` starts it on 127.0.0.1 and stops it when the block ends; ``ForwardProxy.carried`` lists what it
carried so far: one ``(method, target)`` per tunnel (``CONNECT``, "host:port") or forwarded request. The host
names ``serve(resolves=...)`` gives it, it alone resolves: a client that goes around it cannot reach them, as
behind a corporate proxy that is the only way out.

Needs node and tests/js/node_modules (CI runs `npm ci` in tests/js); ``SKIP_REASON`` says which is missing.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
from collections.abc import Iterator, Mapping

from processes import JS_DIR, NODE, announced, node_skip_reason

SCRIPT = "forward_proxy.mjs"
SKIP_REASON = node_skip_reason("proxy")
START_DEADLINE_S = 15.0


class ForwardProxy:
    def __init__(self, origin: str, process: subprocess.Popen[str]) -> None:
        self.origin = origin  # http://127.0.0.1:PORT: what HTTPS_PROXY names
        self._carried: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._reader.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            entry = json.loads(line)
            with self._lock:
                self._carried.append((entry["method"], entry["target"]))

    @property
    def carried(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._carried)


@contextlib.contextmanager
def serve(resolves: Mapping[str, str] | None = None) -> Iterator[ForwardProxy]:
    """``resolves``: host name -> address, names only the proxy knows."""
    assert NODE is not None, SKIP_REASON
    names = [f"{name}={address}" for name, address in (resolves or {}).items()]
    with announced([NODE, SCRIPT, *names], JS_DIR, "http://127.0.0.1:", START_DEADLINE_S) as (process, origin):
        yield ForwardProxy(origin, process)
