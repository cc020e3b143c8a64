"""The wheels the npm runtime lacks (micropip, for PyScript's `packages`): pinned by hash in
tools/runtime-wheels.txt, and named in the build's own lock file with the digest of the very
bytes published (cardserver/runtime.py), since Pyodide checks it before it installs a package."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from cardserver.runtime import (
    PYODIDE_PACKAGE,
    LockError,
    build_lock,
    python_version,
)

ROOT = Path(__file__).resolve().parents[2]
LOCK = {"info": {"python": "3.14.2"}, "packages": {
    "micropip": {"name": "micropip", "version": "0.11.1", "sha256": "0" * 64,
                 "file_name": "micropip-0.11.1-py3-none-any.whl", "depends": []},
    "six": {"name": "six", "version": "1.17.0", "sha256": "1" * 64,
            "file_name": "six-1.17.0-py2.py3-none-any.whl", "depends": []},
}}


def wheel(tmp_path: Path, name: str, data: bytes = b"PK fake wheel") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_published_wheel_is_named_with_the_digest_of_its_bytes(tmp_path: Path) -> None:
    micropip = wheel(tmp_path, "micropip-0.11.1-py3-none-any.whl")
    patched = json.loads(build_lock(json.dumps(LOCK).encode(), [micropip]))
    entry = patched["packages"]["micropip"]
    assert entry["sha256"] == hashlib.sha256(b"PK fake wheel").hexdigest()
    assert entry["file_name"] == micropip.name
    assert set(patched["packages"]) == {"micropip"}, "only what the runtime can load"
    assert patched["info"] == LOCK["info"]


def test_a_published_wheel_needs_its_dependencies_published_too(tmp_path: Path) -> None:
    lock = json.loads(json.dumps(LOCK))
    lock["packages"]["micropip"]["depends"] = ["six"]
    micropip = wheel(tmp_path, "micropip-0.11.1-py3-none-any.whl")
    with pytest.raises(LockError, match="six"):
        build_lock(json.dumps(lock).encode(), [micropip])
    both = [wheel(tmp_path, "micropip-0.11.1-py3-none-any.whl"),
            wheel(tmp_path, "six-1.17.0-py2.py3-none-any.whl", b"other")]
    assert set(json.loads(build_lock(json.dumps(lock).encode(), both))["packages"]) == {
        "micropip", "six"}


@pytest.mark.parametrize("name", ["micropip-0.12.0-py3-none-any.whl",
                                  "requests-2.32.0-py3-none-any.whl"])
def test_a_wheel_out_of_step_with_the_runtime_stops_the_build(tmp_path: Path, name: str) -> None:
    with pytest.raises(LockError):
        build_lock(json.dumps(LOCK).encode(), [wheel(tmp_path, name)])


def test_the_pins_match_the_installed_runtime() -> None:
    """Each pinned wheel is a package of the pinned Pyodide's lock, at its version, with a hash."""
    lock = json.loads((ROOT / PYODIDE_PACKAGE / "pyodide-lock.json").read_text(encoding="utf-8"))
    pins = [line.split() for line in (ROOT / "tools" / "runtime-wheels.txt").read_text(
        encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    assert pins
    for requirement, hash_option in pins:
        name, version = requirement.split("==")
        assert lock["packages"][name]["version"] == version
        assert re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", hash_option)
    assert python_version(ROOT) == ".".join(lock["info"]["python"].split(".")[:2])
