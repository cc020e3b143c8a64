"""From a routed file to what goes on the wire: content type, caching, encoding, body."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import BinaryIO

from .compression import (
    BROTLI,
    GZIP,
    AcceptEncoding,
    PrecompressedCache,
    compress_bytes,
    may_compress,
    pays_off,
)
from .routes import Policy, Route
from .simulator_card import simulator_card_page

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".wasm": "application/wasm",  # required for WebAssembly.instantiateStreaming
    ".py": "text/x-python; charset=utf-8",
    ".toml": "application/toml",
    ".json": "application/json",
    ".zip": "application/zip",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
FALLBACK_CONTENT_TYPE = "application/octet-stream"

#: Versioned runtime URLs never change content: cache for a year, never revalidate.
CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
#: Our files keep their URL across deploys: the browser may store them but must revalidate
#: (cheap: a 304 thanks to the ETag).
CACHE_REVALIDATE = "no-cache"

#: App files up to this size are read once per change and kept in memory with their hash and
#: gzip copy; bigger ones are streamed from disk like the runtime.
SNAPSHOT_LIMIT = 2 * 1024 * 1024


def _digest(file: BinaryIO) -> str:
    """sha256 of an open file's bytes (left at the start again), for a strong ETag."""
    file.seek(0)
    digest = hashlib.file_digest(file, "sha256").hexdigest()[:32]
    file.seek(0)
    return digest


def _etag(digest: str | None, encoding: str | None) -> str | None:
    """A strong ETag names exact bytes, so each encoding of the same file gets its own."""
    if digest is None:
        return None
    return f'"{digest}-{encoding}"' if encoding else f'"{digest}"'


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower(), FALLBACK_CONTENT_TYPE)


@dataclass
class Representation:
    """One encoding of one file, ready to send; `body` is bytes or an open file to stream."""

    content_type: str
    cache_control: str
    length: int
    mtime: float
    body: bytes | BinaryIO
    etag: str | None = None
    #: The Content-Encoding ("gzip", "br"), None for the bytes as they are.
    encoding: str | None = None
    #: The encoding depends on Accept-Encoding, so caches must key on it.
    varies: bool = False

    def headers(self) -> list[tuple[str, str]]:
        """Headers describing the representation (shared by 200 and 304)."""
        headers = [
            ("Content-Type", self.content_type),
            ("Cache-Control", self.cache_control),
            ("Last-Modified", formatdate(self.mtime, usegmt=True)),
        ]
        if self.etag:
            headers.append(("ETag", self.etag))
        if self.encoding:
            headers.append(("Content-Encoding", self.encoding))
        if self.varies:
            headers.append(("Vary", "Accept-Encoding"))
        return headers

    def close(self) -> None:
        if not isinstance(self.body, bytes):
            self.body.close()


@dataclass(frozen=True)
class _Snapshot:
    data: bytes
    gzipped: bytes | None  # None: not compressible, or gzip does not pay off
    digest: str
    mtime: float


