/// The experiment page's script: every ``pollSeconds`` seconds it reads the runs from
/// `/api/experiments/<id>/runs`, fetches from `/api/runs/<id>/metrics` only the values each run
/// logged since the last poll, redraws the run table and draws one SVG polyline per run.
///
/// Plain browser JavaScript with no library and nothing loaded from elsewhere. Text from the
/// database reaches the page only through `textContent` and attribute values, never as markup.
enum LiveChartScript {
    /// Seconds between two polls.
    static let pollSeconds = 2

    static let source = #"""
(function () {
  "use strict";
  var live = document.getElementById("live");
  var experiment = live.getAttribute("data-experiment");
  var key = live.getAttribute("data-key");
  var pollMs = Number(live.getAttribute("data-poll-ms")) || 2000;
  var chart = document.getElementById("chart");
  var legend = document.getElementById("legend");
  var statusLine = document.getElementById("live-status");
  var tbody = document.querySelector("#runs tbody");
  var svgNS = "http://www.w3.org/2000/svg";
  var palette = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"];
  var series = {};   // run id -> { label, attempts, last (stored step), points: [[step counted from 1, value]] }
  var order = [];    // run ids in table order

  function getJSON(url) {
    return fetch(url, { cache: "no-store" }).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (text) { throw new Error(text.trim() || String(response.status)); });
      }
      return response.json();
    });
  }

  function displayTime(iso) { return iso ? iso.replace("T", " ").replace("Z", "") : ""; }

  function progress(run) {
    if (run.step === undefined || run.epoch === undefined) return "";
    return "epoch " + (run.epoch + 1) + (run.epochs !== undefined ? "/" + run.epochs : "") + " \u00b7 step " + (run.step + 1);
  }

  function cell(text, className, title) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    if (title) td.title = title;
    return td;
  }

  function renderRuns(runs) {
    var rows = document.createDocumentFragment();
    runs.forEach(function (run) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-run", String(run.id));
      [String(run.id), run.cellKey, run.method, run.trainView, run.regularizer, String(run.seed)].forEach(function (text) {
        tr.appendChild(cell(text));
      });
      var status = run.status + (run.reusedFrom !== undefined ? " (reused from experiment " + run.reusedFrom + ")" : "");
      tr.appendChild(cell(status, "status " + run.status, run.error));
      tr.appendChild(cell(progress(run)));
      tr.appendChild(cell(displayTime(run.startedAt)));
      tr.appendChild(cell(displayTime(run.finishedAt)));
      rows.appendChild(tr);
    });
    tbody.replaceChildren(rows);
  }

  // Fetches the values a run logged after the last one this page has (from scratch when the run
  // was claimed again or went back, as a restarted run does).
  async function follow(run) {
    var s = series[run.id];
    if (!s || s.attempts !== run.attempts || (run.step !== undefined && s.last !== null && run.step < s.last)) {
      s = series[run.id] = { attempts: run.attempts, last: null, points: [] };
    }
    s.label = run.cellKey;
    if (run.step === undefined || (s.last !== null && run.step <= s.last)) return;
    for (;;) {
      var url = "/api/runs/" + run.id + "/metrics?key=" + encodeURIComponent(key) + (s.last === null ? "" : "&after=" + s.last);
      var page = await getJSON(url);
      page.points.forEach(function (p) { s.points.push([p[0] + 1, p[2]]); s.last = p[0]; });
      if (!page.more || page.points.length === 0) return;
    }
  }

  function svg(name, attributes, parent) {
    var element = document.createElementNS(svgNS, name);
    Object.keys(attributes).forEach(function (k) { element.setAttribute(k, String(attributes[k])); });
    if (parent) parent.appendChild(element);
    return element;
  }

  // About `count` round values from lo to hi (whole numbers only when `whole`).
  function ticks(lo, hi, count, whole) {
    var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / count)));
    var ratio = (hi - lo) / count / step;
    step *= ratio >= 7.5 ? 10 : ratio >= 3.5 ? 5 : ratio >= 1.5 ? 2 : 1;
    if (whole) step = Math.max(1, step);
    var out = [];
    for (var t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(t);
    return out;
  }

  function number(v) {
    return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(1) : String(Number(v.toPrecision(4)));
  }

  // At most `max` points: the means of equal runs of consecutive points.
  function thin(points, max) {
    if (points.length <= max) return points;
    var out = [], size = points.length / max;
    for (var i = 0; i < max; i++) {
      var a = Math.floor(i * size), b = Math.floor((i + 1) * size), sx = 0, sy = 0;
      for (var j = a; j < b; j++) { sx += points[j][0]; sy += points[j][1]; }
      if (b > a) out.push([sx / (b - a), sy / (b - a)]);
    }
    return out;
  }

  function draw() {
    var width = Math.max(480, Math.min(chart.clientWidth || 900, 1400)), height = 360;
    var m = { left: 64, right: 16, top: 12, bottom: 40 };
    var drawn = order.filter(function (id) { return series[id] && series[id].points.some(function (p) { return Number.isFinite(p[1]); }); });
    var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    drawn.forEach(function (id) {
      series[id].points.forEach(function (p) {
        if (!Number.isFinite(p[1])) return;
        x0 = Math.min(x0, p[0]); x1 = Math.max(x1, p[0]); y0 = Math.min(y0, p[1]); y1 = Math.max(y1, p[1]);
      });
    });
    var root = svg("svg", { id: "live-chart", width: width, height: height, viewBox: "0 0 " + width + " " + height,
                            role: "img", "aria-label": key + " per step", "font-family": "Helvetica, Arial, sans-serif", "font-size": 11 });
    if (drawn.length === 0) {
      svg("text", { x: m.left, y: height / 2, fill: "#555" }, root).textContent = "no " + key + " values recorded yet";
      chart.replaceChildren(root);
      legend.replaceChildren();
      return;
    }
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
    var pw = width - m.left - m.right, ph = height - m.top - m.bottom;
    function sx(v) { return m.left + (v - x0) / (x1 - x0) * pw; }
    function sy(v) { return m.top + (1 - (v - y0) / (y1 - y0)) * ph; }
    ticks(y0, y1, 6, false).forEach(function (v) {
      var y = sy(v);
      svg("line", { x1: m.left, x2: m.left + pw, y1: y.toFixed(1), y2: y.toFixed(1), stroke: "#eee" }, root);
      svg("text", { x: m.left - 6, y: (y + 4).toFixed(1), "text-anchor": "end", fill: "#444" }, root).textContent = number(v);
    });
    ticks(x0, x1, 8, true).forEach(function (v) {
      var x = sx(v);
      svg("line", { x1: x.toFixed(1), x2: x.toFixed(1), y1: m.top, y2: m.top + ph, stroke: "#f2f2f2" }, root);
      svg("text", { x: x.toFixed(1), y: m.top + ph + 16, "text-anchor": "middle", fill: "#444" }, root).textContent = number(v);
    });
    svg("rect", { x: m.left, y: m.top, width: pw, height: ph, fill: "none", stroke: "#999" }, root);
    svg("text", { x: m.left + pw / 2, y: height - 6, "text-anchor": "middle", fill: "#222" }, root).textContent = "step";
    var cy = m.top + ph / 2;
    svg("text", { x: 14, y: cy, "text-anchor": "middle", fill: "#222", transform: "rotate(-90 14 " + cy + ")" }, root).textContent = key;
    var items = document.createDocumentFragment();
    drawn.forEach(function (id) {
      var s = series[id], colour = palette[order.indexOf(id) % palette.length];
      var finite = s.points.filter(function (p) { return Number.isFinite(p[1]); });
      var points = thin(finite, Math.max(200, Math.floor(pw)));
      var line = svg("polyline", { "class": "series", "data-run": id, fill: "none", stroke: colour, "stroke-width": 1.5,
                                   "stroke-linejoin": "round",
                                   points: points.map(function (p) { return sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1); }).join(" ") }, root);
      svg("title", {}, line).textContent = s.label;
      if (points.length === 1) svg("circle", { cx: sx(points[0][0]).toFixed(1), cy: sy(points[0][1]).toFixed(1), r: 3, fill: colour }, root);
      var item = document.createElement("li"), swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colour;
      item.appendChild(swatch);
      var last = finite[finite.length - 1];
      item.appendChild(document.createTextNode(s.label + ": " + number(last[1]) + " at step " + last[0]));
      items.appendChild(item);
    });
    chart.replaceChildren(root);
    legend.replaceChildren(items);
  }

  async function poll() {
    try {
      var runs = await getJSON("/api/experiments/" + experiment + "/runs?key=" + encodeURIComponent(key));
      order = runs.map(function (r) { return r.id; });
      renderRuns(runs);
      for (var i = 0; i < runs.length; i++) await follow(runs[i]);
      draw();
      var running = runs.filter(function (r) { return r.status === "running"; }).length;
      statusLine.textContent = "Updated " + new Date().toLocaleTimeString() + ": " + runs.length + " runs, " + running + " running.";
    } catch (error) {
      statusLine.textContent = "Could not update (" + error.message + "); trying again in " + pollMs / 1000 + " s.";
    }
    setTimeout(poll, pollMs);
  }

  window.addEventListener("resize", function () { if (order.length) draw(); });
  poll();
})();
"""#
}
