// Wires the device and incident layers to the page: loaded after cop.js (index.html), it listens
// to the page's own topics, so cop.js needs no change for them. "incidents-loaded" is the signal
// that someone is signed in and the map holds the spaces.
"use strict";
import { loadDeviceLayer, startDeviceLayer } from "./device_layer.js";
import { drawIncidents } from "./incident_layer.js";
import { on } from "./util.js";

on("incidents-loaded", () => {
  drawIncidents();
  loadDeviceLayer().catch(() => {});
});
on("alerts-changed", drawIncidents); // an incident's alert may bring its location
on("replay-changed", () => { loadDeviceLayer().catch(() => {}); }); // back to live: fresh now
startDeviceLayer();
