/*
 * The card's typeface on every card after the first, without a swap and without a wait.
 *
 * The stylesheet's Open Sans faces are `font-display: optional`: Chromium uses a face only if it
 * is loaded when the text is first laid out, and never swaps it in later (the operator reads the
 * caller's number while the phone rings; every word redrawn in another face then is worse than a
 * fallback face). But a face asked for by the stylesheet is asked for only once style has run,
 * and even from the HTTP cache it arrives a few ms after the first layout: measured in a fresh
 * renderer (bench/, warm loads: CSS.getPlatformFontsForNode), every card was drawn in the
 * fallback face, cold and warm, and its first layout spent ~14 ms matching fallback fonts.
 *
 * A face preloaded (<link rel=preload as=font>) is asked for by the parser, and Chromium holds the
 * first paint, briefly, for a preloaded optional face: from the cache it is there in time. From
 * the network it is not: a first load that preloaded waited for the faces (cold caller +36 ms on
 * loopback, +52 ms over 40 ms RTT). So the page preloads only what an earlier card of this
 * browser loaded: once the first frame is painted and the fonts have settled, this script
 * records the faces the page loaded (localStorage, partitioned by the portal like the frame),
 * and the next card, in its <head> before anything else can ask for them, preloads the
 * recorded faces the stylesheet still names (a redeploy that moved them records the new ones;
 * a face the cards stopped using drops out at the next record). A frame denied its storage
 * preloads nothing: the fallback face, as before, and nothing else changes.
 *
 * Like static/early-actions.js it is no file: `make dist` writes it into the page's <head>
 * (cardserver/dist.py, INLINE_SCRIPTS) and the server allows it by its hash.
 */
(function () {
  "use strict";

  const KEY = "callcard:faces";
  const MAX_FACES = 4;

  /**
   * The absolute URL of each face the page's stylesheet declares, in its order. The stylesheet
   * is inline (`make dist`) and its only url()s are its faces (tests/unit/test_fonts.py), so its
   * text is read rather than its CSSOM: no rule objects for the whole sheet before the first
   * paint. (What this script does cost there, ~2 ms in a warm trace, is localStorage's first
   * read in a fresh renderer, which loads the origin's storage; the notes read it later anyway.)
   */
  function declaredFaces() {
    const urls = [];
    for (const style of Array.from(document.querySelectorAll("style"))) {
      for (const match of style.textContent.matchAll(/url\("([^"]+)"\)/g)) {
        urls.push(new URL(match[1], document.baseURI).href);
      }
    }
    return urls;
  }

  /** The faces this page has loaded: the stylesheet's faces, in order, are the font set's. */
  function loadedFaces() {
    const declared = declaredFaces();
    const faces = Array.from(document.fonts);
    if (faces.length !== declared.length) return null; // not only the stylesheet's: unsure
    return declared.filter((url, index) => faces[index].status === "loaded");
  }

  function record() {
    const loaded = loadedFaces();
    if (loaded === null) return;
    try {
      window.localStorage.setItem(KEY, JSON.stringify(loaded.slice(0, MAX_FACES)));
    } catch (error) {
      // storage denied or full: the next card preloads nothing and draws the fallback face
    }
  }

  // After the first frame (its layout is what asks for the faces; before it the font set has
  // nothing to wait for) and once the fonts have settled. A face that never settles is not
  // recorded: the fonts' promise simply never resolves.
  requestAnimationFrame(() => setTimeout(() => {
    try {
      document.fonts.ready.then(record, () => {});
    } catch (error) {
      // no CSS Font Loading API: nothing to record
    }
  }, 0));

  let recorded;
  try {
    recorded = JSON.parse(window.localStorage.getItem(KEY) || "[]");
  } catch (error) {
    return; // storage denied, or what it holds is not ours: no preload, the fallback face
  }
  if (!Array.isArray(recorded) || recorded.length === 0) return; // a first card: nothing to do
  const declared = declaredFaces();
  for (const url of recorded.slice(0, MAX_FACES)) {
    if (typeof url !== "string" || !url || !declared.includes(url)) continue;
    const link = document.createElement("link");
    link.rel = "preload";
    link.as = "font";
    link.type = "font/woff2";
    link.crossOrigin = "anonymous"; // fonts are fetched in CORS mode: the preload must match
    link.href = url;
    link.dataset.face = "recorded";
    document.head.appendChild(link);
  }
})();
