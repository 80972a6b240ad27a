// The monitoring page: all tenants at a glance, a tenant's glance and runs, one run, and
// the notification bell. It reads only the API's read routes (which read only storage) and
// writes cancel, mark read and preferences. Every value is rendered as text.

import { api, post, tenantPath, whoAmI, signIn } from "./api.js";
import {
  $, badge, el, fillPairs, fmtDuration, fmtSpan, fmtTime, label, link, progress, relTime,
  setBadge, setState, text,
} from "./dom.js";
import { startBell } from "./bell.js";
import { renderGlance } from "./glance.js";
import { queueMessage, renderOverview, tenantHref } from "./overview.js";
import { Poller } from "./poller.js";
import { renderFailureGroups, renderTimeline } from "./timeline.js";

const PAGE_SIZE = 25;
const MAX_LIMIT = 200;  // the list route's largest page
const FILTERS = ["type", "status", "outcome"];

const state = {
  me: null,
  tenants: [],
  types: new Map(),
  tenantId: null,
  runs: [],
  cursor: null,
  view: null,            // "overview" | "list" | "detail"
  runId: null,
  run: null,
  overview: null,
  glancePrint: "",
  queuedTooLong: 600,    // seconds; the server says which in glance/overview replies
  generation: 0,         // bumps on navigation so stale responses are ignored
};

const typeTitle = (type) => state.types.get(type) || type;
const isActive = (run) => run.status === "queued" || run.status === "running";
const tenant = () => state.tenants.find((t) => t.tenant_id === state.tenantId);
const canWrite = () => { const t = tenant(); return Boolean(t) && t.role !== "readonly"; };
const runHref = (run) =>
  `#/tenants/${encodeURIComponent(run.tenant_id)}/runs/${encodeURIComponent(run.id)}`;
const fingerprint = (value) => JSON.stringify(value);
const runsPrint = (runs) => fingerprint(runs.map((r) =>
  [r.id, r.status, r.outcome, r.updated_at, r.cancel_requested, r.summary_counts]));

const poller = new Poller(pollOnce, (error) => {
  const id = state.view === "detail" ? "detail-state" : state.view === "overview" ? "overview-state" : "list-state";
  setState(id, `Could not refresh (${error.message}); retrying.`, true);
});

// ---- routing ------------------------------------------------------------------------------

function parseHash() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const parts = path.split("/").filter(Boolean);
  const filters = new URLSearchParams(query || "");
  if (parts[0] === "tenants" && parts[1]) {
    return { tenantId: decodeURIComponent(parts[1]),
             runId: parts[2] === "runs" && parts[3] ? decodeURIComponent(parts[3]) : null, filters };
  }
  return { tenantId: null, runId: null, filters };
}

const many = () => state.tenants.length > 1;

function route() {
  poller.stop();
  state.generation += 1;
  const { tenantId, runId, filters } = parseHash();
  const known = state.tenants.find((t) => t.tenant_id === tenantId);
  $("home-link").setAttribute("href", many() || !state.tenants.length ? "#/" :
    tenantHref(state.tenants[0].tenant_id));
  $("all-tenants-crumb").hidden = !many();
  if (!known) {
    if (!state.tenants.length) return showEmptyTenants();
    if (many()) return showOverview();
    location.replace(tenantHref(state.tenants[0].tenant_id));
    return;
  }
  state.tenantId = tenantId;
  $("tenant-select").value = tenantId;
  $("back-link").setAttribute("href", tenantHref(tenantId));
  if (runId) showDetail(runId); else showList(filters);
}

function showOnly(view) {
  state.view = view;
  $("overview-view").hidden = view !== "overview";
  $("list-view").hidden = view !== "list";
  $("detail-view").hidden = view !== "detail";
}

function showEmptyTenants() {
  showOnly(null);
  $("list-view").hidden = false;
  $("filters").hidden = true;
  $("glance").hidden = true;
  $("runs-table").hidden = true;
  $("load-more").hidden = true;
  $("tenant-picker").hidden = true;
  $("list-title").textContent = "Runs";
  setState("list-state", "You are not a member of any managed tenant. Ask an owner to add you.");
}

