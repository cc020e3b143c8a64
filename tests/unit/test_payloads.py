"""Unit tests of bx24_bridge.payloads (and the messages of bx24_bridge.errors).

Every case comes from the host's behaviour in docs/host-contract.md.
"""

from __future__ import annotations

import json

import pytest

from bx24_bridge.callcard_events import (
    EntityChange,
    StateChange,
    parse_entity_event,
    parse_failed_code,
    parse_state_event,
)
from bx24_bridge.crm_refs import CrmRef, EntityType, parse_crm_ref, parse_crm_uri, parse_entity_type
from bx24_bridge.errors import (
    BridgeError,
    BridgeUnavailable,
    CommandTimeout,
    ParseError,
    PlacementError,
    RestError,
    RestTimeout,
)
from bx24_bridge.payloads import (
    EMPTY_STATUS,
    MAX_CALL_ID_LEN,
    CallDirection,
    CallState,
    CallStatus,
    merge,
    parse_call_direction,
    parse_call_state,
    parse_options,
    parse_status,
)
from bx24_bridge.phone_numbers import (
    HIDDEN_NUMBER,
    UNKNOWN_NUMBER,
    CallerNumber,
    parse_caller_number,
)
from bx24_bridge.placement_wire import check_placement_answer, normalise_event_args
from bx24_bridge.rest import rest_result
from bx24_bridge.values import replace
from bx24_bridge.wire import MAX_SAFE_INTEGER, MAX_TEXT_LEN, parse_id
from callcard.crm import CrmItem, PortalUser, parse_crm_item, parse_user

HOSTILE_HTML = "<img src=x onerror=alert(1)>"
JS_URL = "javascript:alert(1)"
RTL = "\u202e"

# One call, as getStatus (docs/host-contract.md#status) and as PLACEMENT_OPTIONS
# (docs/host-contract.md#status) describe it.
GET_STATUS = {
    "CALL_ID": "externalCall.c3ee5d2e8a0b4f1e9d7c6b5a49382716.1723556778",
    "PHONE_NUMBER": "+79001234567",
    "LINE_NUMBER": "reg12345",
    "LINE_NAME": "",
    "CRM_ENTITY_TYPE": "COMPANY",
    "CRM_ENTITY_ID": 17,
    "CRM_ACTIVITY_ID": 3051,
    "CRM_BINDINGS": [
        {"ENTITY_TYPE": "COMPANY", "ENTITY_ID": 17},
        {"ENTITY_TYPE": "CONTACT", "ENTITY_ID": 42},
    ],
    "CALL_DIRECTION": "incoming",
    "CALL_STATE": "connected",
    "CALL_LIST_MODE": False,
}
PLACEMENT_OPTIONS = {
    "CALL_ID": "externalCall.c3ee5d2e8a0b4f1e9d7c6b5a49382716.1723556778",
    "PHONE_NUMBER": "+79001234567",
    "LINE_NUMBER": "reg12345",
    "LINE_NAME": "reg12345",
    "CRM_ENTITY_TYPE": "COMPANY",
    "CRM_ENTITY_ID": "17",
    "CRM_ACTIVITY_ID": "3051",
    "CRM_BINDINGS": [
        {"ENTITY_TYPE": "COMPANY", "ENTITY_ID": "17"},
        {"ENTITY_TYPE": "CONTACT", "ENTITY_ID": "42"},
    ],
    "CALL_DIRECTION": "incoming",
    "CALL_STATE": "connected",
    "CALL_LIST_MODE": "false",
    "URI": "/crm/company/details/17/",
}
COMPANY_17 = CrmRef(EntityType.COMPANY, 17)
CONTACT_42 = CrmRef(EntityType.CONTACT, 42)


def status_with(**fields: object) -> CallStatus:
    """parse_status of the realistic getStatus result with some keys replaced."""
    return parse_status({**GET_STATUS, **fields})


def status_without(key: str) -> CallStatus:
    raw = dict(GET_STATUS)
    del raw[key]
    return parse_status(raw)


def options_with(**fields: object) -> CallStatus:
    return parse_options({**PLACEMENT_OPTIONS, **fields})


# ---------------------------------------------------------------------------
# docs/host-contract.md#status table, row by row


