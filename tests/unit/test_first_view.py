"""The card's first view from the handler POST (callcard/first_view.py, callcard/markup.py): the
same words the browser's first render shows, escaped, in the portal's language; anything that is
not a call card's well-formed options gives the plain loading page."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bx24_bridge.payloads import parse_options
from callcard.callstate import CallTracker
from callcard.first_view import MAX_OPTIONS_LEN, first_view
from callcard.i18n import Translator
from callcard.markup import card_markup, hook_names, to_html
from callcard.present import ClientText, present

OPTIONS = {
    "CALL_ID": "externalCall.c3ee1723556778", "PHONE_NUMBER": "+79001234567",
    "LINE_NUMBER": "74951234567", "LINE_NAME": "Sales line", "CRM_ENTITY_TYPE": "CONTACT",
    "CRM_ENTITY_ID": "17", "CRM_ACTIVITY_ID": "undefined", "CALL_DIRECTION": "incoming",
    "CALL_STATE": "connecting", "CALL_LIST_MODE": "false", "URI": "/crm/contact/details/17/",
}
TOKENS = {"AUTH_ID": "CanaryAuth01x", "REFRESH_ID": "CanaryRefresh02x",
          "member_id": "CanaryMember", "APP_SID": "CanarySid"}


def fields(options: object = None, **extra: str) -> dict[str, str]:
    raw = options if isinstance(options, str) else json.dumps(OPTIONS if options is None
                                                              else options)
    return {"PLACEMENT": "CALL_CARD", "PLACEMENT_OPTIONS": raw, "LANG": "en",
            "DOMAIN": "example.bitrix24.com", "PROTOCOL": "1", **TOKENS, **extra}


class Hooks(HTMLParser):
    """The text of each element with a data-testid, as a browser would show it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: dict[str, str] = {}
        self.attrs: dict[str, dict[str, str | None]] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        testid = found.get("data-testid")
        if testid is not None:
            self.text.setdefault(testid, "")
            self.attrs[testid] = found
        if tag not in ("input",):
            self._open.append(testid)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for testid in self._open:
            if testid is not None:
                self.text[testid] += data


def hooks(html: str) -> Hooks:
    parser = Hooks()
    parser.feed(html)
    return parser


def test_a_call_is_rendered_with_the_words_the_card_uses() -> None:
    view = first_view(fields())
    assert view is not None and (view.lang, view.title) == ("en", "Call card")
    found = hooks(view.card).text
    assert found["caller-number"] == "+7 900 123-45-67"
    assert found["call-direction"] == "Incoming call"
    assert found["call-state"] == "Connecting"
    assert found["line"] == "Sales line"
    assert found["crm-entity"] == "contact #17"
    assert found["client-details"] == "Loading client details…"
    assert found["notes-status"] == "No notes yet"
    assert hooks(view.card).attrs["crm-entity"]["href"] == (
        "https://example.bitrix24.com/crm/contact/details/17/")
    assert "list-mode" in found and "hidden" in hooks(view.card).attrs["list-mode"]


def test_the_first_view_is_exactly_what_the_browser_would_render_first() -> None:
    t = Translator("ru")
    status = parse_options(json.dumps(OPTIONS))
    text = present(status, CallTracker(status.state, 0.0), t,
                   portal="https://example.bitrix24.com", now=0.0)
    client = ClientText("", t("client.loading"), None)
    view = first_view(fields(LANG="ru"))
    assert view is not None and view.card == to_html(card_markup(t, text, client))


@pytest.mark.parametrize(
    ("change", "testid", "words"),
    [
        ({"PHONE_NUMBER": "hidden"}, "caller-number", "Hidden number"),
        ({"PHONE_NUMBER": None}, "caller-number", "Unknown number"),
        ({"CALL_DIRECTION": "outgoing"}, "call-direction", "Outgoing call"),
        ({"CALL_DIRECTION": "callback"}, "call-direction", "Callback"),
        ({"CALL_STATE": "connected"}, "call-state", "Talking"),
        ({"CALL_STATE": "idle"}, "call-state", "Waiting"),
        ({"CALL_LIST_MODE": "true"}, "list-mode", "Call list"),
        ({"LINE_NAME": ""}, "line", "7 495 123-45-67"),
        ({"CRM_ENTITY_TYPE": "", "CRM_ENTITY_ID": "0", "URI": None}, "crm-unbound",
         "Not linked to CRM"),
        ({"CRM_ENTITY_TYPE": "", "CRM_ENTITY_ID": "0", "URI": None}, "client-name", "New client"),
        ({"CRM_ENTITY_TYPE": "DEAL", "CRM_ENTITY_ID": "9", "URI": "/crm/deal/details/9/"},
         "crm-entity", "deal #9"),
    ],
)
def test_every_quirk_of_the_options_is_said_as_the_card_says_it(
    change: dict[str, str | None], testid: str, words: str
) -> None:
    options = {key: value for key, value in {**OPTIONS, **change}.items() if value is not None}
    view = first_view(fields(options))
    assert view is not None and hooks(view.card).text[testid] == words


