// The monitoring page: lists runs and shows one run. It reads only the API's read routes
// (which read only the run table) and posts cancel. Every value is rendered as text.
"use strict";

(function () {
  const PAGE_SIZE = 25;
  const MAX_LIMIT = 200;       // the list route's largest page
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
    run: null,           // the run on the detail view
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
    let response;
    try {
      response = await fetch(path, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        ...options,
      });
    } catch (_) {
      throw new ApiError(0, { error: { message: "the server could not be reached" } });
    }
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
      username: claim("preferred_username") || principal.user_id || "",
    };
  }

  // ---- formatting -------------------------------------------------------------------------

  function fmtTime(value) {
    if (!value) return "—";
    const date = new Date(value);
    return isNaN(date) ? String(value) : date.toLocaleString();
  }

  function fmtDuration(run) {
    if (!run.started_at) return "—";
    const end = run.completed_at ? new Date(run.completed_at) : new Date();
    const seconds = Math.max(0, Math.round((end - new Date(run.started_at)) / 1000));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (h) return `${h}h ${m}m`;
    return m ? `${m}m ${s}s` : `${s}s`;
  }

  const label = (value) => String(value).replace(/_/g, " ");

  function progressOf(run) {
    const c = run.summary_counts || {};
    // Nothing to count: full only when it finished with nothing to do (not when cancelled).
    if (!c.total) return run.status === "completed" && run.outcome === "succeeded" ? 100 : 0;
    return Math.min(100, Math.round((100 * (c.processed || 0)) / c.total));
  }

  function badge(value, kind) {
    const el = text("span", label(value), `badge ${value}`);
    el.dataset.value = value;
    el.title = `${kind}: ${label(value)}`;
    return el;
  }

  function setBadge(el, value, kind) {
    el.textContent = label(value);
    el.className = `badge ${value}`;
    el.dataset.value = value;
    el.title = `${kind}: ${label(value)}`;
  }

  function progress(run) {
    const c = run.summary_counts || {};
    const pct = progressOf(run);
    const wrap = document.createElement("div");
    wrap.className = "progress-cell";
    const track = document.createElement("div");
    track.className = "progress";
    track.setAttribute("role", "progressbar");
    track.setAttribute("aria-valuenow", String(pct));
    track.setAttribute("aria-valuemin", "0");
    track.setAttribute("aria-valuemax", "100");
    track.setAttribute("aria-label", `${c.processed || 0} of ${c.total || 0} items processed`);
    const bar = document.createElement("div");
    bar.className = "progress-bar";
    if (c.failed) bar.classList.add("with-failures");
    bar.style.width = `${pct}%`;
    track.appendChild(bar);
    wrap.appendChild(track);
    wrap.appendChild(text("span", c.total ? `${c.processed || 0}/${c.total}` : "", "progress-text"));
    return wrap;
  }

  const typeTitle = (type) => state.types.get(type) || type;
  const isActive = (run) => run.status === "queued" || run.status === "running";
  const tenant = () => state.tenants.find((t) => t.tenant_id === state.tenantId);
  const canWrite = () => { const t = tenant(); return Boolean(t) && t.role !== "readonly"; };
  const runHref = (run) =>
    `#/tenants/${encodeURIComponent(run.tenant_id)}/runs/${encodeURIComponent(run.id)}`;
  // What polling compares: a change resets the backoff.
  const fingerprint = (runs) => JSON.stringify(runs.map((r) =>
    [r.id, r.status, r.outcome, r.updated_at, r.cancel_requested, r.summary_counts]));

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
    state.pollDelay = POLL_MIN_MS;
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
    state.view = null;
    $("list-view").hidden = false;
    $("detail-view").hidden = true;
    $("filters").hidden = true;
    $("runs-table").hidden = true;
    $("load-more").hidden = true;
    $("tenant-picker").hidden = true;
    setState("list-state", "You are not a member of any managed tenant. Ask an owner to add you.");
  }

  function setState(id, message, isError) {
    const el = $(id);
    el.textContent = message || "";
    el.classList.toggle("error", Boolean(isError));
  }

  // ---- list -------------------------------------------------------------------------------

  function filtersActive() {
    return ["type", "status", "outcome"].some((n) => $(`filter-${n}`).value) ||
      $("filter-mine").checked;
  }

  function listQuery(cursor, limit) {
    const params = new URLSearchParams({ limit: String(limit || PAGE_SIZE) });
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
    state.runs = [];
    state.cursor = null;
    $("list-view").hidden = false;
    $("detail-view").hidden = true;
    $("filters").hidden = false;
    document.title = `Runs · ${tenant().name}`;
    $("list-title").textContent = `Runs in ${tenant().name}`;
    $("runs-table").hidden = true;
    $("load-more").hidden = true;
    $("list-view").setAttribute("aria-busy", "true");
    setState("list-state", "Loading runs…");
    await loadPage(null, state.generation);
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
      const message = cursor ? `Could not load more runs: ${error.message}` :
        `Could not load runs: ${error.message}`;
      setState("list-state", message, true);
    } finally {
      more.disabled = false;
      $("list-view").removeAttribute("aria-busy");
    }
  }

  function renderList() {
    const body = $("runs-body");
    body.replaceChildren(...state.runs.map(runRow));
    $("runs-table").hidden = state.runs.length === 0;
    $("load-more").hidden = !state.cursor;
    const empty = filtersActive() ? "No runs match these filters." : "No runs in this tenant yet.";
    setState("list-state", state.runs.length ? "" : empty);
    schedulePoll(state.runs.some(isActive));
  }

  function runRow(run) {
    const row = document.createElement("tr");
    row.dataset.runId = run.id;
    const link = text("a", typeTitle(run.type));
    link.href = runHref(run);
    const initiator = run.initiator || {};
    const who = text("span", initiator.name || initiator.id || "");
    if (initiator.email) who.title = initiator.email;
    const cells = [
      link, badge(run.status, "Status"), badge(run.outcome, "Outcome"), progress(run), who,
      text("time", fmtTime(run.created_at)), text("span", fmtDuration(run)),
    ];
    const names = ["type", "status", "outcome", "progress", "initiator", "started", "duration"];
    cells.forEach((content, index) => {
      const cell = document.createElement("td");
      cell.className = `col-${names[index]}`;
      if (content.tagName === "TIME" && run.created_at) content.dateTime = run.created_at;
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
    if (generation !== state.generation) return false;
    const before = fingerprint(state.runs);
    if (shown <= MAX_LIMIT) {
      state.runs = page.items;
      state.cursor = page.next_cursor || null;
    } else {
      const fresh = new Map(page.items.map((r) => [r.id, r]));
      const seen = new Set(state.runs.map((r) => r.id));
      const added = page.items.filter((r) => !seen.has(r.id));
      state.runs = added.concat(state.runs.map((r) => fresh.get(r.id) || r));
    }
    return before !== fingerprint(state.runs);
  }

  // ---- detail -----------------------------------------------------------------------------

  async function showDetail(runId) {
    state.view = "detail";
    state.runId = runId;
    state.run = null;
    $("list-view").hidden = true;
    $("detail-view").hidden = false;
    $("detail-body").hidden = true;
    $("detail-title").textContent = "Run";
    $("detail-view").setAttribute("aria-busy", "true");
    setState("detail-state", "Loading run…");
    const generation = state.generation;
    try {
      const run = await fetchRun();
      if (generation !== state.generation) return;
      renderDetail(run);
    } catch (error) {
      if (generation !== state.generation) return;
      const message = error.status === 404 ? "This run does not exist in this tenant." :
        `Could not load the run: ${error.message}`;
      setState("detail-state", message, true);
    } finally {
      $("detail-view").removeAttribute("aria-busy");
    }
  }

  function fetchRun() {
    return api(`/api/tenants/${encodeURIComponent(state.tenantId)}/operations/` +
      encodeURIComponent(state.runId));
  }

  function renderDetail(run) {
    state.run = run;
    document.title = `${typeTitle(run.type)} · ${tenant().name}`;
    $("detail-title").textContent = typeTitle(run.type);
    setState("detail-state", "");
    $("detail-body").hidden = false;
    setBadge($("detail-status"), run.status, "Status");
    setBadge($("detail-outcome"), run.outcome, "Outcome");
    const bar = progress(run);
    bar.id = "detail-progress";
    $("detail-progress").replaceWith(bar);

    const initiator = run.initiator || {};
    const fields = [
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
    ];
    fillPairs($("detail-fields"), fields);
    fillPairs($("detail-counts"),
      Object.entries(run.summary_counts || {}).map(([k, v]) => [label(k), v]));

    const failures = run.failures || [];
    $("detail-no-failures").hidden = failures.length > 0;
    $("detail-failures").hidden = failures.length === 0;
    $("detail-failures").tBodies[0].replaceChildren(...failures.map((f) => {
      const row = document.createElement("tr");
      const code = text("code", f.code);
      const cell = document.createElement("td");
      cell.appendChild(code);
      row.appendChild(cell);
      for (const value of [f.item || "—", f.message, f.attempt, fmtTime(f.at)]) {
        row.appendChild(text("td", value));
      }
      return row;
    }));
    $("detail-inputs").textContent = JSON.stringify(run.inputs || {}, null, 2);
    $("detail-result").textContent = run.result == null ? "None yet." :
      JSON.stringify(run.result, null, 2);

    // Cancel: operators only (absent for readonly members), and only while active.
    const cancel = $("cancel-button");
    cancel.hidden = !(isActive(run) && canWrite());
    cancel.disabled = Boolean(run.cancel_requested);
    cancel.textContent = run.cancel_requested ? "Cancel requested" : "Cancel run";
    schedulePoll(isActive(run));
  }

  function fillPairs(list, pairs) {
    list.replaceChildren();
    for (const [name, value] of pairs) {
      list.appendChild(text("dt", name));
      list.appendChild(text("dd", value === "" || value == null ? "—" : value));
    }
  }

  async function cancelRun() {
    const button = $("cancel-button");
    button.disabled = true;
    const generation = state.generation;
    try {
      const body = await api(
        `/api/tenants/${encodeURIComponent(state.tenantId)}/operations/` +
        `${encodeURIComponent(state.runId)}/cancel`, { method: "POST" });
      if (generation !== state.generation) return;
      state.pollDelay = POLL_MIN_MS;
      renderDetail(body.run || body);
    } catch (error) {
      if (generation !== state.generation) return;
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

  // Poll once: a change resets the delay; nothing new (or an error) backs off.
  async function poll() {
    state.pollTimer = null;
    const generation = state.generation;
    const slower = () => Math.min(POLL_MAX_MS, Math.round(state.pollDelay * 1.5));
    try {
      if (state.view === "detail") {
        const before = state.run ? fingerprint([state.run]) : "";
        const run = await fetchRun();
        if (generation !== state.generation) return;
        state.pollDelay = fingerprint([run]) === before ? slower() : POLL_MIN_MS;
        renderDetail(run);
      } else if (state.view === "list") {
        const changed = await refreshList(generation);
        if (generation !== state.generation) return;
        state.pollDelay = changed ? POLL_MIN_MS : slower();
        renderList();
      }
    } catch (error) {
      if (generation !== state.generation) return;
      // Keep what is on screen; say the refresh failed and try again later.
      state.pollDelay = slower();
      const id = state.view === "detail" ? "detail-state" : "list-state";
      setState(id, `Could not refresh (${error.message}); retrying.`, true);
      schedulePoll(true);
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) { stopPolling(); return; }
    // Back on screen: refresh now if anything shown is still active.
    state.pollDelay = POLL_MIN_MS;
    const active = state.view === "detail" ? Boolean(state.run) && isActive(state.run) :
      state.view === "list" && state.runs.some(isActive);
    if (active && !state.pollTimer) poll();
  });

  // ---- start --------------------------------------------------------------------------------

  async function start() {
    let me;
    try {
      me = await whoAmI();
    } catch (_) {
      me = null;
    }
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
    select.replaceChildren(...state.tenants.map((t) => {
      const option = text("option", t.role === "readonly" ? `${t.name} (read only)` : t.name);
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
    $("filters").addEventListener("change", () => { route(); });
    $("filters").addEventListener("submit", (event) => event.preventDefault());
    $("load-more").addEventListener("click", () => loadPage(state.cursor, state.generation));
    $("cancel-button").addEventListener("click", cancelRun);
    window.addEventListener("hashchange", route);
    route();
  }

  start();
})();