@pytest.mark.parametrize(
    "call_id",
    ["externalCall.c3ee5d2e8a0b4f1e9d7c6b5a49382716.1723556778", "E45D4025.1774588815.822533"],
)
def test_call_id_forms_are_kept(call_id: str) -> None:
    assert status_with(CALL_ID=call_id).call_id == call_id


def test_call_id_absent_is_empty() -> None:
    assert status_without("CALL_ID").call_id == ""


def test_phone_number_normal() -> None:
    assert status_with(PHONE_NUMBER="+79001234567").phone == CallerNumber("number", "+79001234567")


@pytest.mark.parametrize("hidden", ["hidden", "HIDDEN", " Hidden "])
def test_phone_number_hidden(hidden: str) -> None:
    assert status_with(PHONE_NUMBER=hidden).phone == HIDDEN_NUMBER


def test_phone_number_absent_is_unknown() -> None:
    assert status_without("PHONE_NUMBER").phone == UNKNOWN_NUMBER


def test_line_number_and_name() -> None:
    status = status_with(LINE_NUMBER="74951234567", LINE_NAME="Sales")
    assert (status.line_number, status.line_name) == ("74951234567", "Sales")


def test_line_name_empty_falls_back_to_number_like_the_options_do() -> None:
    status = status_with(LINE_NUMBER="reg12345", LINE_NAME="")
    assert status.line_name == "reg12345"
    assert options_with(LINE_NAME="reg12345").line_name == "reg12345"


@pytest.mark.parametrize("entity_type", list(EntityType))
def test_crm_entity_type_each_type(entity_type: EntityType) -> None:
    status = status_with(CRM_ENTITY_TYPE=entity_type.value, CRM_ENTITY_ID=5)
    assert status.entity == CrmRef(entity_type, 5)


def test_crm_entity_type_empty_means_unbound() -> None:
    assert status_with(CRM_ENTITY_TYPE="", CRM_ENTITY_ID=0).entity is None


@pytest.mark.parametrize("entity_id", [17, "17"])
def test_crm_entity_id_int_and_string(entity_id: object) -> None:
    assert status_with(CRM_ENTITY_ID=entity_id).entity == COMPANY_17
    assert options_with(CRM_ENTITY_ID=entity_id).entity == COMPANY_17


@pytest.mark.parametrize("entity_id", [0, "0"])
def test_crm_entity_id_zero_means_unbound(entity_id: object) -> None:
    assert status_with(CRM_ENTITY_ID=entity_id).entity is None


def test_crm_activity_id_int() -> None:
    assert status_with(CRM_ACTIVITY_ID=3051).activity_id == 3051


def test_crm_activity_id_absent() -> None:
    assert status_without("CRM_ACTIVITY_ID").activity_id is None


@pytest.mark.parametrize("activity_id", ["", "undefined", "null", 0, "0", None])
def test_crm_activity_id_empty_forms(activity_id: object) -> None:
    assert status_with(CRM_ACTIVITY_ID=activity_id).activity_id is None
    assert options_with(CRM_ACTIVITY_ID=activity_id).activity_id is None


def test_crm_activity_id_numeric_string() -> None:
    assert options_with(CRM_ACTIVITY_ID="3051").activity_id == 3051


def test_crm_bindings_int_and_string_ids() -> None:
    bindings = [
        {"ENTITY_TYPE": "DEAL", "ENTITY_ID": 5},
        {"ENTITY_TYPE": "CONTACT", "ENTITY_ID": "42"},
    ]
    status = status_with(CRM_BINDINGS=bindings)
    assert status.bindings == (CrmRef(EntityType.DEAL, 5), CONTACT_42)


def test_crm_bindings_absent() -> None:
    assert status_without("CRM_BINDINGS").bindings == ()


@pytest.mark.parametrize("bindings", [[], None, "", {}, 17, "DEAL"])
def test_crm_bindings_empty_or_not_a_list(bindings: object) -> None:
    assert status_with(CRM_BINDINGS=bindings).bindings == ()


