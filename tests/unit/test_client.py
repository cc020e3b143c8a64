"""Unit tests of callcard.client: what is fetched for a client, what the card shows, and the
loader that follows every CallCard::EntityChanged without ever letting a stale answer win.

The host's rules are in docs/host-contract.md. Async tests run each scenario with ``asyncio.run``;
the fake portal below holds chosen answers back on asyncio.Events, so a test decides exactly which
answer arrives first.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pytest
from aio import run, settle

from bx24_bridge.crm_refs import CrmRef, EntityType
from bx24_bridge.errors import BridgeUnavailable, ParseError, RestError, RestTimeout
from bx24_bridge.rest import RestOutcome
from callcard.client import (
    COMMENT,
    COMPANY,
    CONTACT,
    DEALS,
    FAILURE_RETRY_AFTER,
    ITEM,
    LAST,
    MAX_NAME_LEN,
    PROBLEM_NO_ACCESS,
    PROBLEM_NOT_FOUND,
    PROBLEM_UNAVAILABLE,
    STAGES,
    USER,
    ClientComment,
    ClientDeal,
    ClientInfo,
    ClientLoader,
    Plan,
    build_client,
    clean_text,
    plan_batch,
    problem_for,
)

CONTACT_17 = CrmRef(EntityType.CONTACT, 17)
COMPANY_5 = CrmRef(EntityType.COMPANY, 5)
LEAD_3 = CrmRef(EntityType.LEAD, 3)
DEAL_9 = CrmRef(EntityType.DEAL, 9)
DEAL_12 = CrmRef(EntityType.DEAL, 12)
LAST_KEYS = [LAST, "last_by0", "last_by1", COMMENT, "comment_by"]

USER_ANNA = [{"ID": "1", "NAME": "Anna", "LAST_NAME": "Smirnova", "SECOND_NAME": "Petrovna"}]



def ok(data: Any) -> RestOutcome:
    return RestOutcome(data=data)


def failed(code: str, method: str = "crm.item.get") -> RestOutcome:
    return RestOutcome(error=RestError(method, code, "some description"))


def item(**fields: Any) -> RestOutcome:
    return ok({"item": fields})


def contact_answers(**fields: Any) -> dict[str, RestOutcome]:
    """A full, successful batch for CONTACT_17 (fields override the contact's own)."""
    contact = {"id": 17, "name": "Ivan", "lastName": "Petrov", "companyId": 5, "assignedById": 1}
    contact.update(fields)
    return {
        ITEM: ok({"item": contact}),
        COMPANY: item(id=5, title="Romashka LLC"),
        USER: ok(USER_ANNA),
    }


# --------------------------------------------------------------------------- plan_batch


def test_plan_for_a_contact_reads_item_company_and_user_in_one_batch() -> None:
    plan = plan_batch(CONTACT_17)
    assert plan == {
        ITEM: ("crm.item.get", {"entityTypeId": 3, "id": 17}),
        COMPANY: ("crm.item.get", {"entityTypeId": 4, "id": "$result[item][item][companyId]"}),
        USER: ("user.get", {"ID": "$result[item][item][assignedById]"}),
        DEALS: ("crm.item.list", {
            "entityTypeId": 2, "filter": {"contactId": 17, "stageSemanticId": "P"},
            "select": ["id", "title", "stageId", "opportunity", "currencyId"],
            "order": {"id": "desc"},
        }),
        STAGES: ("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}}),
        LAST: ("crm.activity.list", {
            "filter": {"OWNER_TYPE_ID": 3, "OWNER_ID": 17, "!PROVIDER_ID": "CRM_TODO"},
            "order": {"ID": "DESC"},
            "select": ["ID", "TYPE_ID", "DIRECTION", "SUBJECT", "CREATED", "RESPONSIBLE_ID"],
        }),
        "last_by0": ("user.get", {"ID": "$result[last][0][RESPONSIBLE_ID]"}),
        "last_by1": ("user.get", {"ID": "$result[last][1][RESPONSIBLE_ID]"}),
        COMMENT: ("crm.timeline.comment.list", {
            "filter": {"ENTITY_ID": 17, "ENTITY_TYPE": "contact"},
            "select": ["ID", "CREATED", "AUTHOR_ID", "COMMENT"],
            "order": {"CREATED": "DESC"},
        }),
        "comment_by": ("user.get", {"ID": "$result[comment][0][AUTHOR_ID]"}),
    }
    assert next(iter(plan)) == ITEM  # the referenced call comes first


def test_plan_for_a_deal_adds_its_contact() -> None:
    plan = plan_batch(DEAL_9)
    assert list(plan) == [ITEM, COMPANY, CONTACT, USER, *LAST_KEYS]
    assert plan[ITEM] == ("crm.item.get", {"entityTypeId": 2, "id": 9})
    assert plan[CONTACT] == (
        "crm.item.get",
        {"entityTypeId": 3, "id": "$result[item][item][contactId]"},
    )


def test_plan_for_a_lead_reads_item_and_user() -> None:
    plan = plan_batch(LEAD_3)
    assert list(plan) == [ITEM, USER, *LAST_KEYS]
    assert plan[ITEM] == ("crm.item.get", {"entityTypeId": 1, "id": LEAD_3.id})


def test_plan_for_a_company_reads_item_user_and_its_open_deals() -> None:
    plan = plan_batch(COMPANY_5)
    assert list(plan) == [ITEM, USER, DEALS, STAGES, *LAST_KEYS]
    assert plan[ITEM] == ("crm.item.get", {"entityTypeId": 4, "id": COMPANY_5.id})
    _, params = plan[DEALS]
    assert params["filter"] == {"companyId": 5, "stageSemanticId": "P"}


# --------------------------------------------------------------------------- open deals

DEAL_ROWS = {"items": [
    {"id": 12, "title": "Second licence pack", "stageId": "PREPARATION", "opportunity": "45000.50",
     "currencyId": "rub"},
    {"id": 9, "title": "Annual  support\n— Romashka", "stageId": "NEW", "opportunity": 120000,
     "currencyId": "RUB"},
    {"id": "x", "title": "no id: skipped"},
    "not a row",
]}
STAGE_ROWS = [{"STATUS_ID": "NEW", "NAME": "New"}, {"STATUS_ID": "WON", "NAME": "Won"},
              {"STATUS_ID": "", "NAME": "no id"}, None]


def test_a_contact_s_open_deals_come_with_their_stage_names_and_amounts() -> None:
    answers = {**contact_answers(), DEALS: ok(DEAL_ROWS), STAGES: ok(STAGE_ROWS)}
    info = build_client(CONTACT_17, answers)
    assert info.deals == (
        ClientDeal(DEAL_12, "Second licence pack", "", 45000.5, "RUB"),
        ClientDeal(DEAL_9, "Annual support — Romashka", "New", 120000.0, "RUB"),
    )
    assert info.name_of(DEAL_9) == "Annual support — Romashka", "the deals' links get names"
    assert not info.partial


def test_deals_the_portal_would_not_list_leave_the_client_partial_and_shown() -> None:
    answers = {**contact_answers(), DEALS: failed("INTERNAL", "crm.item.list"),
               STAGES: ok(STAGE_ROWS)}
    info = build_client(CONTACT_17, answers)
    assert info.name == "Ivan Petrov" and info.deals == () and info.partial


def test_stage_names_that_did_not_come_leave_the_deals_unnamed_stages() -> None:
    answers = {**contact_answers(), DEALS: ok(DEAL_ROWS),
               STAGES: failed("ACCESS_DENIED", "crm.status.list")}
    info = build_client(CONTACT_17, answers)
    assert [deal.stage for deal in info.deals] == ["", ""] and not info.partial


@pytest.mark.parametrize("rows", [{"items": "nope"}, "nope", None, {"total": 2}])
def test_an_unreadable_deal_list_is_no_list(rows: object) -> None:
    info = build_client(CONTACT_17, {**contact_answers(), DEALS: ok(rows)})
    assert info.deals == () and info.partial


def test_at_most_five_deals_are_kept() -> None:
    many = {"items": [{"id": index, "title": f"Deal {index}"} for index in range(1, 9)]}
    info = build_client(CONTACT_17, {**contact_answers(), DEALS: ok(many)})
    assert [deal.ref.id for deal in info.deals] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("amount", ["", "abc", -5, "inf", True, None, [1]])
def test_an_amount_that_is_not_one_is_none(amount: object) -> None:
    rows = {"items": [{"id": 3, "title": "T", "opportunity": amount}]}
    info = build_client(CONTACT_17, {**contact_answers(), DEALS: ok(rows)})
    assert info.deals[0].amount is None


# --------------------------------------------------------------------------- last contact

ACTIVITIES = [
    {"ID": "311", "TYPE_ID": "2", "DIRECTION": "1", "CREATED": "2026-12-02T10:00:00+03:00",
     "RESPONSIBLE_ID": "1"},
    {"ID": "305", "TYPE_ID": "2", "DIRECTION": "2", "CREATED": "2026-11-28T14:05:00+03:00",
     "RESPONSIBLE_ID": "2"},
    {"ID": "290", "TYPE_ID": "4", "CREATED": "2026-11-20T09:30:00+03:00"},
]
USER_DMITRY = [{"ID": "2", "NAME": "Дмитрий", "LAST_NAME": "Волков"}]


def test_the_latest_two_activities_come_with_who_was_responsible() -> None:
    answers = {**contact_answers(), LAST: ok(ACTIVITIES), "last_by0": ok(USER_ANNA),
               "last_by1": ok(USER_DMITRY)}
    recent = build_client(CONTACT_17, answers).recent
    assert [(a.id, a.kind, a.direction, a.by) for a in recent] == [
        (311, 2, 1, "Anna Smirnova"), (305, 2, 2, "Дмитрий Волков")]
    assert recent[1].when is not None and (recent[1].when.day, recent[1].when.hour) == (28, 14)
    assert recent[1].when.tzinfo is None, "the portal's own wall-clock time"


def test_a_responsible_user_that_is_someone_else_is_not_named() -> None:
    answers = {**contact_answers(), LAST: ok(ACTIVITIES), "last_by0": ok(USER_DMITRY)}
    assert build_client(CONTACT_17, answers).recent[0].by is None


@pytest.mark.parametrize("listed", [failed("ACCESS_DENIED", "crm.activity.list"), ok("nope"),
                                    ok({"x": 1})])
def test_activities_that_did_not_come_are_no_last_contact_and_no_problem(
    listed: RestOutcome,
) -> None:
    info = build_client(CONTACT_17, {**contact_answers(), LAST: listed})
    assert info.recent == () and not info.partial


COMMENTS = [
    {"ID": "41", "CREATED": "2026-11-30T11:20:00+03:00", "AUTHOR_ID": "2",
     "COMMENT": "\n  Просила перезвонить после 15:00  \nподробности в письме"},
    {"ID": "40", "CREATED": "2026-11-01T09:00:00+03:00", "AUTHOR_ID": "1", "COMMENT": "old"},
]


def test_the_latest_comment_comes_with_its_first_line_and_author() -> None:
    answers = {**contact_answers(), COMMENT: ok(COMMENTS), "comment_by": ok(USER_DMITRY)}
    comment = build_client(CONTACT_17, answers).comment
    assert comment == ClientComment(41, datetime(2026, 11, 30, 11, 20), "Дмитрий Волков",
                                    "Просила перезвонить после 15:00")


def test_a_long_or_hostile_comment_line_is_cut_text() -> None:
    rows = [{"ID": "9", "CREATED": "", "AUTHOR_ID": "0", "COMMENT": "<b>x</b>" + "y" * 200}]
    comment = build_client(CONTACT_17, {**contact_answers(), COMMENT: ok(rows)}).comment
    assert comment is not None and comment.when is None and comment.by is None
    assert comment.line.startswith("<b>x</b>yy") and len(comment.line) == 80
    assert comment.line.endswith("…")


@pytest.mark.parametrize("listed", [failed("ACCESS_DENIED", "crm.timeline.comment.list"),
                                    ok("nope"), ok([]), ok([{"ID": "x"}])])
def test_comments_that_did_not_come_are_none_and_no_problem(listed: RestOutcome) -> None:
    info = build_client(CONTACT_17, {**contact_answers(), COMMENT: listed})
    assert info.comment is None and not info.partial


def test_an_unreadable_date_leaves_the_moment_unknown() -> None:
    rows = [{"ID": "5", "TYPE_ID": "2", "CREATED": "yesterday"}]
    assert build_client(CONTACT_17, {**contact_answers(), LAST: ok(rows)}).recent[0].when is None


# --------------------------------------------------------------------------- display names


def test_contact_name_company_and_responsible() -> None:
    info = build_client(CONTACT_17, contact_answers())
    assert info == ClientInfo(
        entity=CONTACT_17,
        name="Ivan Petrov",
        company="Romashka LLC",
        responsible="Anna Smirnova",
        names=((CONTACT_17, "Ivan Petrov"), (COMPANY_5, "Romashka LLC")),
    )


def test_contact_second_name_goes_between() -> None:
    info = build_client(CONTACT_17, contact_answers(secondName="Ivanovich"))
    assert info.name == "Ivan Ivanovich Petrov"


def test_contact_with_only_a_last_name() -> None:
    info = build_client(CONTACT_17, contact_answers(name="", lastName="Petrov"))
    assert info.name == "Petrov"


def test_contact_company_title_on_the_item_wins_over_the_fetched_company() -> None:
    answers = contact_answers(companyTitle="Own Title")
    answers[COMPANY] = failed("NOT_FOUND")
    info = build_client(CONTACT_17, answers)
    assert info.company == "Own Title"
    assert not info.partial  # the company call was not needed


def test_company_is_its_title() -> None:
    answers = {ITEM: item(id=5, title="  Romashka   LLC ", assignedById=1), USER: ok(USER_ANNA)}
    info = build_client(COMPANY_5, answers)
    assert info == ClientInfo(entity=COMPANY_5, name="Romashka LLC", responsible="Anna Smirnova",
                              names=((COMPANY_5, "Romashka LLC"),))


def test_lead_with_a_person_name_shows_the_person_and_its_company_title() -> None:
    answers = {
        ITEM: item(id=3, title="Lead from site", name="Olga", lastName="Ivanova",
                   companyTitle="Vector"),
        USER: failed("ERROR_NOT_FOUND", "user.get"),
    }
    info = build_client(LEAD_3, answers)
    assert (info.name, info.company, info.responsible) == ("Olga Ivanova", "Vector", None)
    assert not info.partial  # no assignedById: nothing was missing


def test_lead_with_only_a_title() -> None:
    info = build_client(LEAD_3, {ITEM: item(id=3, title="Lead from site")})
    assert info.name == "Lead from site"
    assert info.company is None


def test_deal_shows_title_company_and_contact() -> None:
    answers = {
        ITEM: item(id=9, title="Supply of 100 chairs", companyId=5, contactId=17,
                   assignedById="1"),
        COMPANY: item(id=5, title="Romashka LLC"),
        CONTACT: item(id=17, name="Ivan", secondName="Ivanovich", lastName="Petrov"),
        USER: ok(USER_ANNA),
    }
    info = build_client(DEAL_9, answers)
    assert info == ClientInfo(
        entity=DEAL_9,
        name="Supply of 100 chairs",
        company="Romashka LLC",
        contact="Ivan Ivanovich Petrov",
        responsible="Anna Smirnova",
        names=((DEAL_9, "Supply of 100 chairs"), (COMPANY_5, "Romashka LLC"),
               (CrmRef(EntityType.CONTACT, 17), "Ivan Ivanovich Petrov")),
    )


def test_deal_without_company_or_contact_is_complete() -> None:
    # The portal answers the macro calls with errors (id 0/empty): expected, not partial.
    answers = {
        ITEM: item(id=9, title="Deal", companyId=0, contactId=None),
        COMPANY: failed("NOT_FOUND"),
        CONTACT: failed("NOT_FOUND"),
        USER: failed("ERROR_CORE", "user.get"),
    }
    info = build_client(DEAL_9, answers)
    assert (info.company, info.contact, info.responsible, info.partial) == (
        None, None, None, False,
    )


def test_nameless_item_has_an_empty_name() -> None:
    assert build_client(COMPANY_5, {ITEM: item(id=5)}).name == ""


# --------------------------------------------------------------------------- untrusted text


def test_markup_stays_literal_text() -> None:
    info = build_client(COMPANY_5, {ITEM: item(id=5, title="<img src=x onerror=alert(1)>")})
    assert info.name == "<img src=x onerror=alert(1)>"


def test_rtl_override_and_controls_are_neutralised() -> None:
    title = "\u202eevil\u202c\u200b\x00 Corp\r\n\tLtd\u2028\u2066x\u2069"
    info = build_client(COMPANY_5, {ITEM: item(id=5, title=title)})
    assert info.name == "evil Corp Ltd x"


def test_huge_name_is_capped_with_an_ellipsis() -> None:
    info = build_client(CONTACT_17, contact_answers(name="A" * 100_000, lastName="B" * 100_000))
    assert len(info.name) == MAX_NAME_LEN
    assert info.name.endswith("…")
    assert info.name.startswith("AAA")


def test_clean_text_rules() -> None:
    assert clean_text(None) == ""
    assert clean_text(17) == ""
    assert clean_text("  a \u00a0\u3000 b ") == "a b"
    assert clean_text("abcdef", limit=4) == "abc…"
    assert clean_text("ab  cdef", limit=4) == "ab…"  # no dangling space before the ellipsis
    # Persian zero-width non-joiner and emoji joiners survive; Zalgo piles are trimmed.
    assert clean_text("می\u200cخواهم") == "می\u200cخواهم"
    assert clean_text("👩\u200d💻") == "👩\u200d💻"
    assert clean_text("e" + "\u0301" * 50) == "e" + "\u0301" * 4


# --------------------------------------------------------------------------- problems


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("NOT_FOUND", PROBLEM_NOT_FOUND),
        ("ERROR_NOT_FOUND", PROBLEM_NOT_FOUND),
        ("404", PROBLEM_NOT_FOUND),
        ("ACCESS_DENIED", PROBLEM_NO_ACCESS),
        ("ERROR_ACCESS_DENIED", PROBLEM_NO_ACCESS),
        ("insufficient_scope", PROBLEM_NO_ACCESS),
        ("INVALID_CREDENTIALS", PROBLEM_NO_ACCESS),
        ("WRONG_AUTH_TYPE", PROBLEM_NO_ACCESS),
        ("ERROR_CORE", PROBLEM_UNAVAILABLE),
        ("ERROR_METHOD_NOT_FOUND", PROBLEM_UNAVAILABLE),
        ("QUERY_LIMIT_EXCEEDED", PROBLEM_UNAVAILABLE),
        ("UNKNOWN_ERROR", PROBLEM_UNAVAILABLE),
    ],
)
def test_item_error_decides_the_problem(code: str, problem: str) -> None:
    answers = contact_answers()
    answers[ITEM] = failed(code)
    info = build_client(CONTACT_17, answers)
    assert info == ClientInfo(entity=CONTACT_17, problem=problem)


