"""callcard.phone.format_number: readable numbers, never a lost digit, never an exception."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcard.phone import format_number

SETTINGS = settings(max_examples=300, deadline=None)


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("+79001234567", "+7 900 123-45-67"),
        ("+77011234567", "+7 701 123-45-67"),  # Kazakhstan shares +7
        ("+14155550132", "+1 415 555-0132"),
        ("+442079460958", "+44 20 7946 0958"),
        ("+447700900123", "+44 7700 900123"),
        ("+441134960000", "+44 113 496 0000"),
        ("+441632960123", "+44 1632 960123"),
        ("+4930123456", "+49 30 123456"),
        ("+4915123456789", "+49 151 23456789"),
        ("+49221123456", "+49 221 123456"),
        ("+375291234567", "+375 29 123-45-67"),
        ("+380441234567", "+380 44 123 4567"),
        ("+33123456789", "+33 1 23 45 67 89"),
        ("+998901234567", "+998 90 123 45 67"),
        ("+8613800138000", "+86 138 0013 8000"),
        ("+905321234567", "+90 532 123 45 67"),
    ],
)
def test_known_countries(number: str, shown: str) -> None:
    assert format_number(number) == shown


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("+3595551234", "+359 555 1234"),  # a code without a rule: groups of 3, last 4
        ("+2125512345678", "+212 551 234 5678"),
        ("+79", "+7 9"),  # too short for the template: still grouped, nothing lost
        ("+7900123456789", "+7 90 012 345 6789"),  # too long for the Russian template
        ("+7", "+7"),
        ("+999123", "+99 9123"),  # no such country code: generic grouping
    ],
)
def test_generic_grouping(number: str, shown: str) -> None:
    assert format_number(number) == shown


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("89001234567", "8 900 123-45-67"),  # Russian with the trunk 8 kept
        ("79001234567", "7 900 123-45-67"),
        ("101", "101"),  # internal extensions as they are
        ("123456", "123456"),
        ("1234567", "123 4567"),
        ("0123456789", "012 345 6789"),
        ("  +79001234567  ", "+7 900 123-45-67"),
        ("+7 (900) 123-45-67", "+7 900 123-45-67"),  # typed separators are regrouped
        ("8-900-123-45-67", "8 900 123-45-67"),
    ],
)
def test_without_plus_and_separators(number: str, shown: str) -> None:
    assert format_number(number) == shown


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "+",
        "abc",
        "sip:100@pbx.example",
        "*100#",
        "+7900+123",
        "<b>+7900</b>",
        "79001234567\u202e",
        "٣٤٥٦٧٨٩",  # non-ASCII digits are not regrouped
        "x" * 200,
    ],
)
def test_anything_else_comes_back_stripped_but_unchanged(junk: str) -> None:
    assert format_number(junk) == junk
    assert format_number(f"  {junk}\n") == junk


def test_not_a_string_is_empty() -> None:
    assert format_number(None) == ""  # type: ignore[arg-type]
    assert format_number(79001234567) == ""  # type: ignore[arg-type]


@SETTINGS
@given(st.booleans(), st.text(alphabet="0123456789", max_size=40))
def test_digits_are_kept_in_order(plus: bool, digits: str) -> None:
    number = ("+" if plus else "") + digits
    shown = format_number(number)
    assert re.sub(r"[^0-9]", "", shown) == digits
    assert shown.startswith("+") == plus
    assert re.fullmatch(r"\+?[0-9 \-]*", shown)
    assert "  " not in shown and shown == shown.strip()


@SETTINGS
@given(st.text(max_size=60))
def test_never_raises(text: str) -> None:
    assert isinstance(format_number(text), str)


def test_a_callers_digits_are_its_ascii_digits_and_none_for_no_number() -> None:
    from bx24_bridge.phone_numbers import HIDDEN_NUMBER, UNKNOWN_NUMBER, CallerNumber
    from callcard.phone import caller_digits

    assert caller_digits(CallerNumber("number", "+7 (900) 123-45-67")) == "79001234567"
    assert caller_digits(CallerNumber("number", "79001234567")) == "79001234567"
    assert caller_digits(HIDDEN_NUMBER) == caller_digits(UNKNOWN_NUMBER) == ""
    assert caller_digits(None) == ""
