"""`make dist`: the publish folder, every file the pages load, built once and then only served.

Layout of ``dist/``::

    manifest.json      logical name -> published path, the snapshot key, the runtime versions
    pages/             the handler and install pages (and the simulator's card), rendered from
                       the manifest; the server answers GET and POST with them, revalidated
    public/            what ServeStatic serves, and nothing else is reachable: each file is
                       immutable, because its path changes whenever its content can
      runtime/pyscript-<v>/, runtime/pyodide-<v>/, runtime/open-sans-<v>/
                       npm's files under the package version (they never change under it)
      runtime/pyodide-<v>/python_stdlib.<digest>.zip, callcard-boot.<digest>.mjs
      app-bundle.<digest>.zip, main.<digest>.py, pyscript.<digest>.toml, install.*, static/*
                       build products under their content's digest (ServeStatic's hashing)
    dev/simulator/     the simulator's own files, served only by the development server
    public/wheels/     the bridge's wheel (packages/bx24-bridge/, `make wheel`) under its digest
                       (wheels/<digest>/bx24_bridge-<v>-py3-none-any.whl), and
    public/examples/   the example apps built on it (examples/), whose pages are in pages/ too;
                       the development server routes those pages

Each ``public`` file worth it has Brotli and gzip copies beside it (cardserver/precompress.py).
The folder is built beside the old one and swapped in whole, so a running server's folder is
never half-written.

Usage: ``python -m cardserver.dist [--root DIR] [--out DIR]``
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from servestatic.manifest_hash import ManifestHashGenerator

from .boot_module import BOOT_MODULE_NAME, file_digest, render_boot_module, snapshot_key
from .bundle import BUNDLE_NAME, build_bundle
from .precompress import CACHE_DIR, precompress
from .runtime import (
    BUILD_LOCK_NAME,
    LOCK_NAME,
    OPEN_SANS_FILES,
    OPEN_SANS_PACKAGE,
    PYODIDE_FILES,
    PYODIDE_PACKAGE,
    PYSCRIPT_PACKAGE,
    PYSCRIPT_SUFFIXES,
    STDLIB_NAME,
    LockError,
    RuntimeVersions,
    build_lock,
    read_runtime_versions,
    runtime_wheels,
    stdlib_archive,
)
from .simulator_card import simulator_card_page

DEFAULT_OUT: Final = Path("dist")
MANIFEST: Final = "manifest.json"
MANIFEST_VERSION: Final = 1
PAGES: Final = {"index.html": "pages/index.html", "install.html": "pages/install.html"}
SIMULATOR_CARD: Final = "pages/simulator-card.html"
SIMULATOR_PAGE: Final = "pages/simulator.html"
#: Our static files, published under their digest.
STATIC_FILES: Final = ("static/app.css", "static/startup-guard.js")
#: The simulator's own files, besides its page; published only for the development server.
SIMULATOR_FILES: Final = ("simulator.js", "simulator.css", "bx24-fake.js")
#: The bridge's wheel as `make wheel` builds it, and where it is published (under its digest).
WHEEL_DIR: Final = Path("packages", "bx24-bridge", "dist")
WHEELS: Final = "wheels"
#: Example apps on the bridge (examples/<name>/index.html and what it loads): each page is
#: pages/examples/<name>.html, its files are published under examples/<name>/.
EXAMPLES: Final = ("deal-contacts",)
EXAMPLE_FILES: Final = ("main.py", "style.css")

#: The handler page carries its stylesheet inline: an external one is render-blocking, and on a
#: cold load its request is most of what stands between the POST's answer and the caller's number
#: on screen (`make bench`, "Caller visible"). The page is answered per call and never cached, so
#: the ~2.5 KB (compressed) it adds are paid once per card, like the card itself. The install page
#: keeps the link: nobody is waiting on a ringing phone there.
INLINE_STYLESHEETS: Final = {"index.html": "static/app.css"}
#: Scripts the handler page carries inline: they must run before the parser reaches the card (to
#: listen before it can be clicked; to preload the typeface before style asks for it), which a
#: file (deferred, or blocking the first paint for its round trip) cannot do.
#: The server allows each by its hash (cardserver/security.py, ``inline_script_sources``).
INLINE_SCRIPTS: Final = {
    "index.html": ("static/face-preload.js", "static/early-actions.js"),
}
_LEADING_COMMENT = re.compile(r"\A\s*/\*.*?\*/\s*", re.DOTALL)
_CSS_URL = re.compile(r'url\("([^"]+)"\)')
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)  # (app.css has no "/*" inside a string)

# A page's reference to a file of ours: src="./x" or href="./x" or config="./x" (or the Python
# archive a page's script names, data-python-archive="./x": callcard-boot.mjs mounts it), or
# url("./x") in an inlined stylesheet; an example's page, a level or two below the root, also
# says "../../x".
_REFERENCE = re.compile(
    r'\b(?:src|href|config|data-python-archive)="((?:\./|(?:\.\./)+)[^"]+)"'
    r'|\burl\("((?:\./|(?:\.\./)+)[^"]+)"\)')


class BuildError(RuntimeError):
    """The folder cannot be built (a package not installed, a page that names a missing file)."""


@dataclass(frozen=True)
class Manifest:
    """What a build published: logical names (as the sources say them) -> public paths."""

    files: dict[str, str]
    snapshot_key: str
    runtime: dict[str, str]

    def path(self, logical: str) -> str:
        return self.files[logical]

    def to_json(self) -> str:
        return json.dumps({"version": MANIFEST_VERSION, "files": self.files,
                           "snapshot_key": self.snapshot_key, "runtime": self.runtime},
                          indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, dist: Path) -> Manifest:
        try:
            data = json.loads((dist / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BuildError(f"no usable {MANIFEST} in {dist}: run `make dist`") from exc
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            raise BuildError(f"{dist / MANIFEST} is of another format: run `make dist`")
        try:
            return cls(dict(data["files"]), str(data["snapshot_key"]), dict(data["runtime"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise BuildError(f"{dist / MANIFEST} is incomplete: run `make dist`") from exc


class _Publisher:
    """Writes into the public folder, content-addressed where the content can change."""

    def __init__(self, public: Path) -> None:
        self.public = public
        self.files: dict[str, str] = {}
        self._hasher = ManifestHashGenerator(root=public, keep_original=False, quiet=True)

    def copy(self, source: Path, path: str, *, hashed: bool, logical: str | None = None) -> str:
        """``source`` published at ``path`` (its digest in the name when ``hashed``), with its
        modification time, so Last-Modified and ETags stay the same from build to build."""
        if not source.is_file():
            raise BuildError(f"{source} is missing")
        target = self._target(path)
        shutil.copy2(source, target)
        return self._publish(target, path, hashed, logical)

    def write(self, data: bytes, path: str, *, hashed: bool, logical: str | None = None) -> str:
        target = self._target(path)
        target.write_bytes(data)
        return self._publish(target, path, hashed, logical)

    def _target(self, path: str) -> Path:
        target = self.public / path
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def _publish(self, target: Path, path: str, hashed: bool, logical: str | None) -> str:
        published = self._hasher.process(target)[1] if hashed else path
        self.files[logical or path] = published
        return published


def build(root: Path, out: Path = DEFAULT_OUT, *, stdlib: Path | None = None,
          compress: bool = True) -> Manifest:
    """Build the publish folder ``out`` (relative paths are taken from ``root``) and swap it in.

    ``stdlib`` replaces the standard library archive to publish (benchmark levers, tests);
    ``compress=False`` leaves out the Brotli and gzip copies (tests that do not need them)."""
    root = root.resolve()
    out = out if out.is_absolute() else root / out
    versions = read_runtime_versions(root)
    if versions.pyscript is None or versions.pyodide is None or versions.open_sans is None:
        raise BuildError("the runtime packages are not installed: run `npm ci` (make deps-node)")
    stage = out.with_name(f".{out.name}.new")
    shutil.rmtree(stage, ignore_errors=True)
    try:
        manifest = _build_into(root, stage, versions, stdlib, compress)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _swap(stage, out)
    return manifest


def _build_into(root: Path, stage: Path, versions: RuntimeVersions, stdlib: Path | None,
                compress: bool) -> Manifest:
    assert versions.pyscript and versions.pyodide and versions.open_sans
    publisher = _Publisher(stage / "public")

    _publish_runtime(root, versions, publisher)
    pyodide_dir = versions.folder("pyodide")
    archive = stdlib if stdlib is not None else stdlib_archive(root, versions)
    stdlib_path = publisher.copy(archive, f"{pyodide_dir}/{STDLIB_NAME}", hashed=True)
    try:
        lock = build_lock((root / PYODIDE_PACKAGE / LOCK_NAME).read_bytes(),
                            runtime_wheels(root))
    except LockError as exc:
        raise BuildError(f"{exc} (tools/runtime-wheels.txt)") from None
    # Beside Pyodide's own (which a plain pyodide.mjs reads), under a name of its own.
    lock_path = publisher.write(lock, f"{pyodide_dir}/{BUILD_LOCK_NAME}", hashed=True)
    depends = [(name, root / PYODIDE_PACKAGE / name) for name in PYODIDE_FILES
               if name != LOCK_NAME]
    key = snapshot_key([*depends, (STDLIB_NAME, stage / "public" / stdlib_path),
                        (BUILD_LOCK_NAME, stage / "public" / lock_path)])
    boot = render_boot_module(key, stdlib_path.rsplit("/", 1)[1], lock_path.rsplit("/", 1)[1])
    publisher.write(boot, f"{pyodide_dir}/{BOOT_MODULE_NAME}", hashed=True)
    publisher.write(build_bundle(root), BUNDLE_NAME, hashed=True)
    for name in STATIC_FILES:
        publisher.copy(root / name, name, hashed=True)
    for config in ("pyscript.toml", "install.toml"):
        text = _rewrite_config((root / config).read_text(encoding="utf-8"), publisher.files)
        publisher.write(text.encode(), config, hashed=True)
    for entry in ("main.py", "install.py"):
        publisher.copy(root / entry, entry, hashed=True)

    _publish_examples(root, stage, publisher)

    for page, target in PAGES.items():
        html = (root / page).read_text(encoding="utf-8")
        if page in INLINE_STYLESHEETS:
            sheet = INLINE_STYLESHEETS[page]
            html = inline_stylesheet(html, sheet, (root / sheet).read_text(encoding="utf-8"), page)
        for script in INLINE_SCRIPTS.get(page, ()):
            html = inline_script(html, script, (root / script).read_text(encoding="utf-8"), page)
        html = _rewrite_page(html, publisher.files, page)
        _write(stage / target, html.encode())
        if page == "index.html":
            _write(stage / SIMULATOR_CARD, simulator_card_page(html.encode()))
    _write(stage / SIMULATOR_PAGE, (root / "simulator" / "index.html").read_bytes())
    for name in SIMULATOR_FILES:
        _write(stage / "dev" / "simulator" / name, (root / "simulator" / name).read_bytes())

    if compress:
        precompress(list(_files(stage / "public")), root / CACHE_DIR)
    manifest = Manifest(publisher.files, key, {
        "pyscript": versions.pyscript, "pyodide": versions.pyodide, "open-sans": versions.open_sans,
    })
    _write(stage / MANIFEST, manifest.to_json().encode())
    return manifest


def example_page(name: str) -> str:
    """Where the example app ``name``'s page is in the build."""
    return f"pages/examples/{name}.html"


