"""Compression: what the client accepts, what is worth it, and the on-disk cache of copies.

Gzip: the runtime is large (the Pyodide wasm alone is ~10 MB, ~3.5 MB gzipped) and level-9 gzip
takes about a second for it, so it is compressed once, kept under `.cache/precompressed/` and
streamed from there. Every client understands it; a missing or stale copy is rebuilt on the
request that needs it.

Brotli: ~11 % fewer bytes than gzip -9 on the wasm (3.13 MB at quality 9) and ~20 % on the
stdlib zip: the cold load's bytes are what the benchmark's budget counts, and gzip alone does
not meet it. Browsers send `br` over HTTPS and to localhost. The catch is the encoder's speed:
quality 11 takes ~40 s on the wasm, quality 9 (window 2^24) ~4 s. That is fine once at install
time (`warm()`, `python -m cardserver --precompress-only`) and far too slow for a request, so
Brotli copies are only ever built there; a request for a file without a fresh `.br` copy gets
gzip. The encoder is the optional PyPI package `Brotli`: without it no `.br` copies are made and
everything is served as before (serving a copy needs no module: it is just bytes on disk).
"""

from __future__ import annotations

import contextlib
import gzip
import importlib
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import BinaryIO

from .atomic import replacing
from .boot_module import BOOT_MODULE_NAME
from .bundle import BUNDLE_NAME, ensure_bundle
from .routes import read_runtime_versions, resolve, runtime_files

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

#: Content codings of the runtime's copies, best first when the client likes them equally.
BROTLI, GZIP = "br", "gzip"
#: Above this size Brotli runs at quality 9 with a 16 MB window (the wasm: ~3-4 s, 3.13 MB);
#: quality 10 takes ~20 s there and 11 ~40 s, for ~9 % less. Smaller files get quality 11.
BROTLI_LARGE = 1_000_000
BROTLI_LARGE_PARAMS = {"quality": 9, "lgwin": 24}
BROTLI_SMALL_PARAMS = {"quality": 11, "lgwin": 22}


def may_compress(path: Path) -> bool:
    """Whether a gzip copy of this file is worth trying at all."""
    suffix = path.suffix.lower()
    return suffix in COMPRESSIBLE_SUFFIXES or suffix in MAYBE_COMPRESSIBLE_SUFFIXES


def pays_off(original_size: int, gzip_size: int) -> bool:
    """Serve gzip only if it saves at least 1 %: otherwise the client decompresses for nothing."""
    return gzip_size * 100 <= original_size * 99


@dataclass(frozen=True)
class AcceptEncoding:
    """A request's Accept-Encoding, read once: which content codings it allows, and how much.

    RFC 9110 12.5.3: `q=0` refuses a coding, `*` stands for every coding not named, `x-gzip` is
    gzip, an empty header asks for no coding. Without the header any coding would do, but a
    client that says nothing may decode nothing: it gets the bytes as they are. Identity is the
    fallback the server always has: `identity;q=0` is parsed, never turned into a 406.
    """

    #: Coding (lower case) -> quality, as the header states them.
    qualities: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def parse(cls, header: str | None) -> AcceptEncoding:
        qualities: dict[str, float] = {}
        for item in (header or "").split(","):
            coding, *params = (part.strip() for part in item.split(";"))
            if not coding:
                continue
            quality = 1.0
            for param in params:
                name, _, value = param.partition("=")
                if name.strip().lower() == "q":
                    quality = _quality(value)
            qualities[_coding(coding)] = quality
        return cls(qualities)

    def quality(self, coding: str) -> float:
        """How much the client wants `coding` (0: not at all)."""
        coding = _coding(coding)
        if coding in self.qualities:
            return self.qualities[coding]
        if "*" in self.qualities:
            return self.qualities["*"]
        return 1.0 if coding == "identity" else 0.0

    def allows(self, coding: str) -> bool:
        return self.quality(coding) > 0

    def ranked(self, codings: Iterable[str]) -> list[str]:
        """The allowed ones of `codings`, most wanted first; ties keep the order given."""
        allowed = [coding for coding in codings if self.allows(coding)]
        return sorted(allowed, key=self.quality, reverse=True)  # sorted() is stable


