"""Call-back reminders (callcard/callbacks.py): when "call back at…" means, the to-do's
parameters, and the rules that make it reach the CRM exactly once: one to-do per client and card,
moved rather than added again, looked for after an unanswered add, retried after a passing failure,
and stored so a reload finishes it."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcard.callbacks import (
    Choice,
    CreateTodo,
    FindTodo,
    MoveTodo,
    Reminders,
    ReminderState,
    ReminderStore,
    deadline_text,
    find_params,
    found_todo,
    parse_choice,
    reminder_time,
    todo_params,
)
from callcard.comment import CommentTarget, EntityType, SaveProblem
from callcard.drafts import MemoryStore

NOW = datetime(2026, 12, 2, 14, 37, 12)
CONTACT, LEAD = CommentTarget(EntityType.CONTACT, 17), CommentTarget(EntityType.LEAD, 31)
AT_3PM = datetime(2026, 12, 3, 15, 0)


def choose(reminders: Reminders, target: CommentTarget = CONTACT,
           when: datetime = AT_3PM) -> list[object]:
    return list(reminders.choose(target, when, 180, "Call back Ivan Petrov",
                                 "Call back +79001234567."))


# ----------------------------------------------------------------------- when and what


def test_the_quick_choices_are_in_an_hour_and_tomorrow_morning() -> None:
    assert reminder_time(Choice.IN_HOUR, NOW) == datetime(2026, 12, 2, 15, 37)
    assert reminder_time(Choice.TOMORROW, NOW) == datetime(2026, 12, 3, 10, 0)
    assert reminder_time(Choice.TOMORROW, datetime(2026, 12, 31, 23, 59)) == datetime(2027, 1, 1,
                                                                                       10, 0)


@pytest.mark.parametrize(("given_at", "expected"), [
    ("2026-12-03T15:00", AT_3PM),
    ("2026-12-02T14:38", datetime(2026, 12, 2, 14, 38)),
    ("2026-12-02T14:37", None),  # now is not "later"
    ("2026-12-01T09:00", None),
    ("2028-01-01T09:00", None),  # more than a year ahead: a typo
    ("", None), ("tomorrow", None), ("<script>", None), (None, None), (1764680000, None),
    ("2026-12-03T15:00" + "0" * 40, None),
])
def test_a_chosen_moment_must_be_in_the_future(given_at: object, expected: object) -> None:
    assert reminder_time(Choice.AT, NOW, given_at) == expected


def test_only_known_choices_are_read() -> None:
    assert parse_choice("hour") is Choice.IN_HOUR
    assert [parse_choice(v) for v in ("HOUR", "", None, 1, "at ")] == [None] * 5


def test_the_deadline_carries_the_operators_offset_and_the_operator_is_responsible() -> None:
    assert deadline_text(AT_3PM, 180) == "2026-12-03T15:00:00+03:00"
    assert deadline_text(AT_3PM, -330) == "2026-12-03T15:00:00-05:30"
    reminders = Reminders()
    [create] = choose(reminders, LEAD)
    assert isinstance(create, CreateTodo)
    assert todo_params(create.reminder, 7) == {
        "ownerTypeId": 1, "ownerId": 31, "deadline": "2026-12-03T15:00:00+03:00",
        "title": "Call back Ivan Petrov", "description": "Call back +79001234567.",
        "responsibleId": 7,
    }
    assert find_params(create.reminder)["filter"] == {
        "OWNER_TYPE_ID": 1, "OWNER_ID": 31, "PROVIDER_ID": "CRM_TODO",
        "SUBJECT": "Call back Ivan Petrov"}


def test_the_to_do_found_is_the_one_with_this_subject_and_moment_in_any_zone() -> None:
    [create] = choose(Reminders())
    reminder = create.reminder  # type: ignore[attr-defined]
    rows = [
        {"ID": "5", "SUBJECT": "Call back Ivan Petrov", "DEADLINE": "2026-12-03T16:00:00+03:00"},
        {"ID": "6", "SUBJECT": "Other", "DEADLINE": "2026-12-03T15:00:00+03:00"},
        {"ID": "7", "SUBJECT": "Call back Ivan Petrov", "DEADLINE": "2026-12-03T13:00:00+01:00"},
    ]
    assert found_todo(rows, reminder) == 7
    assert found_todo(rows[:2], reminder) is None
    for junk in (None, "x", {"ID": 7}, [None, 3, {"DEADLINE": 5}], [{"DEADLINE": "soon"}]):
        assert found_todo(junk, reminder) is None


# ----------------------------------------------------------------------- exactly once


def test_a_reminder_is_created_once_and_another_time_moves_it() -> None:
    reminders = Reminders()
    [create] = choose(reminders)
    assert isinstance(create, CreateTodo) and reminders.holding
    assert reminders.created(create.attempt, 901, AT_3PM) == []
    reminder = reminders.of(CONTACT)
    assert reminder is not None and reminder.state is ReminderState.CREATED
    assert not reminders.holding
    later = datetime(2026, 12, 4, 10, 0)
    [move] = choose(reminders, when=later)
    assert isinstance(move, MoveTodo) and move.reminder.todo_id == 901
    assert reminders.created(move.attempt, 901, later) == []
    assert not reminders.holding and len(reminders.all()) == 1


def test_a_second_choice_while_the_first_is_on_its_way_waits_for_it() -> None:
    reminders = Reminders()
    [create] = choose(reminders)
    later = datetime(2026, 12, 4, 10, 0)
    assert choose(reminders, when=later) == []  # never two requests for one client
    [move] = reminders.created(create.attempt, 901, AT_3PM)
    assert isinstance(move, MoveTodo)
    reminders.created(move.attempt, 901, later)
    assert not reminders.holding


def test_after_an_unanswered_add_the_card_looks_before_adding_again() -> None:
    reminders = Reminders(retry_every=30)
    [create] = choose(reminders)
    assert reminders.failed(create.attempt, SaveProblem.TIMEOUT, 100.0) == []
    reminder = reminders.of(CONTACT)
    assert reminder is not None and reminder.state is ReminderState.RETRYING
    assert reminders.holding
    assert reminders.tick(110.0) == []
    [find] = reminders.tick(130.0)
    assert isinstance(find, FindTodo)
    assert reminders.found(find.attempt, 905, AT_3PM) == []  # it was there: not added again
    assert reminder.todo_id == 905 and not reminders.holding


def test_a_look_that_finds_nothing_adds_it() -> None:
    reminders = Reminders()
    [create] = choose(reminders)
    reminders.failed(create.attempt, SaveProblem.TIMEOUT, 0.0)
    [find] = reminders.closing()  # the card is closing: one more try now
    [again] = reminders.found(find.attempt, None, AT_3PM)
    assert isinstance(again, CreateTodo)


def test_a_refused_reminder_says_so_and_stops_holding_the_card() -> None:
    reminders = Reminders()
    [create] = choose(reminders)
    reminders.failed(create.attempt, SaveProblem.NO_ACCESS, 0.0)
    reminder = reminders.of(CONTACT)
    assert reminder is not None and reminder.state is ReminderState.FAILED
    assert not reminders.holding and reminders.tick(1000.0) == []
    [retry] = choose(reminders)  # the operator may try again
    assert isinstance(retry, CreateTodo)


def test_a_to_do_deleted_in_the_crm_is_created_anew_when_moved() -> None:
    reminders = Reminders()
    [create] = choose(reminders)
    reminders.created(create.attempt, 901, AT_3PM)
    [move] = choose(reminders, when=datetime(2026, 12, 5, 9, 0))
    [recreate] = reminders.failed(move.attempt, SaveProblem.COMMENT_GONE, 0.0)
    assert isinstance(recreate, CreateTodo)


def test_late_or_stray_answers_change_nothing() -> None:
    reminders = Reminders()
    [create] = choose(reminders)
    assert reminders.created(create.attempt + 5, 1, AT_3PM) == []
    assert reminders.failed(create.attempt + 5, SaveProblem.TIMEOUT, 0.0) == []
    assert reminders.holding


def test_each_client_has_its_own_reminder() -> None:
    reminders = Reminders()
    [a] = choose(reminders, CONTACT)
    [b] = choose(reminders, LEAD)
    assert {a.reminder.target, b.reminder.target} == {CONTACT, LEAD}  # type: ignore[attr-defined]


# ----------------------------------------------------------------------- the store


def test_a_reload_finishes_a_reminder_and_does_not_add_it_twice() -> None:
    store = MemoryStore()
    reminders = Reminders()
    [create] = choose(reminders)
    keeper = ReminderStore(store, "portal.bitrix24.ru")
    record = reminders.record(CONTACT, 1000.0)
    assert record is not None and keeper.save("call-1", record)
    # The page died before the answer. The next card of this call looks before adding.
    again = Reminders()
    [loaded] = keeper.load("call-1")
    [find] = again.restore(loaded)
    assert isinstance(find, FindTodo) and find.reminder.when == AT_3PM
    assert find.reminder.title == create.reminder.title  # type: ignore[attr-defined]
    assert keeper.load("call-2") == []


def test_a_created_reminder_restored_is_not_sent_again() -> None:
    store = MemoryStore()
    reminders = Reminders()
    [create] = choose(reminders)
    reminders.created(create.attempt, 901, AT_3PM)
    keeper = ReminderStore(store, "p")
    record = reminders.record(CONTACT, 1000.0)
    assert record is not None and record.done
    keeper.save("c", record)
    again = Reminders()
    assert again.restore(keeper.load("c")[0]) == []
    assert not again.holding


def test_old_and_corrupt_reminders_are_pruned_and_storage_errors_never_raise() -> None:
    store = MemoryStore({"callcard:todo:v1:p:c:contact-1": "{not json",
                         "callcard:todo:v1:p:c:contact-2": json.dumps({"client": 1}),
                         "callcard:draft:v2:p:c:contact-1": "{}"})
    keeper = ReminderStore(store, "p")
    reminders = Reminders()
    choose(reminders)
    record = reminders.record(CONTACT, 0.0)
    assert record is not None
    keeper.save("c", record)
    keeper.prune(8 * 24 * 3600.0)
    assert store.keys() == ["callcard:draft:v2:p:c:contact-1"], "only our own keys are touched"

    class Broken(MemoryStore):
        def set(self, key: str, value: str) -> None:
            raise OSError("quota")

        def keys(self) -> list[str]:
            raise OSError("denied")

    broken = ReminderStore(Broken(), "p")
    assert not broken.save("c", record)
    assert broken.load("c") == []
    broken.prune(0.0)


@given(st.dictionaries(st.sampled_from(["client", "when", "offset", "title", "text", "todo_id",
                                        "done", "updated"]),
                       st.none() | st.booleans() | st.integers() | st.text(max_size=20)))
def test_whatever_the_store_holds_a_restore_never_raises(record: dict[str, object]) -> None:
    store = MemoryStore({"callcard:todo:v1:p:c:x": json.dumps(record)})
    for stored in ReminderStore(store, "p").load("c"):
        Reminders().restore(stored)
