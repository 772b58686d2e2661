"""The `vectorize-nb` command (also `python -m vectorize_nb`).

    vectorize-nb serve [--path DIR | --memory] [--host 127.0.0.1] [--port 8787] [--token T] [--apply-delay S]
                       [--allow-origin ORIGIN ...] [--allow-remote-without-token]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from .environment import DEFAULT_PATH, PATH_ENV, SERVE_PORT, SERVE_TOKEN_ENV as TOKEN_ENV, engine_folder
from .extras import require
from .version import __version__

__all__ = ["main", "TOKEN_ENV"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vectorize-nb", description="Tools for vectorize-nb.")
    parser.add_argument("--version", action="version", version=f"vectorize-nb {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="serve the local engine over Cloudflare's Vectorize v2 REST API",
        description="Serve the embedded engine at http://HOST:PORT/client/v4, the base URL Cloudflare's "
                    "clients take (wrangler: CLOUDFLARE_API_BASE_URL; the Python SDK: base_url=).")
    where = serve.add_mutually_exclusive_group()
    where.add_argument("--path", default=None, help=f"store folder (default: ${PATH_ENV} or ./{DEFAULT_PATH})")
    where.add_argument("--memory", action="store_true", help="keep everything in memory")
    serve.add_argument("--host", default="127.0.0.1",
                       help="interface to bind (default: 127.0.0.1); another than loopback needs a token")
    serve.add_argument("--port", type=int, default=SERVE_PORT, help=f"port (default: {SERVE_PORT}; 0 picks a free one)")
    serve.add_argument("--token", default=os.environ.get(TOKEN_ENV),
                       help=f"require 'Authorization: Bearer TOKEN' (default: ${TOKEN_ENV}, else none). Prefer the "
                            "variable: a token on the command line is visible to other users in ps")
    serve.add_argument("--apply-delay", type=float, default=0.0,
                       help="apply writes this many seconds late, as the real service does (default: 0)")
    serve.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                       help="let web pages from ORIGIN (e.g. http://localhost:3000) call the server, with CORS "
                            "headers; repeatable. Without a token, other pages are refused")
    serve.add_argument("--allow-remote-without-token", action="store_true",
                       help="serve a --host other than loopback without a token: anyone who reaches the port "
                            "can read and write every index")
    return parser


def _serve(args: argparse.Namespace) -> int:
    try:
        require("waitress", "vectorize-nb serve")
        from .local.server import open_server
    except ImportError as exc:
        print(exc, file=sys.stderr)
        return 2
    path = None if args.memory else engine_folder(args.path)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    where = "memory" if args.memory else str(path)
    try:
        server = open_server(path, memory=args.memory, host=args.host, port=args.port, token=args.token,
                             apply_delay=args.apply_delay, allowed_origins=args.allow_origin,
                             allow_remote_without_token=args.allow_remote_without_token)
    except (ValueError, OSError) as exc:  # a remote host without a token, a bad origin, a folder it cannot open
        print(f"vectorize-nb serve: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C as the open waits for a folder another writer keeps locked
        print(f"vectorize-nb serve: stopped while opening {where}", file=sys.stderr)
        return 130
    try:
        server.start()  # before the signals are taken: stopped as it starts, its thread would be half-started
        _stop_on_signals()  # before the banner: whoever waits for it may stop the server right after
        if hasattr(sys.stdout, "reconfigure"):  # Windows writes a redirected stdout in its ANSI code page,
            sys.stdout.reconfigure(errors="backslashreplace")  # which may not hold the path's characters
        print(f"vectorize-nb serving {where} at {server.url} (any account id works, e.g. {server.account_id}; "
              f"token {'required' if server.token_required else 'not required'})", flush=True)
        server.serve_forever()
    finally:  # stopped as it printed or before it served, or no stdout
        server.close()
    return 0


def _stop_on_signals() -> None:
    """Ctrl-C, SIGTERM and Ctrl-Break on Windows (SIGBREAK, which else ends the process at once) stop
    the server: it finishes what is in flight, closes its engine and exits with 0."""
    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _exit)


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
