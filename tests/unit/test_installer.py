"""The install planner: exactly one correct CALL_CARD tab, whatever the portal had before."""

from __future__ import annotations

import pytest

from callcard.installer import (
    TAB_TITLES,
    Binding,
    bind_params,
    derive_handler_url,
    error_key,
    normalise_url,
    parse_bindings,
    plan_install,
)

HANDLER = "https://cards.example.com/callcard/"


def card(handler: str, title: str = TAB_TITLES["en"]) -> Binding:
    return Binding("CALL_CARD", handler, title)


def test_fresh_portal_gets_one_bind_with_both_languages() -> None:
    steps = plan_install([], HANDLER)
    assert [s.method for s in steps] == ["placement.bind"]
    assert steps[0].params == {
        "PLACEMENT": "CALL_CARD",
        "HANDLER": HANDLER,
        "TITLE": "Call notes",
        "LANG_ALL": {"en": {"TITLE": "Call notes"}, "ru": {"TITLE": "Заметки звонка"}},
    }


def test_a_correct_binding_is_left_alone() -> None:
    assert plan_install([card(HANDLER)], HANDLER) == []
    # The same URL written differently is the same handler.
    assert plan_install([card("HTTPS://Cards.Example.com:443/callcard/")], HANDLER) == []


def test_other_placements_are_never_touched() -> None:
    other = Binding("CRM_DEAL_DETAIL_TAB", "https://cards.example.com/deal/", "Deal")
    assert [s.kind for s in plan_install([other], HANDLER)] == ["bind"]


def test_a_stale_handler_of_this_app_is_replaced() -> None:
    steps = plan_install([card("https://old.example.com/callcard/")], HANDLER)
    assert [(s.kind, s.params.get("HANDLER")) for s in steps] == [
        ("unbind", "https://old.example.com/callcard/"),
        ("bind", HANDLER),
    ]


def test_duplicates_and_a_renamed_title_end_in_one_binding() -> None:
    steps = plan_install([card(HANDLER), card(HANDLER)], HANDLER)
    assert [s.kind for s in steps] == ["unbind", "bind"]
    steps = plan_install([card(HANDLER, "Old title")], HANDLER)
    assert [s.kind for s in steps] == ["unbind", "bind"]


def test_reinstall_after_install_plans_nothing() -> None:
    """Simulate the portal: apply the plan, then plan again."""
    portal = [card("https://old.example.com/x/"), card("https://old.example.com/x/")]
    for _ in range(2):
        for step in plan_install(portal, HANDLER):
            if step.kind == "unbind":
                portal = [b for b in portal if b.handler != step.params["HANDLER"]]
            else:
                portal.append(Binding("CALL_CARD", str(step.params["HANDLER"]),
                                      str(step.params["TITLE"])))
    assert portal == [card(HANDLER)]
    assert plan_install(portal, HANDLER) == []


@pytest.mark.parametrize(
    ("page", "override", "expected"),
    [
        ("https://cards.example.com/callcard/install.html", "", HANDLER),
        ("https://cards.example.com/callcard/install.html?DOMAIN=x&AUTH_ID=y#z", "", HANDLER),
        ("https://cards.example.com/install.html", "", "https://cards.example.com/"),
        ("https://cards.example.com/install.html", "https://other.example.com/cc/",
         "https://other.example.com/cc/"),
    ],
)
def test_handler_url_is_the_install_page_folder_unless_overridden(
    page: str, override: str, expected: str
) -> None:
    assert derive_handler_url(page, override) == expected


def test_tokens_in_the_install_url_never_reach_the_handler_url() -> None:
    url = derive_handler_url("https://h.example.com/a/install.html?AUTH_ID=secret&REFRESH_ID=r")
    assert "secret" not in url and "?" not in url


def test_placement_get_rows_of_odd_shape_are_skipped() -> None:
    raw = [
        {"placement": "CALL_CARD", "handler": HANDLER, "title": "Call notes", "userId": 0},
        {"placement": "CALL_CARD"},
        "junk",
        {"placement": 5, "handler": HANDLER},
        {"placement": "CALL_CARD", "handler": HANDLER, "title": None},
    ]
    assert parse_bindings(raw) == [card(HANDLER), Binding("CALL_CARD", HANDLER, "")]
    assert parse_bindings({"result": []}) == []
    assert parse_bindings(None) == []


def test_known_error_codes_are_explained_and_the_rest_shown_by_code() -> None:
    assert error_key("ERROR_PLACEMENT_NOT_FOUND") == "install.error.no_telephony"
    assert error_key("WRONG_AUTH_TYPE") == "install.error.wrong_auth"
    assert error_key("SOMETHING_NEW") is None
    assert error_key(None) is None  # type: ignore[arg-type]


def test_normalise_url_keeps_what_distinguishes_handlers() -> None:
    assert normalise_url("https://a.example.com:8443/x/") == "https://a.example.com:8443/x/"
    assert normalise_url("https://a.example.com") == "https://a.example.com/"
    assert bind_params(HANDLER)["HANDLER"] == HANDLER
