/*
 * What protects the card's start-up before Python runs (index.html loads this before PyScript;
 * what the operator clicks meanwhile, and copying the number, are static/early-actions.js's,
 * which must run sooner).
 *
 * 1. A watchdog. PyScript and Pyodide fail quietly: a runtime file that does not arrive (a flaky
 *    VPN, a proxy), a WebAssembly module that does not compile, or Python failing before its
 *    first render leaves the static "Loading the call card…" on screen for the whole call. This
 *    file needs no Python: it hears those failures (an unhandled rejection or a failed script
 *    while the card is loading, or PyScript finishing its script without the card having taken
 *    over) and puts the page into data-app-state="error" with words in the portal's language and
 *    a button that reloads the card. A load that is only slow is not an error: after
 *    SLOW_AFTER_MS the loading line says so. Once Python has taken the card over
 *    (data-app-state is no longer "loading") this file does nothing more; if Python comes up
 *    after all, its first render replaces whatever this put on screen.
 *
 * 2. IndexedDB made harmless. The card runs in a cross-site frame, and browsers or company
 *    policies that block third-party storage make indexedDB.open throw (or its request fail).
 *    PyScript opens an IndexedDB store on every start (its package cache, even with
 *    packages_cache = "never": the store is opened before that option is read), so the runtime
 *    never starts. No configuration avoids it, hence this guarded shim: indexedDB.open is
 *    wrapped, and only when the real one throws or fails does the caller get a small in-memory
 *    database for the life of the page. A browser that allows IndexedDB gets the real one.
 *
 * 3. Python's files asked for early, but not too early. PyScript fetches main.py only once
 *    Pyodide has started, and starts Pyodide itself only at the end of a chain of its own
 *    module and config fetches: waits that are pure loss. Fetched from the start (a preload),
 *    files delay the caller's first paint (`make bench`: +25 to +55 ms on a cold load); once the
 *    first view is painted, the network is idle while the runtime downloads and compiles. So
 *    index.html lists them in a <template> (the build writes their published names), and after
 *    the first frame this adds them as prefetches, so the HTTP cache has them when PyScript
 *    asks, and starts the interpreter module PyScript will use (which fetches the app's Python
 *    archive then too: cardserver/callcard-boot.mjs). Once the fonts
 *    have settled and one more frame is painted (the one that shows the text), it marks
 *    <html data-text-painted>, which brings in what app.css leaves out of that frame.
 */
