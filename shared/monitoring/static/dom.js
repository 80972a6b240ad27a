// DOM and formatting helpers. Every value reaches the page as text (textContent or an
// attribute), never as markup.

export const $ = (id) => document.getElementById(id);

export function text(tag, value, className) {
  const el = document.createElement(tag);
  el.textContent = value == null ? "" : String(value);
  if (className) el.className = className;
  return el;
}

export function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) {
    if (child == null) continue;
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

export function link(value, href, className) {
  const a = text("a", value, className);
  a.href = href;
  return a;
}

export function setState(id, message, isError) {
  const node = $(id);
  node.textContent = message || "";
  node.classList.toggle("error", Boolean(isError));
}

export const label = (value) => String(value).replace(/_/g, " ");

export function fmtTime(value) {
  if (!value) return "—";
  const date = new Date(value);
  return isNaN(date) ? String(value) : date.toLocaleString();
}

export function fmtSpan(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10 && s % 60) return `${m}m ${s % 60}s`;
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h`;
  return `${Math.floor(h / 24)} days`;
}

export function ago(value, now = Date.now()) {
  const seconds = (now - new Date(value)) / 1000;
  if (!isFinite(seconds)) return "—";
  return seconds < 45 ? "just now" : `${fmtSpan(seconds)} ago`;
}

// A relative time that shows the absolute one on hover (title) and whenever its row or
// cell has keyboard focus (CSS reveals .abs), and carries it in datetime for machines.
export function relTime(value, prefix = "") {
  const wrap = el("span", "reltime");
  if (!value) { wrap.textContent = "—"; return wrap; }
  const time = text("time", `${prefix}${ago(value)}`);
  time.dateTime = value;
  time.title = fmtTime(value);
  wrap.appendChild(time);
  wrap.appendChild(text("span", ` (${fmtTime(value)})`, "abs"));
  return wrap;
}

export function fmtDuration(run) {
  if (!run.started_at) return "—";
  const end = run.completed_at ? new Date(run.completed_at) : new Date();
  const seconds = Math.max(0, Math.round((end - new Date(run.started_at)) / 1000));
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  if (h) return `${h}h ${m}m`;
  return m ? `${m}m ${s}s` : `${s}s`;
}

export function badge(value, kind) {
  const node = text("span", label(value), `badge ${value}`);
  node.dataset.value = value;
  node.title = `${kind}: ${label(value)}`;
  return node;
}

export function setBadge(node, value, kind) {
  node.textContent = label(value);
  node.className = `badge ${value}`;
  node.dataset.value = value;
  node.title = `${kind}: ${label(value)}`;
}

export function progressOf(run) {
  const c = run.summary_counts || {};
  // Nothing to count: full only when it finished with nothing to do (not when cancelled).
  if (!c.total) return run.status === "completed" && run.outcome === "succeeded" ? 100 : 0;
  return Math.min(100, Math.round((100 * (c.processed || 0)) / c.total));
}

export function progress(run) {
  const c = run.summary_counts || {};
  const pct = progressOf(run);
  const track = el("div", "progress");
  track.setAttribute("role", "progressbar");
  track.setAttribute("aria-valuenow", String(pct));
  track.setAttribute("aria-valuemin", "0");
  track.setAttribute("aria-valuemax", "100");
  track.setAttribute("aria-label", `${c.processed || 0} of ${c.total || 0} items processed`);
  const bar = el("div", "progress-bar");
  if (c.failed) bar.classList.add("with-failures");
  bar.style.width = `${pct}%`;
  track.appendChild(bar);
  return el("div", "progress-cell", track,
    text("span", c.total ? `${c.processed || 0}/${c.total}` : "", "progress-text"));
}

export function fillPairs(list, pairs) {
  list.replaceChildren();
  for (const [name, value] of pairs) {
    list.appendChild(text("dt", name));
    const dd = document.createElement("dd");
    if (value instanceof Node) dd.appendChild(value);
    else dd.textContent = value === "" || value == null ? "—" : String(value);
    list.appendChild(dd);
  }
}

// A table in a labelled, focusable region that scrolls sideways on a narrow screen.
export function scroller(table, name) {
  const region = el("div", "scroller", table);
  region.setAttribute("role", "region");
  region.setAttribute("aria-label", name);
  region.tabIndex = 0;
  return region;
}
