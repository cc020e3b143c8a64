"""The interpreter's boot module (cardserver/boot_module.py, cardserver/callcard-boot.mjs): its
snapshot key must follow the standard library archive served beside it, or a browser would
restore an interpreter heap over an archive it was not made from."""

from __future__ import annotations

import hashlib
import io
import os
import re
from pathlib import Path

import pytest
from test_server import PYODIDE, get, make_project

from cardserver import running
from cardserver.boot_module import (
    BOOT_MODULE_NAME,
    KEY_LENGTH,
    PLACEHOLDER,
    TEMPLATE,
    render_boot_module,
    snapshot_key,
)

BOOT = f"{PYODIDE}/{BOOT_MODULE_NAME}"
BUILT_STDLIB = Path(".cache", "runtime", PYODIDE.rsplit("/", 1)[1], "python_stdlib.zip")
_KEY = re.compile(r'const SNAPSHOT_KEY = "([0-9a-f]+)";')


def key_in(module: bytes) -> str:
    match = _KEY.search(module.decode("utf-8"))
    assert match, "the module names no snapshot key"
    return match.group(1)


def test_the_key_is_the_digest_of_the_archive_and_the_rest_is_the_template(tmp_path: Path) -> None:
    stdlib = tmp_path / "python_stdlib.zip"
    stdlib.write_bytes(b"archive one")
    module = render_boot_module(stdlib)
    assert key_in(module) == hashlib.sha256(b"archive one").hexdigest()[:KEY_LENGTH]
    assert PLACEHOLDER.encode() not in module
    template = TEMPLATE.read_text(encoding="utf-8")
    assert module.decode("utf-8") == template.replace(PLACEHOLDER, key_in(module))


def test_a_rebuilt_archive_gets_a_new_key(tmp_path: Path) -> None:
    stdlib = tmp_path / "python_stdlib.zip"
    stdlib.write_bytes(b"archive one")
    first = snapshot_key(stdlib)
    stdlib.write_bytes(b"archive two, longer")
    assert snapshot_key(stdlib) != first
    # Same size, later mtime: still noticed (the digest is remembered per size and mtime).
    stdlib.write_bytes(b"archive thr, longer")
    stamp = stdlib.stat().st_mtime_ns + 1_000_000
    os.utime(stdlib, ns=(stamp, stamp))
    assert snapshot_key(stdlib) == hashlib.sha256(b"archive thr, longer").hexdigest()[:KEY_LENGTH]


def test_the_module_loads_pyodide_from_beside_itself_and_exports_what_pyscript_reads() -> None:
    source = TEMPLATE.read_text(encoding="utf-8")
    assert source.count(PLACEHOLDER) == 1
    assert 'from "./pyodide.mjs"' in source
    assert re.search(r"^export async function loadPyodide\(", source, re.MULTILINE)
    assert re.search(r"^export \{ version \};", source, re.MULTILINE)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


def test_the_server_writes_the_key_of_the_archive_it_serves(project: Path) -> None:
    with running(project, "127.0.0.1", 0, log_stream=io.StringIO()) as server:
        status, headers, body = get(server, BOOT)
        assert status == 200
        assert headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert headers["Cache-Control"] == "no-cache"  # the content follows the build
        npm_archive = get(server, f"{PYODIDE}/python_stdlib.zip")[2]
        assert key_in(body) == hashlib.sha256(npm_archive).hexdigest()[:KEY_LENGTH]

        # `make stdlib` builds the bytecode archive, which is then served instead: new key,
        # and the browser's revalidation of the old module gets the new one.
        built = project / BUILT_STDLIB
        built.parent.mkdir(parents=True)
        built.write_bytes(b"the bytecode build of the standard library")
        status, _, rebuilt = get(server, BOOT, If_None_Match=headers["ETag"])
        assert status == 200
        assert key_in(rebuilt) == hashlib.sha256(built.read_bytes()).hexdigest()[:KEY_LENGTH]
        assert get(server, f"{PYODIDE}/python_stdlib.zip")[2] == built.read_bytes()

        # The simulator's framed card asks for the runtime under its own path: same module.
        assert get(server, f"/simulator/card{BOOT}")[2] == rebuilt


def test_no_archive_no_module_and_no_module_for_another_version(project: Path) -> None:
    with running(project, "127.0.0.1", 0, log_stream=io.StringIO()) as server:
        assert get(server, f"/runtime/pyodide-0.0.1/{BOOT_MODULE_NAME}")[0] == 404
        assert get(server, f"/runtime/pyscript-0.7.31/{BOOT_MODULE_NAME}")[0] == 404
        (project / "node_modules" / "pyodide" / "python_stdlib.zip").unlink()
        assert get(server, BOOT)[0] == 404
