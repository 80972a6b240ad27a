"""Overview benchmark (not a test): the all-tenants overview for a caller with 200 tenants
against one tenant's newest-50 list, both over HTTP, side by side in one run.

A private Azurite, a LocalCloud and the real function_app in DevHost (devstack.stack), as
bench/http_bench.py sets them up. Each of the caller's tenants holds a week of finished
runs (the overview reads each tenant's lock range and week, bounded, 8 tenants at a time);
the list tenant holds 1,000 runs. Rounds alternate overview and list so drift hits both.
Measured twice: with the overview's few-seconds cache off (every request reads all 200
tenants: the worst case) and on (what a room of polling pages costs). Prints medians and
the ratio; the issue's target is at most 5x. Usage: make bench-overview
"""

from __future__ import annotations

import argparse
import statistics
import uuid
from datetime import UTC, datetime, timedelta

from azure.data.tables import TableClient

from bench.runs_bench import fill_partition, interleave
from devstack.stack import Stack, standalone_stack
from shared.auth.membership import Role
from shared.composition.reads import api_services
from shared.config import RUNS_TABLE
from shared.runs import model
from shared.runs.identity import identity_hash, new_run_id
from shared.runs.model import Initiator, RunOutcome
from shared.runs.rows import run_to_entity

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
    for n in range(args.tenants):
        tenant = stack.fresh_tenant(f"Bench tenant {n:03d} {uuid.uuid4().hex[:4]}",
                                    operator=Role.OPERATOR)  # fmt: skip
        fill_week(table, tenant, args.runs)
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

        monitor = api_services().monitor  # the host runs in this process
        for mode, cache_seconds in (("cache off (every request reads every tenant)", 0.0),
                                    ("cache on (5 s, as deployed)", 5.0)):  # fmt: skip
            monitor.cache_seconds = cache_seconds
            interleave(overview, newest_50, 5)  # warm-up: connections, membership cache
            ours, floor = interleave(overview, newest_50, args.rounds)
            o, f = statistics.median(ours), statistics.median(floor)
            verdict = "OK" if o / f <= TARGET else "OVER"
            print(
                f"{mode}:\n  overview of {seen} tenants p50 {o * 1000:.1f} ms "
                f"(p95 {sorted(ours)[int(0.95 * len(ours)) - 1] * 1000:.1f} ms); "
                f"newest-50 list p50 {f * 1000:.1f} ms; ratio {o / f:.2f}x "
                f"(target <= {TARGET:.0f}x: {verdict})",
                flush=True,
            )


if __name__ == "__main__":
    main()
