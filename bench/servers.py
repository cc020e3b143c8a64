"""The local servers of a benchmark run, all on 127.0.0.1.

- the app, served by ``cardserver`` exactly as ``make run`` serves it (gzip, caching, CSP);
- the baseline, served *plainly*: Python's stock static handler (``SimpleHTTPRequestHandler``),
  so no compression and no Cache-Control (browsers then cache by the Last-Modified heuristic).
  Two things are set that any real static host has anyway and whose absence would only measure
  http.server's quirks: HTTP/1.1 keep-alive with TCP_NODELAY (without it every small response
  waits ~40 ms for a delayed ACK), and the MIME types of ``.mjs``/``.wasm``/``.toml``, without
  which the page does not boot at all. The runtime files are node_modules' own, byte for byte.
- the BX24 fake (``simulator/bx24-fake.js``) as ``http://api.bitrix24.com/api/v1/``: Chromium's
  ``--host-resolver-rules`` maps that host here and every other name to "not found", so the page
  loads the library from its production URL without request interception (``page.route``
  switches the HTTP cache off, which would make every warm load cold).
"""

from __future__ import annotations

import contextlib
import hashlib
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from cardserver import make_server

ROOT = Path(__file__).resolve().parent.parent
BASELINE_DIR = ROOT / "bench" / "baseline"
FAKE_JS = ROOT / "simulator" / "bx24-fake.js"
LIBRARY_HOST = "api.bitrix24.com"
LIBRARY_PATH = "/api/v1/"


class _QuietServer(ThreadingHTTPServer):
    """A threaded server whose stuck connections never keep the benchmark alive."""

    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind() does a reverse DNS lookup of the address: skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


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
    return _QuietServer(("127.0.0.1", 0), handler)


class FakeLibraryHandler(BaseHTTPRequestHandler):
    """Answers ``GET http://api.bitrix24.com/api/v1/`` with the one BX24 fake; 404 otherwise.

    ``no-cache`` + ETag: the real library's caching is not ours to know, so every load (warm
    ones too) pays one revalidation for it, the pessimistic choice.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    body = b""

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        if host != LIBRARY_HOST or urlsplit(self.path).path.rstrip("/") != LIBRARY_PATH.rstrip("/"):
            self._send(HTTPStatus.NOT_FOUND, b"not the library\n", "text/plain")
            return
        etag = f'"{hashlib.sha256(self.body).hexdigest()[:16]}"'
        if self.headers.get("If-None-Match") == etag:
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, etag)
            return
        self._send(HTTPStatus.OK, self.body, "text/javascript; charset=utf-8", etag)

    def _send(self, status: int, body: bytes, kind: str | None, etag: str | None = None) -> None:
        self.send_response(status)
        if kind:
            self.send_header("Content-Type", kind)
        self.send_header("Cache-Control", "no-cache")
        if etag:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


def fake_library_server() -> ThreadingHTTPServer:
    handler = type("FakeLibrary", (FakeLibraryHandler,), {"body": FAKE_JS.read_bytes()})
    return _QuietServer(("127.0.0.1", 0), handler)


@contextlib.contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[str]:
    """Serve in a daemon thread for the `with` block; yields the base URL."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def app_server(root: Path = ROOT, **options: Any) -> ThreadingHTTPServer:
    """The app's own server, as `make run` starts it (quiet)."""
    return make_server(root, "127.0.0.1", 0, quiet=True, **options)


@dataclass(frozen=True)
class Endpoints:
    """Where the pages are, and the resolver rules that keep Chromium on loopback."""

    app: str
    baseline: str
    library_port: int

    @property
    def resolver_rules(self) -> str:
        # Exclusions are checked first; then the first matching MAP wins. Any name other than
        # the library's resolves to nothing, so no request can leave this machine.
        return (
            f"MAP {LIBRARY_HOST} 127.0.0.1:{self.library_port}, MAP * ~NOTFOUND, "
            "EXCLUDE 127.0.0.1, EXCLUDE localhost"
        )


@contextlib.contextmanager
def all_servers(app: ThreadingHTTPServer | None = None) -> Iterator[Endpoints]:
    """App (cardserver unless another server is given), baseline and fake library, running."""
    library = fake_library_server()
    with (
        serving(app or app_server()) as app_url,
        serving(plain_server()) as baseline_url,
        serving(library),
    ):
        yield Endpoints(app_url, baseline_url, library.server_address[1])
