"""The handler page with the call already on it: the server's half of the first paint.

The page the build wrote (pages/index.html) marks where the card goes (``<!--card ...-->`` to
``<!--/card-->``). When the POST (or, for tests, a GET's query) carries a call card's options,
the call's first view (callcard/first_view.py, the same pure modules the browser runs) takes the
place of the loading line, ``<html>`` gets the portal's language and ``data-prerendered``, and the
title and heading are said in that language. Anything else gets the page as built.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from typing import Final
from urllib.parse import parse_qsl

from callcard.first_view import FirstView, first_view

logger = logging.getLogger("cardserver")

_HTML_TAG: Final = '<html lang="en" data-app-state="loading">'
_TITLE: Final = "<title>Call card</title>"
_HEADING: Final = '<h1 id="card-title" class="visually-hidden">Call card</h1>'
_CARD_START: Final = "<!--card"
_CARD_END: Final = "<!--/card-->"
#: The portal's form has about a dozen fields.
MAX_FIELDS: Final = 64


class TemplateError(ValueError):
    """The page has not the marks the first paint needs (the page and this module drifted)."""


class PageTemplate:
    """A built page, split where the first view goes."""

    def __init__(self, page: bytes) -> None:
        text = page.decode("utf-8")
        for anchor in (_HTML_TAG, _TITLE, _HEADING, _CARD_START, _CARD_END):
            if text.count(anchor) != 1:
                raise TemplateError(f"the page must hold {anchor!r} exactly once")
        start = text.index(_CARD_START)
        end = text.index(_CARD_END) + len(_CARD_END)
        if end < start:
            raise TemplateError("the card's marks are in the wrong order")
        self._before, self._after = text[:start], text[end:]

    def render(self, view: FirstView) -> bytes:
        lang, title = html.escape(view.lang), html.escape(view.title)
        before = self._before.replace(
            _HTML_TAG, f'<html lang="{lang}" data-app-state="loading" data-prerendered>'
        ).replace(_TITLE, f"<title>{title}</title>").replace(
            _HEADING, f'<h1 id="card-title" class="visually-hidden">{title}</h1>')
        return (before + view.card + self._after).encode("utf-8")

    def for_request(self, fields: Mapping[str, str]) -> bytes | None:
        """The page with the call of ``fields`` on it, or None (send the page as built)."""
        try:
            view = first_view(fields)
        except Exception:  # a bug must cost the first paint, never the page
            logger.exception("the first view could not be rendered")
            return None
        return self.render(view) if view is not None else None


def form_fields(body: bytes, content_type: str | None) -> dict[str, str]:
    """The fields of a form POST (``application/x-www-form-urlencoded``, what the portal sends);
    the first value of each name; nothing for any other body."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind not in ("", "application/x-www-form-urlencoded"):
        return {}
    try:
        pairs = parse_qsl(body.decode("utf-8", errors="replace"), max_num_fields=MAX_FIELDS)
    except ValueError:  # more fields than the portal ever sends
        return {}
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields
