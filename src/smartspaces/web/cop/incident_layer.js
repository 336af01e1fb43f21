// Open incidents on the map: a black label with the level (colour and word), the title and the
// state in words, at the incident's location (that of the alert it was opened from, when the page
// holds it) or else at its space's centre; several at one place are stacked. The data is the
// incident board's (state.incidents, reloaded whenever an incident changes), so the map and the
// board never disagree. Live only: the replay has no incidents, so the layer hides meanwhile.
"use strict";
import { show } from "./incidents.js";
import { addOverlay } from "./map.js";
import { badge, clockTime, h, state } from "./util.js";

export const LAYER_NAME = "Incidents (live)";
const OPEN = ["new", "acknowledged", "dispatched", "on_scene"];
const STACK_PX = 26; // one label's height and a gap
const markers = new Map(); // incident id -> L.Marker
let layer = null;

function where(incident, alerts) {
  for (const alertId of incident.alert_ids) {
    const alert = alerts.get(alertId);
    if (alert && alert.location) return alert.location.coordinates;
  }
  const space = state.spaces.get(incident.space_id);
  return space && space.centroid ? space.centroid.coordinates : null;
}

function label(incident) {
  const status = OPEN.includes(incident.status) ? incident.status : "unknown";
  return h("div", { className: `incident-mark incident-state-${status}`, dataset: { incidentId: incident.id, status: incident.status, spaceId: incident.space_id } },
    badge(incident.level), " ",
    h("span", { className: "incident-title" }, incident.title), " ",
    h("b", { className: `status status-${status}` }, incident.status.replace("_", " ")));
}

function title(incident) {
  const space = state.spaces.get(incident.space_id);
  const parts = [`${incident.title} (${space ? space.name : incident.space_id}): ${incident.status.replace("_", " ")}`,
    `opened ${clockTime(incident.opened_at)}`];
  if (incident.active_units.length) parts.push(`units: ${incident.active_units.join(", ")}`);
  return parts.join(" · ");
}

function open(incident) {
  document.getElementById("tab-incidents").click();
  show(incident.id, true);
}

// Draw the open incidents of the board; closed and resolved ones leave the map.
export function drawIncidents() {
  const incidents = [...state.incidents.values()].filter((i) => OPEN.includes(i.status))
    .sort((a, b) => a.opened_at.localeCompare(b.opened_at) || a.id.localeCompare(b.id));
  if (!incidents.length && !layer) return; // nothing to switch: no entry in the layer switcher
  if (!layer) layer = addOverlay(LAYER_NAME, L.layerGroup());
  const alerts = new Map(state.alerts.map((a) => [a.id, a]));
  const stacked = new Map(); // "lon,lat" -> labels already there
  const seen = new Set();
  for (const incident of incidents) {
    const point = where(incident, alerts);
    if (!point) continue;
    const [lon, lat] = point;
    const place = `${lon},${lat}`;
    const below = stacked.get(place) || 0;
    stacked.set(place, below + 1);
    seen.add(incident.id);
    const key = JSON.stringify([incident.version, incident.status, incident.title, incident.level, lon, lat, below]);
    const old = markers.get(incident.id);
    if (old && old.incidentKey === key) continue;
    if (old) layer.removeLayer(old);
    // under the point (an alert's pin stands above it), the label centred by its CSS
    const icon = L.divIcon({ html: label(incident), className: "incident-holder", iconSize: null, iconAnchor: [0, -18 - below * STACK_PX] });
    const marker = L.marker([lat, lon], { icon, keyboard: false, title: title(incident), zIndexOffset: 100 });
    marker.on("click", () => open(incident));
    marker.incidentKey = key;
    markers.set(incident.id, marker);
    layer.addLayer(marker);
  }
  for (const [id, marker] of markers) {
    if (!seen.has(id)) { layer.removeLayer(marker); markers.delete(id); }
  }
}