def test_item_timeout_is_unavailable() -> None:
    info = build_client(COMPANY_5, {ITEM: RestOutcome(error=RestTimeout("crm.item.get", 10))})
    assert info.problem == PROBLEM_UNAVAILABLE


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {ITEM: ok(None)},  # the batch had no answer for the key
        {ITEM: ok([])},
        {ITEM: ok({"item": "nope"})},
        {ITEM: item(id=6, title="Someone else")},  # not the item asked for
        {ITEM: "not an outcome"},
    ],
)
def test_unreadable_item_is_unavailable(answers: Mapping[str, Any]) -> None:
    assert build_client(COMPANY_5, answers).problem == PROBLEM_UNAVAILABLE


def test_problem_for_non_rest_errors() -> None:
    assert problem_for(BridgeUnavailable("gone")) == PROBLEM_UNAVAILABLE
    assert problem_for(ParseError("x", "y")) == PROBLEM_UNAVAILABLE
    assert problem_for(RestTimeout("batch", 5)) == PROBLEM_UNAVAILABLE


# --------------------------------------------------------------------------- partial answers


@pytest.mark.parametrize(
    ("key", "outcome"),
    [
        (COMPANY, failed("ACCESS_DENIED")),
        (COMPANY, RestOutcome(error=RestTimeout("crm.item.get", 10))),
        (COMPANY, ok("garbage")),
        (COMPANY, item(id=6, title="Another company")),
        (USER, failed("insufficient_scope", "user.get")),
        (USER, ok([])),
        # user.get answering some other user (an unsubstituted filter) must not be shown
        (USER, ok([{"ID": "2", "NAME": "Boss"}])),
    ],
)
def test_sub_call_failure_drops_only_that_field(key: str, outcome: RestOutcome) -> None:
    answers = contact_answers()
    answers[key] = outcome
    info = build_client(CONTACT_17, answers)
    assert info.problem is None
    assert info.partial
    assert info.name == "Ivan Petrov"
    if key == COMPANY:
        assert (info.company, info.responsible) == (None, "Anna Smirnova")
    else:
        assert (info.company, info.responsible) == ("Romashka LLC", None)