def test_crm_bindings_skip_invalid_rows_and_deduplicate_in_order() -> None:
    bindings = [
        {"ENTITY_TYPE": "CONTACT", "ENTITY_ID": "42"},
        {"ENTITY_TYPE": "DEAL", "ENTITY_ID": 0},
        {"ENTITY_TYPE": "", "ENTITY_ID": 3},
        "DEAL",
        None,
        {"ENTITY_TYPE": "CONTACT", "ENTITY_ID": 42},
        {"ENTITY_TYPE": "deal", "ENTITY_ID": True},
        {"ENTITY_TYPE": "COMPANY", "ENTITY_ID": 17.0},
    ]
    assert status_with(CRM_BINDINGS=bindings).bindings == (CONTACT_42, COMPANY_17)


def test_crm_bindings_as_php_object_of_rows() -> None:
    bindings = {
        "0": {"ENTITY_TYPE": "DEAL", "ENTITY_ID": 5},
        "2": {"ENTITY_TYPE": "LEAD", "ENTITY_ID": 9},
    }
    status = status_with(CRM_BINDINGS=bindings)
    assert status.bindings == (CrmRef(EntityType.DEAL, 5), CrmRef(EntityType.LEAD, 9))


@pytest.mark.parametrize(
    ("raw", "direction"),
    [
        ("incoming", CallDirection.INCOMING),
        ("outgoing", CallDirection.OUTGOING),
        ("callback", CallDirection.CALLBACK),
        ("incomingTransfer", CallDirection.INCOMING_TRANSFER),
        ("OUTGOING", CallDirection.OUTGOING),
        ("sideways", CallDirection.UNKNOWN),
        (None, CallDirection.UNKNOWN),
    ],
)
def test_call_direction(raw: object, direction: CallDirection) -> None:
    assert status_with(CALL_DIRECTION=raw).direction is direction


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("idle", CallState.IDLE),
        ("connecting", CallState.CONNECTING),
        ("connected", CallState.CONNECTED),
        (" Connected ", CallState.CONNECTED),
        ("ringing", None),
        ("", None),
        (1, None),
    ],
)
def test_call_state(raw: object, state: CallState | None) -> None:
    assert status_with(CALL_STATE=raw).state is state


def test_call_state_absent_is_none() -> None:
    assert status_without("CALL_STATE").state is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("false", False),
        ("True", True),
        ("1", True),
        (1, True),
        ("0", False),
        (0, False),
        ("", False),
        ("yes", False),
        (2, False),
        (None, False),
        ({}, False),
    ],
)
def test_call_list_mode(raw: object, expected: bool) -> None:
    assert status_with(CALL_LIST_MODE=raw).list_mode is expected


def test_call_list_mode_absent_is_false() -> None:
    assert status_without("CALL_LIST_MODE").list_mode is False


# --------------------------------------------------------------------------- whole payloads


def test_realistic_get_status() -> None:
    assert parse_status(GET_STATUS) == CallStatus(
        call_id="externalCall.c3ee5d2e8a0b4f1e9d7c6b5a49382716.1723556778",
        phone=CallerNumber("number", "+79001234567"),
        line_number="reg12345",
        line_name="reg12345",
        entity=COMPANY_17,
        activity_id=3051,
        bindings=(COMPANY_17, CONTACT_42),
        direction=CallDirection.INCOMING,
        state=CallState.CONNECTED,
        list_mode=False,
        uri=None,
    )


def test_get_status_and_placement_options_of_the_same_call_agree() -> None:
    from_status = parse_status(GET_STATUS)
    from_options = parse_options(PLACEMENT_OPTIONS)
    assert from_options.uri == "/crm/company/details/17/" == COMPANY_17.path
    assert replace(from_options, uri=None) == from_status
    assert merge(from_status, from_options) == from_options


def test_placement_options_as_json_string() -> None:
    assert parse_options(json.dumps(PLACEMENT_OPTIONS)) == parse_options(PLACEMENT_OPTIONS)


def test_placement_options_without_bindings() -> None:
    raw = dict(PLACEMENT_OPTIONS)
    del raw["CRM_BINDINGS"]
    status = parse_options(raw)
    assert status.bindings == ()
    assert status.all_items == (COMPANY_17,)


