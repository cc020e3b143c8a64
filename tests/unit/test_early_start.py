"""The early interpreter start (cardserver/callcard-boot.mjs): which loadPyodide call adopts it.

The page starts the interpreter itself once the caller is painted; PyScript's loadPyodide call
must get that very interpreter when it asks for what was started, and a second, normal boot when
it asks for anything else (a PyScript upgrade passing a new option must not be silently given
an interpreter without it). Browser tests cover the adopting path as PyScript really calls it
(test_first_paint.py); the other paths are plain JavaScript logic, run here under Node against a
recording stand-in for Pyodide's own module, in milliseconds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cardserver.boot_module import render_boot_module

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node (the install's npm brings it)")

#: Pyodide's module as far as callcard-boot.mjs uses it: records every boot and output hook.
FAKE_PYODIDE = """
export const version = "0.0-test";
globalThis.boots = [];
export async function loadPyodide(options) {
  const boot = { options: Object.keys(options).sort(), indexURL: options.indexURL, hooks: [] };
  globalThis.boots.push(boot);
  return {
    boot: globalThis.boots.length,
    setStdout(hook) { boot.hooks.push(["stdout", typeof hook.batched]); },
    setStderr(hook) { boot.hooks.push(["stderr", typeof hook.batched]); },
    runPython() { return null; },
  };
}
"""
#: Runs one scenario: `early` calls to startEarly, then one loadPyodide call with `options`
#: (indexURL "SAME" stands for the module's own folder); prints what happened as JSON.
SCENARIO = """
globalThis.location = { origin: "http://card.test" };
globalThis.callcardInterpreterSnapshot = false;  // no CacheStorage under Node: plain boots
const warnings = [];
console.warn = (...words) => warnings.push(words.join(" "));
const boot = await import("./callcard-boot.mjs");
const [early, options] = JSON.parse(process.argv[2]);
const folder = new URL("./", import.meta.url).href;
for (let i = 0; i < early; i += 1) boot.startEarly();
const given = { ...options };
if (given.indexURL === "SAME") given.indexURL = folder;
for (const name of ["stdout", "stderr"]) if (name in given) given[name] = () => {};
const pyodide = await boot.loadPyodide(given);
console.log(JSON.stringify({ got: pyodide.boot, boots: globalThis.boots, warnings, folder }));
"""


def run(tmp_path: Path, early: int, options: dict[str, Any]) -> dict[str, Any]:
    (tmp_path / "callcard-boot.mjs").write_bytes(render_boot_module("k" * 32, "stdlib.zip"))
    (tmp_path / "pyodide.mjs").write_text(FAKE_PYODIDE)
    (tmp_path / "scenario.mjs").write_text(SCENARIO)
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(tmp_path / "scenario.mjs"), json.dumps([early, options])],
        capture_output=True, text=True, timeout=30, check=True,
    )
    return json.loads(done.stdout)


PYSCRIPTS_OWN = {"indexURL": "SAME", "stdout": True, "stderr": True}


def test_pyscripts_own_call_adopts_the_early_interpreter_and_gets_its_output_hooks(
    tmp_path: Path,
) -> None:
    result = run(tmp_path, early=1, options=PYSCRIPTS_OWN)
    assert result["got"] == 1
    [boot] = result["boots"]
    assert boot["indexURL"] == result["folder"]
    # Booted with this build's archive and lock file, then given PyScript's hooks.
    assert boot["options"] == ["indexURL", "lockFileURL", "stdLibURL"]
    assert boot["hooks"] == [["stdout", "function"], ["stderr", "function"]]
    assert result["warnings"] == []


def test_a_second_early_start_boots_nothing_more(tmp_path: Path) -> None:
    result = run(tmp_path, early=3, options=PYSCRIPTS_OWN)
    assert len(result["boots"]) == 1


OTHER_FOLDER = "http://card.test/runtime/other/"


@pytest.mark.parametrize(("options", "asked_for"), [
    # An option the early start did not pass: the second boot has it.
    ({**PYSCRIPTS_OWN, "packages": ["micropip"]}, lambda boot: "packages" in boot["options"]),
    # Another runtime's folder: the second boot is from there.
    ({**PYSCRIPTS_OWN, "indexURL": OTHER_FOLDER}, lambda boot: boot["indexURL"] == OTHER_FOLDER),
])
def test_a_call_that_asks_for_something_else_gets_a_boot_of_its_own(
    tmp_path: Path, options: dict[str, Any], asked_for: Callable[[dict[str, Any]], bool]
) -> None:
    result = run(tmp_path, early=1, options=options)
    assert len(result["boots"]) == 2
    assert result["got"] == 2  # PyScript gets the second boot, not the early one
    assert asked_for(result["boots"][1])
    [warning] = result["warnings"]
    assert "did not match" in warning


def test_without_an_early_start_loadpyodide_is_one_plain_boot(tmp_path: Path) -> None:
    result = run(tmp_path, early=0, options=PYSCRIPTS_OWN)
    assert result["got"] == 1
    assert len(result["boots"]) == 1
    assert result["warnings"] == []
