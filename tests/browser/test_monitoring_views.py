"""The monitoring views in Chromium: all tenants, a tenant at a glance, a run's timeline,
the notification bell, for operator, viewer and outsider; axe-core on every view (zero
serious or critical findings); keyboard only; dark, reduced motion and 360 px wide;
hostile strings in every new field; live updates without a reload."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from devstack.stack import Stack
from localcloud.seed import CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID, OPERATOR_OID
from shared.auth.membership import Role
from shared.config import NOTIFICATIONS_TABLE, QUEUE_HEALTH_TABLE, RUNS_QUEUE
from shared.monitoring.queue_status import PARTITION, QueueStatus, QueueStatusStore
from shared.notifications.inbox import Inbox, Notification, notification_id
from shared.notifications.message import NotificationEvent
from shared.runs.model import Failure, RunOutcome
from tests.monitoring_data import put_run, seed_history

from .conftest import OpenPage, assert_accessible, fresh_tenant, start

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"


@dataclass
class Fleet:
    failing: str
    backlog: str
    quiet: str
    restore_run: str


@pytest.fixture(scope="module")
def fleet(stack: Stack) -> Fleet:
    failing = fresh_tenant(stack, "Alpine Ski House", operator=Role.OPERATOR)
    backlog = fresh_tenant(stack, "Tailspin Toys", operator=Role.OPERATOR)
    quiet = fresh_tenant(stack, "Woodgrove Bank", operator=Role.OPERATOR, viewer=Role.READONLY)
    seed_history(stack.storage, failing, failing=True)
    seed_history(stack.storage, backlog, backlog=6)
    seed_history(stack.storage, quiet)
    restore = put_run(
        stack.storage, failing, "restore.execute", ago=timedelta(minutes=30),
        outcome=RunOutcome.FAILED, summary="from backup 7Q2K9XZD · 3 policies",
        failures=(
            Failure("graph_forbidden", "Graph refused: policy a", item="a", attempt=1),
            Failure("group_unmapped", "no target group for g1", item="b", attempt=1),
            Failure("graph_forbidden", "Graph refused: policy c", item="c", attempt=1),
        ),
    )  # fmt: skip
    return Fleet(failing, backlog, quiet, restore.id)


def overview_row(page: Page, tenant_id: str) -> object:
    return page.locator(f'#overview-body tr[data-tenant-id="{tenant_id}"]')


def order_of(page: Page) -> list[str]:
    return list(
        page.locator("#overview-body tr").evaluate_all("rows => rows.map(r => r.dataset.tenantId)")
    )


def test_the_operator_lands_on_all_tenants_most_urgent_first(
    open_page: OpenPage, fleet: Fleet
) -> None:
    page = open_page("operator", "/monitoring/")
    expect(page.locator("#overview-view")).to_be_visible()
    expect(overview_row(page, fleet.quiet)).to_be_visible()
    order = order_of(page)
    assert order.index(fleet.failing) < order.index(fleet.backlog) < order.index(fleet.quiet)
    assert {CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID} <= set(order)
    failing = overview_row(page, fleet.failing)
    expect(failing.locator(".col-failed")).to_have_text("4")  # 2 syncs, 2 restores in 24 h
    expect(failing.locator(".attention-failed_recently")).to_contain_text("4 failed")
    expect(failing.locator(".attention-overdue")).to_have_count(0)  # synced 5 h ago
    backlog = overview_row(page, fleet.backlog)
    expect(backlog.locator(".col-queued")).to_contain_text("6")
    expect(backlog.locator(".col-queued .late")).to_contain_text("6 over 10 min")
    quiet = overview_row(page, fleet.quiet)
    expect(quiet.locator(".col-attention")).to_have_text("Nothing")
    expect(quiet.locator(".col-last li")).to_have_count(3)
    expect(quiet.locator(".col-last")).to_contain_text("Capture a backup")
    # How current the counts are: the oldest summary row's time, the absolute one on hover.
    as_of = page.locator("#overview-as-of time")
    expect(as_of).to_have_text(re.compile(r"^Runs counted as of (just now|.+ ago)$"))
    assert (as_of.get_attribute("datetime") or "").endswith("Z")
    assert_accessible(page)
    # Each number links into that tenant's list, filtered to what it counts.
    failing.locator(".col-failed a").click()
    expect(page).to_have_url(re.compile(f"#/tenants/{fleet.failing}\\?outcome=failed$"))
    expect(page.locator("#filter-outcome")).to_have_value("failed")
    expect(page.locator("#runs-body tr")).to_have_count(6)  # 4 in 24 h, 2 older syncs
    for outcome in page.locator("#runs-body td.col-outcome").all_inner_texts():
        assert outcome == "failed"
    expect(page.locator("#all-tenants-crumb")).to_be_visible()
    assert_accessible(page)
    page.locator("#all-tenants-crumb a").click()
    expect(page.locator("#overview-view")).to_be_visible()


def test_a_tenant_at_a_glance(open_page: OpenPage, fleet: Fleet) -> None:
    page = open_page("operator", f"/monitoring/#/tenants/{fleet.failing}")
    expect(page.locator("#glance")).to_be_visible()
    expect(page.locator("#glance-now")).to_contain_text("queued0")
    expect(page.locator("#glance-24h .failed dd")).to_have_text("4")
    expect(page.locator("#glance-7d .partially_succeeded dd")).to_have_text("1")
    chart = page.locator("svg.chart")
    expect(chart).to_have_attribute("role", "img")
    expect(chart.locator("title").first).to_contain_text("Runs per day for 14 days")
    expect(page.locator("#chart-table tbody tr")).to_have_count(14)
    durations = page.locator("#durations-table tbody tr")
    expect(durations).to_have_count(4)
    expect(durations.filter(has_text="Capture a backup")).to_contain_text(
        re.compile(r"1m \d+s")  # p50 and p95 of 95-117 s, with their seconds
    )
    # Rows tell runs apart: the run type's summary of the inputs, relative times.
    expect(page.locator("#runs-body .input-summary").first).not_to_have_text("")
    expect(page.locator("#runs-body")).to_contain_text("from backup 7Q2K9XZD · 3 policies")
    created = page.locator("#runs-body td.col-started").first
    expect(created).to_contain_text(" ago")
    expect(created.locator("time")).to_have_attribute("title", re.compile(r"\d"))
    page.locator("#runs-body tr a").first.focus()  # focus shows the absolute time too
    expect(created.locator(".abs")).to_be_visible()
    page.locator("details.chart-data summary").click()
    expect(page.locator("#chart-table")).to_be_visible()
    assert_accessible(page)


def test_a_backlog_is_highlighted_and_the_banner_says_the_queue_is_behind(
    stack: Stack, open_page: OpenPage, fleet: Fleet
) -> None:
    status = QueueStatusStore(stack.storage.table(QUEUE_HEALTH_TABLE))
    status.save([QueueStatus(RUNS_QUEUE, 126, 610.0, 0, datetime.now(UTC))])
    try:
        page = open_page("operator", f"/monitoring/#/tenants/{fleet.backlog}?status=queued")
        expect(page.locator("#runs-body tr")).to_have_count(6)
        late = page.locator("#runs-body .waited.late")
        expect(late).to_have_count(6)
        expect(late.first).to_have_text(re.compile(r"^queued for \d+ min$"))
        banner = page.locator("#queue-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("126 waiting, the oldest for 10 min")
        expect(page.locator("#glance .late-note")).to_contain_text("6 queued for over 10 min")
        assert_accessible(page)
    finally:
        stack.storage.table(QUEUE_HEALTH_TABLE).delete_entity(PARTITION, RUNS_QUEUE)
    page.reload()
    expect(page.locator("#runs-body tr")).to_have_count(6)
    expect(page.locator("#queue-banner")).to_be_hidden()


def test_a_runs_timeline_and_failures_by_code(open_page: OpenPage, fleet: Fleet) -> None:
    page = open_page("operator", f"/monitoring/#/tenants/{fleet.failing}/runs/{fleet.restore_run}")
    expect(page.locator("#detail-outcome")).to_have_text("failed")
    expect(page.locator("#detail-summary")).to_have_text("from backup 7Q2K9XZD · 3 policies")
    steps = page.locator("#detail-timeline li")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_contain_text("Created")
    expect(steps.nth(1)).to_contain_text("Claimed by a worker: attempt 1")
    expect(steps.nth(2)).to_contain_text("Finished: failed")
    groups = page.locator("#detail-failure-groups tbody tr")
    expect(groups).to_have_count(2)
    expect(groups.first).to_contain_text("graph_forbidden2")
    expect(groups.nth(1)).to_contain_text("group_unmapped1")
    expect(page.locator("#detail-failures tbody tr")).to_have_count(3)
    assert_accessible(page)


def test_a_cancel_request_shows_on_the_timeline(stack: Stack, open_page: OpenPage) -> None:
    tenant = fresh_tenant(stack, "Timeline", operator=Role.OPERATOR)
    run_id = start(stack, tenant, {"label": "timeline", "items": 1})
    page = open_page("operator", f"/monitoring/#/tenants/{tenant}/runs/{run_id}")
    expect(page.locator("#detail-timeline li")).to_have_count(1)
    page.get_by_role("button", name="Cancel run").click()
    expect(page.locator("#detail-timeline li")).to_have_count(2)
    expect(page.locator("#detail-timeline li").nth(1)).to_contain_text("Finished: cancelled")


def test_the_viewer_sees_only_their_tenants_read_only(open_page: OpenPage, fleet: Fleet) -> None:
    page = open_page("viewer", "/monitoring/")
    expect(page.locator("#overview-view")).to_be_visible()
    expect(overview_row(page, fleet.quiet)).to_contain_text("Woodgrove Bank")
    expect(overview_row(page, fleet.quiet).locator("th")).to_contain_text("(read only)")
    expect(overview_row(page, CONTOSO_TENANT_ID)).to_be_visible()
    for hidden in (fleet.failing, fleet.backlog, FABRIKAM_TENANT_ID):
        expect(overview_row(page, hidden)).to_have_count(0)
    assert_accessible(page)
    overview_row(page, fleet.quiet).locator("th a").click()
    expect(page.locator("#glance")).to_be_visible()
    assert_accessible(page)
    # A run's detail, read only: no cancel, the timeline and failures as for an operator.
    page.locator("#runs-body tr a").first.click()
    expect(page.locator("#detail-timeline li").first).to_contain_text("Created")
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    assert_accessible(page)
    page.locator("#bell").click()
    expect(page.locator("#notifications-panel")).to_be_visible()
    assert_accessible(page)
    # A tenant the viewer may not see, by URL: back to the overview, nothing of it shown.
    page.goto(f"/monitoring/#/tenants/{fleet.failing}")
    expect(page.locator("#overview-view")).to_be_visible()
    assert "Alpine Ski House" not in page.locator("body").inner_text()
    assert page.request.get(f"/api/tenants/{fleet.failing}/glance").status == 404


def test_the_outsider_sees_no_tenant_but_a_working_bell(open_page: OpenPage, fleet: Fleet) -> None:
    page = open_page("outsider", "/monitoring/")
    expect(page.locator("#list-state")).to_contain_text("not a member of any managed tenant")
    expect(page.locator("#overview-view")).to_be_hidden()
    expect(page.locator("#bell")).to_have_attribute("aria-label", "Notifications, none unread")
    assert_accessible(page)
    page.locator("#bell").click()
    expect(page.locator("#notifications-empty")).to_be_visible()
    expect(page.locator("#preferences")).to_be_hidden()  # a member of no tenant keeps none
    assert_accessible(page)
    body = page.request.get("/api/overview").json()
    assert body["items"] == []


def _mark_everything_read(stack: Stack) -> None:
    with stack.client("operator") as http:
        while True:
            items = http.get("/api/me/notifications", params={"unread": "true"}).json()["items"]
            if not items:
                return
            for item in items:
                http.post(f"/api/me/notifications/{item['id']}/read", json={})


def _notify(stack: Stack, tenant_id: str, title: str, body: str = "") -> str:
    run = put_run(stack.storage, tenant_id, "policy.sync", ago=timedelta(seconds=1))
    inbox = Inbox(stack.storage.table(NOTIFICATIONS_TABLE))
    nid = notification_id(run.id, NotificationEvent.COMPLETED)
    inbox.add(
        Notification(
            id=nid, user_id=OPERATOR_OID, run_id=run.id, tenant_id=tenant_id,
            event=NotificationEvent.COMPLETED, outcome="succeeded", title=title,
            body=body or f"{title}: finished", created_at=datetime.now(UTC),
            link=f"{stack.base_url}/monitoring/#/tenants/{tenant_id}/runs/{run.id}",
        )
    )  # fmt: skip
    return run.id


def test_the_bell_counts_live_lists_marks_read_and_saves_preferences(
    stack: Stack, open_page: OpenPage, fleet: Fleet
) -> None:
    _mark_everything_read(stack)
    page = open_page("operator", "/monitoring/")
    bell = page.locator("#bell")
    expect(bell).to_have_attribute("aria-label", "Notifications, none unread")
    expect(page.locator("#bell-count")).to_be_hidden()
    run_id = _notify(stack, fleet.quiet, HOSTILE, f"body {HOSTILE}")
    expect(page.locator("#bell-count")).to_have_text("1")  # live: no reload
    expect(bell).to_have_attribute("aria-label", "Notifications, 1 unread")
    bell.click()
    panel = page.locator("#notifications-panel")
    expect(panel).to_be_visible()
    first = panel.locator("#notifications-list li").first
    expect(first.locator(".n-title")).to_have_text(HOSTILE)
    expect(first.locator(".n-body")).to_have_text(f"body {HOSTILE}")
    expect(first.locator(".n-title")).to_have_attribute(
        "href", f"#/tenants/{fleet.quiet}/runs/{run_id}"
    )
    assert page.locator("#notifications-panel img, #notifications-panel script").count() == 0
    assert_accessible(page)
    first.get_by_role("button", name=re.compile("^Mark read")).click()
    expect(page.locator("#bell-count")).to_be_hidden()
    expect(first).to_have_class("read")
    _notify(stack, fleet.quiet, "Second")
    _notify(stack, fleet.quiet, "Third")
    expect(page.locator("#bell-count")).to_have_text("2")
    expect(panel.locator("#notifications-list li.unread")).to_have_count(2)  # the open panel too
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator("#bell-count")).to_be_hidden()
    expect(panel.locator("#notifications-list li.unread")).to_have_count(0)
    # Preferences: queued x email on, saved through the existing route as JSON.
    box = page.get_by_label("Email: when a run is queued")
    expect(box).to_be_enabled()
    was = box.is_checked()
    box.set_checked(not was)
    with page.expect_request(lambda r: r.method == "PUT") as sent:
        page.get_by_role("button", name="Save preferences").click()
    assert sent.value.headers["content-type"] == "application/json"
    expect(page.locator("#notifications-state")).to_have_text("Preferences saved.")
    with stack.client("operator") as http:
        prefs = http.get("/api/me/notification-preferences").json()
        assert ("email" in prefs["queued"]) is (not was)
        http.put("/api/me/notification-preferences", json={
            "queued": [c for c in prefs["queued"] if c != "email"] if not was else
            [*prefs["queued"], "email"], "completed": prefs["completed"]})  # fmt: skip
    # The notification's link leads to the run.
    panel.locator("#notifications-list li").first.locator(".n-title").click()
    expect(page.locator("#detail-view")).to_be_visible()


def test_the_list_and_its_glance_update_live(stack: Stack, open_page: OpenPage) -> None:
    tenant = fresh_tenant(stack, "Live list", operator=Role.OPERATOR)
    start(stack, tenant, {"label": "first"})
    page = open_page("operator", f"/monitoring/#/tenants/{tenant}")
    expect(page.locator("#runs-body tr")).to_have_count(1)
    expect(page.locator("#glance-now .queued dd")).to_have_text("1")
    start(stack, tenant, {"label": f"second {HOSTILE}"})
    expect(page.locator("#runs-body tr")).to_have_count(2)
    expect(page.locator("#runs-body .input-summary").first).to_have_text(
        f"second {HOSTILE} · 0 items"
    )
    expect(page.locator("#glance-now .queued dd")).to_have_text("2", timeout=20_000)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_hostile_tenant_names_and_summaries_stay_text(stack: Stack, open_page: OpenPage) -> None:
    tenant = fresh_tenant(stack, HOSTILE, operator=Role.OPERATOR)
    failure = Failure(HOSTILE, f"message {HOSTILE}", item=HOSTILE, attempt=1)
    run = put_run(
        stack.storage, tenant, "policy.sync", ago=timedelta(hours=1),
        outcome=RunOutcome.FAILED, summary=HOSTILE, failures=(failure,),
    )  # fmt: skip
    page = open_page("operator", "/monitoring/")
    row = page.locator(f'#overview-body tr[data-tenant-id="{tenant}"]')
    expect(row.locator("th")).to_contain_text(HOSTILE)
    page.goto(f"/monitoring/#/tenants/{tenant}")
    expect(page.locator("#runs-body .input-summary")).to_have_text(HOSTILE)
    expect(page.locator("#list-title")).to_contain_text(HOSTILE)
    page.goto(f"/monitoring/#/tenants/{tenant}/runs/{run.id}")
    expect(page.locator("#detail-summary")).to_have_text(HOSTILE)
    group = page.locator("#detail-failure-groups tbody tr")
    expect(group.locator("code")).to_have_text(HOSTILE)
    expect(group.locator("td").nth(1)).to_have_text(f"message {HOSTILE}")
    expect(page.locator("#detail-timeline")).to_contain_text("Finished: failed")
    assert page.locator("main img, main script, header img").count() == 0


def test_keyboard_alone_opens_the_bell_and_a_tenant(open_page: OpenPage, fleet: Fleet) -> None:
    page = open_page("operator", "/monitoring/")
    expect(overview_row(page, fleet.quiet)).to_be_visible()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "bell":
            break
    assert page.evaluate("document.activeElement.id") == "bell"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline
    page.keyboard.press("Enter")
    expect(page.locator("#notifications-panel")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "notifications-title"
    page.keyboard.press("Escape")
    expect(page.locator("#notifications-panel")).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "bell"
    target = f"#/tenants/{fleet.quiet}"
    for _ in range(120):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == target:
            break
    assert page.evaluate("document.activeElement.getAttribute('href')") == target
    page.keyboard.press("Enter")
    expect(page.locator("#glance")).to_be_visible()
    expect(page.locator("#list-title")).to_contain_text("Woodgrove Bank")


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_narrow_dark_and_reduced_motion(open_page: OpenPage, fleet: Fleet, dark: bool) -> None:
    page = open_page("operator", "/monitoring/", width=360, dark=dark, reduced_motion=True)
    views = [
        ("/monitoring/", "#overview-view"),
        (f"/monitoring/#/tenants/{fleet.failing}", "#glance"),
        (f"/monitoring/#/tenants/{fleet.failing}/runs/{fleet.restore_run}", "#detail-timeline"),
    ]
    for path, ready in views:
        page.goto(path)
        expect(page.locator(ready)).to_be_visible()
        # Nothing wider than the screen: wide tables scroll inside their own region.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)
        assert_accessible(page)
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert (background == "rgb(21, 24, 28)") is dark, background
    page.goto(f"/monitoring/#/tenants/{fleet.failing}")
    expect(page.locator("#runs-body tr").first).to_be_visible()
    transition = page.evaluate(
        "getComputedStyle(document.querySelector('.progress-bar')).transitionDuration"
    )
    assert transition == "0s", transition


def test_a_changed_overview_keeps_the_keyboard_focus_on_its_tenant(
    stack: Stack, open_page: OpenPage, fleet: Fleet
) -> None:
    tenant = fresh_tenant(stack, "Focus Keeper", operator=Role.OPERATOR)
    page = open_page("operator", "/monitoring/")
    link = overview_row(page, tenant).locator("a").first
    expect(link).to_be_visible()
    link.focus()
    expect(link).to_be_focused()
    # A run starts in this tenant: its counts change, so a later poll rebuilds the table.
    page.evaluate("document.querySelector('#overview-body').dataset.before = 'yes'")
    start(stack, tenant, {"label": "focus"})
    page.wait_for_function(
        "() => { const b = document.querySelector('#overview-body');"
        " return b && !b.dataset.before; }",
        timeout=60_000,
    )
    expect(overview_row(page, tenant).locator("a").first).to_be_focused()
