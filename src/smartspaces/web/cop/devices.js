// Device health and dead letters: which sensors have gone quiet or report trouble, and what
// input was refused and why (nothing is dropped silently, so the operator can see it here).
"use strict";
import { api, clockTime, duration, h, replace } from "./util.js";

const HEALTH_WORDS = {
  device_silence_s: (v) => `silent for ${duration(v)}`,
  device_flaps_count: (v) => `flapping (${v} silences in an hour)`,
  device_clock_skew_s: (v) => `clock ${duration(v)} ahead`,
};
const QUIET_S = 120; // longer than this without a reading is worth a look

function health(device) {
  if (device.health_quantity && device.health_at && Date.parse(device.health_at) >= Date.parse(device.last_seen_at)) {
    const word = HEALTH_WORDS[device.health_quantity];
    return ["fault", word ? word(device.health_value) : device.health_quantity];
  }
  if (device.silent_for_s > QUIET_S) return ["quiet", `quiet for ${duration(device.silent_for_s)}`];
  return ["ok", "OK"];
}

export async function loadDevices() {
  const body = document.querySelector("#devices tbody");
  try {
    const devices = await api("/api/v1/devices/activity?limit=200");
    replace(body, devices.map((d) => {
      const [kind, text] = health(d);
      return h("tr", { className: `device-${kind}`, dataset: { sensorId: d.sensor_id } },
        h("td", {}, d.sensor_id), h("td", {}, d.space_id),
        h("td", {}, h("span", { className: `health health-${kind}` }, text)),
        h("td", { className: "num" }, clockTime(d.last_seen_at)), h("td", { className: "num" }, String(d.readings)));
    }));
    if (!devices.length) replace(body, h("tr", {}, h("td", { colspan: "5" }, "No sensor has reported yet.")));
  } catch (error) {
    replace(body, h("tr", {}, h("td", { colspan: "5" }, `Device activity unavailable: ${error.message}`)));
  }
  const letters = document.querySelector("#dead-letters tbody");
  try {
    const rows = await api("/api/v1/dead-letters?limit=50");
    const pending = rows.filter((r) => !r.replayed_at).length;
    const count = document.getElementById("dead-letter-count");
    count.textContent = String(pending);
    count.className = pending ? "count" : "count zero";
    replace(letters, rows.map((r) => h("tr", { dataset: { letterId: String(r.id) } },
      h("td", { className: "num" }, clockTime(r.received_at)), h("td", {}, r.adapter),
      h("td", { className: "reason" }, r.reason), h("td", { className: "num" }, `${r.payload_bytes} B`),
      h("td", {}, r.replayed_at ? "replayed" : "pending"))));
    if (!rows.length) replace(letters, h("tr", {}, h("td", { colspan: "5" }, "Nothing refused.")));
  } catch (error) {
    replace(letters, h("tr", {}, h("td", { colspan: "5" }, `Dead letters unavailable: ${error.message}`)));
  }
}
