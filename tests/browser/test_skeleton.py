"""The walking skeleton: the page boots Python offline and reaches the right state."""

from __future__ import annotations

import urllib.request

from conftest import START_THE_CARD, CardPage, Harness


def test_reaches_ready_with_the_fake_and_renders_get_status(card: CardPage) -> None:
    card.open({"status": {"PHONE_NUMBER": "+74957778899", "CALL_STATE": "connected"}})
    assert card.app_state == "ready"
    assert card.text("caller-number") == "+7 495 777-88-99"
    assert card.text("call-state") == "Talking"
    assert card.guard.library_requests == 1
    # The mark the benchmark reads is set together with the state.
    assert card.page.evaluate("performance.getEntriesByName('callcard:ready').length") == 1
    assert any(e["kind"] == "command" and e["name"] == "getStatus" for e in card.host("host.log"))


def test_outside_bitrix24_says_so_plainly(card: CardPage) -> None:
    card.open(library="outside")
    assert card.app_state == "outside"
    message = card.text("app-status")
    assert "Bitrix24" in message and "call card" in message
    assert card.page.get_by_role("link").get_attribute("href") == "./simulator/"


def test_outside_when_the_library_does_not_load_at_all(card: CardPage) -> None:
    card.open(library="missing")
    assert card.app_state == "outside"


def test_outside_when_opened_in_another_placement(card: CardPage) -> None:
    card.open({"placement": "DEFAULT"})
    assert card.app_state == "outside"


def test_post_to_root_answers_like_get(app_url: str) -> None:
    with urllib.request.urlopen(app_url) as got:
        get_body, get_type = got.read(), got.headers["Content-Type"]
    form = (b"DOMAIN=example.bitrix24.com&AUTH_ID=secret&PLACEMENT=CALL_CARD"
            b"&PLACEMENT_OPTIONS=%7B%7D")
    request = urllib.request.Request(app_url, data=form, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request) as posted:
        assert posted.status == 200
        assert posted.headers["Content-Type"] == get_type
        assert posted.read() == get_body
    assert b'data-app-state="loading"' in get_body


def test_a_post_opened_page_boots_like_a_get_opened_one(card: CardPage) -> None:
    """Bitrix24 opens the handler with a form POST; the page must boot from that response."""
    card.open(wait=False)
    card.page.evaluate(
        """() => { const f = document.createElement('form'); f.method = 'POST'; f.action = '/';
        for (const [k, v] of [['PLACEMENT', 'CALL_CARD'], ['AUTH_ID', 'x']]) {
          const i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i); }
        document.body.appendChild(f); f.submit(); }"""
    )
    card.page.wait_for_load_state()
    assert card.wait_settled() == "ready"


def test_the_rig_catches_a_request_that_tries_to_leave_loopback(card: CardPage) -> None:
    """The network guard itself: a request to another host is recorded (and cannot resolve)."""
    card.open()
    reached = card.page.evaluate(
        "fetch('https://example.com/probe?x=1').then(() => true, () => false)")
    assert reached is False
    assert card.guard.leaks == ["https://example.com/probe?x=1"]
    card.guard.leaks.clear()  # caught on purpose; the fixture's own check would fail the test


START_THE_CARD_AND_LIST_SOURCE_MODULES = START_THE_CARD + """
import sys

async def main():
    await start_the_card()
    stdlib = next(path for path in sys.path  # not the app's archive, which comes first
                  if path.endswith(".zip") and not path.endswith("/app-bundle.zip")) + "/"
    files = [getattr(module, "__file__", None) or "" for module in list(sys.modules.values())
             if getattr(getattr(module, "__spec__", None), "origin", None) != "frozen"]
    in_zip = [name[len(stdlib):] for name in files if name.startswith(stdlib)]
    return {"from_bytecode": sum(name.endswith(".pyc") for name in in_zip),
            "from_source": sorted(name for name in in_zip if not name.endswith(".pyc"))}
"""


