// Shared helpers: DOM building without innerHTML, the API client, formats, the level palette.
"use strict";

// Colour-blind-safe (IBM design palette), always shown with the level's word next to it.
export const LEVELS = {
  normal: { colour: "#648fff", label: "NORMAL", rank: 0 },
  amber: { colour: "#ffb000", label: "AMBER", rank: 1 },
  red: { colour: "#fe6100", label: "RED", rank: 2 },
  critical: { colour: "#dc267f", label: "CRITICAL", rank: 3 },
};
// Level of service A (free) to F (jammed): cividis, ordered by lightness for every colour vision.
export const LOS_COLOURS = { A: "#00224e", B: "#35456c", C: "#666970", D: "#958f78", E: "#cbba69", F: "#fee838" };

// Build an element: h("li", {className: "x", dataset: {id}}, "text", child). Strings become text
// nodes, never markup, so server data cannot inject HTML.
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "className") element.className = value;
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export function svg(tag, attrs, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs || {})) element.setAttribute(key, String(value));
  append(element, children);
  return element;
}

export function levelOf(name) {
  return LEVELS[name] || { colour: "#9e9e9e", label: String(name || "unknown").toUpperCase(), rank: -1 };
}

export function badge(level) {
  const known = LEVELS[level] ? level : "unknown";
  return h("span", { className: `badge level-${known}` }, levelOf(level).label);
}

export function fmt(value, digits) {
  return value == null || Number.isNaN(Number(value)) ? "–" : Number(value).toFixed(digits);
}

// The control room's own clock, 24 h, not UTC.
export function clockTime(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : "–";
}

export function duration(seconds) {
  if (seconds == null) return "–";
  const s = Math.round(seconds);
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function explain(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((e) => `${(e.loc || []).slice(1).join(".")}: ${e.msg}`).join("; ");
  return (detail && detail.message) || JSON.stringify(detail);
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(explain(detail));
    this.status = status;
    this.detail = detail;
  }
}

// GET, or POST JSON, to this server with the session cookie; every change carries the session's
// CSRF token. A refused request throws ApiError with the server's reason; 401 (the session
// ended) also tells the page to show the sign-in form again.
export async function api(path, body, method) {
  const verb = method || (body === undefined ? "GET" : "POST");
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (verb !== "GET" && state.me && state.me.csrf_token) headers["X-CSRF-Token"] = state.me.csrf_token;
  const init = { method: verb, headers, credentials: "same-origin" };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  const data = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (response.status === 401 && !path.startsWith("/api/v1/auth/")) emit("signed-out", data && data.detail);
  if (!response.ok) throw new ApiError(response.status, data ? data.detail : response.statusText);
  return data;
}

// A tiny publish/subscribe between the panels.
const listeners = new Map();
export function on(topic, listener) {
  if (!listeners.has(topic)) listeners.set(topic, []);
  listeners.get(topic).push(listener);
}
export function emit(topic, value) {
  for (const listener of listeners.get(topic) || []) listener(value);
}

// Say something to the operator (errors of their actions, confirmations).
export function say(text, isError) {
  const line = document.getElementById("notice");
  line.className = isError ? "notice error" : "notice";
  line.textContent = text;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { line.textContent = ""; line.className = "notice"; }, isError ? 10000 : 4000);
}

export const state = {
  spaces: new Map(), // id -> SpaceView
  alerts: [], // newest first
  alertIds: new Set(),
  incidents: new Map(), // id -> summary
  incidentByAlert: new Map(), // alert id -> incident id
  selectedAlert: null,
  operatorChose: false, // once the operator picks an alert, new ones do not steal the selection
  selectedIncident: null,
  selectedSpace: null,
  me: null, // who is signed in (GET /api/v1/auth/me), with the CSRF token of the session
  replay: null, // while the time slider is back in time: { at, spaces, alerts, needsAck }
};

// The spaces as shown now: during a replay, the replayed time's state over the live one.
export function shownSpaces() {
  if (!state.replay) return [...state.spaces.values()];
  return [...state.spaces.values()].map((space) => ({ ...space, ...(state.replay.spaces.get(space.id) || {}) }));
}

// The signed-in operator's name: the server records every action with it (from the session,
// not from anything the page sends); null while nobody is signed in.
export function operator() {
  if (state.me) return state.me.name;
  say("Sign in first: every action is recorded with your name.", true);
  return null;
}
