// The Conflux portal page: plain JavaScript over the JMAP-style API
// (docs/API.md). Data is put into the page with textContent only.
"use strict";

const USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:contacts",
               "urn:ietf:params:jmap:calendars", "urn:ietf:params:jmap:tasks",
               "urn:conflux:params:jmap:notes", "urn:conflux:params:jmap:sync"];
let csrf = "";
let session = null;       // the JMAP session resource
let events = null;        // the EventSource
let editing = null;       // {id, accountId} of the contact or event in the form

const $ = (id) => document.getElementById(id);
function status(text) { $("status").textContent = text; }
function cell(row, text) { const td = document.createElement("td"); td.textContent = text || ""; row.appendChild(td); return td; }
function first(map) { return map ? Object.values(map)[0] : undefined; }

async function jmap(calls) {
  const r = await fetch("/jmap/api", {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
    body: JSON.stringify({using: USING, methodCalls: calls.map((c, i) => [c[0], c[1], "c" + i])}),
  });
  if (r.status === 401) { showLogin(); throw new Error("not logged in"); }
  const body = await r.json();
  if (!r.ok) throw new Error(body.detail || body.error || r.statusText);
  for (const [name, args] of body.methodResponses) {
    if (name === "error") throw new Error(args.type + (args.description ? ": " + args.description : ""));
  }
  return body.methodResponses.map((m) => m[1]);
}

// A /set's refusals as one line ("invalidProperties: phones/p1/number").
function setProblems(result) {
  const out = [];
  for (const key of ["notCreated", "notUpdated", "notDestroyed"]) {
    for (const e of Object.values(result[key] || {})) out.push(e.type + (e.properties ? ": " + e.properties.join(", ") : e.description ? ": " + e.description : ""));
  }
  return out.join("; ");
}

function showLogin() {
  $("app").hidden = true; $("logout").hidden = true; $("login").hidden = false; $("who").textContent = "";
  if (events) { events.close(); events = null; }
}

async function start(username) {
  $("login").hidden = true; $("app").hidden = false; $("logout").hidden = false;
  $("who").textContent = "Logged in as " + username;
  const r = await fetch("/.well-known/jmap", {credentials: "same-origin"});
  session = await r.json();
  fillAccounts("c-account", "urn:ietf:params:jmap:contacts");
  fillAccounts("e-account", "urn:ietf:params:jmap:calendars");
  events = new EventSource("/jmap/eventsource?types=*&closeafter=no&ping=60");
  events.addEventListener("state", () => refresh());
  await refresh();
}

function fillAccounts(selectId, capability) {
  const select = $(selectId);
  select.textContent = "";
  for (const [id, a] of Object.entries(session.accounts)) {
    if (!a.accountCapabilities[capability] || a.isReadOnly) continue;
    const o = document.createElement("option"); o.value = id; o.textContent = a.name; select.appendChild(o);
  }
}

async function refresh() {
  try {
    await Promise.all([loadContacts(), loadEvents(), loadTasks(), loadNotes(), loadConflicts(), loadDevices()]);
  } catch (e) { status("Error: " + e.message); }
}

// --- contacts -------------------------------------------------------------

function fullName(c) { return (c.name && c.name.full) || ""; }
function component(c, kind) {
  const hit = ((c.name && c.name.components) || []).find((x) => x.kind === kind);
  return hit ? hit.value : "";
}

async function loadContacts() {
  const text = $("contact-query").value.trim();
  const [, got] = await jmap([
    ["ContactCard/query", {filter: text ? {text} : null, sort: [{property: "name/full"}], limit: 500}],
    ["ContactCard/get", {"#ids": {resultOf: "c0", name: "ContactCard/query", path: "/ids"}}],
  ]);
  const byId = new Map(got.list.map((c) => [c.id, c]));
  const body = $("contact-list");
  body.textContent = "";
  for (const c of got.list.map((c) => c).sort((a, b) => fullName(a).localeCompare(fullName(b)))) {
    const row = document.createElement("tr");
    row.dataset.id = c.id;
    cell(row, fullName(c));
    cell(row, (first(c.emails) || {}).address);
    cell(row, (first(c.phones) || {}).number);
    cell(row, session.accounts[c["conflux:accountId"]].name);
    row.addEventListener("click", () => editContact(byId.get(c.id)));
    body.appendChild(row);
  }
}