def test_missing_sub_call_answer_is_partial() -> None:
    answers = contact_answers()
    del answers[USER]
    assert build_client(CONTACT_17, answers).partial


def test_deal_contact_failure_is_partial() -> None:
    answers = {
        ITEM: item(id=9, title="Deal", contactId=17),
        CONTACT: failed("ACCESS_DENIED"),
    }
    info = build_client(DEAL_9, answers)
    assert (info.name, info.contact, info.partial) == ("Deal", None, True)


# --------------------------------------------------------------------------- the loader


def ref_of(plan: Plan) -> CrmRef:
    """Which client a batch asks for, read back from its main call."""
    params = plan[ITEM][1]
    kind = next(kind for kind in EntityType if kind.entity_type_id == params["entityTypeId"])
    return CrmRef(kind, params["id"])


def answers_for(ref: CrmRef) -> dict[str, RestOutcome]:
    """A complete answer naming the client after its id, e.g. "Company 5"."""
    return {ITEM: item(id=ref.id, title=f"Company {ref.id}")}


class FakePortal:
    """The ``fetch`` double: one answer (or exception) per client, optionally held back."""

    def __init__(self, answers: Mapping[CrmRef, Any] | None = None) -> None:
        self.answers = dict(answers or {})
        self.calls: list[CrmRef] = []
        self.gates: dict[CrmRef, asyncio.Event] = {}

    def hold(self, ref: CrmRef) -> asyncio.Event:
        """Answers for ``ref`` wait until the returned event is set."""
        self.gates[ref] = asyncio.Event()
        return self.gates[ref]

    async def __call__(self, plan: Plan) -> Mapping[str, RestOutcome]:
        assert plan == plan_batch(ref_of(plan))
        ref = ref_of(plan)
        self.calls.append(ref)
        gate = self.gates.get(ref)
        if gate is not None:
            await gate.wait()
        answer = self.answers.get(ref) or answers_for(ref)
        if isinstance(answer, BaseException):
            raise answer
        return answer


