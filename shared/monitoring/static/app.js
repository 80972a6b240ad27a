// The monitoring page: lists runs and shows one run. It reads only the API's read routes
// (which read only the run table) and posts cancel. Every value is rendered as text.
"use strict";

(function () {
  const PAGE_SIZE = 25;
  const POLL_MIN_MS = 2000;
  const POLL_MAX_MS = 30000;

  const state = {
    me: null,            // { id, name }
    tenants: [],         // [{ tenant_id, name, role }]
    types: new Map(),    // type -> title
    tenantId: null,
    runs: [],
    cursor: null,
    view: null,          // "list" | "detail"
    runId: null,
    pollDelay: POLL_MIN_MS,
    pollTimer: null,
    generation: 0,       // bumps on navigation so stale responses are ignored
  };

  const $ = (id) => document.getElementById(id);
  const text = (tag, value, className) => {
    const el = document.createElement(tag);
    el.textContent = value == null ? "" : String(value);
    if (className) el.className = className;
    return el;
  };

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error && body.error.message) || `HTTP ${status}`);
      this.status = status;
      this.code = body && body.error && body.error.code;
    }
  }

  async function api(path, options) {
    const response = await fetch(path, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      ...options,
    });
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    if (response.status === 401) { signIn(); throw new ApiError(401, body); }
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  function signIn() {
    const back = encodeURIComponent(location.pathname + location.hash);
    location.assign(`/.auth/login/aad?post_login_redirect_uri=${back}`);
  }

  async function whoAmI() {
    const response = await fetch("/.auth/me", { credentials: "same-origin" });
    if (!response.ok) return null;
    const body = await response.json();
    const principal = Array.isArray(body) ? body[0] : body && body.clientPrincipal;
    if (!principal) return null;
    const claims = principal.user_claims || [];
    const claim = (...names) => {
      const found = claims.find((c) => names.includes(c.typ));
      return found ? found.val : null;
    };
    return {
      id: claim("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"),
      name: claim("name") || principal.user_id || "signed in",
    };
  }

  // ---- formatting -------------------------------------------------------------------------

  function fmtTime(value) {
    if (!value) return "";
    const date = new Date(value);
    return isNaN(date) ? String(value) : date.toLocaleString();
  }

  function fmtDuration(run) {
    if (!run.started_at) return "";
    const end = run.completed_at ? new Date(run.completed_at) : new Date();
    const seconds = Math.max(0, Math.round((end - new Date(run.started_at)) / 1000));
    const m = Math.floor(seconds / 60), s = seconds % 60;
    return m ? `${m}m ${s}s` : `${s}s`;
  }

  function progressOf(run) {
    const c = run.summary_counts || {};
    if (!c.total) return run.status === "completed" ? 100 : 0;
    return Math.min(100, Math.round((100 * (c.processed || 0)) / c.total));
  }

  function badge(value) {
    return text("span", value, `badge ${value}`);
  }

  function progressBar(run) {
    const wrap = document.createElement("div");
    wrap.className = "progress";
    wrap.setAttribute("role", "progressbar");
    const pct = progressOf(run);
    wrap.setAttribute("aria-valuenow", String(pct));
    wrap.setAttribute("aria-valuemin", "0");
    wrap.setAttribute("aria-valuemax", "100");
    const c = run.summary_counts || {};
    wrap.setAttribute("aria-label", `${c.processed || 0} of ${c.total || 0} items`);
    const bar = document.createElement("div");
    bar.className = "progress-bar";
    bar.style.width = `${pct}%`;
    wrap.appendChild(bar);
    return wrap;
  }

  const typeTitle = (type) => state.types.get(type) || type;
  const isActive = (run) => run.status === "queued" || run.status === "running";
  const tenant = () => state.tenants.find((t) => t.tenant_id === state.tenantId);

  // ---- routing ----------------------------------------------------------------------------

  function parseHash() {
    const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
    if (parts[0] === "tenants" && parts[1]) {
      return { tenantId: decodeURIComponent(parts[1]),
               runId: parts[2] === "runs" && parts[3] ? decodeURIComponent(parts[3]) : null };
    }
    return { tenantId: null, runId: null };
  }

  function route() {
    stopPolling();
    state.generation += 1;
    const { tenantId, runId } = parseHash();
    const known = state.tenants.find((t) => t.tenant_id === tenantId);
    if (!known) {
      if (!state.tenants.length) return showEmptyTenants();
      const first = state.tenants[0].tenant_id;
      location.replace(`#/tenants/${encodeURIComponent(first)}`);
      return;
    }
    state.tenantId = tenantId;
    $("tenant-select").value = tenantId;
    $("home-link").setAttribute("href", `#/tenants/${encodeURIComponent(tenantId)}`);
    $("back-link").setAttribute("href", `#/tenants/${encodeURIComponent(tenantId)}`);
    if (runId) showDetail(runId); else showList();
  }

  function showEmptyTenants() {
    $("list-view").hidden = false;
    $("detail-view").hidden = true;
    $("filters").hidden = true;
    setState("list-state", "You are not a member of any managed tenant.");
  }

  function setState(id, message, isError) {
    const el = $(id);
    el.textContent = message || "";
    el.classList.toggle("error", Boolean(isError));
  }

  // ---- list -------------------------------------------------------------------------------

  function listQuery(cursor) {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    for (const name of ["type", "status", "outcome"]) {
      const value = $(`filter-${name}`).value;
      if (value) params.set(name, value);
    }
    if ($("filter-mine").checked) params.set("initiator", "me");
    if (cursor) params.set("cursor", cursor);
    return `/api/tenants/${encodeURIComponent(state.tenantId)}/operations?${params}`;
  }

  async function showList() {
    state.view = "list";
    $("list-view").hidden = false;
    $("detail-view").hidden = true;
    $("filters").hidden = false;
    document.title = `Runs · ${tenant().name}`;
    $("runs-table").hidden = true;
    $("load-more").hidden = true;
    setState("list-state", "Loading runs…");
    await loadPage(null, state.generation);
  }

  async function loadPage(cursor, generation) {
    try {
      const page = await api(listQuery(cursor));
      if (generation !== state.generation) return;
      state.runs = cursor ? state.runs.concat(page.items) : page.items;
      state.cursor = page.next_cursor || null;
      renderList();
    } catch (error) {
      if (generation !== state.generation) return;
      setState("list-state", `Could not load runs: ${error.message}`, true);
    }
  }

  function renderList() {
    const body = $("runs-body");
    body.replaceChildren(...state.runs.map(runRow));
    $("runs-table").hidden = state.runs.length === 0;
    $("load-more").hidden = !state.cursor;
    setState("list-state", state.runs.length ? "" : "No runs match these filters.");
    schedulePoll(state.runs.some(isActive));
  }

  function runRow(run) {
    const row = document.createElement("tr");
    row.dataset.runId = run.id;
    const link = text("a", typeTitle(run.type));
    link.href = `#/tenants/${encodeURIComponent(run.tenant_id)}/runs/${encodeURIComponent(run.id)}`;
    const cells = [
      link, badge(run.status), badge(run.outcome), progressBar(run),
      text("span", (run.initiator && run.initiator.name) || ""),
      text("span", fmtTime(run.created_at)), text("span", fmtDuration(run)),
    ];
    for (const content of cells) {
      const cell = document.createElement("td");
      cell.appendChild(content);
      row.appendChild(cell);
    }
    return row;
  }

  async function refreshList() {
    // Re-read the first page and merge: rows already on screen update in place.
    const generation = state.generation;
    const page = await api(listQuery(null));
    if (generation !== state.generation) return;
    const fresh = new Map(page.items.map((r) => [r.id, r]));
    const seen = new Set(state.runs.map((r) => r.id));
    const added = page.items.filter((r) => !seen.has(r.id));
    state.runs = added.concat(state.runs.map((r) => fresh.get(r.id) || r));
    renderList();
  }

  // ---- detail -----------------------------------------------------------------------------

  async function showDetail(runId) {
    state.view = "detail";
    state.runId = runId;
    $("list-view").hidden = true;
    $("detail-view").hidden = false;
    $("detail-body").hidden = true;
    setState("detail-state", "Loading run…");
    await loadDetail(state.generation);
  }

  async function loadDetail(generation) {
    try {
      const run = await api(
        `/api/tenants/${encodeURIComponent(state.tenantId)}/operations/${encodeURIComponent(state.runId)}`);
      if (generation !== state.generation) return;
      renderDetail(run);
    } catch (error) {
      if (generation !== state.generation) return;
      const message = error.status === 404 ? "This run does not exist in this tenant." :
        `Could not load the run: ${error.message}`;
      setState("detail-state", message, true);
      $("detail-body").hidden = true;
    }
  }

  function renderDetail(run) {
    document.title = `${typeTitle(run.type)} · ${tenant().name}`;
    $("detail-title").textContent = typeTitle(run.type);
    setState("detail-state", "");
    $("detail-body").hidden = false;
    $("detail-status").textContent = run.status;
    $("detail-status").className = `badge ${run.status}`;
    $("detail-outcome").textContent = run.outcome;
    $("detail-outcome").className = `badge ${run.outcome}`;
    $("detail-progress-wrap").replaceWith(Object.assign(progressBar(run), { id: "detail-progress-wrap" }));

    const fields = [
      ["Run id", run.id], ["Type", run.type], ["Tenant", tenant().name],
      ["Started by", run.initiator ? `${run.initiator.name}${run.initiator.email ? ` <${run.initiator.email}>` : ""}` : ""],
      ["Created", fmtTime(run.created_at)], ["Started", fmtTime(run.started_at)],
      ["Completed", fmtTime(run.completed_at)], ["Duration", fmtDuration(run)],
      ["Attempt", run.attempt], ["Cancel requested", run.cancel_requested ? "yes" : "no"],
      ["Last update", fmtTime(run.updated_at)],
    ];
    fillPairs($("detail-fields"), fields);
    fillPairs($("detail-counts"), Object.entries(run.summary_counts || {}));

    const failures = run.failures || [];
    $("detail-no-failures").hidden = failures.length > 0;
    $("detail-failures").hidden = failures.length === 0;
    $("detail-failures").tBodies[0].replaceChildren(...failures.map((f) => {
      const row = document.createElement("tr");
      for (const value of [f.code, f.item || "", f.message]) row.appendChild(text("td", value));
      return row;
    }));
    $("detail-inputs").textContent = JSON.stringify(run.inputs || {}, null, 2);
    $("detail-result").textContent = run.result == null ? "None." : JSON.stringify(run.result, null, 2);

    const canCancel = isActive(run) && !run.cancel_requested && tenant().role !== "readonly";
    const cancel = $("cancel-button");
    cancel.hidden = !(isActive(run) && tenant().role !== "readonly");
    cancel.disabled = !canCancel;
    cancel.textContent = run.cancel_requested ? "Cancel requested" : "Cancel run";
    schedulePoll(isActive(run));
  }

  function fillPairs(list, pairs) {
    list.replaceChildren();
    for (const [name, value] of pairs) {
      list.appendChild(text("dt", name));
      list.appendChild(text("dd", value));
    }
  }

  async function cancelRun() {
    const button = $("cancel-button");
    button.disabled = true;
    try {
      const run = await api(
        `/api/tenants/${encodeURIComponent(state.tenantId)}/operations/${encodeURIComponent(state.runId)}/cancel`,
        { method: "POST" });
      state.pollDelay = POLL_MIN_MS;
      renderDetail(run);
    } catch (error) {
      setState("detail-state", `Could not cancel: ${error.message}`, true);
      button.disabled = false;
    }
  }

  // ---- live updates -----------------------------------------------------------------------

  function schedulePoll(anyActive) {
    stopPolling();
    if (!anyActive) { state.pollDelay = POLL_MIN_MS; return; }
    if (document.hidden) return;  // resumes on visibilitychange
    state.pollTimer = setTimeout(poll, state.pollDelay);
  }

  function stopPolling() {
    if (state.pollTimer) clearTimeout(state.pollTimer);
    state.pollTimer = null;
  }

  async function poll() {
    state.pollTimer = null;
    // Back off while nothing changes; a change (or a user action) resets the delay.
    state.pollDelay = Math.min(POLL_MAX_MS, Math.round(state.pollDelay * 1.5));
    try {
      if (state.view === "detail") await loadDetail(state.generation);
      else await refreshList();
    } catch (_) {
      schedulePoll(true);
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) { stopPolling(); return; }
    state.pollDelay = POLL_MIN_MS;
    if (state.view === "detail") loadDetail(state.generation);
    else if (state.view === "list") refreshList().catch(() => {});
  });

  // ---- start --------------------------------------------------------------------------------

  async function start() {
    const me = await whoAmI();
    if (!me) { signIn(); return; }
    state.me = me;
    $("who").textContent = `Signed in as ${me.name}`;
    try {
      const [tenants, types] = await Promise.all([api("/api/tenants"), api("/api/operation-types")]);
      state.tenants = tenants.items || [];
      const typeList = Array.isArray(types) ? types : (types.items || []);
      for (const t of typeList) state.types.set(t.type, t.title);
    } catch (error) {
      $("list-view").hidden = false;
      setState("list-state", `Could not load: ${error.message}`, true);
      return;
    }
    const select = $("tenant-select");
    select.replaceChildren(...state.tenants.map((t) => {
      const option = text("option", t.name);
      option.value = t.tenant_id;
      return option;
    }));
    const typeSelect = $("filter-type");
    for (const [type, title] of state.types) {
      const option = text("option", title);
      option.value = type;
      typeSelect.appendChild(option);
    }
    select.addEventListener("change", () => {
      location.hash = `#/tenants/${encodeURIComponent(select.value)}`;
    });
    $("filters").addEventListener("change", () => { state.generation += 1; showList(); });
    $("filters").addEventListener("submit", (event) => event.preventDefault());
    $("load-more").addEventListener("click", () => loadPage(state.cursor, state.generation));
    $("cancel-button").addEventListener("click", cancelRun);
    window.addEventListener("hashchange", route);
    route();
  }

  start();
})();
