"""``gws-reference serve``: run the reference server (also ``python -m reference_impl``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from reference_impl import faults
from reference_impl.store import FixtureError, Store

__all__ = ["main"]

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gws-reference", description="GWS API v2 (8.5) reference server.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve the REST API and CometD on one port")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=_port, default=8080, help="TCP port (default: %(default)s)")
    serve.add_argument("--data", metavar="PATH", help="contact-center file (default: fixtures/contact-center.yaml)")
    serve.add_argument(
        "--stimulus", action="store_true", help="also serve the control API that plays the outside world"
    )
    serve.add_argument("--csrf", action="store_true", help="open cookie sessions and require X-CSRF-TOKEN on them")
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="commit one deliberate violation (repeatable); '--fault list' prints them all",
    )
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port out of range 1..65535: {port}")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)  # bad arguments: usage on stderr, exit 2
    if "list" in arguments.fault:
        print("\n".join(faults.describe()))
        return 0
    try:
        faults.Faults.parse(arguments.fault)
    except faults.UnknownFault as exc:
        print(f"gws-reference: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        store = Store.from_file(arguments.data)
    except FixtureError as exc:
        print(f"gws-reference: cannot load the contact center: {exc}", file=sys.stderr)
        return EXIT_USAGE

    import uvicorn  # only the serve path needs the server

    from reference_impl.app import create_app

    try:
        app = create_app(store, stimulus=arguments.stimulus, csrf=arguments.csrf, faults=arguments.fault)
    except RuntimeError as exc:
        print(f"gws-reference: {exc}", file=sys.stderr)
        return EXIT_USAGE
    uvicorn.run(app, host=arguments.host, port=arguments.port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
