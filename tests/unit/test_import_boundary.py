"""The boundary the layout promises, enforced: only the bridge's transport and the browser shells
touch the browser (``js``), only the transport deals in ``pyodide`` (proxies and their lifetimes);
every other module is pure Python that CPython imports and tests; the bridge, meant for other
apps, imports nothing of the card's.

Read from the source (every import statement, also those inside functions), so a lazy import of
the browser in a pure module fails here as surely as one at the top; and checked by importing
each pure module in a fresh CPython where ``js`` and ``pyodide`` cannot be imported at all.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bx24_bridge", "callcard")
BROWSER_ROOTS = ("js", "pyodide", "pyscript")

#: The bridge's transport: the only bridge modules that reach the browser.
TRANSPORT = frozenset({"bx24_bridge._ffi", "bx24_bridge.console", "bx24_bridge.dom",
                       "bx24_bridge.library", "bx24_bridge.placement", "bx24_bridge.rest_client",
                       "bx24_bridge.window", "bx24_bridge.host", "bx24_bridge.callcard"})
#: The bridge's entry points (its package), which import the transport only when called.
BRIDGE_API = frozenset({"bx24_bridge"})
#: The card's browser shells: DOM, the page's wiring, the browser's ports and the install page's
#: DOM. (The controllers, callcard.app, callcard.notes_shell and callcard.install_page, are pure:
#: they run against ports.)
SHELLS = frozenset({"callcard.view", "callcard.page", "callcard.browser_ports",
                    "callcard.install_view"})
BROWSER = TRANSPORT | SHELLS


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path
            for package in PACKAGES for path in sorted((ROOT / package).glob("*.py"))}


def imports_of(name: str, path: Path) -> set[str]:
    """Every module an import statement in the file names, relative ones made absolute."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def touches_browser(imported: set[str]) -> set[str]:
    return {name for name in imported if name.split(".")[0] in BROWSER_ROOTS}


def test_every_listed_browser_module_exists() -> None:
    assert set(modules()) >= BROWSER | BRIDGE_API, "a listed module was renamed or removed"


@pytest.mark.parametrize("name", sorted(set(modules()) - BROWSER - BRIDGE_API))
def test_a_pure_module_imports_neither_the_browser_nor_a_browser_module(name: str) -> None:
    imported = imports_of(name, modules()[name])
    assert not touches_browser(imported), f"{name} imports {touches_browser(imported)}"
    assert not imported & BROWSER, f"{name} imports the browser modules {imported & BROWSER}"


@pytest.mark.parametrize("name", sorted(SHELLS))
def test_a_browser_shell_uses_the_page_but_leaves_pyodide_to_the_bridge(name: str) -> None:
    imported = imports_of(name, modules()[name])
    assert not {m for m in imported if m.split(".")[0] in ("pyodide", "pyscript")}, name


@pytest.mark.parametrize("name", sorted(BRIDGE_API))
def test_the_bridge_s_package_imports_its_transport_only_when_called(name: str) -> None:
    tree = ast.parse(modules()[name].read_text(encoding="utf-8"))
    top = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top |= {f".{node.module}" for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.level}
    assert not touches_browser(top)
    assert not {f".{module.rpartition('.')[2]}" for module in TRANSPORT} & top


@pytest.mark.parametrize("name", sorted(m for m in modules() if m.startswith("bx24_bridge")))
def test_the_bridge_imports_nothing_of_the_card(name: str) -> None:
    imported = imports_of(name, modules()[name])
    assert not {m for m in imported if m.split(".")[0] == "callcard"}, name


def test_pyright_checks_every_pure_module_strictly() -> None:
    """make lint's strict list (pyproject.toml) names every pure module, and every module of the
    bridge but its value conversion (whose JavaScript values have no types to check)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    strict = {module_name(ROOT / path) for path in config["tool"]["pyright"]["strict"]}
    assert set(modules()) - BROWSER <= strict, sorted(set(modules()) - BROWSER - strict)
    bridge = {m for m in modules() if m.startswith("bx24_bridge")} - {"bx24_bridge._ffi"}
    assert bridge <= strict, sorted(bridge - strict)


def test_pure_modules_import_under_cpython_with_no_browser_at_all() -> None:
    pure = sorted(set(modules()) - BROWSER)
    script = (
        "import importlib.abc, sys\n"
        "class NoBrowser(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {BROWSER_ROOTS!r}:\n"
        "            raise ImportError(f'{name} is the browser')\n"
        "sys.meta_path.insert(0, NoBrowser())\n"
        f"for name in {pure!r}:\n"
        "    __import__(name)\n"
        f"loaded = sorted(m for m in sys.modules if m in {sorted(BROWSER)!r})\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


#: The bridge's public modules: what packages/bx24-bridge/README.md ("Versioning") promises.
#: The card uses the bridge through these only, as any other app would.
BRIDGE_PUBLIC = frozenset({
    "bx24_bridge", "bx24_bridge.errors", "bx24_bridge.rest", "bx24_bridge.wire",
    "bx24_bridge.crm_refs", "bx24_bridge.phone_numbers", "bx24_bridge.placement_wire",
    "bx24_bridge.dom", "bx24_bridge.console", "bx24_bridge.placement", "bx24_bridge.rest_client",
    "bx24_bridge.window", "bx24_bridge.host", "bx24_bridge.callcard", "bx24_bridge.payloads",
    "bx24_bridge.callcard_events", "bx24_bridge.values",
})


def bridge_modules_named(imported: set[str]) -> set[str]:
    """The bridge modules an import set names (``from bx24_bridge.x import Name`` names x)."""
    bridge = set(modules()) & {m for m in modules() if m.startswith("bx24_bridge")}
    return {name for name in imported if name in bridge}


@pytest.mark.parametrize("name", sorted(m for m in modules() if m.startswith("callcard")))
def test_the_card_uses_only_the_bridge_s_public_modules(name: str) -> None:
    named = bridge_modules_named(imports_of(name, modules()[name]))
    assert named <= BRIDGE_PUBLIC, f"{name} imports {sorted(named - BRIDGE_PUBLIC)}"


@pytest.mark.parametrize("entry", ["main.py", "install.py", "examples/deal-contacts/main.py"])
def test_the_pages_use_only_the_bridge_s_public_modules(entry: str) -> None:
    named = bridge_modules_named(imports_of(entry.removesuffix(".py"), ROOT / entry))
    assert named <= BRIDGE_PUBLIC, f"{entry} imports {sorted(named - BRIDGE_PUBLIC)}"


def test_the_bridge_s_readme_names_every_public_module_and_only_those_are_public() -> None:
    readme = (ROOT / "packages" / "bx24-bridge" / "README.md").read_text(encoding="utf-8")
    versioning = readme[readme.index("## Versioning"):]
    for module in sorted(BRIDGE_PUBLIC - {"bx24_bridge"}):
        short = module.rpartition(".")[2]
        assert f"`{short}`" in readme, f"the README never names {module}"
    internal = {m for m in modules() if m.startswith("bx24_bridge")} - BRIDGE_PUBLIC
    assert internal == {"bx24_bridge._ffi", "bx24_bridge.library"}
    assert "`library`" in versioning and "underscore" in versioning
