"""Installing the CALL_CARD tab: what to bind, what to replace, and what errors mean.

Pure Python (no ``js``): the install page asks ``placement.get`` for this app's handlers, and
:func:`plan_install` turns that into the few ``placement.unbind`` / ``placement.bind`` calls that
leave exactly one correct tab, so running the install twice changes nothing the second time.
``placement.get`` lists only the calling app's handlers, so any other CALL_CARD handler there is
a stale URL of this same app (an earlier host or path) and is replaced.
"""

# Its checks of what it is given stay, whatever the annotations say: callers outside the checker's
# view (host data through JavaScript) can pass anything.
# pyright: reportUnnecessaryIsInstance=false
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from bx24_bridge.wire import as_array, as_object

PLACEMENT = "CALL_CARD"
TAB_TITLES: Mapping[str, str] = {"en": "Call notes", "ru": "Заметки звонка"}

#: REST error codes the install page explains in words; any other code is shown as it is.
ERROR_KEYS: Mapping[str, str] = {
    "ERROR_PLACEMENT_NOT_FOUND": "install.error.no_telephony",
    "WRONG_AUTH_TYPE": "install.error.wrong_auth",
    "ACCESS_DENIED": "install.error.not_admin",
    "INSUFFICIENT_SCOPE": "install.error.no_telephony",
    "TIMEOUT": "install.error.timeout",
}


@dataclass(frozen=True, slots=True)
class Binding:
    """One handler the portal has registered for this app."""

    placement: str
    handler: str
    title: str


@dataclass(frozen=True, slots=True)
class InstallStep:
    """One REST call of the install: ``method`` with ``params``."""

    kind: Literal["unbind", "bind"]
    params: Mapping[str, object]

    @property
    def method(self) -> str:
        return f"placement.{self.kind}"


def parse_bindings(raw: object) -> list[Binding]:
    """``placement.get``'s result as bindings; rows of any other shape are skipped."""
    bindings: list[Binding] = []
    for item in as_array(raw):
        row = as_object(item)
        if row is None:
            continue
        placement, handler = row.get("placement"), row.get("handler")
        if isinstance(placement, str) and isinstance(handler, str) and handler:
            title = row.get("title")
            bindings.append(Binding(placement, handler, title if isinstance(title, str) else ""))
    return bindings


#: What urlsplit itself drops from the start of a URL (WHATWG "C0 control or space").
_C0_OR_SPACE = "".join(map(chr, range(0x21)))


def _trimmed(url: str) -> str:
    """Without Unicode whitespace and C0 controls at either end, however they interleave: a
    lone ``str.strip`` leaves a no-break space behind a backspace, which urlsplit then drops,
    and the result would change when normalised again."""
    previous = None
    while url != previous:
        previous, url = url, url.strip().strip(_C0_OR_SPACE)
    return url


def normalise_url(url: str) -> str:
    """A URL in a form that compares equal for the same handler (case of host, default ports).

    Handler URLs come back from the portal (``placement.get``): one that cannot be read as a URL
    (a port that is not a number, a broken IPv6 literal) is compared as it is, never raised on.
    """
    # One pass can leave work for the next (dropping '#' bares the space before it, an emptied
    # query drops its '?'); each pass only removes, so a few reach the fixed point.
    text = _normalise_once(url)
    for _ in range(8):
        again = _normalise_once(text)
        if again == text:
            break
        text = again
    return text


def _normalise_once(url: str) -> str:
    text = _trimmed(url)
    try:
        parts = urlsplit(text)
        port_number = parts.port
    except ValueError:
        return text
    host = (parts.hostname or "").lower()
    default_port = {"https": 443, "http": 80}.get(parts.scheme.lower())
    port = f":{port_number}" if port_number and port_number != default_port else ""
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), host + port, path, parts.query, ""))


def derive_handler_url(install_page_url: str, override: str = "") -> str:
    """The card's handler URL: the override when set, else the folder the install page is in.

    The install page is served beside the card (``.../install.html`` next to ``.../``), so the
    handler is that folder's URL, without the page's query string or fragment.
    """
    if override.strip():
        return normalise_url(override)
    parts = urlsplit(install_page_url)
    folder = parts.path.rsplit("/", 1)[0] + "/"
    return normalise_url(urlunsplit((parts.scheme, parts.netloc, folder, "", "")))


def bind_params(handler: str, titles: Mapping[str, str] = TAB_TITLES) -> dict[str, object]:
    """``placement.bind`` parameters: the tab's title in English, localised for ru and en."""
    return {
        "PLACEMENT": PLACEMENT,
        "HANDLER": handler,
        "TITLE": titles["en"],
        "LANG_ALL": {lang: {"TITLE": title} for lang, title in titles.items()},
    }


def plan_install(
    existing: list[Binding], handler: str, titles: Mapping[str, str] = TAB_TITLES,
) -> list[InstallStep]:
    """The calls that leave exactly one CALL_CARD tab with ``handler``; [] when it is already so.

    A binding is correct when its handler is ours and its title is the current English title.
    Stale handlers are unbound one by one (``HANDLER`` given, so nothing else is touched);
    duplicates of our own handler are removed by one unbind per spelling, then bound once.
    ``placement.unbind`` matches HANDLER exactly, so each distinct spelling of a URL (``HTTPS://A``
    and ``https://a``) gets its own unbind: one run leaves nothing for the next.
    """
    ours = normalise_url(handler)
    cards = [b for b in existing if b.placement == PLACEMENT]
    mine = [b for b in cards if normalise_url(b.handler) == ours]
    stale = [b for b in cards if normalise_url(b.handler) != ours]
    steps = [
        InstallStep("unbind", {"PLACEMENT": PLACEMENT, "HANDLER": b.handler})
        for b in _unique_handlers(stale)
    ]
    correct = len(mine) == 1 and mine[0].title == titles["en"]
    if not correct:
        steps.extend(
            InstallStep("unbind", {"PLACEMENT": PLACEMENT, "HANDLER": b.handler})
            for b in _unique_handlers(mine)
        )
        steps.append(InstallStep("bind", bind_params(handler, titles)))
    return steps


def error_key(code: str) -> str | None:
    """The i18n key explaining a REST error code, or None: then the code itself is shown."""
    return ERROR_KEYS.get(code.strip().upper()) if isinstance(code, str) else None


def _unique_handlers(bindings: list[Binding]) -> list[Binding]:
    """One binding per exact handler string, in order (the portal matches HANDLER exactly)."""
    seen: dict[str, Binding] = {}
    for binding in bindings:
        seen.setdefault(binding.handler, binding)
    return list(seen.values())
