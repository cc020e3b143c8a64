"""Drafts of the notes in localStorage: one per call and client, keys are safe, bad data is
dropped, a failing store is survived, the earlier format is still read, and pruning touches only
this app's old drafts."""

from __future__ import annotations

import json

import pytest

from callcard.drafts import (
    APP_PREFIX,
    KEY_PREFIX,
    LEGACY_CLIENT,
    LEGACY_PREFIX,
    MAX_AGE,
    MAX_KEY_PART_LEN,
    DraftStore,
    KeyValueStore,
    MemoryStore,
    StoredNote,
)

PORTAL = "example.bitrix24.ru"
CALL = "externalCall.c3ee1.1723556778"
NOW = 1_800_000_000.0
CLIENT = "contact-17"


def note(
    text: str = "text", updated: float = NOW, client: str = CLIENT, **kw: object
) -> StoredNote:
    return StoredNote(client, text, updated, **kw)  # type: ignore[arg-type]


class BrokenStore:
    """Every operation raises, like localStorage in a sandboxed iframe (SecurityError)."""

    def get(self, key: str) -> str | None:
        raise RuntimeError("SecurityError")

    def set(self, key: str, value: str) -> None:
        raise RuntimeError("SecurityError")

    def remove(self, key: str) -> None:
        raise RuntimeError("SecurityError")

    def keys(self) -> list[str]:
        raise RuntimeError("SecurityError")


class FullStore(MemoryStore):
    """Reads and removes work, writes fail: QuotaExceededError."""

    def set(self, key: str, value: str) -> None:
        raise RuntimeError("QuotaExceededError")


class NoRemoveStore(MemoryStore):
    def remove(self, key: str) -> None:
        raise RuntimeError("storage disabled")


def drafts(store: KeyValueStore | None = None, portal: str = PORTAL) -> DraftStore:
    return DraftStore(store if store is not None else MemoryStore(), portal)


# --------------------------------------------------------------------------- keys


def test_memory_store_behaves_like_local_storage() -> None:
    store = MemoryStore({"a": "1"})
    store.set("b", "2")
    store.remove("a")
    store.remove("missing")  # no error, like removeItem
    assert store.get("a") is None
    assert store.get("b") == "2"
    assert store.keys() == ["b"]


def test_key_format() -> None:
    assert drafts().draft_key(CALL, CLIENT) == f"callcard:draft:v2:{PORTAL}:{CALL}:{CLIENT}"
    assert drafts().draft_key(CALL, CLIENT).startswith(KEY_PREFIX)
    assert drafts().legacy_key(CALL) == f"callcard:draft:v1:{PORTAL}:{CALL}"
    assert KEY_PREFIX.startswith(APP_PREFIX) and LEGACY_PREFIX.startswith(APP_PREFIX)


def test_portal_is_case_insensitive_and_trimmed_call_id_is_not_folded() -> None:
    folded = drafts(portal=" Example.Bitrix24.RU ")
    assert folded.draft_key("A", "x") == drafts().draft_key("A", "x")
    assert drafts().draft_key("A", "x") != drafts().draft_key("a", "x")


@pytest.mark.parametrize(
    ("portal_a", "call_a", "portal_b", "call_b"),
    [
        ("a:b", "c", "a", "b:c"),  # a separator in a part cannot move the boundary
        ("a", "b%3Ac", "a", "b:c"),  # nor can text that looks like an escape
        ("p", "x y", "p", "x_y"),
        ("p", "звонок", "p", "?"),
    ],
)
def test_parts_are_escaped_so_keys_never_collide(
    portal_a: str, call_a: str, portal_b: str, call_b: str
) -> None:
    key_a = drafts(portal=portal_a).draft_key(call_a, "none-+7900")
    key_b = drafts(portal=portal_b).draft_key(call_b, "none-+7900")
    assert key_a != key_b
    for key in (key_a, key_b):
        assert key.count(":") == 5  # callcard : draft : v2 : portal : call : client
        assert key.isascii()


def test_a_client_cannot_reach_into_another_calls_keys() -> None:
    store = drafts()
    assert store.draft_key("a", "b:c") != store.draft_key("a:b", "c")
    assert not store.draft_key("a", "x").startswith(store.call_prefix("a:"))