function editContact(c) {
  editing = c ? {id: c.id, accountId: c["conflux:accountId"], card: c} : null;
  $("contact-edit").hidden = false;
  $("contact-edit-title").textContent = c ? "Edit " + fullName(c) : "New contact";
  $("c-account").disabled = !!c;
  if (c) $("c-account").value = c["conflux:accountId"];
  $("c-given").value = c ? component(c, "given") : "";
  $("c-surname").value = c ? component(c, "surname") : "";
  $("c-phone").value = c ? (first(c.phones) || {}).number || "" : "";
  $("c-email").value = c ? (first(c.emails) || {}).address || "" : "";
  $("c-note").value = c ? (first(c.notes) || {}).note || "" : "";
  $("c-delete").hidden = !c;
}

// The form's fields as Card properties; the first phone/e-mail/note of the
// card is replaced, the others stay.
function contactFromForm() {
  const given = $("c-given").value.trim(), surname = $("c-surname").value.trim();
  const card = editing ? editing.card : {};
  // The name's other parts (middle names, titles, suffixes) stay; so does
  // the full name unless the given name or surname changed.
  const old = (card.name && card.name.components) || [];
  const components = old.filter((c) => c.kind !== "given" && c.kind !== "surname");
  if (given) components.push({kind: "given", value: given});
  if (surname) components.push({kind: "surname", value: surname});
  const order = ["title", "given", "given2", "surname", "surname2", "credential", "generation"];
  components.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  const unchanged = editing && given === component(card, "given") && surname === component(card, "surname");
  const full = unchanged && card.name.full ? card.name.full : components.map((c) => c.value).join(" ");
  const props = {name: {full, components}};
  const keyOf = (map, fallback) => (map && Object.keys(map)[0]) || fallback;
  const phones = Object.assign({}, card.phones), emails = Object.assign({}, card.emails), notes = Object.assign({}, card.notes);
  const put = (map, key, value, make) => { if (value) map[key] = Object.assign({}, map[key], make(value)); else delete map[key]; };
  put(phones, keyOf(card.phones, "p1"), $("c-phone").value.trim(), (v) => ({number: v}));
  put(emails, keyOf(card.emails, "e1"), $("c-email").value.trim(), (v) => ({address: v}));
  put(notes, keyOf(card.notes, "n1"), $("c-note").value.trim(), (v) => ({note: v}));
  props.phones = phones; props.emails = emails; props.notes = notes;
  return props;
}

async function saveContact(event) {
  event.preventDefault();
  const props = contactFromForm();
  const args = editing
    ? {accountId: editing.accountId, update: {[editing.id]: props}}
    : {accountId: $("c-account").value, create: {n: Object.assign({"@type": "Card"}, props)}};
  try {
    const [result] = await jmap([["ContactCard/set", args]]);
    const problems = setProblems(result);
    if (problems) { status("Not saved: " + problems); return; }
    status("Saved " + props.name.full);
    $("contact-edit").hidden = true; editing = null;
    await loadContacts();
  } catch (e) { status("Error: " + e.message); }
}

async function deleteContact() {
  if (!editing) return;
  const [result] = await jmap([["ContactCard/set", {accountId: editing.accountId, destroy: [editing.id]}]]);
  const problems = setProblems(result);
  status(problems ? "Not deleted: " + problems : "Deleted " + fullName(editing.card));
  $("contact-edit").hidden = true; editing = null;
  await loadContacts();
}

// --- events ---------------------------------------------------------------

async function loadEvents() {
  const text = $("event-query").value.trim();
  const [, got] = await jmap([
    ["CalendarEvent/query", {filter: text ? {text} : null, sort: [{property: "start"}], limit: 500}],
    ["CalendarEvent/get", {"#ids": {resultOf: "c0", name: "CalendarEvent/query", path: "/ids"}}],
  ]);
  const body = $("event-list");
  body.textContent = "";
  for (const e of got.list.sort((a, b) => (a.start || "").localeCompare(b.start || ""))) {
    const row = document.createElement("tr");
    cell(row, (e.start || "").replace("T", " ") + (e.timeZone ? " " + e.timeZone : ""));
    cell(row, e.title);
    cell(row, (first(e.locations) || {}).name);
    cell(row, session.accounts[e["conflux:accountId"]].name);
    row.addEventListener("click", () => editEvent(e));
    body.appendChild(row);
  }
}

