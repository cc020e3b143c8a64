"""The local servers of a benchmark run, all on 127.0.0.1.

- the app, built by ``cardserver.dist`` into a folder of the run's own and served by
  ``cardserver`` under uvicorn exactly as ``make run`` serves it (Brotli, caching, CSP);
- the baseline, served *plainly*: Python's stock static handler (``SimpleHTTPRequestHandler``),
  so no compression and no Cache-Control (browsers then cache by the Last-Modified heuristic).
  Two things are set that any real static host has anyway and whose absence would only measure
  http.server's quirks: HTTP/1.1 keep-alive with TCP_NODELAY (without it every small response
  waits ~40 ms for a delayed ACK), and the MIME types of ``.mjs``/``.wasm``/``.toml``, without
  which the page does not boot at all. The runtime files are node_modules' own, byte for byte.
- the BX24 fake as ``http://api.bitrix24.com/api/v1/``, the same one the browser tests use
  (tools/loopback.py): no request interception, which would switch the HTTP cache off and make
  every warm load cold.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from cardserver.asgi import ASGIApp, Options, create_app
from cardserver.dist import build
from cardserver.serve import running
from tools.loopback import FakeLibraryServer, QuietServer, resolver_rules, serving

ROOT = Path(__file__).resolve().parent.parent
BASELINE_DIR = ROOT / "bench" / "baseline"


class PlainHandler(SimpleHTTPRequestHandler):
    """http.server's static handler as it comes, over a few folders mounted at URL prefixes."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    extensions_map = {  # noqa: RUF012 - the stock handler's own class attribute, extended
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".toml": "application/toml",
    }
    #: (URL prefix, folder), first match wins; filled in by `plain_server`.
    mounts: tuple[tuple[str, Path], ...] = ()

    def translate_path(self, path: str) -> str:
        url_path = unquote(urlsplit(path).path)
        for prefix, folder in self.mounts:
            if url_path.startswith(prefix):
                candidate = (folder / url_path[len(prefix):]).resolve()
                if candidate.is_relative_to(folder.resolve()):
                    return str(candidate)
                break
        return str(BASELINE_DIR / ".missing")  # a 404, never anything outside the mounts

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the benchmark prints its own table."""


def plain_server(root: Path = ROOT) -> ThreadingHTTPServer:
    """The baseline's server: bench/baseline/ at /, the runtime at /pyscript/ and /pyodide/."""
    mounts = (
        ("/pyscript/", root / "node_modules" / "@pyscript" / "core" / "dist"),
        ("/pyodide/", root / "node_modules" / "pyodide"),
        ("/", BASELINE_DIR),
    )
    handler = type("MountedPlainHandler", (PlainHandler,), {"mounts": mounts})
    return QuietServer(("127.0.0.1", 0), handler)


@contextlib.contextmanager
def app_site(root: Path = ROOT, wrap: Callable[[ASGIApp], ASGIApp] | None = None,
             ) -> Iterator[ASGIApp]:
    """The app built from ``root`` (into a temporary publish folder) as its server answers it,
    optionally wrapped (a lever's change to how it answers)."""
    with tempfile.TemporaryDirectory(prefix="callcard-bench-dist-") as folder:
        dist = Path(folder) / "dist"
        build(root, dist)
        app = create_app(dist, Options(dev=True))
        yield wrap(app) if wrap is not None else app


@dataclass(frozen=True)
class Endpoints:
    """Where the pages are, and the resolver rules that keep Chromium on loopback."""

    app: str
    baseline: str
    library_port: int

    @property
    def resolver_rules(self) -> str:
        return resolver_rules(self.library_port)


@contextlib.contextmanager
def all_servers(app: ASGIApp | None = None) -> Iterator[Endpoints]:
    """App (the shipped build unless another app is given), baseline and fake library."""
    library = FakeLibraryServer()
    with contextlib.ExitStack() as stack:
        site = app if app is not None else stack.enter_context(app_site())
        app_url = stack.enter_context(running(site))
        baseline_url = stack.enter_context(serving(plain_server()))
        stack.enter_context(serving(library))
        yield Endpoints(app_url, baseline_url, library.port)