@pytest.mark.parametrize("empty", [[], {}, "[]", "{}", "", "  "])
def test_default_placement_options_are_the_empty_status(empty: object) -> None:
    status = parse_options(empty)
    assert status == EMPTY_STATUS == CallStatus()
    assert (status.call_id, status.phone, status.entity, status.state) == (
        "",
        UNKNOWN_NUMBER,
        None,
        None,
    )
    assert status.direction is CallDirection.UNKNOWN


@pytest.mark.parametrize("raw", [None, 17, True, ["x"], [{"CALL_ID": "a"}], '"text"', "[1]"])
def test_placement_options_that_are_not_an_object(raw: object) -> None:
    with pytest.raises(ParseError):
        parse_options(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "{",
        "{'CALL_ID': 1}",
        pytest.param("[" * 100_000 + "]" * 100_000, id="deeply-nested"),
        pytest.param("1" * 5000, id="5000-digit-int"),
        pytest.param("[" + " " * 1_000_000 + "]", id="over-1MB"),
    ],
)
def test_placement_options_invalid_json(raw: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_options(raw)
    assert caught.value.what == "PLACEMENT_OPTIONS"


@pytest.mark.parametrize("raw", [None, [], "connected", 17, [GET_STATUS], True])
def test_get_status_that_is_not_an_object(raw: object) -> None:
    with pytest.raises(ParseError):
        parse_status(raw)


def test_unknown_keys_are_ignored() -> None:
    assert status_with(SOMETHING_NEW={"a": [1]}, LINE_NAME_2="x") == parse_status(GET_STATUS)


def test_all_items_primary_first_then_bindings_without_duplicates() -> None:
    bindings = [
        {"ENTITY_TYPE": "CONTACT", "ENTITY_ID": 42},
        {"ENTITY_TYPE": "COMPANY", "ENTITY_ID": 17},
    ]
    assert status_with(CRM_BINDINGS=bindings).all_items == (COMPANY_17, CONTACT_42)
    unbound = status_with(CRM_ENTITY_TYPE="", CRM_ENTITY_ID=0, CRM_BINDINGS=bindings)
    assert unbound.all_items == (CONTACT_42, COMPANY_17)


def test_merge_fills_gaps_of_the_same_call_only() -> None:
    sparse = CallStatus(call_id=GET_STATUS["CALL_ID"], state=CallState.IDLE)
    merged = merge(sparse, parse_options(PLACEMENT_OPTIONS))
    assert merged.state is CallState.IDLE
    assert merged.entity == COMPANY_17
    assert merged.phone.value == "+79001234567"
    other_call = CallStatus(call_id="E45D4025.1774588815.822533")
    assert merge(other_call, parse_options(PLACEMENT_OPTIONS)) is other_call


# --------------------------------------------------------------------------- strings and ids


@pytest.mark.parametrize("number", [17, "17", " 17 ", 17.0, "017"])
def test_ids_accepted(number: object) -> None:
    assert parse_id(number) == 17


@pytest.mark.parametrize(
    "number",
    [
        0,
        "0",
        -5,
        "-5",
        True,
        False,
        17.5,
        float("nan"),
        float("inf"),
        "",
        "17.0",
        "1e3",
        "undefined",
        JS_URL,
        "١٧",  # Arabic-Indic digits: str.isdigit() says yes, ids say no
        2**53,
        "9" * 17,
        pytest.param("1" * 100_000, id="100k-digits"),
        None,
        [17],
        {"id": 17},
    ],
)
def test_ids_rejected(number: object) -> None:
    assert parse_id(number) is None


def test_largest_safe_id_is_accepted() -> None:
    assert parse_id(MAX_SAFE_INTEGER) == MAX_SAFE_INTEGER


def test_bools_are_not_ids_anywhere() -> None:
    status = status_with(
        CRM_ENTITY_ID=True,
        CRM_ACTIVITY_ID=True,
        CRM_BINDINGS=[{"ENTITY_TYPE": "DEAL", "ENTITY_ID": True}],
    )
    assert (status.entity, status.activity_id, status.bindings) == (None, None, ())
    with pytest.raises(ValueError):
        CrmRef(EntityType.DEAL, True)


@pytest.mark.parametrize("bad", [0, -1, 2**53, "5"])
def test_crm_ref_cannot_be_built_invalid(bad: object) -> None:
    with pytest.raises(ValueError):
        CrmRef(EntityType.DEAL, bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CrmRef("DEAL", 5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("DEAL", EntityType.DEAL),
        (" lead ", EntityType.LEAD),
        ("Contact", EntityType.CONTACT),
        ("company", EntityType.COMPANY),
        ("", None),
        ("DEALS", None),
        (JS_URL, None),
        (HOSTILE_HTML, None),
        (2, None),
        (None, None),
    ],
)
def test_entity_type_parsing(raw: object, expected: EntityType | None) -> None:
    assert parse_entity_type(raw) is expected


def test_entity_type_numbers_and_path_segments() -> None:
    assert [(t.entity_type_id, t.path_segment) for t in EntityType] == [
        (1, "lead"),
        (2, "deal"),
        (3, "contact"),
        (4, "company"),
    ]
    assert CrmRef(EntityType.DEAL, 5).path == "/crm/deal/details/5/"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/crm/company/details/17/", "/crm/company/details/17/"),
        (" /crm/deal/details/05/ ", "/crm/deal/details/5/"),
        ("/crm/company/details/17/\n", "/crm/company/details/17/"),
        ("/crm/company/details/0/", None),
        ("/crm/quote/details/1/", None),
        ("/crm/company/details/17", None),
        ("/crm/company/details/17/?x=<script>", None),
        ("//evil.example/crm/deal/details/5/", None),
        ("https://evil.example/crm/deal/details/5/", None),
        (JS_URL, None),
        ("/CRM/DEAL/details/5/", None),
        (17, None),
        (None, None),
    ],
)
def test_uri(raw: object, expected: str | None) -> None:
    assert parse_crm_uri(raw) == expected
    assert options_with(URI=raw).uri == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+79001234567", CallerNumber("number", "+79001234567")),
        ("  +7 900 123-45-67 ", CallerNumber("number", "+7 900 123-45-67")),
        ("101", CallerNumber("number", "101")),
        (79001234567, CallerNumber("number", "79001234567")),
        (79001234567.0, CallerNumber("number", "79001234567")),
        ("hidden", HIDDEN_NUMBER),
        ("unknown", UNKNOWN_NUMBER),
        ("Undefined", UNKNOWN_NUMBER),
        ("", UNKNOWN_NUMBER),
        (None, UNKNOWN_NUMBER),
        ("anonymous", UNKNOWN_NUMBER),
        ("+", UNKNOWN_NUMBER),
        ("1" * 65, UNKNOWN_NUMBER),
        pytest.param("1" * 100_000, UNKNOWN_NUMBER, id="100k-digits"),
        (-5, UNKNOWN_NUMBER),
        (True, UNKNOWN_NUMBER),
        ("+7900" + RTL + "1234567", UNKNOWN_NUMBER),
        ("+7900\x001234567", UNKNOWN_NUMBER),
        ({"number": "+79001234567"}, UNKNOWN_NUMBER),
    ],
)
def test_caller_number(raw: object, expected: CallerNumber) -> None:
    assert parse_caller_number(raw) == expected


