// The incident board: open incidents first; the selected one with its state changes, units,
// the playbook's measures, notes and timeline. The server records every change with the
// signed-in operator's name.
"use strict";
import { api, badge, clockTime, duration, emit, h, operator, replace, say, state } from "./util.js";

// Mirrors respond/incidents/lifecycle.TRANSITIONS; the server refuses anything else anyway.
const NEXT = {
  new: [["acknowledged", "Acknowledge"]],
  acknowledged: [["dispatched", "Dispatch"], ["resolved", "Resolve"]],
  dispatched: [["on_scene", "On scene"], ["resolved", "Resolve"]],
  on_scene: [["resolved", "Resolve"]],
  resolved: [["closed", "Close"], ["acknowledged", "Reopen"]],
  closed: [],
};
const MEASURE_NEXT = {
  proposed: [["activated", "Activate"], ["declined", "Decline"]],
  activated: [["done", "Done"], ["declined", "Decline"]],
  done: [], declined: [],
};
const OPEN = new Set(["new", "acknowledged", "dispatched", "on_scene"]);
let detail = null; // the selected incident, in full
const lastSent = new Map(); // input id -> text just sent (not restored after the answer)

export async function loadIncidents() {
  const list = await api("/api/v1/incidents?limit=200");
  state.incidents.clear();
  state.incidentByAlert.clear();
  for (const incident of list) {
    state.incidents.set(incident.id, incident);
    for (const alertId of incident.alert_ids) state.incidentByAlert.set(alertId, incident.id);
  }
  renderList();
  if (state.selectedIncident) await show(state.selectedIncident, false);
  emit("incidents-loaded");
}

function label(status) {
  return status.replace("_", " ");
}

function renderList() {
  const incidents = [...state.incidents.values()].sort((a, b) =>
    Number(OPEN.has(b.status)) - Number(OPEN.has(a.status)) || b.opened_at.localeCompare(a.opened_at));
  const rows = incidents.map((incident) => h("li", {
    className: `incident status-${incident.status}`, dataset: { incidentId: incident.id },
    "aria-selected": String(incident.id === state.selectedIncident),
  }, h("button", { type: "button", className: "row", onclick: () => show(incident.id, true) },
    badge(incident.level), " ", h("strong", {}, incident.title), h("br"),
    h("span", { className: `status status-${incident.status}` }, label(incident.status)),
    ` · opened ${clockTime(incident.opened_at)}`,
    incident.time_to_acknowledge_s != null ? ` · acknowledged in ${duration(incident.time_to_acknowledge_s)}` : "",
    incident.active_units.length ? ` · units: ${incident.active_units.join(", ")}` : "")));
  replace(document.getElementById("incident-list"),
    rows.length ? rows : h("li", { className: "empty" }, "No incidents. Acknowledge an alert to open one."));
  const open = incidents.filter((i) => OPEN.has(i.status)).length;
  const count = document.getElementById("incident-count");
  count.textContent = String(open);
  count.className = open ? "count" : "count zero";
}

async function change(path, body, done) {
  if (!operator()) return;
  try {
    const updated = await api(`/api/v1/incidents/${encodeURIComponent(detail.id)}${path}`, body);
    say(done);
    emit("incident-changed", updated);
  } catch (error) {
    const allowed = error.detail && error.detail.allowed ? ` (possible: ${error.detail.allowed.join(", ")})` : "";
    say(`Refused: ${error.message}${allowed}`, true);
    emit("incidents-stale");
  }
}

function section(title, ...content) {
  return h("section", { className: "incident-part" }, h("h3", {}, title), ...content);
}

function transitions(incident) {
  const buttons = (NEXT[incident.status] || []).map(([to, text]) => h("button", {
    type: "button", className: `go go-${to}`, dataset: { to },
    onclick: () => change("/transitions", { to, note: "" }, `${incident.title}: ${text}`),
  }, text));
  return h("div", { className: "actions" }, buttons.length ? buttons : "Closed: nothing more to do.");
}

function measures(incident) {
  const rows = incident.measures.map((m) => h("li", { className: `measure measure-${m.status}`, dataset: { measureId: m.spec.id } },
    h("span", { className: "measure-status" }, m.status.toUpperCase()), " ", m.spec.title,
    h("div", { className: "actions" }, (MEASURE_NEXT[m.status] || []).map(([status, text]) => h("button", {
      type: "button", dataset: { status },
      onclick: () => {
        const reason = status === "declined" ? (window.prompt("Why is it declined?") || "") : "";
        change(`/measures/${encodeURIComponent(m.spec.id)}`, { status, reason }, `${m.spec.title}: ${text}`);
      },
    }, text)))));
  return section("Recommended measures", rows.length ? h("ol", { className: "measures" }, rows)
    : h("p", {}, "The playbook proposes nothing for this incident."));
}

