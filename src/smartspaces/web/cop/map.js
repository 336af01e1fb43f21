// The map: the offline basemap, smart spaces (fill = level of service, outline = risk, with a
// text label whenever a space is not normal) and a pin per space with an alert to acknowledge.
// In a replay (state.replay) the spaces and pins show the replayed time, not the live state.
"use strict";
import { LEVELS, LOS_COLOURS, emit, fmt, h, levelOf, shownSpaces, state } from "./util.js";

const layers = new Map(); // space id -> L.GeoJSON
const pins = new Map(); // space id -> L.Marker
let map = null;
let control = null; // one layer switcher for every optional layer

export function createMap() {
  map = L.map("map", { zoomControl: true, attributionControl: true, keyboard: true });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("© OpenStreetMap contributors");
  map.setView([39.4699, -0.3763], 17);
  return map;
}

// A layer the operator can switch off and on, listed by name in the map's layer switcher.
export function addOverlay(name, layer) {
  if (!control) control = L.control.layers(null, null, { collapsed: true }).addTo(map);
  control.addOverlay(layer, name);
  return layer.addTo(map);
}


export async function loadBasemap() {
  const response = await fetch("/api/v1/basemap");
  if (!response.ok) return;
  const data = await response.json();
  L.geoJSON(data, {
    interactive: false,
    style: (feature) => feature.geometry.type.includes("Polygon")
      ? { color: "#3a434c", weight: 0.5, fillColor: "#2c343c", fillOpacity: 1 }
      : { color: "#5d6873", weight: 1 },
  }).addTo(map);
}

function spaceStyle(space) {
  const level = LEVELS[space.risk_level] ? space.risk_level : "normal";
  const rank = LEVELS[level].rank;
  return {
    color: LEVELS[level].colour,
    weight: [1.5, 3, 5, 7][rank],
    dashArray: level === "amber" ? "8 5" : null, // a second cue besides colour
    fillColor: space.level_of_service ? LOS_COLOURS[space.level_of_service] : "#607d8b",
    fillOpacity: 0.65,
  };
}

function labelText(space) {
  const level = levelOf(space.risk_level).label;
  return `${space.name} · ${level} · ${fmt(space.density_p_m2, 2)} p/m² · LoS ${space.level_of_service || "–"}`;
}

// Draw new spaces, restyle known ones; fit the view on the first call.
export function drawSpaces(first) {
  for (const space of shownSpaces()) {
    let layer = layers.get(space.id);
    if (!layer) {
      layer = L.geoJSON(space.geometry, { style: spaceStyle(space) }).addTo(map);
      layer.on("click", () => emit("select-space", space.id));
      layers.set(space.id, layer);
    }
    layer.setStyle(spaceStyle(space));
    const loud = (LEVELS[space.risk_level] || LEVELS.normal).rank > 0;
    const key = `${loud}|${labelText(space)}`;
    if (layer.labelKey !== key) {
      layer.labelKey = key;
      layer.unbindTooltip();
      // Tooltip content given as a text node: Leaflet would parse a string as HTML.
      layer.bindTooltip(document.createTextNode(labelText(space)), {
        permanent: loud, direction: "center", className: loud ? `space-label level-${space.risk_level}` : "",
      });
    }
    layer.eachLayer((path) => {
      const element = path.getElement && path.getElement();
      if (element) {
        element.dataset.spaceId = space.id;
        element.dataset.risk = space.risk_level;
      }
    });
  }
  if (first && layers.size) map.fitBounds(L.featureGroup([...layers.values()]).getBounds().pad(0.3));
}

