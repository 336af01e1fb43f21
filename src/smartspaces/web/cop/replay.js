// The time slider: drag back over the last hours and the map, the spaces table and the alert
// list show the spaces (level of service, density, risk), the alerts and the units as they were
// then; "Live" (or the key l) comes back. The server answers for a time (GET /api/v1/replay) and
// says how far back it may go (GET /api/v1/replay/window); the page's own clock is not used.
"use strict";
import { api, badge, clockTime, duration, emit, h, replace, say, state } from "./util.js";

let asked = 0; // the newest request: an older answer arriving late is dropped
let timer = null;

const slider = () => document.getElementById("replay-slider");

function ago(seconds) {
  return seconds ? `${duration(-seconds)} ago` : "now";
}

function waitingThen(alert) {
  return alert.msg_type !== "Cancel" && (alert.incident_status_then == null || alert.incident_status_then === "new");
}

function stateThen(alert) {
  if (alert.msg_type === "Cancel") return "All clear";
  if (alert.incident_status_then == null) return "Not acknowledged yet";
  return `Incident ${alert.incident_status_then.replace("_", " ")}`;
}

function item(alert) {
  const space = state.spaces.get(alert.space_id);
  const level = ["normal", "amber", "red", "critical"].includes(alert.level) ? alert.level : "unknown";
  return h("li", { className: `alert level-${level}`, dataset: { alertId: alert.id, spaceId: alert.space_id } },
    h("div", { className: "alert-head" }, badge(alert.level), " ",
      h("time", { datetime: alert.observed_at }, clockTime(alert.observed_at)), " ",
      h("span", { className: "msg-type" }, alert.msg_type), " ",
      h("span", { className: "space-name" }, space ? space.name : alert.space_id)),
    h("div", { className: "headline" }, alert.headline),
    h("div", { className: "alert-foot" }, h("span", { className: `ack-state ${waitingThen(alert) ? "todo" : "done"}` },
      `Then: ${stateThen(alert)}`)));
}

function show(answer, offset) {
  state.replay = {
    at: answer.at,
    spaces: new Map(answer.spaces.map((s) => [s.id, {
      occupancy_persons: s.occupancy_persons, density_p_m2: s.density_p_m2,
      level_of_service: s.level_of_service, risk_level: s.risk_level, risk_score: s.risk_score,
    }])),
    alerts: answer.alerts,
    needsAck: waitingThen,
  };
  document.body.classList.add("replaying");
  document.getElementById("replay-bar").dataset.at = answer.at;
  replace(document.getElementById("replay-time"), `REPLAY ${clockTime(answer.at)} · ${ago(offset)}`);
  document.getElementById("replay-live").disabled = false;
  document.getElementById("alerts").hidden = true;
  const list = document.getElementById("replay-alerts");
  list.hidden = false;
  replace(list, answer.alerts.length ? answer.alerts.map(item)
    : h("li", { className: "empty" }, "No alerts in the hour before this time."));
  emit("replay-changed");
}

async function replayAt(offset) {
  const mine = ++asked;
  try {
    const bounds = await api("/api/v1/replay/window");
    const at = new Date(Date.parse(bounds.latest) + offset * 1000).toISOString();
    const answer = await api(`/api/v1/replay?at=${encodeURIComponent(at)}`);
    if (mine === asked && Number(slider().value) < 0) show(answer, offset);
  } catch (error) {
    if (mine === asked) say(`Replay unavailable: ${error.message}`, true);
  }
}

export function goLive() {
  asked += 1;
  clearTimeout(timer);
  slider().value = "0";
  const was = state.replay;
  state.replay = null;
  document.body.classList.remove("replaying");
  delete document.getElementById("replay-bar").dataset.at;
  replace(document.getElementById("replay-time"), "LIVE");
  document.getElementById("replay-live").disabled = true;
  document.getElementById("alerts").hidden = false;
  document.getElementById("replay-alerts").hidden = true;
  if (was) emit("replay-changed");
}

function moved(now) {
  const offset = Number(slider().value);
  clearTimeout(timer);
  if (offset >= 0) { goLive(); return; }
  replace(document.getElementById("replay-time"), `REPLAY … ${ago(offset)}`);
  // dragging sends one request once the hand rests, letting go sends one at once
  timer = setTimeout(() => replayAt(offset), now ? 0 : 200);
}

export function bindReplay() {
  slider().addEventListener("input", () => moved(false));
  slider().addEventListener("change", () => moved(true));
  document.getElementById("replay-live").addEventListener("click", goLive);
}
