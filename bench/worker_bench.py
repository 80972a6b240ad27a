"""Worker benchmark (not a test): one queue delivery of `diagnostics.noop` through our
worker against the raw storage operations it needs, in one run on one private Azurite.

  ours:  receive + RunWorker.process (claim, handler, finish) + delete message
  floor: receive + read run + CAS to running + 2-entity terminal transaction + delete

Both sides are pre-filled with queued runs outside the timing, then measured interleaved so
drift hits both alike. Events are off on both sides (the run_finished notice is one more
queue send in production, sent by either). Prints medians and the ratio.
Usage: python -m bench.worker_bench [--rounds N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta

from azure.core import MatchConditions
from azure.data.tables import TableClient, UpdateMode
from azure.storage.queue import QueueClient

from bench.runs_bench import WHO, interleave, noop_run, report
from devstack.azurite import start_azurite
from shared.composition.provisioning import provision
from shared.config import RUNS_TABLE
from shared.persistence.clients import StorageClients
from shared.run_types.diagnostics import NOOP
from shared.runs.dispatch import QueueDispatcher
from shared.runs.identity import lock_row_key, run_row_key
from shared.runs.rows import run_to_entity
from shared.runs.run_type import Registry
from shared.runs.service import RunService
from shared.runs.store import RunStore
from shared.runs.worker import RetryPolicy, RunWorker

TARGET = 1.3


def fill_floor(table: TableClient, queue: QueueClient, tenant: str, count: int) -> dict[str, str]:
    """Queued runs for the floor: run + lock rows (lock ETags kept) and one message each."""
    lock_etags: dict[str, str] = {}
    for index in range(count):
        now = datetime.now(UTC)
        inputs = {"label": f"floor-{index}"}
        run = noop_run(tenant, inputs, now)
        lock = {"PartitionKey": tenant, "RowKey": lock_row_key(run.identity_hash), "RunId": run.id}
        results = table.submit_transaction([("create", run_to_entity(run)), ("create", lock)])
        lock_etags[run.id] = results[1]["etag"]
        queue.send_message(f'{{"run_id":"{run.id}","hash":"{run.identity_hash}"}}')
    return lock_etags


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    warmup = 20
    azurite = start_azurite()
    try:
        storage = StorageClients.from_connection_string(azurite.connection_string)
        provision(storage)
        table = storage.table(RUNS_TABLE)
        ours_queue = storage.queue(f"benchw{uuid.uuid4().hex[:12]}")
        floor_queue = storage.queue(f"benchf{uuid.uuid4().hex[:12]}")
        ours_queue.create_queue()
        floor_queue.create_queue()
        registry = Registry([NOOP])
        service = RunService(
            RunStore(table),
            QueueDispatcher(ours_queue),
            registry,
            lease=timedelta(minutes=10),
            stale_queued_after=timedelta(hours=1),
        )
        worker = RunWorker(
            service, registry, retry=RetryPolicy(max_deliveries=5), progress_interval=2.0
        )
        ours_tenant, floor_tenant = str(uuid.uuid4()), str(uuid.uuid4())
        total = warmup + args.rounds
        labels = itertools.count()
        for _ in range(total):
            run, _ = service.ensure_run(
                ours_tenant, "diagnostics.noop", {"label": f"w-{next(labels)}"}, WHO
            )
            service.dispatch_or_fail(run)
        lock_etags = fill_floor(table, floor_queue, floor_tenant, total)
        print(f"({total} queued runs on each side)")

        def ours(_: int) -> None:
            message = next(iter(ours_queue.receive_messages(max_messages=1)))
            ended = worker.process(message.content, message.dequeue_count or 1)
            assert ended is not None and ended.is_terminal
            ours_queue.delete_message(message)

        def floor(_: int) -> None:
            message = next(iter(floor_queue.receive_messages(max_messages=1)))
            body = json.loads(message.content)
            key = run_row_key(body["run_id"])
            row = table.get_entity(floor_tenant, key)
            row["Status"] = "running"
            claimed = table.update_entity(
                row,
                mode=UpdateMode.REPLACE,
                etag=row.metadata["etag"],
                match_condition=MatchConditions.IfNotModified,
            )
            row["Status"] = "completed"
            table.submit_transaction(
                [
                    (
                        "update",
                        row,
                        {
                            "mode": UpdateMode.REPLACE,
                            "etag": claimed["etag"],
                            "match_condition": MatchConditions.IfNotModified,
                        },
                    ),
                    (
                        "delete",
                        {"PartitionKey": floor_tenant, "RowKey": lock_row_key(body["hash"])},
                        {
                            "etag": lock_etags[body["run_id"]],
                            "match_condition": MatchConditions.IfNotModified,
                        },
                    ),
                ]
            )
            floor_queue.delete_message(message)

        interleave(ours, floor, warmup)
        mine, raw = interleave(ours, floor, args.rounds)
        report("worker: diagnostics.noop delivery", mine, raw, TARGET)
    finally:
        azurite.stop()


if __name__ == "__main__":
    main()
