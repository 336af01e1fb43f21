// Spaces: the table of every space (most crowded first) and the selected one's density over the
// last hour as a plain SVG chart, with the amber, red and critical thresholds drawn and labelled.
"use strict";
import { LEVELS, api, badge, clockTime, emit, fmt, h, replace, shownSpaces, state, svg } from "./util.js";

const W = 520, H = 190, LEFT = 40, RIGHT = 70, TOP = 10, BOTTOM = 24;

export function renderTable() {
  const sorted = shownSpaces().sort((a, b) => (b.density_p_m2 || 0) - (a.density_p_m2 || 0));
  const rows = sorted.map((space) => h("tr", {
    dataset: { spaceId: space.id }, tabindex: "0", "aria-selected": String(space.id === state.selectedSpace),
    onclick: () => emit("select-space", space.id),
    onkeydown: (event) => { if (event.key === "Enter") emit("select-space", space.id); },
  }, h("td", {}, space.name), h("td", { className: "num" }, fmt(space.occupancy_persons, 0)),
  h("td", { className: "num" }, fmt(space.density_p_m2, 2)), h("td", {}, space.level_of_service || "–"),
  h("td", {}, badge(space.risk_level))));
  replace(document.querySelector("#spaces tbody"), rows);
}

function chart(history) {
  const points = history.points;
  const t0 = Date.parse(history.since), t1 = Date.parse(history.until);
  const top = Math.max(history.critical_p_m2 * 1.15, ...points.map((p) => p.density_p_m2 * 1.1));
  const x = (t) => LEFT + ((t - t0) / Math.max(t1 - t0, 1)) * (W - LEFT - RIGHT);
  const y = (d) => TOP + (1 - d / top) * (H - TOP - BOTTOM);
  const parts = [svg("rect", { x: LEFT, y: TOP, width: W - LEFT - RIGHT, height: H - TOP - BOTTOM, class: "plot" })];
  for (const [name, value] of [["amber", history.amber_p_m2], ["red", history.red_p_m2], ["critical", history.critical_p_m2]]) {
    parts.push(svg("line", { x1: LEFT, x2: W - RIGHT, y1: y(value), y2: y(value), stroke: LEVELS[name].colour,
      "stroke-dasharray": name === "amber" ? "6 4" : "none", class: "threshold" }));
    parts.push(svg("text", { x: W - RIGHT + 4, y: y(value) + 4, fill: LEVELS[name].colour, class: "threshold-label" },
      `${LEVELS[name].label} ${value}`));
  }
  for (let tick = 0; tick <= 4; tick += 1) {
    const t = t0 + (tick / 4) * (t1 - t0);
    parts.push(svg("text", { x: x(t), y: H - 6, "text-anchor": "middle", class: "axis" },
      clockTime(new Date(t).toISOString()).slice(0, 5)));
  }
  for (const d of [0, Math.round(top / 2), Math.floor(top)]) {
    parts.push(svg("text", { x: LEFT - 6, y: y(d) + 4, "text-anchor": "end", class: "axis" }, String(d)));
  }
  if (points.length) {
    const line = points.map((p) => `${x(Date.parse(p.at)).toFixed(1)},${y(p.density_p_m2).toFixed(1)}`).join(" ");
    parts.push(svg("polyline", { points: line, class: "density-line" }));
    const last = points[points.length - 1];
    parts.push(svg("circle", { cx: x(Date.parse(last.at)), cy: y(last.density_p_m2), r: 4, class: "density-now" }));
  } else {
    parts.push(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "axis" }, "No readings in the last hour"));
  }
  return svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
    "aria-label": `Density in persons per square metre over the last hour, ${points.length} points` },
  svg("title", {}, "Density over the last hour (persons/m²)"), ...parts);
}

export async function showSpace(spaceId) {
  state.selectedSpace = spaceId;
  const space = state.spaces.get(spaceId);
  const box = document.getElementById("space-detail");
  if (!space) return;
  for (const tr of document.querySelectorAll("#spaces tbody tr")) {
    tr.setAttribute("aria-selected", String(tr.dataset.spaceId === spaceId));
  }
  const facts = h("p", { className: "facts" }, badge(space.risk_level),
    ` ${fmt(space.occupancy_persons, 0)} people on ${fmt(space.area_m2, 0)} m² · `,
    h("strong", {}, `${fmt(space.density_p_m2, 2)} p/m²`), ` · level of service ${space.level_of_service || "–"}`,
    space.updated_at ? ` · updated ${clockTime(space.updated_at)}` : "");
  let history = null;
  try {
    history = await api(`/api/v1/spaces/${encodeURIComponent(spaceId)}/history?minutes=60`);
  } catch (error) {
    history = null;
  }
  if (state.selectedSpace !== spaceId) return;
  replace(box, h("h3", {}, space.name), facts,
    history ? chart(history) : h("p", { className: "empty" }, "The density history is not available on this server."),
    history && history.forecasts.length ? h("div", { className: "forecasts" }, h("h3", {}, "Forecast"),
      h("ul", {}, history.forecasts.map((f) => h("li", {}, f)))) : null);
  box.dataset.spaceId = spaceId;
}