function showQueue(queue) {
  const message = queueMessage(queue);
  $("queue-banner").textContent = message || "";
  $("queue-banner").hidden = !message;
}

// ---- all tenants ----------------------------------------------------------------------------

async function showOverview() {
  showOnly("overview");
  $("tenant-select").value = "";
  document.title = "All tenants · Operation runs";
  $("overview-view").setAttribute("aria-busy", "true");
  if (!state.overview) setState("overview-state", "Loading tenants…");
  const generation = state.generation;
  try {
    await loadOverview(generation);
  } catch (error) {
    if (generation === state.generation) setState("overview-state", `Could not load: ${error.message}`, true);
  } finally {
    $("overview-view").removeAttribute("aria-busy");
  }
}

async function loadOverview(generation) {
  const body = await api("/api/overview");
  if (generation !== state.generation) return { stale: true };
  // Ages grow on every read; what counts as a change is the rest (ages are shown from `at`).
  // `as_of` moves with every recompute, also when nothing it counts changed.
  const print = (items) => fingerprint(items.map(({ as_of: _, ...i }) =>
    ({ ...i, last_success: i.last_success.map((s) => [s.type, s.at]) })));
  const before = state.overview ? print(state.overview.items) : "";
  state.overview = body;
  state.queuedTooLong = body.queued_too_long_seconds;
  showQueue(body.work_queue);
  const changed = before !== print(body.items);
  if (changed || !$("overview-content").firstChild) {
    // A rebuilt table keeps the keyboard focus on the link it was on (same target).
    const content = $("overview-content");
    const focused = content.contains(document.activeElement)
      ? document.activeElement.getAttribute("href") : null;
    content.replaceChildren(renderOverview(body, typeTitle));
    if (focused) {
      [...content.querySelectorAll("a")].find((a) => a.getAttribute("href") === focused)
        ?.focus({ preventScroll: true });
    }
  }
  // How current the summaries are: the oldest tenant row's, on every poll.
  $("overview-as-of").replaceChildren(body.as_of ?
    relTime(body.as_of, "Runs counted as of ") : text("span", ""));
  const attention = body.items.filter((i) => i.attention.length).length;
  setState("overview-state", attention ? `${attention} of ${body.items.length} tenants need attention.` :
    `All ${body.items.length} tenants are fine.`);
  poller.schedule(true, changed);
  return { changed, keepGoing: true };
}

// ---- a tenant: glance and list ----------------------------------------------------------

function filterValues() {
  const values = {};
  for (const name of FILTERS) if ($(`filter-${name}`).value) values[name] = $(`filter-${name}`).value;
  if ($("filter-mine").checked) values.initiator = "me";
  return values;
}

const filtersActive = () => Object.keys(filterValues()).length > 0;

function listQuery(cursor, limit) {
  const params = new URLSearchParams({ limit: String(limit || PAGE_SIZE), ...filterValues() });
  if (cursor) params.set("cursor", cursor);
  return `${tenantPath(state.tenantId)}/operations?${params}`;
}

function applyFilters(filters) {
  // Links from the overview carry filters in the hash; the form shows them.
  if (![...filters.keys()].length) return;
  for (const name of FILTERS) {
    const select = $(`filter-${name}`);
    const wanted = filters.get(name) || "";
    if (name === "type" && wanted && ![...select.options].some((o) => o.value === wanted)) {
      select.appendChild(Object.assign(text("option", typeTitle(wanted)), { value: wanted }));
    }
    select.value = wanted;
  }
  $("filter-mine").checked = filters.get("initiator") === "me";
}

async function showList(filters) {
  showOnly("list");
  applyFilters(filters);
  state.runs = [];
  state.cursor = null;
  $("filters").hidden = false;
  document.title = `Runs · ${tenant().name}`;
  $("list-title").textContent = `Runs in ${tenant().name}`;
  $("runs-table").hidden = true;
  $("load-more").hidden = true;
  $("list-view").setAttribute("aria-busy", "true");
  setState("list-state", "Loading runs…");
  const generation = state.generation;
  if (!state.glancePrint.startsWith(`${state.tenantId}:`)) $("glance").hidden = true;
  loadGlance(generation).catch(() => { $("glance").hidden = true; });
  await loadPage(null, generation);
}

