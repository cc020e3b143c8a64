"""URL -> file mapping.

It is an allow-list on purpose: the project root also holds `.git`, `node_modules`, the venv,
the tests and this server's source, and none of that may ever be reachable. A URL either names
one of the few things below or it is a 404; there are no directory listings.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from .boot_module import BOOT_MODULE_NAME, ensure_boot_module
from .bundle import APP_PACKAGES, BUNDLE_NAME, ensure_bundle

#: The pages Bitrix24 opens: the handler (index.html) and the install page. It opens both with a
#: POST, so these (and only these) also accept POST.
INDEX_PATHS = ("/", "/index.html", "/install.html")

APP_FILES = ("main.py", "pyscript.toml", "install.py", "install.toml")
STATIC_SUFFIXES = frozenset({".css", ".svg", ".png", ".ico", ".js"})
SIMULATOR_SUFFIXES = frozenset({".html", ".js", ".css", ".py", ".json", ".svg", ".png"})

PYSCRIPT_PACKAGE = Path("node_modules", "@pyscript", "core")
PYODIDE_PACKAGE = Path("node_modules", "pyodide")
#: The card's typeface, Open Sans as Bitrix24 itself uses it, from the npm registry.
OPEN_SANS_PACKAGE = Path("node_modules", "@fontsource", "open-sans")
#: The faces static/app.css declares: regular and semibold, Latin and Cyrillic.
OPEN_SANS_FILES = frozenset(
    f"open-sans-{subset}-{weight}-normal.woff2"
    for subset in ("latin", "cyrillic")
    for weight in (400, 600)
)
#: Runtime files built at install time from the pinned packages, served in place of the
#: package's own file of the same name: `<BUILT_RUNTIME>/pyodide-<version>/python_stdlib.zip`
#: (the standard library with bytecode for start-up; tools/compile-stdlib.mjs).
BUILT_RUNTIME = Path(".cache", "runtime")
#: PyScript's dist/ is flat; source maps are left out (they are large and only for debugging).
PYSCRIPT_SUFFIXES = (".js", ".css")
#: Exactly what PyScript's loader fetches from Pyodide; the rest of the npm package is not served.
PYODIDE_FILES = frozenset(
    {"pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"}
)

# One path segment as it may appear after percent-decoding. The first character may not be a
# dot (no dotfiles, no `..`), and `/`, `\`, `%` (double encoding), NUL and other controls never
# match, so a segment can never climb out of or step sideways from the folder it is looked up in.
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]*")


class Policy(enum.Enum):
    """How a file may be cached by the browser."""

    #: Our own files: they change on every deploy under the same URL, so browsers revalidate.
    APP = "app"
    #: Runtime files under a URL that carries the package version: they never change.
    RUNTIME = "runtime"
    #: Made by the server from our files (the Python bundle, the interpreter's boot module):
    #: revalidated like APP, but streamed from disk with the precompressed copies like RUNTIME.
    BUILT = "built"


@dataclass(frozen=True)
class Route:
    """What a URL resolved to."""

    #: The canonical URL path of the file (`/` -> `/index.html`); it also names the
    #: precompressed copy on disk.
    url_path: str
    #: The file to send, or None for "nothing to send" (204: the favicon when there is none).
    file: Path | None
    policy: Policy = Policy.APP
    #: Only the index answers POST (Bitrix24 opens the app with a form POST).
    accepts_post: bool = False
    #: Simulator pages frame the app, so their CSP must allow same-origin frames.
    frames_self: bool = False
    #: The simulator's card page: `file` (index.html) rewritten to load the fake host
    #: (cardserver/simulator_card.py); only the simulator may frame it.
    simulator_card: bool = False


@dataclass(frozen=True)
class RuntimeVersions:
    """Versions of the installed runtime packages; they are part of the runtime URLs.

    None means the package is not installed (`npm ci` has not run): its URLs are all 404.
    """

    pyscript: str | None
    pyodide: str | None
    open_sans: str | None = None

    def pyscript_url(self, file: str = "") -> str:
        """`/runtime/pyscript-<version>/<file>`, the URL the page loads PyScript from."""
        if self.pyscript is None:
            raise LookupError("@pyscript/core is not installed (run `npm ci`)")
        return f"/runtime/pyscript-{self.pyscript}/{file}"

    def pyodide_url(self, file: str = "") -> str:
        """`/runtime/pyodide-<version>/<file>`, the URL pyscript.toml points the interpreter at."""
        if self.pyodide is None:
            raise LookupError("pyodide is not installed (run `npm ci`)")
        return f"/runtime/pyodide-{self.pyodide}/{file}"


def read_runtime_versions(root: Path) -> RuntimeVersions:
    """Read the "version" of both runtime packages from their installed package.json."""
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
    # The version becomes part of a URL segment, so it must be a plain segment itself.
    if isinstance(version, str) and _SEGMENT.fullmatch(version):
        return version
    return None


def split_path(path: str) -> tuple[str, ...] | None:
    """Decoded segments of a URL path (query already removed), or None if it is not plain.

    Each segment is percent-decoded once and must then be a plain file name; so `..`,
    `%2e%2e`, `%2f`, `%252e` (double encoding), NUL bytes, backslashes and empty segments in
    the middle (`//`) are all refused. A trailing slash shows up as a final empty segment.
    """
    if not path.startswith("/"):
        return None
    segments = []
    raw_segments = path[1:].split("/")
    for index, raw in enumerate(raw_segments):
        try:
            segment = unquote(raw, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            return None
        if segment == "" and index == len(raw_segments) - 1:
            segments.append("")
        elif _SEGMENT.fullmatch(segment):
            segments.append(segment)
        else:
            return None
    return tuple(segments)


def resolve(path: str, root: Path, versions: RuntimeVersions) -> Route | None:
    """Map a URL path to a Route, or None (404) if it is not on the allow-list or not a file."""
    segments = split_path(path)
    if segments is None:
        return None
    url_path = "/" + "/".join(segments)
    match segments:
        case ("",) | ("index.html",):
            return _app_route("/index.html", root, ("index.html",), accepts_post=True)
        case ("install.html",):
            return _app_route(url_path, root, ("install.html",), accepts_post=True)
        case ("favicon.ico",):
            svg = _existing_file(root / "static", ("favicon.svg",))
            return Route("/static/favicon.svg", svg)  # file None -> 204, not a 404 in the console
        case (name,) if name == BUNDLE_NAME:
            # Built from the current sources on the request that asks (cardserver/bundle.py).
            return Route(url_path, ensure_bundle(root), Policy.BUILT)
        case (name,) if name in APP_FILES:
            return _app_route(url_path, root, (name,))
        case (package, name) if package in APP_PACKAGES and name.endswith(".py"):
            return _app_route(url_path, root / package, (name,))
        case ("static", *rest) if rest and _suffix(rest[-1]) in STATIC_SUFFIXES:
            return _app_route(url_path, root / "static", tuple(rest))
        case ("simulator", "card", ""):
            # The app page as the simulator frames it: index.html, with the fake library.
            return _app_route("/simulator/card/", root, ("index.html",), simulator_card=True)
        case ("simulator", "card", "runtime", versioned, name):
            # PyScript resolves pyscript.toml's `interpreter` against location.href, not the
            # page's <base>: from /simulator/card/ Pyodide is asked for here. Same files, same
            # immutable versioned URLs (and gzip copies) as /runtime/.
            return _runtime_route(f"/runtime/{versioned}/{name}", root, versions, versioned, name)
        case ("simulator", ""):
            index = "/simulator/index.html"
            return _app_route(index, root / "simulator", ("index.html",), frames_self=True)
        case ("simulator", name) if _suffix(name) in SIMULATOR_SUFFIXES:
            return _app_route(url_path, root / "simulator", (name,), frames_self=True)
        case ("runtime", versioned, name):
            return _runtime_route(url_path, root, versions, versioned, name)
    return None


def _runtime_route(
    url_path: str, root: Path, versions: RuntimeVersions, versioned: str, name: str
) -> Route | None:
    if versions.pyscript and versioned == f"pyscript-{versions.pyscript}":
        allowed = name.endswith(PYSCRIPT_SUFFIXES)
        base = root / PYSCRIPT_PACKAGE / "dist"
    elif versions.open_sans and versioned == f"open-sans-{versions.open_sans}":
        file = _existing_file(root / OPEN_SANS_PACKAGE / "files", (name,))
        return Route(url_path, file, Policy.RUNTIME) if file and name in OPEN_SANS_FILES else None
    elif versions.pyodide and versioned == f"pyodide-{versions.pyodide}":
        if name == BOOT_MODULE_NAME:
            # Written for the standard library served beside it (cardserver/boot_module.py).
            stdlib = _runtime_route(
                f"/runtime/{versioned}/python_stdlib.zip", root, versions, versioned,
                "python_stdlib.zip",
            )
            if stdlib is None or stdlib.file is None:
                return None
            return Route(url_path, ensure_boot_module(root, versioned, stdlib.file), Policy.BUILT)
        allowed = name in PYODIDE_FILES
        base = root / PYODIDE_PACKAGE
    else:
        return None  # unknown package or a version that is not the installed one
    if not allowed:
        return None
    file = _existing_file(root / BUILT_RUNTIME / versioned, (name,)) or _existing_file(
        base, (name,)
    )
    return Route(url_path, file, Policy.RUNTIME) if file else None


def runtime_files(root: Path, versions: RuntimeVersions) -> Iterator[tuple[str, Path]]:
    """Every servable runtime file as (URL path, file): what `warm()` precompresses."""
    if versions.pyscript:
        dist = root / PYSCRIPT_PACKAGE / "dist"
        names = sorted(p.name for p in dist.glob("*") if p.name.endswith(PYSCRIPT_SUFFIXES))
        for name in names:
            route = resolve(versions.pyscript_url(name), root, versions)
            if route and route.file:
                yield route.url_path, route.file
    if versions.pyodide:
        for name in sorted(PYODIDE_FILES):
            route = resolve(versions.pyodide_url(name), root, versions)
            if route and route.file:
                yield route.url_path, route.file


def _app_route(
    url_path: str,
    base: Path,
    parts: tuple[str, ...],
    *,
    accepts_post: bool = False,
    frames_self: bool = False,
    simulator_card: bool = False,
) -> Route | None:
    file = _existing_file(base, parts)
    if file is None:
        return None
    return Route(
        url_path,
        file,
        Policy.APP,
        accepts_post=accepts_post,
        frames_self=frames_self,
        simulator_card=simulator_card,
    )


def _existing_file(base: Path, parts: tuple[str, ...]) -> Path | None:
    """base/parts if it is a regular file that really lies inside base (symlinks resolved)."""
    if not parts or "" in parts:
        return None  # a trailing slash: that would be a directory listing
    try:
        real_base = base.resolve(strict=True)
        real_file = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not real_file.is_relative_to(real_base) or not real_file.is_file():
        return None
    return base.joinpath(*parts)  # not real_file: the URL's name decides the content type


def _suffix(name: str) -> str:
    return Path(name).suffix.lower()
