// The timeline page's HTML, CSS and renderer (see timeline_page.hpp). The renderer reads
// the model (tools/timeline_html.cpp, Builder::finish) from <script id="model">:
//   lanes [name], types [name], msgs [[t0, t1, from, to, type, fate, reason]] with fate
//   0 delivered, 1 dropped in flight, 2 dropped at send, 3 never arrived; texts [msg];
//   bands [[lane, kind, t0, t1, label]]; ops [[lane, t0, t1, text, state]];
//   views [[lane, t, view]]; marks [[lane, t, text]]; partitions [[t0, t1, style, cut]];
//   end_us; liveness_us; violation {t, check, detail} or null; run {title, verdict, params}.
// Times are simulated microseconds. Each literal stays below 64 KiB (-Woverlength-strings).
#include "tools/timeline_page.hpp"

#include <string>

namespace vsr::tools {

namespace {

constexpr std::string_view head = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>vsr timeline</title>
<style>
body{margin:0;font:12px system-ui,-apple-system,"Segoe UI",sans-serif;background:#fff;color:#222}
#top{position:sticky;top:0;z-index:2;background:#f7f7f7;border-bottom:1px solid #bbb;padding:5px 10px}
#top div{margin:2px 0}
#verdict{font-weight:bold;padding:2px 8px;border-radius:3px}
.passed{background:#c8e6c9}.failed{background:#c62828;color:#fff}
#violation-box{background:#ffebee;border:2px solid #c62828;padding:3px 8px;font-weight:bold;color:#b71c1c;white-space:pre-wrap}
#violation-box:empty{display:none}
#controls button{margin-right:3px}
#filters label{margin-right:10px;white-space:nowrap;cursor:pointer}
.sw{display:inline-block;width:10px;height:10px;margin-right:3px;vertical-align:-1px}
#legend span{margin-right:12px;white-space:nowrap}
#tip{position:fixed;pointer-events:none;background:#212121;color:#fff;padding:6px 8px;border-radius:4px;max-width:640px;white-space:pre-wrap;word-break:break-all;font:11px ui-monospace,monospace;display:none;z-index:3}
#chart{display:block;cursor:grab;user-select:none}
#chart text{font-size:11px}
.lane-label{font-weight:bold;font-size:12px}
.msg{stroke-width:1.3;fill:none}
.msg:hover{stroke-width:3.5}
.dropped{stroke-dasharray:4 2}
.cluster{stroke-opacity:.7}
.op:hover,.band:hover{stroke:#000;stroke-width:1}
</style></head><body>
<div id="top">
<div><b id="title"></b> <span id="verdict"></span> <span id="params"></span></div>
<div id="violation-box"></div>
<div id="controls"><button id="zin" title="zoom in (+)">+</button><button id="zout" title="zoom out (-)">&minus;</button><button id="fit">Whole run</button><button id="goto">Go to violation</button>
 <span id="range"></span> &middot; <span id="status"></span> &middot; wheel: zoom, drag: pan, hover: details</div>
<div id="filters"></div>
<div id="legend"></div>
</div>
<svg id="chart" xmlns="http://www.w3.org/2000/svg"></svg>
<div id="tip"></div>
<script id="model" type="application/json">)HTML";

constexpr std::string_view tail_setup = R"JS(</script>
<script>
"use strict";
const M = JSON.parse(document.getElementById("model").textContent);
const NS = "http://www.w3.org/2000/svg";
const TOP = 30, LEFT = 58, RIGHT = 14, REPLICA_H = 40, CLIENT_H = 16, MAX_ARROWS = 800;
const COLORS = ["#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#5d4037",
                "#827717", "#283593", "#00695c", "#4e342e", "#37474f"];
const BANDS = {
  leader:         {fill: "#2e7d32", y: -13, h: 6, name: "primary (leadership span)"},
  view_change:    {fill: "#ef6c00", y: 7, h: 5, name: "view change span"},
  state_transfer: {fill: "#1e88e5", y: 12, h: 4, name: "state transfer span"},
  recovery:       {fill: "#00897b", y: 7, h: 9, name: "recovery span"},
  down:           {fill: "#757575", full: true, opacity: 0.35, name: "crashed (down)"},
  paused:         {fill: "#fbc02d", full: true, opacity: 0.35, name: "paused"},
};
const OP_COLORS = {ok: "#43a047", fail: "#fb8c00", info: "#9e9e9e", pending: "#bdbdbd"};
const FATES = ["delivered", "dropped in flight", "dropped at send", "never arrived"];
const enabled = M.types.map(() => true);
let showDrops = true;
let v0 = 0, v1 = Math.max(1000, M.end_us);
let drawn = [];  // what the last render drew, for tooltips: {kind, i} or cluster records
const svg = document.getElementById("chart");
const tip = document.getElementById("tip");

const laneTop = [], laneH = [];
(function layout() {
  let y = TOP;
  M.lanes.forEach((name, i) => {
    laneTop[i] = y;
    laneH[i] = name[0] === "r" ? REPLICA_H : CLIENT_H;
    y += laneH[i];
  });
  laneTop.push(y);
})();
const laneY = i => laneTop[i] + laneH[i] / 2;
const width = () => Math.max(600, document.documentElement.clientWidth);
const plotW = () => width() - LEFT - RIGHT;
const X = t => LEFT + (t - v0) / (v1 - v0) * plotW();
const T = x => v0 + (x - LEFT) / plotW() * (v1 - v0);
const ms = us => (us / 1000).toFixed(3) + " ms";
const visible = (t0, t1) => t1 >= v0 && t0 <= v1;

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function clampX(x) { return Math.max(LEFT - 2, Math.min(width() - RIGHT + 2, x)); }
)JS";

constexpr std::string_view tail_draw = R"JS(
function drawDefs() {
  const defs = el("defs", {}, svg);
  const clip = el("clipPath", {id: "plot-clip"}, defs);
  el("rect", {x: LEFT, y: 0, width: plotW(), height: laneTop[M.lanes.length] + 16}, clip);
  const head = (id, color) => {
    const m = el("marker", {id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
                            markerUnits: "userSpaceOnUse", orient: "auto-start-reverse"}, defs);
    el("path", {d: "M0,0 L10,5 L0,10 z", fill: color}, m);
  };
  COLORS.forEach((c, i) => head("head" + i, c));
  const x = el("marker", {id: "cross", viewBox: "0 0 10 10", refX: 5, refY: 5, markerWidth: 9, markerHeight: 9,
                          markerUnits: "userSpaceOnUse"}, defs);
  el("path", {d: "M1,1 L9,9 M9,1 L1,9", stroke: "#d50000", "stroke-width": 2.2}, x);
}

function drawLanes(g) {
  M.lanes.forEach((name, i) => {
    const lane = el("g", {id: "lane-" + name, class: "lane", "data-lane": name}, g);
    if (i % 2 === 1) el("rect", {x: 0, y: laneTop[i], width: width(), height: laneH[i], fill: "#f5f5f5"}, lane);
    el("line", {x1: LEFT, x2: width() - RIGHT, y1: laneY(i), y2: laneY(i), stroke: name[0] === "r" ? "#444" : "#bbb"}, lane);
    const label = el("text", {x: 4, y: laneY(i) + 4, class: "lane-label", fill: name[0] === "r" ? "#000" : "#777"}, lane);
    label.textContent = (name[0] === "r" ? "replica " : "client ") + name.slice(1);
    if (name[0] !== "r") label.setAttribute("style", "font-size:9px;font-weight:normal");
  });
}

function drawPartitions(g) {
  const h = laneTop[M.lanes.length] - TOP;
  M.partitions.forEach((p, i) => {
    if (!visible(p[0], p[1])) return;
    const x0 = clampX(X(p[0])), x1 = clampX(X(p[1]));
    const r = el("rect", {x: x0, y: TOP, width: Math.max(1, x1 - x0), height: h, fill: "#7e57c2", opacity: 0.12,
                          class: "partition", "data-tip": "p" + i}, g);
    if (x1 - x0 > 60) el("text", {x: x0 + 3, y: TOP + h + 11, fill: "#5e35b1"}, g).textContent = "partition: " + p[2];
    void r;
  });
}

function drawBands(g) {
  M.bands.forEach((b, i) => {
    const s = BANDS[b[1]];
    if (!s || !visible(b[2], b[3])) return;
    const x0 = clampX(X(b[2])), x1 = clampX(X(b[3])), lane = b[0];
    const y = s.full ? laneTop[lane] + 1 : laneY(lane) + s.y, h = s.full ? laneH[lane] - 2 : s.h;
    el("rect", {x: x0, y, width: Math.max(1.5, x1 - x0), height: h, fill: s.fill, opacity: s.opacity || 0.85,
                class: "band band-" + b[1], "data-tip": "b" + i}, g);
    if (x1 - x0 > 8 * b[4].length && !s.full && b[1] === "leader") {
      el("text", {x: x0 + 3, y: laneY(lane) - 15, fill: "#1b5e20"}, g).textContent = b[4];
    }
    if (s.full && x1 - x0 > 50) el("text", {x: x0 + 3, y: laneTop[lane] + 11, fill: "#424242"}, g).textContent = b[4];
  });
}

function drawViews(g) {
  const lastX = {};
  M.views.forEach(v => {
    if (v[1] < v0 || v[1] > v1) return;
    const x = X(v[1]);
    if (lastX[v[0]] !== undefined && x - lastX[v[0]] < 22) return;
    lastX[v[0]] = x;
    el("line", {x1: x, x2: x, y1: laneY(v[0]) - 4, y2: laneY(v[0]) + 4, stroke: "#000"}, g);
    el("text", {x: x + 2, y: laneY(v[0]) - 3, fill: "#000", style: "font-size:9px"}, g).textContent = "v" + v[2];
  });
}

function drawOps(g) {
  M.ops.forEach((o, i) => {
    if (!visible(o[1], o[2])) return;
    const x0 = clampX(X(o[1])), x1 = clampX(X(o[2]));
    el("rect", {x: x0, y: laneY(o[0]) - 4, width: Math.max(2, x1 - x0), height: 8, rx: 2,
                fill: OP_COLORS[o[4]] || "#90a4ae", class: "op", "data-tip": "o" + i}, g);
    if (x1 - x0 > 7 * o[3].length) {
      el("text", {x: x0 + 2, y: laneY(o[0]) + 3, fill: "#fff", style: "font-size:8px"}, g).textContent = o[3];
    }
  });
}

function drawMarks(g) {
  M.marks.forEach((k, i) => {
    if (k[1] < v0 || k[1] > v1) return;
    const t = el("text", {x: X(k[1]) - 4, y: laneY(k[0]) + 16, fill: "#2e7d32", class: "mark", "data-tip": "k" + i}, g);
    t.textContent = "\u21bb";
  });
  if (M.liveness_us !== null && M.liveness_us >= v0 && M.liveness_us <= v1) {
    const x = X(M.liveness_us);
    el("line", {x1: x, x2: x, y1: TOP - 6, y2: laneTop[M.lanes.length], stroke: "#1565c0", "stroke-dasharray": "6 4"}, g);
    el("text", {x: x + 3, y: TOP - 18, fill: "#1565c0"}, g).textContent = "liveness phase (faults healed)";
  }
}
)JS";

constexpr std::string_view tail_arrows = R"JS(
/// The messages in view that pass the filters: indices into M.msgs.
function messagesInView() {
  const out = [];
  M.msgs.forEach((m, i) => {
    if (!enabled[m[4]] || (!showDrops && m[5] !== 0) || !visible(m[0], Math.max(m[1], m[0]))) return;
    out.push(i);
  });
  return out;
}

/// Too many arrows: one arrow per (time bucket, from, to, type, dropped), as wide as
/// log2 of its count. Buckets widen until the clusters fit the budget.
function cluster(list) {
  for (let buckets = 120; ; buckets = Math.floor(buckets / 2)) {
    const width = (v1 - v0) / buckets, groups = new Map();
    for (const i of list) {
      const m = M.msgs[i], dropped = m[5] === 0 ? 0 : 1;
      const key = Math.floor((m[0] - v0) / width) + "|" + m[2] + "|" + m[3] + "|" + m[4] + "|" + dropped;
      let c = groups.get(key);
      if (!c) groups.set(key, c = {n: 0, t0: m[0], t1: m[1], first: i, dropped, sum: 0, from: m[2], to: m[3], type: m[4]});
      c.n++;
      c.sum += m[1] - m[0];
      c.t0 = Math.min(c.t0, m[0]);
      c.t1 = Math.max(c.t1, m[1]);
    }
    if (groups.size <= MAX_ARROWS || buckets <= 10) return [...groups.values()];
  }
}

function arrowEnd(m) {
  // A message dropped at its send, or never arrived, gets a stub a third of the way.
  if (m[5] === 2 || m[5] === 3) {
    const y1 = laneY(m[2]), y2 = laneY(m[3]);
    return [X(m[0]) + 8, y1 + (y2 - y1) * 0.35];
  }
  return [X(m[1]), laneY(m[3])];
}

function drawArrow(g, m, tipId, extra, widthPx) {
  const [x2, y2] = arrowEnd(m);
  const dropped = m[5] !== 0;
  const color = dropped ? "#d50000" : COLORS[m[4] % COLORS.length];
  const a = el("line", {x1: X(m[0]), y1: laneY(m[2]), x2, y2, stroke: color,
                        class: "msg msg-" + M.types[m[4]] + (dropped ? " dropped" : "") + extra,
                        "marker-end": dropped ? "url(#cross)" : "url(#head" + (m[4] % COLORS.length) + ")",
                        "data-tip": tipId}, g);
  if (widthPx) a.setAttribute("style", "stroke-width:" + widthPx);
}

function drawArrows(g) {
  const list = messagesInView();
  if (list.length <= MAX_ARROWS) {
    list.forEach(i => drawArrow(g, M.msgs[i], "m" + i, "", 0));
    return {inView: list.length, drawn: list.length, clusters: 0};
  }
  const groups = cluster(list);
  drawn = groups;
  groups.forEach((c, j) => {
    const dt = c.sum / c.n, m = M.msgs[c.first];
    const fake = [c.t0, c.t0 + dt, c.from, c.to, c.type, c.dropped ? (m[5] === 0 ? 1 : m[5]) : 0];
    drawArrow(g, fake, "c" + j, c.n > 1 ? " cluster" : "", c.n > 1 ? 1 + Math.log2(c.n) : 0);
  });
  return {inView: list.length, drawn: groups.length, clusters: groups.filter(c => c.n > 1).length};
}

function niceStep(span) {
  const raw = span / 8, p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const f of [1, 2, 5, 10]) if (f * p >= raw) return f * p;
  return 10 * p;
}

function drawAxis(g) {
  const step = niceStep(v1 - v0), bottom = laneTop[M.lanes.length];
  for (let t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
    const x = X(t);
    el("line", {x1: x, x2: x, y1: TOP - 4, y2: bottom, stroke: "#000", "stroke-opacity": 0.08}, g);
    el("text", {x: x + 2, y: TOP - 6, fill: "#555"}, g).textContent = ms(t);
  }
}

function drawViolation(g) {
  if (!M.violation) return;
  const v = M.violation, inView = v.t >= v0 && v.t <= v1;
  const x = inView ? X(v.t) : (v.t < v0 ? LEFT : width() - RIGHT);
  const mark = el("g", {id: "violation", class: "violation pinned" + (inView ? "" : " offscreen"), "data-tip": "v"}, g);
  el("rect", {x: x - 3, y: TOP - 2, width: 6, height: laneTop[M.lanes.length] - TOP + 4, fill: "#d50000", opacity: 0.25}, mark);
  el("line", {x1: x, x2: x, y1: TOP - 2, y2: laneTop[M.lanes.length] + 2, stroke: "#d50000", "stroke-width": 2.5}, mark);
  const label = (inView ? "" : (v.t < v0 ? "\u25c0 " : "")) + "\u2716 " + v.check + (inView ? "" : (v.t > v1 ? " \u25b6" : ""));
  const tx = el("text", {x: x > width() / 2 ? x - 6 : x + 6, y: TOP + 12, fill: "#d50000",
                         "text-anchor": x > width() / 2 ? "end" : "start", style: "font-weight:bold;font-size:13px"}, mark);
  tx.textContent = label;
}
)JS";

