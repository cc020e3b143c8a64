"""The timeline comment: where it goes, its header, and how a REST failure reads."""

from __future__ import annotations

from datetime import datetime

import pytest

from bx24_bridge.crm_refs import CrmRef, EntityType
from bx24_bridge.payloads import CallDirection, CallStatus
from bx24_bridge.phone_numbers import HIDDEN_NUMBER, UNKNOWN_NUMBER, CallerNumber
from callcard.comment import (
    MAX_NOTE_LEN,
    CommentHeader,
    CommentTarget,
    SaveProblem,
    choose_target,
    client_words,
    compose_comment,
    header_fields,
    header_from_fields,
    problem_for_code,
    target_from_key,
)
from callcard.i18n import Translator

EN, RU = Translator("en"), Translator("ru")
HEADER = CommentHeader(
    CallDirection.INCOMING, CallerNumber("number", "+79001234567"), datetime(2026, 11, 24, 14, 5)
)


def test_target_fields_are_exactly_the_rest_fields() -> None:
    assert CommentTarget(EntityType.CONTACT, 5).fields("hi") == {
        "ENTITY_ID": 5,
        "ENTITY_TYPE": "contact",
        "COMMENT": "hi",
    }
    assert CommentTarget(EntityType.DEAL, 1).fields("x")["ENTITY_TYPE"] == "deal"
    assert CommentTarget(EntityType.LEAD, 31).key == "lead-31"


@pytest.mark.parametrize("entity_id", [0, -1, True, 2**53, "5"])
def test_target_rejects_bad_ids(entity_id: object) -> None:
    with pytest.raises(ValueError):
        CommentTarget(EntityType.LEAD, entity_id)  # type: ignore[arg-type]


def test_target_rejects_a_plain_string_type() -> None:
    with pytest.raises(ValueError):
        CommentTarget("lead", 5)  # type: ignore[arg-type]


def test_choose_target_prefers_the_primary_item_then_the_first_binding() -> None:
    deal, contact, company = (
        CrmRef(EntityType.DEAL, 1),
        CrmRef(EntityType.CONTACT, 2),
        CrmRef(EntityType.COMPANY, 3),
    )
    assert choose_target(CallStatus(entity=deal, bindings=(contact,))) == CommentTarget(
        EntityType.DEAL, 1
    )
    assert choose_target(CallStatus(bindings=(company, contact))) == CommentTarget(
        EntityType.COMPANY, 3
    )
    assert choose_target(CallStatus()) is None
    assert CommentTarget.from_ref(contact) == CommentTarget(EntityType.CONTACT, 2)


def test_compose_comment_header_and_body() -> None:
    text = "  Client asks for a callback.\n\nTomorrow, after 10.  \n"
    assert compose_comment(HEADER, text, EN) == (
        "Incoming call, +79001234567, 24.11.2026 14:05\n\n"
        "Client asks for a callback.\n\nTomorrow, after 10."
    )


def test_the_header_names_the_client_it_is_about() -> None:
    header = CommentHeader(HEADER.direction, HEADER.number, HEADER.started, "Ivan Petrov")
    assert compose_comment(header, "x", EN).split("\n\n")[0] == (
        "Incoming call, +79001234567, Ivan Petrov, 24.11.2026 14:05"
    )


def test_compose_comment_in_russian() -> None:
    header = CommentHeader(CallDirection.OUTGOING, HIDDEN_NUMBER, datetime(2026, 1, 2, 3, 4))
    assert compose_comment(header, "Перезвонить", RU) == (
        "Исходящий звонок, Скрытый номер, 02.01.2026 03:04\n\nПерезвонить"
    )