async function loadGlance(generation) {
  const glance = await api(`${tenantPath(state.tenantId)}/glance`);
  if (generation !== state.generation) return;
  state.queuedTooLong = glance.queued_too_long_seconds;
  showQueue(glance.work_queue);
  // Re-render only on a change, keeping the chart's table open if it was (and focus).
  const { generated_at: _, work_queue: __, ...content } = glance;
  const print = `${state.tenantId}:${fingerprint(content)}`;
  if (print !== state.glancePrint) {
    const open = Boolean($("glance-body").querySelector("details[open]"));
    $("glance-body").replaceChildren(...renderGlance(glance, typeTitle));
    if (open) $("glance-body").querySelector("details").open = true;
    state.glancePrint = print;
  }
  $("glance").hidden = false;
}

async function loadPage(cursor, generation) {
  const more = $("load-more");
  more.disabled = true;
  try {
    const page = await api(listQuery(cursor));
    if (generation !== state.generation) return;
    state.runs = cursor ? state.runs.concat(page.items) : page.items;
    state.cursor = page.next_cursor || null;
    renderList();
  } catch (error) {
    if (generation !== state.generation) return;
    setState("list-state", cursor ? `Could not load more runs: ${error.message}` :
      `Could not load runs: ${error.message}`, true);
  } finally {
    more.disabled = false;
    $("list-view").removeAttribute("aria-busy");
  }
}

function renderRows() {
  // Rows are rebuilt on every poll (their relative times move): put the keyboard focus
  // back on the same run's link, or a keyboard user is thrown to the top of the page.
  const body = $("runs-body");
  const focused = body.contains(document.activeElement)
    ? document.activeElement.closest("tr")?.dataset.runId : null;
  body.replaceChildren(...state.runs.map(runRow));
  if (focused) {
    const again = [...body.rows].find((r) => r.dataset.runId === focused);
    again?.querySelector("a")?.focus({ preventScroll: true });
  }
}

function renderList(changed = true) {
  renderRows();
  $("runs-table").hidden = state.runs.length === 0;
  $("load-more").hidden = !state.cursor;
  const empty = filtersActive() ? "No runs match these filters." : "No runs in this tenant yet.";
  setState("list-state", state.runs.length ? "" : empty);
  poller.schedule(state.runs.some(isActive), changed);
}

function statusCell(run) {
  const cell = el("span", "status-cell", badge(run.status, "Status"));
  if (run.status === "queued") {
    const waited = (Date.now() - new Date(run.created_at)) / 1000;
    const note = text("span", `queued for ${fmtSpan(waited)}`, "waited");
    if (waited >= state.queuedTooLong) {
      note.classList.add("late");
      note.title = `Queued longer than ${fmtSpan(state.queuedTooLong)}: the work queue may be behind`;
    }
    cell.appendChild(note);
  }
  return cell;
}

function runRow(run) {
  const row = document.createElement("tr");
  row.dataset.runId = run.id;
  const type = el("span", "type-cell", link(typeTitle(run.type), runHref(run)));
  if (run.input_summary) type.appendChild(text("span", run.input_summary, "input-summary"));
  const initiator = run.initiator || {};
  const who = text("span", initiator.name || initiator.id || "");
  if (initiator.email) who.title = initiator.email;
  const cells = [type, statusCell(run), badge(run.outcome, "Outcome"), progress(run), who,
    relTime(run.created_at), text("span", fmtDuration(run))];
  const names = ["type", "status", "outcome", "progress", "initiator", "started", "duration"];
  cells.forEach((content, index) => {
    const cell = document.createElement("td");
    cell.className = `col-${names[index]}`;
    cell.appendChild(content);
    row.appendChild(cell);
  });
  return row;
}

