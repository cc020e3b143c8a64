"""The local servers of a benchmark run, all on 127.0.0.1.

- the app, built by ``cardserver.dist`` into a folder of the run's own and served by
  ``cardserver`` under uvicorn exactly as ``make run`` serves it (Brotli, caching, CSP);
- the same-runtime baseline: bench/baseline/'s bare page on the files the app publishes (the
  compiled standard library and the boot module the app's pyscript.toml names), served by the
  app's own server at /bench/same-runtime/, so its ratio to the app is what the app itself adds;
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
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from cardserver.asgi import ASGIApp, Options, create_app
from cardserver.dist import Manifest, build
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


SAME_RUNTIME_PATH = "/bench/same-runtime/"


def same_runtime_page(manifest: Manifest) -> str:
    """The baseline page pointed at the app's published runtime: PyScript's core.js and the
    interpreter module the app's own config names (inline, so the page needs no file of its own
    in the build)."""
    def published(suffix: str, prefix: str) -> str:
        found = [path for name, path in manifest.files.items()
                 if name.startswith(prefix) and name.endswith(suffix)]
        if len(found) != 1:
            raise RuntimeError(f"the build publishes {len(found)} files like {prefix}*{suffix}")
        return "/" + found[0]

    core = published("/core.js", "runtime/pyscript-")
    interpreter = published("/callcard-boot.mjs", "runtime/pyodide-")
    page = (BASELINE_DIR / "index.html").read_text(encoding="utf-8")
    for old, new in (('src="./pyscript/core.js"', f'src="{core}"'),
                     ('config="./pyscript.toml"',
                      f"config='{json.dumps({'interpreter': interpreter})}'")):
        if page.count(old) != 1:
            raise RuntimeError(f"bench/baseline/index.html must hold {old} exactly once")
        page = page.replace(old, new)
    return page


@contextlib.contextmanager
def app_site(root: Path = ROOT, wrap: Callable[[ASGIApp], ASGIApp] | None = None,
             ) -> Iterator[ASGIApp]:
    """The app built from ``root`` (into a temporary publish folder) as its server answers it,
    optionally wrapped (a lever's change to how it answers), with the same-runtime baseline."""
    with tempfile.TemporaryDirectory(prefix="callcard-bench-dist-") as folder:
        dist = Path(folder) / "dist"
        build(root, dist)
        baseline = HTMLResponse(same_runtime_page(Manifest.load(dist)),
                                headers={"Cache-Control": "no-cache"})

        async def same_runtime(_request: Request) -> Response:
            return baseline

        routes = [Route(SAME_RUNTIME_PATH, same_runtime)]
        app = create_app(dist, Options(dev=True), extra_routes=routes)
        yield wrap(app) if wrap is not None else app


@dataclass(frozen=True)
class Endpoints:
    """Where the pages are, and the resolver rules that keep Chromium on loopback."""

    app: str
    baseline: str
    library_port: int

    @property
    def same_runtime(self) -> str:
        return self.app.rstrip("/") + SAME_RUNTIME_PATH

    @property
    def library(self) -> str:
        """The fake at the library's production URL (resolved to loopback)."""
        return "http://api.bitrix24.com/api/v1/"

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