def test_caller_number_is_a_tagged_value() -> None:
    assert parse_caller_number("+1 555").is_number
    assert not HIDDEN_NUMBER.is_number
    with pytest.raises(ValueError):
        CallerNumber("number")
    with pytest.raises(ValueError):
        CallerNumber("hidden", "+1")


# --------------------------------------------------------------------------- hostile data
# (docs/host-contract.md#untrusted-data)


def test_hostile_strings_come_back_as_plain_text() -> None:
    status = status_with(LINE_NAME=HOSTILE_HTML, LINE_NUMBER=RTL + "1234", CALL_ID=HOSTILE_HTML)
    assert status.line_name == HOSTILE_HTML  # plain text: the view renders it as text
    assert status.line_number == RTL + "1234"
    assert status.call_id == HOSTILE_HTML


def test_hostile_values_are_rejected_where_they_would_be_ids_types_or_links() -> None:
    status = status_with(
        CRM_ENTITY_TYPE=JS_URL,
        CRM_ACTIVITY_ID=JS_URL,
        PHONE_NUMBER=HOSTILE_HTML.replace("1", ""),
        CRM_BINDINGS=[
            {"ENTITY_TYPE": "DEAL", "ENTITY_ID": JS_URL},
            {"ENTITY_TYPE": JS_URL, "ENTITY_ID": 5},
        ],
    )
    assert (status.entity, status.activity_id, status.bindings) == (None, None, ())
    assert status.phone == UNKNOWN_NUMBER
    assert status_with(CRM_ENTITY_ID=JS_URL).entity is None
    assert options_with(URI=JS_URL).uri is None


