"""The card's typeface (static/face-preload.js): the first card draws the fallback face and
records the Open Sans faces it loaded; the next card preloads exactly those, and draws its text
in them (font-display: optional uses a face only if it is there at the first layout)."""

from __future__ import annotations

import json

from conftest import CardPage

KEY = "callcard:faces"
PRELOADED = """[...document.querySelectorAll('link[rel="preload"][as="font"]')]
  .map((link) => link.href)"""
FETCHED_FACES = """performance.getEntriesByType("resource").map((entry) => entry.name)
  .filter((name) => name.endsWith(".woff2"))"""
DECLARED = """[...document.styleSheets].flatMap((sheet) => [...sheet.cssRules])
  .filter((rule) => rule instanceof CSSFontFaceRule)
  .map((rule) => new URL(/url\\("?([^")]+)"?\\)/.exec(rule.style.getPropertyValue("src"))[1],
                         document.baseURI).href)"""


def recorded_faces(card: CardPage) -> list[str]:
    card.page.wait_for_function(f"window.localStorage.getItem({KEY!r}) !== null")
    return json.loads(card.page.evaluate(f"window.localStorage.getItem({KEY!r})"))


def platform_fonts(card: CardPage, testid: str) -> list[tuple[str, bool]]:
    """The faces Chromium drew a node's text in: (family, whether it is a web font)."""
    devtools = card.context.new_cdp_session(card.page)
    devtools.send("DOM.enable")
    devtools.send("CSS.enable")
    root = devtools.send("DOM.getDocument")["root"]["nodeId"]
    node = devtools.send("DOM.querySelector",
                         {"nodeId": root, "selector": f'[data-testid="{testid}"]'})["nodeId"]
    fonts = devtools.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    devtools.detach()
    return [(font["familyName"], font["isCustomFont"]) for font in fonts]


def test_the_next_card_preloads_the_faces_the_first_one_loaded_and_draws_in_them(
    card: CardPage,
) -> None:
    card.open_by_post({"status": {"CALL_STATE": "connected"}})
    assert card.page.evaluate(PRELOADED) == []  # nothing recorded yet: nothing preloaded
    declared = card.page.evaluate(DECLARED)
    faces = recorded_faces(card)
    # The card's text is Latin (an English portal, a phone number): the two Latin faces.
    assert sorted(faces) == sorted(url for url in declared if "-latin-" in url)

    second = card.another_tab()
    second.open_by_post({"status": {"CALL_STATE": "connected"}})
    assert second.page.evaluate(PRELOADED) == faces
    # The stylesheet's requests are the preloads' (same URL, same CORS mode): one fetch a face.
    fetched = second.page.evaluate(FETCHED_FACES)
    assert sorted(fetched) == sorted(faces)
    assert second.text("caller-number") == "+7 900 123-45-67"
    assert all(custom for _, custom in platform_fonts(second, "caller-number"))
    assert {family for family, _ in platform_fonts(second, "call-state")} <= {
        "Open Sans", "Open Sans SemiBold"}


def test_what_the_storage_holds_is_preloaded_only_where_the_stylesheet_names_it(
    card: CardPage,
) -> None:
    """A value the card did not write (another script of the origin, a damaged entry) is read
    as a list of URLs the stylesheet declares, or not at all: nothing else is ever fetched
    (the rig fails the test on a request that leaves loopback), and the card starts as ever."""
    card.open()
    declared = card.page.evaluate(DECLARED)
    # Only the first four entries are looked at (a card loads at most four faces).
    hostile = ["https://fonts.example/x.woff2", 7, card.app_url + "main.py", declared[-1],
               declared[0], {"href": declared[0]}]
    for stored, expected in ((json.dumps(hostile), [declared[-1]]), ('{"a": "not json"', [])):
        other = card.another_tab()
        other.page.add_init_script(
            f"window.localStorage.setItem({KEY!r}, {json.dumps(stored)});")
        other.open()
        assert other.page.evaluate(PRELOADED) == expected, stored
        assert other.errors == []
        other.page.close()
