// The live alert feed: newest first, one selected at a time, acknowledged from here. Acknowledging
// opens an incident for the alert (or joins the space's open incident) and moves it to
// "acknowledged" in the operator's name.
"use strict";
import { api, badge, clockTime, emit, h, operator, replace, say, state } from "./util.js";

const MAX_ITEMS = 300;
const OPEN = new Set(["new", "acknowledged", "dispatched", "on_scene"]);
// Measured in the browser: when each alert was first painted (bench/cop.py reads it).
export const metrics = { renderedAt: new Map(), firstBySpace: new Map() };
window.copMetrics = metrics;

function incidentOf(alert) {
  const id = state.incidentByAlert.get(alert.id);
  return id ? state.incidents.get(id) : null;
}

// CAP chains: updates and the cancel reference the first alert. Only the newest alert of a chain
// that is not cancelled asks for acknowledging; acknowledging any alert of it covers the chain.
const chains = new Map(); // first alert id -> { newest, cancelled, incident }
const chainOf = (alert) => (alert.references && alert.references[0]) || alert.id;

function indexChains() {
  chains.clear();
  for (const alert of state.alerts) { // newest first
    const chain = chains.get(chainOf(alert)) || { newest: alert.id, cancelled: false, incident: null };
    chain.cancelled ||= alert.msg_type === "Cancel";
    chain.incident ||= incidentOf(alert);
    chains.set(chainOf(alert), chain);
  }
}

function situation(alert) {
  const chain = chains.get(chainOf(alert));
  const incident = incidentOf(alert) || (chain && chain.incident);
  if (alert.msg_type === "Cancel") return ["done", "All clear: nothing to do", incident];
  if (chain && chain.cancelled) return ["done", "Ended: all clear", incident];
  if (incident && incident.status !== "new") return ["done", `Incident ${incident.status.replace("_", " ")}`, incident];
  if (chain && chain.newest !== alert.id) return ["done", "Superseded by a newer update", incident];
  return ["todo", incident ? "Incident new: NEEDS ACKNOWLEDGING" : "NEEDS ACKNOWLEDGING", incident];
}

export function needsAck(alert) {
  return situation(alert)[0] === "todo";
}

function statusLine(alert) {
  const [kind, text] = situation(alert);
  return h("span", { className: `ack-state ${kind}` }, text);
}

function item(alert) {
  const space = state.spaces.get(alert.space_id);
  const level = ["normal", "amber", "red", "critical"].includes(alert.level) ? alert.level : "unknown";
  const button = h("button", {
    type: "button", className: "ack", title: "Acknowledge (a)",
    onclick: (event) => { event.stopPropagation(); acknowledge(alert.id); },
  }, "Acknowledge");
  return h("li", {
    className: `alert level-${level}`, tabindex: "-1", role: "option", "aria-selected": "false",
    dataset: { alertId: alert.id, spaceId: alert.space_id },
    onclick: () => { state.operatorChose = true; select(alert.id); },
  },
  h("div", { className: "alert-head" }, badge(alert.level), " ",
    h("time", { datetime: alert.observed_at }, clockTime(alert.observed_at)), " ",
    h("span", { className: "msg-type" }, alert.msg_type), " ",
    h("span", { className: "space-name" }, space ? space.name : alert.space_id)),
  h("div", { className: "headline" }, alert.headline),
  alert.instruction ? h("div", { className: "instruction" }, alert.instruction) : null,
  h("div", { className: "alert-foot" }, h("span", { className: "state-holder" }, statusLine(alert)),
    needsAck(alert) ? button : null));
}

