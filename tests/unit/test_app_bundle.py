"""The app's Python bundle: checked bytecode (tools/app_bytecode.py, made here by CPython for
CPython, so the importer can really be asked) and the archive the server builds from it
(cardserver/bundle.py)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import io
import json
import os
import re
import sys
import zipfile
import zipimport
from collections.abc import Iterator
from pathlib import Path

import pytest

from cardserver.bundle import APP_PACKAGES, BYTECODE_DIR, build_bundle
from tools.app_bytecode import ARCHIVE, compile_sources, manifest, pyc_path


@pytest.fixture
def compiled_from_source(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths zipimport compiles from source (it skips this for accepted bytecode)."""
    seen: list[str] = []
    original = zipimport._compile_source  # type: ignore[attr-defined]

    def recording(path: str, source: bytes) -> object:
        seen.append(str(path))
        return original(path, source)

    monkeypatch.setattr(zipimport, "_compile_source", recording)
    return seen


@pytest.fixture
def importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An archive on sys.path (as callcard-boot.mjs mounts the app's), for a package named
    `bundled_pkg`, forgotten again afterwards; write it before the first import."""
    archive = tmp_path / "app-bundle.zip"
    monkeypatch.syspath_prepend(str(archive))
    yield archive
    for name in [name for name in sys.modules if name.split(".")[0] == "bundled_pkg"]:
        del sys.modules[name]
    sys.path_importer_cache.pop(str(archive), None)
    importlib.invalidate_caches()


def _write_compiled(archive: Path, sources: dict[str, bytes],
                    edited: dict[str, bytes] | None = None) -> None:
    """The sources (or their `edited` text) and the bytecode of the original text, laid out as
    cardserver/bundle.py lays them out."""
    with zipfile.ZipFile(archive, "w") as out:
        for name, data in {**sources, **(edited or {})}.items():
            out.writestr(name, data)
        for item in compile_sources(sources, home=str(archive)):
            out.writestr(item.pyc, item.data)


SOURCES = {
    "bundled_pkg/__init__.py": b"from bundled_pkg.mod import VALUE\n",
    "bundled_pkg/mod.py": b"VALUE = 'from the first text'\n",
}


def test_checked_bytecode_is_used_while_the_source_is_unchanged(
    importable: Path, compiled_from_source: list[str]
) -> None:
    _write_compiled(importable, SOURCES)
    module = importlib.import_module("bundled_pkg")
    assert module.VALUE == "from the first text"
    assert compiled_from_source == []
    # Its code names the source's path in the archive, as zipimport names code it compiles, so
    # tracebacks read the same either way (and find the source through the module's loader).
    assert module.mod.__file__ == f"{importable}/bundled_pkg/mod.pyc"
    code = module.mod.__loader__.get_code("bundled_pkg.mod")
    assert code.co_filename == f"{importable}/bundled_pkg/mod.py"
    source = module.mod.__loader__.get_source("bundled_pkg.mod")
    assert source == SOURCES["bundled_pkg/mod.py"].decode()


def test_checked_bytecode_never_shadows_an_edited_source(
    importable: Path, compiled_from_source: list[str]
) -> None:
    _write_compiled(importable, SOURCES, {"bundled_pkg/mod.py": b"VALUE = 'edited'\n"})
    module = importlib.import_module("bundled_pkg")
    assert module.VALUE == "edited"
    # (zipimport reads a module twice: once for its spec's file name, once to run it.)
    assert set(compiled_from_source) == {f"{importable}/bundled_pkg/mod.py"}


def test_bytecode_sits_where_zipimport_looks_for_it() -> None:
    assert pyc_path("callcard/app.py") == "callcard/app.pyc"
    assert pyc_path("callcard/__init__.py") == "callcard/__init__.pyc"
    item = compile_sources({"callcard/app.py": b"X = 1\n"})[0]
    assert item.pyc == pyc_path("callcard/app.py")
    assert manifest([item], {"callcard/app.py": "callcard/app.py"}) == {
        "callcard/app.py": {"pyc": item.pyc, "from": "callcard/app.py"}
    }


def test_the_bytecode_is_named_for_the_archive_the_boot_module_mounts() -> None:
    """tools/app_bytecode.py compiles for the path callcard-boot.mjs writes the archive to."""
    boot = (Path(__file__).resolve().parents[2] / "cardserver" / "callcard-boot.mjs").read_text()
    assert f'const ARCHIVE_PATH = "{ARCHIVE}";' in boot
    item = compile_sources({"callcard/app.py": b"X = 1\n"})[0]
    assert f"{ARCHIVE}/callcard/app.py".encode() in item.data


# -- the archive -------------------------------------------------------------------------------


def make_project(root: Path, *, with_bytecode: bool = True) -> Path:
    files = {
        "bx24_bridge/__init__.py": b"BRIDGE = 1\n",
        "callcard/__init__.py": b"",
        "callcard/app.py": b"APP = 1\n",
        "callcard/notes.txt": b"not a module",
        "node_modules/@pyscript/core/src/stdlib/pyscript.js": b"export default {};\n",
        "tests/test_x.py": b"SECRET = 1\n",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    if with_bytecode:
        entries = {
            "bx24_bridge/__init__.py": "bx24_bridge/__init__.py",
            "callcard/app.py": "callcard/app.py",
            "pyscript/web.py": "node_modules/@pyscript/core/src/stdlib/pyscript.js",
        }
        written = {}
        for source, origin in entries.items():
            pyc = pyc_path(source)
            (root / BYTECODE_DIR / pyc).parent.mkdir(parents=True, exist_ok=True)
            (root / BYTECODE_DIR / pyc).write_bytes(f"bytecode of {source}".encode())
            digest = hashlib.sha256((root / origin).read_bytes()).hexdigest()
            written[source] = {"pyc": pyc, "from": origin, "sha256": digest}
        (root / BYTECODE_DIR / "manifest.json").write_text(json.dumps(written))
    return root


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_bundle_has_every_module_of_the_packages_and_their_bytecode(tmp_path: Path) -> None:
    inside = members(build_bundle(make_project(tmp_path)))
    assert inside == {
        "bx24_bridge/__init__.py": b"BRIDGE = 1\n",
        "callcard/__init__.py": b"",
        "callcard/app.py": b"APP = 1\n",
        "bx24_bridge/__init__.pyc": b"bytecode of bx24_bridge/__init__.py",
        "callcard/app.pyc": b"bytecode of callcard/app.py",
        "pyscript/web.pyc": b"bytecode of pyscript/web.py",
    }


def test_bytecode_of_an_edited_file_is_left_out(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "callcard" / "app.py").write_bytes(b"APP = 2\n")
    (root / "node_modules/@pyscript/core/src/stdlib/pyscript.js").write_bytes(b"// upgraded\n")
    inside = members(build_bundle(root))
    assert inside["callcard/app.py"] == b"APP = 2\n"
    assert sorted(name for name in inside if name.endswith(".pyc")) == [
        "bx24_bridge/__init__.pyc"
    ]


@pytest.mark.parametrize(
    "manifest_text",
    ["", "not json", "[]", '{"callcard/app.py": 1}',
     '{"x.py": {"pyc": "../../outside.pyc", "from": "callcard/app.py", "sha256": "0"}}',
     '{"x.py": {"pyc": "a.pyc", "from": "/etc/passwd", "sha256": "0"}}'],
)
def test_a_missing_or_odd_manifest_leaves_the_sources_alone(
    tmp_path: Path, manifest_text: str
) -> None:
    root = make_project(tmp_path, with_bytecode=False)
    (root / BYTECODE_DIR).mkdir(parents=True)
    (root / BYTECODE_DIR / "manifest.json").write_text(manifest_text)
    assert sorted(members(build_bundle(root))) == [
        "bx24_bridge/__init__.py", "callcard/__init__.py", "callcard/app.py"]


def test_the_same_files_give_the_same_bytes(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    first = build_bundle(root)
    os.utime(root / "callcard" / "app.py")  # touched, not changed
    assert build_bundle(root) == first  # so the published name (its digest) stays the same


def test_the_bytecode_tool_compiles_the_packages_the_bundle_packs() -> None:
    """tools/compile-app.mjs keeps its own list (it runs in Node): it must not drift from ours."""
    script = (Path(__file__).resolve().parents[2] / "tools" / "compile-app.mjs").read_text()
    [listed] = re.findall(r"^const packages = \[([^\]]*)\];", script, re.MULTILINE)
    assert tuple(re.findall(r'"([^"]+)"', listed)) == APP_PACKAGES
