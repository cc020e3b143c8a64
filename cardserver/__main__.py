"""Command line: ``python -m cardserver [--dist DIR] [--host H] [--port N] [--cert F --key F]``.

Serves the publish folder `make dist` built (cardserver/asgi.py) under uvicorn, with the limits of
cardserver/serve.py. ``--dev`` adds the simulator (``make run`` passes it); ``--workers N`` runs
N processes (each imports the app by name, so the options travel as CARDSERVER_* variables).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from .asgi import DEFAULT_DIST, DEFAULT_MAX_BODY, Options, create_app
from .dist import BuildError
from .security import DEFAULT_FRAME_ANCESTORS, validate_frame_ancestors
from .serve import config, settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cardserver",
        description="Serve the Bitrix24 call card app from the folder `make dist` built.",
    )
    parser.add_argument("--dist", type=Path, default=DEFAULT_DIST,
                        help="publish folder (default: %(default)s)")
    parser.add_argument("--host", default=os.environ.get("HOST", DEFAULT_HOST),
                        help="address to listen on (default: $HOST or %(default)s)")
    parser.add_argument("--port", type=int, default=None,
                        help=f"port, 0 = any free one (default: $PORT or {DEFAULT_PORT})")
    parser.add_argument("--cert", type=Path, help="TLS certificate chain (PEM); needs --key")
    parser.add_argument("--key", type=Path, help="TLS private key (PEM); needs --cert")
    parser.add_argument("--frame-ancestors", default=DEFAULT_FRAME_ANCESTORS, metavar="SOURCES",
                        help="CSP frame-ancestors sources (default: 'self' + Bitrix24 clouds)")
    parser.add_argument("--no-csp", action="store_true",
                        help="send no Content-Security-Policy (debugging)")
    parser.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY, metavar="BYTES",
                        help="largest POST body accepted (default: %(default)s)")
    parser.add_argument("--dev", action="store_true",
                        help="also serve the simulator (development only)")
    parser.add_argument("--workers", type=int, default=1, help="processes (default: 1)")
    parser.add_argument("--proxy-headers", action="store_true",
                        help="trust X-Forwarded-* from --forwarded-allow-ips (behind a proxy)")
    parser.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                        help="proxies whose X-Forwarded-* are trusted (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no per-request log lines")
    return parser


def _port(value: int | None) -> int:
    if value is not None:
        return value
    try:
        return int(os.environ.get("PORT", DEFAULT_PORT))
    except ValueError:
        sys.exit(f"PORT must be a number, not {os.environ['PORT']!r}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if (args.cert is None) != (args.key is None):
        sys.exit("--cert and --key go together")
    try:
        ancestors = validate_frame_ancestors(args.frame_ancestors)
    except ValueError as exc:
        sys.exit(f"--frame-ancestors: {exc}")
    options = Options(frame_ancestors=ancestors, csp=not args.no_csp, max_body=args.max_body,
                      dev=args.dev)
    port = _port(args.port)
    tls = {"ssl_certfile": str(args.cert), "ssl_keyfile": str(args.key)} if args.cert else {}
    common = {"proxy_headers": args.proxy_headers,
              "forwarded_allow_ips": args.forwarded_allow_ips,
              "access_log": not args.quiet, **tls}
    scheme = "https" if args.cert else "http"
    try:
        # Fail here, once, if the folder is not usable (with --workers, each process loads it).
        app = create_app(args.dist, options)
    except BuildError as exc:
        sys.exit(f"python -m cardserver: {exc}")
    shown = "localhost" if args.host in ("0.0.0.0", "::") else args.host
    print(f"Call card app:  {scheme}://{shown}:{port}/", flush=True)
    if args.dev:
        print(f"Simulator:      {scheme}://{shown}:{port}/simulator/", flush=True)
        print(f"Example (bridge wheel, CRM deal tab): "
              f"{scheme}://{shown}:{port}/examples/deal-contacts/", flush=True)
    if args.workers > 1:
        os.environ.update({
            "CARDSERVER_DIST": str(args.dist.resolve()),
            "CARDSERVER_FRAME_ANCESTORS": ancestors,
            "CARDSERVER_NO_CSP": "1" if args.no_csp else "0",
            "CARDSERVER_MAX_BODY": str(args.max_body),
            "CARDSERVER_DEV": "1" if args.dev else "0",
        })
        uvicorn.run("cardserver.asgi:create_app", factory=True, host=args.host, port=port,
                    workers=args.workers, **settings(**common))
    else:
        # uvicorn shuts down gracefully on SIGINT / SIGTERM, then raises the signal again for
        # the default behaviour; after a graceful stop that is a clean exit here.
        signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(0))
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.Server(config(app, args.host, port, **common)).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