export function addAlert(alert, live) {
  if (state.alertIds.has(alert.id)) return;
  state.alertIds.add(alert.id);
  state.alerts.unshift(alert);
  const list = document.getElementById("alerts");
  indexChains();
  list.prepend(item(alert));
  while (state.alerts.length > MAX_ITEMS) {
    const gone = state.alerts.pop();
    state.alertIds.delete(gone.id);
    list.querySelector(`li[data-alert-id="${CSS.escape(gone.id)}"]`)?.remove();
  }
  if (live) {
    requestAnimationFrame(() => {
      const at = performance.now();
      metrics.renderedAt.set(alert.id, at);
      if (!metrics.firstBySpace.has(alert.space_id)) metrics.firstBySpace.set(alert.space_id, at);
    });
  }
  // The newest alert is selected unless the operator chose another one.
  if (live && (!state.operatorChose || !state.alertIds.has(state.selectedAlert))) select(alert.id, false);
  if (live) emit("alerts-changed");
}

export async function loadAlerts() {
  const alerts = await api("/api/v1/alerts?limit=200");
  for (const alert of alerts.reverse()) addAlert(alert, false);
  const first = state.alerts.find(needsAck) || state.alerts[0];
  if (first && !state.operatorChose) select(first.id, false);
  emit("alerts-changed");
}

// Redraw each item's incident state and button (after incidents change).
export function refreshStates() {
  indexChains();
  const byId = new Map(state.alerts.map((a) => [a.id, a]));
  for (const li of document.querySelectorAll("#alerts li")) {
    const alert = byId.get(li.dataset.alertId);
    if (!alert) continue;
    li.replaceWith(item(alert));
  }
  if (state.selectedAlert) select(state.selectedAlert, false);
  const waiting = state.alerts.filter(needsAck).length;
  const count = replace(document.getElementById("alert-count"), String(waiting));
  count.className = waiting ? "count" : "count zero";
  document.getElementById("waiting").textContent = waiting
    ? `${waiting} alert${waiting > 1 ? "s" : ""} to acknowledge` : "All alerts acknowledged";
  document.getElementById("waiting").className = waiting ? "waiting todo" : "waiting done";
}

export function select(alertId, focus = true) {
  state.selectedAlert = alertId;
  for (const li of document.querySelectorAll("#alerts li[aria-selected='true']")) {
    li.setAttribute("aria-selected", "false");
  }
  const li = document.querySelector(`#alerts li[data-alert-id="${CSS.escape(alertId)}"]`);
  if (!li) return;
  li.setAttribute("aria-selected", "true");
  if (focus) { li.focus({ preventScroll: true }); li.scrollIntoView({ block: "nearest" }); }
}

// Move the selection: +1 older, -1 newer; `onlyWaiting` skips the acknowledged ones.
export function step(direction, onlyWaiting) {
  const ids = state.alerts.filter((a) => !onlyWaiting || needsAck(a)).map((a) => a.id);
  if (!ids.length) return;
  const at = ids.indexOf(state.selectedAlert);
  const next = at < 0 ? 0 : Math.min(Math.max(at + direction, 0), ids.length - 1);
  state.operatorChose = true;
  select(ids[next]);
}

async function incidentFor(alert) {
  const known = situation(alert)[2];
  if (known) return known;
  const open = [...state.incidents.values()].find((i) => i.space_id === alert.space_id && OPEN.has(i.status));
  if (open) return api(`/api/v1/incidents/${encodeURIComponent(open.id)}/alerts`, { alert_id: alert.id });
  return api("/api/v1/incidents", { alert_id: alert.id, note: "" });
}

export async function acknowledge(alertId) {
  const alert = state.alerts.find((a) => a.id === (alertId || state.selectedAlert));
  if (!alert) return;
  if (!operator()) return;
  try {
    let incident = await incidentFor(alert);
    if (incident.status !== "new") {
      say(`Already handled: incident ${incident.status.replace("_", " ")}`);
      emit("incident-changed", incident);
      return;
    }
    incident = await api(`/api/v1/incidents/${encodeURIComponent(incident.id)}/transitions`,
      { to: "acknowledged", note: `from alert ${alert.id}` });
    say(`Acknowledged: ${alert.headline}`);
    emit("incident-changed", incident);
  } catch (error) {
    say(`Could not acknowledge: ${error.message}`, true);
    emit("incidents-stale");
  }
}
