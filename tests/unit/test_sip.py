"""callcard.sip: SIP failure codes in words, with the code kept for support."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcard.i18n import CATALOGUE, Translator
from callcard.sip import GENERIC_KEY, failure_key, failure_text

EN = Translator("en")
RU = Translator("ru")


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("402", "failure.no_funds"),
        ("403", "failure.forbidden"),
        ("404", "failure.not_found"),
        ("408", "failure.no_answer"),
        ("480", "failure.unavailable"),
        ("484", "failure.incomplete"),
        ("486", "failure.busy"),
        ("487", "failure.cancelled"),
        ("503", "failure.line_down"),
        ("603", "failure.declined"),
        ("304", "failure.missed"),  # Bitrix24's CALL_FAILED_CODE for a missed call
        ("423", "failure.blocked"),
        (" 486 ", "failure.busy"),
    ],
)
def test_named_codes(code: str, key: str) -> None:
    assert failure_key(code) == key
    assert key in CATALOGUE["en"] and key in CATALOGUE["ru"]


@pytest.mark.parametrize("code", ["400", "499", "500", "599", "606", "699"])
def test_other_failures_are_generic(code: str) -> None:
    assert failure_key(code) == GENERIC_KEY


@pytest.mark.parametrize(
    "code",
    [None, "", "200", "183", "399", "700", "999", "48", "4860", "abc", "4 86", "٤٨٦", 486],
)
def test_no_failure(code: object) -> None:
    assert failure_key(code) is None  # type: ignore[arg-type]
    assert failure_text(code, EN) is None  # type: ignore[arg-type]


def test_texts_in_both_languages() -> None:
    assert failure_text("486", EN) == "Busy (486)"
    assert failure_text("486", RU) == "Занято (486)"
    assert failure_text("480", EN) == "Temporarily unavailable (480)"
    assert failure_text("499", EN) == "Call failed (499)"
    assert failure_text("499", RU) == "Звонок не удался (499)"
    assert failure_text(" 603 ", EN) == "Call declined (603)"
    assert failure_text(None, RU) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=8) | st.none())
def test_text_always_carries_the_code(code: str | None) -> None:
    text = failure_text(code, EN)
    if text is None:
        assert failure_key(code) is None
    else:
        assert text.endswith(f"({code.strip()})")  # type: ignore[union-attr]
