"""Security headers, and the Content-Security-Policy the app can live with."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence

#: Who may embed the app in a frame. The call card runs inside an iframe of a Bitrix24 portal,
#: so X-Frame-Options (which cannot list origins) is never sent; CSP frame-ancestors is used.
#: This tuple is the one place that lists the cloud portals' domains.
BITRIX24_FRAME_ANCESTORS = (
    "'self'",
    "https://*.bitrix24.ru",
    "https://*.bitrix24.com",
    "https://*.bitrix24.de",
    "https://*.bitrix24.by",
    "https://*.bitrix24.kz",
    "https://*.bitrix24.ua",
    "https://*.bitrix24.eu",
    "https://*.bitrix24.es",
    "https://*.bitrix24.pl",
    "https://*.bitrix24.fr",
    "https://*.bitrix24.it",
    "https://*.bitrix24.com.br",
    "https://*.bitrix24.in",
    "https://*.bitrix24.cn",
    "https://*.bitrix24.jp",
    "https://*.bitrix24.vn",
    "https://*.bitrix24.id",
    "https://*.bitrix24.co",
    "https://*.bitrix24.com.tr",
    "https://*.bitrix24.tech",
)
DEFAULT_FRAME_ANCESTORS = " ".join(BITRIX24_FRAME_ANCESTORS)

#: Sent on every response, errors included.
COMMON_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),  # a .py or .toml is never run as a script or style
    ("Referrer-Policy", "no-referrer"),  # URLs may carry portal data; don't hand them on
)

_BASE_POLICY = (
    "default-src 'self'",
    # 'wasm-unsafe-eval': Pyodide compiles its WebAssembly module.
    # 'unsafe-eval': PyScript (polyscript) builds functions from strings at start-up and the
    # Pyodide FFI evaluates JavaScript from Python; without it the interpreter does not boot.
    # api.bitrix24.com serves the BX24 JS library (index.html loads it protocol-relative).
    "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval' "
    "https://api.bitrix24.com http://api.bitrix24.com",
    "connect-src 'self' https:",  # REST calls go to the portal, whatever its domain
    "style-src 'self' 'unsafe-inline'",  # PyScript injects <style> elements
    "img-src 'self' data:",
    "worker-src 'self' blob:",  # PyScript may start the interpreter in a (blob:) worker
    "base-uri 'none'",
    "form-action 'none'",
)


def validate_frame_ancestors(value: str) -> str:
    """Normalise a user-supplied source list; refuse anything that could break out of it."""
    sources = value.split()
    if not sources:
        raise ValueError("frame-ancestors needs at least one source (use 'none' to forbid all)")
    for source in sources:
        if any(ch in source for ch in ';,"') or not source.isprintable():
            raise ValueError(f"not a CSP source expression: {source!r}")
    return " ".join(sources)


def content_security_policy(
    frame_ancestors: str, *, frames_self: bool = False, simulator_card: bool = False,
    inline_scripts: Sequence[str] = (),
) -> str:
    """The CSP of an HTML page; simulator pages (`frames_self`) embed the app in a frame, which
    they open with a form POST.

    The simulator's card page (`simulator_card`) needs its `<base href>` (base-uri 'self'), and
    only the simulator on this origin has any business framing it.

    ``inline_scripts`` are the hash sources of the page's own inline scripts
    (:func:`inline_script_sources` of the built page): those run, and no other inline script
    ('unsafe-inline' is never given, so markup that reached the page any other way, as the
    call's first view rendered into it per request, cannot run).
    """
    directives: list[str] = list(_BASE_POLICY)
    if inline_scripts:
        directives = [d if not d.startswith("script-src ") else " ".join([d, *inline_scripts])
                      for d in directives]
    if simulator_card:
        directives = [d if not d.startswith("base-uri ") else "base-uri 'self'" for d in directives]
        frame_ancestors = "'self'"
    if frames_self:  # and opens it as the portal does: a form POST into the frame
        directives = [d if not d.startswith("form-action ") else "form-action 'self'"
                      for d in directives]
        directives.append("frame-src 'self'")
    directives.append(f"frame-ancestors {frame_ancestors}")
    return "; ".join(directives)


#: A script element with its code in the page (no src): the build writes such scripts in
#: (cardserver/dist.py, INLINE_SCRIPTS) and nothing else may add one.
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>",
                            re.DOTALL | re.IGNORECASE)


def inline_script_sources(page: bytes) -> list[str]:
    """The CSP hash source (``'sha256-...'``) of each inline script of ``page``, as browsers
    compute it: over the element's text, UTF-8 encoded."""
    return [f"'sha256-{base64.b64encode(hashlib.sha256(code).digest()).decode()}'"
            for code in _INLINE_SCRIPT.findall(page)]