def test_huge_values_are_capped_or_rejected() -> None:
    huge = "x" * 100_000
    status = status_with(
        CALL_ID=huge,
        LINE_NAME=huge,
        LINE_NUMBER=huge,
        PHONE_NUMBER="7" * 100_000,
        CRM_ENTITY_ID="1" * 100_000,
    )
    assert status.line_name == "x" * MAX_TEXT_LEN
    assert status.line_number == "x" * MAX_TEXT_LEN
    assert status.call_id == ""  # an id is never truncated into another id
    assert status.phone == UNKNOWN_NUMBER
    assert status.entity is None


def test_call_id_up_to_its_cap_is_kept_whole() -> None:
    assert status_with(CALL_ID="c" * MAX_CALL_ID_LEN).call_id == "c" * MAX_CALL_ID_LEN


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ({"name": "x"}, ""),
        (["x"], ""),
        (True, ""),
        (17, "17"),
        (17.0, "17"),
        (float("nan"), ""),
        pytest.param(10**5000, "", id="5000-digit-int"),
        ("  Sales  ", "Sales"),
    ],
)
def test_string_fields_coerce(raw: object, expected: str) -> None:
    assert status_with(LINE_NAME=raw, LINE_NUMBER="").line_name == expected


# --------------------------------------------------------------------------- events
# (docs/host-contract.md#one-argument, #events)

STATE_PARAMS = {"failedCode": "486"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("connected",), ["connected"]),
        (("connected", STATE_PARAMS), ["connected", STATE_PARAMS]),
        ((["connected", STATE_PARAMS],), ["connected", STATE_PARAMS]),
        ((), []),
        (([],), []),
        ((None,), []),
        (("connected", None), ["connected"]),
        ([["connected", {"failedCode": 486}]], ["connected", {"failedCode": 486}]),
    ],
)
def test_event_argument_shapes(args: tuple[object, ...], expected: list[object]) -> None:
    assert normalise_event_args(args) == expected


@pytest.mark.parametrize("args", ["connected", None, {"state": "connected"}, 5])
def test_event_arguments_must_be_a_tuple(args: object) -> None:
    with pytest.raises(ParseError):
        normalise_event_args(args)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("connected",), StateChange(CallState.CONNECTED)),
        (("idle", {"failedCode": "486"}), StateChange(CallState.IDLE, "486")),
        ((["idle", {"failedCode": 480}],), StateChange(CallState.IDLE, "480")),
        ((), StateChange(None)),
        (([],), StateChange(None)),
        (("idle", {"FAILED_CODE": " 486 "}), StateChange(CallState.IDLE, "486")),
        (("idle", {"failed_code": 603.0}), StateChange(CallState.IDLE, "603")),
        (({"state": "connecting"},), StateChange(CallState.CONNECTING)),
        (({"CALL_STATE": "idle", "failedCode": "404"},), StateChange(CallState.IDLE, "404")),
        (("ringing",), StateChange(None)),
        ((HOSTILE_HTML,), StateChange(None)),
        (("idle", {"failedCode": "busy"}), StateChange(CallState.IDLE)),
        (("idle", {"failedCode": "4861"}), StateChange(CallState.IDLE)),
        (("idle", {"failedCode": True}), StateChange(CallState.IDLE)),
        (("idle", "486"), StateChange(CallState.IDLE)),
    ],
)
def test_state_event(args: tuple[object, ...], expected: StateChange) -> None:
    assert parse_state_event(args) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("486", "486"),
        (486, "486"),
        ("100", "100"),
        ("699", "699"),
        ("099", None),
        (700, None),
        ("48", None),
        ("", None),
        (None, None),
        (False, None),
        (486.5, None),
        ("٤٨٦", None),
    ],
)
def test_failed_code(raw: object, expected: str | None) -> None:
    assert parse_failed_code(raw) == expected


