"""The interpreter module pyscript.toml names: ``callcard-boot.<digest>.mjs``, beside pyodide.mjs.

It is Pyodide's loadPyodide plus a memory snapshot kept in the browser (callcard-boot.mjs says
why and how). A snapshot holds CPython's heap after start-up, and with it the directory of the
standard library archive it was booted from: restored over a different archive, or a different
wasm, it would read the wrong bytes. So the build writes two things into the module: the name
of this build's archive (which carries the archive's digest, so no browser can pair the module
with an older archive from its cache), and a key made of the digests of every file the heap
depends on; a snapshot is only used under the same key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

BOOT_MODULE_NAME = "callcard-boot.mjs"
TEMPLATE = Path(__file__).with_name(BOOT_MODULE_NAME)
KEY_PLACEHOLDER = "@SNAPSHOT_KEY@"
STDLIB_PLACEHOLDER = "@STDLIB@"
LOCK_PLACEHOLDER = "@LOCK@"
#: Hex digits of the sha256 kept in the key: plenty to tell two builds apart.
KEY_LENGTH = 32


def file_digest(file: Path) -> str:
    with file.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def snapshot_key(files: Iterable[tuple[str, Path]]) -> str:
    """One digest over the (name, content digest) of every file a snapshot depends on."""
    digest = hashlib.sha256()
    for name, file in sorted(files):
        digest.update(f"{name}\0{file_digest(file)}\n".encode())
    return digest.hexdigest()[:KEY_LENGTH]


def render_boot_module(key: str, stdlib_name: str, lock_name: str = "pyodide-lock.json") -> bytes:
    """The module's source with the key and the published names of the archive and of the lock
    file (the build's own, content-addressed: cardserver/runtime.py, build_lock) written in."""
    source = TEMPLATE.read_text(encoding="utf-8")
    for placeholder in (KEY_PLACEHOLDER, STDLIB_PLACEHOLDER, LOCK_PLACEHOLDER):
        if source.count(placeholder) != 1:
            raise RuntimeError(f"{TEMPLATE.name} must name {placeholder} exactly once")
    for name in (stdlib_name, lock_name):
        if not name or "/" in name or '"' in name:
            raise ValueError(f"not a file name beside the module: {name!r}")
    return (source.replace(KEY_PLACEHOLDER, key).replace(STDLIB_PLACEHOLDER, stdlib_name)
            .replace(LOCK_PLACEHOLDER, lock_name).encode())