class Recorder:
    """The ``on_change`` double: remembers every (info, ref) delivered."""

    def __init__(self) -> None:
        self.seen: list[tuple[ClientInfo | None, CrmRef | None]] = []

    def __call__(self, info: ClientInfo | None, ref: CrmRef | None) -> None:
        self.seen.append((info, ref))

    @property
    def delivered(self) -> list[ClientInfo]:
        return [info for info, _ in self.seen if info is not None]


def companies(count: int) -> list[CrmRef]:
    return [CrmRef(EntityType.COMPANY, number) for number in range(1, count + 1)]


def test_load_delivers_and_the_cache_costs_nothing() -> None:
    async def scenario() -> None:
        portal, changes = FakePortal(), Recorder()
        loader = ClientLoader(portal, on_change=changes)
        first = await loader.load(COMPANY_5)
        assert first is not None and first.name == "Company 5"
        assert (loader.current, loader.current_ref) == (first, COMPANY_5)
        again = await loader.load(COMPANY_5)
        assert again is first
        assert portal.calls == [COMPANY_5]
        assert changes.seen == [(None, COMPANY_5), (first, COMPANY_5), (first, COMPANY_5)]

    run(scenario())


def test_unbound_shows_nothing_and_fetches_nothing() -> None:
    async def scenario() -> None:
        portal, changes = FakePortal(), Recorder()
        loader = ClientLoader(portal, on_change=changes)
        await loader.load(COMPANY_5)
        assert await loader.load(None) is None
        assert (loader.current, loader.current_ref) == (None, None)
        assert changes.seen[-1] == (None, None)
        assert portal.calls == [COMPANY_5]

    run(scenario())