def _coding(name: str) -> str:
    name = name.lower()
    return GZIP if name == "x-gzip" else name


def _quality(value: str) -> float:
    """A qvalue; anything malformed or out of [0, 1] counts as a refusal."""
    try:
        quality = float(value)
    except ValueError:
        return 0.0
    return quality if 0.0 <= quality <= 1.0 else 0.0  # also false for nan


def brotli_pays_off(original_size: int, gzip_size: int, brotli_size: int) -> bool:
    """Keep a Brotli copy only if it pays off at all and beats the gzip copy."""
    return pays_off(original_size, brotli_size) and brotli_size < gzip_size


def brotli_params(size: int) -> dict[str, int]:
    """Encoder settings for a file of `size` bytes (see BROTLI_LARGE)."""
    return dict(BROTLI_LARGE_PARAMS if size > BROTLI_LARGE else BROTLI_SMALL_PARAMS)


def brotli_module() -> ModuleType | None:
    """The Brotli encoder if it is installed (PyPI `Brotli`); only `warm()` needs it."""
    try:
        return importlib.import_module("brotli")
    except ImportError:
        return None


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
    """The copies of one runtime file in the cache (what `warm()` reports)."""

    url_path: str
    path: Path
    original_size: int
    gzip_size: int
    #: The Brotli copy, if one is kept (None: no encoder, or it does not beat gzip).
    brotli_path: Path | None = None
    brotli_size: int | None = None

    @property
    def served_gzipped(self) -> bool:
        return pays_off(self.original_size, self.gzip_size)

    @property
    def served_brotli(self) -> bool:
        return self.brotli_size is not None

    def wire_size(self, *, brotli: bool) -> int:
        """Bytes sent for this file to a client that accepts gzip (and `br`, if `brotli`)."""
        if brotli and self.brotli_size is not None:
            return self.brotli_size
        return self.gzip_size if self.served_gzipped else self.original_size


