// A tenant at a glance, above its list: counts now / 24 h / 7 days, 14 days of runs
// stacked by outcome (an SVG chart with a table as its text equivalent) and run times.

import { el, fmtSpan, label, scroller, text } from "./dom.js";

const OUTCOMES = ["succeeded", "partially_succeeded", "failed", "cancelled"];
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  return node;
}

function counts(title, values, id) {
  const list = el("dl", "tally");
  list.id = id;
  for (const [name, value] of Object.entries(values)) {
    const item = el("div", `tally-item ${name}${value ? " nonzero" : ""}`);
    item.appendChild(text("dt", label(name)));
    item.appendChild(text("dd", value));
    list.appendChild(item);
  }
  return el("div", "tally-group", text("h4", title), list);
}

function chart(daily) {
  const width = 420, height = 120, gap = 4;
  const bar = (width - gap * (daily.length - 1)) / daily.length;
  const max = Math.max(1, ...daily.map((d) => OUTCOMES.reduce((s, o) => s + (d.outcomes[o] || 0), 0)));
  const total = daily.reduce((s, d) => s + OUTCOMES.reduce((t, o) => t + (d.outcomes[o] || 0), 0), 0);
  const figure = svg("svg", { viewBox: `0 0 ${width} ${height + 16}`, class: "chart", role: "img",
    "aria-labelledby": "chart-title" });
  const title = svg("title", { id: "chart-title" });
  title.textContent = `Runs per day for 14 days by outcome: ${total} in all. The table below has the numbers.`;
  figure.appendChild(title);
  daily.forEach((day, index) => {
    let y = height;
    const x = index * (bar + gap);
    for (const outcome of OUTCOMES) {
      const n = day.outcomes[outcome] || 0;
      if (!n) continue;
      const h = (n / max) * height;
      y -= h;
      const rect = svg("rect", { x: x.toFixed(1), y: y.toFixed(1), width: bar.toFixed(1),
        height: h.toFixed(1), class: `seg ${outcome}` });
      const tip = svg("title");
      tip.textContent = `${day.day}: ${n} ${label(outcome)}`;
      rect.appendChild(tip);
      figure.appendChild(rect);
    }
    if (index % 2 === daily.length % 2 || index === daily.length - 1) {
      const tick = svg("text", { x: (x + bar / 2).toFixed(1), y: height + 12, class: "tick",
        "text-anchor": "middle", "aria-hidden": "true" });
      tick.textContent = day.day.slice(5);
      figure.appendChild(tick);
    }
  });
  return figure;
}

function chartTable(daily) {
  const table = el("table", "runs compact");
  table.id = "chart-table";
  const caption = text("caption", "Runs that ended per day, by outcome (UTC)");
  table.appendChild(caption);
  const head = el("tr", null, text("th", "Day"), ...OUTCOMES.map((o) => text("th", label(o))));
  head.querySelectorAll("th").forEach((th) => { th.scope = "col"; });
  table.appendChild(el("thead", null, head));
  const body = el("tbody");
  for (const day of daily) {
    const th = text("th", day.day);
    th.scope = "row";
    body.appendChild(el("tr", null, th, ...OUTCOMES.map((o) => text("td", day.outcomes[o] || 0))));
  }
  table.appendChild(body);
  return table;
}

function legend() {
  const list = el("ul", "legend");
  list.setAttribute("aria-hidden", "true");  // the table below names the outcomes
  for (const outcome of OUTCOMES) list.appendChild(el("li", null, el("span", `swatch ${outcome}`), label(outcome)));
  return list;
}

function durations(items, typeTitle) {
  if (!items.length) return text("p", "No finished runs in 14 days.", "quiet");
  const table = el("table", "runs compact");
  table.id = "durations-table";
  table.appendChild(text("caption", "Run time per run type (14 days)"));
  const head = el("tr", null, text("th", "Run type"), text("th", "Runs"), text("th", "Median (p50)"),
    text("th", "p95"));
  head.querySelectorAll("th").forEach((th) => { th.scope = "col"; });
  table.appendChild(el("thead", null, head));
  const body = el("tbody");
  for (const d of items) {
    const th = text("th", typeTitle(d.type));
    th.scope = "row";
    body.appendChild(el("tr", null, th, text("td", d.count), text("td", fmtSpan(d.p50_seconds)),
      text("td", fmtSpan(d.p95_seconds))));
  }
  table.appendChild(body);
  return table;
}

export function renderGlance(glance, typeTitle) {
  const top = el("div", "glance-counts",
    counts("Now", glance.now, "glance-now"),
    counts("Last 24 h", glance.last_24h, "glance-24h"),
    counts("Last 7 days", glance.last_7d, "glance-7d"));
  if (glance.queued_too_long) {
    top.appendChild(text("p", `${glance.queued_too_long} queued for over ` +
      `${fmtSpan(glance.queued_too_long_seconds)}.`, "late-note"));
  }
  const details = el("details", "chart-data", text("summary", "Chart as a table"), scroller(chartTable(glance.daily), "Runs per day"));
  const figure = el("figure", "chart-figure", chart(glance.daily), legend(),
    text("figcaption", "Runs per day, 14 days, stacked by outcome"));
  const parts = [top, el("div", "glance-charts", el("div", null, figure, details),
    el("div", null, scroller(durations(glance.durations, typeTitle), "Run times")))];
  if (!glance.complete) parts.push(text("p", "A busy tenant: these counts are lower bounds.", "note"));
  return parts;
}
