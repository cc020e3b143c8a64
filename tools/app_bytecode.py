"""Checked bytecode for the Python the card runs at start-up besides the standard library.

Why: with the standard library as bytecode (tools/stdlib_bytecode.py), compiling the card's own
modules and PyScript's ``pyscript`` package from source became the largest piece of Python
work left before the first render, and it is paid on every load, warm or cold.

How: ``tools/compile-app.mjs`` runs :func:`compile_sources` inside the pinned Pyodide (in Node),
so the bytecode has the browser interpreter's magic number and compiler. Each ``.pyc`` is
*checked* hash-based (PEP 552): zipimport hashes the ``.py`` beside it in the archive and uses
the bytecode only when the hashes agree, otherwise it compiles the source as before. A stale
``.pyc`` (a module edited since ``make``) therefore costs time, never correctness.
``cardserver/bundle.py`` packs the sources and the bytecode that still matches them into the
one archive the page loads. PyScript's package is the exception: its sources live in PyScript's
JavaScript, so the archive carries its bytecode alone, all of it or none (the 14 modules share
one origin file, checked by digest at build time); with none, ``import pyscript`` finds the
sources PyScript writes into the working directory.

This module runs under Pyodide's Python and under CPython (unit tests): standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

try:
    from stdlib_bytecode import pyc_bytes  # in Pyodide, tools/ itself is on sys.path
except ImportError:  # imported as tools.app_bytecode (the unit tests)
    from tools.stdlib_bytecode import pyc_bytes

#: The interpreter's working directory in the browser.
HOME = "/home/pyodide"
#: Where cardserver/callcard-boot.mjs writes the app's archive and puts it on sys.path: modules
#: imported from it are named ``<ARCHIVE>/callcard/app.py`` (zipimport's way), and so are their
#: code objects here, so a traceback reads the same from bytecode as from source.
ARCHIVE = f"{HOME}/app-bundle.zip"


@dataclass(frozen=True)
class Compiled:
    """One module's bytecode and what it was made from."""

    source: str  # path inside the archive, e.g. "callcard/app.py"
    pyc: str  # where zipimport looks for its bytecode, e.g. "callcard/app.pyc"
    data: bytes


def pyc_path(source: str) -> str:
    """Where zipimport looks for a module's bytecode in an archive: beside the source, with no
    ``__pycache__`` and no cache tag (``callcard/app.py`` -> ``callcard/app.pyc``)."""
    return str(PurePosixPath(source).with_suffix(".pyc"))


def compile_sources(sources: Mapping[str, bytes], home: str = ARCHIVE) -> list[Compiled]:
    """Checked bytecode for each ``{"pkg/mod.py": source}``, named as zipimport wants it.

    Code objects name their file as zipimport would when compiling the source in the browser
    (``/home/pyodide/app-bundle.zip/pkg/mod.py``), so tracebacks read the same either way.
    """
    compiled = []
    for source, data in sorted(sources.items()):
        pyc = pyc_bytes(data, f"{home}/{source}", checked=True)
        compiled.append(Compiled(source, pyc_path(source), pyc))
    return compiled


def manifest(compiled: list[Compiled], made_from: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``{source: {"pyc": path, "from": project file}}``; the driver adds each ``from`` file's
    sha256, and cardserver/bundle.py ships a ``.pyc`` only while that file is unchanged."""
    return {item.source: {"pyc": item.pyc, "from": made_from[item.source]} for item in compiled}
