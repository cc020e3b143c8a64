// The interpreter module pyscript.toml names: Pyodide's own loadPyodide, plus a memory snapshot.
//
// Why: on every load Pyodide starts CPython inside WebAssembly (Py_Initialize, then its own
// start-up imports), a few hundred milliseconds of the time before the card can render, even when
// every file comes from the cache. After the first load has rendered, a module worker boots one
// more interpreter off the main thread, takes Pyodide's memory snapshot of it (the WebAssembly
// heap right after start-up) and keeps it in CacheStorage. The next load hands that snapshot to
// loadPyodide, which then restores the heap instead of starting CPython again.
//
// Safety: a snapshot is only valid for the exact runtime it was made from. Pyodide checks its
// build id (wasm + JavaScript) itself; SNAPSHOT_KEY, written in by the build
// (cardserver/boot_module.py), is the digest of every file the heap depends on: the wasm, the
// JavaScript, the lock file and the standard library archive, whose directory CPython caches
// in the heap. The archive is published under a name that carries its own digest (STDLIB), so
// a browser can never pair this module with another build's archive. The worker also writes
// the key into the snapshotted interpreter's environment, and a restore that does not read it
// back is discarded.
// Anything unexpected (no CacheStorage, a refused worker, a snapshot that does not restore) ends
// in a normal boot: the snapshot is only ever a shortcut, never a requirement. `_makeSnapshot` and `_loadSnapshot` are private Pyodide options;
// the version is pinned, and tests/browser/test_snapshot.py covers both paths for it.
//
// Published as runtime/pyodide-<version>/callcard-boot.<digest>.mjs, beside pyodide.mjs, so
// PyScript derives the same indexURL from it as from pyodide.mjs.

import { loadPyodide as bootPyodide, version } from "./pyodide.mjs";

export { version };

const SNAPSHOT_KEY = "@SNAPSHOT_KEY@";
// The standard library archive of this build, published beside this module under its digest.
const STDLIB_URL = new URL("./@STDLIB@", import.meta.url).href;
// This build's lock file: Pyodide's, naming the wheels the build publishes beside it (micropip,
// for PyScript's `packages`) with their real digests; content-addressed like the archive.
const LOCK_URL = new URL("./@LOCK@", import.meta.url).href;
const CACHE_NAME = "callcard-interpreter-snapshot";
// Set inside the snapshotted interpreter, read back after a restore.
const KEY_VARIABLE = "CALLCARD_SNAPSHOT_KEY";
// One entry per origin (not per module URL): the simulator's framed card shares it.
const SNAPSHOT_URL = `${location.origin}/callcard-interpreter-snapshot/${SNAPSHOT_KEY}`;
const INDEX_URL = new URL("./", import.meta.url).href;
// Let the card finish its first render and its first calls to the portal before the worker
// takes a core for its own boot.
const SNAPSHOT_DELAY_MS = 1000;

/** PyScript's entry point: Pyodide's loadPyodide, from the stored snapshot when there is one.
 * A page that sets `window.callcardInterpreterSnapshot = false` first (a host that wants no
 * CacheStorage use, or a test about something else) gets Pyodide's plain start.
 * When the page has already started the interpreter (startEarly), PyScript gets that one; and
 * the page's Python archive, if its script names one, is on sys.path before PyScript runs. */
export async function loadPyodide(options = {}) {
  const early = takeEarlyStart(options);
  if (early) {
    const pyodide = await early;
    // PyScript's own output hooks, which the early start could not know yet.
    if (typeof options.stdout === "function") pyodide.setStdout({ batched: options.stdout });
    if (typeof options.stderr === "function") pyodide.setStderr({ batched: options.stderr });
    await mountArchive(pyodide);
    return pyodide;
  }
  fetchArchive();
  const pyodide = await boot(options);
  await mountArchive(pyodide);
  return pyodide;
}

/* ------------------------------------------------------------------ the page's Python archive
 *
 * Why: PyScript's [files] fetched the app's archive (cardserver/bundle.py) only once it had the
 * interpreter, then unpacked its ~100 files through Python's zipfile and shutil: ~100 ms of
 * every load, cold or warm, between "interpreter ready" and main.py (a CPU profile, 2026-12-03).
 * Instead the page's <script type="py"> names the archive (data-python-archive; the build writes
 * its published name), it is fetched beside the runtime, written into the interpreter's file
 * system as one file and put first on sys.path, where CPython's zipimport reads each module
 * (source and checked bytecode) from it when imported. A page that names no archive (the
 * benchmark's bare pages, the example) gets nothing of this. */

