"""Brotli and gzip copies of the published files, made at build time with ServeStatic's
Compressor (ServeStatic then serves them to clients that accept them).

Two things are ours, and why:

- Brotli's quality. ServeStatic compresses at quality 11, which takes ~40 s on the 9.6 MB wasm
  alone, on every build. Above BROTLI_LARGE bytes we ask for quality 9 with a 16 MB window
  (~4 s there, ~9 % more bytes than 11); smaller files keep 11.
- A cache by content. The runtime is the same build after build; its copies are kept in
  ``.cache/compressed/<sha256>.{br,gz}`` and reused, so `make dist` after an edit of one Python
  file takes seconds, not a minute.

The zip archives (the standard library with bytecode, the app bundle) are stored, not
deflated, so they compress as a whole: ServeStatic skips ``.zip`` by default, here it does not.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

import brotli
from servestatic.compress import Compressor

from .atomic import replacing

CACHE_DIR: Final = Path(".cache", "compressed")
BROTLI_LARGE: Final = 1_000_000
BROTLI_LARGE_PARAMS: Final = {"quality": 9, "lgwin": 24}
BROTLI_SMALL_PARAMS: Final = {"quality": 11, "lgwin": 22}
#: ServeStatic's list of what is not worth compressing, less our stored archives.
SKIP_EXTENSIONS: Final = tuple(e for e in Compressor.SKIP_COMPRESS_EXTENSIONS if e != "zip")
SUFFIXES: Final = (".br", ".gz")


class CardCompressor(Compressor):
    """ServeStatic's Compressor with Brotli's quality by size (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__(extensions=SKIP_EXTENSIONS, use_zstd=False, quiet=True)

    @staticmethod
    def compress_brotli(data: bytes) -> bytes:
        params = BROTLI_LARGE_PARAMS if len(data) > BROTLI_LARGE else BROTLI_SMALL_PARAMS
        return brotli.compress(data, **params)


def precompress(files: Iterable[Path], cache: Path) -> int:
    """Write ``<file>.br`` / ``<file>.gz`` beside each file worth compressing (a copy only where
    it is at most 95 % of the original, ServeStatic's rule); returns how many were compressed
    afresh rather than taken from ``cache``."""
    compressor = CardCompressor()
    todo = [file for file in files if compressor.should_compress(file.name)]
    with ThreadPoolExecutor() as pool:
        return sum(pool.map(lambda file: _precompress_one(compressor, file, cache), todo))


def _precompress_one(compressor: CardCompressor, file: Path, cache: Path) -> int:
    with file.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    done = cache / f"{digest}.done"  # written last: the cached copies are complete
    if done.is_file():
        for suffix in SUFFIXES:
            cached = cache / f"{digest}{suffix}"
            if cached.is_file():
                shutil.copyfile(cached, f"{file}{suffix}")
        return 0
    made = compressor.compress(file)
    # Another build may fill the same entry at the same time: each file appears whole or not.
    for written in made:
        suffix = os.path.splitext(written)[1]
        with replacing(cache / f"{digest}{suffix}") as copy:
            copy.write(Path(written).read_bytes())
    with replacing(done) as marker:
        marker.write(",".join(os.path.splitext(w)[1] for w in made).encode())
    return 1