class PrecompressedCache:
    """Gzip copies of source files under `<root>/.cache/precompressed/<url path>.gz`.

    Each copy records the source's mtime (ns) and size in its gzip header's file-name field,
    so the copy and the record of which source it was made from are replaced together by one
    atomic `os.replace` (no sidecar file that could disagree). A copy whose record does not
    match the source is rebuilt; concurrent requests either see the old complete copy or the
    new complete one, never a half-written file.

    Brotli copies live next to them as `<url path>.<mtime_ns>-<size>.br`: Brotli has no header
    to record the source in, so the name does, and a copy is only ever looked up under the
    current source's stamp (a stale one can never be served). They are written by `ensure()`
    only (install time), via a temp file and `os.replace`, and older stamps are removed then.
    An empty `.br` file records "tried, not smaller than gzip", so a second `warm()` does not
    spend the seconds again (a real Brotli stream is never empty).
    """

    def __init__(self, root: Path, on_error: Callable[[str], None] | None = None) -> None:
        self.directory = root / CACHE_DIR
        self._on_error = on_error
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def path_for(self, url_path: str) -> Path:
        """Where the copy of a URL path lives (URL paths are already validated segments)."""
        return self.directory / (url_path.lstrip("/") + ".gz")

    def brotli_path_for(self, url_path: str, stat: os.stat_result) -> Path:
        """Where the Brotli copy of the source as `stat` describes it lives."""
        return self.directory / f"{url_path.lstrip('/')}.{_stamp(stat)}.br"

    def open_brotli(self, url_path: str, stat: os.stat_result) -> BinaryIO | None:
        """An open Brotli copy of the source as it was when `stat` was taken, or None.

        Never builds one (too slow for a request): None if `warm()` made none for this version.
        """
        try:
            copy = open(self.brotli_path_for(url_path, stat), "rb")  # noqa: SIM115 - returned
        except OSError:
            return None
        try:
            if os.fstat(copy.fileno()).st_size > 0:  # empty: gzip was as good
                return copy
        except OSError:
            pass
        copy.close()
        return None

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

    def ensure(
        self, url_path: str, source: Path, encoder: ModuleType | None = None
    ) -> PrecompressedCopy:
        """Make sure the copies of `source` are up to date (building them if needed).

        For `warm()`: the gzip copy always, the Brotli copy if an `encoder` (the `brotli`
        module) is given.
        """
        with self._lock_for(url_path):
            stat = source.stat()
            copy = self._open_matching(url_path, _stamp(stat))
            if copy is None:
                self._build(url_path, source)
            else:
                copy.close()
            path = self.path_for(url_path)
            gzip_size = path.stat().st_size
            brotli_path: Path | None = None
            brotli_size: int | None = None
            if encoder is not None:
                brotli_path = self._ensure_brotli(url_path, source, gzip_size, encoder)
                brotli_size = brotli_path.stat().st_size if brotli_path else None
            return PrecompressedCopy(
                url_path, path, stat.st_size, gzip_size, brotli_path, brotli_size
            )

    def _ensure_brotli(
        self, url_path: str, source: Path, gzip_size: int, encoder: ModuleType
    ) -> Path | None:
        """The kept Brotli copy of `source` (built if missing), or None if it is not kept."""
        with open(source, "rb") as original:
            stat = os.fstat(original.fileno())
            target = self.brotli_path_for(url_path, stat)
            if not target.exists():
                data = original.read()
                packed = encoder.compress(data, **brotli_params(len(data)))
                if not brotli_pays_off(len(data), gzip_size, len(packed)):
                    packed = b""  # the marker: tried, gzip is as good
                with replacing(target) as temp:
                    temp.write(packed)
        self._prune_brotli(target)
        return target if target.stat().st_size > 0 else None

    def _prune_brotli(self, current: Path) -> None:
        """Remove the Brotli copies of older versions of the same file."""
        name = current.name.rsplit(".", 2)[0]  # <file>.<stamp>.br -> <file>
        pattern = re.compile(re.escape(name) + r"\.-?\d+-\d+\.br")
        for entry in current.parent.iterdir():
            if entry.name != current.name and pattern.fullmatch(entry.name):
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()

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
        with open(source, "rb") as original:
            stamp = _stamp(os.fstat(original.fileno()))
            with (
                replacing(target) as temp,
                gzip.GzipFile(
                    filename=stamp, mode="wb", compresslevel=LEVEL, fileobj=temp, mtime=0
                ) as packed,
            ):
                shutil.copyfileobj(original, packed, _CHUNK)

    def _lock_for(self, url_path: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(url_path, threading.Lock())

    def _report(self, message: str) -> None:
        if self._on_error is not None:
            self._on_error(message)


def warm(root: Path | str) -> list[PrecompressedCopy]:
    """Build (or confirm) the gzip and Brotli copies of every servable runtime file.

    Run at install time: the first page load then streams ready-made copies instead of
    compressing ~13 MB, and Brotli (too slow to run on a request) is only ever made here.
    Without the `brotli` module only the gzip copies are made.
    """
    root = Path(root)
    cache = PrecompressedCache(root)
    versions = read_runtime_versions(root)
    encoder = brotli_module()
    copies = [
        cache.ensure(url_path, file, encoder)
        for url_path, file in runtime_files(root, versions)
    ]
    # The app's Python bundle, as it is now (cardserver/bundle.py): its Brotli copy stays
    # valid until a source edit rebuilds it; the request after that gets gzip until next time.
    copies.append(cache.ensure(f"/{BUNDLE_NAME}", ensure_bundle(root), encoder))
    # The interpreter's boot module, written for the standard library served beside it
    # (cardserver/boot_module.py); a static server can then serve it from .cache/boot/.
    if versions.pyodide:
        boot = resolve(versions.pyodide_url(BOOT_MODULE_NAME), root, versions)
        if boot is not None and boot.file is not None:
            copies.append(cache.ensure(boot.url_path, boot.file, encoder))
    return copies