def test_long_parts_are_capped_with_a_hash_and_stay_distinct() -> None:
    long_a, long_b = "x" * 1000 + "a", "x" * 1000 + "b"
    key_a, key_b = drafts().draft_key(long_a, CLIENT), drafts().draft_key(long_b, CLIENT)
    assert key_a != key_b
    assert len(key_a) <= len(KEY_PREFIX) + len(PORTAL) + MAX_KEY_PART_LEN + len(CLIENT) + 2
    assert "~" in key_a
    # A short id cannot forge the hashed form: "~" is always escaped.
    forged = key_a.rsplit(":", 2)[1]
    assert drafts().draft_key(forged, CLIENT) != key_a


def test_huge_portal_is_capped_too() -> None:
    key = drafts(portal="p" * 5000).draft_key(CALL, CLIENT)
    assert len(key) < 3 * MAX_KEY_PART_LEN + len(KEY_PREFIX) + 3


def test_lone_surrogates_do_not_break_keys_or_saving() -> None:
    store = drafts()
    assert store.save("id\ud800", note("note \udc00"))
    assert store.load("id\ud800") == [note("note \udc00")]


# --------------------------------------------------------------------------- save / load / remove


def test_save_then_load_round_trip() -> None:
    backing = MemoryStore()
    store = drafts(backing)
    header = {"direction": "incoming", "number": "+79001234567", "started": "2026-11-24T14:05"}
    saved = note("Клиент просит перезвонить\nзавтра", comment_id=501, saved=True, header=header)
    assert store.save(CALL, saved)
    assert store.load(CALL) == [saved]
    assert json.loads(backing.data[store.draft_key(CALL, CLIENT)]) == {
        "client": CLIENT,
        "text": "Клиент просит перезвонить\nзавтра",
        "updated": NOW,
        "comment_id": 501,
        "saved": True,
        "header": header,
    }


def test_a_draft_without_a_comment_stores_no_comment_fields() -> None:
    backing = MemoryStore()
    drafts(backing).save(CALL, note("abc", saved=True))
    [raw] = backing.data.values()
    assert json.loads(raw) == {"client": CLIENT, "text": "abc", "updated": NOW}


def test_each_client_of_a_call_has_its_own_note() -> None:
    store = drafts()
    store.save(CALL, note("Ivan", client="contact-17"))
    store.save(CALL, note("Maria", client="contact-18"))
    store.save("other call", note("elsewhere", client="contact-17"))
    assert sorted(n.text for n in store.load(CALL)) == ["Ivan", "Maria"]
    assert store.remove(CALL, "contact-17")
    assert [n.text for n in store.load(CALL)] == ["Maria"]


def test_save_overwrites_and_remove_forgets() -> None:
    store = drafts()
    store.save(CALL, note("one"))
    store.save(CALL, note("two", NOW + 1))
    assert store.load(CALL) == [note("two", NOW + 1)]
    assert store.remove(CALL, CLIENT)
    assert store.load(CALL) == []
    assert store.remove(CALL, CLIENT)  # removing nothing is fine


def test_drafts_are_per_portal_and_per_call() -> None:
    backing = MemoryStore()
    drafts(backing, "a.bitrix24.ru").save(CALL, note("portal a"))
    drafts(backing, "b.bitrix24.ru").save(CALL, note("portal b"))
    drafts(backing, "a.bitrix24.ru").save("other", note("other call"))
    assert drafts(backing, "a.bitrix24.ru").load(CALL) == [note("portal a")]
    assert drafts(backing, "b.bitrix24.ru").load(CALL) == [note("portal b")]


def test_the_earlier_format_is_read_as_the_first_clients_draft_and_can_be_removed() -> None:
    store = drafts()
    backing = MemoryStore({store.legacy_key(CALL): json.dumps({"text": "old", "updated": NOW})})
    store = drafts(backing)
    store.save(CALL, note("new"))
    assert store.load(CALL) == [StoredNote(LEGACY_CLIENT, "old", NOW), note("new")]
    assert store.remove(CALL, LEGACY_CLIENT)
    assert store.load(CALL) == [note("new")]


@pytest.mark.parametrize("call_id", ["", "   "])
def test_blank_call_id_has_no_draft(call_id: str) -> None:
    backing = MemoryStore()
    store = drafts(backing)
    assert store.save(call_id, note()) is False
    assert backing.data == {}
    assert store.load(call_id) == []
    assert store.remove(call_id, CLIENT) is False


def test_blank_client_is_refused() -> None:
    backing = MemoryStore()
    assert drafts(backing).save(CALL, note(client=" ")) is False
    assert backing.data == {}