function editEvent(e) {
  editing = e ? {id: e.id, accountId: e["conflux:accountId"], event: e} : null;
  $("event-edit").hidden = false;
  $("e-account").disabled = !!e;
  if (e) $("e-account").value = e["conflux:accountId"];
  $("e-title").value = e ? e.title || "" : "";
  $("e-start").value = e ? e.start : "";
  $("e-duration").value = e ? e.duration || "" : "PT1H";
  $("e-location").value = e ? (first(e.locations) || {}).name || "" : "";
  $("e-delete").hidden = !e;
}

async function saveEvent(event) {
  event.preventDefault();
  let start = $("e-start").value;
  if (start.length === 16) start += ":00";
  const where = $("e-location").value.trim();
  const props = {title: $("e-title").value, start, timeZone: "Etc/UTC",
                 duration: $("e-duration").value.trim() || null, locations: where ? {l1: {name: where}} : null};
  const args = editing
    ? {accountId: editing.accountId, update: {[editing.id]: props}}
    : {accountId: $("e-account").value, create: {n: Object.assign({"@type": "Event"}, props)}};
  try {
    const [result] = await jmap([["CalendarEvent/set", args]]);
    const problems = setProblems(result);
    if (problems) { status("Not saved: " + problems); return; }
    status("Saved " + props.title);
    $("event-edit").hidden = true; editing = null;
    await loadEvents();
  } catch (e) { status("Error: " + e.message); }
}

async function deleteEvent() {
  if (!editing) return;
  const [result] = await jmap([["CalendarEvent/set", {accountId: editing.accountId, destroy: [editing.id]}]]);
  const problems = setProblems(result);
  status(problems ? "Not deleted: " + problems : "Deleted " + (editing.event.title || "event"));
  $("event-edit").hidden = true; editing = null;
  await loadEvents();
}

// --- conflicts, devices, sessions -------------------------------------------

function describeVersion(v) {
  if (v.deleted) return "(deleted)";
  if (v.card) {
    const c = v.card;
    return [fullName(c), ...Object.values(c.emails || {}).map((e) => e.address),
            ...Object.values(c.phones || {}).map((p) => p.number),
            ...Object.values(c.notes || {}).map((n) => n.note)].filter(Boolean).join("\n");
  }
  if (v.event) return [v.event.title, v.event.start].filter(Boolean).join("\n");
  return v["conflux:raw"];
}

async function loadConflicts() {
  const [got] = await jmap([["Conflict/get", {}]]);
  $("conflict-count").textContent = got.list.length ? "(" + got.list.length + ")" : "";
  const box = $("conflict-list");
  box.textContent = "";
  if (!got.list.length) { box.textContent = "No open conflicts."; return; }
  for (const c of got.list) {
    const div = document.createElement("div");
    div.className = "conflict";
    div.dataset.id = c.id;
    const head = document.createElement("p");
    head.textContent = `${session.accounts[c.accountId] ? session.accounts[c.accountId].name : c.accountId}, device ${c.device}, ${c.created}: ${c.outcome}`;
    div.appendChild(head);
    const versions = document.createElement("div");
    versions.className = "versions";
    for (const [label, v, keep] of [["Server version", c.serverVersion, "server"], ["Device version", c.deviceVersion, "device"]]) {
      const side = document.createElement("div");
      const h = document.createElement("h3"); h.textContent = label; side.appendChild(h);
      const pre = document.createElement("pre"); pre.className = "version-" + keep; pre.textContent = describeVersion(v); side.appendChild(pre);
      const button = document.createElement("button");
      button.textContent = "Keep " + keep + " version";
      button.className = "keep-" + keep;
      button.addEventListener("click", () => resolveConflict(c.id, keep));
      side.appendChild(button);
      versions.appendChild(side);
    }
    div.appendChild(versions);
    box.appendChild(div);
  }
}

async function resolveConflict(id, keep) {
  const [result] = await jmap([["Conflict/set", {update: {[id]: {keep}}}]]);
  const problems = setProblems(result);
  status(problems ? "Not resolved: " + problems : `Conflict ${id} resolved: ${keep} version kept`);
  await refresh();
}

