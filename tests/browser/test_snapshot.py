"""The interpreter snapshot (cardserver/callcard-boot.mjs): the first card leaves one behind, the
next card starts from it and works the same; a snapshot that does not restore costs nothing but
a warning. Every other test switches snapshots off (CardPage.open), so each starts the same way.
"""

from __future__ import annotations

from conftest import CardPage

CACHE = "callcard-interpreter-snapshot"
STORED_SIZES = f"""async () => {{
  const cache = await caches.open({CACHE!r});
  const sizes = [];
  for (const request of await cache.keys()) {{
    sizes.push((await (await cache.match(request)).arrayBuffer()).byteLength);
  }}
  return sizes;
}}"""
RESTORED = "performance.getEntriesByName('callcard:snapshot-restored').length"
#: The worker boots a whole interpreter; on a busy 2-core machine that can take a while.
SNAPSHOT_TIMEOUT_MS = 60_000


def wait_for_stored_snapshot(card: CardPage) -> list[int]:
    """Poll CacheStorage (wait_for_function does not await a promise) until one snapshot is in."""
    waited = 0
    while waited < SNAPSHOT_TIMEOUT_MS:
        sizes = card.page.evaluate(STORED_SIZES)
        if len(sizes) == 1 and sizes[0] > 1_000_000:
            return sizes
        card.page.wait_for_timeout(250)
        waited += 250
    raise AssertionError(f"no snapshot stored after {SNAPSHOT_TIMEOUT_MS} ms: {sizes}")


def another_card(card: CardPage) -> CardPage:
    """A second tab in the same profile: what the next call's card would find."""
    return CardPage(card.context, card.app_url, card.guard)


def test_the_next_card_starts_from_the_snapshot_the_first_one_left(card: CardPage) -> None:
    card.open({"status": {"CALL_STATE": "connected"}}, snapshot=True)
    assert card.app_state == "ready"
    assert card.page.evaluate(RESTORED) == 0  # nothing stored yet: a normal start
    [size] = wait_for_stored_snapshot(card)

    second = another_card(card)
    second.open({"status": {"CALL_STATE": "connecting"}}, snapshot=True)
    assert second.app_state == "ready"
    assert second.page.evaluate(RESTORED) == 1
    # The restored interpreter runs the whole card: host data, events, the notes.
    assert second.text("caller-number") == "+7 900 123-45-67"
    second.wait_text("client-name", "Ivan Petrov")
    second.host("host.setState('connected')")
    second.wait_text("call-state", "Talking")
    notes = second.page.get_by_test_id("notes")
    notes.fill("Restored interpreter, same card")
    assert notes.input_value() == "Restored interpreter, same card"
    # Python's own start-up really came from the snapshot: CPython did not run it again.
    assert second.page.evaluate(STORED_SIZES) == [size]  # and nothing was made again


def test_a_snapshot_that_does_not_restore_is_dropped_and_the_card_starts_normally(
    card: CardPage,
) -> None:
    card.open(snapshot=True)
    wait_for_stored_snapshot(card)
    # Damage it in place, as a disk error or a half-written entry would.
    card.page.evaluate(f"""async () => {{
      const cache = await caches.open({CACHE!r});
      for (const request of await cache.keys()) {{
        await cache.put(request, new Response(new Uint8Array(4096).fill(7)));
      }}
    }}""")

    second = another_card(card)
    second.open(snapshot=True)
    assert second.app_state == "ready"
    assert second.page.evaluate(RESTORED) == 0
    assert any("did not restore" in line for line in second.console)
    assert second.text("caller-number") == "+7 900 123-45-67"
    # The damaged entry is gone; a good one takes its place once the card is idle.
    sizes = wait_for_stored_snapshot(second)
    assert 4096 not in sizes


def test_with_snapshots_switched_off_nothing_is_stored_or_used(card: CardPage) -> None:
    card.open()  # what every other test does
    assert card.app_state == "ready"
    card.page.wait_for_timeout(3000)  # the worker would have started by now
    assert card.page.evaluate(STORED_SIZES) == []
    assert card.page.evaluate(RESTORED) == 0
