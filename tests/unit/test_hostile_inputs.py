"""Property tests for the parsers and pure steps that other property tests do not reach.

docs/host-contract.md#untrusted-data: everything the portal sends is untrusted. The payload parsers
(test_payloads_properties.py), the client builder (test_client_properties.py) and the notes
machine (test_notes_properties.py) are fuzzed elsewhere; this file covers the rest of the path
from host data to the screen and to storage:

- ``callcard.installer``: ``placement.get`` rows and the handler URLs in them;
- ``callcard.present``: any CallStatus the parsers can produce, any tracker history, any portal
  domain -> only plain text and CRM links built from an allowed type and a positive id;
- ``callcard.phone.format_number`` with arbitrary Unicode, including huge values;
- ``callcard.drafts`` over a store that raises, lies about its types, or vanishes mid-way;
- ``bx24_bridge.wire.json_too_deep``, the guard that keeps absurdly nested host JSON away
  from ``json.loads`` (under Pyodide that overflows the stack and ends the interpreter).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from strategies import json_values

from bx24_bridge.crm_refs import CrmRef, EntityType
from bx24_bridge.errors import ParseError
from bx24_bridge.payloads import CallDirection, CallState, CallStatus, parse_options, parse_status
from bx24_bridge.phone_numbers import CallerNumber
from bx24_bridge.rest import RestOutcome
from bx24_bridge.wire import MAX_JSON_DEPTH, json_too_deep
from callcard.callstate import CallTracker
from callcard.client import ClientInfo, build_client
from callcard.drafts import APP_PREFIX, KEY_PREFIX, DraftStore, MemoryStore, StoredNote
from callcard.i18n import CATALOGUE, Translator
from callcard.installer import (
    PLACEMENT,
    TAB_TITLES,
    Binding,
    derive_handler_url,
    normalise_url,
    parse_bindings,
    plan_install,
)
from callcard.phone import format_number
from callcard.present import present, present_client

SETTINGS = settings(max_examples=200, deadline=None)

# --------------------------------------------------------------------------- strategies

HOSTILE_STRINGS = [
    "",
    " ",
    "<img src=x onerror=\"window.__pwned=1\">",
    "<script>window.__pwned=1</script>",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<b>x</b>",
    "\u202eevil\u202c",
    "\u200b\u200d\ufeff",
    "\x00\x1b[31m\r\n",
    "%2e%2e/%2e%2e/",
    "../../etc/passwd",
    "x" * 100_000,
    "9" * 5_000,
    "+" + "7" * 3_000,
    "\ud800",
    "Z\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301",
]
hostile_text = st.sampled_from(HOSTILE_STRINGS) | st.text(max_size=60)
# Everything Unicode has, surrogates included (JavaScript strings may carry lone ones).
any_unicode = st.text(alphabet=st.characters(codec=None, categories=None), max_size=80)
field_values = st.sampled_from(
    ["17", 17, 0, -3, "0", "LEAD", "deal", "Contact", "COMPANY", "idle", "connecting",
     "connected", "hidden", "unknown", "+79001234567", "true", "incoming", "callback"]
) | hostile_text | json_values
STATUS_KEYS = (
    "CALL_ID", "PHONE_NUMBER", "LINE_NUMBER", "LINE_NAME", "CRM_ENTITY_TYPE", "CRM_ENTITY_ID",
    "CRM_ACTIVITY_ID", "CALL_DIRECTION", "CALL_STATE", "CALL_LIST_MODE", "URI",
)
binding_rows = st.fixed_dictionaries(
    {}, optional={"ENTITY_TYPE": field_values, "ENTITY_ID": field_values}
)
raw_statuses = st.fixed_dictionaries(
    {},
    optional={
        **{key: field_values for key in STATUS_KEYS},
        "CRM_BINDINGS": st.lists(binding_rows | json_values, max_size=6),
    },
)
refs = st.builds(
    CrmRef, st.sampled_from(list(EntityType)), st.integers(min_value=1, max_value=2**53 - 1)
)
# CallStatus built directly, bypassing the parser: what a future caller might hand present().
direct_statuses = st.builds(
    CallStatus,
    call_id=hostile_text,
    phone=st.sampled_from([CallerNumber("hidden"), CallerNumber("unknown")])
    | st.builds(CallerNumber, st.just("number"), hostile_text),
    line_number=hostile_text,
    line_name=hostile_text,
    entity=st.none() | refs,
    bindings=st.lists(refs, max_size=5).map(tuple),
    direction=st.sampled_from(list(CallDirection)),
    state=st.none() | st.sampled_from(list(CallState)),
    list_mode=st.booleans(),
)
statuses = raw_statuses.map(parse_status) | direct_statuses
tracker_moves = st.lists(
    st.tuples(
        st.none() | st.sampled_from(list(CallState)),
        st.none() | st.sampled_from(["486", "480", "699", "abc", "", "1234"]),
        st.floats(min_value=0, max_value=5_000, allow_nan=False),
    ),
    max_size=12,
)
portals = st.sampled_from(
    [
        None,
        "https://example.bitrix24.com",
        "http://portal.example:8080",
        "https://evil.example/crm/",
        "javascript:alert(1)//",
        "https://user:pass@evil.example",
        "https://example.bitrix24.com\n.evil.example",
        "HTTPS://EXAMPLE.BITRIX24.COM",
    ]
) | hostile_text
languages = st.sampled_from(sorted(CATALOGUE))

SAFE_ORIGIN = r"https?://[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?"
CRM_HREF = re.compile(
    rf"(?:{SAFE_ORIGIN})?/crm/(lead|deal|contact|company)/details/([1-9][0-9]{{0,15}})/"
)


# --------------------------------------------------------------------------- installer

installer_rows = st.fixed_dictionaries(
    {},
    optional={
        "placement": st.sampled_from([PLACEMENT, "CRM_LEAD_DETAIL_TAB", "call_card"])
        | field_values,
        "handler": st.sampled_from(
            [
                "https://cards.example.com/callcard/",
                "https://CARDS.example.com:443/callcard/",
                "https://old.example.com/x/",
                "http://[::1",  # urlsplit raises on these three
                "https://cards.example.com:99999/",
                "https://cards.example.com:port/",
                "javascript:alert(1)",
            ]
        )
        | hostile_text,
        "title": st.sampled_from([TAB_TITLES["en"], "Old title"]) | field_values,
    },
)
# Rows as the portal really lists them (placement and handler present), with hostile handlers
# and spellings of one URL that normalise alike.
realistic_rows = st.fixed_dictionaries(
    {
        "placement": st.sampled_from([PLACEMENT, PLACEMENT, PLACEMENT, "CRM_DEAL_DETAIL_TAB"]),
        "handler": st.sampled_from(
            [
                "https://cards.example.com/callcard/",
                "https://CARDS.example.com:443/callcard/",
                "https://old.example.com/x/",
                "https://OLD.example.com/x/",
                "https://old.example.com:443/x/",
                "http://[::1",
                "https://old.example.com:99999/",
                "javascript:alert(1)",
            ]
        ),
        "title": st.sampled_from([TAB_TITLES["en"], "Old title", ""]),
    }
)
placement_answers = (
    st.lists(realistic_rows | installer_rows | json_values, max_size=6) | json_values
)
OUR_HANDLER = "https://cards.example.com/callcard/"


def apply_to_portal(portal: list[Binding], handler: str) -> list[Binding]:
    """What the portal holds after the planned calls: unbind removes exact handler matches
    (or, without HANDLER, every CALL_CARD tab); bind adds one."""
    for step in plan_install(portal, handler):
        if step.kind == "unbind":
            gone = step.params.get("HANDLER")
            portal = [
                b for b in portal
                if b.placement != PLACEMENT or (gone is not None and b.handler != gone)
            ]
        else:
            portal = [*portal, Binding(PLACEMENT, str(step.params["HANDLER"]),
                                       str(step.params["TITLE"]))]
    return portal


@SETTINGS
@given(placement_answers)
def test_parse_bindings_keeps_only_well_formed_rows_of_any_answer(raw: object) -> None:
    """Whatever placement.get answers, parse_bindings returns Binding rows with a non-empty
    string handler and string placement/title, and never raises."""
    bindings = parse_bindings(raw)
    assert isinstance(bindings, list)
    for binding in bindings:
        assert isinstance(binding, Binding)
        assert isinstance(binding.placement, str)
        assert isinstance(binding.handler, str) and binding.handler
        assert isinstance(binding.title, str)


@SETTINGS
@given(st.sampled_from(["http://[::1", "https://h.example:99999/", "https://h.example:x/"])
       | hostile_text | any_unicode)
@example("\x08\xa00")  # a control char hid a no-break space from strip(), not from urlsplit
@example("0 #")  # dropping the fragment bared the space before it
@example("? #")  # ... and then the emptied query dropped its '?'
def test_normalise_url_never_raises_on_a_handler_from_the_portal(url: str) -> None:
    """Handler URLs come back from the portal (placement.get): a malformed one (bad port, a
    broken IPv6 literal) must not crash the install page, and the result is stable."""
    normal = normalise_url(url)
    assert isinstance(normal, str)
    assert normalise_url(normal) == normal
    derived = derive_handler_url("https://cards.example.com/callcard/install.html", url)
    assert isinstance(derived, str)


@SETTINGS
@given(placement_answers)
def test_one_install_run_converges_whatever_the_portal_held(raw: object) -> None:
    """Install on any portal state, then plan again: nothing is left to do, exactly one
    CALL_CARD tab points at our handler, and other placements were never touched."""
    before = parse_bindings(raw)
    after = apply_to_portal(before, OUR_HANDLER)
    assert plan_install(after, OUR_HANDLER) == []
    cards = [b for b in after if b.placement == PLACEMENT]
    assert [normalise_url(b.handler) for b in cards] == [normalise_url(OUR_HANDLER)]
    assert [b for b in after if b.placement != PLACEMENT] == [
        b for b in before if b.placement != PLACEMENT
    ]


# --------------------------------------------------------------------------- present


def drive(status: CallStatus, moves: list[tuple[Any, Any, float]]) -> tuple[CallTracker, float]:
    now = 0.0
    tracker = CallTracker(status.state, now)
    for state, code, step in moves:
        now += step
        tracker.apply(state, code, now)
    return tracker, now


@SETTINGS
@given(statuses, tracker_moves, portals, languages)
def test_present_gives_text_and_only_safe_crm_links(
    status: CallStatus, moves: list, portal: str | None, lang: str
) -> None:
    """For any status and history: every field is a string (or None where allowed), the state
    is one of the phase words, and every link is /crm/<allowed type>/details/<id>/ under
    a plain http(s) origin or none, with its type and id taken from a validated CrmRef."""
    t = Translator(lang)
    tracker, now = drive(status, moves)
    text = present(status, tracker, t, portal=portal, now=now)
    for value in (text.caller_number, text.call_direction, text.call_timer, text.line):
        assert isinstance(value, str)
    phases = {t(f"phase.{phase}") for phase in
              ("waiting", "connecting", "talking", "ended", "not_connected")}
    assert text.call_state in phases
    links = ([text.crm_entity] if text.crm_entity else []) + list(text.crm_bindings)
    for link in links:
        match = CRM_HREF.fullmatch(link.href)
        assert match is not None, link.href
        assert (match.group(1), int(match.group(2))) == (link.type, link.id)
        assert link.path == f"/crm/{link.type}/details/{link.id}/"
        assert link.href.endswith(link.path)
    assert len({(link.type, link.id) for link in links}) == len(links)
    expected = {(ref.type.path_segment, ref.id) for ref in status.all_items}
    assert {(link.type, link.id) for link in links} == expected
    assert (text.crm_unbound is None) == bool(links)


item_answers = st.fixed_dictionaries(
    {
        "item": st.dictionaries(
            st.sampled_from(
                ["id", "name", "lastName", "title", "companyTitle", "companyId", "assignedById"]
            ),
            field_values,
            max_size=6,
        )
    }
)
batches = st.dictionaries(
    st.sampled_from(["item", "company", "contact", "user"]),
    st.builds(RestOutcome, data=json_values | item_answers),
    max_size=4,
)


@SETTINGS
@given(refs, batches, st.booleans(), st.booleans(), hostile_text, languages)
def test_present_client_says_something_sensible_for_any_answer(
    ref: CrmRef, batch: dict, bound: bool, loading: bool, number: str, lang: str
) -> None:
    """present_client never raises and gives plain strings: "new client" and the number when
    unbound, an empty name while loading (never a stale one), and otherwise the cleaned name."""
    t = Translator(lang)
    info: ClientInfo | None = build_client(ref, batch)
    for candidate in (info, None):
        text = present_client(candidate, t, bound=bound, loading=loading, number=number)
        assert isinstance(text.name, str) and isinstance(text.details, str)
        assert text.problem is None or isinstance(text.problem, str)
        if not bound:
            assert (text.name, text.details) == (t("client.new"), number)
        elif loading or candidate is None:
            assert text.name == ""
        else:
            assert text.name in (candidate.name, t("client.unnamed"), "")
            assert "\n" not in text.name and len(text.name) <= 200


# --------------------------------------------------------------------------- phone numbers


@SETTINGS
@given(any_unicode | hostile_text)
def test_format_number_takes_any_unicode_and_invents_nothing(text: str) -> None:
    """format_number never raises, never adds a character that is not a digit of the input or
    a separator, and is idempotent (formatting a shown number again changes nothing)."""
    shown = format_number(text)
    assert isinstance(shown, str)
    assert set(shown) <= set(text) | set(" -+")
    assert format_number(shown) == shown
    plain = re.fullmatch(r"\+?[0-9]+", re.sub(r"[ \t\u00a0().\-]", "", text.strip()))
    if plain is None:
        assert shown == text.strip()
    else:
        assert re.sub(r"[^0-9]", "", shown) == re.sub(r"[^0-9]", "", text)


def test_format_number_of_a_huge_value_is_fast() -> None:
    """100,000 digits (or characters) are handled in linear time, not hung on."""
    start = time.perf_counter()
    for value in ("+" + "7" * 100_000, "1 " * 50_000, "\u202e" * 100_000, "x" * 100_000):
        assert isinstance(format_number(value), str)
    assert time.perf_counter() - start < 1.0


# --------------------------------------------------------------------------- drafts


class ChaosStore:
    """A KeyValueStore that misbehaves on a script: each call pops the next behaviour.

    ``"ok"`` works like localStorage; ``"raise"`` raises; ``"junk"`` returns a wrong type
    (a number, bytes, a dict, or for keys() a generator that dies half-way).
    """

    def __init__(self, script: list[str]) -> None:
        self.inner = MemoryStore()
        self.script = list(script)

    def _next(self) -> str:
        return self.script.pop(0) if self.script else "ok"

    def get(self, key: str) -> Any:
        mode = self._next()
        if mode == "raise":
            raise RuntimeError("SecurityError: storage disabled")
        if mode == "junk":
            return {"text": "not a string from the store"}
        return self.inner.get(key)

    def set(self, key: str, value: str) -> None:
        mode = self._next()
        if mode == "raise":
            raise OSError("QuotaExceededError")
        if mode == "ok":
            self.inner.set(key, value)

    def remove(self, key: str) -> None:
        if self._next() == "raise":
            raise PermissionError("removeItem refused")
        self.inner.remove(key)

    def keys(self) -> Any:
        mode = self._next()
        if mode == "raise":
            raise RuntimeError("length unavailable")
        if mode == "junk":
            return self._dying_keys()
        return self.inner.keys()

    def _dying_keys(self) -> Iterator[object]:
        yield 42
        yield None
        yield from self.inner.keys()
        raise RuntimeError("the store vanished while being listed")


store_scripts = st.lists(st.sampled_from(["ok", "ok", "raise", "junk"]), max_size=12)
store_ops = st.lists(
    st.tuples(
        st.sampled_from(["save", "load", "remove", "prune"]),
        st.sampled_from(["call-1", "call:2", " call-1 ", "", "\ud800", "x" * 500]) | any_unicode,
        hostile_text | any_unicode,
    ),
    max_size=10,
)


@SETTINGS
@given(store_scripts, store_ops, st.sampled_from(["portal.example", "", "EVIL:portal"]))
def test_drafts_never_raise_whatever_the_store_does(
    script: list[str], ops: list[tuple[str, str, str]], portal: str
) -> None:
    """Every DraftStore method returns its documented type whatever the store raises or returns,
    and a store that failed can never make load() hand back another call's text."""
    store = ChaosStore(script)
    drafts = DraftStore(store, portal)
    for op, call_id, text in ops:
        if op == "save":
            stored = StoredNote(text[:8] or "c", text, 1_000.0)
            assert isinstance(drafts.save(call_id, stored), bool)
        elif op == "load":
            notes = drafts.load(call_id)
            assert all(isinstance(n, StoredNote) and n.text.strip() for n in notes)
        elif op == "remove":
            assert isinstance(drafts.remove(call_id, text[:8] or "c"), bool)
        else:
            assert isinstance(drafts.prune(1_000.0 + 8 * 24 * 3600), int)
    for key, raw in store.inner.data.items():
        assert key.startswith(KEY_PREFIX)
        assert isinstance(json.loads(raw)["text"], str)


