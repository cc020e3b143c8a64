"""Variants of the app for lever measurements: the shipped tree with one thing changed.

A variant is built and served by the real ``cardserver`` from a temporary root that mirrors the
project: folders are symlinked (node_modules, the Python packages, the build caches...),
top-level files are copied, and then edits are applied to the copies (a page with start-up
hints, an inline JSON config, an instrumented main.py). The project's own files are never
touched, so other engineers' test runs are not disturbed.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

from .servers import ROOT

Edit = Callable[[Path], None]
_SKIP = frozenset({".git", ".venv", ".pytest_cache", ".ruff_cache", ".hypothesis", "bench", "dist"})


@contextlib.contextmanager
def variant_root(*edits: Edit) -> Iterator[Path]:
    """A temporary root serving the app with `edits` applied to its copied top-level files."""
    folder = Path(tempfile.mkdtemp(prefix="callcard-bench-variant-"))
    try:
        for entry in ROOT.iterdir():
            if entry.name in _SKIP:
                continue
            if entry.is_dir():
                (folder / entry.name).symlink_to(entry, target_is_directory=True)
            elif entry.is_file():
                shutil.copy2(entry, folder / entry.name)
        for edit in edits:
            edit(folder)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _rewrite(path: Path, change: Callable[[str], str]) -> None:
    text = path.read_text(encoding="utf-8")
    changed = change(text)
    if changed == text:
        raise ValueError(f"variant edit changed nothing in {path.name}")
    path.write_text(changed, encoding="utf-8")


def with_head_links(links: list[str]) -> Edit:
    """index.html with these <link> tags first in <head> (after <meta charset>)."""

    def edit(root: Path) -> None:
        anchor = '<meta charset="utf-8">\n'
        block = "".join(f"  {link}\n" for link in links)
        _rewrite(root / "index.html", lambda html: html.replace(anchor, anchor + block, 1))

    return edit


def inline_json_config(root: Path) -> None:
    """pyscript.toml's content as inline JSON in the page's config attribute (no fetch, no
    TOML parser chunk); what a switch to a JSON config could win at most."""
    config = tomllib.loads((root / "pyscript.toml").read_text(encoding="utf-8"))
    inline = json.dumps(config, separators=(",", ":"))
    if "'" in inline:
        raise ValueError("the config contains a quote that the attribute cannot hold")
    _rewrite(
        root / "index.html",
        lambda html: html.replace('config="./pyscript.toml"', f"config='{inline}'", 1),
    )


def instrumented_main(root: Path) -> None:
    """main.py with performance marks around its imports, to split the app's own Python time
    (imports, then start-up until the first render) from the interpreter's boot."""
    main = root / "main.py"
    original = main.read_text(encoding="utf-8")
    marks = "import js as _bench_js\n_bench_js.performance.mark('bench:main-start')\n"
    body = original.replace(
        "\nawait ", "\n_bench_js.performance.mark('bench:imports-done')\nawait ", 1
    )
    if body == original:
        raise ValueError("main.py no longer has a top-level await to mark before")
    main.write_text(marks + body, encoding="utf-8")


def package_stdlib(root: Path) -> None:
    """The runtime as npm ships it: no bytecode stdlib from `make stdlib` (.cache/runtime/), so
    the build publishes the package's own archive (compressed like the rest); the app's own
    bytecode (`make bytecode`) is kept."""
    cache = root / ".cache"
    cache.unlink()  # the variant's link to the project's own .cache
    cache.mkdir()
    # The app's own bytecode stays (make bytecode): this lever is the standard library's alone.
    for kept in ("bytecode", "compressed"):
        (cache / kept).symlink_to(ROOT / ".cache" / kept, target_is_directory=True)
