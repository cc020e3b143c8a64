"""The interpreter's boot module (cardserver/boot_module.py, cardserver/callcard-boot.mjs): its
snapshot key must follow every file an interpreter heap depends on, and it must name this
build's standard library archive, or a browser would restore a heap over files it was not made
from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cardserver.boot_module import (
    KEY_LENGTH,
    KEY_PLACEHOLDER,
    LOCK_PLACEHOLDER,
    STDLIB_PLACEHOLDER,
    TEMPLATE,
    render_boot_module,
    snapshot_key,
)

_KEY = re.compile(r'const SNAPSHOT_KEY = "([0-9a-f]+)";')
_STDLIB = re.compile(r'new URL\("\./([^"]+)", import\.meta\.url\)')


def files(tmp_path: Path, **contents: bytes) -> list[tuple[str, Path]]:
    out = []
    for name, data in contents.items():
        path = tmp_path / name
        path.write_bytes(data)
        out.append((name, path))
    return out


def test_the_key_names_and_the_archive_are_written_in_and_the_rest_is_the_template() -> None:
    module = render_boot_module("ab" * (KEY_LENGTH // 2), "python_stdlib.0123456789ab.zip",
                                "callcard-lock.0123456789ab.json")
    text = module.decode("utf-8")
    assert _KEY.search(text).group(1) == "ab" * (KEY_LENGTH // 2)  # type: ignore[union-attr]
    assert _STDLIB.search(text).group(1) == "python_stdlib.0123456789ab.zip"  # type: ignore
    template = TEMPLATE.read_text(encoding="utf-8")
    assert text == template.replace(KEY_PLACEHOLDER, "ab" * (KEY_LENGTH // 2)).replace(
        STDLIB_PLACEHOLDER, "python_stdlib.0123456789ab.zip").replace(
        LOCK_PLACEHOLDER, "callcard-lock.0123456789ab.json")
    # Both the page's boot and the snapshot worker's use this build's archive and lock file.
    assert text.count("stdLibURL: STDLIB_URL") == 2
    assert text.count("lockFileURL: LOCK_URL") == 2


@pytest.mark.parametrize("name", ["", "../python_stdlib.zip", 'x".zip'])
def test_the_archive_must_be_a_plain_name_beside_the_module(name: str) -> None:
    with pytest.raises(ValueError):
        render_boot_module("00", name)


def test_the_key_changes_with_any_file_the_heap_depends_on(tmp_path: Path) -> None:
    first = snapshot_key(files(tmp_path, **{"pyodide.asm.wasm": b"w", "python_stdlib.zip": b"s"}))
    assert len(first) == KEY_LENGTH
    assert snapshot_key(files(tmp_path, **{"pyodide.asm.wasm": b"w",
                                            "python_stdlib.zip": b"s2"})) != first
    assert snapshot_key(files(tmp_path, **{"pyodide.asm.wasm": b"w2",
                                            "python_stdlib.zip": b"s"})) != first
    # Order does not matter; the same bytes give the same key.
    same = files(tmp_path, **{"python_stdlib.zip": b"s", "pyodide.asm.wasm": b"w"})
    assert snapshot_key(same) == first


def test_the_module_loads_pyodide_from_beside_itself_and_exports_what_pyscript_reads() -> None:
    source = TEMPLATE.read_text(encoding="utf-8")
    assert source.count(KEY_PLACEHOLDER) == 1 and source.count(STDLIB_PLACEHOLDER) == 1
    assert 'from "./pyodide.mjs"' in source
    assert re.search(r"^export async function loadPyodide\(", source, re.MULTILINE)
    assert re.search(r"^export \{ version \};", source, re.MULTILINE)
