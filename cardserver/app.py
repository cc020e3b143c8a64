"""The server object, and helpers to build and run it (from the CLI, tests or other code)."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

from .compression import PrecompressedCache
from .files import FileStore
from .handler import CardRequestHandler
from .routes import Route, RuntimeVersions, read_runtime_versions, resolve
from .security import DEFAULT_FRAME_ANCESTORS, validate_frame_ancestors

#: The project root: the folder that contains this package.
DEFAULT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_BODY = 1024 * 1024  # Bitrix24's handler POST is a few hundred bytes of form data
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class ServerOptions:
    """Behaviour knobs; every one has a CLI flag."""

    frame_ancestors: str = DEFAULT_FRAME_ANCESTORS
    #: False drops the Content-Security-Policy header (debugging only).
    csp: bool = True
    #: Request bodies above this many bytes get 413 without being read.
    max_body: int = DEFAULT_MAX_BODY
    #: Seconds a connection may stay silent (per read/write) before it is dropped.
    timeout: float = DEFAULT_TIMEOUT
    #: No per-request log lines.
    quiet: bool = False
    #: Where log lines go; None means sys.stderr at the time of writing.
    log_stream: TextIO | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame_ancestors", validate_frame_ancestors(self.frame_ancestors))
        if self.max_body < 0 or self.timeout <= 0:
            raise ValueError("max_body must be >= 0 and timeout > 0")


class CardServer(ThreadingHTTPServer):
    """A threaded HTTP(S) server for the call card; one daemon thread per connection."""

    daemon_threads = True  # a stuck connection never keeps the process alive
    request_queue_size = 64

    def __init__(
        self,
        root: Path,
        address: tuple[str, int],
        options: ServerOptions,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.root = root
        self.options = options
        #: Read once: a new runtime version means `npm ci` and a restart anyway.
        self.runtime_versions: RuntimeVersions = read_runtime_versions(root)
        self.files = FileStore(PrecompressedCache(root, on_error=self.log_always))
        self._log_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, CardRequestHandler)
        self.tls = ssl_context is not None
        if ssl_context is not None:
            # No handshake in accept(): it runs in the connection's own thread (handler.setup).
            self.socket = ssl_context.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def resolve(self, url_path: str) -> Route | None:
        """What `url_path` (decoded, without the query) names: the allow-list of routes.py.

        A method so that a test rig can add a page of its own without touching the list.
        """
        return resolve(url_path, self.root, self.runtime_versions)

    def server_bind(self) -> None:
        # HTTPServer.server_bind() calls socket.getfqdn(), a DNS lookup that can take seconds.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def url(self) -> str:
        """Base URL of the app, e.g. `http://127.0.0.1:8000/`."""
        host = self.server_name
        if ":" in host:
            host = f"[{host}]"
        return f"{'https' if self.tls else 'http'}://{host}:{self.server_port}/"

    def log(self, message: str) -> None:
        """One line to the log, unless quiet."""
        if not self.options.quiet:
            self.log_always(message)

    def log_always(self, message: str) -> None:
        """For problems the operator must see even with --quiet."""
        stream = self.options.log_stream or sys.stderr
        line = f"[{time.strftime('%H:%M:%S')}] {message}\n"
        with self._log_lock, contextlib.suppress(OSError, ValueError):
            stream.write(line)
            stream.flush()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that vanish or fail TLS are routine; only real bugs get a traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError | ssl.SSLError):
            return
        super().handle_error(request, client_address)


def make_server(
    root: Path | str | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    certfile: Path | str | None = None,
    keyfile: Path | str | None = None,
    **options: Any,
) -> CardServer:
    """Bind (port 0: any free port) and return the server, not yet serving.

    `options` are the fields of ServerOptions (frame_ancestors, csp, max_body, timeout, quiet,
    log_stream). With certfile/keyfile it speaks HTTPS. Read `server.server_address` or
    `server.url` for the bound address; call `serve_forever()` (or use `running()`).
    """
    root = Path(root) if root is not None else DEFAULT_ROOT
    settings = ServerOptions(**options)
    context = None
    if certfile is not None or keyfile is not None:
        if certfile is None or keyfile is None:
            raise ValueError("TLS needs both certfile and keyfile")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(certfile, keyfile)
    return CardServer(root.resolve(), (host, port), settings, context)


@contextlib.contextmanager
def running(
    root: Path | str | None = None, host: str = DEFAULT_HOST, port: int = 0, **kwargs: Any
) -> Iterator[CardServer]:
    """Serve in a background thread for the duration of a `with` block (tests, tools)."""
    server = make_server(root, host, port, **kwargs)
    # A short poll interval makes shutdown() quick (it waits for the loop to notice).
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="cardserver", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
