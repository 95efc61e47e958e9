"""``gws-reference serve``: run the reference server (also ``python -m reference_impl``).

``gws-conformance serve`` is the same command: it borrows ``add_serve_arguments`` and ``serve``.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from reference_impl import faults, population
from reference_impl.store import FixtureError, Store

__all__ = ["add_serve_arguments", "main", "serve"]

EXIT_USAGE = 2
# How often the waiting main thread wakes up, so Ctrl-C is handled promptly on every platform.
_WAKE_S = 0.5


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gws-reference", description="GWS API v2 (8.5) reference server.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve_arguments(commands.add_parser("serve", help="serve the REST API and CometD on one port"))
    return parser


def add_serve_arguments(serve_parser: argparse.ArgumentParser) -> None:
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve_parser.add_argument(
        "--port", type=_port, default=8080, help="TCP port, 0 for any free one (default: %(default)s)"
    )
    serve_parser.add_argument(
        "--data", metavar="PATH", help="contact-center file (default: fixtures/contact-center.yaml)"
    )
    serve_parser.add_argument(
        "--stimulus", action="store_true", help="also serve the control API that plays the outside world"
    )
    serve_parser.add_argument(
        "--csrf", action="store_true", help="require X-CSRF-TOKEN on requests authenticated by the session cookie alone"
    )
    serve_parser.add_argument(
        "--agents",
        type=_agent_count,
        default=0,
        metavar="N",
        help="offer agent accounts agent1 .. agentN (password agentN-secret), adding those the file lacks",
    )
    serve_parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="commit one deliberate violation (repeatable); '--fault list' prints them all",
    )


def _agent_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of agents: {text!r}") from None
    if not 0 <= count <= population.MAX_AGENTS:
        raise argparse.ArgumentTypeError(f"agent count out of range 0..{population.MAX_AGENTS}: {count}")
    return count


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port < 65536:
        raise argparse.ArgumentTypeError(f"port out of range 0..65535: {port}")
    return port


def serve(arguments: argparse.Namespace, prog: str = "gws-reference") -> int:
    """Serve until interrupted; bad data or an address that cannot be bound: one line on stderr, exit 2."""
    if "list" in arguments.fault:
        print("\n".join(faults.describe()))
        return 0
    try:
        faults.Faults.parse(arguments.fault)
    except faults.UnknownFault as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        store = Store.from_file(arguments.data, agents=arguments.agents)
    except FixtureError as exc:
        print(f"{prog}: cannot load the contact center: {exc}", file=sys.stderr)
        return EXIT_USAGE

    from reference_impl.app import create_app
    from reference_impl.embedded import serve_in_thread  # only the serve path needs uvicorn

    try:
        app = create_app(store, stimulus=arguments.stimulus, csrf=arguments.csrf, faults=arguments.fault)
    except RuntimeError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # A service manager or container runtime stops with SIGTERM: the same orderly stop as Ctrl-C (held
    # CometD connects answered, the port released), not an abrupt death. Either may come at any moment,
    # even while the first line is printed: leaving the block stops the server wherever it came.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with serve_in_thread(app, arguments.host, arguments.port, log_level="info", access_log=True) as server:
            print(f"{prog}: serving the GWS API at {server.base_url} (Ctrl-C stops)", flush=True)
            while not server.wait(_WAKE_S):
                pass
    except KeyboardInterrupt:
        print(f"{prog}: stopping", file=sys.stderr)
    except OSError as exc:
        print(f"{prog}: cannot listen on {arguments.host}:{arguments.port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)  # bad arguments: usage on stderr, exit 2
    return serve(arguments)


if __name__ == "__main__":
    sys.exit(main())
