// The Common Operational Picture: map, live alerts, incidents, spaces, devices. Everything comes
// from this server (map library, basemap, data): no CDN, no tiles, nothing else on the network.
// Nothing but the sign-in form shows until the server knows who is at the screen.
"use strict";
import { acknowledge, addAlert, loadAlerts, needsAck, refreshStates, select, step } from "./cop/alerts.js";
import { loadDevices } from "./cop/devices.js";
import { loadIncidents, show as showIncident } from "./cop/incidents.js";
import { createMap, drawAssets, drawPins, drawSpaces, focusSpace, loadBasemap } from "./cop/map.js";
import { bindReplay, goLive } from "./cop/replay.js";
import { bindLogin, loginShown, showLogin, showWho, signOut, whoAmI } from "./cop/session.js";
import { renderTable, showSpace } from "./cop/space.js";
import { loadUnits } from "./cop/units.js";
import { LEVELS, LOS_COLOURS, api, h, on, replace, say, state } from "./cop/util.js";

const TABS = ["alerts", "incidents", "spaces", "devices"];

function openTab(name) {
  for (const tab of TABS) {
    const selected = tab === name;
    document.getElementById(`tab-${tab}`).setAttribute("aria-selected", String(selected));
    document.getElementById(`panel-${tab}`).hidden = !selected;
  }
  if (name === "devices") loadDevices();
}

async function refreshSpaces(first) {
  const spaces = await api("/api/v1/spaces");
  for (const space of spaces) state.spaces.set(space.id, space);
  drawSpaces(first);
  renderTable();
}

async function refreshAssets() {
  drawAssets(await api("/api/v1/assets"));
}

let spacesTimer = null;
// Detections come in bursts: one spaces reload per burst is enough.
function spacesSoon() {
  if (spacesTimer) return;
  spacesTimer = setTimeout(() => {
    spacesTimer = null;
    refreshSpaces(false).catch(() => {});
    refreshAssets().catch(() => {});
  }, 150);
}

let incidentsTimer = null;
function incidentsSoon() {
  if (incidentsTimer) return;
  incidentsTimer = setTimeout(() => { incidentsTimer = null; loadIncidents().catch(() => {}); }, 100);
}

let socket = null;
function connect() {
  if (!state.me || socket) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const kinds = "alert,risk_level,detection,incident,incident_state_changed";
  // the browser sends the session cookie with the handshake: no token in the URL
  socket = new WebSocket(`${scheme}://${location.host}/api/v1/stream?kinds=${kinds}`);
  const badge = document.getElementById("connection");
  socket.onopen = () => { badge.textContent = "LIVE"; badge.className = "online"; };
  socket.onclose = (closed) => {
    socket = null;
    badge.textContent = "OFFLINE, reconnecting…"; badge.className = "offline";
    if (closed.code === 4401) { showLogin("Your session has ended: sign in again."); return; }
    setTimeout(connect, 2000);
  };
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.kind === "alert") {
      addAlert(event, true);
      drawPins(needsAck);
    } else if (event.kind === "detection" || event.kind === "risk_level") {
      spacesSoon();
    } else if (event.kind === "incident" || event.kind === "incident_state_changed") {
      incidentsSoon();
    } else if (event.kind === "gap") {
      loadAlerts().then(incidentsSoon); // some messages were lost: reload what they carried
    }
  };
}

function disconnect() {
  if (socket) { socket.onclose = null; socket.close(); socket = null; }
  const badge = document.getElementById("connection");
  badge.textContent = "signed out"; badge.className = "offline";
}

function legend() {
  const levels = Object.entries(LEVELS).map(([name, level]) =>
    h("li", { className: `badge level-${name}` }, level.label));
  const grades = Object.entries(LOS_COLOURS).map(([grade, colour]) =>
    h("li", { style: `background:${colour}`, className: `los los-${grade}` }, grade));
  replace(document.getElementById("legend"),
    h("div", {}, "Risk (outline): ", h("ul", {}, levels)),
    h("div", {}, "Level of service (fill, A free to F jammed): ", h("ul", {}, grades)));
}