@SETTINGS
@given(st.lists(any_unicode | hostile_text, min_size=2, max_size=5, unique_by=str.strip),
       any_unicode | hostile_text, st.text(min_size=1, max_size=50).filter(str.strip))
def test_hostile_call_ids_get_their_own_key_and_their_own_text_back(
    call_ids: list[str], portal: str, text: str
) -> None:
    """Call ids and portal names are untrusted: whatever they hold, each call's key is its own,
    is one ``callcard:draft:v2:<portal>:<id>:<client>`` line of bounded length, and round-trips
    its text."""
    drafts = DraftStore(MemoryStore(), portal)
    usable = [call_id for call_id in call_ids if call_id.strip()]
    keys = {drafts.draft_key(call_id, "contact-1") for call_id in usable}
    assert len(keys) == len(usable)
    for key in keys:
        assert key.startswith(KEY_PREFIX) and key.startswith(APP_PREFIX)
        assert key.count(":") == KEY_PREFIX.count(":") + 2
        assert len(key) <= len(KEY_PREFIX) + 3 * 128 + 2
        assert key.isprintable() and key.isascii()
    for index, call_id in enumerate(usable):
        assert drafts.save(call_id, StoredNote("contact-1", f"{index}:{text}", 5.0))
    for index, call_id in enumerate(usable):
        [loaded] = drafts.load(call_id)
        assert loaded.text == f"{index}:{text}"


