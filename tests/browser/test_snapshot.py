"""The interpreter snapshot (cardserver/callcard-boot.mjs): the first card leaves one behind, the
next card starts from it and works the same; a snapshot that does not restore costs nothing but
a warning. Every other test switches snapshots off (CardPage.open), so each starts the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, CardPage

from cardserver.asgi import Options, create_app
from cardserver.dist import Manifest, build
from cardserver.serve import running
from tools.archives import with_extra_module

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
        card.page.wait_for_timeout(250)  # a poll's interval: the wait ends on what is stored
        waited += 250
    raise AssertionError(f"no snapshot stored after {SNAPSHOT_TIMEOUT_MS} ms: {sizes}")


#: Before the page's scripts: the stored snapshot's bytes come late (READ_DELAY_MS after they are
#: asked for), or their read fails, and the page notes when they arrived.
SLOW_OR_FAILING_READ = """((fails) => {
  const match = Cache.prototype.match;
  Cache.prototype.match = async function (...args) {
    const response = await match.apply(this, args);
    if (response && String(args[0]).includes("/callcard-interpreter-snapshot/")) {
      const read = response.arrayBuffer.bind(response);
      response.arrayBuffer = () => fails
        ? Promise.reject(new Error("the disk said no"))
        : new Promise((done) => setTimeout(done, READ_DELAY_MS)).then(read).then((bytes) => {
            window.__snapshotBytesAt = performance.now();
            return bytes;
          });
    }
    return response;
  };
})"""
READ_DELAY_MS = 400
WASM_REQUESTED = """performance.getEntriesByType("resource")
  .find((entry) => entry.name.endsWith("/pyodide.asm.wasm")).startTime"""


def slow_or_failing_read(*, fails: bool) -> str:
    script = SLOW_OR_FAILING_READ.replace("READ_DELAY_MS", str(READ_DELAY_MS))
    return f"{script}({'true' if fails else 'false'});"


def test_the_next_card_starts_from_the_snapshot_the_first_one_left(card: CardPage) -> None:
    card.open({"status": {"CALL_STATE": "connected"}}, snapshot=True)
    assert card.app_state == "ready"
    assert card.page.evaluate(RESTORED) == 0  # nothing stored yet: a normal start
    [size] = wait_for_stored_snapshot(card)

    second = card.another_tab()
    second.page.add_init_script(slow_or_failing_read(fails=False))
    second.open({"status": {"CALL_STATE": "connecting"}}, snapshot=True)
    assert second.app_state == "ready"
    assert second.page.evaluate(RESTORED) == 1
    # Reading the heap overlaps the runtime's own start: the wasm was asked for while its bytes
    # were still on their way (read first, they held the wasm back by the whole read).
    assert second.page.evaluate(WASM_REQUESTED) < second.page.evaluate("window.__snapshotBytesAt")
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


def test_a_snapshot_that_does_not_restore_or_cannot_be_read_is_dropped_and_the_card_starts(
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

    second = card.another_tab()
    second.open(snapshot=True)
    assert second.app_state == "ready"
    assert second.page.evaluate(RESTORED) == 0
    assert any("did not restore" in line for line in second.console)
    assert second.text("caller-number") == "+7 900 123-45-67"
    # The damaged entry is gone and a good one takes its place once the card is idle: the wait ends
    # only on a single entry of a real snapshot's size (the damage was 4096 bytes).
    wait_for_stored_snapshot(second)

    # A read that fails (while Pyodide is still fetching its files, so before it awaits the bytes)
    # is no start-up failure either: the start-up guard must not see it as an unhandled rejection.
    third = card.another_tab()
    third.page.add_init_script(slow_or_failing_read(fails=True))
    third.open(snapshot=True)
    assert third.app_state == "ready"
    assert third.page.evaluate(RESTORED) == 0
    assert any("did not restore" in line for line in third.console)
    assert third.errors == []


#: Counts the workers the page starts (the snapshot's is the only one the card has).
COUNT_WORKERS = """(() => {
  window.__workersStarted = 0;
  const Worker = window.Worker;
  window.Worker = function (...args) {
    window.__workersStarted += 1;
    return new Worker(...args);
  };
})();"""


@pytest.mark.own_context  # page.clock
def test_with_snapshots_switched_off_nothing_is_stored_or_used(card: CardPage) -> None:
    card.page.clock.install()
    card.page.add_init_script(COUNT_WORKERS)
    card.open()  # what every other test does
    assert card.app_state == "ready"
    # Switched on, the worker would start once the card is idle: SNAPSHOT_DELAY_MS (1 s) after
    # the boot, then an idle callback (at most 5 s later). Both are timers of the page's clock:
    # run it past them (they fire inside run_for) instead of sleeping and hoping.
    card.advance_clock(7)
    assert card.page.evaluate("window.__workersStarted") == 0
    assert card.page.evaluate(STORED_SIZES) == []
    assert card.page.evaluate(RESTORED) == 0


class Switchable:
    """One origin whose build can be replaced, as a deploy replaces it under the same URL."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def changed_stdlib(published: Path, tmp_path: Path) -> Path:
    """The build's standard library with one more module: what a changed compile list gives."""
    manifest = Manifest.load(published)
    [logical] = [name for name in manifest.files if name.endswith("/python_stdlib.zip")]
    archive = (published / "public" / manifest.path(logical)).read_bytes()
    changed = tmp_path / "python_stdlib.zip"
    changed.write_bytes(with_extra_module(archive, "callcard_rebuilt_marker.py", "REBUILT = 1\n"))
    return changed


def test_after_a_rebuild_with_another_archive_the_old_heap_is_never_restored(
    card: CardPage, published: Path, tmp_path: Path
) -> None:
    second_build = build(ROOT, tmp_path / "dist", stdlib=changed_stdlib(published, tmp_path),
                         compress=False)
    assert second_build.snapshot_key != Manifest.load(published).snapshot_key
    site = Switchable(create_app(published, Options(dev=True)))
    with running(site) as url:
        first = CardPage(card.context, url, card.guard)
        first.open(snapshot=True)
        wait_for_stored_snapshot(first)
        site.app = create_app(tmp_path / "dist", Options(dev=True))  # the deploy

        second = CardPage(card.context, url, card.guard)
        second.open({"status": {"CALL_STATE": "connected"}}, snapshot=True)
        assert second.app_state == "ready"
        assert second.page.evaluate(RESTORED) == 0  # not the other archive's heap
        second.wait_text("client-name", "Ivan Petrov")
        # The new build leaves its own snapshot, the only one: the old build's is dropped.
        stored_keys = f"""async () => (await (await caches.open({CACHE!r}))
            .keys()).map(request => request.url.split('/').pop())"""
        for _ in range(SNAPSHOT_TIMEOUT_MS // 250):
            keys = second.page.evaluate(stored_keys)
            if keys == [second_build.snapshot_key]:
                break
            second.page.wait_for_timeout(250)  # a poll's interval (see wait_for_stored_snapshot)
        assert keys == [second_build.snapshot_key]

        third = CardPage(card.context, url, card.guard)
        third.open(snapshot=True)
        assert third.page.evaluate(RESTORED) == 1  # the returning operator's fast path
        third.page.evaluate(f"caches.delete({CACHE!r})")  # this origin is the test's own
