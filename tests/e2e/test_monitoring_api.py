"""The monitoring summary routes over HTTP: the all-tenants overview and a tenant's glance,
for operator, viewer and outsider; attention ordering; the queue-health banner row; the
input summary on list rows; hostile strings returned as data."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from localcloud.seed import CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID
from shared.auth.membership import Role
from shared.config import QUEUE_HEALTH_TABLE, RUNS_QUEUE, RUNS_TABLE, TENANT_SUMMARIES_TABLE
from shared.monitoring.queue_status import PARTITION, QueueStatus, QueueStatusStore
from shared.runs.model import RunOutcome
from shared.runs.summaries import TenantSummaries
from tests.monitoring_data import put_run, recompute_summary

from .conftest import Stack

HOSTILE = "<img src=x onerror=alert(1)>"


def test_the_overview_lists_my_tenants_most_urgent_first(stack: Stack) -> None:
    quiet = stack.fresh_tenant("Aaa quiet", operator=Role.OPERATOR)
    failing = stack.fresh_tenant("Zzz failing", operator=Role.OPERATOR)
    waiting = stack.fresh_tenant("Mmm waiting", operator=Role.READONLY)
    put_run(stack.storage, quiet, "policy.sync", ago=timedelta(hours=2))
    put_run(
        stack.storage, failing, "policy.sync", ago=timedelta(hours=3), outcome=RunOutcome.FAILED
    )
    put_run(stack.storage, failing, "policy.sync", ago=timedelta(days=2))
    put_run(stack.storage, waiting, "backup.capture", ago=timedelta(minutes=25), outcome=None)
    with stack.client("operator") as http:
        reply = http.get("/api/overview")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    order = [i["tenant_id"] for i in body["items"]]
    assert {CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID, quiet, failing, waiting} <= set(order)
    assert order.index(failing) < order.index(waiting) < order.index(quiet)
    rows = {i["tenant_id"]: i for i in body["items"]}
    assert rows[failing]["failed_24h"] == 1
    assert [a["code"] for a in rows[failing]["attention"]] == ["failed_recently", "overdue"]
    assert rows[waiting]["queued"] == 1 and rows[waiting]["queued_too_long"] == 1
    assert rows[waiting]["role"] == "readonly" and rows[waiting]["name"] == "Mmm waiting"
    assert rows[quiet]["attention"] == []
    assert [s["type"] for s in rows[quiet]["last_success"]] == ["policy.sync"]
    assert 7000 < rows[quiet]["last_success"][0]["age_seconds"] < 8000
    assert body["queued_too_long_seconds"] == 600 and body["window_days"] == 7


def test_each_caller_sees_only_their_tenants(stack: Stack) -> None:
    with stack.client("viewer") as http:
        viewer = http.get("/api/overview").json()
    assert CONTOSO_TENANT_ID in {i["tenant_id"] for i in viewer["items"]}
    assert FABRIKAM_TENANT_ID not in {i["tenant_id"] for i in viewer["items"]}
    with stack.client("outsider") as http:
        outsider = http.get("/api/overview")
    assert outsider.status_code == 200 and outsider.json()["items"] == []
    with stack.client() as http:
        anonymous = http.get("/api/overview")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"]


def test_a_tenants_glance_counts_charts_and_durations(stack: Stack) -> None:
    tenant = stack.fresh_tenant("Glance", operator=Role.OPERATOR)
    put_run(
        stack.storage, tenant, "policy.sync", ago=timedelta(hours=1), took=timedelta(seconds=30)
    )
    put_run(
        stack.storage,
        tenant,
        "policy.sync",
        ago=timedelta(days=3),
        took=timedelta(seconds=90),
        outcome=RunOutcome.FAILED,
    )
    put_run(stack.storage, tenant, "backup.capture", ago=timedelta(minutes=1), outcome=None)
    with stack.client("operator") as http:
        reply = http.get(f"/api/tenants/{tenant}/glance")
    assert reply.status_code == 200, reply.text
    glance = reply.json()
    assert glance["now"] == {"queued": 1, "running": 0}
    assert glance["last_24h"]["succeeded"] == 1 and glance["last_24h"]["failed"] == 0
    assert glance["last_7d"]["failed"] == 1
    assert len(glance["daily"]) == 14
    assert sum(sum(d["outcomes"].values()) for d in glance["daily"]) == 2
    [sync] = glance["durations"]
    assert sync == {"type": "policy.sync", "count": 2, "p50_seconds": 30.0, "p95_seconds": 90.0}


def test_the_glance_is_404_outside_my_tenants(stack: Stack) -> None:
    with stack.client("viewer") as http:
        other = http.get(f"/api/tenants/{FABRIKAM_TENANT_ID}/glance")
        junk = http.get("/api/tenants/not-a-guid/glance")
    with stack.client("outsider") as http:
        outsider = http.get(f"/api/tenants/{CONTOSO_TENANT_ID}/glance")
    for reply in (other, junk, outsider):
        assert reply.status_code == 404 and reply.json()["error"]["code"] == "not_found"


def test_the_queue_health_row_reaches_the_page_routes(stack: Stack) -> None:
    table = stack.storage.table(QUEUE_HEALTH_TABLE)
    store = QueueStatusStore(table)
    now = datetime.now(UTC).replace(microsecond=0)
    store.save([QueueStatus(RUNS_QUEUE, 126, 610.0, 0, now)])
    try:
        with stack.client("viewer") as http:
            queue = http.get(f"/api/tenants/{CONTOSO_TENANT_ID}/glance").json()["work_queue"]
            overview = http.get("/api/overview").json()["work_queue"]
        assert queue == overview
        assert queue["depth"] == 126 and queue["oldest_age_seconds"] == 610
        assert queue["behind"] is True and queue["stale"] is False
    finally:
        table.delete_entity(PARTITION, RUNS_QUEUE)


def test_list_rows_carry_the_input_summary_as_data(stack: Stack) -> None:
    tenant = stack.fresh_tenant("Summaries", operator=Role.OPERATOR)
    with stack.client("operator") as http:
        started = http.post(
            f"/api/tenants/{tenant}/operations",
            json={"type": "diagnostics.noop", "inputs": {"label": HOSTILE, "items": 4}},
        )
        assert started.status_code == 202, started.text
        [item] = http.get(f"/api/tenants/{tenant}/operations").json()["items"]
    assert item["input_summary"] == f"{HOSTILE} · 4 items"


def test_the_overview_reads_the_summary_rows_and_says_as_of_when(stack: Stack) -> None:
    tenant = stack.fresh_tenant("Summarised", operator=Role.OPERATOR)
    put_run(stack.storage, tenant, "policy.sync", ago=timedelta(hours=1))  # recomputed
    # Written with its events lost: the row does not know it until a recompute.
    put_run(
        stack.storage,
        tenant,
        "policy.sync",
        ago=timedelta(minutes=30),
        outcome=RunOutcome.FAILED,
        summarise=False,
    )
    with stack.client("operator") as http:
        body = http.get("/api/overview").json()
    [row] = [i for i in body["items"] if i["tenant_id"] == tenant]
    assert row["failed_24h"] == 0 and row["as_of"] <= body["generated_at"]
    assert body["as_of"] <= row["as_of"]  # the oldest row's
    recompute_summary(stack.storage, tenant)
    with stack.client("operator") as http:
        body = http.get("/api/overview").json()
    [row] = [i for i in body["items"] if i["tenant_id"] == tenant]
    assert row["failed_24h"] == 1


def test_a_started_run_reaches_the_overview_through_its_events(stack: Stack) -> None:
    tenant = stack.fresh_tenant("Evented", operator=Role.OPERATOR)
    with stack.client("operator") as http:
        assert http.get("/api/overview").status_code == 200  # the row is computed: empty
        started = http.post(
            f"/api/tenants/{tenant}/operations",
            json={"type": "diagnostics.noop", "inputs": {"label": "evented"}},
        )
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            [row] = [
                i for i in http.get("/api/overview").json()["items"] if i["tenant_id"] == tenant
            ]
            if row["queued"] + row["running"] + len(row["last_success"]) > 0:
                break
            time.sleep(0.2)
    assert row["queued"] + row["running"] + len(row["last_success"]) == 1, row


def test_a_summary_row_of_a_tenant_i_am_not_member_of_never_shows(stack: Stack) -> None:
    recompute_summary(stack.storage, FABRIKAM_TENANT_ID)
    assert FABRIKAM_TENANT_ID in TenantSummaries(
        stack.storage.table(RUNS_TABLE),
        stack.storage.table(TENANT_SUMMARIES_TABLE),
        clock=lambda: datetime.now(UTC),
    ).read([FABRIKAM_TENANT_ID])
    with stack.client("viewer") as http:
        items = http.get("/api/overview").json()["items"]
    assert [i["tenant_id"] for i in items if i["tenant_id"] == FABRIKAM_TENANT_ID] == []
    with stack.client("outsider") as http:
        assert http.get("/api/overview").json()["items"] == []