(function () {
  "use strict";

  const SLOW_AFTER_MS = 20000;
  const WORDS = {
    en: {
      failed: "The call card could not start: part of it did not load. Reload the card; if it "
        + "happens again, check the network connection.",
      live: "Live updates and notes are unavailable: the call card could not start. Reload the "
        + "card to try again.",
      slow: "Still loading the call card… A slow network or a busy computer can make the first "
        + "start take longer.",
      reload: "Reload the card",
    },
    ru: {
      failed: "Карточка звонка не запустилась: часть её не загрузилась. Перезагрузите карточку; "
        + "если это повторится, проверьте подключение к сети.",
      live: "Обновления звонка и заметки недоступны: карточка не запустилась. Перезагрузите "
        + "карточку, чтобы попробовать ещё раз.",
      slow: "Карточка звонка ещё загружается… При медленной сети или занятом компьютере первый "
        + "запуск занимает больше времени.",
      reload: "Перезагрузить карточку",
    },
  };
  const RUSSIAN_READERS = ["ru", "ua", "uk", "by", "be", "kz"];

  const html = document.documentElement;
  const loading = () => html.getAttribute("data-app-state") === "loading";

  /* ------------------------------------------------------------------ the watchdog */

  function language() {
    let code = "";
    try {
      const bx24 = window.BX24;
      if (bx24 && typeof bx24.getLang === "function") code = String(bx24.getLang() || "");
    } catch (error) {
      code = ""; // the library is not ready: fall back to the browser's language
    }
    if (!code) code = navigator.language || "";
    return RUSSIAN_READERS.includes(code.slice(0, 2).toLowerCase()) ? "ru" : "en";
  }

  let failed = false;

  function fail(reason) {
    if (failed || !loading()) return;
    failed = true;
    console.error("Call card: the start-up failed before Python took over:", reason);
    const words = WORDS[language()];
    const card = document.getElementById("card");
    const prerendered = html.hasAttribute("data-prerendered");
    let status = document.querySelector('[data-testid="app-status"]');
    if (!status || prerendered) {
      const line = document.createElement("p");
      line.className = "app-status";
      if (card) card.insertBefore(line, card.firstChild); else document.body.appendChild(line);
      if (status) status.remove();
      status = line;
    }
    status.setAttribute("data-testid", "app-status");
    status.setAttribute("role", "alert");
    // The caller stays on screen when the server rendered the card: only say what is missing.
    status.textContent = prerendered ? words.live : words.failed;
    const reload = document.createElement("button");
    reload.type = "button";
    reload.className = "button-primary";
    reload.setAttribute("data-testid", "retry");
    reload.textContent = words.reload;
    reload.addEventListener("click", () => location.reload());
    status.after(reload);
    html.setAttribute("data-app-state", "error");
  }

  addEventListener("unhandledrejection", (event) => {
    const reason = event.reason;
    fail(reason && reason.message ? reason.message : String(reason));
  });
  // Capture: a <script> or stylesheet that fails to load fires "error" on its element only.
  addEventListener("error", (event) => {
    const target = event.target;
    if (target && target.tagName === "SCRIPT" && target.src
        && new URL(target.src, location.href).origin === location.origin) {
      fail(`${target.src} did not load`);
    } else if (typeof event.message === "string" && event.message.includes("PythonError")) {
      fail(event.message);
    }
  }, true);
  // PyScript has run main.py to its end, yet the card never left "loading": Python failed
  // before its first render (main.py awaits the card's start, which always shows a state).
  addEventListener("py:done", () => setTimeout(() => {
    if (loading()) fail("main.py ended before the card was on screen");
  }, 0));

  // A WebAssembly module that does not compile: Pyodide's loader logs "wasm instantiation
  // failed!" and then waits for ever (it has no second way to instantiate). On this page only
  // Pyodide instantiates WebAssembly, so a rejection here ends the start-up.
  for (const name of ["instantiate", "instantiateStreaming"]) {
    const original = WebAssembly[name];
    if (typeof original !== "function") continue;
    WebAssembly[name] = function (...args) {
      return original.apply(this, args).catch((error) => {
        fail(`WebAssembly.${name}: ${error && error.message}`);
        throw error;
      });
    };
  }

  setTimeout(() => {
    if (!loading() || failed) return;
    const status = document.querySelector('[data-testid="app-status"]');
    if (status && !html.hasAttribute("data-prerendered")) status.textContent = WORDS[language()].slow;
  }, SLOW_AFTER_MS);

  /* ------------------------------------------------------------------ Python's files */

  function fetchAfterFirstPaint() {
    const later = document.getElementById("after-first-paint");
    if (!later || !later.content) return;
    const hints = later.content.cloneNode(true);
    const interpreter = hints.querySelector('link[data-start="interpreter"]');
    document.head.append(hints);
    // The interpreter module, started now rather than when PyScript reaches it
    // (cardserver/callcard-boot.mjs, "the early start", says why). If it does not load,
    // PyScript's own import of it fails too, and the watchdog above reports that.
    if (interpreter && loading()) {
      import(interpreter.href).then(
        (module) => module.startEarly(),
        (error) => console.warn("Call card: the interpreter module did not load early:", error),
      );
    }
  }
  // A requestAnimationFrame callback runs just before a frame is painted; a task queued from
  // it runs after that frame. A hidden page paints no frame: the timeouts are the fallback.
  const afterNextFrame = (run) => requestAnimationFrame(() => setTimeout(run, 0));
  const once = (run) => {
    let done = false;
    return () => {
      if (!done) {
        done = true;
        run();
      }
    };
  };

  // The first frame is painted while the faces may still be on their way (the first card's
  // from the network; a later card's preloaded ones, static/face-preload.js, from the cache).
  // <html data-text-painted> (app.css: what the frame with the caller's number leaves out) waits
  // for the fonts to settle and one frame more, so that frame carries as little as it can;
  // a face that never settles holds it back for no more than FONTS_AT_MOST_MS. The fonts are
  // looked at after the first frame: its layout is what asks for them (before it, the font
  // set has nothing to wait for and says "ready" at once).
  const FONTS_AT_MOST_MS = 500;
  const textPainted = once(() => html.setAttribute("data-text-painted", ""));
  function whenFontsSettle() {
    let ready;
    try {
      ready = document.fonts.ready;
    } catch (error) {
      ready = Promise.resolve(); // no CSS Font Loading API: nothing to wait for
    }
    const atMost = new Promise((done) => setTimeout(done, FONTS_AT_MOST_MS));
    return Promise.race([ready, atMost]).catch(() => {});
  }

  const afterFirstFrame = once(() => {
    fetchAfterFirstPaint();
    whenFontsSettle().then(() => afterNextFrame(textPainted));
  });
  afterNextFrame(afterFirstFrame);
  setTimeout(afterFirstFrame, 1000);
  setTimeout(textPainted, 1500);

  /* ------------------------------------------------------------------ IndexedDB */

  // Just enough of IndexedDB for a key-value store kept in memory: databases with object
  // stores whose requests answer asynchronously, as the real ones do.
  function memoryRequest(run) {
    const request = { result: undefined, error: null, onsuccess: null, onerror: null };
    setTimeout(() => {
      try {
        request.result = run();
        if (request.onsuccess) request.onsuccess({ target: request, type: "success" });
      } catch (error) {
        request.error = error;
        if (request.onerror) request.onerror({ target: request, type: "error" });
      }
    }, 0);
    return request;
  }

  function memoryStore(rows) {
    return {
      count: () => memoryRequest(() => rows.size),
      clear: () => memoryRequest(() => { rows.clear(); }),
      delete: (key) => memoryRequest(() => { rows.delete(key); }),
      get: (key) => memoryRequest(() => rows.get(key)),
      getKey: (key) => memoryRequest(() => (rows.has(key) ? key : undefined)),
      getAllKeys: () => memoryRequest(() => [...rows.keys()]),
      getAll: () => memoryRequest(() => [...rows.values()]),
      put: (value, key) => memoryRequest(() => { rows.set(key, value); return key; }),
    };
  }

  function memoryDatabase() {
    const stores = new Map();
    const names = { contains: (name) => stores.has(name) };
    Object.defineProperty(names, "length", { get: () => stores.size });
    return {
      objectStoreNames: names,
      createObjectStore(name) {
        stores.set(name, new Map());
        return memoryStore(stores.get(name));
      },
      transaction(name) {
        const rows = stores.get(name);
        if (!rows) throw new DOMException(`no object store ${name}`, "NotFoundError");
        return { objectStore: () => memoryStore(rows), oncomplete: null };
      },
      close() {},
    };
  }

  /* The open request the caller gets: it follows the real one, and when that fails (or could
     not even be made) it opens an in-memory database instead, as a first open would. */
  function guardedOpen(open, factory, name, version) {
    const request = { result: undefined, error: null, transaction: null, readyState: "pending",
      onsuccess: null, onerror: null, onupgradeneeded: null, onblocked: null };
    const fallBack = (why) => {
      console.warn("Call card: IndexedDB is not available here; using memory instead.", why);
      const database = memoryDatabase();
      const transaction = { oncomplete: null };
      request.result = database;
      request.transaction = transaction;
      setTimeout(() => {
        if (request.onupgradeneeded) {
          request.onupgradeneeded({ target: request, type: "upgradeneeded" });
        }
        request.readyState = "done";
        if (transaction.oncomplete) transaction.oncomplete({ type: "complete" });
        if (request.onsuccess) request.onsuccess({ target: request, type: "success" });
      }, 0);
    };
    let real;
    try {
      real = version === undefined ? open.call(factory, name) : open.call(factory, name, version);
    } catch (error) {
      fallBack(error);
      return request;
    }
    real.onupgradeneeded = (event) => {
      request.result = real.result;
      request.transaction = real.transaction;
      if (request.onupgradeneeded) request.onupgradeneeded(event);
    };
    real.onsuccess = (event) => {
      request.result = real.result;
      request.readyState = "done";
      if (request.onsuccess) request.onsuccess(event);
    };
    real.onblocked = (event) => request.onblocked && request.onblocked(event);
    real.onerror = (event) => {
      if (event && typeof event.preventDefault === "function") event.preventDefault();
      fallBack(real.error);
    };
    return request;
  }

  function guardIndexedDB() {
    let factory;
    try {
      factory = window.indexedDB; // the getter itself may throw a SecurityError
    } catch (error) {
      factory = null;
    }
    const open = factory && typeof factory.open === "function" ? factory.open : null;
    const guarded = {
      open: (name, version) => (open
        ? guardedOpen(open, factory, name, version)
        : guardedOpen(() => { throw new DOMException("no IndexedDB", "SecurityError"); },
          null, name, version)),
      deleteDatabase: (name) => (factory ? factory.deleteDatabase(name) : memoryRequest(() => {})),
      databases: () => (factory && factory.databases ? factory.databases() : Promise.resolve([])),
      cmp: (a, b) => (factory ? factory.cmp(a, b) : a < b ? -1 : a > b ? 1 : 0),
    };
    try {
      Object.defineProperty(window, "indexedDB", { value: guarded, configurable: true });
    } catch (error) {
      console.warn("Call card: IndexedDB could not be guarded.", error);
    }
  }

  guardIndexedDB();
})();
