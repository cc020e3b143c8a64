"""`make dist` (cardserver/dist.py): every file the pages load, content-addressed, compressed at
build time, and nothing else."""

from __future__ import annotations

import gzip
import json
import posixpath
import re
import shutil
from pathlib import Path

import brotli
import pytest

import bx24_bridge
from cardserver.dist import (
    MANIFEST,
    PAGES,
    BuildError,
    Manifest,
    build,
    example_page,
    inline_script,
    inline_stylesheet,
)
from cardserver.runtime import read_runtime_versions
from tools.archives import with_extra_module

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = read_runtime_versions(ROOT)
PYODIDE = f"runtime/pyodide-{VERSIONS.pyodide}"
HASHED = re.compile(r"\.[0-9a-f]{12}\.[a-z0-9]+$")
REFERENCE = re.compile(r'\b(?:src|href|config)="\./([^"]+)"|\burl\("\./([^"]+)"\)')
LINKED = ("node_modules", ".cache", "bx24_bridge", "callcard", "simulator", "static", "packages",
          "examples")

pytestmark = pytest.mark.skipif(VERSIONS.pyodide is None, reason="npm ci has not run")


def project_copy(tmp_path: Path) -> Path:
    """A root that builds like the project: big folders linked, top-level files copied (so a
    test may edit them without touching the checkout)."""
    root = tmp_path / "project"
    root.mkdir()
    for name in LINKED:
        (root / name).symlink_to(ROOT / name, target_is_directory=True)
    for entry in ROOT.iterdir():
        if entry.is_file():
            shutil.copy2(entry, root / entry.name)
    return root


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    dist = tmp_path_factory.mktemp("dist") / "dist"
    return dist, build(ROOT, dist)


def public_files(dist: Path) -> set[str]:
    public = dist / "public"
    return {p.relative_to(public).as_posix() for p in public.rglob("*") if p.is_file()}


def test_every_file_a_page_or_a_config_loads_is_published(
    published: tuple[Path, Manifest],
) -> None:
    dist, manifest = published
    files = public_files(dist)
    for page in PAGES.values():
        html = (dist / page).read_text(encoding="utf-8")
        referenced = [a or b for a, b in REFERENCE.findall(html)]
        assert referenced, page
        for name in referenced:
            assert name in files, f"{page} loads ./{name}"
    for config in ("pyscript.toml", "install.toml"):
        text = (dist / "public" / manifest.path(config)).read_text(encoding="utf-8")
        for name in re.findall(r'"\./([^"*]+[^/"])"', text):
            assert name in files, f"{config} names ./{name}"
    boot = (dist / "public" / manifest.path(f"{PYODIDE}/callcard-boot.mjs")).read_text()
    [archive, lock] = re.findall(r'new URL\("\./([^"]+)", import\.meta\.url\)', boot)
    assert f"{PYODIDE}/{archive}" == manifest.path(f"{PYODIDE}/python_stdlib.zip")
    assert f"{PYODIDE}/{lock}" == manifest.path(f"{PYODIDE}/callcard-lock.json")
    assert manifest.snapshot_key in boot


def test_the_handler_page_carries_its_stylesheet_and_its_fonts_resolve(
    published: tuple[Path, Manifest],
) -> None:
    dist, manifest = published
    page = (dist / PAGES["index.html"]).read_text(encoding="utf-8")
    source = (ROOT / "static" / "app.css").read_text(encoding="utf-8")
    assert 'rel="stylesheet"' not in page  # nothing render-blocking to fetch before the caller
    [style] = re.findall(r"<style>\n(.*?)\n  </style>", page, re.DOTALL)
    assert "/*" not in style
    # Every rule of the source is there (only comments and blank lines were left out).
    def selectors(css: str) -> list[str]:
        return [" ".join(found.split()) for found in re.findall(r"([^{}]+)\{", css)]

    assert selectors(style) == selectors(re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL))
    fonts = re.findall(r'url\("\./([^"]+)"\)', style)
    assert len(fonts) == 4 and all(name in public_files(dist) for name in fonts)
    # The install page keeps its link; the stylesheet is still published for it.
    install = (dist / PAGES["install.html"]).read_text(encoding="utf-8")
    assert f'href="./{manifest.path("static/app.css")}"' in install


@pytest.mark.parametrize("css, problem", [
    ("a { background: url(\"../../etc/x.png\"); }", "outside the published folder"),
    ("a { content: \"</style>\"; }", "</style"),
])
def test_a_stylesheet_that_cannot_be_inlined_stops_the_build(css: str, problem: str) -> None:
    page = '<link rel="stylesheet" href="./static/app.css">'
    with pytest.raises(BuildError, match=problem):
        inline_stylesheet(page, "static/app.css", css, "index.html")