class FileStore:
    """Opens routed files as representations, with the caches that make that cheap."""

    def __init__(self, precompressed: PrecompressedCache) -> None:
        self.precompressed = precompressed
        self._snapshots: dict[Path, tuple[tuple[int, ...], _Snapshot]] = {}
        self._lock = threading.Lock()

    def open(self, route: Route, *, accepted: AcceptEncoding) -> Representation:
        """The representation to send for `route`. Raises OSError if the file is gone."""
        path = route.file
        if path is None:
            raise ValueError(f"{route.url_path} has no file to open")
        if route.simulator_card:
            return self._simulator_card(path, path.stat())
        if route.policy is Policy.APP:
            stat = path.stat()
            if stat.st_size <= SNAPSHOT_LIMIT:
                return self._from_snapshot(path, stat, gzip_ok=accepted.allows(GZIP))
        return self._streamed(route, path, accepted)

    def _simulator_card(self, path: Path, stat: os.stat_result) -> Representation:
        """index.html as the simulator frames it, rewritten from the current file on disk.

        Raises SimulatorCardError when index.html no longer has the library tag. The page is
        a kilobyte: it is rewritten per request (no stale copy), not compressed.
        """
        snapshot = self._snapshot(path, stat)
        body = simulator_card_page(snapshot.data)
        return Representation(
            content_type=content_type(path),
            cache_control=CACHE_REVALIDATE,
            length=len(body),
            mtime=snapshot.mtime,
            body=body,
            etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"',
        )

    def _from_snapshot(self, path: Path, stat: os.stat_result, *, gzip_ok: bool) -> Representation:
        snapshot = self._snapshot(path, stat)
        gzipped = snapshot.gzipped if gzip_ok else None
        body = gzipped if gzipped is not None else snapshot.data
        # A strong ETag names exact bytes, so each encoding gets its own.
        etag = f'"{snapshot.digest}"' if gzipped is None else f'"{snapshot.digest}-gzip"'
        return Representation(
            content_type=content_type(path),
            cache_control=CACHE_REVALIDATE,
            length=len(body),
            mtime=snapshot.mtime,
            body=body,
            etag=etag,
            encoding=GZIP if gzipped is not None else None,
            varies=may_compress(path),
        )

    def _snapshot(self, path: Path, stat: os.stat_result) -> _Snapshot:
        """Content, hash and gzip copy taken from the same bytes, so ETag and body agree."""
        key = (stat.st_mtime_ns, stat.st_size, stat.st_ino, stat.st_dev)
        with self._lock:
            cached = self._snapshots.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        with open(path, "rb") as file:
            opened = os.fstat(file.fileno())
            data = file.read()
        gzipped = compress_bytes(data) if may_compress(path) else None
        if gzipped is not None and not pays_off(len(data), len(gzipped)):
            gzipped = None
        snapshot = _Snapshot(data, gzipped, hashlib.sha256(data).hexdigest()[:32], opened.st_mtime)
        opened_key = (opened.st_mtime_ns, opened.st_size, opened.st_ino, opened.st_dev)
        with self._lock:
            self._snapshots[path] = (opened_key, snapshot)
        return snapshot

    def _streamed(self, route: Route, path: Path, accepted: AcceptEncoding) -> Representation:
        """Stream from disk (runtime, big files); compressed copies come from the on-disk cache.

        The client's most wanted coding that has a usable copy wins, Brotli first on a tie.
        A Brotli copy exists only if `warm()` made one for this very version of the file (it
        is never built here: too slow); a gzip copy is built on demand. Whatever the coding,
        Last-Modified is the source's, so HEAD, GET and 304 agree.
        """
        source = open(path, "rb")  # noqa: SIM115 - closed by Representation.close()
        try:
            stat = os.fstat(source.fileno())
            # A file the server rewrites itself (the bundle) also gets an ETag: Last-Modified
            # has one-second steps, and an edit in the same second as the previous build
            # would otherwise be answered with a 304 and the old content.
            digest = _digest(source) if route.policy is Policy.BUILT else None
            body: BinaryIO = source
            length = stat.st_size
            encoding: str | None = None
            if may_compress(path):
                for coding in accepted.ranked((BROTLI, GZIP)):
                    copy = self._copy(route.url_path, path, stat, coding)
                    if copy is None:
                        continue
                    copy_size = os.fstat(copy.fileno()).st_size
                    if pays_off(stat.st_size, copy_size):
                        source.close()
                        body, length, encoding = copy, copy_size, coding
                        break
                    copy.close()
        except BaseException:
            with contextlib.suppress(OSError):
                source.close()
            raise
        immutable = route.policy is Policy.RUNTIME
        return Representation(
            content_type=content_type(path),
            cache_control=CACHE_IMMUTABLE if immutable else CACHE_REVALIDATE,
            length=length,
            mtime=stat.st_mtime,
            body=body,
            etag=_etag(digest, encoding),
            encoding=encoding,
            varies=may_compress(path),
        )

    def _copy(
        self, url_path: str, path: Path, stat: os.stat_result, coding: str
    ) -> BinaryIO | None:
        if coding == BROTLI:
            return self.precompressed.open_brotli(url_path, stat)
        return self.precompressed.open_copy(url_path, path, stat)
