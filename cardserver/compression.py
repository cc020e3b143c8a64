"""Gzip: what the client accepts, what is worth it, and the on-disk cache of gzip copies.

The runtime is large (the Pyodide wasm alone is ~10 MB, ~3.5 MB gzipped) and level-9 gzip
takes about a second for it, so it is compressed once, kept under `.cache/precompressed/`
and streamed from there.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .routes import read_runtime_versions, runtime_files

#: Suffixes that are text-like (or wasm) and compress well.
COMPRESSIBLE_SUFFIXES = frozenset(
    {".wasm", ".mjs", ".js", ".css", ".html", ".json", ".py", ".toml", ".svg"}
)
#: Suffixes that may or may not shrink (python_stdlib.zip mixes stored and deflated members):
#: they are tried, and the measured sizes decide.
MAYBE_COMPRESSIBLE_SUFFIXES = frozenset({".zip"})

CACHE_DIR = Path(".cache", "precompressed")
LEVEL = 9
_CHUNK = 256 * 1024


def may_compress(path: Path) -> bool:
    """Whether a gzip copy of this file is worth trying at all."""
    suffix = path.suffix.lower()
    return suffix in COMPRESSIBLE_SUFFIXES or suffix in MAYBE_COMPRESSIBLE_SUFFIXES


def pays_off(original_size: int, gzip_size: int) -> bool:
    """Serve gzip only if it saves at least 1 %: otherwise the client decompresses for nothing."""
    return gzip_size * 100 <= original_size * 99


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header allows gzip (honouring `q=0` and `*`)."""
    if not accept_encoding:
        return False
    qualities: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[coding.lower()] = quality
    for coding in ("gzip", "x-gzip"):
        if coding in qualities:
            return qualities[coding] > 0
    return qualities.get("*", 0.0) > 0


def compress_bytes(data: bytes) -> bytes:
    """Gzip in memory (small app files); mtime 0 keeps the output reproducible."""
    return gzip.compress(data, compresslevel=LEVEL, mtime=0)


def _stamp(stat: os.stat_result) -> str:
    return f"{stat.st_mtime_ns}-{stat.st_size}"


def _read_stamp(copy: BinaryIO) -> str | None:
    """The source stamp recorded in a gzip copy's header (FNAME field), if any."""
    head = copy.read(10 + 64)
    copy.seek(0)
    # magic, deflate, flags: FNAME set and FEXTRA not set (we never write an extra field)
    if len(head) < 11 or head[:3] != b"\x1f\x8b\x08" or head[3] & 0x0C != 0x08:
        return None
    end = head.find(b"\0", 10)
    return head[10:end].decode("latin-1") if end > 0 else None


@dataclass(frozen=True)
class PrecompressedCopy:
    """One gzip copy in the cache (what `warm()` reports)."""

    url_path: str
    path: Path
    original_size: int
    gzip_size: int

    @property
    def served_gzipped(self) -> bool:
        return pays_off(self.original_size, self.gzip_size)


class PrecompressedCache:
    """Gzip copies of source files under `<root>/.cache/precompressed/<url path>.gz`.

    Each copy records the source's mtime (ns) and size in its gzip header's file-name field,
    so the copy and the record of which source it was made from are replaced together by one
    atomic `os.replace` (no sidecar file that could disagree). A copy whose record does not
    match the source is rebuilt; concurrent requests either see the old complete copy or the
    new complete one, never a half-written file.
    """

    def __init__(self, root: Path, on_error: Callable[[str], None] | None = None) -> None:
        self.directory = root / CACHE_DIR
        self._on_error = on_error
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def path_for(self, url_path: str) -> Path:
        """Where the copy of a URL path lives (URL paths are already validated segments)."""
        return self.directory / (url_path.lstrip("/") + ".gz")

    def open_copy(self, url_path: str, source: Path, stat: os.stat_result) -> BinaryIO | None:
        """An open gzip copy of `source` as it was when `stat` was taken, (re)built if needed.

        Returns None if the copy cannot be made (read-only disk: then serve uncompressed) or
        the source changed meanwhile (the caller holds the old version open; stay consistent).
        """
        wanted = _stamp(stat)
        copy = self._open_matching(url_path, wanted)
        if copy is not None:
            return copy
        with self._lock_for(url_path):
            copy = self._open_matching(url_path, wanted)  # built by another thread meanwhile?
            if copy is not None:
                return copy
            try:
                self._build(url_path, source)
            except OSError as error:
                self._report(f"cannot precompress {url_path}: {error}")
                return None
            return self._open_matching(url_path, wanted)

    def ensure(self, url_path: str, source: Path) -> PrecompressedCopy:
        """Make sure the copy of `source` is up to date (building it if needed); for `warm()`."""
        with self._lock_for(url_path):
            stat = source.stat()
            copy = self._open_matching(url_path, _stamp(stat))
            if copy is None:
                self._build(url_path, source)
            else:
                copy.close()
            path = self.path_for(url_path)
            return PrecompressedCopy(url_path, path, stat.st_size, path.stat().st_size)

    def _open_matching(self, url_path: str, wanted: str) -> BinaryIO | None:
        try:
            copy = open(self.path_for(url_path), "rb")  # noqa: SIM115 - returned to the caller
        except OSError:
            return None
        try:
            if _read_stamp(copy) == wanted:
                return copy
        except OSError:
            pass
        copy.close()
        return None

    def _build(self, url_path: str, source: Path) -> None:
        target = self.path_for(url_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(source, "rb") as original:
            stamp = _stamp(os.fstat(original.fileno()))
            handle, temp_name = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
            )
            try:
                with (
                    os.fdopen(handle, "wb") as temp,
                    gzip.GzipFile(
                        filename=stamp, mode="wb", compresslevel=LEVEL, fileobj=temp, mtime=0
                    ) as packed,
                ):
                    shutil.copyfileobj(original, packed, _CHUNK)
                os.replace(temp_name, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp_name)
                raise

    def _lock_for(self, url_path: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(url_path, threading.Lock())

    def _report(self, message: str) -> None:
        if self._on_error is not None:
            self._on_error(message)


def warm(root: Path | str) -> list[PrecompressedCopy]:
    """Build (or confirm) the gzip copy of every servable runtime file; run at install time.

    The first page load then streams ready-made copies instead of compressing ~13 MB.
    """
    root = Path(root)
    cache = PrecompressedCache(root)
    versions = read_runtime_versions(root)
    return [cache.ensure(url_path, file) for url_path, file in runtime_files(root, versions)]