@pytest.mark.parametrize("now", [float("nan"), float("inf")])
def test_save_refuses_a_timestamp_json_cannot_hold(now: float) -> None:
    backing = MemoryStore()
    assert drafts(backing).save(CALL, note(updated=now)) is False
    assert backing.data == {}


def test_a_blank_text_is_kept_only_while_it_names_its_comment() -> None:
    store = drafts()
    store.save(CALL, note("  ", client="a"))
    store.save(CALL, note("", client="b", comment_id=9))
    assert store.load(CALL) == [note("", client="b", comment_id=9)]


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not json",
        "{",
        "[]",
        "null",
        '"text"',
        "{}",
        '{"client": "contact-17", "text": 5, "updated": 1}',
        '{"client": "contact-17", "text": "a"}',
        '{"client": "contact-17", "text": "a", "updated": "1"}',
        '{"client": "contact-17", "text": "a", "updated": true}',
        '{"client": "contact-17", "text": "a", "updated": NaN}',
        '{"client": "contact-17", "text": "a", "updated": 1e999}',
        '{"client": "contact-17", "text": "   ", "updated": 1}',  # blank: nothing to restore
        '{"client": "contact-17", "text": "", "updated": 1, "comment_id": true}',
        '{"client": "contact-17", "text": "", "updated": 1, "comment_id": -4}',
        '{"text": "a", "updated": 1}',  # no client
        "[" * 100_000,  # nested too deeply for the decoder
    ],
)
def test_corrupt_entry_loads_as_nothing_and_is_removed(raw: str) -> None:
    key = drafts().draft_key(CALL, CLIENT)
    backing = MemoryStore({key: raw})
    assert drafts(backing).load(CALL) == []
    assert key not in backing.data


def test_a_note_that_names_another_client_than_its_key_is_dropped() -> None:
    key = drafts().draft_key(CALL, CLIENT)
    forged = json.dumps({"client": "contact-18", "text": "x", "updated": NOW})
    backing = MemoryStore({key: forged})
    assert drafts(backing).load(CALL) == []
    assert backing.data == {}


def test_odd_fields_are_read_safely() -> None:
    key = drafts().draft_key(CALL, CLIENT)
    raw = json.dumps({"client": CLIENT, "text": "a", "updated": 17, "saved": "yes",
                      "header": {"number": 5}, "comment_id": 3})
    assert drafts(MemoryStore({key: raw})).load(CALL) == [
        note("a", 17.0, comment_id=3, saved=False, header=None)
    ]


def test_non_string_value_from_the_store_is_corrupt() -> None:
    store = drafts()
    backing = MemoryStore()
    backing.data[store.draft_key(CALL, CLIENT)] = 42  # type: ignore[assignment]
    assert drafts(backing).load(CALL) == []
    assert backing.data == {}


# --------------------------------------------------------------------------- failing stores


def test_a_store_that_always_raises_never_breaks_anything() -> None:
    store = drafts(BrokenStore())
    assert store.save(CALL, note()) is False
    assert store.load(CALL) == []
    assert store.remove(CALL, CLIENT) is False
    assert store.prune(NOW) == 0


def test_quota_exceeded_on_save_is_reported_and_old_draft_still_loads() -> None:
    key = drafts().draft_key(CALL, CLIENT)
    older = json.dumps({"client": CLIENT, "text": "older", "updated": NOW})
    store = drafts(FullStore({key: older}))
    assert store.save(CALL, note("newer", NOW + 1)) is False
    assert store.load(CALL) == [note("older")]


def test_remove_failure_is_reported() -> None:
    store = drafts(NoRemoveStore())
    store.save(CALL, note())
    assert store.remove(CALL, CLIENT) is False
    assert store.prune(NOW + MAX_AGE + 1) == 0  # could not remove: not counted


def test_corrupt_entry_in_a_store_that_cannot_remove_still_loads_as_nothing() -> None:
    key = drafts().draft_key(CALL, CLIENT)
    assert drafts(NoRemoveStore({key: "garbage"})).load(CALL) == []


# --------------------------------------------------------------------------- prune


