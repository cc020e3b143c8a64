"""The request handler: methods, bodies, conditional requests, headers, logging."""

from __future__ import annotations

import ssl
import time
import traceback
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING

from .compression import AcceptEncoding
from .files import Representation
from .routes import Route
from .security import COMMON_HEADERS, content_security_policy
from .simulator_card import SimulatorCardError

if TYPE_CHECKING:
    from .app import CardServer

KNOWN_METHODS = ("GET", "HEAD", "POST")
_MAX_REQUEST_LINE = 65536
_BODY_CHUNK = 64 * 1024
_NOT_MODIFIED_HEADERS = frozenset({"Cache-Control", "ETag", "Vary", "Last-Modified"})


class CardRequestHandler(BaseHTTPRequestHandler):
    """Serves the allow-listed files; one instance per connection (keep-alive, HTTP/1.1)."""

    server: CardServer
    protocol_version = "HTTP/1.1"  # keep-alive: the page loads ~30 runtime files
    server_version = "cardserver"
    # Headers and body go out in separate writes; with Nagle on, the body of a small response
    # would wait for the client's delayed ACK (~40 ms per request on keep-alive connections).
    disable_nagle_algorithm = True

    # -- connection ------------------------------------------------------------------------

    def setup(self) -> None:
        # Applies to every read and write, so a stalled client only ever holds its own thread,
        # and only for this long.
        self.timeout = self.server.options.timeout
        super().setup()
        self._tls_failed = False
        if isinstance(self.connection, ssl.SSLSocket):
            # The listening socket does not handshake in accept() (that would let one slow
            # client stall the accept loop); it happens here, in this connection's thread.
            try:
                self.connection.do_handshake()
            except (OSError, ssl.SSLError) as error:
                self._tls_failed = True
                self.server.log(f"TLS handshake failed: {error.__class__.__name__}")

    def handle(self) -> None:
        if not self._tls_failed:
            super().handle()

    def handle_one_request(self) -> None:
        """Like the standard one, but every method goes to `_respond` (so PUT etc. get 405)."""
        self._status: int | None = None
        self._sent = 0
        self._started = time.perf_counter()
        self.command = ""
        self.path = ""
        try:
            self.raw_requestline = self.rfile.readline(_MAX_REQUEST_LINE + 1)
            if len(self.raw_requestline) > _MAX_REQUEST_LINE:
                self.requestline = self.request_version = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return  # parse_request has sent the error
            if self.request_version == "HTTP/0.9":
                # An HTTP/0.9 answer is a bare body: no status line, no Content-Type, no nosniff,
                # no CSP. No browser speaks it any more; refuse it with a real answer.
                self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED)
                return
            self._respond()
            self.wfile.flush()
        except (TimeoutError, ConnectionError, ssl.SSLError):
            self.close_connection = True  # stalled or gone: drop it, nothing to answer
        except Exception:
            # A bug: say so (if nothing was sent yet) rather than drop the connection silently.
            self.server.log_always(f"error serving {_printable(_without_query(self.path))}:")
            self.server.log_always(traceback.format_exc().rstrip())
            if self._status is None:
                self._send_text(HTTPStatus.INTERNAL_SERVER_ERROR, close=True)
            self.close_connection = True
        finally:
            if self._status is not None:
                self._log_request()

    # -- dispatch --------------------------------------------------------------------------

    def _respond(self) -> None:
        if not self._discard_body():
            return
        path = _without_query(self.path)
        route = self.server.resolve(path)
        allowed = KNOWN_METHODS if route is not None and route.accepts_post else ("GET", "HEAD")
        if self.command not in allowed:
            self._send_text(HTTPStatus.METHOD_NOT_ALLOWED, [("Allow", ", ".join(allowed))])
        elif route is None:
            self._send_text(HTTPStatus.NOT_FOUND)
        elif route.file is None:
            self._send_no_content()
        else:
            self._send_file(route)

    def _discard_body(self) -> bool:
        """Read and drop the request body (Bitrix24's POST carries AUTH_ID tokens).

        The body is never stored, logged or echoed; it is read in chunks only so the
        connection can be reused. Missing Content-Length means no body (RFC 9112 6.3).
        Returns False when an error was sent instead (the connection is then closed).
        """
        if self.headers.get("Transfer-Encoding") is not None:
            # Chunked uploads are not supported; browsers send form POSTs with a length.
            self._send_text(HTTPStatus.LENGTH_REQUIRED, close=True)
            return False
        values = self.headers.get_all("Content-Length") or []
        if not values:
            return True
        remaining = _content_length(values[0]) if len(set(values)) == 1 else None
        if remaining is None:
            self._send_text(HTTPStatus.BAD_REQUEST, close=True)
            return False
        if remaining > self.server.options.max_body:
            # Answer without reading it: the body might be huge, and it is of no use anyway.
            self._send_text(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, close=True)
            return False
        while remaining:
            chunk = self.rfile.read(min(remaining, _BODY_CHUNK))
            if not chunk:
                self.close_connection = True  # the client gave up halfway
                return False
            remaining -= len(chunk)
        return True

    def handle_expect_100(self) -> bool:
        """Say "100 Continue" only to bodies we will accept; otherwise the 413 comes first."""
        length = _content_length(self.headers.get("Content-Length") or "")
        if length is not None and length <= self.server.options.max_body:
            return super().handle_expect_100()
        return True

    # -- responses -------------------------------------------------------------------------

    def _send_file(self, route: Route) -> None:
        # Several Accept-Encoding lines are one comma-separated list (RFC 9110 5.3).
        values = self.headers.get_all("Accept-Encoding")
        accepted = AcceptEncoding.parse(", ".join(values) if values else None)
        try:
            representation = self.server.files.open(route, accepted=accepted)
        except OSError:
            self._send_text(HTTPStatus.NOT_FOUND)  # vanished since it was resolved
            return
        except SimulatorCardError as error:
            # index.html changed under the simulator: say what broke, loudly, on every request.
            self.server.log_always(f"simulator card page: {error}")
            self._send_text(HTTPStatus.INTERNAL_SERVER_ERROR)
            return
        try:
            headers = representation.headers()
            if self.server.options.csp and representation.content_type.startswith("text/html"):
                policy = content_security_policy(
                    self.server.options.frame_ancestors,
                    frames_self=route.frames_self,
                    simulator_card=route.simulator_card,
                )
                headers.append(("Content-Security-Policy", policy))
            # A POST is the Bitrix24 form submission: always a full page, never a 304.
            if self.command != "POST" and self._not_modified(representation):
                self.send_response(HTTPStatus.NOT_MODIFIED)
                # RFC 9110 15.4.5: only what helps a cache update its stored response.
                self._send_headers([h for h in headers if h[0] in _NOT_MODIFIED_HEADERS])
                self.end_headers()
                return
            self.send_response(HTTPStatus.OK)
            self._send_headers(headers)
            self.send_header("Content-Length", str(representation.length))
            self.end_headers()
            if self.command != "HEAD":
                self._write_body(representation)
        finally:
            representation.close()

    def _not_modified(self, representation: Representation) -> bool:
        """RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since only without it."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            if representation.etag is None:
                return False
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or representation.etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since is None:
            return False
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return int(representation.mtime) <= since

    def _write_body(self, representation: Representation) -> None:
        if isinstance(representation.body, bytes):
            self.wfile.write(representation.body)
            self._sent = representation.length
            return
        # sendfile(2) where possible (plain TCP); the ssl module falls back to a send loop.
        # `count` bounds it to the announced length even if the file grew meanwhile.
        sent = self.connection.sendfile(representation.body, 0, representation.length)
        self._sent = sent
        if sent != representation.length:
            self.close_connection = True  # file shrank: the framing is broken, end it

    def _send_no_content(self) -> None:
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def _send_text(
        self, status: int, headers: list[tuple[str, str]] | None = None, *, close: bool = False
    ) -> None:
        """A short plain-text answer; never echoes anything from the request."""
        status = HTTPStatus(status)
        body = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        self._send_headers(headers or [])
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")  # also sets self.close_connection
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
            self._sent = len(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found by the standard parser: plain text, and the raw request line (which
        may carry tokens in its query string) is neither echoed nor logged.

        Always as HTTP/1.1: for a request line it could not read, the standard handler assumes
        HTTP/0.9 and would send the bare body, without a status line or the security headers.
        """
        self.request_version = self.protocol_version
        self._send_text(code, close=True)

    def send_response(self, code: int, message: str | None = None) -> None:
        self._status = int(code)
        super().send_response(code, message)
        self._send_headers(COMMON_HEADERS)

    def _send_headers(self, headers: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> None:
        for name, value in headers:
            self.send_header(name, value)

    def version_string(self) -> str:
        return self.server_version  # no Python version in the Server header

    # -- logging ---------------------------------------------------------------------------

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Replaced by `_log_request`, which knows the bytes sent and the duration."""

    def log_message(self, format: str, *args: object) -> None:
        """The standard messages include the raw request line (query string: tokens); drop."""

    def _log_request(self) -> None:
        milliseconds = (time.perf_counter() - self._started) * 1000
        path = _printable(_without_query(self.path)) or "-"
        method = _printable(self.command or "") or "-"
        self.server.log(f"{method} {path} {self._status} {self._sent}B {milliseconds:.1f}ms")


def _content_length(value: str) -> int | None:
    """RFC 9110 8.6: ASCII digits only (str.isdigit() would also take "²")."""
    value = value.strip()
    return int(value) if value and value.isascii() and value.isdigit() else None


def _without_query(path: str) -> str:
    return path.partition("?")[0].partition("#")[0]


def _printable(text: str, limit: int = 200) -> str:
    """Percent-escape control characters and spaces so one request is one log line."""
    text = text[:limit]
    return "".join(ch if ch.isprintable() and ch != " " else f"%{ord(ch):02X}" for ch in text)
