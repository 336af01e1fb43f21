// Video findings for the operator: what the cameras found (loitering, running, falls, objects left
// behind, camera faults), each with its snapshot. People are shaded boxes in it, never faces: the
// server sends the shaded view until someone confirms a threat (police and administrators; the
// action is audited), then the blurred one. Confirming raises the space's risk, and its alert
// arrives in the Alerts panel. This module adds its own tab and panel to the page; it shares the
// session, the API client and the panels' messages with cop.js through ./cop/util.js.
"use strict";
import { api, badge, clockTime, emit, h, replace, say, state } from "./cop/util.js";

const READERS = ["administrator", "police_operator", "city_operator", "auditor"];
const CONFIRMERS = ["administrator", "police_operator"];
const WORDS = {
  "video.loitering": "loitering", "video.running": "running", "video.fall": "fall",
  "video.counter_flow": "walking against the flow", "video.sudden_dispersal": "sudden dispersal",
  "video.unattended_object": "unattended object", "video.stream_lost": "camera stream lost",
  "video.frozen_image": "frozen image", "video.covered_lens": "lens covered",
  "video.scene_changed": "camera turned or moved",
};
const video = { items: [], selected: null, unseen: 0, socket: null };

const may = (roles) => Boolean(state.me && (state.me.roles || []).some((r) => roles.includes(r)));
const word = (type) => WORDS[type] || type.replace(/^video\./, "").replaceAll("_", " ");
const panel = () => document.getElementById("panel-video");
const shown = () => !panel().hidden;

function build() {
  const tab = h("button", {
    type: "button", role: "tab", id: "tab-video", "aria-controls": "panel-video",
    "aria-selected": "false", hidden: true, onclick: () => open(),
  }, "Video ", h("span", { id: "video-count", className: "count zero" }, "0"));
  document.querySelector("aside nav").append(tab);
  const section = h("section", { id: "panel-video", role: "tabpanel", "aria-labelledby": "tab-video", hidden: true },
    h("h2", {}, "Video findings, newest first"),
    h("p", { className: "video-privacy" },
      "People are shown as shaded boxes until a threat is confirmed; then blurred. No faces, no identities."),
    h("ol", { id: "video-list", "aria-label": "Video findings" }),
    h("div", { id: "video-detail" }));
  document.getElementById("legend").before(section);
  const keys = document.querySelector("#help dl");
  if (keys) keys.append(h("dt", {}, "5"), h("dd", {}, "video findings"));
}

export function open() {
  for (const tab of document.querySelectorAll("aside nav [role=tab]")) tab.setAttribute("aria-selected", "false");
  for (const other of document.querySelectorAll("aside [role=tabpanel]")) other.hidden = true;
  document.getElementById("tab-video").setAttribute("aria-selected", "true");
  panel().hidden = false;
  video.unseen = 0;
  load().catch(() => {});
}

function close() {
  panel().hidden = true;
  document.getElementById("tab-video").setAttribute("aria-selected", "false");
}

function status(item) {
  if (item.confirmation) return ["confirmed", `THREAT CONFIRMED (${item.confirmation.level.toUpperCase()})`];
  if (!item.confirmable) return ["fault", "camera fault"];
  return ["todo", "to review"];
}

function row(item) {
  const [kind, text] = status(item);
  const space = state.spaces.get(item.space_id);
  return h("li", { dataset: { detectionId: item.id }, "aria-selected": String(item.id === video.selected) },
    h("button", { type: "button", className: `row video-row-${kind}`, onclick: () => show(item.id) },
      badge(item.level), " ", h("time", { datetime: item.observed_at }, clockTime(item.observed_at)), " ",
      h("strong", {}, word(item.detection_type)), " · ", space ? space.name : item.space_id,
      item.camera_id ? ` · camera ${item.camera_id}` : "", " ",
      h("span", { className: `video-state ${kind}` }, text)));
}

async function load() {
  video.items = await api("/api/v1/video/detections?limit=100");
  replace(document.getElementById("video-list"), video.items.map(row));
  if (!video.items.length) replace(document.getElementById("video-list"), h("li", { className: "empty" }, "No video finding yet."));
  count();
  if (video.selected && video.items.some((i) => i.id === video.selected)) await show(video.selected);
}

function count() {
  const waiting = video.items.filter((i) => i.confirmable && !i.confirmation).length + video.unseen;
  const badgeEl = replace(document.getElementById("video-count"), String(waiting));
  badgeEl.className = waiting ? "count" : "count zero";
}

function snapshot(item) {
  if (!item.snapshot_url) return h("p", { className: "empty" }, "No snapshot kept for this finding.");
  const shaded = item.snapshot_view === "shaded";
  // the view is part of the address: once confirmed, the browser fetches the blurred view
  return h("figure", { className: `video-snapshot ${item.snapshot_view}` },
    h("img", {
      id: "video-snapshot", src: `${item.snapshot_url}?view=${item.snapshot_view}`, width: "768", height: "432",
      alt: shaded ? "Snapshot: people shown as shaded boxes" : "Snapshot: people blurred",
    }),
    h("figcaption", {}, shaded
      ? "People shown as shaded boxes: confirm a threat to see their (blurred) posture."
      : "Threat confirmed: people blurred, never identifiable."));
}