async function refreshList(generation) {
  // Re-read as many runs as are on screen (up to the route's largest page), so rows that
  // "load more" brought in update too.
  const shown = Math.max(PAGE_SIZE, state.runs.length);
  const page = await api(listQuery(null, Math.min(MAX_LIMIT, shown)));
  if (generation !== state.generation) return null;
  const before = runsPrint(state.runs);
  if (shown <= MAX_LIMIT) {
    state.runs = page.items;
    state.cursor = page.next_cursor || null;
  } else {
    const fresh = new Map(page.items.map((r) => [r.id, r]));
    const seen = new Set(state.runs.map((r) => r.id));
    const added = page.items.filter((r) => !seen.has(r.id));
    state.runs = added.concat(state.runs.map((r) => fresh.get(r.id) || r));
  }
  return before !== runsPrint(state.runs);
}

// ---- one run --------------------------------------------------------------------------------

async function showDetail(runId) {
  showOnly("detail");
  state.runId = runId;
  state.run = null;
  $("detail-body").hidden = true;
  $("detail-title").textContent = "Run";
  $("detail-summary").textContent = "";
  $("detail-view").setAttribute("aria-busy", "true");
  setState("detail-state", "Loading run…");
  const generation = state.generation;
  try {
    const run = await fetchRun();
    if (generation !== state.generation) return;
    renderDetail(run);
    poller.schedule(isActive(run), true);
  } catch (error) {
    if (generation !== state.generation) return;
    setState("detail-state", error.status === 404 ? "This run does not exist in this tenant." :
      `Could not load the run: ${error.message}`, true);
  } finally {
    $("detail-view").removeAttribute("aria-busy");
  }
}

function fetchRun() {
  return api(`${tenantPath(state.tenantId)}/operations/${encodeURIComponent(state.runId)}`);
}

function renderDetail(run) {
  state.run = run;
  document.title = `${typeTitle(run.type)} · ${tenant().name}`;
  $("detail-title").textContent = typeTitle(run.type);
  $("detail-summary").textContent = run.input_summary || "";
  setState("detail-state", "");
  $("detail-body").hidden = false;
  setBadge($("detail-status"), run.status, "Status");
  setBadge($("detail-outcome"), run.outcome, "Outcome");
  const bar = progress(run);
  bar.id = "detail-progress";
  $("detail-progress").replaceWith(bar);

  const initiator = run.initiator || {};
  fillPairs($("detail-fields"), [
    ["Run id", run.id], ["Type", `${typeTitle(run.type)} (${run.type})`],
    ["Tenant", `${tenant().name} (${run.tenant_id})`],
    ["Status", label(run.status)], ["Outcome", label(run.outcome)],
    ["Started by", [initiator.name, initiator.email ? `<${initiator.email}>` : "",
      initiator.kind === "app" ? "(app)" : ""].filter(Boolean).join(" ")],
    ["Created", fmtTime(run.created_at)], ["Started", fmtTime(run.started_at)],
    ["Completed", fmtTime(run.completed_at)], ["Duration", fmtDuration(run)],
    ["Last update", fmtTime(run.updated_at)], ["Attempt", run.attempt],
    ["Lease expires", fmtTime(run.lease_expires_at)],
    ["Cancel requested", run.cancel_requested ? "yes" : "no"],
  ]);
  renderTimeline($("detail-timeline"), run);
  fillPairs($("detail-counts"),
    Object.entries(run.summary_counts || {}).map(([k, v]) => [label(k), v]));

  const failures = run.failures || [];
  $("detail-no-failures").hidden = failures.length > 0;
  $("detail-failure-summary").hidden = failures.length === 0;
  renderFailureGroups($("detail-failure-groups").tBodies[0], failures);
  $("detail-failures").tBodies[0].replaceChildren(...failures.map((f) => {
    const row = el("tr", null, el("td", null, text("code", f.code)));
    for (const value of [f.item || "—", f.message, f.attempt, fmtTime(f.at)]) row.appendChild(text("td", value));
    return row;
  }));
  $("detail-inputs").textContent = JSON.stringify(run.inputs || {}, null, 2);
  $("detail-result").textContent = run.result == null ? "None yet." : JSON.stringify(run.result, null, 2);

  // Cancel: operators only (absent for readonly members), and only while active.
  const cancel = $("cancel-button");
  cancel.hidden = !(isActive(run) && canWrite());
  cancel.disabled = Boolean(run.cancel_requested);
  cancel.textContent = run.cancel_requested ? "Cancel requested" : "Cancel run";
}