def test_the_card_starts_on_standard_modules_compiled_at_install(harness: Harness) -> None:
    """The served python_stdlib.zip has bytecode for what the card imports to start
    (tools/stdlib_bytecode.py): compiling those from source is most of a Pyodide start-up.
    A module listed here as from source is missing from tools/stdlib-boot-modules.txt."""
    harness.open_harness()
    loaded = harness.run(START_THE_CARD_AND_LIST_SOURCE_MODULES)
    assert harness.page.get_by_test_id("call-state").count() == 1  # the card really started
    assert loaded["from_source"] == [], "add these to tools/stdlib-boot-modules.txt"
    assert loaded["from_bytecode"] > 100


# Records every module compiled from source while the card starts (by zipimport from the app's
# archive, or from the file system); a module whose checked bytecode (cardserver/bundle.py) was
# accepted never gets here.
START_THE_CARD_AND_LIST_COMPILED = """
import importlib._bootstrap_external as _external
import zipimport

_compiled = []
_source_to_code = _external.SourceLoader.source_to_code
_zip_compile = zipimport._compile_source

def _recording(self, data, path, *args, **kwargs):
    _compiled.append(path)
    return _source_to_code(self, data, path, *args, **kwargs)

def _zip_recording(path, source):
    _compiled.append(path)
    return _zip_compile(path, source)

_external.SourceLoader.source_to_code = _recording
zipimport._compile_source = _zip_recording
""" + START_THE_CARD + """
import importlib.util
import os
import sys
import zipfile

async def main():
    try:
        await start_the_card()
    finally:
        _external.SourceLoader.source_to_code = _source_to_code
        zipimport._compile_source = _zip_compile
    # The archive the interpreter module mounted (callcard-boot.mjs), first on sys.path.
    archive = sys.path[0]
    inside = archive + "/"
    bundle = zipfile.ZipFile(archive)
    home = os.getcwd() + "/"
    app = sorted(name for name, module in sys.modules.items()
                 if name.split(".")[0] in ("bx24_bridge", "callcard"))
    pyscript = sorted(name for name, module in sys.modules.items()
                      if name.split(".")[0] == "pyscript"  # not its JS-backed modules:
                      and isinstance(getattr(module, "__file__", None), str))
    elsewhere = [name for name in app + pyscript
                 if not sys.modules[name].__file__.startswith(inside)]
    # PyScript's bytecode is in the archive without its source, so zipimport cannot check it:
    # check it here against the source PyScript wrote, the way the importer would (PEP 552).
    refused = []
    for name in pyscript:
        member = sys.modules[name].__file__.removeprefix(inside)  # pyscript/web.pyc
        with open(home + member.removesuffix("c"), "rb") as file:
            data = file.read()
        pyc = bundle.read(member) if member in bundle.namelist() else b""
        if (pyc[:4] != importlib.util.MAGIC_NUMBER or pyc[4:8] != (3).to_bytes(4, "little")
                or pyc[8:16] != importlib.util.source_hash(data)):
            refused.append(name)
    return {"archive": archive, "compiled": sorted(path.removeprefix(home) for path in _compiled),
            "app": app, "pyscript": pyscript, "elsewhere": elsewhere,
            "pyscript_refused": refused}
"""


def test_the_card_and_pyscript_start_on_bytecode_from_the_bundle(harness: Harness) -> None:
    """app-bundle.zip carries checked bytecode for the app's modules and PyScript's package
    (make bytecode; cardserver/bundle.py), and every one of them is imported from it, mounted
    (callcard-boot.mjs): none is compiled in the browser. Fails when the bytecode is missing,
    stale, or made from a PyScript text other than the one it runs."""
    harness.open_harness()
    loaded = harness.run(START_THE_CARD_AND_LIST_COMPILED)
    assert harness.page.get_by_test_id("call-state").count() == 1  # the card really started
    assert loaded["archive"] == "/home/pyodide/app-bundle.zip"
    assert len(loaded["app"]) >= 15
    assert loaded["elsewhere"] == []
    assert loaded["compiled"] == []
    assert len(loaded["pyscript"]) >= 5
    assert loaded["pyscript_refused"] == []
