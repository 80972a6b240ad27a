"""Capacity model (not a test): at what start rate each platform limit binds, per tenant and
per app, and the design step that lifts it.

Pure arithmetic over the constants below, so the table in docs/capacity.md can be
regenerated when a limit or a per-run cost changes:

    python -m bench.capacity_model              # the markdown table
    python -m bench.capacity_model --policies 1500 --run-seconds 120

Limits come from Microsoft's published targets (named beside each constant) and host.json;
per-run costs come from the run core as built (docs/capacity.md, "What one run costs"). A
break point is a start rate: runs per second that, sustained, reach the limit.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from pathlib import Path

from devhost.host_config import HostConfig

HOST_JSON = Path(__file__).resolve().parent.parent / "host.json"


def _queue_slots_per_instance() -> int:
    """Queue deliveries one instance runs at once, as host.json configures the trigger."""
    queues = HostConfig.load(HOST_JSON).queues
    return queues.batch_size + queues.new_batch_threshold


@dataclass(frozen=True)
class Limits:
    # Table Storage scalability targets (learn.microsoft.com/azure/storage/tables/
    # storage-performance-checklist; PLATFORM.md section C).
    partition_entities_per_s: float = 2_000
    account_requests_per_s: float = 20_000
    # Queue Storage: one queue processes up to 2,000 messages/s (1 KiB messages).
    queue_messages_per_s: float = 2_000
    # Flex Consumption: maximumInstanceCount 40-1,000 (default 100); per instance the queue
    # trigger runs batchSize + newBatchThreshold deliveries at once (read from host.json).
    max_instances: int = 100
    max_instances_ceiling: int = 1_000
    deliveries_per_instance: int = field(default_factory=_queue_slots_per_instance)
    # Graph, Intune device configuration service (throttling-limits: "Intune device
    # configuration service limits"): any request 1,000 per 20 s per app per tenant,
    # writes (POST/PUT/PATCH/DELETE) 100 per 20 s per app per tenant.
    graph_requests_per_s_per_tenant: float = 1_000 / 20
    graph_writes_per_s_per_tenant: float = 100 / 20


@dataclass(frozen=True)
class RunCost:
    """What one run of a type costs, end to end (lifecycle + its own work)."""

    name: str
    # Table entities written or read in the tenant's OperationRuns partition.
    run_partition_entities: float
    # Entities the run's own work writes in the tenant's busiest data partition.
    work_partition_entities: float
    # Storage requests of every kind (table transactions, queue and blob operations).
    storage_requests: float
    # Messages through the work queue and the notifications queue (send counts once).
    work_queue_messages: float
    notification_messages: float
    graph_requests: float
    graph_writes: float
    # How long one run occupies a worker slot (seconds), for the instance limit.
    seconds: float


# The run lifecycle in the tenant's OperationRuns partition, as built: start writes run +
# lock + three index rows (outcome, type, initiator) in one transaction; claim reads the run
# and swaps it; finish rewrites run and index rows and deletes the lock in one transaction.
START_ENTITIES = 2 + 3
CLAIM_ENTITIES = 1 + 1
FINISH_ENTITIES = 2 + 3
LIFECYCLE_ENTITIES = START_ENTITIES + CLAIM_ENTITIES + FINISH_ENTITIES
# Storage requests of one run's lifecycle: start transaction, work send, queued event send;
# receive, claim read, claim CAS, finish transaction, message delete, finished event send;
# the notifications worker's receive + delete for each of the two events.
LIFECYCLE_REQUESTS = 3 + 6 + 2 * 2


def run_costs(policies: int, groups: int, run_seconds: float) -> list[RunCost]:
    """Per-run costs of the run types for a tenant of the given size."""
    group_batches = math.ceil(groups / 100)
    policy_batches = math.ceil(policies / 100)
    policy_reads = 3 + policies  # three lists, then one assignments read per policy
    return [
        RunCost("diagnostics.noop", LIFECYCLE_ENTITIES, 0, LIFECYCLE_REQUESTS, 1, 2, 0, 0, 0.05),
        RunCost(
            "directory_groups.sync",
            LIFECYCLE_ENTITIES,
            groups,
            LIFECYCLE_REQUESTS + group_batches,
            1,
            2,
            math.ceil(groups / 999),
            0,
            run_seconds,
        ),
        RunCost(
            "policy.sync",
            LIFECYCLE_ENTITIES,
            policies,
            LIFECYCLE_REQUESTS + policy_batches,
            1,
            2,
            policy_reads,
            0,
            run_seconds,
        ),
        RunCost(
            "backup.capture",
            LIFECYCLE_ENTITIES,
            policies + 1,
            LIFECYCLE_REQUESTS + policy_batches + 1,
            1,
            2,
            policy_reads,
            0,
            run_seconds,
        ),
        RunCost(
            "restore.execute",
            LIFECYCLE_ENTITIES,
            3 * policies,
            LIFECYCLE_REQUESTS + 3 * policies,
            1,
            2,
            2 * policies,
            2 * policies,
            run_seconds,
        ),
    ]


@dataclass(frozen=True)
class BreakPoint:
    limit: str
    scope: str  # "tenant" or "app"
    starts_per_s: float
    lifted_by: str


def break_points(cost: RunCost, limits: Limits) -> list[BreakPoint]:
    """Each limit as the sustained start rate of this run type that reaches it."""

    def rate(capacity: float, per_run: float) -> float:
        return math.inf if per_run <= 0 else capacity / per_run

    busiest_partition = max(cost.run_partition_entities, cost.work_partition_entities)
    concurrent = limits.max_instances * limits.deliveries_per_instance
    ceiling = limits.max_instances_ceiling * limits.deliveries_per_instance
    return [
        BreakPoint(
            "Graph requests per app per tenant",
            "tenant",
            rate(limits.graph_requests_per_s_per_tenant, cost.graph_requests),
            "none within one app registration: runs of a tenant slow down (Retry-After); "
            "serialise big runs per tenant",
        ),
        BreakPoint(
            "Graph writes per app per tenant",
            "tenant",
            rate(limits.graph_writes_per_s_per_tenant, cost.graph_writes),
            "as above; restores are paced by Intune, not by us",
        ),
        BreakPoint(
            "Table partition (2,000 entities/s)",
            "tenant",
            rate(limits.partition_entities_per_s, busiest_partition),
            "batches of 100 already; then split the data partition (tenant + shard suffix)",
        ),
        BreakPoint(
            f"Flex instances ({limits.max_instances} x {limits.deliveries_per_instance} slots)",
            "app",
            rate(concurrent, cost.seconds),
            f"raise maximumInstanceCount (to {limits.max_instances_ceiling}: "
            f"{rate(ceiling, cost.seconds):,.0f}/s), then a second app",
        ),
        BreakPoint(
            "Work queue (2,000 messages/s)",
            "app",
            rate(limits.queue_messages_per_s, cost.work_queue_messages),
            "queue sharding by tenant (hash -> operation-runs-N, one trigger each)",
        ),
        BreakPoint(
            "Notifications queue (2,000 messages/s)",
            "app",
            rate(limits.queue_messages_per_s, cost.notification_messages),
            "queue sharding by initiator",
        ),
        BreakPoint(
            "Storage account (20,000 requests/s)",
            "app",
            rate(limits.account_requests_per_s, cost.storage_requests),
            "more storage accounts behind a tenant-to-account map",
        ),
    ]


def fmt_rate(value: float) -> str:
    if math.isinf(value):
        return "never"
    if value >= 100:
        return f"{value:,.0f}/s"
    if value >= 1:
        return f"{value:.1f}/s"
    return f"{value * 60:.1f}/min"


def table(costs: list[RunCost], limits: Limits) -> str:
    lines = [
        "| run type | binds first per tenant | at | binds first per app | at | lifted by |",
        "|---|---|---|---|---|---|",
    ]
    for cost in costs:
        points = break_points(cost, limits)
        tenant = min((p for p in points if p.scope == "tenant"), key=lambda p: p.starts_per_s)
        app = min((p for p in points if p.scope == "app"), key=lambda p: p.starts_per_s)
        lines.append(
            f"| `{cost.name}` | {tenant.limit} | {fmt_rate(tenant.starts_per_s)} "
            f"| {app.limit} | {fmt_rate(app.starts_per_s)} | {app.lifted_by} |"
        )
    return "\n".join(lines)


def detail(costs: list[RunCost], limits: Limits) -> str:
    names = [p.limit for p in break_points(costs[0], limits)]
    header = "| limit | scope | " + " | ".join(f"`{c.name}`" for c in costs) + " |"
    lines = [header, "|---|---|" + "---|" * len(costs)]
    for index, name in enumerate(names):
        cells = [break_points(c, limits)[index] for c in costs]
        lines.append(
            f"| {name} | {cells[0].scope} | "
            + " | ".join(fmt_rate(p.starts_per_s) for p in cells)
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--policies", type=int, default=500, help="policies per tenant")
    parser.add_argument("--groups", type=int, default=10_000, help="groups per tenant")
    parser.add_argument("--run-seconds", type=float, default=60.0, help="typical run length")
    parser.add_argument("--instances", type=int, default=Limits.max_instances)
    args = parser.parse_args()
    limits = Limits(max_instances=args.instances)
    costs = run_costs(args.policies, args.groups, args.run_seconds)
    print(
        f"Tenant: {args.policies:,} policies, {args.groups:,} groups; "
        f"runs of {args.run_seconds:g} s; maximumInstanceCount {args.instances}.\n"
    )
    print("Start rate (sustained) at which each limit binds:\n")
    print(detail(costs, limits))
    print("\nFirst to bind:\n")
    print(table(costs, limits))


if __name__ == "__main__":
    main()