async function cancelRun() {
  const button = $("cancel-button");
  button.disabled = true;
  const generation = state.generation;
  try {
    const body = await post(
      `${tenantPath(state.tenantId)}/operations/${encodeURIComponent(state.runId)}/cancel`);
    if (generation !== state.generation) return;
    const run = body.run || body;
    renderDetail(run);
    poller.schedule(isActive(run), true);
  } catch (error) {
    if (generation !== state.generation) return;
    setState("detail-state", `Could not cancel: ${error.message}`, true);
    button.disabled = false;
  }
}

// ---- live updates -----------------------------------------------------------------------

async function pollOnce() {
  const generation = state.generation;
  if (state.view === "detail") {
    const before = state.run ? fingerprint(state.run) : "";
    const run = await fetchRun();
    if (generation !== state.generation) return { stale: true };
    renderDetail(run);
    return { changed: fingerprint(run) !== before, keepGoing: isActive(run) };
  }
  if (state.view === "list") {
    const changed = await refreshList(generation);
    if (changed === null) return { stale: true };
    // The glance is cached a few seconds server-side: re-read it on every poll, not only
    // when the list changed, so it catches up.
    loadGlance(generation).catch(() => {});
    renderRows();
    $("runs-table").hidden = state.runs.length === 0;
    $("load-more").hidden = !state.cursor;
    setState("list-state", state.runs.length ? "" :
      filtersActive() ? "No runs match these filters." : "No runs in this tenant yet.");
    return { changed, keepGoing: state.runs.some(isActive) };
  }
  if (state.view === "overview") return loadOverview(generation);
  return { stale: true };
}

// ---- start --------------------------------------------------------------------------------

async function start() {
  let me;
  try { me = await whoAmI(); } catch (_) { me = null; }
  if (!me) { signIn(); return; }
  state.me = me;
  const who = $("who");
  who.textContent = `Signed in as ${me.name}`;
  if (me.username) who.title = me.username;
  $("sign-out").hidden = false;
  try {
    const [tenants, types] = await Promise.all([api("/api/tenants"), api("/api/operation-types")]);
    state.tenants = tenants.items || [];
    const typeList = Array.isArray(types) ? types : (types.items || []);
    for (const t of typeList) state.types.set(t.type, t.title || t.type);
  } catch (error) {
    $("list-view").hidden = false;
    $("filters").hidden = true;
    setState("list-state", `Could not load: ${error.message}`, true);
    return;
  }
  const select = $("tenant-select");
  const options = state.tenants.map((t) => {
    const option = text("option", t.role === "readonly" ? `${t.name} (read only)` : t.name);
    option.value = t.tenant_id;
    return option;
  });
  if (many()) options.unshift(Object.assign(text("option", "All tenants"), { value: "" }));
  select.replaceChildren(...options);
  for (const [type, title] of state.types) {
    $("filter-type").appendChild(Object.assign(text("option", title), { value: type }));
  }
  select.addEventListener("change", () => {
    location.hash = select.value ? tenantHref(select.value) : "#/";
  });
  $("filters").addEventListener("change", () => {
    // The filters live in the hash, so a filtered list is a link and Back works.
    const next = tenantHref(state.tenantId, filterValues());
    if (location.hash === next) route(); else location.hash = next;
  });
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("load-more").addEventListener("click", () => loadPage(state.cursor, state.generation));
  $("cancel-button").addEventListener("click", cancelRun);
  window.addEventListener("hashchange", route);
  startBell({ preferences: state.tenants.length > 0 });
  route();
}

start();
