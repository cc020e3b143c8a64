"""Property tests of callcard.client: for any JSON-shaped batch answer
(docs/host-contract.md#untrusted-data: portal data is untrusted) build_client returns a ClientInfo
whose texts are clean, short plain lines, and never raises; clean_text keeps its promises for any
string.
"""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import json_values

from bx24_bridge.crm_refs import CrmRef, EntityType
from bx24_bridge.errors import RestError, RestTimeout
from bx24_bridge.rest import RestOutcome
from callcard.client import (
    COMPANY,
    CONTACT,
    ITEM,
    MAX_NAME_LEN,
    PROBLEM_NO_ACCESS,
    PROBLEM_NOT_FOUND,
    PROBLEM_UNAVAILABLE,
    USER,
    ClientInfo,
    build_client,
    clean_text,
)

SETTINGS = settings(max_examples=300, deadline=None)

# Hostile text: controls, bidi overrides, joiners, combining marks, separators.
nasty_text = st.text(
    alphabet=st.sampled_from("aZ я<>&\"' \t\n\r\x00\x1b\x85\u00a0\u0301\u200b\u200d\u202e\u2028")
    | st.characters(),
    max_size=300,
)
ids = st.sampled_from([1, 5, 17, "17", 0, -1, "abc", None]) | json_values
texts = nasty_text | json_values

item_fields = st.fixed_dictionaries(
    {},
    optional={
        "id": ids,
        "title": texts,
        "name": texts,
        "lastName": texts,
        "secondName": texts,
        "companyTitle": texts,
        "companyId": ids,
        "contactId": ids,
        "assignedById": ids,
    },
)
user_fields = st.fixed_dictionaries(
    {}, optional={"ID": ids, "NAME": texts, "LAST_NAME": texts, "SECOND_NAME": texts}
)
data = (
    item_fields.map(lambda fields: {"item": fields})
    | item_fields
    | st.lists(user_fields, max_size=2)
    | json_values
)
errors = st.builds(RestError, st.just("crm.item.get"), st.text(max_size=30)) | st.builds(
    RestTimeout, st.just("batch"), st.floats(min_value=0, max_value=60)
)
outcomes = st.builds(RestOutcome, data=data) | st.builds(RestOutcome, error=errors)
batches = st.dictionaries(
    st.sampled_from([ITEM, COMPANY, CONTACT, USER]) | st.text(max_size=5),
    outcomes | json_values,
    max_size=5,
)
refs = st.builds(CrmRef, st.sampled_from(list(EntityType)), st.sampled_from([1, 5, 17]))

_ALLOWED_FORMAT = {"\u200c", "\u200d"}


def assert_clean(text: str) -> None:
    assert len(text) <= MAX_NAME_LEN
    assert text == text.strip()
    assert "  " not in text
    for char in text:
        category = unicodedata.category(char)
        assert category not in ("Cc", "Cs", "Zl", "Zp"), repr(char)
        assert category != "Cf" or char in _ALLOWED_FORMAT, repr(char)


@SETTINGS
@given(refs, batches)
def test_build_client_never_raises_and_keeps_its_promises(ref: CrmRef, batch: dict) -> None:
    info = build_client(ref, batch)
    assert isinstance(info, ClientInfo)
    assert info.entity == ref
    assert info.problem in (None, PROBLEM_NOT_FOUND, PROBLEM_NO_ACCESS, PROBLEM_UNAVAILABLE)
    assert_clean(info.name)
    for optional in (info.company, info.contact, info.responsible):
        assert optional is None or (isinstance(optional, str) and optional)
        if optional is not None:
            assert_clean(optional)
    if info.problem is not None:
        assert info == ClientInfo(entity=ref, problem=info.problem)
    if ref.type is not EntityType.DEAL:
        assert info.contact is None


@SETTINGS
@given(refs, item_fields)
def test_any_readable_item_of_the_right_id_has_no_problem(ref: CrmRef, fields: dict) -> None:
    fields = {**fields, "id": ref.id}
    info = build_client(ref, {ITEM: RestOutcome(data={"item": fields})})
    assert info.problem is None


@SETTINGS
@given(st.text(max_size=2000) | nasty_text, st.integers(min_value=1, max_value=300))
def test_clean_text_is_a_short_clean_idempotent_line(text: str, limit: int) -> None:
    cleaned = clean_text(text, limit)
    assert len(cleaned) <= limit
    assert cleaned == cleaned.strip()
    assert "\u202e" not in cleaned and "\n" not in cleaned
    assert clean_text(cleaned, limit) == cleaned