const SHORTCUTS = {
  n: () => step(1, false), j: () => step(1, false), p: () => step(-1, false), k: () => step(-1, false),
  N: () => step(1, true), a: () => acknowledge(state.selectedAlert),
  i: () => {
    const incident = state.incidentByAlert.get(state.selectedAlert);
    if (incident) { openTab("incidents"); showIncident(incident, true); }
  },
  s: () => {
    const alert = state.alerts.find((a) => a.id === state.selectedAlert);
    if (alert) { openTab("spaces"); showSpace(alert.space_id); focusSpace(alert.space_id); }
  },
  l: () => goLive(),
  1: () => openTab("alerts"), 2: () => openTab("incidents"), 3: () => openTab("spaces"), 4: () => openTab("devices"),
  "?": () => { const help = document.getElementById("help"); help.hidden = !help.hidden; },
  Escape: () => { document.getElementById("help").hidden = true; },
};

function keyboard(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || loginShown()) return;
  // the time slider is an input too, but nobody types in it: the shortcuts stay on there
  const typing = event.target.closest && event.target.closest("input:not([type=range]), textarea, select");
  if (typing) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  const action = SHORTCUTS[event.key];
  if (!action) return;
  event.preventDefault();
  if (state.replay && ["n", "j", "p", "k", "N", "a", "i"].includes(event.key)) {
    // nobody acknowledges the past by mistake: alerts are acted on live
    say("Replaying the past: press l (or Live) to act on the live alerts.", true);
    return;
  }
  if (["n", "j", "p", "k", "N", "a"].includes(event.key)) openTab("alerts");
  action();
}

function tick() {
  document.getElementById("clock").textContent = new Date().toLocaleTimeString([], { hour12: false });
}

on("select-alert", (id) => { state.operatorChose = true; openTab("alerts"); select(id); });
on("select-space", (id) => { openTab("spaces"); showSpace(id); });
on("alerts-changed", () => refreshStates());
on("incident-changed", (incident) => {
  state.selectedIncident = incident.id;
  loadIncidents().catch(() => {});
});
on("incidents-stale", () => incidentsSoon());
on("incidents-loaded", () => { refreshStates(); drawPins(needsAck); });

on("replay-changed", () => {
  drawSpaces(false);
  drawPins(needsAck);
  renderTable();
  loadUnits().catch(() => {});
});

on("signed-out", (why) => { disconnect(); showLogin(why || "Your session has ended: sign in again."); });

// Load everything once signed in (again after a new sign-in); the timers skip while signed out.
let basemap = null;
let shownFor = null; // whose data the page holds: another person starts from a fresh page
function signedIn() {
  if (shownFor && shownFor !== state.me.name) { location.reload(); return; }
  shownFor = state.me.name;
  showWho();
  basemap = basemap || loadBasemap();
  basemap
    .then(() => refreshSpaces(true))
    .then(() => refreshAssets().catch(() => {}))
    .then(() => loadUnits().catch(() => {}))
    .then(loadIncidents)
    .then(loadAlerts)
    .then(() => { refreshStates(); drawPins(needsAck); })
    .catch(() => {})
    .finally(connect);
}

for (const tab of TABS) document.getElementById(`tab-${tab}`).addEventListener("click", () => openTab(tab));
document.addEventListener("keydown", keyboard);
document.getElementById("help-button").addEventListener("click", SHORTCUTS["?"]);
document.getElementById("sign-out").addEventListener("click", () => {
  disconnect();
  signOut().finally(() => location.reload()); // nothing of this session stays on the screen
});
bindLogin(signedIn);
bindReplay();
legend();
createMap();
tick();
setInterval(tick, 1000);
whoAmI()
  .then((me) => (me ? signedIn() : showLogin()))
  .catch(() => showLogin("The server cannot be reached."));
setInterval(() => {
  if (!state.me) return;
  refreshSpaces(false).catch(() => {});
  if (!state.replay) loadUnits().catch(() => {}); // units report no stream event: polled
}, 5000);
setInterval(() => {
  if (!state.me) return;
  if (state.selectedSpace && !document.getElementById("panel-spaces").hidden) showSpace(state.selectedSpace);
  if (!document.getElementById("panel-devices").hidden) loadDevices();
}, 10000);
