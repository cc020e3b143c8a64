/*
 * Call-card simulator: this page plays the Bitrix24 host around the app.
 *
 * The app runs unchanged in an iframe at ./card/ (the server's copy of index.html that loads
 * ../bx24-fake.js instead of the Bitrix24 library). The fake inside the frame asks this page for
 * its config (BX24_SIMULATOR.configFor) and reports everything that crosses the wire
 * (BX24_SIMULATOR.report); the buttons here drive it through the frame's window.bx24Host, the
 * same handle the tests use. Every text that reaches this page is set with textContent: the fake
 * CRM is hostile on purpose.
 */
(function () {
  "use strict";

  const CARD_URL = "./card/";
  const CLOSE_AFTER_END_MS = 3000; // "the card closes by itself after the call"
  const FAST_CLOSE_MS = 6500; // demo speed for the ~65 s delayed close
  const LOG_LIMIT = 500;
  const POLL_MS = 250;

  /* The dialer's queue. Every client exists in the fake's default CRM (bx24-fake.js). */
  const CLIENTS = [
    { CRM_ENTITY_TYPE: "CONTACT", CRM_ENTITY_ID: 17, PHONE_NUMBER: "+79001234567" },
    { CRM_ENTITY_TYPE: "CONTACT", CRM_ENTITY_ID: 18, PHONE_NUMBER: "+74951112233" },
    { CRM_ENTITY_TYPE: "COMPANY", CRM_ENTITY_ID: 7, PHONE_NUMBER: "+12025550143" },
    { CRM_ENTITY_TYPE: "LEAD", CRM_ENTITY_ID: 31, PHONE_NUMBER: "+79161234500" },
    { CRM_ENTITY_TYPE: "LEAD", CRM_ENTITY_ID: 32, PHONE_NUMBER: "+79267770011" },
    { CRM_ENTITY_TYPE: "CONTACT", CRM_ENTITY_ID: 20, PHONE_NUMBER: "unknown" }, // no phone in CRM
  ];

  const SIP_CODES = [
    ["486", "486 Busy here"],
    ["480", "480 Temporarily unavailable"],
    ["487", "487 Request terminated"],
    ["603", "603 Decline"],
    ["404", "404 Not found"],
    ["408", "408 Request timeout"],
    ["484", "484 Address incomplete"],
    ["402", "402 Payment required"],
    ["403", "403 Forbidden"],
    ["503", "503 Service unavailable"],
    ["other", "other…"],
  ];

  /* Scenarios: what getStatus/PLACEMENT_OPTIONS say, plus how the host misbehaves.
     A status key set to undefined is absent from the wire, as the host leaves it out. */
  const SCENARIOS = [
    {
      id: "incoming",
      label: "Incoming call",
      note: "A known contact calls the sales line.",
      status: {},
    },
    {
      id: "outgoing",
      label: "Outgoing call",
      note: "The operator calls a contact from the CRM.",
      status: {
        CALL_DIRECTION: "outgoing",
        PHONE_NUMBER: "+74951112233",
        CRM_ENTITY_TYPE: "CONTACT",
        CRM_ENTITY_ID: 18,
        CRM_BINDINGS: [
          { ENTITY_TYPE: "CONTACT", ENTITY_ID: 18 },
          { ENTITY_TYPE: "COMPANY", ENTITY_ID: 6 },
          { ENTITY_TYPE: "DEAL", ENTITY_ID: 10 },
        ],
      },
    },
    {
      id: "callback",
      label: "Callback",
      note: "A website visitor asked to be called back (a lead).",
      status: {
        CALL_DIRECTION: "callback",
        PHONE_NUMBER: "+79161234500",
        CRM_ENTITY_TYPE: "LEAD",
        CRM_ENTITY_ID: 31,
        CRM_BINDINGS: [{ ENTITY_TYPE: "LEAD", ENTITY_ID: 31 }],
      },
    },
    {
      id: "hidden",
      label: "Hidden number",
      note: 'The caller hid the number: PHONE_NUMBER is "hidden".',
      status: { PHONE_NUMBER: "hidden" },
    },
    {
      id: "unknown",
      label: "Unknown number",
      note: "PHONE_NUMBER is absent from getStatus.",
      status: { PHONE_NUMBER: undefined },
    },
    {
      id: "unbound",
      label: "Unbound call",
      note: 'A new number ringing: CRM_ENTITY_TYPE "", CRM_ENTITY_ID 0, no bindings, no '
        + "activity (Create a lead makes it a client).",
      status: {
        CALL_STATE: "connecting",
        PHONE_NUMBER: "+79035550199",
        CRM_ENTITY_TYPE: "",
        CRM_ENTITY_ID: 0,
        CRM_BINDINGS: [],
        CRM_ACTIVITY_ID: undefined,
      },
    },
    {
      id: "dialer",
      label: "Dialer (call list)",
      note: "CALL_LIST_MODE is true; “Next client” moves through the call list (EntityChanged).",
      status: {
        CALL_DIRECTION: "outgoing",
        CALL_LIST_MODE: true,
        PHONE_NUMBER: CLIENTS[0].PHONE_NUMBER,
        CRM_ENTITY_TYPE: CLIENTS[0].CRM_ENTITY_TYPE,
        CRM_ENTITY_ID: CLIENTS[0].CRM_ENTITY_ID,
      },
    },
    {
      id: "failing",
      label: "Failing call",
      note: "An outgoing call that is ringing: pick a SIP code and press “Fail with”.",
      status: {
        CALL_DIRECTION: "outgoing",
        CALL_STATE: "connecting",
        PHONE_NUMBER: "+12025550143",
        CRM_ENTITY_TYPE: "COMPANY",
        CRM_ENTITY_ID: 7,
        CRM_BINDINGS: [{ ENTITY_TYPE: "COMPANY", ENTITY_ID: 7 }],
      },
    },
    {
      id: "silent",
      label: "Host never answers",
      note: "getStatus, disableAutoClose and enableAutoClose are dropped: no callback ever.",
      host: { silentCommands: ["getStatus", "disableAutoClose", "enableAutoClose"] },
    },
    {
      id: "rest-errors",
      label: "REST errors",
      note: "crm.item.get answers ACCESS_DENIED.",
      host: {
        rest: { "crm.item.get": { error: "ACCESS_DENIED", error_description: "Access denied." } },
      },
    },
    {
      id: "slow-rest",
      label: "Slow REST",
      note: "Every REST answer arrives 3 s late.",
      host: { restDelayMs: 3000 },
    },
    {
      id: "lost-answers",
      label: "Lost answers",
      note: "The first note and the first call-back reach the CRM, but their answers never arrive: "
        + "after 20 s the card looks for them before it tries again (one comment, one to-do).",
      host: {
        rest: { "crm.timeline.comment.add": { lost: 1 }, "crm.activity.todo.add": { lost: 1 } },
      },
    },
  ];

  /* What the operator chose on this page; it outlives the card, which is reloaded often. */
  const settings = {
    scenario: "incoming",
    lang: "en",
    delivery: "one",
    commentFormOpen: false,
    closeAfterEnd: false,
    fastClose: false,
  };

  /* The fake CRM as this page keeps it between cards (comments survive "open a new call").
     Taken from the first card's fake on its start; passed to every later one. */
  let crmStore = null;
  let cardCount = 0; // names the frames, so each opening POST targets its own card
  /* The card on screen: {frame, host, closed, connectedAt, clientIndex, loadedAt}, or null. */
  let card = null;

  // ---------------------------------------------------------------- small helpers

  const byId = (id) => document.getElementById(id);

  /* An element with text only: data never becomes markup here. */
  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    return node;
  }

  /* A JSON copy in this page's realm, so nothing here holds on to objects of an old frame. */
  const copy = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

  function clock(ms) {
    const time = new Date(ms);
    const pad = (n, width) => String(n).padStart(width || 2, "0");
    return `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}.${pad(time.getMilliseconds(), 3)}`;
  }

  function brief(data) {
    if (data === null || data === undefined) return "";
    const text = JSON.stringify(data);
    return text.length > 300 ? text.slice(0, 299) + "…" : text;
  }

  function scenario() {
    return SCENARIOS.find((s) => s.id === settings.scenario) || SCENARIOS[0];
  }

  /* The live host of the card on screen, or null when there is none (closed, not loaded). */
  function liveHost() {
    if (!card || card.closed) return null;
    if (!card.host) {
      try {
        card.host = card.frame.contentWindow && card.frame.contentWindow.bx24Host;
      } catch (error) {
        card.host = null;
      }
    }
    return card.host || null;
  }

  // ---------------------------------------------------------------- what the fake asks for

  /* A fresh CALL_ID per card, shaped like the portal's external call ids. */
  function callId() {
    const hex = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0"));
    return `externalCall.${hex.join("")}.${Math.floor(Date.now() / 1000)}`;
  }

  /* The config the card's fake starts with (the same keys as window.BX24_FAKE_CONFIG). */
  function cardConfig(callStatus) {
    const chosen = scenario();
    const status = callStatus || Object.assign({ CALL_ID: callId(), CALL_STATE: "idle" }, chosen.status || {});
    const config = {
      lang: settings.lang,
      delivery: settings.delivery,
      commentFormOpen: settings.commentFormOpen,
      autoCloseDelayMs: settings.fastClose ? FAST_CLOSE_MS : 65000,
      status,
    };
    if (crmStore) config.crm = copy(crmStore);
    return Object.assign(config, copy(chosen.host || {}));
  }

  /* The page's side of the fake's link (see "findSimulator" in bx24-fake.js). */
  window.BX24_SIMULATOR = {
    configFor(frameWindow) {
      // Only the card on screen gets the chosen scenario; a stale frame gets the defaults.
      return card && frameWindow === card.frame.contentWindow ? cardConfig(card.status) : null;
    },
    report(frameWindow, entry) {
      if (!card || frameWindow !== card.frame.contentWindow) return; // an old card, going away
      onReport(copy(entry));
    },
  };

  function onReport(entry) {
    addLogEntry(entry);
    if (entry.kind === "host" && entry.name === "init") adoptCrm();
    if (entry.kind === "crm" && entry.name === "comment.add") addComment(entry.data);
    if (entry.kind === "crm" && entry.name === "comment.update") updateComment(entry.data);
    if (entry.kind === "crm" && (entry.name === "todo.add" || entry.name === "todo.move")) {
      keepTodo(entry.data);
    }
    if (entry.kind === "crm" && entry.name === "lead.add") addLead(entry.data);
    if (entry.kind === "command" && entry.name === "fitWindow") fitCard(entry.data);
    if (entry.kind === "host" && entry.name === "close") {
      const closing = card;
      closing.closed = true;
      // After the current task: the fake finishes its own bookkeeping first. The app gets no
      // grace time, as on a portal: what it has not saved by now is lost.
      setTimeout(() => card === closing && showClosed(), 0);
    }
  }

  /* The first card's fake brings the default CRM; from then on this page keeps it. */
  function adoptCrm() {
    if (crmStore) return;
    const host = liveHost();
    if (!host) return;
    crmStore = copy(host.crm);
    renderCrm();
    renderClient();
  }

  function addComment(comment) {
    if (!crmStore) return;
    crmStore.comments.push(comment);
    renderComments();
  }

  /* A to-do the card created or moved (a call-back): kept, so the next card sees it too. */
  function keepTodo(todo) {
    if (!crmStore) return;
    crmStore.todos = crmStore.todos || [];
    const known = crmStore.todos.find((t) => t.ID === todo.ID);
    if (known) Object.assign(known, todo);
    else crmStore.todos.push(todo);
    renderTodos();
  }

  /* A lead the card created for an unknown caller. */
  function addLead(fields) {
    if (!crmStore) return;
    const phones = (fields.PHONE || []).map((row) => row.VALUE).filter(Boolean);
    crmStore.items.lead[fields.ID] = { id: fields.ID, title: fields.TITLE || "", name: "",
      lastName: "", assignedById: 1, phones };
    renderCrm();
  }

  function renderTodos() {
    const todos = (crmStore && crmStore.todos) || [];
    byId("todos").replaceChildren(...todos.map((todo) => {
      const row = el("li", null, { "data-testid": "sim-todo" });
      const owner = { 1: "lead", 2: "deal", 3: "contact", 4: "company" }[todo.OWNER_TYPE_ID] || "item";
      row.append(el("span", `#${todo.ID} ${owner} ${todo.OWNER_ID}`, { class: "sim-tag" }),
        el("span", `${todo.SUBJECT} · ${todo.DEADLINE} · user ${todo.RESPONSIBLE_ID}`));
      return row;
    }));
    byId("todos-empty").hidden = todos.length > 0;
  }

  /* BX24.fitWindow asks the portal for the page's height: the tab grows, never below its own
     600 px (docs/host-contract.md#library). */
  function fitCard(data) {
    const height = Number(data && data.height);
    if (!Number.isFinite(height)) return;
    byId("card-slot").style.height = `${Math.max(600, Math.min(height, 2000))}px`;
  }

  function updateComment(comment) {
    if (!crmStore) return;
    const known = crmStore.comments.find((c) => c.ID === comment.ID);
    if (known) known.COMMENT = comment.COMMENT;
    else crmStore.comments.push(comment);
    renderComments();
  }

  // ---------------------------------------------------------------- the card's frame

  /* Replace the card by a fresh one: a new iframe (a new browsing context, so the old card's
     timers and handlers die with it), configured by the scenario chosen now. */
  function loadCard() {
    cardCount += 1;
    const frame = el("iframe", null, { title: "Call card", "data-testid": "sim-card", name: `sim-card-${cardCount}` });
    const config = cardConfig();
    card = {
      frame, host: null, closed: false, connectedAt: null, clientIndex: 0, loadedAt: Date.now(),
      status: config.status, // the call this card was opened with; configFor hands it on
    };
    byId("card-slot").replaceChildren(frame); // configFor runs once the frame's fake loads
    postOpening(frame, config);
    logSim("new card", `${scenario().label}, portal language ${settings.lang}`);
    renderClient();
  }

  /* Open the card as the portal does: a form POST into the frame carrying the call, which the
     server renders before Python has booted. The fields are the fake's own (openingFields), so
     the POST and the fake's placement.info() tell the same call. */
  function postOpening(frame, config) {
    const form = el("form", null, { method: "post", action: CARD_URL, target: frame.name, hidden: "" });
    for (const [name, value] of Object.entries(window.BX24_FAKE_WIRE.openingFields(config))) {
      form.append(el("input", null, { type: "hidden", name, value }));
    }
    document.body.append(form);
    form.submit();
    form.remove();
  }

  function showClosed() {
    if (card) card.frame.remove();
    const note = el("div", null, { class: "sim-closed", "data-testid": "sim-card-closed", role: "status" });
    note.append(
      el("p", "The host closed the card.", { class: "sim-closed-title" }),
      el("p", "Whatever the app had not saved before this is gone, as on a real portal."),
    );
    const again = el("button", "Open a new call", { type: "button", "data-testid": "sim-reopen" });
    again.addEventListener("click", loadCard);
    note.append(again);
    byId("card-slot").replaceChildren(note);
    renderHostStatus(); // not the last countdown for another poll
    again.focus();
  }

  // ---------------------------------------------------------------- playing the host

  /* CallStateChanged, as the host sends it: only on a real change. */
  function changeState(state, failedCode) {
    const host = liveHost();
    if (!host) return logSim("no card", "open a call first");
    if (host.config.status.CALL_STATE === state) {
      return logSim("not sent", `the call is already ${state}; the host fires only on a real change`);
    }
    if (failedCode !== undefined && settings.delivery === "one") {
      logSim("note", `over the real wire (one argument) the app never sees failedCode ${failedCode}`);
    }
    card.connectedAt = state === "connected" ? Date.now() : card.connectedAt;
    host.setState(state, failedCode);
    if (state === "idle" && settings.closeAfterEnd) closeAfterEnd(card);
  }

  /* Bitrix24 tries to close the card a moment after the call ends. */
  function closeAfterEnd(endedCard) {
    setTimeout(() => {
      if (card === endedCard && !endedCard.closed) beforeClose();
    }, CLOSE_AFTER_END_MS);
  }

  function failedCode() {
    const chosen = byId("sip-code").value;
    if (chosen !== "other") return chosen;
    const typed = byId("sip-other").value.trim();
    return /^[1-6]\d\d$/.test(typed) ? typed : "500";
  }

  function nextClient() {
    const host = liveHost();
    if (!host) return logSim("no card", "open a call first");
    card.clientIndex = (card.clientIndex + 1) % CLIENTS.length;
    const client = CLIENTS[card.clientIndex];
    host.changeEntity({
      PHONE_NUMBER: client.PHONE_NUMBER,
      CRM_ENTITY_TYPE: client.CRM_ENTITY_TYPE,
      CRM_ENTITY_ID: String(client.CRM_ENTITY_ID),
    });
    renderClient();
  }

  function beforeClose() {
    const host = liveHost();
    if (!host) return logSim("no card", "nothing to close");
    host.beforeClose();
  }

  function closeNow() {
    const host = liveHost();
    if (!host) return logSim("no card", "nothing to close");
    host.closeNow();
  }

  /* Settings that the host reads at the moment it needs them apply to the live card too. */
  function applyLive(key, value) {
    const host = liveHost();
    if (host) host.config[key] = value;
  }

  // ---------------------------------------------------------------- rendering

  const LOG_DIRECTION = {
    command: "app → host",
    rest: "app → REST",
    answer: "host → app",
    event: "host → app",
    dropped: "host ✕",
    host: "host",
    crm: "CRM",
    sim: "simulator",
  };

  function addLogEntry(entry) {
    const list = byId("log");
    const item = el("li", null, { class: `sim-log-${entry.kind}`, "data-kind": entry.kind });
    item.append(
      el("time", clock(entry.at || Date.now())),
      el("span", LOG_DIRECTION[entry.kind] || entry.kind, { class: "sim-log-dir" }),
      el("strong", entry.name),
      el("code", entryText(entry)),
    );
    list.prepend(item);
    while (list.children.length > LOG_LIMIT) list.lastElementChild.remove();
  }

  /* Events show what the app's callback receives in the current delivery, not the host's
     internal arguments: over the real wire a state handler gets "connected" and nothing else. */
  function entryText(entry) {
    if (entry.kind === "dropped") return "no answer, ever";
    if (entry.kind !== "event" || !Array.isArray(entry.data)) return brief(entry.data);
    const args = entry.data;
    if (settings.delivery === "two") return `callback(${args.map((a) => JSON.stringify(a)).join(", ")})`;
    return `callback(${JSON.stringify(args.length ? args[0] : [])})`;
  }

  function logSim(name, text) {
    addLogEntry({ at: Date.now(), kind: "sim", name, data: text });
  }

  function personName(item) {
    return [item.name, item.secondName, item.lastName].filter(Boolean).join(" ");
  }

  /* How the simulator names a CRM item (the app decides on its own how it shows it). */
  function itemLabel(type, item) {
    if (!item) return "(not in the CRM)";
    if (type === "contact") return personName(item) || "(no name)";
    if (type === "lead") return [item.title, personName(item)].filter(Boolean).join(" — ");
    return item.title || "(no title)";
  }

  function renderCrm() {
    const list = byId("crm-items");
    if (!crmStore) {
      list.replaceChildren(el("li", "The CRM appears once the card has started.", { class: "sim-note" }));
      return;
    }
    const rows = [];
    for (const type of ["contact", "company", "lead", "deal"]) {
      for (const [id, item] of Object.entries(crmStore.items[type] || {})) {
        const row = el("li");
        row.append(el("span", `${type} ${id}`, { class: "sim-tag" }), el("span", itemLabel(type, item)));
        rows.push(row);
      }
    }
    for (const [id, user] of Object.entries(crmStore.users || {})) {
      const row = el("li");
      row.append(el("span", `user ${id}`, { class: "sim-tag" }), el("span", `${user.NAME} ${user.LAST_NAME}`));
      rows.push(row);
    }
    list.replaceChildren(...rows);
    renderComments();
    renderTodos();
  }

  function renderComments() {
    const comments = (crmStore && crmStore.comments) || [];
    const rows = comments
      .slice()
      .reverse()
      .map((comment) => {
        const row = el("li", null, { "data-testid": "sim-comment" });
        row.append(
          el("span", `#${comment.ID} ${comment.ENTITY_TYPE} ${comment.ENTITY_ID}`, { class: "sim-tag" }),
          el("span", comment.COMMENT, { class: "sim-comment-text" }),
        );
        return row;
      });
    byId("comments").replaceChildren(...rows);
    byId("comments-empty").hidden = rows.length > 0;
  }

  /* Who "Next client" moves to, so the operator knows what the card should show after it. */
  function renderClient() {
    const note = byId("client-note");
    if (!card) return (note.textContent = "");
    const client = CLIENTS[(card.clientIndex + 1) % CLIENTS.length];
    const type = client.CRM_ENTITY_TYPE.toLowerCase();
    const item = crmStore && crmStore.items[type] && crmStore.items[type][client.CRM_ENTITY_ID];
    const who = crmStore ? ` ${itemLabel(type, item)}` : "";
    note.textContent = `→ ${type} ${client.CRM_ENTITY_ID}${who}, ${client.PHONE_NUMBER}`;
  }

  function minutesSeconds(ms) {
    const seconds = Math.max(0, Math.floor(ms / 1000));
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }

  /* What the host knows right now: state, whether the app holds the card open, the close timer. */
  function renderHostStatus() {
    const out = byId("host-status");
    const host = liveHost();
    if (!host) {
      out.textContent = card && card.closed ? "The card is closed." : "No card.";
      return;
    }
    const state = host.config.status.CALL_STATE;
    const parts = [`Call state: ${state}`];
    if (state === "connected" && card.connectedAt) parts.push(`talking ${minutesSeconds(Date.now() - card.connectedAt)}`);
    parts.push(host.autoCloseDisabled ? "auto-close disabled by the app" : "auto-close on");
    if (host.config.commentFormOpen) parts.push("the comment form holds the card");
    if (host.closeDueAt) parts.push(`the host closes the card in ${Math.ceil((host.closeDueAt - Date.now()) / 1000)} s`);
    const text = parts.join(" · ");
    if (out.textContent !== text) out.textContent = text;
  }

  // ---------------------------------------------------------------- controls

  function fillSelect(select, options) {
    select.replaceChildren(...options.map(([value, label]) => el("option", label, { value })));
  }

  function pressOne(group, button) {
    for (const other of group.querySelectorAll("button")) other.setAttribute("aria-pressed", String(other === button));
  }

  function wireControls() {
    fillSelect(byId("scenario"), SCENARIOS.map((s) => [s.id, s.label]));
    fillSelect(byId("sip-code"), SIP_CODES);
    byId("scenario").value = settings.scenario;
    byId("scenario-note").textContent = scenario().note;

    byId("scenario").addEventListener("change", (event) => {
      settings.scenario = event.target.value;
      byId("scenario-note").textContent = scenario().note;
      loadCard();
    });
    byId("lang").addEventListener("change", (event) => {
      settings.lang = event.target.value; // BX24.getLang() is read once, at start: reload
      loadCard();
    });
    byId("reload").addEventListener("click", loadCard);

    byId("ring").addEventListener("click", () => changeState("connecting"));
    byId("connect").addEventListener("click", () => changeState("connected"));
    byId("end").addEventListener("click", () => changeState("idle"));
    byId("fail").addEventListener("click", () => changeState("idle", failedCode()));
    byId("sip-code").addEventListener("change", (event) => {
      byId("sip-other").hidden = event.target.value !== "other";
    });
    byId("next-client").addEventListener("click", nextClient);
    byId("before-close").addEventListener("click", beforeClose);
    byId("close").addEventListener("click", closeNow);

    byId("comment-form").addEventListener("change", (event) => {
      settings.commentFormOpen = event.target.checked;
      applyLive("commentFormOpen", settings.commentFormOpen);
    });
    byId("close-after-end").addEventListener("change", (event) => {
      settings.closeAfterEnd = event.target.checked;
    });
    byId("fast-close").addEventListener("change", (event) => {
      settings.fastClose = event.target.checked;
      applyLive("autoCloseDelayMs", settings.fastClose ? FAST_CLOSE_MS : 65000); // from the next BeforeClose
    });

    const delivery = document.querySelector("[data-testid=sim-delivery]");
    delivery.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-delivery]");
      if (!button) return;
      settings.delivery = button.dataset.delivery; // read by the fake at every event: no reload
      applyLive("delivery", settings.delivery);
      pressOne(delivery, button);
      logSim("delivery", settings.delivery === "one" ? "one argument per event (the real wire)" : "two arguments (the docs)");
    });

    const width = document.querySelector("[data-testid=sim-width]");
    width.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-width]");
      if (!button) return;
      byId("card-slot").dataset.width = button.dataset.width;
      pressOne(width, button);
    });

    byId("clear-log").addEventListener("click", () => byId("log").replaceChildren());
  }

  function start() {
    wireControls();
    renderCrm();
    loadCard();
    setInterval(renderHostStatus, POLL_MS);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