/** Where the archive is written: the interpreter's working directory, like PyScript's files. */
const ARCHIVE_PATH = "/home/pyodide/app-bundle.zip";
let archiveBytes = null;

/** The archive's URL from the page, or null. */
function archiveURL() {
  const script = globalThis.document?.querySelector?.("script[data-python-archive]");
  const named = script?.getAttribute("data-python-archive");
  return named ? new URL(named, document.baseURI).href : null;
}

/** Start fetching the page's archive (once); its bytes' promise, or null without one. */
function fetchArchive() {
  if (archiveBytes) return archiveBytes;
  const url = archiveURL();
  if (!url) return null;
  archiveBytes = fetch(url).then((response) => {
    if (!response.ok) throw new Error(`the Python archive ${url} answered ${response.status}`);
    return response.arrayBuffer();
  });
  // Handled now, awaited later (as the snapshot's bytes): a failure before the interpreter is
  // ready must reach PyScript through loadPyodide, not the start-up guard as a stray rejection.
  archiveBytes.catch(() => {});
  return archiveBytes;
}

async function mountArchive(pyodide) {
  const bytes = fetchArchive();
  if (!bytes) return;
  pyodide.FS.writeFile(ARCHIVE_PATH, new Uint8Array(await bytes));
  pyodide.runPython(`import sys\nif "${ARCHIVE_PATH}" not in sys.path: sys.path.insert(0, "${ARCHIVE_PATH}")`);
}

/* ------------------------------------------------------------------ the early start
 *
 * Why: PyScript reaches loadPyodide only at the end of a chain of its own: core.js, then its
 * core chunk, then (once the document is parsed) the config, then its plugin chunks, then this
 * module. On a cold load the interpreter's files are first asked for 300-500 ms after
 * navigation, although nothing in the chain needs them. The card's start-up guard
 * (static/startup-guard.js, 3.) imports this module once the server's first view is painted and
 * calls startEarly(), so the runtime downloads and compiles while PyScript is still on its way;
 * PyScript's own call then receives that interpreter. */

/** Options PyScript passes (and nothing else): the folder of this module, and its output hooks. */
const ADOPTABLE = new Set(["indexURL", "stdout", "stderr"]);
let earlyStart = null;
let booted = false;

/** Begin booting now, with the options PyScript will ask for; a second call does nothing. */
export function startEarly() {
  if (earlyStart || booted) return;
  earlyStart = boot({ indexURL: INDEX_URL });
  fetchArchive(); // beside the runtime's own files
  // Until PyScript takes it, a failure is the start-up guard's to report (an unhandled
  // rejection is what it listens for): nothing is caught here.
  performance.mark("callcard:interpreter-early-start");
}