// One pin per space: its newest alert that nobody has acknowledged yet.
export function drawPins(needsAck) {
  const newest = new Map();
  const alerts = state.replay ? state.replay.alerts : state.alerts;
  const waiting = state.replay ? state.replay.needsAck : needsAck;
  for (const alert of alerts) {
    if (!waiting(alert) || newest.has(alert.space_id) || !alert.location) continue;
    newest.set(alert.space_id, alert);
  }
  for (const [spaceId, pin] of pins) {
    if (!newest.has(spaceId)) { pin.remove(); pins.delete(spaceId); }
  }
  for (const [spaceId, alert] of newest) {
    const [lon, lat] = alert.location.coordinates;
    const level = LEVELS[alert.level] ? alert.level : "unknown";
    const label = h("div", { className: `alert-pin level-${level}`, dataset: { alertId: alert.id, spaceId } },
      `⚠ ${levelOf(alert.level).label}`);
    const icon = L.divIcon({ html: label, className: "alert-pin-holder", iconSize: null, iconAnchor: [30, 52] });
    const old = pins.get(spaceId);
    if (old && old.options.alertId === alert.id) continue;
    if (old) old.remove();
    const pin = L.marker([lat, lon], { icon, alertId: alert.id, keyboard: false, title: alert.headline });
    pin.on("click", () => emit("select-alert", alert.id));
    pins.set(spaceId, pin.addTo(map));
  }
}

export function focusSpace(spaceId) {
  const layer = layers.get(spaceId);
  if (layer) map.fitBounds(layer.getBounds().pad(0.2), { maxZoom: 18 });
}

// Infrastructure assets (substations, telecom, metro, hospital, cameras...) as small circles:
// grey when up, orange when degraded, red when down, with a thin dashed line from each supplier
// to what it feeds (a dependency); a layer the operator can switch off.
const ASSET_COLOURS = { up: "#90a4ae", degraded: "#ff9800", down: "#f44336" };
const assetMarkers = new Map(); // asset id -> L.CircleMarker
let assetLayer = null;
let dependencyLines = null;

function drawDependencies(features) {
  const where = new Map(features.map((f) => [f.id, [f.geometry.coordinates[1], f.geometry.coordinates[0]]]));
  dependencyLines.clearLayers();
  for (const feature of features) {
    for (const supplier of feature.properties.suppliers || []) {
      if (!where.has(supplier)) continue;
      const broken = feature.properties.state !== "up";
      const line = L.polyline([where.get(supplier), where.get(feature.id)], {
        color: broken ? ASSET_COLOURS[feature.properties.state] || "#ff9800" : "#b0bec5",
        weight: broken ? 2.5 : 1, opacity: 0.7, dashArray: "4 4", interactive: false,
        className: "dependency",
      });
      line.on("add", () => {
        const element = line.getElement();
        if (element) Object.assign(element.dataset, { supplier, dependent: feature.id });
      });
      dependencyLines.addLayer(line);
    }
  }
}

export function drawAssets(collection) {
  if (!assetLayer) {
    dependencyLines = L.layerGroup();
    assetLayer = addOverlay("Infrastructure", L.layerGroup([dependencyLines]));
  }
  drawDependencies(collection.features || []);
  for (const feature of collection.features || []) {
    const [lon, lat] = feature.geometry.coordinates;
    const props = feature.properties;
    const colour = ASSET_COLOURS[props.state] || ASSET_COLOURS.up;
    let marker = assetMarkers.get(feature.id);
    if (!marker) {
      marker = L.circleMarker([lat, lon], { radius: 5, weight: 1.5, color: "#263238", fillOpacity: 0.9 });
      // the path element is made anew each time the layer is switched back on
      marker.on("add", () => tagAsset(marker));
      assetMarkers.set(feature.id, marker);
    }
    marker.assetId = feature.id;
    marker.assetState = props.state;
    marker.setStyle({ fillColor: colour, radius: props.state === "up" ? 5 : 8 });
    marker.unbindTooltip();
    marker.bindTooltip(document.createTextNode(`${props.name} · ${props.kind} · ${props.state}`));
    if (!assetLayer.hasLayer(marker)) marker.addTo(assetLayer);
    tagAsset(marker);
  }
}

function tagAsset(marker) {
  const element = marker.getElement && marker.getElement();
  if (element) {
    element.dataset.assetId = marker.assetId;
    element.dataset.state = marker.assetState;
  }
}
