"""Loopback servers shared by the browser tests and the benchmark.

The app loads the Bitrix24 library from its production URL, ``//api.bitrix24.com/api/v1/``.
Both tests and benchmark answer that URL with the one BX24 fake (``simulator/bx24-fake.js``)
from a server on 127.0.0.1, and Chromium's ``--host-resolver-rules`` (see
:func:`resolver_rules`) maps the library's host there and every other name to "not found".

Why not ``page.route``: request interception switches Chromium's HTTP cache off, so every
page load would download and compile the 9.6 MB interpreter again (about 1.5 s a page here).
"""

from __future__ import annotations

import contextlib
import hashlib
import socketserver
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
FAKE_JS = ROOT / "simulator" / "bx24-fake.js"
LIBRARY_HOST = "api.bitrix24.com"
LIBRARY_PATH = "/api/v1/"


#: Submits a form POST of ``fields`` to ``action`` from the page it runs in, as the portal opens
#: the card (tests and benchmark open the card this way; the opener page itself makes no request).
SUBMIT_FORM_JS = """([action, fields]) => {
  const form = document.createElement("form");
  form.method = "post";
  form.action = action;
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
  }
  document.body.append(form);
  form.submit();
}"""

class QuietServer(ThreadingHTTPServer):
    """A threaded server whose stuck connections never keep the process alive."""

    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind() does a reverse DNS lookup of the address: skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class FakeLibraryServer(QuietServer):
    """Serves the fake at the library's URL; ``available = False`` makes it fail to load.

    ``requests`` counts GETs of the library URL, so a test can see how often a page asked.
    """

    def __init__(self, body: bytes | None = None) -> None:
        self.body = FAKE_JS.read_bytes() if body is None else body
        self.available = True
        self.requests = 0
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _FakeLibraryHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1


class _FakeLibraryHandler(BaseHTTPRequestHandler):
    """``no-cache`` + ETag: the real library's caching is not ours to know, so every load (warm
    ones too) pays one revalidation for it, the pessimistic choice. It also means a test that
    makes the library unavailable is never answered from the cache."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each small answer waits ~40 ms for a delayed ACK
    server: FakeLibraryServer

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        if host != LIBRARY_HOST or urlsplit(self.path).path.rstrip("/") != LIBRARY_PATH.rstrip("/"):
            self._send(HTTPStatus.NOT_FOUND, b"not the library\n", "text/plain")
            return
        self.server.count_request()
        if not self.server.available:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"the library is down\n", "text/plain")
            return
        body = self.server.body
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        if self.headers.get("If-None-Match") == etag:
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, etag)
            return
        self._send(HTTPStatus.OK, body, "text/javascript; charset=utf-8", etag)

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


def resolver_rules(library_port: int) -> str:
    """Chromium's ``--host-resolver-rules``: the library's host to the fake, every other name to
    "not found" (exclusions are checked first, then the first matching MAP wins), so no
    request can leave this machine."""
    return (
        f"MAP {LIBRARY_HOST} 127.0.0.1:{library_port}, MAP * ~NOTFOUND, "
        "EXCLUDE 127.0.0.1, EXCLUDE localhost"
    )


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
