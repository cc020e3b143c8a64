/*
 * The one BX24 fake: a stand-in for //api.bitrix24.com/api/v1/ plus the call-card host behind it.
 *
 * It is served in place of the real library (tests intercept that URL; the simulator's server
 * substitutes it), so the page under test loads it exactly where production loads the real one.
 * It reproduces the host's wire as docs/host-contract.md describes it, not as the docs
 * describe it:
 *   - every answer and event is asynchronous (a macrotask, like postMessage) and has been through
 *     JSON.stringify/JSON.parse (keys holding `undefined` vanish);
 *   - callbacks get exactly ONE argument by default (delivery "one"); "two" follows the docs and
 *     "array" wraps the arguments in one array, so the app can be tested against all three;
 *   - unknown commands, and commands of another placement, are dropped: the callback never runs;
 *   - errors come back as data: [{result: "error", errorCode: "..."}];
 *   - BeforeClose fires again ~65 s later when auto-close was disabled.
 *
 * Configure it before it loads with window.BX24_FAKE_CONFIG (see DEFAULTS); drive it afterwards
 * through window.bx24Host (fire events, change answers, read the log of everything exchanged,
 * and `delivered`: which answers and events have reached the app, for tests to wait on).
 * Nothing here is ever shipped in index.html.
 *
 * The simulator (simulator/index.html) frames the app at /simulator/card/, where the server serves
 * index.html with this file in place of the library. Without BX24_FAKE_CONFIG, a fake framed by
 * the simulator asks it for its config (window.parent.BX24_SIMULATOR.configFor(window)) and reports
 * to it everything it logs, every answer, every comment written and the close. A cross-origin
 * parent, or none, is simply ignored.
 */