constexpr std::string_view tail_ui = R"JS(
function render() {
  svg.textContent = "";
  svg.setAttribute("width", width());
  svg.setAttribute("height", laneTop[M.lanes.length] + 16);
  drawn = [];
  drawDefs();
  const back = el("g", {id: "background"}, svg);
  drawLanes(back);
  const plot = el("g", {id: "plot", "clip-path": "url(#plot-clip)"}, svg);
  drawAxis(plot);
  drawPartitions(plot);
  drawBands(plot);
  drawViews(plot);
  drawOps(plot);
  drawMarks(plot);
  const arrows = el("g", {id: "arrows"}, plot);
  const n = drawArrows(arrows);
  drawViolation(svg);
  document.getElementById("range").textContent = ms(v0) + " \u2013 " + ms(v1);
  document.getElementById("status").textContent = M.lanes.length + " lanes, " + n.inView + " messages in view" +
      (n.clusters ? ", drawn as " + n.drawn + " arrows (" + n.clusters + " clusters)" : "");
  Object.assign(document.body.dataset, {rendered: "1", lanes: M.lanes.length, arrows: n.drawn,
                                        inView: n.inView, clustered: n.clusters ? "1" : "0"});
}

let pending = false;
function update() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; render(); });
}

function setView(a, b, now) {
  const span = Math.max(50, b - a), lo = -0.02 * M.end_us, hi = M.end_us * 1.02 + 1000;
  a = Math.max(lo, Math.min(a, hi - span));
  v0 = a;
  v1 = Math.min(hi, a + span);
  history.replaceState(null, "", "#t=" + (v0 / 1000).toFixed(3) + "-" + (v1 / 1000).toFixed(3));
  if (now) render(); else update();
}
function zoom(factor, at) {
  const t = at === undefined ? (v0 + v1) / 2 : at;
  setView(t - (t - v0) * factor, t + (v1 - t) * factor);
}
function gotoViolation(now) {
  if (!M.violation) return;
  const t = M.violation.t, span = Math.max(200000, M.end_us * 0.04);
  setView(t - span * 0.85, t + span * 0.15, now);
}

