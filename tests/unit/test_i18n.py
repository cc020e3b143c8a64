"""callcard.i18n: a complete catalogue in both languages, and safe placeholder filling."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bx24_bridge.crm_refs import EntityType
from bx24_bridge.payloads import CallDirection
from callcard.callstate import Phase
from callcard.i18n import CATALOGUE, FALLBACK, Translator, pick_language
from callcard.sip import _KEYS as SIP_KEYS
from callcard.sip import GENERIC_KEY

ROOT = Path(__file__).resolve().parents[2]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_languages() -> None:
    assert set(CATALOGUE) == {"en", "ru"}
    assert FALLBACK == "en"


def test_same_keys_in_both_languages() -> None:
    assert set(CATALOGUE["en"]) == set(CATALOGUE["ru"])


@pytest.mark.parametrize("lang", sorted(CATALOGUE))
def test_no_empty_strings(lang: str) -> None:
    for key, text in CATALOGUE[lang].items():
        assert text.strip(), key
        assert text == text.strip(), key


def test_every_english_placeholder_exists_in_russian() -> None:
    for key, text in CATALOGUE["en"].items():
        assert _placeholders(text) <= _placeholders(CATALOGUE["ru"][key]), key


def test_templates_parse() -> None:
    for lang in CATALOGUE.values():
        for text in lang.values():
            assert all(name.isidentifier() for name in _placeholders(text))


def test_everything_the_card_names_has_words() -> None:
    keys = set(CATALOGUE["en"])
    needed = {f"phase.{phase.value}" for phase in Phase}
    needed |= {f"direction.{direction.value}" for direction in CallDirection}
    needed |= set(SIP_KEYS.values()) | {GENERIC_KEY}
    needed |= {f"crm.kind.{kind.path_segment}" for kind in EntityType}
    needed |= {"list_mode", "crm.link.unnamed", "crm.unbound", "line.none"}
    needed |= {"phase.not_connected", "hold.during", "hold.until", "hold.close_now"}
    needed |= {"number.hidden", "number.unknown", "label.client", "label.crm", "label.line"}
    assert needed <= keys, needed - keys


# : Where the catalogue's words are asked for: the app, the server's first view, the install page.
SOURCES = [*(ROOT / "callcard").glob("*.py"), *(ROOT / "cardserver").glob("*.py"),
           ROOT / "main.py", ROOT / "install.py"]


def test_every_word_in_the_catalogue_is_asked_for() -> None:
    """A key no code names is dead weight that translators keep in step for nothing. A key is named
    literally ("label.line") or through its family (f"phase.{...}")."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in SOURCES
                     if path.name != "i18n.py")
    families = set(re.findall(r'f"([a-z_.]+\.)\{', text))
    unused = {key for key in CATALOGUE["en"]
              if f'"{key}"' not in text and f"'{key}'" not in text
              and key.rsplit(".", 1)[0] + "." not in families}
    assert not unused, sorted(unused)


def test_failure_texts_carry_the_code() -> None:
    for lang in CATALOGUE.values():
        for key in {*SIP_KEYS.values(), GENERIC_KEY}:
            assert _placeholders(lang[key]) == {"code"}, key


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("ru", "ru"),
        ("RU", "ru"),
        (" ru ", "ru"),
        ("en", "en"),
        ("de", "en"),
        ("ua", "ru"),
        ("", "en"),
        (None, "en"),
        (5, "en"),
    ],
)
def test_pick_language(lang: object, expected: str) -> None:
    assert pick_language(lang) == expected


def test_words() -> None:
    en, ru = Translator("en"), Translator("ru")
    assert (en("phase.waiting"), ru("phase.waiting")) == ("Waiting", "Ожидание")
    assert (en("phase.connecting"), ru("phase.connecting")) == ("Connecting", "Соединение")
    assert (en("phase.talking"), ru("phase.talking")) == ("Talking", "Разговор")
    assert (en("phase.ended"), ru("phase.ended")) == ("Ended", "Звонок завершён")
    assert (en("list_mode"), ru("list_mode")) == ("Call list", "Обзвон")
    assert (en("crm.kind.deal"), ru("crm.kind.company")) == ("deal", "компания")
    assert (en("crm.unbound"), ru("crm.unbound")) == ("Not linked to CRM", "Не привязан к CRM")


def test_unknown_language_and_key() -> None:
    assert Translator("de").lang == "en"
    assert Translator("ru")("no.such.key") == "no.such.key"


def test_format_fills_placeholders() -> None:
    assert Translator("en").format("notes.other", client="Ivan", state="saving…") == (
        "Ivan: saving…"
    )
    assert Translator("ru").format("crm.link.unnamed", id=17) == "№17"
    assert Translator("en").format("failure.generic", code="499") == "Call failed (499)"


def test_format_never_raises_on_missing_values() -> None:
    en = Translator("en")
    assert en.format("notes.other", client="Deal") == "Deal: {state}"
    assert en.format("notes.other") == "{client}: {state}"
    assert en.format("phase.talking", unused="x") == "Talking"
    assert en.format("no.such.key", a=1) == "no.such.key"


def test_format_inserts_values_as_plain_text() -> None:
    en = Translator("en")
    hostile = "<img src=x onerror=alert(1)> {id} {0} {__class__}"
    assert en.format("notes.other", client=hostile, state=5) == f"{hostile}: 5"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30) | st.integers())
def test_format_property(kind: str, number: object) -> None:
    for lang in CATALOGUE:
        text = Translator(lang).format("notes.other", client=kind, state=number)
        assert text.startswith(kind) and text.endswith(str(number))


@pytest.mark.parametrize("template", ["{0}", "{a.b}", "{a[0]}", "{", "}", "{a:>{b}}x", "{a!z}"])
def test_format_survives_a_broken_template(template: str) -> None:
    t = Translator("en")
    t._strings = {"broken": template}  # a bad translation must not take the card down
    assert isinstance(t.format("broken"), str)
    assert isinstance(t.format("broken", a="1"), str)


def test_format_takes_any_value_name() -> None:
    t = Translator("en")
    t._strings = {"x": "{key} {self}"}
    assert t.format("x", key="k", self="s") == "k s"
    assert isinstance(t.format("crm.link.unnamed", id=10**5000), str)  # str() would raise