ENTITY_PAYLOAD = {"PHONE_NUMBER": "+79001234567", "CRM_ENTITY_TYPE": "CONTACT", "CRM_ENTITY_ID": 42}


@pytest.mark.parametrize(
    "args",
    [(ENTITY_PAYLOAD,), (ENTITY_PAYLOAD, {}), ([ENTITY_PAYLOAD],), ([ENTITY_PAYLOAD, None],)],
)
def test_entity_event_shapes(args: tuple[object, ...]) -> None:
    assert parse_entity_event(args) == EntityChange(
        CallerNumber("number", "+79001234567"), CONTACT_42
    )


def test_entity_event_with_unknown_phone_and_string_id() -> None:
    payload = {"PHONE_NUMBER": "unknown", "CRM_ENTITY_TYPE": "LEAD", "CRM_ENTITY_ID": "9"}
    assert parse_entity_event((payload,)) == EntityChange(
        UNKNOWN_NUMBER, CrmRef(EntityType.LEAD, 9)
    )


def test_entity_event_bound_to_nothing() -> None:
    payload = {"PHONE_NUMBER": "hidden", "CRM_ENTITY_TYPE": "", "CRM_ENTITY_ID": 0}
    assert parse_entity_event((payload,)) == EntityChange(HIDDEN_NUMBER, None)


@pytest.mark.parametrize("args", [(), ([],), (None,), ("connected",), (["x", {}],), ([[]],)])
def test_entity_event_without_payload(args: tuple[object, ...]) -> None:
    with pytest.raises(ParseError):
        parse_entity_event(args)


def test_before_close_arrives_as_empty_array() -> None:
    assert normalise_event_args(([],)) == []


# --------------------------------------------------------------------------- placement answers


def test_error_array_raises_placement_error() -> None:
    answer = [{"result": "error", "errorCode": "Call card is undefined"}]
    with pytest.raises(PlacementError) as caught:
        check_placement_answer("getStatus", answer)
    assert (caught.value.command, caught.value.code) == ("getStatus", "Call card is undefined")
    assert "Call card is undefined" in str(caught.value)
    with pytest.raises(ParseError):
        parse_status(answer)


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ({"result": "error", "errorCode": "PATH_NOT_AVAILABLE"}, "PATH_NOT_AVAILABLE"),
        ([{"result": "error"}], "unknown error"),
        ([{"x": 1}, {"errorCode": "E"}], "E"),
        ([{"result": "ERROR", "errorCode": {"nested": 1}}], "unknown error"),
        pytest.param([{"result": "error", "errorCode": "x" * 100_000}], "x" * 200, id="huge-code"),
    ],
)
def test_other_error_answers(answer: object, code: str) -> None:
    with pytest.raises(PlacementError) as caught:
        check_placement_answer("cmd", answer)
    assert caught.value.code == code


@pytest.mark.parametrize("answer", [[], GET_STATUS, {"result": "close"}, None, "ok", [1, "error"]])
def test_non_error_answers_pass_through(answer: object) -> None:
    assert check_placement_answer("cmd", answer) is answer


# --------------------------------------------------------------------------- REST
# (docs/host-contract.md#rest)


@pytest.mark.parametrize("error", [None, "", "  ", False, 0, {}, [], {"error": ""}])
def test_rest_success(error: object) -> None:
    data = {"item": {"id": 1}}
    assert rest_result("crm.item.get", error=error, data=data) is data


@pytest.mark.parametrize(
    ("error", "description", "code", "expected_description"),
    [
        ("NOT_FOUND", None, "NOT_FOUND", ""),
        ("NOT_FOUND", "Not found", "NOT_FOUND", "Not found"),
        ("ERROR_CORE: Internal error (500)", None, "ERROR_CORE", "Internal error"),
        ("expired_token: The token expired", "", "expired_token", "The token expired"),
        (
            {"error": "ACCESS_DENIED", "error_description": "No access"},
            None,
            "ACCESS_DENIED",
            "No access",
        ),
        (
            {"ex": {"error": "QUERY_LIMIT_EXCEEDED", "status": 503}},
            "Too many",
            "QUERY_LIMIT_EXCEEDED",
            "Too many",
        ),
        ({"status": 500}, None, "UNKNOWN_ERROR", ""),
        (True, None, "UNKNOWN_ERROR", ""),
        ("something went wrong!", None, "UNKNOWN_ERROR", "something went wrong!"),
    ],
)
def test_rest_errors(
    error: object, description: object, code: str, expected_description: str
) -> None:
    with pytest.raises(RestError) as caught:
        rest_result("crm.item.get", error=error, error_description=description, data=None)
    assert (caught.value.method, caught.value.code) == ("crm.item.get", code)
    assert caught.value.description == expected_description