function tipText(id) {
  const k = id[0], i = +id.slice(1);
  if (k === "m") {
    const m = M.msgs[i];
    return M.types[m[4]] + "  " + M.lanes[m[2]] + " \u2192 " + M.lanes[m[3]] + "\nsent " + ms(m[0]) +
           (m[5] === 0 ? ", delivered " + ms(m[1]) : ", " + FATES[m[5]] + (m[6] ? " (" + m[6] + ")" : "") +
            (m[5] === 1 ? " at " + ms(m[1]) : "")) + "\n" + M.texts[i];
  }
  if (k === "c") {
    const c = drawn[i];
    return c.n + " \u00d7 " + M.types[c.type] + "  " + M.lanes[c.from] + " \u2192 " + M.lanes[c.to] +
           (c.dropped ? " (dropped)" : "") + "\nsent " + ms(c.t0) + " \u2013 " + ms(c.t1) +
           "\nfirst: " + M.texts[c.first] + (c.n > 1 ? "\nzoom in to see each message" : "");
  }
  if (k === "b") { const b = M.bands[i]; return M.lanes[b[0]] + ": " + b[4] + "\n" + ms(b[2]) + " \u2013 " + ms(b[3]) + " (" + ms(b[3] - b[2]) + ")"; }
  if (k === "o") { const o = M.ops[i]; return M.lanes[o[0]] + ": " + o[3] + "\ninvoked " + ms(o[1]) + ", ended " + ms(o[2]); }
  if (k === "p") { const p = M.partitions[i]; return "partition (" + p[2] + ") " + ms(p[0]) + " \u2013 " + ms(p[1]) + "\ncut links: " + p[3]; }
  if (k === "k") { const m = M.marks[i]; return M.lanes[m[0]] + ": " + m[2] + " at " + ms(m[1]); }
  if (k === "v") { const v = M.violation; return "first violated check: " + v.check + " at " + ms(v.t) + "\n" + v.detail; }
  return "";
}

