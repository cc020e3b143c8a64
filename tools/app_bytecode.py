"""Checked bytecode for the Python the card runs at start-up besides the standard library.

Why: with the standard library as bytecode (tools/stdlib_bytecode.py), compiling the card's own
modules and PyScript's ``pyscript`` package from source became the largest piece of Python
work left before the first render, and it is paid on every load, warm or cold.

How: ``tools/compile-app.mjs`` runs :func:`compile_sources` inside the pinned Pyodide (in Node),
so the bytecode has the browser interpreter's magic number and compiler. Each ``.pyc`` is
*checked* hash-based (PEP 552): the importer hashes the ``.py`` beside it and uses the bytecode
only when the hashes agree, otherwise it compiles the source as before. A stale ``.pyc`` (a
module edited since ``make``, a PyScript whose text differs) therefore costs time, never
correctness. ``cardserver/bundle.py`` packs the sources and the bytecode that still matches
them into the one archive the page loads.

This module runs under Pyodide's Python and under CPython (unit tests): standard library only.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

try:
    from stdlib_bytecode import pyc_bytes  # in Pyodide, tools/ itself is on sys.path
except ImportError:  # imported as tools.app_bytecode (the unit tests)
    from tools.stdlib_bytecode import pyc_bytes

#: Where PyScript's files end up in the browser: the interpreter's working directory.
HOME = "/home/pyodide"


@dataclass(frozen=True)
class Compiled:
    """One module's bytecode and what it was made from."""

    source: str  # path in the browser's working directory, e.g. "callcard/app.py"
    pyc: str  # where the importer looks for it, e.g. "callcard/__pycache__/app.cpython-314.pyc"
    data: bytes


def pyc_path(source: str, cache_tag: str | None = None) -> str:
    """The importer's bytecode path for a source path (``importlib.util.cache_from_source``
    for the interpreter running this, without touching any file system)."""
    tag = cache_tag or sys.implementation.cache_tag
    path = PurePosixPath(source)
    return str(path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc")


def compile_sources(sources: Mapping[str, bytes], home: str = HOME) -> list[Compiled]:
    """Checked bytecode for each ``{"pkg/mod.py": source}``, named as the importer wants it.

    Code objects name their file as the importer would when compiling the source in the
    browser (``/home/pyodide/pkg/mod.py``), so tracebacks read the same either way.
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
