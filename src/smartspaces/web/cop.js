// The Common Operational Picture: spaces coloured by level of service, risk outlines, live alerts.
// Everything comes from this server: the map library, the basemap, the data. No CDN, no tiles.
"use strict";

const LOS_COLOURS = { A: "#1a9850", B: "#91cf60", C: "#d9ef8b", D: "#fee08b", E: "#fc8d59", F: "#d73027" };
const RISK_COLOURS = { normal: "#66bb6a", amber: "#fbc02d", red: "#e53935", critical: "#ff00ff" };
const state = { layers: new Map(), spaces: new Map(), alerts: [] };

const map = L.map("map", { zoomControl: true, attributionControl: true, preferCanvas: false });
map.attributionControl.setPrefix(false);
map.attributionControl.addAttribution("© OpenStreetMap contributors");

function esc(text) {
  const span = document.createElement("span");
  span.textContent = text == null ? "" : String(text);
  return span.innerHTML;
}

function fmt(value, digits) {
  return value == null ? "–" : Number(value).toFixed(digits);
}

function spaceStyle(space) {
  const fill = space.level_of_service ? LOS_COLOURS[space.level_of_service] : "#607d8b";
  return { color: RISK_COLOURS[space.risk_level] || "#999", weight: space.risk_level === "normal" ? 1.5 : 4,
           fillColor: fill, fillOpacity: 0.6 };
}

async function loadBasemap() {
  const response = await fetch("/api/v1/basemap");
  if (!response.ok) return;
  const data = await response.json();
  L.geoJSON(data, {
    interactive: false,
    style: (feature) => feature.geometry.type.includes("Polygon")
      ? { color: "#3a434c", weight: 0.5, fillColor: "#2c343c", fillOpacity: 1 }
      : { color: "#56616b", weight: 1 },
  }).addTo(map);
}

function renderSpaces() {
  const body = document.querySelector("#spaces tbody");
  body.innerHTML = "";
  const sorted = [...state.spaces.values()].sort((a, b) => (b.density_p_m2 || 0) - (a.density_p_m2 || 0));
  for (const space of sorted) {
    const row = document.createElement("tr");
    row.dataset.spaceId = space.id;
    row.innerHTML = `<td>${esc(space.name)}</td><td class="num">${fmt(space.occupancy_persons, 0)}</td>` +
      `<td class="num">${fmt(space.density_p_m2, 2)}</td><td>${esc(space.level_of_service || "–")}</td>` +
      `<td><span class="badge ${esc(space.risk_level)}">${esc(space.risk_level)}</span></td>`;
    body.appendChild(row);
    const layer = state.layers.get(space.id);
    if (layer) {
      layer.setStyle(spaceStyle(space));
      layer.setTooltipContent(`${esc(space.name)}: ${fmt(space.density_p_m2, 2)} p/m², LoS ${esc(space.level_of_service || "–")}`);
    }
  }
}

async function refreshSpaces(first) {
  const response = await fetch("/api/v1/spaces");
  if (!response.ok) return;
  const spaces = await response.json();
  for (const space of spaces) {
    state.spaces.set(space.id, space);
    if (!state.layers.has(space.id)) {
      const layer = L.geoJSON(space.geometry, { style: spaceStyle(space) }).addTo(map);
      layer.bindTooltip(esc(space.name));
      state.layers.set(space.id, layer);
    }
  }
  if (first && spaces.length) {
    const bounds = L.featureGroup([...state.layers.values()]).getBounds();
    map.fitBounds(bounds.pad(0.3));
  }
  renderSpaces();
}

function addAlert(alert) {
  state.alerts.unshift(alert);
  const list = document.getElementById("alerts");
  const item = document.createElement("li");
  item.className = `level-${alert.level}`;
  item.dataset.alertId = alert.id;
  // the control room's own clock, not UTC
  const when = new Date(alert.observed_at).toLocaleTimeString([], { hour12: false });
  item.innerHTML = `<span class="when">${esc(when)}</span> <span class="badge ${esc(alert.level)}">${esc(alert.level)}</span> ` +
    `<strong>${esc(alert.msg_type)}</strong> ${esc(alert.headline)}<br><small>${esc(alert.instruction)}</small>`;
  list.prepend(item);
  document.getElementById("alert-count").textContent = String(state.alerts.length);
}

async function loadAlerts() {
  const response = await fetch("/api/v1/alerts?limit=200");
  if (!response.ok) return;
  const alerts = await response.json();
  for (const alert of alerts.reverse()) addAlert(alert);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/v1/stream?kinds=alert,risk_level,detection`);
  const badge = document.getElementById("connection");
  socket.onopen = () => { badge.textContent = "live"; badge.className = "online"; };
  socket.onclose = () => {
    badge.textContent = "offline, reconnecting…"; badge.className = "offline";
    setTimeout(connect, 2000);
  };
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.kind === "alert") addAlert(event);
    if (event.kind === "detection" || event.kind === "risk_level") refreshSpaces(false);
  };
}

function legend() {
  const list = document.getElementById("legend");
  for (const [grade, colour] of Object.entries(LOS_COLOURS)) {
    const item = document.createElement("li");
    item.style.background = colour;
    item.textContent = grade;
    list.appendChild(item);
  }
}

legend();
map.setView([39.4699, -0.3763], 17);
loadBasemap().then(() => refreshSpaces(true)).then(loadAlerts).then(connect);
setInterval(() => refreshSpaces(false), 3000);