function setupHeader() {
  document.getElementById("title").textContent = M.run.title;
  const verdict = document.getElementById("verdict");
  verdict.textContent = M.run.verdict;
  verdict.className = M.run.verdict === "passed" ? "passed" : "failed";
  document.getElementById("params").textContent = M.run.params;
  if (M.violation) {
    document.getElementById("violation-box").textContent =
        "\u2716 first violated check: " + M.violation.check + " at " + ms(M.violation.t) + " \u2014 " + M.violation.detail;
  }
  document.getElementById("goto").disabled = !M.violation;
  const filters = document.getElementById("filters");
  filters.append("messages: ");
  M.types.forEach((name, i) => {
    const label = document.createElement("label");
    label.innerHTML = '<input type="checkbox" checked><span class="sw" style="background:' + COLORS[i % COLORS.length] + '"></span>';
    label.append(name);
    label.firstChild.addEventListener("change", e => { enabled[i] = e.target.checked; update(); });
    filters.append(label);
  });
  const drops = document.createElement("label");
  drops.innerHTML = '<input type="checkbox" checked><span class="sw" style="background:#d50000"></span>drops (\u2716)';
  drops.firstChild.addEventListener("change", e => { showDrops = e.target.checked; update(); });
  filters.append(drops);
  const legend = document.getElementById("legend");
  for (const k in BANDS) legend.insertAdjacentHTML("beforeend", '<span><span class="sw" style="background:' + BANDS[k].fill + '"></span>' + BANDS[k].name + "</span>");
  for (const k in OP_COLORS) legend.insertAdjacentHTML("beforeend", '<span><span class="sw" style="background:' + OP_COLORS[k] + '"></span>client op ' + k + "</span>");
  legend.insertAdjacentHTML("beforeend", '<span><span class="sw" style="background:#7e57c2;opacity:.4"></span>partition</span><span>vN: view</span><span>\u21bb restart</span>');
}

