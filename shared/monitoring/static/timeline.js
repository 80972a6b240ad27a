// A run's timeline (created, each claim with its attempt, failures, cancel request, last
// progress, finish) and its failures grouped by code.

import { el, fmtTime, label, text } from "./dom.js";

export function timelineOf(run) {
  const events = [{ at: run.created_at, what: "Created (queued)" }];
  for (const claim of run.claims || []) {
    events.push({ at: claim.at, what: `Claimed by a worker: attempt ${claim.attempt}` });
  }
  for (const f of run.failures || []) {
    if (f.at && !f.item) {
      events.push({ at: f.at, what: `Failed: ${f.code}${f.attempt ? ` (attempt ${f.attempt})` : ""}` });
    }
  }
  if (run.cancel_requested_at) events.push({ at: run.cancel_requested_at, what: "Cancel requested" });
  const c = run.summary_counts || {};
  if (run.status === "running" && run.updated_at) {
    events.push({ at: run.updated_at, what: `Last progress: ${c.processed || 0} of ${c.total || 0}` });
  }
  if (run.completed_at) events.push({ at: run.completed_at, what: `Finished: ${label(run.outcome)}` });
  return events.sort((a, b) => new Date(a.at) - new Date(b.at));
}

export function renderTimeline(list, run) {
  list.replaceChildren(...timelineOf(run).map((e) => {
    const when = text("time", fmtTime(e.at));
    when.dateTime = e.at;
    return el("li", null, when, text("span", e.what, "what"));
  }));
}

export function failureGroups(failures) {
  const groups = new Map();
  for (const f of failures) {
    const group = groups.get(f.code) || { code: f.code, count: 0, example: f.message };
    group.count += 1;
    groups.set(f.code, group);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

export function renderFailureGroups(body, failures) {
  body.replaceChildren(...failureGroups(failures).map((g) => {
    const code = el("th", null, text("code", g.code));
    code.scope = "row";
    return el("tr", null, code, text("td", g.count), text("td", g.example));
  }));
}
