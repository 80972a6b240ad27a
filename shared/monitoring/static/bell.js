// The notification bell: the unread count (polled like the list: backoff, paused while
// the tab is hidden), a panel with the caller's notifications newest first, mark one or
// all read, and the caller's channel preferences, saved through the existing routes.

import { api, post, put } from "./api.js";
import { $, ago, el, fmtTime, setState, text } from "./dom.js";
import { Poller } from "./poller.js";

const UNREAD_PAGE = 100;
const LIST_PAGE = 50;
const EVENTS = [["queued", "When a run is queued"], ["completed", "When a run ends"]];
const CHANNELS = [["in_app", "In-app"], ["email", "Email"], ["teams", "Teams"]];

let unread = null;       // the count on the bell (null: not known yet)
let hasPreferences = true;  // only members of some tenant keep preferences (the API: 403)
let items = [];          // what the panel lists
const poller = new Poller(refreshCount, () => {});

// A notification's link, only when it points into this page (never another origin or
// scheme): the run's deep link.
function runHref(n) {
  try {
    const url = new URL(n.link, location.href);
    if (url.origin === location.origin && url.pathname === location.pathname) return url.hash;
  } catch (_) { /* not a URL: no link */ }
  return `#/tenants/${encodeURIComponent(n.tenant_id)}/runs/${encodeURIComponent(n.run_id)}`;
}

function showCount(count, more) {
  unread = count;
  const shown = more ? `${count}+` : String(count);
  const badge = $("bell-count");
  badge.textContent = count ? shown : "";
  badge.hidden = !count;
  $("bell").setAttribute("aria-label", count ? `Notifications, ${shown} unread` : "Notifications, none unread");
}

async function refreshCount() {
  const page = await api(`/api/me/notifications?unread=true&limit=${UNREAD_PAGE}`);
  const before = unread;
  showCount(page.items.length, Boolean(page.next_cursor));
  const changed = before !== unread;
  if (changed && !$("notifications-panel").hidden) await loadList();
  return { changed, keepGoing: true };
}

async function loadList() {
  const page = await api(`/api/me/notifications?limit=${LIST_PAGE}`);
  items = page.items;
  renderList();
}

function renderList() {
  const list = $("notifications-list");
  list.replaceChildren(...items.map((n) => {
    const entry = el("li", n.read_at ? "read" : "unread");
    entry.dataset.notificationId = n.id;
    const title = text("a", n.title, "n-title");
    title.href = runHref(n);
    const when = text("time", ago(n.created_at));
    when.dateTime = n.created_at;
    when.title = fmtTime(n.created_at);
    entry.appendChild(el("div", "n-head", title, when));
    entry.appendChild(text("p", n.body, "n-body"));
    for (const problem of n.delivery_problems || []) entry.appendChild(text("p", problem, "n-problem"));
    if (!n.read_at) {
      const mark = text("button", "Mark read", "small");
      mark.type = "button";
      mark.setAttribute("aria-label", `Mark read: ${n.title}`);
      mark.addEventListener("click", () => markRead([n]));
      entry.appendChild(mark);
    }
    return entry;
  }));
  $("notifications-empty").hidden = items.length > 0;
  $("mark-all-read").disabled = !items.some((n) => !n.read_at) && !unread;
}

async function markRead(targets) {
  setState("notifications-state", "");
  try {
    for (const n of targets) {
      await post(`/api/me/notifications/${encodeURIComponent(n.id)}/read`);
    }
    await loadList();
    await refreshCount();
    poller.schedule(true, true);
    setState("notifications-state", targets.length > 1 ? "All marked read." : "Marked read.");
  } catch (error) {
    setState("notifications-state", `Could not mark read: ${error.message}`, true);
  }
}

async function markAllRead() {
  // Every unread one, not only those listed: the count on the bell is what goes to zero.
  try {
    const page = await api(`/api/me/notifications?unread=true&limit=200`);
    await markRead(page.items);
  } catch (error) {
    setState("notifications-state", `Could not mark read: ${error.message}`, true);
  }
}

async function loadPreferences() {
  const form = $("preferences");
  try {
    const prefs = await api("/api/me/notification-preferences");
    const grid = $("preferences-grid");
    grid.replaceChildren();
    const head = el("tr", null, text("td", ""), ...CHANNELS.map(([, name]) => {
      const th = text("th", name);
      th.scope = "col";
      return th;
    }));
    grid.appendChild(el("thead", null, head));
    const body = el("tbody");
    for (const [event, name] of EVENTS) {
      const th = text("th", name);
      th.scope = "row";
      const row = el("tr", null, th);
      for (const [channel, channelName] of CHANNELS) {
        const box = document.createElement("input");
        box.type = "checkbox";
        box.name = `${event}:${channel}`;
        box.checked = (prefs[event] || []).includes(channel);
        box.disabled = !(prefs.available || []).includes(channel);
        box.setAttribute("aria-label", `${channelName}: ${name.toLowerCase()}` +
          (box.disabled ? " (not available here)" : ""));
        row.appendChild(el("td", null, box));
      }
      body.appendChild(row);
    }
    grid.appendChild(body);
    form.hidden = false;
  } catch (error) {
    setState("notifications-state", `Could not load preferences: ${error.message}`, true);
  }
}

async function savePreferences(event) {
  event.preventDefault();
  const wanted = { queued: [], completed: [] };
  for (const box of $("preferences").querySelectorAll("input[type=checkbox]")) {
    const [name, channel] = box.name.split(":");
    if (box.checked) wanted[name].push(channel);
  }
  try {
    await put("/api/me/notification-preferences", wanted);
    setState("notifications-state", "Preferences saved.");
  } catch (error) {
    setState("notifications-state", `Could not save: ${error.message}`, true);
  }
}

function toggle(open) {
  const panel = $("notifications-panel");
  panel.hidden = !open;
  $("bell").setAttribute("aria-expanded", String(open));
  if (open) {
    setState("notifications-state", "");
    loadList().catch((error) => setState("notifications-state", `Could not load: ${error.message}`, true));
    if (hasPreferences) loadPreferences();
    $("notifications-title").focus();
  } else {
    $("bell").focus();
  }
}

export function startBell({ preferences }) {
  hasPreferences = preferences;
  $("bell-wrap").hidden = false;
  $("bell").addEventListener("click", () => toggle($("notifications-panel").hidden));
  $("notifications-close").addEventListener("click", () => toggle(false));
  $("notifications-panel").addEventListener("keydown", (event) => {
    if (event.key === "Escape") toggle(false);
  });
  $("mark-all-read").addEventListener("click", markAllRead);
  $("preferences").addEventListener("submit", savePreferences);
  poller.run();
}

