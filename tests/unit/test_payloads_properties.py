"""Property tests: every parser of bx24_bridge.payloads survives any JSON-shaped input.

For arbitrary JSON-shaped data (what JSON.parse yields, converted to Python) each parser returns
its type or raises ParseError / PlacementError / RestError, never anything else
(docs/host-contract.md#untrusted-data of docs/host-contract.md#untrusted-data), and its results
keep their invariants.
"""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import json_values

from bx24_bridge.callcard_events import (
    EntityChange,
    StateChange,
    parse_entity_event,
    parse_state_event,
)
from bx24_bridge.crm_refs import CrmRef
from bx24_bridge.errors import ParseError, PlacementError, RestError
from bx24_bridge.payloads import MAX_CALL_ID_LEN, CallStatus, parse_options, parse_status
from bx24_bridge.phone_numbers import MAX_PHONE_LEN, CallerNumber, parse_caller_number
from bx24_bridge.placement_wire import check_placement_answer, normalise_event_args
from bx24_bridge.rest import rest_result
from bx24_bridge.wire import MAX_SAFE_INTEGER, MAX_TEXT_LEN, parse_id
from callcard.crm import CrmItem, PortalUser, parse_crm_item, parse_user

SETTINGS = settings(max_examples=200, deadline=None)


# Values the host really sends (docs/host-contract.md#status, #events), mixed with arbitrary ones,
# for the real keys.
REALISTIC = st.sampled_from(
    [
        "",
        "0",
        "17",
        " 17 ",
        "17.0",
        0,
        17,
        17.0,
        -1,
        2**53,
        True,
        False,
        "true",
        "false",
        "undefined",
        "null",
        "unknown",
        "hidden",
        "+79001234567",
        "LEAD",
        "deal",
        "CONTACT",
        "COMPANY",
        "idle",
        "connecting",
        "connected",
        "incoming",
        "incomingTransfer",
        "486",
        486,
        "error",
        "/crm/deal/details/5/",
        "javascript:alert(1)",
        "<img src=x onerror=alert(1)>",
        "\u202e",
        "x" * 2000,
    ]
)
field_values = REALISTIC | json_values
binding_rows = st.fixed_dictionaries(
    {}, optional={"ENTITY_TYPE": field_values, "ENTITY_ID": field_values}
)
STATUS_KEYS = [
    "CALL_ID",
    "PHONE_NUMBER",
    "LINE_NUMBER",
    "LINE_NAME",
    "CRM_ENTITY_TYPE",
    "CRM_ENTITY_ID",
    "CRM_ACTIVITY_ID",
    "CALL_DIRECTION",
    "CALL_STATE",
    "CALL_LIST_MODE",
    "URI",
]
status_like = st.fixed_dictionaries(
    {},
    optional={
        **{key: field_values for key in STATUS_KEYS},
        "CRM_BINDINGS": st.lists(binding_rows | json_values, max_size=5) | json_values,
    },
)
event_payloads = st.fixed_dictionaries(
    {},
    optional={
        key: field_values
        for key in [
            "PHONE_NUMBER",
            "CRM_ENTITY_TYPE",
            "CRM_ENTITY_ID",
            "state",
            "CALL_STATE",
            "failedCode",
            "FAILED_CODE",
            "failed_code",
        ]
    },
)
error_rows = st.fixed_dictionaries({}, optional={"result": field_values, "errorCode": field_values})
crm_items = st.fixed_dictionaries(
    {},
    optional={
        key: field_values
        for key in [
            "id",
            "title",
            "name",
            "lastName",
            "secondName",
            "companyTitle",
            "companyId",
            "contactId",
            "assignedById",
            "post",
        ]
    },
)
users = st.fixed_dictionaries(
    {}, optional={key: field_values for key in ["ID", "NAME", "LAST_NAME", "SECOND_NAME"]}
)

anything = json_values | status_like | event_payloads | st.lists(error_rows, max_size=3)
event_args = st.lists(field_values | event_payloads, max_size=3).map(tuple) | st.lists(
    field_values | event_payloads, max_size=3
).map(lambda items: (items,))


def check_ref(ref: CrmRef | None) -> None:
    if ref is not None:
        assert type(ref.id) is int and 0 < ref.id <= MAX_SAFE_INTEGER
        assert ref.path == f"/crm/{ref.type.path_segment}/details/{ref.id}/"


