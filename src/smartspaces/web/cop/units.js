// Responder units on the map: a label per unit with its kind, call sign and state in words (the
// border's style repeats the state for whoever cannot tell colours apart), in a layer the
// operator can switch off. Roles that may not see units get no layer at all.
"use strict";
import { addOverlay } from "./map.js";
import { ApiError, api, clockTime, h, state } from "./util.js";

const KINDS = { police: "POLICE", ambulance: "AMBULANCE", fire: "FIRE", civil_protection: "CIVIL PROT.", stewards: "STEWARDS" };
const STATES = { available: "available", en_route: "en route", on_scene: "on scene", out_of_service: "out of service" };
const markers = new Map(); // unit id -> L.Marker
let layer = null;
let allowed = true; // false once the server says this role may not see units

function label(unit) {
  const kind = KINDS[unit.kind] ? unit.kind : "other";
  const known = STATES[unit.state] ? unit.state : "unknown";
  return h("div", { className: `unit unit-${kind} state-${known}`, dataset: { unitId: unit.id, state: unit.state, kind: unit.kind } },
    h("span", { className: "unit-kind" }, KINDS[unit.kind] || String(unit.kind).toUpperCase()), " ",
    h("b", {}, unit.callsign), " ", h("span", { className: "unit-state" }, STATES[unit.state] || unit.state));
}

function title(unit) {
  const parts = [`${unit.callsign} (${unit.agency}): ${STATES[unit.state] || unit.state}`];
  if (unit.note) parts.push(unit.note);
  if (unit.updated_at) parts.push(`updated ${clockTime(unit.updated_at)} by ${unit.updated_by}`);
  return parts.join(" · ");
}

export function drawUnits(units) {
  if (!layer) layer = addOverlay("Responder units", L.layerGroup());
  const seen = new Set();
  for (const unit of units) {
    seen.add(unit.id);
    const [lon, lat] = unit.location.coordinates;
    const key = JSON.stringify([unit.state, lon, lat, unit.note, unit.callsign]);
    const old = markers.get(unit.id);
    if (old && old.unitKey === key) continue;
    if (old) layer.removeLayer(old);
    // the label is a DOM node built from text: unit data never becomes markup
    const icon = L.divIcon({ html: label(unit), className: "unit-holder", iconSize: null, iconAnchor: [0, 12] });
    const marker = L.marker([lat, lon], { icon, keyboard: false, title: title(unit), zIndexOffset: -100 });
    marker.unitKey = key;
    markers.set(unit.id, marker);
    layer.addLayer(marker);
  }
  for (const [id, marker] of markers) {
    if (!seen.has(id)) { layer.removeLayer(marker); markers.delete(id); }
  }
}

// Load the units now, or as they were at the replayed time.
export async function loadUnits() {
  if (!allowed || !state.me) return;
  const at = state.replay ? `?at=${encodeURIComponent(state.replay.at)}` : "";
  try {
    drawUnits(await api(`/api/v1/units${at}`));
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) { allowed = false; return; }
    throw error;
  }
}