def test_slow_old_answer_never_beats_the_new_one() -> None:
    async def scenario() -> None:
        a, b = companies(2)
        portal, changes = FakePortal(), Recorder()
        slow_a = portal.hold(a)
        loader = ClientLoader(portal, on_change=changes)
        load_a = asyncio.create_task(loader.load(a))
        await settle()
        info_b = await loader.load(b)
        slow_a.set()
        assert await load_a is None  # superseded: not returned as current
        assert loader.current == info_b and loader.current_ref == b
        assert changes.seen == [(None, a), (None, b), (info_b, b)]
        # A's answer is still correct data for A: going back costs nothing.
        info_a = await loader.load(a)
        assert info_a is not None and info_a.name == "Company 1"
        assert portal.calls == [a, b]

    run(scenario())


@pytest.mark.parametrize("order", ["forward", "backward", "shuffled"])
def test_dialer_mode_always_ends_on_the_last_client(order: str) -> None:
    async def scenario() -> None:
        refs = companies(10)
        portal, changes = FakePortal(), Recorder()
        gates = [portal.hold(ref) for ref in refs]
        loader = ClientLoader(portal, on_change=changes)
        loads = []
        for ref in refs:
            loads.append(asyncio.create_task(loader.load(ref)))
            await asyncio.sleep(0)
        await settle()
        if order == "backward":
            gates.reverse()
        elif order == "shuffled":
            random.Random(1234).shuffle(gates)
        for gate in gates:
            gate.set()
            await settle()
        results = await asyncio.gather(*loads)
        last = refs[-1]
        assert results[:-1] == [None] * 9
        assert results[-1] is not None and results[-1].entity == last
        assert loader.current == results[-1] and loader.current_ref == last
        assert [info.entity for info in changes.delivered] == [last]
        assert changes.seen[-1] == (results[-1], last)
        assert sorted(portal.calls, key=lambda ref: ref.id) == refs  # one batch each

    run(scenario())