function setupInput() {
  document.getElementById("zin").onclick = () => zoom(0.5);
  document.getElementById("zout").onclick = () => zoom(2);
  document.getElementById("fit").onclick = () => setView(0, Math.max(1000, M.end_us));
  document.getElementById("goto").onclick = () => gotoViolation(false);
  svg.addEventListener("wheel", e => { e.preventDefault(); zoom(Math.exp(e.deltaY * 0.0015), T(e.offsetX)); }, {passive: false});
  let drag = null;
  svg.addEventListener("mousedown", e => { drag = {x: e.clientX, a: v0, b: v1}; svg.style.cursor = "grabbing"; });
  window.addEventListener("mouseup", () => { drag = null; svg.style.cursor = ""; });
  window.addEventListener("mousemove", e => {
    if (drag) {
      const dt = (drag.x - e.clientX) / plotW() * (drag.b - drag.a);
      setView(drag.a + dt, drag.b + dt);
    }
    const id = e.target.getAttribute && (e.target.getAttribute("data-tip") || (e.target.parentNode.getAttribute && e.target.parentNode.getAttribute("data-tip")));
    if (!id || drag) { tip.style.display = "none"; return; }
    tip.textContent = tipText(id);
    tip.style.display = "block";
    tip.style.left = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8) + "px";
    tip.style.top = Math.min(e.clientY + 14, window.innerHeight - tip.offsetHeight - 8) + "px";
  });
  window.addEventListener("keydown", e => {
    const span = v1 - v0;
    if (e.key === "+" || e.key === "=") zoom(0.5);
    else if (e.key === "-") zoom(2);
    else if (e.key === "ArrowLeft") setView(v0 - span / 4, v1 - span / 4);
    else if (e.key === "ArrowRight") setView(v0 + span / 4, v1 + span / 4);
  });
  window.addEventListener("resize", update);
}

function initialView() {
  const h = location.hash;
  const m = /^#t=(-?[\d.]+)-([\d.]+)$/.exec(h);
  if (m) return setView(parseFloat(m[1]) * 1000, parseFloat(m[2]) * 1000, true);
  if (h === "#violation" && M.violation) return gotoViolation(true);
  render();
}

setupHeader();
setupInput();
initialView();
</script></body></html>
)JS";

}  // namespace

std::string_view timeline_page_head() { return head; }

std::string_view timeline_page_tail() {
  static const std::string tail =
      std::string(tail_setup) + std::string(tail_draw) + std::string(tail_arrows) + std::string(tail_ui);
  return tail;
}

}  // namespace vsr::tools