function units(incident) {
  const input = h("input", { id: "unit-id", maxlength: "128", placeholder: "unit, e.g. patrol-12", "aria-label": "Unit to assign" });
  const rows = incident.units.map((u) => h("li", {},
    `${u.unit_id} · sent ${clockTime(u.assigned_at)} by ${u.assigned_by}`,
    u.released_at ? ` · released ${clockTime(u.released_at)}` : h("button", {
      type: "button", onclick: () => change(`/units/${encodeURIComponent(u.unit_id)}/release`, {}, `${u.unit_id} released`),
    }, "Release")));
  const form = h("form", {
    className: "inline", onsubmit: (event) => {
      event.preventDefault();
      if (!input.value.trim()) return;
      lastSent.set("unit-id", input.value);
      change("/units", { unit_id: input.value.trim() }, `${input.value.trim()} assigned`);
    },
  }, input, h("button", { type: "submit" }, "Assign"));
  return section("Units", rows.length ? h("ul", {}, rows) : h("p", {}, "No unit assigned."), form);
}

function notes(incident) {
  const text = h("textarea", { id: "note-text", rows: "2", maxlength: "2000", "aria-label": "New note" });
  const form = h("form", {
    className: "inline", onsubmit: (event) => {
      event.preventDefault();
      if (!text.value.trim()) return;
      lastSent.set("note-text", text.value);
      change("/notes", { text: text.value.trim() }, "Note added");
    },
  }, text, h("button", { type: "submit" }, "Add note"));
  const rows = incident.notes.map((n) => h("li", {}, h("time", {}, clockTime(n.at)), ` ${n.actor}: ${n.detail}`));
  return section("Notes", rows.length ? h("ul", { className: "notes" }, rows) : null, form);
}

function timeline(incident) {
  const rows = [...incident.timeline].reverse().map((t) => h("li", {},
    h("time", {}, clockTime(t.at)), ` ${t.actor} · ${t.action.replace("_", " ")}`, t.detail ? `: ${t.detail}` : ""));
  return section("Timeline", h("ol", { className: "timeline" }, rows));
}

export async function show(incidentId, focus) {
  state.selectedIncident = incidentId;
  for (const li of document.querySelectorAll("#incident-list li")) {
    li.setAttribute("aria-selected", String(li.dataset.incidentId === incidentId));
  }
  let fresh = null;
  try {
    fresh = await api(`/api/v1/incidents/${encodeURIComponent(incidentId)}`);
  } catch (error) {
    say(`Could not load the incident: ${error.message}`, true);
    return;
  }
  const box = document.getElementById("incident-detail");
  // Unchanged: keep the panel as it is, so nothing the operator is typing is lost.
  if (detail && fresh.id === detail.id && fresh.version === detail.version && box.dataset.incidentId === fresh.id) {
    if (focus) box.querySelector("button")?.focus();
    return;
  }
  const sameCase = detail && fresh.id === detail.id;
  const typed = sameCase ? ["unit-id", "note-text"].map((id) => [id, document.getElementById(id)?.value || ""]) : [];
  const typing = sameCase && document.activeElement ? document.activeElement.id : "";
  detail = fresh;
  const d = detail;
  replace(box,
    h("h3", { className: "incident-title" }, badge(d.level), " ", d.title),
    h("p", { className: "incident-state" }, "Status: ", h("strong", { className: `status status-${d.status}` }, label(d.status)),
      ` · opened ${clockTime(d.opened_at)}`,
      d.time_to_acknowledge_s != null ? ` · acknowledged in ${duration(d.time_to_acknowledge_s)}` : "",
      ` · ${d.alert_ids.length} alert${d.alert_ids.length > 1 ? "s" : ""}`),
    transitions(d), measures(d), units(d), notes(d), timeline(d));
  box.dataset.incidentId = d.id;
  box.dataset.status = d.status;
  box.dataset.version = String(d.version);
  for (const [id, value] of typed) {
    const input = document.getElementById(id);
    if (input && value && !(lastSent.get(id) === value)) input.value = value;
  }
  lastSent.clear();
  if (typing && document.getElementById(typing)) document.getElementById(typing).focus();
  else if (focus) box.querySelector("button")?.focus();
}
