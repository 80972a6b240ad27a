"""Overview benchmark (not a test): the all-tenants overview for a caller with 200 tenants
against one tenant's newest-50 list, both over HTTP, side by side in one run.

A private Azurite, a LocalCloud and the real function_app in DevHost (devstack.stack), as
bench/http_bench.py sets them up. Each of the caller's tenants holds a week of finished
runs; the list tenant holds 1,000 runs. The overview reads the caller's summary rows in
one partition query (shared.runs.summaries); the rows are written first by the timer's
sweep ("summaries warm") and the read side's caches are off ("caches cold"). Rounds
alternate overview and list so drift hits both. Also measured: one recompute of a
tenant's summary (what each run event and the sweep cost per tenant) against the same
newest-50 list read in process, and the one overview that finds every summary missing
(a new deployment: recomputed on read, eight tenants at a time, then warm). The issue's target for
the overview is at most 5x the list. Usage: make bench-overview
"""

from __future__ import annotations

import argparse
import statistics
import uuid
from datetime import UTC, datetime, timedelta

from azure.data.tables import TableClient

from bench.runs_bench import fill_partition, interleave, timed
from devstack.stack import Stack, standalone_stack
from shared.auth.membership import Role
from shared.composition.reads import api_services
from shared.config import RUNS_TABLE, TENANT_SUMMARIES_TABLE
from shared.runs import model
from shared.runs.identity import identity_hash, new_run_id
from shared.runs.model import Initiator, RunOutcome
from shared.runs.rows import run_to_entity
from shared.runs.summaries import TenantSummaries

TARGET = 5.0
WHO = Initiator(id="bench", name="Bench")
TYPES = ("policy.sync", "backup.capture", "directory_groups.sync")
OUTCOMES = (RunOutcome.SUCCEEDED,) * 6 + (RunOutcome.FAILED, RunOutcome.PARTIALLY_SUCCEEDED)


def fill_week(table: TableClient, tenant_id: str, count: int) -> None:
    """`count` finished runs spread over the last 7 days, 100 per transaction."""
    now = datetime.now(UTC)
    batch = []
    for index in range(count):
        created = now - timedelta(days=7) * (index + 1) / (count + 1)
        run_type = TYPES[index % len(TYPES)]
        inputs = {"n": index}
        run = model.new_run(
            run_id=new_run_id(created),
            tenant_id=tenant_id,
            run_type=run_type,
            inputs=inputs,
            identity_hash=identity_hash(tenant_id, run_type, inputs),
            initiator=WHO,
            now=created,
            input_summary="bench",
        )
        run = model.claim(run, now=created, lease=timedelta(minutes=10))
        run = model.finish(
            run, outcome=OUTCOMES[index % len(OUTCOMES)], now=created + timedelta(seconds=40)
        )
        batch.append(("create", run_to_entity(run)))
        if len(batch) == 100:
            table.submit_transaction(batch)
            batch = []
    if batch:
        table.submit_transaction(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200, help="tenants the caller sees")
    parser.add_argument("--runs", type=int, default=40, help="runs per tenant in the week")
    parser.add_argument("--rounds", type=int, default=40, help="interleaved rounds per mode")
    args = parser.parse_args()
    with standalone_stack() as stack:
        run(stack, args)


def run(stack: Stack, args: argparse.Namespace) -> None:
    table = stack.storage.table(RUNS_TABLE)
    print(f"filling {args.tenants} tenants x {args.runs} runs in the last week ...", flush=True)
    tenants = []
    for n in range(args.tenants):
        tenant = stack.fresh_tenant(f"Bench tenant {n:03d} {uuid.uuid4().hex[:4]}",
                                    operator=Role.OPERATOR)  # fmt: skip
        fill_week(table, tenant, args.runs)
        tenants.append(tenant)
    list_tenant = stack.fresh_tenant("Bench list tenant", operator=Role.OPERATOR)
    fill_partition(table, list_tenant, 1000)
    seen = args.tenants + 3  # + Contoso, Fabrikam (seeded) and the list tenant
    token = stack.token("operator")
    with stack.client(token=token) as http:

        def overview(_: int) -> None:
            got = http.get("/api/overview")
            if got.status_code != 200 or len(got.json()["items"]) != seen:
                raise RuntimeError(f"overview answered {got.status_code}: {got.text[:200]}")

        def newest_50(_: int) -> None:
            got = http.get(f"/api/tenants/{list_tenant}/operations", params={"limit": 50})
            if got.status_code != 200 or len(got.json()["items"]) != 50:
                raise RuntimeError(f"list answered {got.status_code}: {got.text[:200]}")

        def recompute(_: int) -> None:
            summaries.recompute(tenants[0])

        def newest_50_in_process(_: int) -> None:
            items, _next = api.runs.list(list_tenant, limit=50)
            if len(items) != 50:
                raise RuntimeError(f"list gave {len(items)} runs")

        api = api_services()  # the host runs in this process
        summaries = TenantSummaries(
            table, stack.storage.table(TENANT_SUMMARIES_TABLE), clock=lambda: datetime.now(UTC)
        )
        for row in summaries.stored():  # cold: as a new deployment finds them
            summaries.remove(row)
        api.monitor.cache_seconds = 0.0  # the glance's few-seconds cache: cold too
        _, floor = interleave(newest_50, newest_50, 5)  # warm-up: connections, memberships
        cold = timed(overview, 0)
        print(
            f"summaries missing (first read after a deployment, recomputed on read): "
            f"one overview {cold * 1000:.0f} ms = {cold / statistics.median(floor):.1f}x "
            f"the newest-50 list",
            flush=True,
        )
        interleave(overview, newest_50, 5)  # the rows that read wrote are now warm
        ours, floor = interleave(overview, newest_50, args.rounds)
        o, f = statistics.median(ours), statistics.median(floor)
        verdict = "OK" if o / f <= TARGET else "OVER"
        print(
            f"summaries warm, caches cold:\n  overview of {seen} tenants p50 {o * 1000:.1f} ms "
            f"(p95 {sorted(ours)[int(0.95 * len(ours)) - 1] * 1000:.1f} ms); "
            f"newest-50 list p50 {f * 1000:.1f} ms; ratio {o / f:.2f}x "
            f"(target <= {TARGET:.0f}x: {verdict})",
            flush=True,
        )
        spent, listed = interleave(recompute, newest_50_in_process, args.rounds)
        one, listing = statistics.median(spent), statistics.median(listed)
        print(
            f"one recompute ({args.runs} runs in the week) p50 {one * 1000:.1f} ms; "
            f"newest-50 list in process p50 {listing * 1000:.1f} ms; "
            f"ratio {one / listing:.2f}x (to the list over HTTP: {one / f:.2f}x)",
            flush=True,
        )


if __name__ == "__main__":
    main()