def test_crm_item() -> None:
    raw = {
        "item": {
            "id": 17,
            "title": "  ACME  ",
            "name": "Ivan",
            "lastName": "Petrov",
            "secondName": None,
            "companyTitle": HOSTILE_HTML,
            "companyId": "4",
            "contactId": 0,
            "assignedById": "1",
            "post": {"x": 1},
            "unknown": [1, 2],
        }
    }
    assert parse_crm_item(raw) == CrmItem(
        id=17,
        title="ACME",
        name="Ivan",
        last_name="Petrov",
        second_name="",
        company_title=HOSTILE_HTML,
        company_id=4,
        contact_id=None,
        assigned_by_id=1,
        post="",
    )
    assert parse_crm_item({"id": "17"}).id == 17
    assert parse_crm_item({}) == CrmItem()


@pytest.mark.parametrize("raw", [None, [], "x", {"item": None}, {"item": []}])
def test_crm_item_not_an_object(raw: object) -> None:
    with pytest.raises(ParseError):
        parse_crm_item(raw)


def test_user() -> None:
    raw = [{"ID": "1", "NAME": " Anna ", "LAST_NAME": "Smirnova", "SECOND_NAME": "I."}]
    user = parse_user(raw)
    assert user == PortalUser(id=1, name="Anna", last_name="Smirnova", second_name="I.")
    assert user.full_name == "Anna Smirnova"
    assert parse_user({"ID": 2, "LAST_NAME": "Ivanov"}).full_name == "Ivanov"
    assert parse_user({"ID": 3}).full_name == ""


@pytest.mark.parametrize("raw", [[], None, [None], "x", 5])
def test_user_not_found_or_not_an_object(raw: object) -> None:
    with pytest.raises(ParseError):
        parse_user(raw)


# --------------------------------------------------------------------------- errors


def test_error_messages_and_attributes() -> None:
    unavailable = BridgeUnavailable("window.BX24 is null")
    assert unavailable.reason == "window.BX24 is null"
    assert "window.BX24 is null" in str(unavailable)

    timeout = CommandTimeout("getStatusX", 5.0)
    assert (timeout.command, timeout.timeout) == ("getStatusX", 5.0)
    assert "never answered" in str(timeout) and "5 s" in str(timeout)

    rest = RestError("crm.item.get", "NOT_FOUND", "Not found")
    assert str(rest) == "crm.item.get: NOT_FOUND: Not found"
    assert str(RestError("user.get", "X")) == "user.get: X"

    rest_timeout = RestTimeout("user.get", 10)
    assert isinstance(rest_timeout, RestError)
    assert (rest_timeout.code, rest_timeout.timeout) == ("TIMEOUT", 10)
    assert str(rest_timeout).startswith("user.get: TIMEOUT: no answer within 10 s")

    parse = ParseError("getStatus result", "expected an object, got array")
    assert isinstance(parse, ValueError)
    assert (parse.what, parse.detail) == ("getStatus result", "expected an object, got array")
    assert str(parse) == "cannot parse getStatus result: expected an object, got array"

    for error in (unavailable, timeout, rest, rest_timeout, parse, PlacementError("c", "E")):
        assert isinstance(error, BridgeError)


# --------------------------------------------------------------------------- small parsers


def test_parse_call_state_and_direction_helpers() -> None:
    assert parse_call_state("IDLE") is CallState.IDLE
    assert parse_call_state(None) is None
    assert parse_call_direction("incomingtransfer") is CallDirection.INCOMING_TRANSFER
    assert parse_call_direction(["incoming"]) is CallDirection.UNKNOWN
    assert parse_crm_ref("deal", "5") == CrmRef(EntityType.DEAL, 5)
    assert parse_crm_ref("deal", 0) is None