def test_inlined_urls_are_rebased_to_the_page() -> None:
    page = '<head><link rel="stylesheet" href="./static/app.css"></head>'
    css = ('a { background: url("../runtime/f.woff2"); }\n'
           'b { background: url("data:image/png;base64,AA"); }')
    html = inline_stylesheet(page, "static/app.css", css, "index.html")
    assert 'url("./runtime/f.woff2")' in html and 'url("data:image/png;base64,AA")' in html


def test_the_handler_page_carries_its_head_scripts_inline_before_the_card(
    published: tuple[Path, Manifest],
) -> None:
    """static/face-preload.js (right after the stylesheet: it reads its font faces) and
    static/early-actions.js are in the page, before the card, and are no files to fetch."""
    dist, manifest = published
    page = (dist / PAGES["index.html"]).read_text(encoding="utf-8")
    codes = re.findall(r"<script>\n(.*?)\n  </script>", page, re.DOTALL)
    sources = [(ROOT / "static" / name).read_text(encoding="utf-8")
               for name in ("face-preload.js", "early-actions.js")]
    assert len(codes) == 2
    for code, source in zip(codes, sources, strict=True):
        assert code.startswith("(function () {") and code in source  # all but its leading comment
    faces, early = codes
    assert "data-requested" in early and 'rel = "preload"' in faces
    assert page.index("</style>") < page.index(faces) < page.index(early)
    assert page.index(early) < page.index('<main id="card"')
    for name in ("face-preload", "early-actions"):
        assert f'{name}.js"' not in page  # (the comments still name them)
        assert all(name not in published_name for published_name in manifest.files)


@pytest.mark.parametrize("source, problem", [
    ('document.write("</script>");', "</script"),
    ("const marker = '<!--';", "<!--"),
])
def test_a_script_that_cannot_be_inlined_stops_the_build(source: str, problem: str) -> None:
    page = '<script src="./static/early-actions.js"></script>'
    with pytest.raises(BuildError, match=problem):
        inline_script(page, "static/early-actions.js", source, "index.html")


def test_a_page_must_load_an_inlined_script_exactly_once() -> None:
    tag = '<script src="./static/early-actions.js"></script>'
    for page in ("<head></head>", tag + tag):
        with pytest.raises(BuildError, match="exactly once"):
            inline_script(page, "static/early-actions.js", "go();", "index.html")
    html = inline_script("<head>" + tag + "</head>", "static/early-actions.js",
                         "/* why */\n(function () { go(); })();\n", "index.html")
    assert html == "<head><script>\n(function () { go(); })();\n  </script></head>"


def test_what_can_change_between_builds_is_published_under_its_digest(
    published: tuple[Path, Manifest],
) -> None:
    _, manifest = published
    for logical in ("app-bundle.zip", "main.py", "pyscript.toml", "install.py", "install.toml",
                    "static/app.css", "static/startup-guard.js", f"{PYODIDE}/python_stdlib.zip",
                    f"{PYODIDE}/callcard-boot.mjs"):
        assert HASHED.search(manifest.path(logical)), logical
    # npm's files keep their names under the package version, which never changes them.
    assert manifest.path(f"{PYODIDE}/pyodide.asm.wasm") == f"{PYODIDE}/pyodide.asm.wasm"
    assert manifest.runtime["pyodide"] == VERSIONS.pyodide


def test_only_the_app_s_files_are_published(published: tuple[Path, Manifest]) -> None:
    dist, manifest = published
    originals = {f for f in public_files(dist) if not f.endswith((".br", ".gz"))}
    assert originals == set(manifest.files.values())
    for name in originals:
        assert not name.endswith((".map", ".ts", ".md")), name
        folders = ("runtime", "static", "wheels", "examples")
        assert name.split("/")[0] in folders or "/" not in name, name
    assert not (dist / "public" / "cardserver").exists()
    assert not (dist / "public" / MANIFEST).exists()  # the manifest is the server's, not public


def test_compressed_copies_are_made_at_build_time_and_are_the_same_bytes(
    published: tuple[Path, Manifest],
) -> None:
    dist, manifest = published
    public = dist / "public"
    for logical in (f"{PYODIDE}/pyodide.asm.wasm", f"{PYODIDE}/python_stdlib.zip",
                    "app-bundle.zip", "static/app.css"):
        original = (public / manifest.path(logical)).read_bytes()
        br = public / f"{manifest.path(logical)}.br"
        gz = public / f"{manifest.path(logical)}.gz"
        assert brotli.decompress(br.read_bytes()) == original, logical
        assert gzip.decompress(gz.read_bytes()) == original, logical
    fonts = [name for name in public_files(dist) if ".woff2" in name]
    assert fonts and all(name.endswith(".woff2") for name in fonts)  # already compressed


def test_the_same_sources_publish_the_same_names(
    published: tuple[Path, Manifest], tmp_path: Path
) -> None:
    _, first = published
    again = build(ROOT, tmp_path / "dist")
    assert again.files == first.files and again.snapshot_key == first.snapshot_key


