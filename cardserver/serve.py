"""Running the app under uvicorn, with resources bounded.

uvicorn serves each connection as a task on one event loop (no thread per connection), closes
idle keep-alive connections after ``timeout_keep_alive`` and refuses more than
``limit_concurrency`` connections at once (503). What it lacks is a limit on how long a request's
headers may take: a client that sends a byte now and then would hold its connection for ever.
``BoundedH11Protocol`` adds that one timer to uvicorn's own h11 protocol; the body of a POST has
its own limit in the app (cardserver/asgi.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any, Final, cast

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a request's headers may take to arrive, from the connection (or the end of the last
#: response) on.
HEADER_TIMEOUT: Final = 10.0
KEEP_ALIVE: Final = 5
MAX_CONNECTIONS: Final = 1000
GRACEFUL_SHUTDOWN: Final = 10


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus HEADER_TIMEOUT for the headers of every request."""

    header_timeout = HEADER_TIMEOUT

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio.Protocol's signature; uvicorn narrows it to the stream Transport every server
        # connection is.
        super().connection_made(cast(asyncio.Transport, transport))
        self._header_timer: asyncio.TimerHandle | None = None
        self._start_header_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._awaiting_headers():
            return
        self._stop_header_timer()  # the request's headers are in: the app has it now

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._start_header_timer()  # the next request, on this kept-alive connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _awaiting_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _start_header_timer(self) -> None:
        self._stop_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _stop_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._awaiting_headers() and not self.transport.is_closing():
            self.transport.close()


def settings(**overrides: Any) -> dict[str, Any]:
    """uvicorn's settings for the card: bounded, quiet about its own name."""
    return {
        "http": BoundedH11Protocol,
        "timeout_keep_alive": KEEP_ALIVE,
        "limit_concurrency": MAX_CONNECTIONS,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN,
        "server_header": False,
        "lifespan": "off",
        **overrides,
    }


def config(app: Any, host: str, port: int, **overrides: Any) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, **settings(**overrides))


@contextlib.contextmanager
def running(app: Any, host: str = "127.0.0.1", port: int = 0, **overrides: Any) -> Iterator[str]:
    """Serve ``app`` on a thread for the length of the block; yields its base URL (``/``-ended).

    For tests and the benchmark: the same protocol and limits as ``python -m cardserver``."""
    overrides.setdefault("log_level", logging.WARNING)
    server = uvicorn.Server(config(app, host, port, **overrides))
    thread = threading.Thread(target=server.run, name="cardserver", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server did not start (see its log)")
        threading.Event().wait(0.01)
    bound = server.servers[0].sockets[0].getsockname()
    scheme = "https" if overrides.get("ssl_certfile") else "http"
    try:
        yield f"{scheme}://{host}:{bound[1]}/"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