def check_number(number: CallerNumber) -> None:
    assert number.kind in ("number", "hidden", "unknown")
    if number.kind == "number":
        assert isinstance(number.value, str) and 0 < len(number.value) <= MAX_PHONE_LEN
        assert any(char.isascii() and char.isdigit() for char in number.value)
    else:
        assert number.value is None


def check_status(status: CallStatus) -> None:
    assert isinstance(status, CallStatus)
    assert isinstance(status.call_id, str) and len(status.call_id) <= MAX_CALL_ID_LEN
    for text in (status.line_number, status.line_name):
        assert isinstance(text, str) and len(text) <= MAX_TEXT_LEN
    check_number(status.phone)
    check_ref(status.entity)
    for ref in status.bindings:
        check_ref(ref)
    assert len(set(status.bindings)) == len(status.bindings)
    assert status.activity_id is None or (
        type(status.activity_id) is int and 0 < status.activity_id <= MAX_SAFE_INTEGER
    )
    assert isinstance(status.list_mode, bool)
    assert status.uri is None or status.uri.startswith("/crm/")
    assert len(set(status.all_items)) == len(status.all_items)


@SETTINGS
@given(anything)
def test_parse_status_never_leaks_other_errors(raw: object) -> None:
    try:
        status = parse_status(raw)
    except ParseError:
        assert not isinstance(raw, dict)
        return
    check_status(status)


@SETTINGS
@given(anything | st.text(max_size=40))
def test_parse_options_never_leaks_other_errors(raw: object) -> None:
    try:
        status = parse_options(raw)
    except ParseError:
        return
    check_status(status)


@SETTINGS
@given(status_like)
def test_parse_options_reads_its_json_text_like_the_object(raw: dict) -> None:
    assert parse_options(json.dumps(raw)) == parse_options(raw)


@SETTINGS
@given(event_args)
def test_normalise_event_args_is_a_flat_list(args: tuple) -> None:
    items = normalise_event_args(args)
    assert isinstance(items, list)
    assert not items or items[-1] is not None


@SETTINGS
@given(event_args | json_values)
def test_parse_state_event_never_leaks_other_errors(args: object) -> None:
    try:
        change = parse_state_event(args)
    except ParseError:
        assert not isinstance(args, tuple | list)
        return
    assert isinstance(change, StateChange)
    code = change.failed_code
    assert code is None or (len(code) == 3 and code.isascii() and code.isdigit())


@SETTINGS
@given(event_args | json_values)
def test_parse_entity_event_never_leaks_other_errors(args: object) -> None:
    try:
        change = parse_entity_event(args)
    except ParseError:
        return
    assert isinstance(change, EntityChange)
    check_number(change.phone)
    check_ref(change.entity)


@SETTINGS
@given(st.text(max_size=20), anything)
def test_check_placement_answer_returns_raw_or_raises_placement_error(
    command: str, raw: object
) -> None:
    try:
        answer = check_placement_answer(command, raw)
    except PlacementError as exc:
        assert exc.command == command
        assert isinstance(exc.code, str) and exc.code
        return
    assert answer is raw


@SETTINGS
@given(json_values | crm_items | st.fixed_dictionaries({"item": crm_items | json_values}))
def test_parse_crm_item_never_leaks_other_errors(raw: object) -> None:
    try:
        item = parse_crm_item(raw)
    except ParseError:
        return
    assert isinstance(item, CrmItem)
    for text in (item.title, item.name, item.last_name, item.second_name, item.post):
        assert isinstance(text, str) and len(text) <= MAX_TEXT_LEN


@SETTINGS
@given(json_values | users | st.lists(users | json_values, max_size=3))
def test_parse_user_never_leaks_other_errors(raw: object) -> None:
    try:
        user = parse_user(raw)
    except ParseError:
        return
    assert isinstance(user, PortalUser)
    assert isinstance(user.full_name, str) and user.full_name == user.full_name.strip()


@SETTINGS
@given(json_values | error_rows, json_values)
def test_rest_result_returns_data_or_raises_rest_error(error: object, description: object) -> None:
    data = object()
    try:
        assert rest_result("m", error=error, error_description=description, data=data) is data
    except RestError as exc:
        assert exc.method == "m" and exc.code


@SETTINGS
@given(field_values)
def test_scalar_parsers_are_total(value: object) -> None:
    number = parse_id(value)
    assert number is None or (type(number) is int and 0 < number <= MAX_SAFE_INTEGER)
    if isinstance(value, float) and math.isnan(value):
        assert number is None
    check_number(parse_caller_number(value))
