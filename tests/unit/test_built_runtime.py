"""Runtime files built at install time (.cache/runtime/) are served in place of the package's.

Today that is python_stdlib.zip with bytecode (tools/compile-stdlib.mjs); the URL stays the
versioned runtime URL, so the page and Pyodide need no change.
"""

from __future__ import annotations

import io
from pathlib import Path

from test_server import PYODIDE, PYODIDE_VERSION, _write, get, make_project

from cardserver import running
from cardserver.compression import warm
from cardserver.routes import BUILT_RUNTIME


def test_the_built_stdlib_is_served_and_precompressed_when_present(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    path = f"{PYODIDE}/python_stdlib.zip"
    package_zip = (root / "node_modules/pyodide/python_stdlib.zip").read_bytes()
    with running(root, "127.0.0.1", 0, log_stream=io.StringIO()) as server:
        assert get(server, path)[2] == package_zip  # nothing built yet: the package's own

        built = b"PK built with bytecode " * 200
        _write(root / BUILT_RUNTIME / f"pyodide-{PYODIDE_VERSION}" / "python_stdlib.zip", built)
        status, headers, body = get(server, path)
        assert (status, body) == (200, built)
        assert "immutable" in headers["Cache-Control"]
        # Other runtime files still come from the package.
        wasm = (root / "node_modules/pyodide/pyodide.asm.wasm").read_bytes()
        assert get(server, f"{PYODIDE}/pyodide.asm.wasm")[2] == wasm

    sizes = {copy.url_path: copy.original_size for copy in warm(root)}
    assert sizes[path] == len(built)  # install-time compression works on the built file


def test_a_built_file_for_another_version_is_never_served(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    _write(root / BUILT_RUNTIME / "pyodide-0.0.1" / "python_stdlib.zip", b"stale")
    package_zip = (root / "node_modules/pyodide/python_stdlib.zip").read_bytes()
    with running(root, "127.0.0.1", 0, log_stream=io.StringIO()) as server:
        assert get(server, f"{PYODIDE}/python_stdlib.zip")[2] == package_zip
        assert get(server, "/runtime/pyodide-0.0.1/python_stdlib.zip")[0] == 404