(function () {
  "use strict";

  const CALL_CARD_COMMANDS = ["getStatus", "disableAutoClose", "enableAutoClose"];
  const CALL_CARD_EVENTS = [
    "CallCard::EntityChanged",
    "CallCard::BeforeClose",
    "CallCard::CallStateChanged",
  ];
  const AUTO_CLOSE_DELAY_MS = 65000;

  const DEFAULTS = {
    mode: "inside", // "inside" | "outside" (library throws, BX24 = null) | "no-init" (init never completes)
    placement: "CALL_CARD",
    delivery: "one", // "one" | "two" | "array": how callbacks receive their arguments
    lang: "en",
    domain: "example.bitrix24.com",
    latencyMs: 0, // delay of every host answer
    initDelayMs: 0,
    restDelayMs: 0, // extra delay of every REST answer ("slow REST")
    placements: [], // handlers this app has bound (placement.get / bind / unbind)
    autoCloseDelayMs: 65000, // how long the card stays after BeforeClose when auto-close is off
    commentFormOpen: false, // the card's own comment form is open: it too keeps the card ~65 s
    silentCommands: [], // commands the host drops even though it knows them ("host never answers")
    commandErrors: {}, // {getStatus: "Call card is undefined"}: answered as an error array
    options: null, // PLACEMENT_OPTIONS; for CALL_CARD derived from `status` when null
    status: {
      CALL_ID: "externalCall.c3ee0b8b4e2a1723556778",
      PHONE_NUMBER: "+79001234567",
      LINE_NUMBER: "74951234567",
      LINE_NAME: "Sales line",
      CRM_ENTITY_TYPE: "CONTACT",
      CRM_ENTITY_ID: 17,
      CRM_ACTIVITY_ID: 311,
      CRM_BINDINGS: [
        { ENTITY_TYPE: "CONTACT", ENTITY_ID: 17 },
        { ENTITY_TYPE: "COMPANY", ENTITY_ID: 5 },
      ],
      CALL_DIRECTION: "incoming",
      CALL_STATE: "connecting",
      CALL_LIST_MODE: false,
    },
    auth: { AUTH_ID: "fake-auth-id", REFRESH_ID: "fake-refresh-id", AUTH_EXPIRES: 3600 },
    // per method: {result} | {error, error_description} | {never: true} | {lost: n} (done
    // by the fake CRM, answer never arrives) | {fail: "500" |
    // "network"} (the real library throws "Query error!" and never calls back); {delayMs}
    // alone delays the fake CRM's own answer, with result/error it delays that one
    rest: {},
    crm: null, // the fake CRM REST reads and writes (defaults below)
  };

  /* Contact 17, company 5 and user 1 are what the tests rely on; the rest gives the simulator
     several clients for the dialer and some deliberately hostile text (rendered as text only). */
  const DEFAULT_CRM = {
    users: {
      1: { ID: "1", NAME: "Anna", LAST_NAME: "Smirnova" },
      2: { ID: "2", NAME: "Дмитрий", LAST_NAME: "Волков" },
      3: { ID: "3", NAME: "Emily", LAST_NAME: "Clark" },
    },
    items: {
      contact: {
        17: {
          id: 17, name: "Ivan", lastName: "Petrov", companyId: 5, assignedById: 1,
          phones: ["+79001234567"],
        },
        18: {
          id: 18, name: "Мария", secondName: "Сергеевна", lastName: "Иванова",
          post: "Главный бухгалтер", companyId: 6, assignedById: 2, phones: ["+74957654321"],
        },
        19: {
          id: 19, name: "John", lastName: "O'Neil <script>alert(1)</script>",
          companyId: 7, assignedById: 3,
        },
        20: {
          id: 20, name: "Ольга", lastName: "Кузнецова", companyId: 0, assignedById: 1,
          phones: ["+79161112233", "+74951112233"],
        },
      },
      company: {
        5: { id: 5, title: "Romashka LLC", assignedById: 1 },
        6: { id: 6, title: "ООО «Вектор-Плюс»", assignedById: 2 },
        7: { id: 7, title: '<b>ACME</b> & "Sons"', assignedById: 3 },
      },
      lead: {
        31: {
          id: 31, title: "Website request: 50 licences", name: "Sergey", lastName: "Orlov",
          companyTitle: "Orlov & Partners", assignedById: 1,
        },
        32: {
          id: 32, title: "Звонок с рекламы <img src=x onerror=alert(1)>", name: "", lastName: "",
          assignedById: 2,
        },
      },
      deal: {
        9: {
          id: 9, title: "Annual support — Romashka", companyId: 5, contactId: 17, contactIds: [17, 20],
          opportunity: 120000, currencyId: "RUB", stageId: "NEW", assignedById: 1,
        },
        10: {
          id: 10, title: "Поставка оборудования", companyId: 6, contactId: 18, contactIds: [18, 19],
          opportunity: 845000, currencyId: "RUB", stageId: "PREPARATION", assignedById: 2,
        },
        11: {
          id: 11, title: "Pilot project (won)", companyId: 5, contactId: 17, contactIds: [17],
          opportunity: 30000, currencyId: "RUB", stageId: "WON", assignedById: 1,
        },
        12: {
          id: 12, title: "Second licence pack <i>x</i>", companyId: 5, contactId: 17,
          contactIds: [17], opportunity: "45000.50", currencyId: "RUB", stageId: "PREPARATION",
          assignedById: 1,
        },
      },
    },
    comments: [],
    // Comments on the clients' timelines written before this card (crm.timeline.comment.list
    // lists them with the app's own): Ольга's last contact is a comment.
    timeline: [
      { ID: 7001, ENTITY_TYPE: "contact", ENTITY_ID: 17, CREATED: "2026-11-27T10:00:00+03:00",
        AUTHOR_ID: "1", COMMENT: "Sent the contract draft" },
      { ID: 7002, ENTITY_TYPE: "contact", ENTITY_ID: 20, CREATED: "2026-11-30T11:20:00+03:00",
        AUTHOR_ID: "3", COMMENT: "Просила перезвонить после 15:00\nподробности в письме" },
    ],
    // crm.activity.list: the clients' calls, meetings and emails (OWNER_TYPE_ID 3: contact, 4:
    // company). 311 is the default status's CRM_ACTIVITY_ID: the call on the card itself.
    activities: [
      { ID: "311", OWNER_TYPE_ID: "3", OWNER_ID: "17", TYPE_ID: "2", DIRECTION: "1",
        SUBJECT: "Incoming call from +79001234567", CREATED: "2026-12-02T10:00:00+03:00",
        RESPONSIBLE_ID: "1" },
      { ID: "305", OWNER_TYPE_ID: "3", OWNER_ID: "17", TYPE_ID: "2", DIRECTION: "2",
        SUBJECT: "Outgoing call to Ivan Petrov", CREATED: "2026-11-28T14:05:00+03:00",
        RESPONSIBLE_ID: "1" },
      { ID: "290", OWNER_TYPE_ID: "3", OWNER_ID: "17", TYPE_ID: "4", DIRECTION: "2",
        SUBJECT: "Offer", CREATED: "2026-11-20T09:30:00+03:00", RESPONSIBLE_ID: "1" },
      { ID: "301", OWNER_TYPE_ID: "3", OWNER_ID: "18", TYPE_ID: "1", DIRECTION: "0",
        SUBJECT: "Встреча в офисе", CREATED: "2026-11-25T16:00:00+03:00", RESPONSIBLE_ID: "2" },
    ],
  };
  const ENTITY_TYPE_BY_ID = { 1: "lead", 2: "deal", 3: "contact", 4: "company" };
  /* The default pipeline's deal stages (crm.status.list, ENTITY_ID "DEAL_STAGE"): the id, the
     name the portal shows, and the semantics crm.item.list filters on (P in progress, S won,
     F lost). */
  const DEAL_STAGES = [
    { STATUS_ID: "NEW", NAME: "New", SEMANTICS: "P" },
    { STATUS_ID: "PREPARATION", NAME: "Preparing documents", SEMANTICS: "P" },
    { STATUS_ID: "WON", NAME: "Deal won", SEMANTICS: "S" },
    { STATUS_ID: "LOSE", NAME: "Deal lost", SEMANTICS: "F" },
  ];

  function optionsFromStatus(status) {
    // PLACEMENT_OPTIONS spell the same call differently (contract section 4).
    const opts = {};
    for (const [key, value] of Object.entries(status)) {
      if (key === "CRM_BINDINGS") continue;
      opts[key] = value;
    }
    opts.CRM_ENTITY_ID = String(status.CRM_ENTITY_ID ?? "0");
    opts.CALL_LIST_MODE = status.CALL_LIST_MODE ? "true" : "false";
    opts.CRM_ACTIVITY_ID =
      status.CRM_ACTIVITY_ID === undefined ? "undefined" : String(status.CRM_ACTIVITY_ID);
    if (!opts.LINE_NAME) opts.LINE_NAME = status.LINE_NUMBER || "";
    if (status.CRM_ENTITY_TYPE) {
      opts.URI = `/crm/${status.CRM_ENTITY_TYPE.toLowerCase()}/details/${status.CRM_ENTITY_ID}/`;
    }
    return opts;
  }

  /* The form the host POSTs to open the card (contract section 1), for a fake configured with
     `userConfig`: the same PLACEMENT_OPTIONS this fake will answer placement.info() with. */
  function openingFields(userConfig) {
    const given = userConfig || {};
    const status = Object.assign({}, DEFAULTS.status, given.status || {});
    const options = given.options || optionsFromStatus(status);
    return {
      DOMAIN: given.domain || DEFAULTS.domain,
      PROTOCOL: "1",
      LANG: given.lang || DEFAULTS.lang,
      PLACEMENT: given.placement || DEFAULTS.placement,
      PLACEMENT_OPTIONS: JSON.stringify(options),
    };
  }

  /* The simulator page loads this file with data-fake="wire-only" to post that form: it gets
     the helper and no fake library of its own. */
  if (document.currentScript && document.currentScript.dataset.fake === "wire-only") {
    window.BX24_FAKE_WIRE = { openingFields };
    return;
  }

  /* The simulator page framing this card, when there is one on our own origin; else null. */
  function findSimulator() {
    try {
      if (window.parent === window) return null;
      const simulator = window.parent.BX24_SIMULATOR; // throws for a cross-origin parent
      return simulator && typeof simulator.configFor === "function" ? simulator : null;
    } catch (error) {
      return null;
    }
  }

  /* Tests configure the fake themselves; only a page without that asks the simulator. */
  const simulator = window.BX24_FAKE_CONFIG ? null : findSimulator();

  /* Tell the simulator something; its failures must never disturb the app's wire. */
  function report(kind, name, data) {
    if (!simulator || typeof simulator.report !== "function") return;
    try {
      simulator.report(window, { at: Date.now(), kind, name, data: data === undefined ? null : wire(data) });
    } catch (error) {
      // the simulator page is being torn down or was edited: the card goes on regardless
    }
  }

  function simulatorConfig() {
    try {
      return simulator ? simulator.configFor(window) : null;
    } catch (error) {
      return null;
    }
  }

  const userConfig = window.BX24_FAKE_CONFIG || simulatorConfig() || {};
  const config = Object.assign({}, DEFAULTS, userConfig);
  // Object.assign keeps a key set to undefined: the simulator uses that for "absent from the wire".
  config.status = Object.assign({}, DEFAULTS.status, userConfig.status || {});
  const crm = wire(userConfig.crm || DEFAULT_CRM);

  const log = [];
  const record = (kind, name, data) => {
    log.push({ at: Date.now(), kind, name, data: data === undefined ? null : wire(data) });
    report(kind, name, data);
  };

  /* Test hook: what has reached the app, named as in `log` ({kind: "command" | "rest" | "event",
     name}), recorded once the app's callback has returned (or thrown). A test waits on it to know
     that a late answer or an event was handed over before it checks that nothing came of it. */
  const delivered = [];
  function handOver(kind, name, fn) {
    try {
      fn();
    } finally {
      delivered.push({ at: Date.now(), kind, name });
    }
  }

  /* JSON round trip, as every value crossing the real iframe wire. */
  function wire(value) {
    if (value === undefined) return undefined;
    return JSON.parse(JSON.stringify(value));
  }

  /* Deliver later, as a postMessage answer would. */
  function later(fn, extraMs) {
    setTimeout(fn, (config.latencyMs || 0) + (extraMs || 0));
  }

  /* A command's answer: always exactly one argument, whatever the event delivery mode. */
  function answer(callback, value, name) {
    if (typeof callback !== "function") return;
    later(() => {
      report("answer", name || "answer", value);
      handOver("command", name || "answer", () => callback(wire(value)));
    });
  }

  /* An event: one argument over the real wire, or as the docs show it, or wrapped in an array. */
  function deliver(callback, args) {
    if (typeof callback !== "function") return;
    const wired = args.map(wire);
    if (config.delivery === "two") callback(...wired);
    else if (config.delivery === "array") callback(wired);
    else callback(wired.length ? wired[0] : []);
  }


  /* ---------------------------------------------------------------- the host */

  const handlers = {}; // event name -> [callback]
  let autoCloseDisabled = false;
  let closeTimer = null;
  let closeDueAt = null; // when the delayed close will happen (ms since epoch), for the simulator
  let closed = false;

  const host = {
    config,
    crm,
    log,
    delivered,
    get closed() {
      return closed;
    },
    get autoCloseDisabled() {
      return autoCloseDisabled;
    },
    get closeDueAt() {
      return closeDueAt;
    },
    /* Events, fired the way the host fires them. */
    setState(state, failedCode) {
      config.status.CALL_STATE = state;
      const params = failedCode === undefined ? {} : { failedCode: String(failedCode) };
      fire("CallCard::CallStateChanged", [state, params]);
    },
    changeEntity(entity) {
      // getStatus afterwards names the new client, with an int id as getStatus has it.
      const id = Number(entity.CRM_ENTITY_ID);
      const entityId = Number.isFinite(id) ? id : entity.CRM_ENTITY_ID;
      Object.assign(config.status, {
        CRM_ENTITY_TYPE: entity.CRM_ENTITY_TYPE,
        CRM_ENTITY_ID: entityId,
        CRM_BINDINGS: entity.CRM_ENTITY_TYPE ? [{ ENTITY_TYPE: entity.CRM_ENTITY_TYPE, ENTITY_ID: entityId }] : [],
      });
      if (entity.PHONE_NUMBER && entity.PHONE_NUMBER !== "unknown") {
        config.status.PHONE_NUMBER = entity.PHONE_NUMBER;
      }
      fire("CallCard::EntityChanged", [entity]);
    },
    /* Bitrix24 tries to close the card; with auto-close disabled it fires again later. */
    beforeClose() {
      fire("CallCard::BeforeClose", []);
      if (autoCloseDisabled || config.commentFormOpen) scheduleDelayedClose();
      else close();
    },
    /* The end of the delayed close, without the wait: BeforeClose once more, then gone. */
    closeNow() {
      if (closed) return;
      fire("CallCard::BeforeClose", []);
      close();
    },
    /* Raw delivery, for tests of odd shapes: the callbacks get exactly these arguments. */
    fireRaw(event, args) {
      // Odd shapes may not survive JSON (cycles, BigInt, a throwing toJSON): the log says so
      // instead of the fake throwing before the app ever sees them.
      let logged;
      try {
        logged = wire(args);
      } catch (error) {
        logged = `(not JSON: ${error.name})`;
      }
      record("event", event, logged);
      for (const cb of handlers[event] || []) {
        setTimeout(() => handOver("event", event, () => cb(...args)), 0);
      }
    },
    subscribers(event) {
      return (handlers[event] || []).length;
    },
  };

  function fire(event, args) {
    record("event", event, args);
    for (const cb of handlers[event] || []) {
      later(() => handOver("event", event, () => deliver(cb, args)));
    }
  }

  function scheduleDelayedClose() {
    clearTimeout(closeTimer);
    const delay = config.autoCloseDelayMs ?? AUTO_CLOSE_DELAY_MS;
    closeDueAt = Date.now() + delay;
    closeTimer = setTimeout(() => {
      fire("CallCard::BeforeClose", []);
      close();
    }, delay);
  }

  function close() {
    if (closed) return;
    closed = true;
    clearTimeout(closeTimer);
    closeDueAt = null;
    record("host", "close", null);
    document.documentElement.dataset.fakeHostClosed = "true";
  }

  function runCommand(command, params) {
    record("command", command, params);
    const known = config.placement === "CALL_CARD" && CALL_CARD_COMMANDS.includes(command);
    if (!known || config.silentCommands.includes(command)) return { dropped: true };
    if (config.commandErrors[command]) {
      return { answer: [{ result: "error", errorCode: config.commandErrors[command] }] };
    }
    if (command === "getStatus") return { answer: config.status };
    if (command === "disableAutoClose") {
      autoCloseDisabled = true;
      if (config.status.CALL_STATE === "idle") scheduleDelayedClose();
      return { answer: [] };
    }
    // enableAutoClose: lift the block; close at once when the call has ended (unless the card's
    // own comment form still holds it).
    autoCloseDisabled = false;
    if (config.status.CALL_STATE === "idle" && closeTimer !== null && !config.commentFormOpen) close();
    return { answer: [] };
  }

  /* ---------------------------------------------------------------- fake REST */

  function restAnswer(method, params) {
    const scripted = config.rest[method];
    // {lost: n}: the fake CRM does the next n calls, but their answers never arrive (an HTTP
    // 5xx after the portal's work, a dropped connection): the app must not do them twice.
    if (scripted && scripted.lost > 0) {
      scripted.lost -= 1;
      crmAnswer(method, params);
      return { never: true };
    }
    const scriptsAnswer = scripted && ("result" in scripted || "error" in scripted || scripted.never
      || scripted.fail);
    if (scriptsAnswer) return withRestDelay(scripted);
    const own = withRestDelay(crmAnswer(method, params));
    // {delayMs} alone: the fake CRM's own answer, only late.
    return scripted ? Object.assign(own, { delayMs: (own.delayMs || 0) + (scripted.delayMs || 0) }) : own;
  }

  function withRestDelay(answer) {
    if (!config.restDelayMs) return answer;
    return Object.assign({}, answer, { delayMs: (answer.delayMs || 0) + config.restDelayMs });
  }

  /* The fake CRM: what the portal would answer. */
  function crmAnswer(method, params) {
    if (method === "crm.item.get") {
      const type = ENTITY_TYPE_BY_ID[params.entityTypeId];
      const item = type && crm.items[type] && crm.items[type][params.id];
      if (!item) return { error: "NOT_FOUND", error_description: "Not found" };
      return { result: { item } };
    }
    if (method === "crm.item.list") {
      // Only what the card asks: deals by contactId / companyId and stage semantics, newest first.
      if (Number(params.entityTypeId) !== 2) return { result: { items: [] } };
      const filter = params.filter || {};
      const semantics = (stage) => (DEAL_STAGES.find((s) => s.STATUS_ID === stage) || {}).SEMANTICS;
      const items = Object.values(crm.items.deal).filter((deal) =>
        (filter.contactId === undefined || (deal.contactIds || [deal.contactId])
          .map(String).includes(String(filter.contactId)))
        && (filter.companyId === undefined || String(deal.companyId) === String(filter.companyId))
        && (filter.stageSemanticId === undefined
          || semantics(deal.stageId) === filter.stageSemanticId))
        .sort((a, b) => b.id - a.id)
        .map(({ id, title, stageId, opportunity, currencyId }) =>
          ({ id, title, stageId, opportunity, currencyId }));
      return { result: { items } };
    }
    if (method === "crm.activity.list") {
      // The filter's keys the card uses: equality, and "!" (not equal) before a field's name.
      const filter = params.filter || {};
      const matches = (a) => Object.entries(filter).every(([key, wanted]) => {
        const negated = key.startsWith("!");
        const value = String(a[negated ? key.slice(1) : key] ?? "");
        return negated ? value !== String(wanted) : value === String(wanted);
      });
      const rows = [...(crm.activities || []), ...(crm.todos || [])].filter(matches)
        .sort((a, b) => Number(b.ID) - Number(a.ID));
      return { result: rows };
    }
    if (method === "crm.status.list") {
      const wanted = (params.filter || {}).ENTITY_ID;
      const rows = wanted === undefined || wanted === "DEAL_STAGE" ? DEAL_STAGES : [];
      return { result: rows.map(({ STATUS_ID, NAME }) => ({ ENTITY_ID: "DEAL_STAGE", STATUS_ID, NAME })) };
    }
    if (method === "crm.deal.contact.items.get") {
      // api-reference/crm/deals/contacts/crm-deal-contact-items-get.md
      const deal = crm.items.deal[params.id];
      if (!deal) return { error: "", error_description: "Not found." };
      const ids = deal.contactIds || (deal.contactId ? [deal.contactId] : []);
      return {
        result: ids.map((id, index) => ({
          CONTACT_ID: id, SORT: (index + 1) * 10, ROLE_ID: 0, IS_PRIMARY: index ? "N" : "Y",
        })),
      };
    }
    if (method === "crm.contact.get") {
      // The classic contact (api-reference/crm/contacts/crm-contact-get.md): upper-case fields,
      // ids as strings, phones as multi-field rows.
      const contact = crm.items.contact[params.id || params.ID];
      if (!contact) return { error: "NOT_FOUND", error_description: "Not found" };
      const phones = contact.phones || [];
      return {
        result: {
          ID: String(contact.id), NAME: contact.name || "", SECOND_NAME: contact.secondName || "",
          LAST_NAME: contact.lastName || "", POST: contact.post || "",
          COMPANY_ID: String(contact.companyId || 0), HAS_PHONE: phones.length ? "Y" : "N",
          PHONE: phones.map((value, index) => ({
            ID: String(contact.id * 100 + index), VALUE_TYPE: "WORK", VALUE: value, TYPE_ID: "PHONE",
          })),
        },
      };
    }
    if (method === "user.current") {
      return { result: crm.users[config.userId || 1] || {} };
    }
    if (method === "crm.activity.todo.add") {
      // api-reference/crm/timeline/activities/todo/crm-activity-todo-add.md
      const type = ENTITY_TYPE_BY_ID[params.ownerTypeId];
      if (!params.ownerTypeId || !params.ownerId || !params.deadline) {
        return { error: "100", error_description: "Required fields are missing" };
      }
      if (!type || !crm.items[type] || !crm.items[type][params.ownerId]) {
        return { error: "NOT_FOUND", error_description: "Not found." };
      }
      if (Number.isNaN(Date.parse(params.deadline))) {
        return { error: "WRONG_DATETIME_FORMAT", error_description: "Wrong datetime" };
      }
      crm.todos = crm.todos || [];
      const id = 900 + crm.todos.length + 1;
      const todo = {
        ID: String(id), TYPE_ID: "6", OWNER_TYPE_ID: String(params.ownerTypeId),
        OWNER_ID: String(params.ownerId), CREATED: new Date().toISOString(),
        PROVIDER_ID: "CRM_TODO", SUBJECT: params.title || "", DESCRIPTION: params.description || "",
        DEADLINE: params.deadline, RESPONSIBLE_ID: String(params.responsibleId || ""),
      };
      crm.todos.push(todo);
      report("crm", "todo.add", todo);
      return { result: { id } };
    }
    if (method === "crm.activity.todo.updateDeadline") {
      const todo = (crm.todos || []).find((t) => t.ID === String(params.id));
      if (!todo) return { error: "NOT_FOUND", error_description: "Not found." };
      todo.DEADLINE = params.value;
      report("crm", "todo.move", todo);
      return { result: { id: Number(todo.ID) } };
    }
    if (method === "crm.lead.add") {
      // api-reference/crm/leads/crm-lead-add.md: answers the new id.
      const fields = params.fields || {};
      const id = Math.max(0, ...Object.keys(crm.items.lead).map(Number)) + 1;
      const phones = (fields.PHONE || []).map((row) => row.VALUE).filter(Boolean);
      crm.items.lead[id] = {
        id, title: fields.TITLE || "", name: fields.NAME || "", lastName: fields.LAST_NAME || "",
        assignedById: Number(fields.ASSIGNED_BY_ID) || config.userId || 1, phones,
      };
      report("crm", "lead.add", Object.assign({ ID: id }, fields));
      return { result: id };
    }
    if (method === "user.get") {
      const user = crm.users[params.ID || params.id];
      return { result: user ? [user] : [] };
    }
    if (method === "crm.timeline.comment.add") {
      const fields = params.fields;
      if (!fields) return { error: "ERROR_ARGUMENT", error_description: "fields is required" };
      const id = crm.comments.length + 1;
      // CREATED as the portal writes it: its wall-clock time with its offset (Moscow here).
      const created = new Date(Date.now() + 3 * 3600e3).toISOString().slice(0, 19) + "+03:00";
      const comment = Object.assign({ ID: id, CREATED: created, AUTHOR_ID: "1" }, fields);
      crm.comments.push(comment);
      report("crm", "comment.add", comment);
      return { result: id };
    }
    if (method === "crm.timeline.comment.list") {
      // api-reference/crm/timeline/comments/crm-timeline-comment-list.md: both filter fields
      // are required; pages of 50.
      const filter = params.filter || {};
      if (!filter.ENTITY_ID || !filter.ENTITY_TYPE) {
        return { error: "ERROR_ARGUMENT", error_description: "ENTITY_ID and ENTITY_TYPE are required" };
      }
      const rows = [...(crm.timeline || []), ...crm.comments]
        .filter((c) => String(c.ENTITY_ID) === String(filter.ENTITY_ID)
          && String(c.ENTITY_TYPE).toLowerCase() === String(filter.ENTITY_TYPE).toLowerCase())
        .sort((a, b) => String(b.CREATED || "").localeCompare(String(a.CREATED || "")))
        .slice(0, 50)
        .map((c) => ({ ID: String(c.ID), ENTITY_ID: String(c.ENTITY_ID),
          ENTITY_TYPE: String(c.ENTITY_TYPE).toLowerCase(), CREATED: c.CREATED || "",
          AUTHOR_ID: String(c.AUTHOR_ID || ""), COMMENT: c.COMMENT || "" }));
      return { result: rows };
    }
    if (method === "crm.timeline.comment.update") {
      // The portal's answers (api-reference/crm/timeline/comments/crm-timeline-comment-update.md).
      const fields = params.fields;
      if (!fields || !params.id) return { error: "100", error_description: "Required fields" };
      const comment = crm.comments.find((c) => String(c.ID) === String(params.id));
      if (!comment) return { error: "NOT_FOUND", error_description: "Not found." };
      if (!String(fields.COMMENT || "").trim()) {
        return { error: "INVALID_ARG_VALUE", error_description: "Empty comment" };
      }
      comment.COMMENT = fields.COMMENT;
      report("crm", "comment.update", comment);
      return { result: comment.ID };
    }
    if (method.startsWith("placement.")) return placementAnswer(method, params);
    return { error: "ERROR_METHOD_NOT_FOUND", error_description: "Method not found!" };
  }

  /* The app's registered placement handlers, as placement.get/bind/unbind keep them. */
  function placementAnswer(method, params) {
    const bound = config.placements;
    if (method === "placement.get") return { result: bound };
    if (!params.PLACEMENT) {
      return { error: "ERROR_ARGUMENT", error_description: "Argument 'PLACEMENT' is null or empty" };
    }
    if (method === "placement.bind") {
      if (!params.HANDLER) {
        return { error: "ERROR_ARGUMENT", error_description: "Argument 'HANDLER' is null or empty" };
      }
      const langAll = params.LANG_ALL || {};
      bound.push({
        placement: params.PLACEMENT, userId: 0, handler: params.HANDLER, options: [],
        title: params.TITLE || "", description: "", langAll,
      });
      return { result: true };
    }
    if (method === "placement.unbind") {
      const before = bound.length;
      config.placements = bound.filter((b) => !(b.placement === params.PLACEMENT
        && (!params.HANDLER || b.handler === params.HANDLER)));
      return { result: { count: 2 * (before - config.placements.length) } };
    }
    return { error: "ERROR_METHOD_NOT_FOUND", error_description: "Method not found!" };
  }

  /* "$result[key][a][b]" in a batch call's params: the value at that path of an earlier
     answer's result, or "" when it is missing (the portal then rejects the call). */
  const BATCH_REFERENCE = /^\$result\[([^\]]+)\]((?:\[[^\]]+\])*)$/;
  function resolveBatchReferences(params, answers) {
    const out = Array.isArray(params) ? [] : {};
    for (const [name, value] of Object.entries(params)) {
      if (value && typeof value === "object") {
        out[name] = resolveBatchReferences(value, answers);
        continue;
      }
      const match = typeof value === "string" ? BATCH_REFERENCE.exec(value) : null;
      if (!match) {
        out[name] = value;
        continue;
      }
      let current = answers[match[1]] && !answers[match[1]].error ? answers[match[1]].result : undefined;
      for (const step of match[2].slice(1, -1).split("][").filter(Boolean)) {
        current = current == null ? undefined : current[step];
      }
      out[name] = current == null ? "" : current;
    }
    return out;
  }

  /* What the real library does when the portal answers 5xx or the network fails: it throws
     from inside its request handler, uncaught, and the callback is never called. */
  function queryError(kind) {
    later(() => {
      record("host", "query-error", { kind });
      throw new Error("Query error!");
    });
  }

  function AjaxResult(answer, query) {
    this.answer = answer;
    this.query = query;
    this.status = answer.error ? 400 : 200;
    if (answer.next !== undefined) this.answer.next = parseInt(answer.next, 10);
    if (answer.error !== undefined) {
      const ex = typeof answer.error === "string" ? answer : answer.error;
      this.answer.ex = { status: this.status, ex, toString: () => `${ex.error} (${this.status})` };
    }
  }
  AjaxResult.prototype.data = function () { return this.answer.result; };
  AjaxResult.prototype.error = function () { return this.answer.ex; };
  AjaxResult.prototype.error_description = function () { return this.answer.error_description; };
  AjaxResult.prototype.more = function () { return !isNaN(this.answer.next); };
  AjaxResult.prototype.total = function () { return parseInt(this.answer.total, 10); };
  AjaxResult.prototype.next = function (cb) {
    if (!this.more()) return false;
    const query = Object.assign({}, this.query, { start: this.answer.next });
    if (typeof cb === "function") query.callback = cb;
    callRest(query);
    return true;
  };

  function callRest(query) {
    const params = wire(query.params || {});
    if (query.start !== undefined) params.start = query.start;
    record("rest", query.method, params);
    const answer = wire(restAnswer(query.method, params));
    // The real library throws on HTTP 5xx and never calls back (contract section 7).
    if (answer.never || answer.fail) {
      report("dropped", query.method, null);
      if (answer.fail) queryError(answer.fail);
      return;
    }
    later(() => {
      report("answer", query.method, answer.error ? { error: answer.error } : { result: answer.result });
      handOver("rest", query.method, () => query.callback(new AjaxResult(answer, query)));
    }, answer.delayMs || 0);
  }

  /* ---------------------------------------------------------------- the library (window.BX24) */

  if (config.mode === "outside") {
    // What the real library does without Bitrix24's window.name.
    window.BX24 = null;
    throw new Error("Unable to initialize Bitrix24 JS library!");
  }

  let initDone = false;
  const initList = [];
  function finishInit() {
    initDone = true;
    record("host", "init", null);
    initList.splice(0).forEach((cb) => cb());
  }
  if (config.mode !== "no-init") setTimeout(finishInit, config.initDelayMs || 0);

  const options = wire(config.options || optionsFromStatus(config.status));

  window.BX24 = {
    init(cb) {
      if (typeof cb !== "function") return;
      if (initDone) setTimeout(cb, 0);
      else initList.push(cb);
    },
    ready(cb) {
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", () => cb());
      } else setTimeout(cb, 0);
    },
    isAdmin: () => false,
    getLang: () => config.lang,
    getDomain: () => config.domain,
    getAuth: () => (initDone ? wire({ access_token: config.auth.AUTH_ID, domain: config.domain }) : false),
    fitWindow(cb) {
      record("command", "fitWindow", { height: document.documentElement.scrollHeight });
      if (typeof cb === "function") later(cb);
    },
    resizeWindow(width, height, cb) {
      record("command", "resizeWindow", { width, height });
      if (typeof cb === "function") later(cb);
    },
    openPath(path, cb) {
      record("command", "openPath", { path });
      const ok = typeof path === "string" && path.startsWith("/");
      answer(cb, ok ? { result: "close" } : { result: "error", errorCode: "PATH_NOT_AVAILABLE" }, "openPath");
    },
    installFinish() {
      record("command", "installFinish", null);
    },
    callMethod(method, params, callback) {
      callRest({ method, params, callback });
    },
    callBatch(calls, callback) {
      const isArray = Array.isArray(calls);
      const results = isArray ? [] : {};
      const answers = {};
      record("rest", "batch", calls);
      let never = false;
      // The portal runs the calls in order; a later call may use an earlier one's result.
      for (const key of Object.keys(calls)) {
        const call = calls[key];
        const method = Array.isArray(call) ? call[0] : call.method;
        const raw = wire((Array.isArray(call) ? call[1] : call.params) || {});
        const params = resolveBatchReferences(raw, answers);
        const answer = wire(restAnswer(method, params));
        if (answer.never || answer.fail) never = true;
        answers[key] = answer;
        results[key] = new AjaxResult(answer, { method, params, callback });
      }
      if (never) {
        report("dropped", "batch", null); // an HTTP failure of the one batch request: no callback
        const failed = Object.values(answers).find((a) => a.fail);
        if (failed) queryError(failed.fail);
        return;
      }
      const delay = Math.max(0, ...Object.values(answers).map((a) => a.delayMs || 0));
      later(() => {
        const summary = {};
        for (const [key, a] of Object.entries(answers)) summary[key] = a.error ? { error: a.error } : "ok";
        report("answer", "batch", summary);
        handOver("rest", "batch", () => callback(results));
      }, delay);
    },
    placement: {
      // Another placement (a CRM detail tab: {ID: "9"}) carries the options the config gives.
      info: () => wire({
        placement: config.placement,
        options: config.placement === "CALL_CARD" ? options : (config.options || []),
      }),
      getInterface(cb) {
        record("command", "getInterface", null);
        const inCard = config.placement === "CALL_CARD";
        answer(cb, {
          command: inCard ? CALL_CARD_COMMANDS : [],
          event: inCard ? CALL_CARD_EVENTS : [],
        }, "getInterface");
      },
      call(command, params, cb) {
        const outcome = runCommand(command, params);
        if (outcome.dropped) {
          report("dropped", command, null); // the real host says nothing at all
          return;
        }
        answer(cb, outcome.answer, command);
      },
      bindEvent(event, cb) {
        record("command", "bindEvent", { event });
        if (config.placement !== "CALL_CARD" || !CALL_CARD_EVENTS.includes(event)) return;
        (handlers[event] = handlers[event] || []).push(cb);
      },
    },
  };

  window.bx24Host = host;
})();
