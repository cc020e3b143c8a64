"""The bridge as a package (packages/bx24-bridge/): the wheel `make wheel` builds holds the bridge
and nothing of the card, says what it is, imports on its own, and comes out the same every time.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import bx24_bridge

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "packages" / "bx24-bridge"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "-w", str(out), str(PROJECT)],
        check=True, capture_output=True, timeout=120,
    )
    [built] = out.glob("*.whl")
    return built


def test_the_wheel_is_pure_python_and_named_by_the_package_s_version(wheel: Path) -> None:
    assert wheel.name == f"bx24_bridge-{bx24_bridge.__version__}-py3-none-any.whl"


def test_it_holds_every_module_of_the_bridge_and_nothing_else(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    package = {name for name in names if not name.startswith("bx24_bridge-")}
    expected = {f"bx24_bridge/{path.name}" for path in (ROOT / "bx24_bridge").glob("*.py")}
    assert package == expected | {"bx24_bridge/py.typed"}
    for name in package:
        assert zipfile.ZipFile(wheel).read(name) == (ROOT / name).read_bytes(), name


def test_its_metadata_says_what_it_is(wheel: Path) -> None:
    version = bx24_bridge.__version__
    metadata = Parser().parsestr(
        zipfile.ZipFile(wheel).read(f"bx24_bridge-{version}.dist-info/METADATA").decode())
    assert metadata["Name"] == "bx24-bridge"
    assert metadata["Version"] == version
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Requires-Python"] == ">=3.11"
    assert "Typing :: Typed" in metadata.get_all("Classifier", [])
    assert metadata.get_all("Requires-Dist") is None, "Pyodide's standard library only"
    assert metadata.get_payload() == (PROJECT / "README.md").read_text(encoding="utf-8")


def test_the_changelog_has_the_version_being_built() -> None:
    changelog = (PROJECT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {re.escape(bx24_bridge.__version__)} \(", changelog, re.MULTILINE)


def test_the_wheel_alone_imports_under_cpython(wheel: Path) -> None:
    """Pure modules work with nothing but the wheel on the path (no checkout, no Pyodide)."""
    code = (f"import sys; sys.path.insert(0, {str(wheel)!r}); "
            "import bx24_bridge, bx24_bridge.rest, bx24_bridge.payloads; "
            "print(bx24_bridge.__file__, bx24_bridge.__version__, "
            "bx24_bridge.rest.result_ref('a', 0))")
    # -I: neither the checkout nor the environment's paths, only the wheel.
    done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                          cwd=wheel.parent, check=True, timeout=60)
    where, version, ref = done.stdout.split()
    assert where.startswith(str(wheel)) and version == bx24_bridge.__version__
    assert ref == "$result[a][0]"


def test_two_builds_give_the_same_bytes(wheel: Path, tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(PROJECT)],
        check=True, capture_output=True, timeout=120,
    )
    assert (tmp_path / wheel.name).read_bytes() == wheel.read_bytes()
