"""The pinned runtime: which npm packages the pages load, at which version, and which of their
files are published (everything else in node_modules never is)."""

from __future__ import annotations

import hashlib
import json
import re
import sys
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


#: The wheels the npm package lacks (micropip), downloaded by `make runtime-wheels` from PyPI
#: against the hashes in tools/runtime-wheels.txt.
RUNTIME_WHEELS = Path(".cache", "runtime-wheels")
LOCK_NAME = "pyodide-lock.json"
#: The build's lock file (Pyodide's, with the runtime wheels' real digests), published hashed.
BUILD_LOCK_NAME = "callcard-lock.json"


class LockError(ValueError):
    """The lock file and the downloaded wheels do not agree."""


def runtime_wheels(root: Path) -> list[Path]:
    """The downloaded runtime wheels, by name (none before `make runtime-wheels`)."""
    folder = root / RUNTIME_WHEELS
    return sorted(folder.glob("*.whl")) if folder.is_dir() else []


def _wheel_name_version(file_name: str) -> tuple[str, str]:
    name, version, *_ = file_name.removesuffix(".whl").split("-")
    return re.sub(r"[-_.]+", "-", name).lower(), version


def build_lock(lock: bytes, wheels: list[Path]) -> bytes:
    """The build's lock file: Pyodide's, naming only the packages this runtime can load, the
    ``wheels`` published beside it, each with its file name and the sha256 of these very bytes
    (Pyodide checks it before it installs a package). The others are left out: their wheels are
    not in the npm package, so listing them would only turn a clear "no known package" into a
    failed download (and cost 20 KB on every cold load). A wheel the lock does not list, at
    another version, or whose dependencies are not published too, is a LockError: the pins are
    out of step with the runtime."""
    data = json.loads(lock)
    packages = data.get("packages") if isinstance(data, dict) else None
    if not isinstance(packages, dict):
        raise LockError("the lock file lists no packages")
    kept: dict[str, dict[str, object]] = {}
    for wheel in wheels:
        name, version = _wheel_name_version(wheel.name)
        entry = packages.get(name)
        if not isinstance(entry, dict):
            raise LockError(f"{wheel.name}: the runtime's lock file has no package {name}")
        if entry.get("version") != version:
            raise LockError(f"{wheel.name}: the runtime's lock file has {name} "
                            f"{entry.get('version')}, not {version}")
        kept[name] = {**entry, "file_name": wheel.name,
                      "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}
    for name, entry in kept.items():
        depends = entry.get("depends")
        missing = [dep for dep in depends if dep not in kept] if isinstance(depends, list) else []
        if missing:
            raise LockError(f"{name} needs {', '.join(missing)}, which is not published")
    data["packages"] = kept
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def python_version(root: Path) -> str:
    """The Python version (``3.14``) of the pinned Pyodide, from its lock file."""
    lock = json.loads((root / PYODIDE_PACKAGE / LOCK_NAME).read_text(encoding="utf-8"))
    return ".".join(str(lock["info"]["python"]).split(".")[:2])


def stdlib_archive(root: Path, versions: RuntimeVersions) -> Path:
    """The standard library archive to publish: the one `make stdlib` built for this Pyodide,
    else the package's own (about twice the start-up time)."""
    built = root / BUILT_STDLIB / f"pyodide-{versions.pyodide}" / STDLIB_NAME
    return built if built.is_file() else root / PYODIDE_PACKAGE / STDLIB_NAME


if __name__ == "__main__":  # `python -m cardserver.runtime python-version`, for the Makefile
    if sys.argv[1:] != ["python-version"]:
        sys.exit("usage: python -m cardserver.runtime python-version")
    print(python_version(Path.cwd()))
