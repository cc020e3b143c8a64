"""Which local Python files the page imports, and whether the page ships each of them.

Only two things put a module into the browser: the app's archive, which the page's
``<script type="py">`` names (``data-python-archive``; callcard-boot.mjs mounts it) and which
packs every module of the app's packages, and the files listed under the config's ``[files]``.
A module that ``main.py`` imports (directly, or through another local module, even inside a
function) but that neither ships breaks the card at run time. This finds that before a user does.
"""

from __future__ import annotations

import ast
import tomllib
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

from cardserver.bundle import BUNDLE_NAME, app_sources


def _module_file(root: Path, dotted: str) -> Path | None:
    parts = dotted.split(".")
    as_package = root.joinpath(*parts, "__init__.py")
    as_module = root.joinpath(*parts[:-1], parts[-1] + ".py")
    if as_package.is_file():
        return as_package
    return as_module if as_module.is_file() else None


def _package_of(root: Path, path: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    else:
        parts = parts[:-1]
    return ".".join(parts)


def _imported_names(root: Path, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _package_of(root, path)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    # `importlib.import_module(f".{name}", __name__)` in a package: its siblings may be loaded.
    return names


def local_imports(root: Path, entry: str = "main.py") -> set[str]:
    """Project-relative POSIX paths of every local .py file reachable from ``entry``."""
    found: set[str] = set()
    queue = [root / entry]
    while queue:
        path = queue.pop()
        rel = path.relative_to(root).as_posix()
        if rel in found:
            continue
        found.add(rel)
        for name in _imported_names(root, path):
            parts = name.split(".")
            for i in range(1, len(parts) + 1):  # a.b.c also imports a/__init__ and a/b/__init__
                target = _module_file(root, ".".join(parts[:i]))
                if target is not None:
                    queue.append(target)
    found.discard(entry)
    return found


class _PythonScripts(HTMLParser):
    """The attributes of each ``<script type="py">`` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "script" and found.get("type") == "py":
            self.scripts.append(found)


def page_archive(root: Path, page: str, entry: str) -> str | None:
    """The archive that ``page``'s script running ``entry`` names (``./app-bundle.zip``), if any."""
    parser = _PythonScripts()
    parser.feed((root / page).read_text(encoding="utf-8"))
    for script in parser.scripts:
        if script.get("src") == f"./{entry}":
            return script.get("data-python-archive") or None
    return None


def shipped_files(
    root: Path, config: str = "pyscript.toml", archive: str | None = None
) -> set[str]:
    """Project-relative paths the page puts into the browser: every module the app's
    ``archive`` packs (cardserver/bundle.py), if the page names it, and each file the config's
    [files] lists."""
    files = tomllib.loads((root / config).read_text(encoding="utf-8")).get("files", {})
    shipped = set()
    if archive == f"./{BUNDLE_NAME}":
        shipped.update(name for name, _file in app_sources(root))
    for source, dest in files.items():
        src = PurePosixPath(source.removeprefix("./"))
        target = PurePosixPath((dest or "./").removeprefix("./"))
        if (dest or "./").endswith("/"):
            target = target / src.name
        if src != target:
            raise ValueError(f"{source} is shipped as {dest}: the import path would differ")
        shipped.add(src.as_posix())
    return shipped


#: Each page of the app: its HTML, its Python entry point and the PyScript config it runs with.
PAGES = (("index.html", "main.py", "pyscript.toml"), ("install.html", "install.py", "install.toml"))


def missing_from_page(
    root: Path, page: str = "index.html", entry: str = "main.py", config: str = "pyscript.toml"
) -> list[str]:
    """Imported local modules that the page does not ship (the bug this module exists for)."""
    shipped = shipped_files(root, config, page_archive(root, page, entry))
    return sorted(local_imports(root, entry) - shipped)
