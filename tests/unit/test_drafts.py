"""Drafts of the notes in localStorage: keys are safe, bad data is dropped, a failing store is
survived, and pruning touches only this app's old drafts."""

from __future__ import annotations

import json

import pytest

from callcard.drafts import (
    APP_PREFIX,
    KEY_PREFIX,
    MAX_AGE,
    MAX_KEY_PART_LEN,
    Draft,
    DraftStore,
    KeyValueStore,
    MemoryStore,
)

PORTAL = "example.bitrix24.ru"
CALL = "externalCall.c3ee1.1723556778"
NOW = 1_800_000_000.0


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
    assert drafts().draft_key(CALL) == f"callcard:draft:v1:{PORTAL}:{CALL}"
    assert drafts().draft_key(CALL).startswith(KEY_PREFIX)
    assert KEY_PREFIX.startswith(APP_PREFIX)


def test_portal_is_case_insensitive_and_trimmed_call_id_is_not_folded() -> None:
    assert drafts(portal=" Example.Bitrix24.RU ").draft_key("A") == drafts().draft_key("A")
    assert drafts().draft_key("A") != drafts().draft_key("a")


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
    key_a = drafts(portal=portal_a).draft_key(call_a)
    key_b = drafts(portal=portal_b).draft_key(call_b)
    assert key_a != key_b
    for key in (key_a, key_b):
        assert key.count(":") == 4  # callcard : draft : v1 : portal : call
        assert key.isascii()


def test_long_parts_are_capped_with_a_hash_and_stay_distinct() -> None:
    long_a, long_b = "x" * 1000 + "a", "x" * 1000 + "b"
    key_a, key_b = drafts().draft_key(long_a), drafts().draft_key(long_b)
    assert key_a != key_b
    assert len(key_a) <= len(KEY_PREFIX) + len(PORTAL) + 1 + MAX_KEY_PART_LEN
    assert "~" in key_a
    # A short id cannot forge the hashed form: "~" is always escaped.
    forged = key_a.rsplit(":", 1)[1]
    assert drafts().draft_key(forged) != key_a


def test_huge_portal_is_capped_too() -> None:
    key = drafts(portal="p" * 5000).draft_key(CALL)
    assert len(key) < 2 * MAX_KEY_PART_LEN + len(KEY_PREFIX) + 2


def test_lone_surrogates_do_not_break_keys_or_saving() -> None:
    store = drafts()
    assert store.save("id\ud800", "note \udc00", NOW)
    assert store.load("id\ud800") == Draft("note \udc00", NOW)


# --------------------------------------------------------------------------- save / load / remove


def test_save_then_load_round_trip() -> None:
    backing = MemoryStore()
    store = drafts(backing)
    assert store.save(CALL, "Клиент просит перезвонить\nзавтра", NOW)
    assert store.load(CALL) == Draft("Клиент просит перезвонить\nзавтра", NOW)
    assert json.loads(backing.data[store.draft_key(CALL)]) == {
        "text": "Клиент просит перезвонить\nзавтра",
        "updated": NOW,
    }


def test_save_overwrites_and_remove_forgets() -> None:
    store = drafts()
    store.save(CALL, "one", NOW)
    store.save(CALL, "two", NOW + 1)
    assert store.load(CALL) == Draft("two", NOW + 1)
    assert store.remove(CALL)
    assert store.load(CALL) is None
    assert store.remove(CALL)  # removing nothing is fine


def test_drafts_are_per_portal_and_per_call() -> None:
    backing = MemoryStore()
    drafts(backing, "a.bitrix24.ru").save(CALL, "portal a", NOW)
    drafts(backing, "b.bitrix24.ru").save(CALL, "portal b", NOW)
    drafts(backing, "a.bitrix24.ru").save("other", "other call", NOW)
    assert drafts(backing, "a.bitrix24.ru").load(CALL) == Draft("portal a", NOW)
    assert drafts(backing, "b.bitrix24.ru").load(CALL) == Draft("portal b", NOW)


@pytest.mark.parametrize("call_id", ["", "   "])
def test_blank_call_id_has_no_draft(call_id: str) -> None:
    backing = MemoryStore()
    store = drafts(backing)
    assert store.save(call_id, "text", NOW) is False
    assert backing.data == {}
    assert store.load(call_id) is None
    assert store.remove(call_id) is False


@pytest.mark.parametrize("now", [float("nan"), float("inf")])
def test_save_refuses_a_timestamp_json_cannot_hold(now: float) -> None:
    backing = MemoryStore()
    assert drafts(backing).save(CALL, "text", now) is False
    assert backing.data == {}


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
        '{"text": 5, "updated": 1}',
        '{"text": "a"}',
        '{"text": "a", "updated": "1"}',
        '{"text": "a", "updated": true}',
        '{"text": "a", "updated": NaN}',
        '{"text": "a", "updated": 1e999}',
        '{"text": "   ", "updated": 1}',  # blank: nothing to restore
        "[" * 100_000,  # nested too deeply for the decoder
    ],
)
def test_corrupt_entry_loads_as_none_and_is_removed(raw: str) -> None:
    store = drafts(MemoryStore())
    backing = MemoryStore({store.draft_key(CALL): raw})
    store = drafts(backing)
    assert store.load(CALL) is None
    assert store.draft_key(CALL) not in backing.data


