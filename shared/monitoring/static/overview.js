// All tenants at a glance: one row per tenant, the ones needing attention first (the
// server sorts). Every number links into that tenant's list, filtered to what it counts.

import { el, fmtSpan, link, relTime, scroller, text } from "./dom.js";

export const tenantHref = (tenantId, filters) => {
  const base = `#/tenants/${encodeURIComponent(tenantId)}`;
  const query = filters ? new URLSearchParams(filters).toString() : "";
  return query ? `${base}?${query}` : base;
};

function countLink(value, tenantId, filters, what, name) {
  const a = link(String(value), tenantHref(tenantId, filters), value ? "count hot" : "count");
  a.setAttribute("aria-label", `${value} ${what} in ${name}`);
  return a;
}

export function renderOverview(body, typeTitle) {
  const table = el("table", "runs overview");
  table.id = "overview-table";
  const head = el("tr");
  for (const name of ["Tenant", "Needs attention", "Running", "Queued", "Failed (24 h)",
    "Last success by type"]) {
    const th = text("th", name);
    th.scope = "col";
    head.appendChild(th);
  }
  table.appendChild(el("thead", null, head));
  const rows = el("tbody");
  rows.id = "overview-body";
  for (const item of body.items) rows.appendChild(overviewRow(item, body, typeTitle));
  table.appendChild(rows);
  return scroller(table, "All tenants");
}

function overviewRow(item, body, typeTitle) {
  const row = el("tr");
  row.dataset.tenantId = item.tenant_id;
  if (item.attention.length) row.classList.add("needs-attention");
  const name = item.role === "readonly" ? `${item.name} (read only)` : item.name;
  const th = el("th", "col-tenant", link(name, tenantHref(item.tenant_id)));
  th.scope = "row";
  row.appendChild(th);

  const attention = el("td", "col-attention");
  if (item.attention.length) {
    const list = el("ul", "attention");
    for (const a of item.attention) {
      const filters = a.code === "failed_recently" ? { outcome: "failed" } :
        a.code === "queued_too_long" ? { status: "queued" } : { type: a.type || "" };
      const entry = el("li", `attention-${a.code}`, link(a.message, tenantHref(item.tenant_id, filters)));
      list.appendChild(entry);
    }
    attention.appendChild(list);
  } else {
    attention.appendChild(text("span", "Nothing", "quiet"));
  }
  if (!item.complete) attention.appendChild(text("p", "Busy tenant: counts are lower bounds.", "note"));
  row.appendChild(attention);

  row.appendChild(el("td", "col-running",
    countLink(item.running, item.tenant_id, { status: "running" }, "running", item.name)));
  const queued = el("td", "col-queued",
    countLink(item.queued, item.tenant_id, { status: "queued" }, "queued", item.name));
  if (item.queued_too_long) {
    queued.appendChild(text("span",
      ` (${item.queued_too_long} over ${fmtSpan(body.queued_too_long_seconds)})`, "late"));
  }
  row.appendChild(queued);
  row.appendChild(el("td", "col-failed",
    countLink(item.failed_24h, item.tenant_id, { outcome: "failed" }, "failed in 24 hours", item.name)));

  const last = el("td", "col-last");
  if (item.last_success.length) {
    const list = el("ul", "last-success");
    for (const s of item.last_success) {
      const overdue = item.attention.some((a) => a.code === "overdue" && a.type === s.type);
      const entry = el("li", overdue ? "overdue" : null,
        link(typeTitle(s.type), tenantHref(item.tenant_id, { type: s.type, outcome: "succeeded" })),
        text("span", ": "), relTime(s.at));
      list.appendChild(entry);
    }
    last.appendChild(list);
  } else {
    last.appendChild(text("span", `None in ${body.window_days} days`, "quiet"));
  }
  row.appendChild(last);
  return row;
}

// One sentence for the work queue, or null when it is keeping up.
export function queueMessage(queue) {
  if (!queue || queue.stale || !queue.behind) return null;
  return `The work queue is behind: ${queue.depth} waiting, the oldest for ` +
    `${fmtSpan(queue.oldest_age_seconds)} (measured ${fmtSpan((Date.now() - new Date(queue.measured_at)) / 1000)} ago).`;
}
