"""callcard.present: the card's words and links from a CallStatus and a CallTracker."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bx24_bridge.crm_refs import CrmRef, EntityType
from bx24_bridge.payloads import CallState, CallStatus, parse_options, parse_status
from bx24_bridge.phone_numbers import HIDDEN_NUMBER, UNKNOWN_NUMBER
from bx24_bridge.values import field_names, replace
from callcard.callstate import CallTracker
from callcard.client import ClientActivity, ClientComment, ClientDeal, ClientInfo
from callcard.i18n import Translator
from callcard.present import (
    CardText,
    CrmLink,
    activity_words,
    format_amount,
    last_contact,
    portal_origin,
    present,
    present_client,
)

EN = Translator("en")
RU = Translator("ru")
PORTAL = "https://example.bitrix24.com"
HOSTILE = '<img src=x onerror="alert(1)">&amp;<script>x</script>'

STATUS = {
    "CALL_ID": "externalCall.c3ee1723556778",
    "PHONE_NUMBER": "+79001234567",
    "LINE_NUMBER": "+74951234567",
    "LINE_NAME": "Sales",
    "CRM_ENTITY_TYPE": "CONTACT",
    "CRM_ENTITY_ID": 17,
    "CRM_BINDINGS": [
        {"ENTITY_TYPE": "CONTACT", "ENTITY_ID": 17},
        {"ENTITY_TYPE": "DEAL", "ENTITY_ID": "5"},
        {"ENTITY_TYPE": "COMPANY", "ENTITY_ID": 3},
        {"ENTITY_TYPE": "DEAL", "ENTITY_ID": 5},
    ],
    "CALL_DIRECTION": "incoming",
    "CALL_STATE": "connected",
    "CALL_LIST_MODE": False,
}


def _card(raw: dict | None = None, t: Translator = EN, **kwargs: object) -> CardText:
    status = parse_status({**STATUS, **(raw or {})})
    tracker = kwargs.pop("tracker", None) or CallTracker(status.state, now=0.0)
    portal = kwargs.pop("portal", PORTAL)
    now = kwargs.pop("now", 65.0)
    return present(status, tracker, t, portal=portal, now=now)  # type: ignore[arg-type]


def test_field_names_are_the_contract() -> None:
    assert list(field_names(CardText)) == [
        "caller_number",
        "call_direction",
        "call_state",
        "call_timer",
        "call_failure",
        "line",
        "list_mode",
        "crm_entity",
        "crm_bindings",
        "crm_unbound",
        "copy_number",
        "after_call",
    ]
    assert list(field_names(CrmLink)) == [
        "label", "kind", "href", "path", "type", "id"
    ]


def test_a_talking_call_in_english() -> None:
    card = _card()
    assert card == CardText(
        caller_number="+7 900 123-45-67",
        call_direction="Incoming call",
        call_state="Talking",
        call_timer="1:05",
        call_failure=None,
        line="Sales",
        list_mode=None,
        crm_entity=CrmLink(
            label="#17",
            kind="contact",
            href="https://example.bitrix24.com/crm/contact/details/17/",
            path="/crm/contact/details/17/",
            type="contact",
            id=17,
        ),
        crm_bindings=(
            CrmLink(
                "#5",
                "deal",
                "https://example.bitrix24.com/crm/deal/details/5/",
                "/crm/deal/details/5/",
                "deal",
                5,
            ),
            CrmLink(
                "#3",
                "company",
                "https://example.bitrix24.com/crm/company/details/3/",
                "/crm/company/details/3/",
                "company",
                3,
            ),
        ),
        crm_unbound=None,
        copy_number="+79001234567",
    )


def test_the_same_call_in_russian() -> None:
    card = _card({"CALL_DIRECTION": "outgoing", "CALL_LIST_MODE": True}, RU)
    assert card.call_direction == "Исходящий звонок"
    assert card.call_state == "Разговор"
    assert card.list_mode == "Обзвон"
    assert card.crm_entity is not None
    assert (card.crm_entity.kind, card.crm_entity.label) == ("контакт", "№17")
    assert [(link.kind, link.label) for link in card.crm_bindings] == [
        ("сделка", "№5"), ("компания", "№3")
    ]


def test_links_carry_the_names_the_crm_gave() -> None:
    names = {CrmRef(EntityType.CONTACT, 17): "Ivan Petrov", CrmRef(EntityType.COMPANY, 3): "ACME"}
    card = present(parse_status(STATUS), CallTracker(None, 0.0), EN, portal=PORTAL, now=0.0,
                   names=names.get)
    assert card.crm_entity is not None and card.crm_entity.label == "Ivan Petrov"
    assert [link.label for link in card.crm_bindings] == ["#5", "ACME"]


def test_list_mode_in_english() -> None:
    assert _card({"CALL_LIST_MODE": True}).list_mode == "Call list"


def test_frozen_link_objects() -> None:
    link = _card().crm_entity
    assert link is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        link.href = "javascript:alert(1)"  # type: ignore[misc]


# --------------------------------------------------------------------------- numbers and line


@pytest.mark.parametrize(
    ("phone", "en", "ru"),
    [
        ("hidden", "Hidden number", "Скрытый номер"),
        ("HIDDEN", "Hidden number", "Скрытый номер"),
        (None, "Unknown number", "Номер неизвестен"),
        ("unknown", "Unknown number", "Номер неизвестен"),
        ("", "Unknown number", "Номер неизвестен"),
        ("+375291234567", "+375 29 123-45-67", "+375 29 123-45-67"),
        ("101", "101", "101"),
    ],
)
def test_caller_number(phone: str | None, en: str, ru: str) -> None:
    raw = {"PHONE_NUMBER": phone}
    assert _card(raw).caller_number == en
    assert _card(raw, RU).caller_number == ru


def test_absent_number_is_unknown() -> None:
    raw = {key: value for key, value in STATUS.items() if key != "PHONE_NUMBER"}
    status = parse_status(raw)
    card = present(status, CallTracker(None, 0.0), EN, portal=None, now=0.0)
    assert card.caller_number == "Unknown number"


@pytest.mark.parametrize(
    ("name", "number", "shown"),
    [
        ("Sales", "+74951234567", "Sales"),
        ("", "+74951234567", "+7 495 123-45-67"),  # name falls back to the number
        ("+74951234567", "+74951234567", "+7 495 123-45-67"),
        ("", "reg1234", "reg1234"),
        ("", "", "No line"),
    ],
)
def test_line(name: str, number: str, shown: str) -> None:
    assert _card({"LINE_NAME": name, "LINE_NUMBER": number}).line == shown


def test_no_line_in_russian() -> None:
    assert _card({"LINE_NAME": "", "LINE_NUMBER": ""}, RU).line == "Линия не указана"


@pytest.mark.parametrize("hostile", [HOSTILE, "{type} #{id} {0}", "\u202eenil", "a\nb"])
def test_hostile_line_name_comes_back_as_the_same_text(hostile: str) -> None:
    assert _card({"LINE_NAME": hostile}).line == hostile
    assert _card({"LINE_NAME": "", "LINE_NUMBER": hostile}).line == hostile


# --------------------------------------------------------------------------- state and timer


def test_state_timer_and_failure_follow_the_tracker() -> None:
    tracker = CallTracker(CallState.CONNECTING, now=0.0)
    status = parse_status(STATUS)
    card = present(status, tracker, EN, portal=PORTAL, now=3.0)
    assert (card.call_state, card.call_timer, card.call_failure) == ("Connecting", "0:00", None)
    tracker.apply(CallState.IDLE, "486", now=5.0)
    card = present(status, tracker, EN, portal=PORTAL, now=10.0)
    assert (card.call_state, card.call_timer, card.call_failure) == (
        "Not connected", "0:00", "Busy (486)"
    )
    card = present(status, tracker, RU, portal=PORTAL, now=10.0)
    assert (card.call_state, card.call_failure) == ("Звонок не состоялся", "Занято (486)")
    tracker.apply(CallState.CONNECTING, None, now=20.0)
    assert present(status, tracker, EN, portal=PORTAL, now=21.0).call_failure is None


def test_a_call_that_connected_and_ended_says_ended() -> None:
    tracker = CallTracker(CallState.CONNECTING, now=0.0)
    tracker.apply(CallState.CONNECTED, None, now=1.0)
    tracker.apply(CallState.IDLE, None, now=5.0)
    card = present(parse_status(STATUS), tracker, EN, portal=PORTAL, now=6.0)
    assert (card.call_state, card.call_timer) == ("Ended", "0:04")
    tracker.apply(CallState.CONNECTING, None, now=10.0)  # the dialer's next call...
    tracker.apply(CallState.IDLE, None, now=12.0)  # ...that nobody answered
    assert present(parse_status(STATUS), tracker, EN, portal=PORTAL, now=13.0).call_state == (
        "Not connected"
    )


def test_generic_failure_and_long_call() -> None:
    tracker = CallTracker(CallState.CONNECTED, now=0.0)
    card = present(parse_status(STATUS), tracker, EN, portal=PORTAL, now=3600.0)
    assert card.call_timer == "1:00:00"
    tracker.apply(CallState.IDLE, "499", now=3661.0)
    card = present(parse_status(STATUS), tracker, EN, portal=PORTAL, now=9999.0)
    assert (card.call_timer, card.call_failure) == ("1:01:01", "Call failed (499)")


def test_waiting() -> None:
    card = _card({"CALL_STATE": "idle"})
    assert (card.call_state, card.call_timer) == ("Waiting", "0:00")
    assert _card({"CALL_STATE": "idle"}, RU).call_state == "Ожидание"


@pytest.mark.parametrize(
    ("direction", "words"),
    [
        ("incoming", "Incoming call"),
        ("outgoing", "Outgoing call"),
        ("callback", "Callback"),
        ("incomingTransfer", "Transferred call"),
        ("sideways", "Call"),
        (None, "Call"),
    ],
)
def test_directions(direction: str | None, words: str) -> None:
    assert _card({"CALL_DIRECTION": direction}).call_direction == words


# --------------------------------------------------------------------------- CRM


def test_unbound_call() -> None:
    for raw in (
        {"CRM_ENTITY_TYPE": "", "CRM_ENTITY_ID": 0, "CRM_BINDINGS": []},
        {"CRM_ENTITY_TYPE": "", "CRM_ENTITY_ID": "0", "CRM_BINDINGS": None},
    ):
        card = _card(raw)
        assert (card.crm_entity, card.crm_bindings) == (None, ())
        assert card.crm_unbound == "Not linked to CRM"
        assert _card(raw, RU).crm_unbound == "Не привязан к CRM"


def test_bindings_without_a_primary_item() -> None:
    card = _card({"CRM_ENTITY_TYPE": "", "CRM_ENTITY_ID": 0})
    assert card.crm_entity is None
    assert card.crm_unbound is None
    assert [link.path for link in card.crm_bindings] == [
        "/crm/contact/details/17/",
        "/crm/deal/details/5/",
        "/crm/company/details/3/",
    ]


def test_bindings_that_only_repeat_the_primary_item() -> None:
    card = _card({"CRM_BINDINGS": [{"ENTITY_TYPE": "contact", "ENTITY_ID": "17"}] * 3})
    assert card.crm_entity is not None and card.crm_entity.id == 17
    assert card.crm_bindings == ()
    assert card.crm_unbound is None


def test_bindings_deduplicated_even_when_built_directly() -> None:
    deal = CrmRef(EntityType.DEAL, 5)
    lead = CrmRef(EntityType.LEAD, 8)
    status = CallStatus(entity=deal, bindings=(lead, deal, lead, deal))
    card = present(status, CallTracker(None, 0.0), EN, portal=PORTAL, now=0.0)
    assert [(link.kind, link.label) for link in card.crm_bindings] == [("lead", "#8")]


def test_placement_options_give_the_same_links() -> None:
    options = parse_options(
        '{"CRM_ENTITY_TYPE": "DEAL", "CRM_ENTITY_ID": "5", "CALL_LIST_MODE": "true",'
        ' "CALL_STATE": "connecting", "URI": "/crm/deal/details/5/"}'
    )
    card = present(options, CallTracker(options.state, 0.0), EN, portal=PORTAL, now=1.0)
    assert card.crm_entity is not None
    assert card.crm_entity.href == "https://example.bitrix24.com/crm/deal/details/5/"
    assert card.list_mode == "Call list"


HOSTILE_CRM = [
    ("javascript:alert(1)", 5),
    ("DEAL", "5/../../admin"),
    ("DEAL", "-5"),
    ("DEAL", 0),
    ("DEAL", 5.5),
    ("DEAL", "5 OR 1=1"),
    ("DEAL", True),
    ("DEAL", 2**60),
    ("SMART_INVOICE", 5),
    ("<b>LEAD</b>", 5),
    ("LEAD\u202e", 5),
    ({"x": 1}, 5),
    ("DEAL", [5]),
]


@pytest.mark.parametrize(("kind", "ident"), HOSTILE_CRM)
def test_hostile_crm_values_never_reach_a_link(kind: object, ident: object) -> None:
    raw = {
        "CRM_ENTITY_TYPE": kind,
        "CRM_ENTITY_ID": ident,
        "CRM_BINDINGS": [{"ENTITY_TYPE": kind, "ENTITY_ID": ident}],
    }
    card = _card(raw)
    assert card.crm_entity is None
    assert card.crm_bindings == ()
    assert card.crm_unbound == "Not linked to CRM"


LINK_HREF = re.compile(
    r"https://example\.bitrix24\.com/crm/(lead|deal|contact|company)/details/[1-9][0-9]*/"
)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.sampled_from(["LEAD", "deal", "Contact", "COMPANY", ""]), st.text(max_size=10)),
    st.one_of(st.integers(), st.text(max_size=12), st.floats(), st.none(), st.booleans()),
)
def test_only_valid_items_become_links(kind: object, ident: object) -> None:
    raw = {"CRM_ENTITY_TYPE": kind, "CRM_ENTITY_ID": ident, "CRM_BINDINGS": []}
    card = _card(raw)
    if card.crm_entity is None:
        assert card.crm_unbound is not None
        return
    link = card.crm_entity
    assert LINK_HREF.fullmatch(link.href)
    assert link.href.endswith(link.path) and link.path == f"/crm/{link.type}/details/{link.id}/"
    assert link.type in {"lead", "deal", "contact", "company"} and link.id > 0


# --------------------------------------------------------------------------- portal origin


@pytest.mark.parametrize(
    ("portal", "href"),
    [
        ("https://example.bitrix24.com", "https://example.bitrix24.com/crm/contact/details/17/"),
        ("https://example.bitrix24.com/", "https://example.bitrix24.com/crm/contact/details/17/"),
        ("HTTPS://Example.Bitrix24.COM", "https://example.bitrix24.com/crm/contact/details/17/"),
        ("http://crm.local:8080", "http://crm.local:8080/crm/contact/details/17/"),
        (None, "/crm/contact/details/17/"),
        ("", "/crm/contact/details/17/"),
        ("javascript:alert(1)//", "/crm/contact/details/17/"),
        ("javascript://example.com", "/crm/contact/details/17/"),
        ("https://evil.example@example.bitrix24.com", "/crm/contact/details/17/"),
        ("https://example.bitrix24.com/path", "/crm/contact/details/17/"),
        ("https://example.bitrix24.com?x=1", "/crm/contact/details/17/"),
        ("https://exa mple.com", "/crm/contact/details/17/"),
        ("https://-bad.com", "/crm/contact/details/17/"),
        ("https://example.com:0", "/crm/contact/details/17/"),
        ("https://example.com:70000", "/crm/contact/details/17/"),
        ("ftp://example.com", "/crm/contact/details/17/"),
        ("//example.com", "/crm/contact/details/17/"),
        ("example.bitrix24.com", "/crm/contact/details/17/"),
        (f"https://{HOSTILE}", "/crm/contact/details/17/"),
    ],
)
def test_link_href(portal: str | None, href: str) -> None:
    link = _card(portal=portal).crm_entity
    assert link is not None
    assert link.href == href
    assert link.path == "/crm/contact/details/17/"


@pytest.mark.parametrize(
    ("domain", "https", "origin"),
    [
        ("example.bitrix24.com", True, "https://example.bitrix24.com"),
        ("example.bitrix24.ru", False, "http://example.bitrix24.ru"),
        (" Example.Bitrix24.by ", True, "https://example.bitrix24.by"),
        ("crm.example.com:8443", True, "https://crm.example.com:8443"),
        ("localhost", True, "https://localhost"),
        ("10.0.0.7:80", False, "http://10.0.0.7:80"),
        ("пример.рф", True, "https://xn--e1afmkfd.xn--p1ai"),  # a box portal with an IDN
    ],
)
def test_portal_origin(domain: str, https: bool, origin: str) -> None:
    assert portal_origin(domain, https) == origin


@pytest.mark.parametrize(
    "domain",
    [
        None,
        5,
        ["example.com"],
        "",
        "   ",
        "https://example.com",
        "example.com/",
        "example.com/crm",
        "user@example.com",
        "example.com:",
        "example.com:abc",
        "example.com:99999",
        "example..com",
        ".example.com",
        "example.com.",
        "exa_mple.com",
        "-example.com",
        "exam\nple.com",
        "exam\u202eple.com",
        "a" * 64 + ".com",
        ".".join(["a" * 60] * 5),
        "[::1]",
        HOSTILE,
    ],
)
def test_portal_origin_rejects(domain: object) -> None:
    assert portal_origin(domain) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_portal_origin_never_raises_and_is_plain(domain: str) -> None:
    origin = portal_origin(domain)
    if origin is not None:
        assert re.fullmatch(r"https://[a-z0-9.\-]+(:[0-9]+)?", origin)


@pytest.mark.parametrize(
    ("query", "theme"),
    [("", "light"), ("?theme=dark", "dark"), ("?a=1&theme=DARK", "dark"), ("?theme=light", "light"),
     ("?theme=darkish", "light"), ("?xtheme=dark", "light"), (None, "light")],
)
def test_the_theme_is_light_unless_the_handler_url_asks_for_dark(query: object, theme: str) -> None:
    from callcard.present import theme_from_query

    assert theme_from_query(query) == theme


@pytest.mark.parametrize(
    ("info", "retry"),
    [
        (ClientInfo(entity=CrmRef(EntityType.CONTACT, 1), problem="client.unavailable"), True),
        (ClientInfo(entity=CrmRef(EntityType.CONTACT, 1), name="x", partial=True), True),
        (ClientInfo(entity=CrmRef(EntityType.CONTACT, 1), problem="client.no_access"), False),
        (ClientInfo(entity=CrmRef(EntityType.CONTACT, 1), problem="client.not_found"), False),
        (ClientInfo(entity=CrmRef(EntityType.CONTACT, 1), name="x"), False),
    ],
)
def test_the_client_block_offers_a_retry_only_where_asking_again_may_help(
    info: ClientInfo, retry: bool
) -> None:
    from callcard.present import present_client

    text = present_client(info, EN, bound=True, loading=False, number="+7")
    assert text.retry is retry
    assert present_client(None, EN, bound=False, loading=False, number="+7").retry is False


# --------------------------------------------------------------------------- open deals


@pytest.mark.parametrize(("amount", "currency", "lang", "expected"), [
    (120000, "RUB", "ru", "120\u202f000 ₽"),
    (120000, "RUB", "en", "₽120,000"),
    (45000.5, "rub", "ru", "45\u202f000,50 ₽"),
    (45000.5, "USD", "en", "$45,000.50"),
    (1234567.891, "XYZ", "en", "1,234,567.89 XYZ"),
    (99.999, "EUR", "ru", "100 €"),
    (5, "BYN", "en", "5 Br"),
    (0, "", "ru", "0"),
])
def test_an_amount_reads_as_the_operator_writes_it(
    amount: float, currency: str, lang: str, expected: str,
) -> None:
    assert format_amount(amount, currency, lang) == expected


def test_open_deals_are_links_with_their_stage_and_amount() -> None:
    deal = CrmRef(EntityType.DEAL, 9)
    info = ClientInfo(entity=CrmRef(EntityType.CONTACT, 17), name="Ivan Petrov", deals=(
        ClientDeal(deal, "Annual support", "New", 120000.0, "RUB"),
        ClientDeal(CrmRef(EntityType.DEAL, 12), "", "", None, ""),
    ))
    text = present_client(info, Translator("en"), bound=True, loading=False, number="",
                          portal="https://portal.bitrix24.ru")
    first, second = text.deals
    assert first.link.label == "Annual support" and first.facts == "Stage: New · ₽120,000"
    assert first.link.href == "https://portal.bitrix24.ru/crm/deal/details/9/"
    assert first.link.path == "/crm/deal/details/9/"
    assert second.link.label == "#12" and second.facts == ""


def test_no_deals_while_the_client_loads_or_when_unbound() -> None:
    en = Translator("en")
    assert present_client(None, en, bound=True, loading=True, number="").deals == ()
    assert present_client(None, en, bound=False, loading=False, number="+7").deals == ()


def test_the_copy_button_copies_the_number_as_the_host_gave_it_and_only_a_number() -> None:
    assert _card().copy_number == "+79001234567"
    for phone in (HIDDEN_NUMBER, UNKNOWN_NUMBER):
        call = parse_status({"CALL_ID": "c", "CALL_STATE": "connected"})
        status = replace(call, phone=phone)
        text = present(status, CallTracker(CallState.CONNECTED, 0.0), EN, portal=None, now=1.0)
        assert text.copy_number is None



# --------------------------------------------------------------------------- last contact


def _recent(*activities: ClientActivity) -> ClientInfo:
    return ClientInfo(entity=CrmRef(EntityType.CONTACT, 17), name="Ivan", recent=activities)


CURRENT = ClientActivity(311, 2, 1, datetime(2026, 12, 2, 10, 0), "Anna Smirnova")
EARLIER = ClientActivity(305, 2, 2, datetime(2026, 11, 28, 14, 5), "Anna Smirnova")


def test_the_last_contact_is_the_latest_activity_before_this_call() -> None:
    info = _recent(CURRENT, EARLIER)
    assert last_contact(info, EN, current=311) == (
        "Last contact: 28 Nov 2026, 14:05 · Outgoing call · Anna Smirnova")
    assert last_contact(info, RU, current=311) == (
        "Последний контакт: 28.11.2026, 14:05 · Исходящий звонок · Anna Smirnova")
    assert last_contact(info, EN, current=None).startswith("Last contact: 2 Dec 2026, 10:00")


def test_no_last_contact_without_an_earlier_dated_activity() -> None:
    assert last_contact(None, EN, current=None) is None
    assert last_contact(_recent(CURRENT), EN, current=311) is None
    undated = ClientActivity(300, 2, 1, None, None)
    assert last_contact(_recent(undated), EN, current=None) is None


@pytest.mark.parametrize(("kind", "direction", "words"), [
    (2, 1, "Incoming call"), (2, 2, "Outgoing call"), (2, None, "Call"), (1, 0, "Meeting"),
    (3, None, "Task"), (4, 1, "Email received"), (4, 2, "Email sent"), (6, 1, "Activity"),
    (None, None, "Activity"),
])
def test_an_activity_is_named_by_kind_and_direction(
    kind: int | None, direction: int | None, words: str,
) -> None:
    assert activity_words(kind, direction, EN) == words


def test_a_newer_comment_is_the_last_contact() -> None:
    comment = ClientComment(41, datetime(2026, 11, 30, 11, 20), "Дмитрий Волков",
                            "Просила перезвонить после 15:00")
    info = replace(_recent(CURRENT, EARLIER), comment=comment)
    assert last_contact(info, RU, current=311) == (
        "Последний контакт: 30.11.2026, 11:20 · Комментарий «Просила перезвонить после 15:00»"
        " · Дмитрий Волков")
    older = replace(comment, when=datetime(2026, 11, 1, 9, 0), by=None, line="")
    assert last_contact(replace(info, comment=older), EN, current=311) == (
        "Last contact: 28 Nov 2026, 14:05 · Outgoing call · Anna Smirnova")
    alone = replace(_recent(), comment=older)
    assert last_contact(alone, EN, current=None) == "Last contact: 1 Nov 2026, 09:00 · Comment"
    undated = replace(_recent(), comment=replace(comment, when=None))
    assert last_contact(undated, EN, current=None) is None


def test_a_comment_written_during_this_call_is_not_its_last_contact() -> None:
    """The card's own note of this call (re-read when the host refreshes the client) is newer
    than the call's activity: the last contact before the call is still the one before."""
    during = ClientComment(45, datetime(2026, 12, 2, 10, 3), "Anna Smirnova", "Incoming call")
    info = replace(_recent(CURRENT, EARLIER), comment=during)
    assert last_contact(info, EN, current=311) == (
        "Last contact: 28 Nov 2026, 14:05 · Outgoing call · Anna Smirnova")
    # Without this call's activity in the list there is no telling: the comment counts.
    assert "Comment" in (last_contact(replace(info, recent=(EARLIER,)), EN,
                                      current=311) or "")


def test_the_last_contact_without_a_responsible_person() -> None:
    lone = ClientActivity(305, 4, 2, datetime(2026, 11, 28, 14, 5), None)
    assert last_contact(_recent(lone), EN, current=None) == (
        "Last contact: 28 Nov 2026, 14:05 · Email sent")


def test_a_call_list_call_that_ended_puts_its_outcome_first() -> None:
    for list_mode, expected in ((True, True), (False, False)):
        status = parse_status({**STATUS, "CALL_LIST_MODE": list_mode})
        tracker = CallTracker(CallState.CONNECTED, 10.0)
        assert not present(status, tracker, EN, portal=PORTAL, now=11.0).after_call
        tracker.apply(CallState.IDLE, None, 20.0)
        assert present(status, tracker, EN, portal=PORTAL, now=21.0).after_call is expected
