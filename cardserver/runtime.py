"""The pinned runtime: which npm packages the pages load, at which version, and which of their
files are published (everything else in node_modules never is)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

PYSCRIPT_PACKAGE = Path("node_modules", "@pyscript", "core")
PYODIDE_PACKAGE = Path("node_modules", "pyodide")
#: The card's typeface, Open Sans as Bitrix24 itself uses it, from the npm registry.
OPEN_SANS_PACKAGE = Path("node_modules", "@fontsource", "open-sans")

#: PyScript's dist/ is flat; source maps are left out (they are large and only for debugging).
PYSCRIPT_SUFFIXES = (".js", ".css")
#: What Pyodide's loader fetches besides the standard library, which is built (BUILT_STDLIB).
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "pyodide-lock.json")
#: The faces static/app.css declares: regular and semibold, Latin and Cyrillic.
OPEN_SANS_FILES = tuple(
    f"open-sans-{subset}-{weight}-normal.woff2"
    for subset in ("latin", "cyrillic")
    for weight in (400, 600)
)
#: Pyodide's standard library with bytecode for the start-up modules (`make stdlib`,
#: tools/compile-stdlib.mjs); without it, the package's own archive is published.
BUILT_STDLIB = Path(".cache", "runtime")
STDLIB_NAME = "python_stdlib.zip"

# A version becomes a URL segment: a plain segment only.
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]*")


@dataclass(frozen=True)
class RuntimeVersions:
    """Versions of the installed runtime packages (None: not installed, `npm ci` has not run)."""

    pyscript: str | None
    pyodide: str | None
    open_sans: str | None = None

    def folder(self, package: str) -> str:
        """``runtime/<package>-<version>``, where a package's files are published."""
        version = {"pyscript": self.pyscript, "pyodide": self.pyodide,
                   "open-sans": self.open_sans}[package]
        if version is None:
            raise LookupError(f"{package} is not installed (run `npm ci`)")
        return f"runtime/{package}-{version}"


def read_runtime_versions(root: Path) -> RuntimeVersions:
    """The "version" of each runtime package, from its installed package.json."""
    return RuntimeVersions(
        pyscript=_package_version(root / PYSCRIPT_PACKAGE),
        pyodide=_package_version(root / PYODIDE_PACKAGE),
        open_sans=_package_version(root / OPEN_SANS_PACKAGE),
    )


def _package_version(package_dir: Path) -> str | None:
    try:
        manifest = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    if isinstance(version, str) and _SEGMENT.fullmatch(version):
        return version
    return None


def stdlib_archive(root: Path, versions: RuntimeVersions) -> Path:
    """The standard library archive to publish: the one `make stdlib` built for this Pyodide,
    else the package's own (about twice the start-up time)."""
    built = root / BUILT_STDLIB / f"pyodide-{versions.pyodide}" / STDLIB_NAME
    return built if built.is_file() else root / PYODIDE_PACKAGE / STDLIB_NAME
