"""Start-up hints (``<link rel=preload|modulepreload>``) for the lever measurements.

PyScript and Pyodide discover what they need one round trip after another (core.js, its chunk,
the config, the TOML parser, the plugins, pyodide.mjs, then the runtime files, and after the boot
the app's .py files). Hints could ask for all of it at once. Their names (hashed PyScript chunks,
versioned runtime paths, pyscript.toml's [files]) would go stale with every upgrade, so they are
not written by hand here: they are derived from what a cold load of the page really requested.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from .browser import Load

_SCRIPT_SRC = re.compile(r'<script\b[^>]*\bsrc="([^"]*)"')
_LINK_HREF = re.compile(r'<link\b[^>]*\bhref="([^"]*)"')
#: Found by the parser at once, or asked for by the browser itself: a hint saves nothing.
_NEEDS_NO_HINT = (".css", "/favicon.ico")
WASM = ".wasm"


def startup_urls(load: Load, page_url: str, index_html: str, *, wasm: bool = False) -> list[str]:
    """Same-origin URLs a load requested that the page's own tags do not name, in request order."""
    own = {urljoin(page_url, src) for src in _SCRIPT_SRC.findall(index_html)}
    own |= {urljoin(page_url, href) for href in _LINK_HREF.findall(index_html)}
    origin = urlsplit(page_url).netloc
    found = []
    for url in load.statuses:
        path = urlsplit(url).path
        if urlsplit(url).netloc != origin or url in own or path in ("/", "/index.html"):
            continue
        if path.endswith(_NEEDS_NO_HINT) or (path.endswith(WASM) and not wasm):
            continue
        found.append(url)
    return found


def hint_tag(url: str, page_url: str) -> str:
    """The <link> for one URL: modules are modulepreloaded (fetched and compiled), everything
    else is a `fetch` preload, whose credentials mode (crossorigin = same-origin for our own
    origin) matches the plain fetch() PyScript and Pyodide use, so the download is reused."""
    path = urlsplit(url).path
    href = "." + path if urlsplit(url).netloc == urlsplit(page_url).netloc else url
    if path.endswith((".js", ".mjs")):
        return f'<link rel="modulepreload" href="{href}">'
    low = ' fetchpriority="low"' if path.endswith(".py") else ""
    return f'<link rel="preload" href="{href}" as="fetch" crossorigin{low}>'