def test_non_string_value_from_the_store_is_corrupt() -> None:
    store = drafts()
    backing = MemoryStore()
    backing.data[store.draft_key(CALL)] = 42  # type: ignore[assignment]
    assert drafts(backing).load(CALL) is None
    assert backing.data == {}


def test_integer_timestamp_is_accepted() -> None:
    store = drafts()
    backing = MemoryStore({store.draft_key(CALL): '{"text": "a", "updated": 17}'})
    assert drafts(backing).load(CALL) == Draft("a", 17.0)


# --------------------------------------------------------------------------- failing stores


def test_a_store_that_always_raises_never_breaks_anything() -> None:
    store = drafts(BrokenStore())
    assert store.save(CALL, "text", NOW) is False
    assert store.load(CALL) is None
    assert store.remove(CALL) is False
    assert store.prune(NOW) == 0


def test_quota_exceeded_on_save_is_reported_and_old_draft_still_loads() -> None:
    key = drafts().draft_key(CALL)
    store = drafts(FullStore({key: json.dumps({"text": "older", "updated": NOW})}))
    assert store.save(CALL, "newer", NOW + 1) is False
    assert store.load(CALL) == Draft("older", NOW)


def test_remove_failure_is_reported() -> None:
    store = drafts(NoRemoveStore())
    store.save(CALL, "text", NOW)
    assert store.remove(CALL) is False
    assert store.prune(NOW + MAX_AGE + 1) == 0  # could not remove: not counted


def test_corrupt_entry_in_a_store_that_cannot_remove_still_loads_as_none() -> None:
    key = drafts().draft_key(CALL)
    assert drafts(NoRemoveStore({key: "garbage"})).load(CALL) is None


# --------------------------------------------------------------------------- prune


def test_prune_removes_old_and_corrupt_drafts_of_any_portal_only() -> None:
    backing = MemoryStore(
        {
            "unrelated": "keep me",
            "callcard:settings": "keep me",
            "otherapp:draft:v1:x:y": json.dumps({"text": "a", "updated": 0}),
        }
    )
    here, there = drafts(backing, "a.bitrix24.ru"), drafts(backing, "b.bitrix24.ru")
    here.save("fresh", "fresh", NOW - 60)
    here.save("old", "old", NOW - MAX_AGE - 1)
    there.save("old-elsewhere", "old", NOW - MAX_AGE - 100)
    there.save("edge", "exactly a week", NOW - MAX_AGE)
    backing.set(here.draft_key("corrupt"), "{broken")
    backing.set(here.draft_key("future"), json.dumps({"text": "t", "updated": NOW + MAX_AGE + 5}))

    assert here.prune(NOW) == 4
    assert here.load("fresh") == Draft("fresh", NOW - 60)
    assert there.load("edge") == Draft("exactly a week", NOW - MAX_AGE)
    assert backing.get("unrelated") == "keep me"
    assert backing.get("callcard:settings") == "keep me"
    assert backing.get("otherapp:draft:v1:x:y") is not None
    assert set(backing.keys()) == {
        "unrelated",
        "callcard:settings",
        "otherapp:draft:v1:x:y",
        here.draft_key("fresh"),
        there.draft_key("edge"),
    }


def test_prune_with_a_custom_age() -> None:
    store = drafts()
    store.save("a", "a", NOW - 100)
    store.save("b", "b", NOW - 10)
    assert store.prune(NOW, max_age=50) == 1
    assert store.load("a") is None
    assert store.load("b") is not None


def test_prune_judges_another_format_version_only_by_a_readable_age() -> None:
    backing = MemoryStore(
        {
            "callcard:draft:v2:p:old": json.dumps({"updated": NOW - MAX_AGE - 1, "x": 1}),
            "callcard:draft:v2:p:new": json.dumps({"updated": NOW, "x": 1}),
            "callcard:draft:v2:p:odd": "a format v1 cannot read",
        }
    )
    assert drafts(backing).prune(NOW) == 1
    assert set(backing.keys()) == {"callcard:draft:v2:p:new", "callcard:draft:v2:p:odd"}


def test_prune_survives_keys_that_vanish_or_fail_to_read() -> None:
    class Flaky(MemoryStore):
        def keys(self) -> list[str]:
            return [*super().keys(), "callcard:draft:v1:p:gone", 7]  # type: ignore[list-item]

        def get(self, key: str) -> str | None:
            if key.endswith(":boom"):
                raise RuntimeError("read failed")
            return super().get(key)

    backing = Flaky({"callcard:draft:v1:p:boom": "x"})
    assert drafts(backing).prune(NOW) == 0
    assert "callcard:draft:v1:p:boom" in backing.data
