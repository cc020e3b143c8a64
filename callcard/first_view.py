"""The card's first view from the handler POST, for the server to send before Python has booted.

Bitrix24 opens the card with a form POST that already carries the call (PLACEMENT_OPTIONS) and
the portal's language (LANG). The words come from the same pure modules the browser uses
(payload parsers, :func:`~callcard.present.present`, :mod:`~callcard.markup`), so the page the
browser's Python takes over already says what its first render would say. Anything that is not a
call card's well-formed options gives None: the plain loading page, never an error. Only
PLACEMENT, PLACEMENT_OPTIONS, LANG, DOMAIN and PROTOCOL are read; tokens are never looked at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from bx24_bridge.errors import ParseError
from bx24_bridge.payloads import EMPTY_STATUS, parse_options

from .callstate import CallTracker
from .i18n import Translator, pick_language
from .markup import card_markup, to_html
from .present import caller_text, offers_lead, portal_origin, present, present_client

__all__ = ["MAX_OPTIONS_LEN", "FirstView", "first_view"]

MAX_OPTIONS_LEN: Final = 16_384
"""The portal's options are a few hundred bytes; far more is not the portal's."""


@dataclass(frozen=True, slots=True)
class FirstView:
    """What the page needs: its language, title and the card's sections as HTML."""

    lang: str
    title: str
    card: str


def first_view(fields: Mapping[str, str]) -> FirstView | None:
    """The first view of the call in ``fields`` (the POST's form, or a GET's query), or None."""
    if fields.get("PLACEMENT") != "CALL_CARD":
        return None
    options = fields.get("PLACEMENT_OPTIONS")
    if not isinstance(options, str) or not options.strip() or len(options) > MAX_OPTIONS_LEN:
        return None
    try:
        status = parse_options(options)
    except ParseError:
        return None
    if status == EMPTY_STATUS:
        return None
    t = Translator(pick_language(fields.get("LANG")))
    portal = portal_origin(fields.get("DOMAIN"), fields.get("PROTOCOL", "1") != "0")
    text = present(status, CallTracker(status.state, 0.0), t, portal=portal, now=0.0)
    bound = status.entity is not None
    client = present_client(None, t, bound=bound, loading=bound, number=caller_text(status, t),
                            offer_lead=offers_lead(status))
    return FirstView(lang=t.lang, title=t("card.title"), card=to_html(card_markup(t, text, client)))
