"""Run-type benchmark (not a test): runs per minute of policy.sync, backup.capture and
directory_groups.sync on the demo tenants, and storage round trips per captured policy,
with the write path as it was (one transaction per row, every backup payload a blob)
and as it is (100 rows per transaction, small payloads inline), in one run.

A private Azurite and LocalCloud, the demo tenants seeded as `make dev` seeds them, and
the composition root's run types. "Before" is the same code with RowBatch size 1 and
inline backup payloads off, which is exactly the old write path; both modes run
interleaved per round so drift hits both. directory_groups.sync has no "before": it
already wrote 100 groups per transaction. Storage requests are counted on the process's
one storage session (Graph goes through httpx and is not counted).
Usage: make bench-run-types  (or python -m bench.run_types_bench --help)
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

from devstack.stack import standalone_stack
from devstack.storage_requests import storage_requests
from localcloud.seed import CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID
from shared.backups.store import BackupStore
from shared.composition.services import services
from shared.config import (
    BACKUP_PAYLOADS_CONTAINER,
    BACKUP_SETS_TABLE,
    POLICY_INVENTORY_TABLE,
    POLICY_PAYLOADS_CONTAINER,
    RUNS_TABLE,
)
from shared.persistence.blobs import JsonBlobs
from shared.persistence.clients import StorageClients
from shared.policies.inventory import PolicyInventoryStore
from shared.run_types.catalogue import build_registry
from shared.run_types.run_type_deps import RunTypeDeps
from shared.runs.dispatch import QueueDispatcher
from shared.runs.model import Initiator, Run
from shared.runs.service import RunService
from shared.runs.store import RunStore
from shared.runs.worker import RetryPolicy, RunWorker

WHO = Initiator(id="bench-user", name="Bench")
TYPES = ("policy.sync", "backup.capture", "directory_groups.sync")
TENANTS = {"Contoso": CONTOSO_TENANT_ID, "Fabrikam": FABRIKAM_TENANT_ID}


class Mode:
    """One write path: its run service and worker, and a counter of storage requests."""

    def __init__(self, name: str, storage: StorageClients, deps: RunTypeDeps) -> None:
        self.name = name
        registry = build_registry(include_diagnostics=True, deps=deps)
        queue = storage.queue(f"bench{uuid.uuid4().hex[:12]}")
        queue.create_queue()
        self.queue = queue
        self.service = RunService(
            RunStore(storage.table(RUNS_TABLE)),
            QueueDispatcher(queue),
            registry,
            lease=timedelta(minutes=10),
            stale_queued_after=timedelta(hours=1),
        )
        self.worker = RunWorker(
            self.service, registry, retry=RetryPolicy(max_deliveries=5), progress_interval=2.0
        )

    def run(self, tenant: str, run_type: str, label: str) -> Run:
        inputs: dict[str, Any] = {"label": label} if run_type == "backup.capture" else {}
        run, _ = self.service.ensure_run(tenant, run_type, inputs, WHO)
        self.service.dispatch_or_fail(run)
        message = next(iter(self.queue.receive_messages(max_messages=1)))
        ended = self.worker.process(message.content, message.dequeue_count or 1)
        self.queue.delete_message(message)
        if ended is None or ended.outcome.value != "succeeded":
            raise RuntimeError(f"{run_type} on {tenant} did not succeed: {ended}")
        return ended


def unbatched(deps: RunTypeDeps, storage: StorageClients) -> RunTypeDeps:
    """The old write path: a transaction per row, every backup payload in a blob."""
    return dataclasses.replace(
        deps,
        inventory=PolicyInventoryStore(
            storage.table(POLICY_INVENTORY_TABLE),
            JsonBlobs(storage.container(POLICY_PAYLOADS_CONTAINER)),
            batch_size=1,
        ),
        backups=BackupStore(
            storage.table(BACKUP_SETS_TABLE),
            JsonBlobs(storage.container(BACKUP_PAYLOADS_CONTAINER)),
            batch_size=1,
            inline_payloads=False,
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs per type, tenant and mode")
    args = parser.parse_args()
    with standalone_stack():
        measure(args.rounds)


def measure(rounds: int) -> None:
    built = services()
    storage = built.storage
    modes = [
        Mode("before", storage, unbatched(built.operations, storage)),
        Mode("after", storage, built.operations),
    ]
    # The lifecycle's own requests (start, claim, finish), to subtract per run.
    with storage_requests(storage) as lifecycle:
        modes[1].run(CONTOSO_TENANT_ID, "diagnostics.noop", "")
    print(f"run lifecycle alone: {len(lifecycle)} storage requests (diagnostics.noop)")
    print(f"{rounds} runs per type, tenant and mode, interleaved; medians\n")
    print(
        f"{'run type':<22} {'tenant':<9} {'runs/min before':>16} {'after':>8} "
        f"{'requests/item before':>23} {'after':>6}"
    )
    for run_type in TYPES:
        for tenant_name, tenant in TENANTS.items():
            seconds: dict[str, list[float]] = {m.name: [] for m in modes}
            per_item: dict[str, list[float]] = {m.name: [] for m in modes}
            for index in range(rounds):
                order = modes if index % 2 else modes[::-1]
                for mode in order:
                    with storage_requests(storage) as requests:
                        started = time.perf_counter()
                        ended = mode.run(tenant, run_type, f"bench-{uuid.uuid4().hex[:8]}")
                        seconds[mode.name].append(time.perf_counter() - started)
                    items = max(1, ended.summary_counts.get("succeeded", 0))
                    per_item[mode.name].append((len(requests) - len(lifecycle)) / items)
            rate = {name: 60 / statistics.median(values) for name, values in seconds.items()}
            trips = {name: statistics.median(values) for name, values in per_item.items()}
            before = "-" if run_type == "directory_groups.sync" else f"{rate['before']:.1f}"
            print(
                f"{run_type:<22} {tenant_name:<9} {before:>16} {rate['after']:>8.1f} "
                f"{trips['before']:>23.2f} {trips['after']:>6.2f}"
            )


if __name__ == "__main__":
    main()
