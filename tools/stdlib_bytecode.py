"""Put bytecode for the card's start-up modules into Pyodide's standard-library zip.

Why: Pyodide ships ``python_stdlib.zip`` as source, so every page load compiles each standard
module it imports (asyncio, json, re, typing, dataclasses...) from text, inside WebAssembly.
On a 2-core machine that compiling is most of the interpreter's start-up: about half of a
cold load and more than half of a warm one. Bytecode made once, at install time, removes it.

How: ``tools/compile-stdlib.mjs`` runs :func:`with_bytecode` inside the pinned Pyodide itself
(in Node), so the bytecode has exactly the interpreter's magic number and compiler. For each
listed module the ``.py`` member is replaced by a ``.pyc`` (PEP 552, hash-based, unchecked:
the zip never changes under it); zipimport prefers ``.pyc`` and needs no source for it. The
other members are kept as source (compiled if something imports them later) and stored
uncompressed, so the whole file compresses better on the wire (gzip/brotli of the server).

The price: tracebacks through the listed modules name file and line but cannot show the
source line. Which modules are listed: ``tools/stdlib-boot-modules.txt``, the standard
modules loaded by the time the card is ready; a browser test fails when one is missing.

This module runs under Pyodide's Python and under CPython (unit tests): standard library only.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import marshal
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

#: PEP 552 flags: bit 0 "hash-based", bit 1 "check the source".
_UNCHECKED_HASH = 0b01
CHECKED_HASH = 0b11


@dataclass(frozen=True)
class Result:
    """The new zip and what went into it."""

    data: bytes
    compiled: tuple[str, ...]
    #: Listed modules with no ``.py`` member (built in, frozen or a typo): left alone.
    not_found: tuple[str, ...]


def module_members(name: str) -> tuple[str, str]:
    """The two members a module may be in: ``a/b.py`` and ``a/b/__init__.py``."""
    path = name.replace(".", "/")
    return f"{path}.py", f"{path}/__init__.py"


def without_function_docstrings(tree: ast.Module) -> ast.Module:
    """``tree`` without the docstrings of its module and of its functions, as ``-OO`` leaves
    them (``__doc__`` is None): about an eighth of the bytecode's size, on the wire at every
    cold load, and nothing reads them at run time. Class docstrings stay: a dataclass without
    one builds it from ``inspect.signature``, which would import ``inspect`` at start-up.
    Asserts stay too (``-O`` would drop them). Line numbers are the source's, so tracebacks
    point at the same lines."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        first = node.body[0] if node.body else None
        if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)):
            if len(node.body) == 1:
                node.body[0] = ast.copy_location(ast.Pass(), first)
            else:
                del node.body[0]
    return tree


def pyc_bytes(source: bytes, filename: str, *, checked: bool = False) -> bytes:
    """Hash-based bytecode for ``source`` (PEP 552), for this interpreter, without the
    docstrings of its functions (:func:`without_function_docstrings`).

    Unchecked (the default) is for the stdlib zip, which never changes under it. ``checked``
    makes the importer hash the source next to it and compile that instead when they differ,
    so bytecode can never shadow an edited file (tools/app_bytecode.py). The hash is the
    source's own: the bytecode is that source's, docstrings aside.
    """
    tree = without_function_docstrings(ast.parse(source, filename))
    code = compile(tree, filename, "exec", dont_inherit=True, optimize=0)
    flags = CHECKED_HASH if checked else _UNCHECKED_HASH
    header = (
        importlib.util.MAGIC_NUMBER
        + flags.to_bytes(4, "little")
        + importlib.util.source_hash(source)
    )
    return header + marshal.dumps(code)


def with_bytecode(source_zip: bytes, modules: Iterable[str], archive: str) -> Result:
    """``source_zip`` with bytecode instead of source for ``modules``; all members stored.

    ``archive`` is the zip's path on ``sys.path`` in the interpreter (``/lib/python314.zip``):
    code objects name their file as zipimport would when compiling the source itself.
    """
    wanted = {name.strip() for name in modules if name.strip()}
    members_of = {member: name for name in wanted for member in module_members(name)}
    compiled: list[str] = []
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(source_zip)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            name = members_of.get(info.filename)
            if name is None:
                dst.writestr(_stored(info.filename, info), data)
                continue
            pyc = pyc_bytes(data, f"{archive}/{info.filename}")
            dst.writestr(_stored(info.filename + "c", info), pyc)
            compiled.append(name)
    not_found = tuple(sorted(wanted - set(compiled)))
    return Result(out.getvalue(), tuple(sorted(compiled)), not_found)


def _stored(filename: str, like: zipfile.ZipInfo) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(filename, like.date_time)
    info.external_attr = like.external_attr
    info.compress_type = zipfile.ZIP_STORED
    return info


def read_module_list(text: str) -> list[str]:
    """Module names, one a line; ``#`` starts a comment."""
    names = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [name for name in names if name]
