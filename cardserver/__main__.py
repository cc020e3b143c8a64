"""Command line: `python -m cardserver [--host H] [--port N] [--root DIR] [--cert F --key F]`."""

from __future__ import annotations

import argparse
import os
import signal
import ssl
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from .app import (
    DEFAULT_HOST,
    DEFAULT_MAX_BODY,
    DEFAULT_PORT,
    DEFAULT_ROOT,
    DEFAULT_TIMEOUT,
    make_server,
)
from .compression import brotli_module, warm
from .routes import read_runtime_versions
from .security import DEFAULT_FRAME_ANCESTORS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cardserver",
        description="Serve the Bitrix24 call card app (page, Python files, pinned runtime).",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("HOST", DEFAULT_HOST),
        help="address to listen on (default: $HOST or %(default)s)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port, 0 = any free one (default: $PORT or {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--root", type=Path, default=DEFAULT_ROOT, help="project folder (default: %(default)s)"
    )
    parser.add_argument("--cert", type=Path, help="TLS certificate chain (PEM); needs --key")
    parser.add_argument("--key", type=Path, help="TLS private key (PEM); needs --cert")
    parser.add_argument(
        "--frame-ancestors",
        default=DEFAULT_FRAME_ANCESTORS,
        metavar="SOURCES",
        help="CSP frame-ancestors sources, space separated (default: 'self' + Bitrix24 clouds)",
    )
    parser.add_argument(
        "--no-csp", action="store_true", help="send no Content-Security-Policy (debugging)"
    )
    parser.add_argument(
        "--max-body",
        type=int,
        default=DEFAULT_MAX_BODY,
        metavar="BYTES",
        help="largest request body accepted (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="drop connections silent this long (default: %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-request log lines")
    parser.add_argument(
        "--precompress-only",
        action="store_true",
        help="build the gzip and Brotli copies of the runtime in .cache/precompressed/, then exit",
    )
    return parser


def _port(parser: argparse.ArgumentParser, value: int | None) -> int:
    if value is None:
        env = os.environ.get("PORT", "")
        if not env:
            return DEFAULT_PORT
        if not (env.isascii() and env.isdigit()):
            parser.error(f"PORT must be a number, not {env!r}")
        value = int(env)
    if not 0 <= value <= 65535:
        parser.error(f"port out of range: {value}")
    return value


def _precompress(root: Path) -> int:
    start = time.monotonic()
    versions = read_runtime_versions(root)
    if versions.pyscript is None and versions.pyodide is None:
        # (warm() always has the app's bundle to copy, so its result cannot tell this.)
        print("No runtime files found (has `npm ci` run?); nothing to precompress.")
        return 0
    copies = warm(root)
    original = sum(copy.original_size for copy in copies)
    gzip_wire = sum(copy.wire_size(brotli=False) for copy in copies)
    print(
        f"Precompressed {len(copies)} files (runtime, app bundle, boot module) into "
        f"{root / '.cache' / 'precompressed'} "
        f"in {time.monotonic() - start:.1f} s: {original / 1e6:.2f} MB -> "
        f"{gzip_wire / 1e6:.2f} MB on the wire with gzip"
    )
    if brotli_module() is None:
        print("Brotli: the `brotli` module is not installed, so no .br copies (gzip only).")
        return 0
    brotli_copies = sum(copy.served_brotli for copy in copies)
    brotli_wire = sum(copy.wire_size(brotli=True) for copy in copies)
    print(
        f"Brotli: {brotli_copies} of {len(copies)} files have a .br copy (the others: gzip is as "
        f"good); {brotli_wire / 1e6:.2f} MB on the wire when the client accepts br"
    )
    return 0


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # same clean path as Ctrl-C


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    port = _port(parser, args.port)
    if (args.cert is None) != (args.key is None):
        parser.error("--cert and --key go together")
    root: Path = args.root.resolve()
    if not root.is_dir():
        parser.error(f"--root is not a folder: {root}")
    if args.precompress_only:
        try:
            return _precompress(root)
        except OSError as error:
            print(f"cardserver: cannot precompress: {error}", file=sys.stderr)
            return 1

    try:
        server = make_server(
            root,
            args.host,
            port,
            certfile=args.cert,
            keyfile=args.key,
            frame_ancestors=args.frame_ancestors,
            csp=not args.no_csp,
            max_body=args.max_body,
            timeout=args.timeout,
            quiet=args.quiet,
        )
    except ValueError as error:
        parser.error(str(error))
    except (OSError, ssl.SSLError) as error:
        print(f"cardserver: cannot start on {args.host}:{port}: {error}", file=sys.stderr)
        return 1

    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        print(f"Call card app:  {server.url}", flush=True)
        print(f"Simulator:      {server.url}simulator/", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C while closing must not turn a clean exit into a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