async function loadDevices() {
  const [devices, sessions] = await jmap([["Device/get", {}], ["SyncSession/get", {limit: 20}]]);
  const dBody = $("device-list");
  dBody.textContent = "";
  for (const d of devices.list) {
    const row = document.createElement("tr");
    cell(row, d.id); cell(row, d.lastSync); cell(row, d.accountIds.join(", ")); cell(row, String(d.problems));
    dBody.appendChild(row);
  }
  const sBody = $("session-list");
  sBody.textContent = "";
  const counts = (c) => Object.entries(c).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(", ") || "none";
  for (const s of sessions.list) {
    const row = document.createElement("tr");
    cell(row, s.finished); cell(row, s.device); cell(row, s.accountId);
    cell(row, counts(s.fromDevice)); cell(row, counts(s.toDevice)); cell(row, String(s.conflicts));
    cell(row, s.problems.map((p) => `${p.item}: ${p.what}`).join("\n"));
    sBody.appendChild(row);
  }
}

// --- tasks and notes (read only) -------------------------------------------

// Every object of `type` across the accounts, filtered by the search box `queryId`.
async function loadAll(type, queryId, sort) {
  const text = $(queryId).value.trim();
  const [, got] = await jmap([
    [type + "/query", {filter: text ? {text} : null, sort: [{property: sort}], limit: 500}],
    [type + "/get", {"#ids": {resultOf: "c0", name: type + "/query", path: "/ids"}}],
  ]);
  return got.list;
}

async function loadTasks() {
  const list = await loadAll("Task", "task-query", "due");
  const body = $("task-list");
  body.textContent = "";
  for (const t of list) {
    const row = document.createElement("tr");
    cell(row, (t.due || "").replace("T", " "));
    cell(row, t.title);
    cell(row, t.progress);
    cell(row, session.accounts[t["conflux:accountId"]].name);
    body.appendChild(row);
  }
}

async function loadNotes() {
  const list = await loadAll("Note", "note-query", "title");
  const body = $("note-list");
  body.textContent = "";
  for (const n of list) {
    const row = document.createElement("tr");
    cell(row, n.title);
    cell(row, n.body);
    cell(row, session.accounts[n["conflux:accountId"]].name);
    body.appendChild(row);
  }
}

// --- wiring ------------------------------------------------------------------

function showTab(name) {
  for (const s of document.querySelectorAll("main > section")) s.hidden = s.id !== "tab-" + name;
}

document.addEventListener("DOMContentLoaded", async () => {
  for (const b of document.querySelectorAll("nav button")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("login-error").textContent = "";
    const r = await fetch("/portal/login", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username: $("username").value, password: $("password").value})});
    const body = await r.json();
    if (!r.ok) { $("login-error").textContent = body.error || "login failed"; return; }
    $("password").value = "";
    csrf = body.csrfToken;
    await start(body.username);
  });
  $("logout").addEventListener("click", async () => {
    await fetch("/portal/logout", {method: "POST", credentials: "same-origin", headers: {"X-CSRF-Token": csrf}});
    csrf = ""; showLogin();
  });
  $("contact-search").addEventListener("submit", (e) => { e.preventDefault(); loadContacts().catch((x) => status("Error: " + x.message)); });
  $("contact-new").addEventListener("click", () => editContact(null));
  $("contact-edit").addEventListener("submit", saveContact);
  $("c-delete").addEventListener("click", deleteContact);
  $("c-cancel").addEventListener("click", () => { $("contact-edit").hidden = true; editing = null; });
  $("event-search").addEventListener("submit", (e) => { e.preventDefault(); loadEvents().catch((x) => status("Error: " + x.message)); });
  $("event-new").addEventListener("click", () => editEvent(null));
  $("task-search").addEventListener("submit", (e) => { e.preventDefault(); loadTasks().catch((x) => status("Error: " + x.message)); });
  $("note-search").addEventListener("submit", (e) => { e.preventDefault(); loadNotes().catch((x) => status("Error: " + x.message)); });
  $("event-edit").addEventListener("submit", saveEvent);
  $("e-delete").addEventListener("click", deleteEvent);
  $("e-cancel").addEventListener("click", () => { $("event-edit").hidden = true; editing = null; });
  // A session cookie from before (the page was reloaded): carry on.
  const r = await fetch("/portal/session", {credentials: "same-origin"});
  if (r.ok) { const body = await r.json(); csrf = body.csrfToken; await start(body.username); }
  else showLogin();
});