function confirmation(item) {
  const c = item.confirmation;
  if (c) {
    const alerts = c.alert_ids.length
      ? h("ul", {}, c.alert_ids.map((id) => h("li", {}, h("button", { type: "button", onclick: () => emit("select-alert", id) }, `Alert ${id.slice(0, 14)}…`))))
      : h("p", { className: "empty" }, "Its alert is on its way to the Alerts panel.");
    return h("div", { className: "video-confirmed" },
      h("p", {}, `Threat confirmed by ${c.confirmed_by} at ${clockTime(c.confirmed_at)}: the space's risk is `, badge(c.level), "."), alerts);
  }
  if (!item.confirmable) return h("p", { className: "empty" }, "A camera fault: check the camera; nothing to confirm.");
  if (!may(CONFIRMERS)) return h("p", { className: "empty" }, "Police operators confirm threats.");
  const level = h("select", { id: "video-level", "aria-label": "Raise the space's risk to" },
    h("option", { value: "red" }, "RED"), h("option", { value: "critical" }, "CRITICAL"));
  const note = h("input", { id: "video-note", maxlength: "500", placeholder: "Why (kept in the audit trail)", "aria-label": "Why" });
  return h("form", {
    className: "inline video-confirm", onsubmit: (event) => { event.preventDefault(); confirm(item, level.value, note.value); },
  }, level, note, h("button", { type: "submit", id: "video-confirm", className: "confirm-threat" }, "Confirm threat"));
}

async function show(id) {
  video.selected = id;
  for (const li of document.querySelectorAll("#video-list li")) li.setAttribute("aria-selected", String(li.dataset.detectionId === id));
  let item;
  try {
    item = await api(`/api/v1/video/detections/${encodeURIComponent(id)}`);
  } catch (error) {
    replace(document.getElementById("video-detail"), h("p", { className: "empty" }, `Unavailable: ${error.message}`));
    return;
  }
  const facts = Object.entries(item.attributes).map(([k, v]) => h("tr", {}, h("th", {}, k.replaceAll("_", " ")), h("td", {}, String(v))));
  replace(document.getElementById("video-detail"),
    h("h3", {}, badge(item.level), " ", word(item.detection_type)),
    h("p", {}, item.summary),
    snapshot(item),
    h("table", { className: "video-facts" }, h("tbody", {}, facts)),
    confirmation(item));
}

async function confirm(item, level, note) {
  const button = document.getElementById("video-confirm");
  button.disabled = true;
  try {
    await api(`/api/v1/video/detections/${encodeURIComponent(item.id)}/confirm`, { level, note });
    say(`Threat confirmed: the space's risk is raised to ${level.toUpperCase()}; its alert follows.`);
    await load();
    await show(item.id);
  } catch (error) {
    say(`Not confirmed: ${error.message}`, true);
    button.disabled = false;
  }
}

// New findings arrive on the live stream: the list reloads if it is on screen, else the tab counts them.
function listen() {
  if (video.socket || !may(READERS)) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/v1/stream?kinds=detection`);
  video.socket = socket;
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.kind !== "detection" || !String(event.detection_type).startsWith("video.")) return;
    if (shown()) load().catch(() => {});
    else if (event.source !== "video.operator_review") { video.unseen += 1; count(); }
  };
  socket.onclose = () => {
    video.socket = null;
    if (state.me) setTimeout(listen, 3000);
  };
}

// Who is signed in decides whether the tab shows (the server checks every request anyway).
function signedInChanged() {
  const tab = document.getElementById("tab-video");
  tab.hidden = !may(READERS);
  if (tab.hidden) {
    close();
    if (video.socket) { video.socket.onclose = null; video.socket.close(); video.socket = null; }
    return;
  }
  listen();
  api("/api/v1/video/detections?limit=100").then((items) => { video.items = items; count(); }).catch(() => {});
}

build();
// Another panel opened (a tab or a key of cop.js): this one steps aside.
const others = new MutationObserver(() => {
  const opened = [...document.querySelectorAll("aside [role=tabpanel]")].some((p) => p.id !== "panel-video" && !p.hidden);
  if (opened && shown()) close();
});
for (const other of document.querySelectorAll("aside [role=tabpanel]")) {
  if (other.id !== "panel-video") others.observe(other, { attributes: true, attributeFilter: ["hidden"] });
}
new MutationObserver(signedInChanged).observe(document.getElementById("who"), { childList: true, subtree: true, characterData: true });
document.addEventListener("keydown", (event) => {
  if (event.key !== "5" || event.ctrlKey || event.metaKey || event.altKey) return;
  if (!document.getElementById("login").hidden || document.getElementById("tab-video").hidden) return;
  if (event.target.closest && event.target.closest("input:not([type=range]), textarea, select")) return;
  event.preventDefault();
  open();
});
