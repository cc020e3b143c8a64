"""The card's typeface: static/app.css names exactly the Open Sans files the build publishes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cardserver.dist import build
from cardserver.runtime import OPEN_SANS_FILES, read_runtime_versions

ROOT = Path(__file__).resolve().parents[2]
CSS = (ROOT / "static" / "app.css").read_text(encoding="utf-8")
FONT_URL = re.compile(r'url\("\.\./runtime/open-sans-([^/]+)/([^"]+)"\)')


def test_the_stylesheet_pins_the_version_package_json_pins() -> None:
    dependencies = json.loads((ROOT / "package.json").read_text())["dependencies"]
    pinned = dependencies["@fontsource/open-sans"]
    assert {version for version, _ in FONT_URL.findall(CSS)} == {pinned}


def test_the_stylesheet_declares_every_published_face_and_nothing_else() -> None:
    assert {name for _, name in FONT_URL.findall(CSS)} == set(OPEN_SANS_FILES)
    assert "url(" not in FONT_URL.sub("", CSS)  # no font or image from anywhere else


def test_every_face_is_published_where_the_stylesheet_looks(tmp_path: Path) -> None:
    if read_runtime_versions(ROOT).open_sans is None:
        pytest.skip("npm ci has not run")
    manifest = build(ROOT, tmp_path / "dist")
    css = manifest.path("static/app.css")
    folder = (tmp_path / "dist" / "public" / css).parent  # the stylesheet's own folder
    for version, name in FONT_URL.findall(CSS):
        face = (folder / ".." / "runtime" / f"open-sans-{version}" / name).resolve()
        assert face.is_file(), name
        assert f"runtime/open-sans-{version}/{name}" in manifest.files.values()
