"""The page ships every module it imports, on the runtime versions the lock file pins."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from tools.page_manifest import (
    PAGES,
    local_imports,
    missing_from_page,
    page_archive,
    shipped_files,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("page", "entry", "config"), PAGES)
def test_every_imported_module_is_shipped_by_the_page(page: str, entry: str, config: str) -> None:
    assert missing_from_page(ROOT, page, entry, config) == []


@pytest.mark.parametrize(("page", "entry", "config"), PAGES)
def test_every_page_ships_its_python_as_the_one_archive(page: str, entry: str, config: str) -> None:
    """One request instead of one per module, and the only way bytecode reaches the page: the
    archive the page's script names (callcard-boot.mjs mounts it), and no [files] beside it."""
    assert page_archive(ROOT, page, entry) == "./app-bundle.zip"
    assert "files" not in tomllib.loads((ROOT / config).read_text())
    shipped = shipped_files(ROOT, config, "./app-bundle.zip")
    assert all((ROOT / path).is_file() for path in shipped), shipped
    assert local_imports(ROOT, entry) <= shipped


def _page(root: Path, archive: str | None) -> None:
    named = f' data-python-archive="{archive}"' if archive else ""
    (root / "index.html").write_text(
        f'<script type="py" src="./main.py" config="./pyscript.toml"{named}></script>')


def test_a_module_outside_the_archived_packages_is_reported(tmp_path: Path) -> None:
    (tmp_path / "callcard").mkdir()
    (tmp_path / "callcard" / "__init__.py").write_text("")
    (tmp_path / "extra.py").write_text("")
    (tmp_path / "main.py").write_text("import callcard\nimport extra\n")
    (tmp_path / "pyscript.toml").write_text("")
    _page(tmp_path, "./app-bundle.zip")
    assert missing_from_page(tmp_path) == ["extra.py"]


def test_a_page_that_names_no_archive_ships_none_of_its_modules(tmp_path: Path) -> None:
    (tmp_path / "callcard").mkdir()
    (tmp_path / "callcard" / "__init__.py").write_text("")
    (tmp_path / "main.py").write_text("import callcard\n")
    (tmp_path / "pyscript.toml").write_text("")
    _page(tmp_path, None)
    assert missing_from_page(tmp_path) == ["callcard/__init__.py"]


def test_checker_notices_a_missing_module(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("def f():\n    from .b import g\n")
    (tmp_path / "pkg" / "b.py").write_text("g = 1\n")
    (tmp_path / "main.py").write_text("import pkg.a\n")
    (tmp_path / "pyscript.toml").write_text(
        '[files]\n"./pkg/__init__.py" = "./pkg/"\n"./pkg/a.py" = "./pkg/"\n'
    )
    _page(tmp_path, None)
    assert missing_from_page(tmp_path) == ["pkg/b.py"]


def test_checker_follows_relative_parent_imports(tmp_path: Path) -> None:
    (tmp_path / "app" / "sub").mkdir(parents=True)
    for name in ("app/__init__.py", "app/sub/__init__.py", "app/util.py"):
        (tmp_path / name).write_text("")
    (tmp_path / "app" / "sub" / "mod.py").write_text("from ..util import x\n")
    (tmp_path / "main.py").write_text("from app.sub import mod\n")
    (tmp_path / "pyscript.toml").write_text("[files]\n")
    _page(tmp_path, None)
    assert missing_from_page(tmp_path) == [
        "app/__init__.py", "app/sub/__init__.py", "app/sub/mod.py", "app/util.py",
    ]


def _locked_version(package: str) -> str:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    return lock["packages"][f"node_modules/{package}"]["version"]


def test_runtime_versions_are_exact_and_match_the_lock_file() -> None:
    declared = json.loads((ROOT / "package.json").read_text())["dependencies"]
    for package in ("@pyscript/core", "pyodide"):
        assert re.fullmatch(r"\d+\.\d+\.\d+", declared[package]), "pin exact versions"
        assert declared[package] == _locked_version(package)


@pytest.mark.parametrize(("html", "config", "module"), [
    # Both pages boot through the module the build writes beside pyodide.mjs
    # (cardserver/boot_module.py): it names the build's standard library archive.
    ("index.html", "pyscript.toml", "callcard-boot.mjs"),
    ("install.html", "install.toml", "callcard-boot.mjs"),
])
def test_pages_and_configs_point_at_the_locked_runtime(html: str, config: str, module: str) -> None:
    settings = tomllib.loads((ROOT / config).read_text())
    assert settings["interpreter"] == f"./runtime/pyodide-{_locked_version('pyodide')}/{module}"
    page = (ROOT / html).read_text()
    assert f'src="./runtime/pyscript-{_locked_version("@pyscript/core")}/core.js"' in page
    assert f'config="./{config}"' in page


def test_the_card_starts_early_the_very_interpreter_module_its_config_names() -> None:
    """static/startup-guard.js starts the module index.html's template names; PyScript must get
    that same module (one URL: one module instance, so one interpreter), and every runtime folder
    the page names is the locked version."""
    settings = tomllib.loads((ROOT / "pyscript.toml").read_text())
    page = (ROOT / "index.html").read_text()
    early = re.findall(r'<link rel="modulepreload" href="([^"]+)" data-start="interpreter">', page)
    assert early == [settings["interpreter"]]
    folders = re.findall(r'"\./runtime/(pyodide-[^/"]+)/', page)
    assert folders and set(folders) == {f"pyodide-{_locked_version('pyodide')}"}


@pytest.mark.parametrize("html", ["index.html", "install.html"])
def test_pages_load_the_bitrix24_library_before_pyscript(html: str) -> None:
    """Deferred or not, a classic script before PyScript's module runs before it."""
    page = (ROOT / html).read_text()
    tags = re.findall(r'<script (?:defer )?src="//api\.bitrix24\.com/api/v1/"></script>', page)
    assert len(tags) == 1
    assert page.index(tags[0]) < page.index("/core.js")
    assert '<html lang="en" data-app-state="loading">' in page