def test_same_client_twice_in_flight_shares_one_batch() -> None:
    async def scenario() -> None:
        portal, changes = FakePortal(), Recorder()
        gate = portal.hold(COMPANY_5)
        loader = ClientLoader(portal, on_change=changes)
        first = asyncio.create_task(loader.load(COMPANY_5))
        second = asyncio.create_task(loader.load(COMPANY_5))
        await settle()
        gate.set()
        results = await asyncio.gather(first, second)
        assert portal.calls == [COMPANY_5]
        assert results[0] is None  # the later load of the same client delivers it
        assert results[1] is not None
        assert changes.delivered == [results[1]]

    run(scenario())


def test_going_back_while_the_first_batch_is_in_flight_reuses_it() -> None:
    async def scenario() -> None:
        a, b = companies(2)
        portal = FakePortal()
        gate = portal.hold(a)
        loader = ClientLoader(portal)
        load_a = asyncio.create_task(loader.load(a))
        await settle()
        await loader.load(b)
        load_a_again = asyncio.create_task(loader.load(a))
        await settle()
        gate.set()
        assert await load_a is None
        info = await load_a_again
        assert info is not None and info.entity == a == loader.current_ref
        assert portal.calls == [a, b]

    run(scenario())


def test_switching_client_clears_the_previous_one_while_loading() -> None:
    async def scenario() -> None:
        a, b = companies(2)
        portal, changes = FakePortal(), Recorder()
        loader = ClientLoader(portal, on_change=changes)
        await loader.load(a)
        gate = portal.hold(b)
        load_b = asyncio.create_task(loader.load(b))
        await settle()
        assert loader.current is None and loader.current_ref == b
        assert changes.seen[-1] == (None, b)
        gate.set()
        await load_b

    run(scenario())


