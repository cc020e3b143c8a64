"""The interpreter module pyscript.toml names: ``/runtime/pyodide-<version>/callcard-boot.mjs``.

It is Pyodide's loadPyodide plus a memory snapshot kept in the browser (callcard-boot.mjs says
why and how). A snapshot holds CPython's heap after start-up, and with it the directory of the
standard library archive it was booted from; restored over a different archive it would read
the wrong bytes. So the module carries a key, the digest of the archive this server sends for
that runtime (the bytecode build from ``make stdlib``, or else Pyodide's own), and a snapshot is
only used under the same key. Pyodide itself refuses a snapshot of another wasm build.

The module is written under ``.cache/boot/`` when its content would change and served like the
app bundle (revalidated, content ETag): its URL carries the Pyodide version, but its content
also depends on the build.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from .bundle import write_if_changed

BOOT_MODULE_NAME = "callcard-boot.mjs"
TEMPLATE = Path(__file__).with_name(BOOT_MODULE_NAME)
BOOT_DIR = Path(".cache", "boot")
PLACEHOLDER = "@SNAPSHOT_KEY@"
#: Hex digits of the sha256 kept in the key: plenty to tell two builds apart.
KEY_LENGTH = 32

_digests: dict[tuple[str, int, int], str] = {}
_digests_lock = threading.Lock()


def snapshot_key(stdlib: Path) -> str:
    """The sha256 (prefix) of the standard library archive, remembered per (path, size, mtime):
    the archive is ~10 MB and the module is asked for on every page load."""
    stat = stdlib.stat()
    identity = (str(stdlib), stat.st_size, stat.st_mtime_ns)
    with _digests_lock:
        known = _digests.get(identity)
    if known is None:
        with stdlib.open("rb") as file:
            known = hashlib.file_digest(file, "sha256").hexdigest()[:KEY_LENGTH]
        with _digests_lock:
            _digests[identity] = known
    return known


def render_boot_module(stdlib: Path) -> bytes:
    """The module's source with the key of `stdlib` written in."""
    source = TEMPLATE.read_text(encoding="utf-8")
    if source.count(PLACEHOLDER) != 1:
        raise RuntimeError(f"{TEMPLATE.name} must name {PLACEHOLDER} exactly once")
    return source.replace(PLACEHOLDER, snapshot_key(stdlib)).encode("utf-8")


def ensure_boot_module(root: Path, versioned: str, stdlib: Path) -> Path:
    """``.cache/boot/<versioned>/callcard-boot.mjs`` for the archive served beside it."""
    target = root / BOOT_DIR / versioned / BOOT_MODULE_NAME
    return write_if_changed(target, render_boot_module(stdlib))