def test_a_changed_standard_library_publishes_new_urls_and_a_new_snapshot_key(
    published: tuple[Path, Manifest], tmp_path: Path
) -> None:
    """What a changed list of compiled modules does to the archive: other bytes. Every URL that
    leads to it changes, so no browser can pair a new page with an old cached archive."""
    dist, first = published
    archive = (dist / "public" / first.path(f"{PYODIDE}/python_stdlib.zip")).read_bytes()
    changed = tmp_path / "python_stdlib.zip"
    changed.write_bytes(with_extra_module(archive, "callcard_extra_module.py", "x = 1\n"))
    second = build(ROOT, tmp_path / "dist", stdlib=changed, compress=False)
    for logical in (f"{PYODIDE}/python_stdlib.zip", f"{PYODIDE}/callcard-boot.mjs",
                    "pyscript.toml", "install.toml"):
        assert second.path(logical) != first.path(logical), logical
    assert second.snapshot_key != first.snapshot_key
    page = (tmp_path / "dist" / "pages" / "index.html").read_text()
    assert second.path("pyscript.toml") in page and first.path("pyscript.toml") not in page


def test_an_edited_module_gives_a_new_bundle_name(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    (root / "callcard").unlink()
    shutil.copytree(ROOT / "callcard", root / "callcard", ignore=shutil.ignore_patterns(
        "__pycache__"))
    before = build(root, tmp_path / "one", compress=False)
    app = root / "callcard" / "app.py"
    app.write_text(app.read_text() + "\n# edited\n")
    after = build(root, tmp_path / "two", compress=False)
    assert after.path("app-bundle.zip") != before.path("app-bundle.zip")
    # The pages name it (data-python-archive), so they change with it; the config does not.
    for page in ("index.html", "install.html"):
        published = (tmp_path / "two" / "pages" / page).read_text()
        assert f'data-python-archive="./{after.path("app-bundle.zip")}"' in published, page
        assert before.path("app-bundle.zip") not in published, page


def test_a_page_that_loads_a_file_the_build_does_not_publish_stops_it(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    index = root / "index.html"
    index.write_text(index.read_text().replace("</head>", '<script src="./extra.js"></script>'
                                                           "</head>"))
    with pytest.raises(BuildError, match=r"index\.html loads \./extra\.js"):
        build(root, tmp_path / "dist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]  # nothing half-built left


def test_without_the_runtime_packages_the_build_says_what_to_do(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    (root / "node_modules").unlink()
    with pytest.raises(BuildError, match="npm ci"):
        build(root, tmp_path / "dist")


def test_a_rebuild_replaces_the_folder_whole(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build(ROOT, out)
    (out / "public" / "stray.txt").write_text("from an old build")
    build(ROOT, out)
    assert not (out / "public" / "stray.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"]  # no stage or old copy left
    assert json.loads((out / MANIFEST).read_text())["version"] == 1


@pytest.mark.parametrize("text", ["", "[]", '{"version": 1}', '{"version": 2, "files": {}}'])
def test_a_manifest_that_is_not_this_build_s_says_to_build(tmp_path: Path, text: str) -> None:
    (tmp_path / MANIFEST).write_text(text)
    with pytest.raises(BuildError, match="make dist"):
        Manifest.load(tmp_path)


def test_the_example_app_is_published_with_the_bridge_s_wheel(
    published: tuple[Path, Manifest],
) -> None:
    """examples/deal-contacts loads only what the build publishes: its page's and its config's
    references, relative to its folder, are the published names (which the server serves)."""
    dist, manifest = published
    name = f"bx24_bridge-{bx24_bridge.__version__}-py3-none-any.whl"
    wheel = manifest.path(f"wheels/{name}")
    # A wheel's name is read by installers: the digest names its folder instead.
    assert re.fullmatch(rf"wheels/[0-9a-f]{{12}}/{re.escape(name)}", wheel), wheel
    base = "examples/deal-contacts"
    page = (dist / example_page("deal-contacts")).read_text(encoding="utf-8")
    config = (dist / "public" / manifest.path(f"{base}/pyscript.toml")).read_text(encoding="utf-8")
    for text, folder in ((page, base), (config, base)):
        for reference in re.findall(r'"((?:\./|(?:\.\./)+)[^"*]+[^"*/])"', text):
            path = posixpath.normpath(posixpath.join(folder, reference))
            assert (dist / "public" / path).is_file(), reference
    assert f'packages = ["../../{wheel}"]' in config
    assert f'interpreter = "../../{manifest.path(f"{PYODIDE}/callcard-boot.mjs")}"' in config
    assert f'src="./{posixpath.basename(manifest.path(f"{base}/main.py"))}"' in page


def test_a_build_without_the_bridge_s_wheel_says_to_make_it(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    (root / "packages").unlink()
    with pytest.raises(BuildError, match="make wheel"):
        build(root, tmp_path / "dist", compress=False)