def test_in_russian() -> None:
    view = first_view(fields(LANG="ru"))
    assert view is not None and (view.lang, view.title) == ("ru", "Карточка звонка")
    found = hooks(view.card).text
    assert (found["call-direction"], found["call-state"]) == ("Входящий звонок", "Соединение")
    assert found["crm-entity"] == "контакт №17"


def test_the_portal_s_language_falls_back_as_the_card_does() -> None:
    for lang, expected in (("ua", "ru"), ("de", "en"), ("", "en")):
        view = first_view(fields(LANG=lang))
        assert view is not None and view.lang == expected


@pytest.mark.parametrize(
    "options",
    ["", "   ", "not json", "[]", "{}", "null", "17", '["CALL_CARD"]',
     "[" * 200 + "]" * 200, json.dumps({"CALL_ID": "x" * MAX_OPTIONS_LEN})],
)
def test_options_that_are_not_a_call_give_the_plain_page(options: str) -> None:
    assert first_view(fields(options)) is None


def test_other_placements_and_no_options_give_the_plain_page() -> None:
    assert first_view(fields(PLACEMENT="DEFAULT")) is None
    assert first_view({"PLACEMENT": "CALL_CARD"}) is None
    assert first_view({}) is None


HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&'


def test_hostile_values_are_text() -> None:
    options = {**OPTIONS, "LINE_NAME": HOSTILE, "PHONE_NUMBER": HOSTILE, "CALL_ID": HOSTILE}
    view = first_view(fields(options, DOMAIN='evil.com"><script>x</script>', LANG=HOSTILE))
    assert view is not None
    assert "<script" not in view.card and "<img" not in view.card and "onerror=" not in (
        view.card.replace("onerror=alert(2)&gt;", ""))
    assert hooks(view.card).text["line"] == HOSTILE  # shown as the text it is
    assert "evil.com" not in view.card  # an unusable domain gives bare paths


def test_tokens_are_never_written() -> None:
    view = first_view(fields())
    assert view is not None
    for token in TOKENS.values():
        assert token not in view.card and token not in view.title


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(OPTIONS)),
                       st.text(max_size=30) | st.integers() | st.booleans() | st.none()),
       st.text(max_size=20))
def test_any_options_give_a_safe_page_or_none(options: dict[str, object], lang: str) -> None:
    view = first_view(fields({**OPTIONS, **options}, LANG=lang))
    if view is None:
        return
    assert not re.search(r"<(script|img|iframe|svg)\b", view.card)
    stable = set(hook_names(card_markup(Translator("en"), *_sample()))) - {"crm-entity"}
    assert stable <= set(hooks(view.card).text)


def _sample() -> tuple:
    t = Translator("en")
    status = parse_options(json.dumps(OPTIONS))
    text = present(status, CallTracker(status.state, 0.0), t, portal=None, now=0.0)
    return text, ClientText("", "", None)


#: The hooks of ui-contract.md that exist only in some states: the loading/outside/error
#: status (the view draws it instead of the card) and a failure (only while there is one).
_NOT_ON_EVERY_CARD = {"testid", "app-status", "call-failure"}  # (and the header)


def test_the_markup_carries_every_hook_of_the_ui_contract() -> None:
    """Every element hook of the shared contract (its table, read from the file itself, so a
    hook added there fails here until the card has it) is in the card's one markup."""
    root = Path(__file__).resolve().parents[2]
    contract = root.parent / "shared" / "reference" / "ui-contract.md"
    if not contract.is_file():
        pytest.skip("the shared contract is not beside this checkout")
    table = re.findall(r"^\| ([a-z][a-z-]*) \|", contract.read_text(encoding="utf-8"), re.M)
    assert len(table) > 20, "the contract's table was not read"
    found = set(hook_names(card_markup(Translator("en"), *_sample())))
    assert set(table) - _NOT_ON_EVERY_CARD - found == set()
    assert {"caller-number", "call-direction", "call-state", "call-timer", "line", "crm-entity",
            "crm-bindings", "client-name", "notes", "notes-status", "notes-save", "keep-open",
            "keep-open-status", "close-now"} <= found
