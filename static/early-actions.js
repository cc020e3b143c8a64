/*
 * What the operator does before Python runs, remembered for the view to do then.
 *
 * On a card the server rendered from the handler POST, the operator can type a note, tick
 * keep-open, press Save (or Ctrl+Enter), Close now or Create a lead, pick an outcome or a
 * call-back, all before Python has wired a single listener. The typed text and the ticked box
 * stay in the form controls and the view reads them (callcard/view.py, wire_notes); a click or a
 * key would be lost. So until the view has wired a button (data-wired) a click on it is marked on
 * it (data-requested), and so is Save's shortcut; an outcome or a call-back is kept on its row
 * (data-requested = the choice; the outcome's button shows pressed at once). The view performs
 * them once the notes have restored this call's (perform_early_actions).
 *
 * Copying the caller's number is here too, whole: the button next to the number copies it as the
 * host gave it (+79001234567: what dialers and CRMs paste best), from the first paint on, Python
 * or not; the view only keeps the button's data-number up to date. A frame without the clipboard
 * permission (the portal's iframe decides) falls back to copying a selection, and if that fails
 * too the button says to select the number.
 *
 * This must listen before the card can be clicked, so it is not a file: `make dist` writes it
 * into the page's <head> (cardserver/dist.py, INLINE_SCRIPTS), where it runs before the parser
 * reaches the card, and the server allows exactly this script by its hash in the page's
 * Content-Security-Policy (cardserver/security.py). A deferred script runs only once the whole
 * page is parsed and the file has arrived: on a cold load the caller is on screen, clickable,
 * up to a round trip earlier. Everything else that needs no Python stays in
 * static/startup-guard.js, which can come later.
 */
(function () {
  "use strict";

  const EARLY_BUTTONS = '[data-testid="notes-save"], [data-testid="close-now"], '
    + '[data-testid="create-lead"]';

  // An outcome (a toggle: pressed again, it is cleared) or a call-back choice before the view
  // has wired its row: the last one is kept on the row for the view to hand over.
  function rememberChoice(target) {
    const row = target.closest("[data-testid=call-outcome], [data-testid=callback-at]");
    if (!row || row.hasAttribute("data-wired")) return;
    const outcome = target.closest("[data-testid=call-outcome] [data-outcome]");
    if (outcome) {
      const pressed = outcome.getAttribute("aria-pressed") !== "true";
      for (const other of row.querySelectorAll("[data-outcome]")) {
        other.setAttribute("aria-pressed", String(pressed && other === outcome));
      }
      row.setAttribute("data-requested", pressed ? outcome.dataset.outcome : "");
      return;
    }
    const choice = target.closest("[data-callback]");
    if (choice) row.setAttribute("data-requested", choice.dataset.callback);
  }

  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element)) return;
    const button = event.target.closest(EARLY_BUTTONS);
    if (button && !button.hasAttribute("data-wired")) button.setAttribute("data-requested", "");
    rememberChoice(event.target);
  }, true);

  // Ctrl+Enter (Cmd+Enter) in the notes is Save, as on the wired card.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if (!(event.target instanceof Element) || event.target.dataset.testid !== "notes") return;
    const save = document.querySelector('[data-testid="notes-save"]');
    if (save && !save.hasAttribute("data-wired")) {
      event.preventDefault(); // no line break: the shortcut means Save
      save.setAttribute("data-requested", "");
    }
  }, true);

  // ---- copying the number

  function copyBySelection(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    let done = false;
    try { done = document.execCommand("copy"); } catch (error) { done = false; }
    area.remove();
    return done;
  }

  function copyText(text) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(text).then(() => true, () => copyBySelection(text));
    }
    return Promise.resolve(copyBySelection(text));
  }

  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element)) return;
    const button = event.target.closest('[data-testid="copy-number"]');
    const number = button && button.getAttribute("data-number");
    if (!number) return;
    copyText(number).then((done) => {
      if (button.getAttribute("data-number") !== number) return; // the call moved on meanwhile
      button.textContent = button.getAttribute(done ? "data-done" : "data-failed") || "";
      button.setAttribute("data-copied", done ? "yes" : "no");
    });
  });
})();