/** The early start's promise, handed out once, if it booted what `options` asks for. */
function takeEarlyStart(options) {
  const early = earlyStart;
  earlyStart = null;
  if (!early) return null;
  const folder = (url) => String(url ?? "").replace(/\/*$/, "/");
  const unknown = Object.keys(options).filter((name) => !ADOPTABLE.has(name));
  if (unknown.length === 0 && folder(options.indexURL) === INDEX_URL) return early;
  console.warn("Call card: the early interpreter start did not match PyScript's options "
    + `(${unknown.join(", ") || `indexURL ${options.indexURL}`}); starting another.`);
  return null;
}

async function boot(options) {
  booted = true;
  options = { ...options, stdLibURL: STDLIB_URL, lockFileURL: LOCK_URL };
  if (globalThis.callcardInterpreterSnapshot === false) return bootPyodide(options);
  const stored = await storedSnapshot();
  if (stored) {
    try {
      const pyodide = await bootPyodide({ ...options, _loadSnapshot: stored.bytes });
      // The heap names the key it was made under: a mislabelled entry is not used.
      const madeUnder = pyodide.runPython(`__import__("os").environ.get("${KEY_VARIABLE}")`);
      if (madeUnder !== SNAPSHOT_KEY) throw new Error(`snapshot made under key ${madeUnder}`);
      performance.mark("callcard:snapshot-restored");
      return pyodide;
    } catch (error) {
      console.warn("Call card: the stored interpreter snapshot did not restore; starting afresh.", error);
      await forgetSnapshots();
    }
  }
  const pyodide = await bootPyodide(options);
  scheduleSnapshot();
  return pyodide;
}

/** The stored snapshot as `{bytes}`, a promise of them, or null when there is none.
 *
 * Only the lookup is waited for here: whether a snapshot exists decides how Pyodide is called
 * (it cannot be told "maybe"). Reading the bytes (the whole heap, tens of MB) is left to
 * Pyodide, which awaits them only after it has asked for the wasm, the lock file and its
 * JavaScript; read first, they held all of those back by ~100 ms on every warm start. (Wrapped
 * in an object: an async function that returned the promise itself would wait for it.) */
async function storedSnapshot() {
  try {
    const cache = await caches.open(CACHE_NAME);
    const response = await cache.match(SNAPSHOT_URL);
    if (!response) return null;
    const bytes = response.arrayBuffer();
    // Handled now, awaited later: a read that fails before Pyodide awaits it must not reach the
    // start-up guard as an unhandled rejection (boot() catches it and starts afresh).
    bytes.catch(() => {});
    return { bytes };
  } catch {
    return null; // no CacheStorage here (insecure context, storage blocked): boot normally
  }
}

async function forgetSnapshots() {
  try {
    await caches.delete(CACHE_NAME);
  } catch {
    // nothing stored, or no CacheStorage: nothing to forget
  }
}

function scheduleSnapshot() {
  try {
    // A frame denied its storage may throw on the very look at CacheStorage: no snapshot then.
    if (typeof Worker !== "function" || !globalThis.caches) return;
  } catch {
    return;
  }
  const idle = globalThis.requestIdleCallback ?? ((run) => setTimeout(run, 0));
  setTimeout(() => idle(startSnapshotWorker, { timeout: 5000 }), SNAPSHOT_DELAY_MS);
}

function startSnapshotWorker() {
  let worker;
  try {
    worker = new Worker(import.meta.url, { type: "module", name: "callcard-snapshot" });
  } catch (error) {
    console.warn("Call card: no worker for the interpreter snapshot.", error);
    return;
  }
  const done = () => worker.terminate();
  worker.onmessage = (event) => {
    if (!event.data?.ok) console.warn("Call card: interpreter snapshot not made:", event.data?.error);
    done();
  };
  worker.onerror = (event) => {
    console.warn("Call card: interpreter snapshot worker failed:", event.message);
    done();
  };
}

/** In the worker: boot an interpreter the way the page does, snapshot it, store it. */
async function makeSnapshot() {
  const run = async () => {
    const cache = await caches.open(CACHE_NAME);
    if (await cache.match(SNAPSHOT_URL)) return; // another card got here first
    const quiet = () => {};
    const pyodide = await bootPyodide({
      indexURL: INDEX_URL, stdLibURL: STDLIB_URL, lockFileURL: LOCK_URL, _makeSnapshot: true,
      stdout: quiet, stderr: quiet,
    });
    pyodide.runPython(`__import__("os").environ["${KEY_VARIABLE}"] = "${SNAPSHOT_KEY}"`);
    const snapshot = pyodide.makeMemorySnapshot();
    for (const request of await cache.keys()) await cache.delete(request); // older runtimes
    await cache.put(SNAPSHOT_URL, new Response(snapshot, {
      headers: { "content-type": "application/octet-stream" },
    }));
  };
  // One snapshot at a time per origin, even with several cards open.
  const locks = globalThis.navigator?.locks;
  if (locks) {
    await locks.request(CACHE_NAME, { ifAvailable: true }, (lock) => (lock ? run() : null));
  } else {
    await run();
  }
}

if (typeof WorkerGlobalScope !== "undefined" && globalThis instanceof WorkerGlobalScope) {
  makeSnapshot().then(
    () => postMessage({ ok: true }),
    (error) => postMessage({ ok: false, error: String(error?.message ?? error) }),
  );
}