def test_failure_is_cached_briefly_then_retried() -> None:
    async def scenario() -> None:
        clock = [100.0]
        portal = FakePortal({COMPANY_5: {ITEM: failed("NOT_FOUND")}})
        loader = ClientLoader(portal, now=lambda: clock[0])
        info = await loader.load(COMPANY_5)
        assert info is not None and info.problem == PROBLEM_NOT_FOUND
        await loader.load(LEAD_3)
        clock[0] += FAILURE_RETRY_AFTER - 1
        assert await loader.load(COMPANY_5) is info  # flapping: no new request
        assert portal.calls == [COMPANY_5, LEAD_3]
        clock[0] += 1
        portal.answers[COMPANY_5] = answers_for(COMPANY_5)
        retried = await loader.load(COMPANY_5)
        assert retried is not None and retried.problem is None
        assert portal.calls == [COMPANY_5, LEAD_3, COMPANY_5]
        clock[0] += 10_000  # a complete answer is kept for good
        await loader.load(COMPANY_5)
        await loader.load(LEAD_3)
        assert portal.calls == [COMPANY_5, LEAD_3, COMPANY_5]

    run(scenario())


def test_partial_answer_is_cached_briefly_too() -> None:
    async def scenario() -> None:
        clock = [0.0]
        answers = contact_answers()
        answers[USER] = failed("ERROR_CORE", "user.get")
        portal = FakePortal({CONTACT_17: answers})
        loader = ClientLoader(portal, now=lambda: clock[0])
        info = await loader.load(CONTACT_17)
        assert info is not None and info.partial
        assert await loader.load(CONTACT_17) is info
        clock[0] = FAILURE_RETRY_AFTER
        await loader.load(CONTACT_17)
        assert portal.calls == [CONTACT_17, CONTACT_17]

    run(scenario())