# --------------------------------------------------------------------------- nesting depth


def nesting(value: object) -> int:
    """Reference depth of a decoded JSON value: 1 per array or object level."""
    if isinstance(value, list):
        return 1 + max((nesting(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((nesting(item) for item in value.values()), default=0)
    return 0


bracket_text = st.text(alphabet='[]{}"\\:,x ', max_size=20)
nested_values = st.recursive(
    st.none() | st.integers() | bracket_text | hostile_text,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(bracket_text, children, max_size=3),
    max_leaves=25,
)


@SETTINGS
@given(nested_values, st.integers(min_value=0, max_value=8))
def test_json_too_deep_agrees_with_the_real_depth(value: object, limit: int) -> None:
    """For any JSON text (strings full of brackets, quotes and backslashes included), the
    guard says "too deep" exactly when the decoded value nests deeper than the limit."""
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False, indent=1)):
        assert json_too_deep(text, limit) == (nesting(value) > limit)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 1_000_000,
        '"' + '\\"' * 500_000,  # an unterminated string of escaped quotes
        '"' + "\\" * 1_000_001,
        "[" + '"x",' * 250_000 + "1]",
        '{"a":' * 200_000,
    ],
)
def test_json_too_deep_is_linear_on_adversarial_text(text: str) -> None:
    """A megabyte of the worst text for a backtracking scanner is judged in well under a
    second (the host's PLACEMENT_OPTIONS string may be anything)."""
    start = time.perf_counter()
    json_too_deep(text)
    assert time.perf_counter() - start < 1.0


def test_deep_placement_options_are_refused_before_decoding() -> None:
    """Options nested past MAX_JSON_DEPTH are a ParseError, decided without json.loads (whose
    recursion limit is no protection under Pyodide); realistic nesting still parses."""
    deep = '{"CALL_ID": "c1", "X": ' + "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1) + "}"
    with pytest.raises(ParseError, match="nested too deeply"):
        parse_options(deep)
    fine = '{"CALL_ID": "c1", "X": ' + "[" * 10 + "]" * 10 + "}"
    assert parse_options(fine).call_id == "c1"
