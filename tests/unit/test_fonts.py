"""The card's typeface: static/app.css names exactly the Open Sans files the server serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cardserver.routes import (
    OPEN_SANS_FILES,
    Policy,
    RuntimeVersions,
    read_runtime_versions,
    resolve,
)

ROOT = Path(__file__).resolve().parents[2]
CSS = (ROOT / "static" / "app.css").read_text(encoding="utf-8")
FONT_URL = re.compile(r'url\("\.\./runtime/open-sans-([^/]+)/([^"]+)"\)')


def test_the_stylesheet_pins_the_version_package_json_pins() -> None:
    dependencies = json.loads((ROOT / "package.json").read_text())["dependencies"]
    pinned = dependencies["@fontsource/open-sans"]
    assert {version for version, _ in FONT_URL.findall(CSS)} == {pinned}


def test_the_stylesheet_declares_every_served_face_and_nothing_else() -> None:
    assert {name for _, name in FONT_URL.findall(CSS)} == OPEN_SANS_FILES
    assert "url(" not in FONT_URL.sub("", CSS)  # no font or image from anywhere else


def test_every_face_resolves_to_an_immutable_file_of_the_installed_package() -> None:
    versions = read_runtime_versions(ROOT)
    if versions.open_sans is None:
        pytest.skip("npm ci has not run")
    for version, name in FONT_URL.findall(CSS):
        route = resolve(f"/runtime/open-sans-{version}/{name}", ROOT, versions)
        assert route is not None and route.file is not None and route.file.is_file(), name
        assert route.policy is Policy.RUNTIME


@pytest.mark.parametrize(
    "name",
    ["open-sans-greek-400-normal.woff2", "open-sans-latin-400-normal.woff", "index.css",
     "../package.json", "LICENSE"],
)
def test_other_files_of_the_font_package_are_not_served(name: str) -> None:
    versions = RuntimeVersions(pyscript=None, pyodide=None, open_sans="5.3.0")
    assert resolve(f"/runtime/open-sans-5.3.0/{name}", ROOT, versions) is None


def test_another_version_of_the_font_is_not_served() -> None:
    versions = RuntimeVersions(pyscript=None, pyodide=None, open_sans="5.3.0")
    assert resolve("/runtime/open-sans-5.2.0/open-sans-latin-400-normal.woff2", ROOT,
                   versions) is None