def _publish_examples(root: Path, stage: Path, publisher: _Publisher) -> None:
    """The bridge's wheel, then each example app, its references published like the card's."""
    wheels = sorted((root / WHEEL_DIR).glob("bx24_bridge-*-py3-none-any.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one bridge wheel in {WHEEL_DIR}/, found {len(wheels)}: "
                         "run `make wheel`")
    # Under a folder named by its digest: a wheel's file name is read by installers (micropip
    # parses its tags), so the digest cannot go into the name as it does for other files.
    digest = file_digest(wheels[0])[:12]
    publisher.copy(wheels[0], f"{WHEELS}/{digest}/{wheels[0].name}", hashed=False,
                   logical=f"{WHEELS}/{wheels[0].name}")
    for name in EXAMPLES:
        source, base = root / "examples" / name, f"examples/{name}"
        for file in EXAMPLE_FILES:
            publisher.copy(source / file, f"{base}/{file}", hashed=True)
        config = _rewrite_config((source / "pyscript.toml").read_text(encoding="utf-8"),
                                 publisher.files, base)
        publisher.write(config.encode(), f"{base}/pyscript.toml", hashed=True)
        html = (source / "index.html").read_text(encoding="utf-8")
        _write(stage / example_page(name),
               _rewrite_page(html, publisher.files, f"{base}/index.html", base).encode())


def _publish_runtime(root: Path, versions: RuntimeVersions, publisher: _Publisher) -> None:
    """npm's files, under the package version: the only parts of node_modules ever published."""
    pyscript = root / PYSCRIPT_PACKAGE / "dist"
    for file in sorted(pyscript.iterdir()):
        if file.is_file() and file.name.endswith(PYSCRIPT_SUFFIXES):
            publisher.copy(file, f"{versions.folder('pyscript')}/{file.name}", hashed=False)
    for name in PYODIDE_FILES:
        publisher.copy(root / PYODIDE_PACKAGE / name, f"{versions.folder('pyodide')}/{name}",
                       hashed=False)
    for wheel in runtime_wheels(root):  # named by version, as the lock file names them
        publisher.copy(wheel, f"{versions.folder('pyodide')}/{wheel.name}", hashed=False)
    for name in OPEN_SANS_FILES:
        publisher.copy(root / OPEN_SANS_PACKAGE / "files" / name,
                       f"{versions.folder('open-sans')}/{name}", hashed=False)


def _logical(base: str, reference: str) -> str:
    """The logical name a page's or config's relative ``reference`` means, from folder ``base``
    (``""``: the root)."""
    name = posixpath.normpath(posixpath.join(base, reference))
    if name.startswith("../"):
        raise BuildError(f"{reference} (from /{base}) points outside the published folder")
    return name


def _relative(base: str, path: str) -> str:
    """A published ``path`` as a reference from folder ``base``."""
    reference = posixpath.relpath(path, base or ".")
    return reference if reference.startswith("../") else f"./{reference}"


def _rewrite_config(text: str, files: dict[str, str], base: str = "") -> str:
    """A PyScript config with its relative references (``./name``, ``../name``, from the
    config's folder ``base``) replaced by the published names (a destination such as ``./*`` or
    ``./folder/`` is left as it is)."""
    def published(match: re.Match[str]) -> str:
        reference = match.group(1)
        if reference.endswith(("*", "/")):
            return match.group(0)
        name = _logical(base, reference)
        if name not in files:
            raise BuildError(f"a PyScript config names {reference}, which the build does not "
                             "publish")
        return f'"{_relative(base, files[name])}"'

    return re.sub(r'"((?:\./|(?:\.\./)+)[^"]+)"', published, text)


def _only(html: str, tag: str, page: str) -> str:
    """``tag``, which a file's contents are to replace: it must be in the page exactly once."""
    if html.count(tag) != 1:
        raise BuildError(f"{page} must hold {tag} exactly once to have its file inlined")
    return tag


def inline_stylesheet(html: str, sheet: str, css: str, page: str) -> str:
    """``html`` with its ``<link rel="stylesheet" href="./<sheet>">`` replaced by a ``<style>`` of
    ``css``, each ``url("...")`` in it rebased from the sheet's folder to the page's (the root), so
    the published-name rewrite that follows treats them as the page's own references."""
    link = _only(html, f'<link rel="stylesheet" href="./{sheet}">', page)
    if "</style" in css.lower():
        raise BuildError(f"{sheet} cannot be inlined: it contains </style")
    folder = posixpath.dirname(sheet)

    def rebased(match: re.Match[str]) -> str:
        url = match.group(1)
        if "://" in url or url.startswith(("data:", "/", "#")):
            return match.group(0)
        path = posixpath.normpath(posixpath.join(folder, url))
        if path.startswith("../"):
            raise BuildError(f"{sheet} refers to {url}, outside the published folder")
        return f'url("./{path}")'

    # Comments stay in the source: the page carries the rules only.
    rules = _CSS_COMMENT.sub("", _CSS_URL.sub(rebased, css))
    rules = "\n".join(line.rstrip() for line in rules.strip().splitlines() if line.strip())
    inline = "<style>\n" + rules + "\n  </style>"
    return html.replace(link, inline)


def inline_script(html: str, script: str, source: str, page: str) -> str:
    """``html`` with its ``<script src="./<script>"></script>`` replaced by the script itself,
    without its leading comment (the source keeps the why; each page carries the code only)."""
    tag = _only(html, f'<script src="./{script}"></script>', page)
    lowered = source.lower()
    # Either would end the script early or change how the parser reads the rest of the page.
    if "</script" in lowered or "<!--" in lowered:
        raise BuildError(f"{script} cannot be inlined: it contains </script or <!--")
    code = _LEADING_COMMENT.sub("", source, count=1).rstrip()
    return html.replace(tag, "<script>\n" + code + "\n  </script>")


def _rewrite_page(html: str, files: dict[str, str], page: str, base: str = "") -> str:
    """A page (in folder ``base``) with every relative reference it loads replaced by the
    published name; a name that is not published stops the build (the published folder is all a
    browser can reach)."""
    already = set(files.values())

    def published(match: re.Match[str]) -> str:
        reference = match.group(1) or match.group(2)
        name = _logical(base, reference)
        if name in already:
            return match.group(0)  # a published name already (start-up hints from a load)
        if name not in files:
            raise BuildError(f"{page} loads {reference}, which the build does not publish")
        return match.group(0).replace(reference, _relative(base, files[name]))

    return _REFERENCE.sub(published, html)


def render_page(html: str, manifest: Manifest, name: str) -> str:
    """Another page of the same build (the test rig's harness), its references published."""
    return _rewrite_page(html, manifest.files, name)


def _files(folder: Path) -> Iterator[Path]:
    return (path for path in sorted(folder.rglob("*")) if path.is_file())


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _swap(stage: Path, out: Path) -> None:
    """Put the new folder in place of the old in two renames (the old one is removed after)."""
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    stage.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    summary = (__doc__ or "").split("\n", 1)[0]
    parser = argparse.ArgumentParser(prog="python -m cardserver.dist", description=summary)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="project folder (default: this checkout)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="publish folder, relative to the root (default: %(default)s)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        manifest = build(args.root, args.out)
    except BuildError as exc:
        print(f"make dist: {exc}", file=sys.stderr)
        return 1
    print(f"Published {len(manifest.files)} files into {args.out} in "
          f"{time.monotonic() - started:.1f} s (snapshot key {manifest.snapshot_key})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
