/* contval report: draws each scenario's charts (SVG) from the JSON in #contval-data.
   Nothing is fetched and no markup is parsed: every string from the run goes in through textContent or
   setAttribute. Each chart is redrawn whole when a legend toggle changes. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  /* The drawing is as wide as its box (redrawn on resize), so text keeps its size. */
  var L = 56, R = 14, T = 20, B = 24;
  /* A value is the second [t, t + 1): it is drawn at the middle of its second. */
  var HALF = 0.5;
  var HEIGHTS = { latency: 250, throughput: 190, errors: 190 };
  var COLORS = ["#2f6fd0", "#e07b00", "#2e9e5b", "#8e2fb8", "#d23b3b", "#0f9ea8",
    "#8c6d1f", "#c2418f", "#5b6b7f", "#6a8f00"];
  var PCTS = [
    { key: "p50", dash: "2 3", width: 1.3 },
    { key: "p95", dash: "", width: 1.9 },
    { key: "p99", dash: "7 4", width: 1.3 }
  ];
  var X_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800];

  function svg(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function el(name, cls, parent, text) {
    var node = document.createElement(name);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function isNum(v) {
    return typeof v === "number" && isFinite(v);
  }

  function short(v) {
    return String(Number(v.toPrecision(3)));
  }

  function fmtMs(v) {
    if (!isNum(v)) return "–";
    var a = Math.abs(v);
    if (a >= 10000) return (v / 1000).toFixed(1) + " s";
    if (a >= 100) return v.toFixed(0) + " ms";
    if (a >= 10) return v.toFixed(1) + " ms";
    return v.toFixed(2) + " ms";
  }

  function fmtPerSecond(unit) {
    return function (v) {
      if (!isNum(v)) return "–";
      return (Number.isInteger(v) ? String(v) : short(v)) + " " + unit;
    };
  }

  function fmtT(s) {
    if (!isNum(s)) return "–";
    if (Math.abs(s) < 120) return short(s) + " s";
    var m = Math.floor(s / 60), r = Math.round(s - m * 60);
    return m + ":" + (r < 10 ? "0" : "") + r;
  }

  function niceStep(span, count) {
    var raw = span / Math.max(count, 1);
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var n = raw / mag;
    return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
  }

  function times(flow) {
    if (!flow._t) {
      if (Array.isArray(flow.t)) {
        flow._t = flow.t;
      } else {
        flow._t = [];
        for (var i = 0; i < (flow.n || 0); i++) flow._t.push((flow.t0 || 0) + i);
      }
    }
    return flow._t;
  }

  function nearest(arr, t) {
    var lo = 0, hi = arr.length - 1;
    if (hi < 0) return -1;
    while (hi - lo > 1) {
      var mid = (lo + hi) >> 1;
      if (arr[mid] <= t) lo = mid; else hi = mid;
    }
    return Math.abs(arr[hi] - t) < Math.abs(arr[lo] - t) ? hi : lo;
  }

  function color(i) {
    return COLORS[i % COLORS.length];
  }

  /* The lines one chart draws for the scenario's current toggles. */
  function seriesFor(metric, scen, state) {
    var out = [];
    scen.flows.forEach(function (flow, i) {
      if (!state.flows[i]) return;
      var t = times(flow);
      if (metric === "latency") {
        PCTS.forEach(function (p) {
          if (!state.pcts[p.key]) return;
          out.push({ label: flow.name + " " + p.key, color: color(i), dash: p.dash,
            width: p.width, t: t, v: flow[p.key] || [], fmt: fmtMs });
        });
      } else {
        var errors = metric === "errors";
        out.push({ label: flow.name, color: color(i), dash: "", width: 1.6, t: t,
          v: (errors ? flow.err : flow.req) || [],
          fmt: fmtPerSecond(errors ? "errors/s" : "req/s") });
      }
    });
    return out;
  }

  function extent(list, scen) {
    var e = { xmax: isNum(scen.end) ? scen.end : 0, ymax: 0, ypos: Infinity };
    list.forEach(function (s) {
      if (s.t.length) e.xmax = Math.max(e.xmax, s.t[s.t.length - 1] + 1);
      s.v.forEach(function (v) {
        if (!isNum(v)) return;
        e.ymax = Math.max(e.ymax, v);
        if (v > 0) e.ypos = Math.min(e.ypos, v);
      });
    });
    (scen.faults || []).forEach(function (f) {
      if (isNum(f.t1)) e.xmax = Math.max(e.xmax, f.t1);
    });
    if (e.xmax <= 0) e.xmax = 1;
    return e;
  }

  /* Scales and ticks: linear from 0, or (latency, when asked) log10 over whole decades. */
  function scales(e, log, w, h) {
    var sc = { log: log, xmax: e.xmax, yticks: [], w: w, h: h };
    if (log) {
      sc.lo = Math.floor(Math.log10(e.ypos));
      sc.hi = Math.max(Math.ceil(Math.log10(e.ymax)), sc.lo + 1);
      for (var d = sc.lo; d <= sc.hi; d++) sc.yticks.push(Math.pow(10, d));
    } else {
      var top = e.ymax > 0 ? e.ymax * 1.05 : 1;
      var step = niceStep(top, 4);
      sc.lo = 0;
      sc.hi = Math.ceil(top / step) * step;
      for (var v = 0; v <= sc.hi + step / 2; v += step) sc.yticks.push(v);
    }
    sc.x = function (t) { return L + (sc.w - L - R) * t / sc.xmax; };
    sc.y = function (v) {
      var f = log ? Math.log10(Math.max(v, Math.pow(10, sc.lo))) : v;
      return T + (sc.h - T - B) * (1 - (f - sc.lo) / (sc.hi - sc.lo));
    };
    return sc;
  }

  function drawAxes(root, sc) {
    var g = svg("g", { "class": "grid" }, root);
    var ax = svg("g", { "class": "axis" }, root);
    sc.yticks.forEach(function (v) {
      var y = sc.y(v).toFixed(1);
      svg("line", { x1: L, x2: sc.w - R, y1: y, y2: y }, g);
      svg("text", { x: L - 6, y: Number(y) + 4, "text-anchor": "end" }, ax).textContent = short(v);
    });
    var step = X_STEPS[X_STEPS.length - 1];
    for (var i = 0; i < X_STEPS.length; i++) {
      if (sc.xmax / X_STEPS[i] <= 10) { step = X_STEPS[i]; break; }
    }
    for (var t = 0; t <= sc.xmax + 1e-9; t += step) {
      var x = sc.x(t).toFixed(1);
      svg("line", { x1: x, x2: x, y1: T, y2: sc.h - B }, g);
      svg("text", { x: x, y: sc.h - 6, "text-anchor": "middle" }, ax).textContent = fmtT(t);
    }
    svg("line", { x1: L, x2: sc.w - R, y1: sc.h - B, y2: sc.h - B, stroke: "#98a2b3" }, ax);
  }

  function drawFaults(root, scen, sc) {
    (scen.faults || []).forEach(function (f) {
      if (!isNum(f.t0) || !isNum(f.t1)) return;
      var g = svg("g", { "class": f.skipped ? "fault skipped" : "fault" }, root);
      var x0 = sc.x(Math.max(0, f.t0)), x1 = sc.x(Math.min(sc.xmax, f.t1));
      svg("rect", { x: x0.toFixed(1), y: T, width: Math.max(x1 - x0, 1).toFixed(1),
        height: sc.h - T - B }, g);
      svg("text", { x: (x0 + 3).toFixed(1), y: T - 5 }, g).textContent =
        f.name + (f.skipped ? " (skipped)" : "");
    });
  }

  function drawLines(root, list, sc) {
    var g = svg("g", { "class": "lines" }, root);
    var drawn = 0;
    list.forEach(function (s) {
      var d = [], pen = false, points = 0;
      for (var i = 0; i < s.t.length; i++) {
        var v = s.v[i];
        if (!isNum(v) || !isNum(s.t[i])) { pen = false; continue; }
        d.push((pen ? "L" : "M") + sc.x(s.t[i] + HALF).toFixed(1) + "," + sc.y(v).toFixed(1));
        pen = true;
        points++;
      }
      if (!points) return;
      var attrs = { "class": "line", d: d.join(""), stroke: s.color, "stroke-width": s.width,
        "data-points": points };
      if (s.dash) attrs["stroke-dasharray"] = s.dash;
      if (points === 1) attrs["stroke-linecap"] = "round";
      svg("path", attrs, g).appendChild(svg("title", {})).textContent = s.label;
      drawn++;
    });
    if (!drawn) {
      svg("text", { "class": "empty", x: sc.w / 2, y: sc.h / 2, "text-anchor": "middle" }, root)
        .textContent = "no data to show";
    }
  }

  function showTip(fig, tip, list, scen, ts, ev) {
    clear(tip);
    var active = (scen.faults || []).filter(function (f) { return f.t0 < ts + 1 && ts < f.t1; });
    var head = "t = " + fmtT(ts);
    if (active.length) head += " · fault " + active.map(function (f) { return f.name; }).join(", ");
    el("div", "head", tip, head);
    list.forEach(function (s) {
      var i = nearest(s.t, ts);
      var row = el("div", "row", tip);
      var sw = el("span", "swatch", row);
      sw.style.borderTopColor = s.color;
      if (s.dash) sw.style.borderTopStyle = s.dash === "2 3" ? "dotted" : "dashed";
      row.appendChild(document.createTextNode(s.label + ": " + s.fmt(i < 0 ? null : s.v[i])));
    });
    tip.hidden = false;
    var box = fig.getBoundingClientRect();
    var left = ev.clientX - box.left + 14;
    if (left + tip.offsetWidth > box.width) left = ev.clientX - box.left - tip.offsetWidth - 14;
    tip.style.left = Math.max(0, left) + "px";
    tip.style.top = Math.max(0, ev.clientY - box.top + 12) + "px";
  }

  function hover(fig, root, list, scen, sc) {
    var tip = fig.querySelector(".tooltip");
    var cross = svg("line", { "class": "cross", y1: T, y2: sc.h - B, visibility: "hidden" }, root);
    var dots = svg("g", { "class": "dots" }, root);
    svg("rect", { x: L, y: T, width: sc.w - L - R, height: sc.h - T - B, fill: "transparent",
      "class": "overlay" }, root);
    function hide() {
      tip.hidden = true;
      cross.setAttribute("visibility", "hidden");
      clear(dots);
    }
    root.addEventListener("mouseleave", hide);
    root.addEventListener("mousemove", function (ev) {
      var box = root.getBoundingClientRect();
      var px = (ev.clientX - box.left) * sc.w / box.width;
      var first = list.filter(function (s) { return s.t.length; })[0];
      if (!first || px < L || px > sc.w - R) { hide(); return; }
      var ts = first.t[nearest(first.t, (px - L) / (sc.w - L - R) * sc.xmax - HALF)];
      var x = sc.x(ts + HALF).toFixed(1);
      cross.setAttribute("x1", x);
      cross.setAttribute("x2", x);
      cross.setAttribute("visibility", "visible");
      clear(dots);
      list.forEach(function (s) {
        var i = nearest(s.t, ts);
        if (i >= 0 && isNum(s.v[i])) {
          svg("circle", { cx: sc.x(s.t[i] + HALF).toFixed(1), cy: sc.y(s.v[i]).toFixed(1), r: 3,
            fill: s.color }, dots);
        }
      });
      showTip(fig, tip, list, scen, ts, ev);
    });
  }

  function draw(fig, scen, state) {
    var metric = fig.getAttribute("data-metric");
    var plot = fig.querySelector(".plot");
    clear(plot);
    fig.querySelector(".tooltip").hidden = true;
    var list = seriesFor(metric, scen, state);
    var e = extent(list, scen);
    var log = metric === "latency" && state.log && e.ypos < Infinity;
    var sc = scales(e, log, Math.max(320, Math.round(plot.clientWidth || 960)),
      HEIGHTS[metric] || 200);
    var caption = fig.querySelector("figcaption");
    var root = svg("svg", { viewBox: "0 0 " + sc.w + " " + sc.h, width: sc.w, height: sc.h,
      role: "img",
      "aria-label": caption ? caption.textContent : metric }, plot);
    drawAxes(root, sc);
    drawFaults(root, scen, sc);
    drawLines(root, list, sc);
    hover(fig, root, list, scen, sc);
  }

  function checkbox(parent, checked, onChange, swatch, text) {
    var label = el("label", "", parent);
    var input = el("input", "", label);
    input.type = "checkbox";
    input.checked = checked;
    input.addEventListener("change", function () { onChange(input.checked); });
    if (swatch) {
      var sw = el("span", "swatch", label);
      sw.style.borderTopColor = swatch.color;
      if (swatch.dashed) sw.style.borderTopStyle = "dashed";
      if (swatch.dotted) sw.style.borderTopStyle = "dotted";
    }
    label.appendChild(document.createTextNode(text));
    return input;
  }

  function legend(box, scen, state, redraw) {
    clear(box);
    el("span", "group", box, "flows");
    scen.flows.forEach(function (flow, i) {
      checkbox(box, true, function (on) { state.flows[i] = on; redraw(); },
        { color: color(i) }, flow.name);
    });
    el("span", "group", box, "latency");
    PCTS.forEach(function (p) {
      checkbox(box, true, function (on) { state.pcts[p.key] = on; redraw(); },
        { color: "#1d2330", dashed: p.key === "p99", dotted: p.key === "p50" }, p.key);
    });
    checkbox(box, false, function (on) { state.log = on; redraw(); }, null, "log scale");
  }

  function init() {
    var source = document.getElementById("contval-data");
    if (!source) return;
    var data = JSON.parse(source.textContent || "{}");
    var containers = document.querySelectorAll(".charts[data-scenario]");
    var redraws = [];
    Array.prototype.forEach.call(containers, function (box) {
      var scen = (data.scenarios || [])[Number(box.getAttribute("data-scenario"))];
      if (!scen || !Array.isArray(scen.flows)) return;
      var state = { flows: scen.flows.map(function () { return true; }),
        pcts: { p50: true, p95: true, p99: true }, log: false };
      var figures = box.querySelectorAll("figure.chart");
      var redraw = function () {
        Array.prototype.forEach.call(figures, function (fig) {
          try {
            draw(fig, scen, state);
          } catch (err) {
            var plot = fig.querySelector(".plot");
            clear(plot);
            el("p", "muted", plot, "This chart could not be drawn: " + err);
            console.error(err);
          }
        });
      };
      legend(box.querySelector(".legend"), scen, state, redraw);
      redraw();
      redraws.push(redraw);
    });
    var pending = false, width = window.innerWidth;
    window.addEventListener("resize", function () {
      if (pending || window.innerWidth === width) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        width = window.innerWidth;
        redraws.forEach(function (redraw) { redraw(); });
      });
    });
  }

  init();
})();