def test_prune_removes_old_and_corrupt_drafts_of_any_portal_only() -> None:
    backing = MemoryStore(
        {
            "unrelated": "keep me",
            "callcard:settings": "keep me",
            "otherapp:draft:v2:x:y:z": json.dumps({"text": "a", "updated": 0}),
        }
    )
    here, there = drafts(backing, "a.bitrix24.ru"), drafts(backing, "b.bitrix24.ru")
    here.save("fresh", note("fresh", NOW - 60))
    here.save("old", note("old", NOW - MAX_AGE - 1))
    there.save("old-elsewhere", note("old", NOW - MAX_AGE - 100))
    there.save("edge", note("exactly a week", NOW - MAX_AGE))
    backing.set(here.draft_key("corrupt", CLIENT), "{broken")
    backing.set(here.draft_key("future", CLIENT),
                json.dumps({"client": CLIENT, "text": "t", "updated": NOW + MAX_AGE + 5}))
    backing.set(here.legacy_key("old-v1"), json.dumps({"text": "t", "updated": 0}))
    backing.set(here.legacy_key("fresh-v1"), json.dumps({"text": "t", "updated": NOW}))

    assert here.prune(NOW) == 5
    assert here.load("fresh") == [note("fresh", NOW - 60)]
    assert there.load("edge") == [note("exactly a week", NOW - MAX_AGE)]
    assert set(backing.keys()) == {
        "unrelated",
        "callcard:settings",
        "otherapp:draft:v2:x:y:z",
        here.draft_key("fresh", CLIENT),
        there.draft_key("edge", CLIENT),
        here.legacy_key("fresh-v1"),
    }


def test_prune_with_a_custom_age() -> None:
    store = drafts()
    store.save("a", note("a", NOW - 100))
    store.save("b", note("b", NOW - 10))
    assert store.prune(NOW, max_age=50) == 1
    assert store.load("a") == []
    assert store.load("b") != []


def test_prune_judges_another_format_version_only_by_a_readable_age() -> None:
    backing = MemoryStore(
        {
            "callcard:draft:v3:p:old": json.dumps({"updated": NOW - MAX_AGE - 1, "x": 1}),
            "callcard:draft:v3:p:new": json.dumps({"updated": NOW, "x": 1}),
            "callcard:draft:v3:p:odd": "a format v2 cannot read",
        }
    )
    assert drafts(backing).prune(NOW) == 1
    assert set(backing.keys()) == {"callcard:draft:v3:p:new", "callcard:draft:v3:p:odd"}


def test_prune_survives_keys_that_vanish_or_fail_to_read() -> None:
    class Flaky(MemoryStore):
        def keys(self) -> list[str]:
            return [*super().keys(), "callcard:draft:v2:p:c:gone", 7]  # type: ignore[list-item]

        def get(self, key: str) -> str | None:
            if key.endswith(":boom"):
                raise RuntimeError("read failed")
            return super().get(key)

    backing = Flaky({"callcard:draft:v2:p:c:boom": "x"})
    assert drafts(backing).prune(NOW) == 0
    assert "callcard:draft:v2:p:c:boom" in backing.data


def test_a_lost_add_is_kept_with_its_note_and_odd_values_are_dropped() -> None:
    store = MemoryStore()
    drafts = DraftStore(store, "portal")
    assert drafts.save("c1", StoredNote("contact-17", "abc", 1000.0, lost="Incoming call\n\nabc"))
    [note] = drafts.load("c1")
    assert note.lost == "Incoming call\n\nabc"
    key = drafts.draft_key("c1", "contact-17")
    for odd in (5, "", "x" * 20_000, ["a"]):
        record = json.loads(store.get(key) or "{}")
        record["lost"] = odd
        store.set(key, json.dumps(record))
        [again] = drafts.load("c1")
        assert again.lost is None and again.text == "abc"


def test_an_add_on_its_way_is_marked_apart_from_the_notes_and_pruned_by_age() -> None:
    store = MemoryStore()
    drafts = DraftStore(store, "portal")
    assert drafts.mark_adding("c1", "contact-17", "Incoming call\n\nabc", 1000.0)
    assert drafts.adding("c1", "contact-17") == "Incoming call\n\nabc"
    assert drafts.adding("c1", "contact-18") is None and drafts.adding("c2", "contact-17") is None
    assert drafts.load("c1") == [], "a mark is not a note"
    assert not drafts.mark_adding("", "contact-17", "x", 1000.0)
    drafts.prune(1000.0 + 8 * 24 * 3600)
    assert drafts.adding("c1", "contact-17") is None
    drafts.mark_adding("c1", "contact-17", "x", 1000.0)
    assert drafts.clear_adding("c1", "contact-17") and drafts.adding("c1", "contact-17") is None
    store.set(drafts.adding_key("c1", "contact-17"), json.dumps({"comment": 5, "updated": 1}))
    assert drafts.adding("c1", "contact-17") is None
