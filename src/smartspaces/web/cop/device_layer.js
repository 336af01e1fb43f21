// Cameras and sensors on the map, each with its health in a word and in a shape (filled circle
// OK, ring SILENT, diamond FLAPPING, triangle CLOCK SKEWED, cross DISABLED, dashed ring NO DATA),
// so that colour is never the only cue. One read (GET /api/v1/devices/map) gives positions and
// health; devices without a location are not drawn (the Devices panel lists them). The layer is
// polled (health reports come with no stream event), live only: hidden during a replay.
"use strict";
import { addOverlay } from "./map.js";
import { ApiError, api, clockTime, duration, h, state } from "./util.js";

export const HEALTH = {
  ok: "OK", silent: "SILENT", flapping: "FLAPPING", clock_skewed: "CLOCK SKEWED",
  disabled: "DISABLED", unheard: "NO DATA",
};
export const LAYER_NAME = "Sensors and cameras (live)";
const KINDS = { people_counter: "counter", camera: "camera", noise_sensor: "noise", environment_sensor: "environment", gateway: "gateway" };
const POLL_MS = 10000;
const markers = new Map(); // device id -> L.Marker
let layer = null;
let allowed = true; // false once the server says this role may not see devices
let loading = false;
let shown = false; // the operator may switch the layer off: then it is not fetched

function healthOf(device) {
  return HEALTH[device.health] ? device.health : "unheard";
}

function words(device) {
  const health = healthOf(device);
  if (health === "silent" && device.silent_for_s != null) return `${HEALTH.silent} ${duration(device.silent_for_s)}`;
  return HEALTH[health];
}

function label(device) {
  const health = healthOf(device);
  return h("div", { className: `device device-state-${health}`, dataset: { deviceId: device.id, health, spaceId: device.space_id } },
    h("span", { className: "device-shape", "aria-hidden": "true" }), " ",
    h("span", { className: "device-name" }, device.name || device.id), " ",
    h("b", { className: "device-health" }, words(device)));
}

function title(device) {
  const parts = [`${device.name || device.id} (${KINDS[device.kind] || device.kind}, ${device.space_id}): ${words(device)}`];
  if (device.last_seen_at) parts.push(`last reading ${clockTime(device.last_seen_at)}`);
  if (device.health_at) parts.push(`health report ${device.health_quantity} at ${clockTime(device.health_at)}`);
  return parts.join(" · ");
}

function ensureLayer() {
  if (layer) return;
  layer = addOverlay(LAYER_NAME, L.layerGroup());
  shown = true;
  layer.on("remove", () => { shown = false; });
  // switched back on: fresh now
  layer.on("add", () => { shown = true; loadDeviceLayer().catch(() => {}); });
  const legend = document.getElementById("legend");
  const items = Object.entries(HEALTH).map(([health, word]) =>
    h("li", { className: `device device-state-${health}` }, h("span", { className: "device-shape", "aria-hidden": "true" }), " ", word));
  legend.append(h("div", { className: "device-legend" }, "Sensors (shape and word): ", h("ul", {}, items)));
}

export function drawDevices(devices) {
  if (!devices.length && !layer) return; // nothing to switch: no entry in the layer switcher
  ensureLayer();
  const seen = new Set();
  for (const device of devices) {
    seen.add(device.id);
    const [lon, lat] = device.location.coordinates;
    const key = JSON.stringify([device.health, words(device), lon, lat, device.name, device.last_seen_at]);
    const old = markers.get(device.id);
    if (old && old.deviceKey === key) continue;
    if (old) layer.removeLayer(old);
    // built from text nodes: a device's name never becomes markup
    const icon = L.divIcon({ html: label(device), className: "device-holder", iconSize: null, iconAnchor: [8, 10] });
    const marker = L.marker([lat, lon], { icon, keyboard: false, title: title(device), zIndexOffset: -200 });
    marker.on("click", () => document.getElementById("tab-devices").click());
    marker.deviceKey = key;
    markers.set(device.id, marker);
    layer.addLayer(marker);
  }
  for (const [id, marker] of markers) {
    if (!seen.has(id)) { layer.removeLayer(marker); markers.delete(id); }
  }
}

// Load the devices now (skipped while signed out, replaying or switched off).
export async function loadDeviceLayer() {
  if (!allowed || !state.me || state.replay || loading) return;
  if (layer && !shown) return;
  loading = true;
  try {
    drawDevices(await api("/api/v1/devices/map"));
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) { allowed = false; return; }
    throw error;
  } finally {
    loading = false;
  }
}

export function startDeviceLayer() {
  setInterval(() => { loadDeviceLayer().catch(() => {}); }, POLL_MS);
}
