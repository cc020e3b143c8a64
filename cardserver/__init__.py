"""HTTP server for the call card app: serves the page, our Python files and the pinned runtime.

Standard library only. Run it with `python -m cardserver`; from code, use `make_server()` (or
the `running()` context manager) and read `server.url` / `server.server_address`.
"""

from .app import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_ROOT,
    CardServer,
    ServerOptions,
    make_server,
    running,
)
from .compression import PrecompressedCopy, warm
from .routes import RuntimeVersions, read_runtime_versions
from .security import BITRIX24_FRAME_ANCESTORS, DEFAULT_FRAME_ANCESTORS, content_security_policy

__all__ = [
    "BITRIX24_FRAME_ANCESTORS",
    "DEFAULT_FRAME_ANCESTORS",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEFAULT_ROOT",
    "CardServer",
    "PrecompressedCopy",
    "RuntimeVersions",
    "ServerOptions",
    "content_security_policy",
    "make_server",
    "read_runtime_versions",
    "running",
    "warm",
]
