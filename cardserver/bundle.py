"""The page's Python in one archive: the app's packages, with bytecode where it still matches.

The page's ``<script type="py">`` names a single ``./app-bundle.zip`` (data-python-archive),
which the interpreter module fetches beside the runtime and puts first on ``sys.path``, so that
CPython's zipimport reads each module from it when it is imported (callcard-boot.mjs says why:
unpacking it cost ~100 ms of every load). One request replaces one per module, and the archive
carries what no per-file list could: the checked bytecode that ``make`` builds into
``.cache/bytecode/`` (tools/app_bytecode.py) for the app's modules, beside each source where
zipimport looks for it (``callcard/app.pyc``), and for PyScript's own ``pyscript`` package
(bytecode only: PyScript writes its sources into the working directory at start-up).

Every ``.py`` of the app's packages is in the archive, so a new module cannot be forgotten in a
list. A ``.pyc`` goes in only while the source it was made from is byte for byte the current one
(sha256 in the manifest); after an edit the archive carries the source alone until the next
``make``, and the browser compiles it as before. `make dist` publishes the archive under its
digest (cardserver/dist.py), so the same files always give the same archive and the same URL.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

#: The app's Python packages: every .py in them is served, and packed.
APP_PACKAGES = ("bx24_bridge", "callcard")
BUNDLE_NAME = "app-bundle.zip"
#: Made by tools/compile-app.mjs (`make bytecode`).
BYTECODE_DIR = Path(".cache", "bytecode")
#: Fixed member timestamps: the same files always give the same archive, byte for byte.
_EPOCH = (1980, 1, 1, 0, 0, 0)

def app_sources(root: Path) -> Iterator[tuple[str, Path]]:
    """``("callcard/app.py", file)`` for every module of the app's packages, in order."""
    for package in APP_PACKAGES:
        folder = root / package
        for file in sorted(folder.glob("*.py")):
            if file.is_file():
                yield f"{package}/{file.name}", file


def matching_bytecode(root: Path) -> Iterator[tuple[str, bytes]]:
    """``(pyc path, bytes)`` for each compiled module whose origin has not changed since."""
    try:
        manifest = json.loads((root / BYTECODE_DIR / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return  # not built (or half a build): sources only, the browser compiles them
    if not isinstance(manifest, dict):
        return
    digests: dict[str, str] = {}  # PyScript's 14 modules share one origin file: hash it once
    for _source, entry in sorted(manifest.items()):
        if not isinstance(entry, dict):
            continue
        pyc, origin, digest = entry.get("pyc"), entry.get("from"), entry.get("sha256")
        if not (isinstance(pyc, str) and isinstance(origin, str) and isinstance(digest, str)):
            continue
        if not (_is_inside(pyc) and _is_inside(origin)):
            continue
        try:
            if origin not in digests:
                digests[origin] = _sha256(root / origin)
            if digests[origin] != digest:
                continue  # edited (or upgraded) since `make`: the browser would refuse it
            yield pyc, (root / BYTECODE_DIR / pyc).read_bytes()
        except OSError:
            continue


def _sha256(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def _is_inside(relative: str) -> bool:
    parts = relative.split("/")
    return bool(parts) and all(part not in ("", ".", "..") for part in parts)


def build_bundle(root: Path) -> bytes:
    """The archive's bytes: sources first, then bytecode; stored (the server compresses)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, file in app_sources(root):
            archive.writestr(_member(name), file.read_bytes())
        for name, data in matching_bytecode(root):
            archive.writestr(_member(name), data)
    return out.getvalue()


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, _EPOCH)
    info.external_attr = 0o644 << 16
    return info