@pytest.mark.parametrize(
    ("direction", "number", "line"),
    [
        (CallDirection.CALLBACK, UNKNOWN_NUMBER, "callback, number.unknown"),
        (CallDirection.INCOMING_TRANSFER, HIDDEN_NUMBER, "incomingTransfer, number.hidden"),
        (CallDirection.UNKNOWN, CallerNumber("number", "101"), "unknown, 101"),
    ],
)
def test_compose_comment_uses_the_catalogue_keys(
    direction: CallDirection, number: CallerNumber, line: str
) -> None:
    def keys(key: str) -> str:
        return key.removeprefix("direction.")

    header = CommentHeader(direction, number, datetime(2026, 11, 24, 9, 7))
    assert compose_comment(header, "x", keys) == f"{line}, 24.11.2026 09:07\n\nx"


def test_compose_comment_without_header_and_capped() -> None:
    assert compose_comment(None, " just text ", EN) == "just text"
    long = "a" * (MAX_NOTE_LEN + 50)
    assert compose_comment(None, long, EN) == "a" * MAX_NOTE_LEN
    assert compose_comment(HEADER, "  ", EN) == "Incoming call, +79001234567, 24.11.2026 14:05"


def test_client_words_name_or_type_and_number() -> None:
    contact = CommentTarget(EntityType.CONTACT, 17)
    assert client_words(contact, "Ivan Petrov", EN) == "Ivan Petrov"
    assert client_words(contact, None, EN) == "contact 17"
    assert client_words(CommentTarget(EntityType.DEAL, 9), "", RU) == "сделка 9"


@pytest.mark.parametrize(
    ("code", "updating", "problem"),
    [
        (None, False, SaveProblem.TIMEOUT),
        ("ACCESS_DENIED", False, SaveProblem.NO_ACCESS),
        ("insufficient_scope", True, SaveProblem.NO_ACCESS),
        ("NOT_FOUND", True, SaveProblem.COMMENT_GONE),
        ("NOT_FOUND", False, SaveProblem.ITEM_GONE),
        ("OWNER_NOT_FOUND", True, SaveProblem.ITEM_GONE),
        ("INVALID_ARG_VALUE", False, SaveProblem.UNAVAILABLE),
        ("QUERY_LIMIT_EXCEEDED", False, SaveProblem.UNAVAILABLE),
        ("", False, SaveProblem.UNAVAILABLE),
    ],
)
def test_rest_codes_become_problems_the_operator_can_act_on(
    code: str | None, updating: bool, problem: SaveProblem
) -> None:
    assert problem_for_code(code, updating=updating) is problem


@pytest.mark.parametrize("problem", list(SaveProblem))
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_problem_has_words_in_both_languages(problem: SaveProblem, lang: str) -> None:
    words = Translator(lang)(problem.value)
    assert words != problem.value and "crm." not in words and "_" not in words


def test_a_target_round_trips_through_its_key() -> None:
    for target in (CommentTarget(EntityType.CONTACT, 17), CommentTarget(EntityType.LEAD, 1)):
        assert target_from_key(target.key) == target


@pytest.mark.parametrize(
    "text", ["", "contact", "contact-", "contact-0", "Contact-17", "CONTACT-17", "order-5",
             "contact-17-1", "contact- 17", 17, None, "none"],
)
def test_a_key_that_names_no_target_is_none(text: object) -> None:
    assert target_from_key(text) is None


def test_a_header_round_trips_through_the_store() -> None:
    named = CommentHeader(HEADER.direction, HEADER.number, HEADER.started, "Ivan")
    for header in (HEADER, named,
                   CommentHeader(CallDirection.CALLBACK, HIDDEN_NUMBER, HEADER.started)):
        assert header_from_fields(header_fields(header)) == header


@pytest.mark.parametrize(
    "fields",
    [None, [], {}, {"started": "yesterday"}, {"started": 5}, {"started": "2026-13-01T00:00"}],
)
def test_stored_header_facts_that_make_no_header_are_none(fields: object) -> None:
    assert header_from_fields(fields) is None


def test_odd_stored_header_facts_are_read_as_words() -> None:
    header = header_from_fields({"started": "2026-11-24T14:05", "direction": "<b>",
                                 "number": "\u202e123", "client": 5})
    assert header == CommentHeader(CallDirection.UNKNOWN, UNKNOWN_NUMBER, HEADER.started)