def test_refetching_the_shown_client_keeps_its_info_up_meanwhile() -> None:
    async def scenario() -> None:
        clock = [0.0]
        portal, changes = FakePortal({COMPANY_5: {ITEM: failed("ERROR_CORE")}}), Recorder()
        loader = ClientLoader(portal, on_change=changes, now=lambda: clock[0])
        failure = await loader.load(COMPANY_5)
        clock[0] = FAILURE_RETRY_AFTER + 1
        portal.answers[COMPANY_5] = answers_for(COMPANY_5)
        gate = portal.hold(COMPANY_5)
        again = asyncio.create_task(loader.load(COMPANY_5))
        await settle()
        assert loader.current is failure
        gate.set()
        fresh = await again
        assert changes.seen == [(None, COMPANY_5), (failure, COMPANY_5), (fresh, COMPANY_5)]

    run(scenario())


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        (RestTimeout("batch", 10), PROBLEM_UNAVAILABLE),
        (RestError("batch", "ACCESS_DENIED"), PROBLEM_NO_ACCESS),
        (RestError("batch", "NOT_FOUND"), PROBLEM_NOT_FOUND),
        (BridgeUnavailable("BX24.callBatch is missing"), PROBLEM_UNAVAILABLE),
        (ParseError("batch", "bad"), PROBLEM_UNAVAILABLE),
        (RuntimeError("bug in the transport"), PROBLEM_UNAVAILABLE),
    ],
)
def test_fetch_errors_become_a_problem_never_an_exception(
    error: Exception, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        portal, changes = FakePortal({COMPANY_5: error}), Recorder()
        loader = ClientLoader(portal, on_change=changes)
        with caplog.at_level(logging.WARNING, logger="callcard.client"):
            info = await loader.load(COMPANY_5)
        assert info == ClientInfo(entity=COMPANY_5, problem=problem)
        assert changes.seen[-1] == (info, COMPANY_5)
        assert await loader.load(COMPANY_5) is info  # cached briefly: no hammering
        assert portal.calls == [COMPANY_5]

    run(scenario())
    assert caplog.records  # the operator log says something went wrong


def test_a_cancelled_caller_does_not_cancel_the_batch() -> None:
    async def scenario() -> None:
        portal = FakePortal()
        gate = portal.hold(COMPANY_5)
        loader = ClientLoader(portal)
        waiting = asyncio.create_task(loader.load(COMPANY_5))
        await settle()
        waiting.cancel()
        await settle()
        gate.set()
        await settle()
        info = await loader.load(COMPANY_5)
        assert info is not None and info.name == "Company 5"
        assert portal.calls == [COMPANY_5]

    run(scenario())


def test_forget_asks_the_portal_again() -> None:
    async def scenario() -> None:
        portal = FakePortal()
        loader = ClientLoader(portal)
        await loader.load(COMPANY_5)
        loader.forget(COMPANY_5)
        loader.forget(LEAD_3)  # nothing cached: harmless
        await loader.load(COMPANY_5)
        assert portal.calls == [COMPANY_5, COMPANY_5]

    run(scenario())


def test_cache_is_bounded_oldest_first() -> None:
    async def scenario() -> None:
        a, b, c = companies(3)
        portal = FakePortal()
        loader = ClientLoader(portal, max_cached=2)
        for ref in (a, b, c, c, b):
            await loader.load(ref)
        assert portal.calls == [a, b, c]
        await loader.load(a)  # evicted
        assert portal.calls == [a, b, c, a]

    run(scenario())


def test_no_on_change_is_fine() -> None:
    async def scenario() -> None:
        loader = ClientLoader(FakePortal())
        assert await loader.load(None) is None
        info = await loader.load(COMPANY_5)
        assert loader.current is info

    run(scenario())


# --------------------------------------------------------------------------- names of bound items


def test_the_batch_also_reads_the_other_bound_items_for_their_names() -> None:
    deal_10, lead_31 = CrmRef(EntityType.DEAL, 10), CrmRef(EntityType.LEAD, 31)
    plan = plan_batch(CONTACT_17, also=(CONTACT_17, deal_10, deal_10, lead_31, COMPANY_5, DEAL_9))
    assert [key for key in plan if key.startswith("also")] == ["also0", "also1", "also2"]
    assert plan["also0"] == ("crm.item.get", {"entityTypeId": 2, "id": 10})
    answers = contact_answers()
    answers["also0"] = item(id=10, title="Поставка оборудования")
    answers["also1"] = item(id=31, title="Website request", name="Sergey", lastName="Orlov")
    answers["also2"] = item(id=999, title="not the company asked for")
    info = build_client(CONTACT_17, answers, also=(deal_10, lead_31, COMPANY_5))
    assert info.name_of(deal_10) == "Поставка оборудования"
    assert info.name_of(lead_31) == "Sergey Orlov"
    assert info.name_of(COMPANY_5) == "Romashka LLC"  # from the contact's own company
    assert info.name_of(CrmRef(EntityType.DEAL, 11)) is None


def test_names_of_bound_items_survive_a_failed_main_item() -> None:
    deal_10 = CrmRef(EntityType.DEAL, 10)
    answers = {ITEM: failed("ACCESS_DENIED"), "also0": item(id=10, title="Deal ten")}
    info = build_client(CONTACT_17, answers, also=(deal_10,))
    assert info.problem == PROBLEM_NO_ACCESS and info.name_of(deal_10) == "Deal ten"


def test_bindings_learnt_later_are_named_in_one_small_batch_once() -> None:
    deal_10 = CrmRef(EntityType.DEAL, 10)
    plans: list[Plan] = []

    async def fetch(plan: Plan) -> Mapping[str, RestOutcome]:
        plans.append(plan)
        if ITEM in plan:
            return contact_answers()
        return {"also0": item(id=10, title="Deal ten")}

    async def scenario() -> None:
        changes = Recorder()
        loader = ClientLoader(fetch, on_change=changes)
        first = await loader.load(CONTACT_17)  # from the placement options: no bindings yet
        assert first is not None and first.name_of(deal_10) is None
        named = await loader.load(CONTACT_17, also=(CONTACT_17, COMPANY_5, deal_10))
        assert named is not None and named.name_of(deal_10) == "Deal ten"
        assert changes.delivered[-1] is named
        again = await loader.load(CONTACT_17, also=(COMPANY_5, deal_10))
        assert again is named
        # The company was named by the first batch: only the deal was asked for, and once.
        assert [sorted(plan) for plan in plans] == [
            sorted([COMPANY, DEALS, ITEM, STAGES, USER, *LAST_KEYS]), ["also0"]]
        assert plans[1]["also0"] == ("crm.item.get", {"entityTypeId": 2, "id": 10})

    run(scenario())
