"""Run-core benchmark (not a test): our paths against the raw storage operations they need.

Against one private Azurite, in one run, interleaving our path and the raw floor so drift
hits both alike:
  start:   ensure_run + dispatch_or_fail   vs  one 2-entity transaction + one queue send,
           and vs the start's own storage work as raw calls (5-entity transaction + send)
  list:    newest 50 of a 100,000-run tenant vs one raw 50-row page query of that partition
           (and our list on a 100-run tenant, to show cost does not grow with the partition)
Prints medians and ratios. Usage: make bench  (or python -m bench.runs_bench --help)
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.data.tables import TableClient
from azure.storage.queue import QueueClient

from devstack.azurite import start_azurite
from shared.composition.provisioning import provision
from shared.config import RUNS_TABLE
from shared.notifications.emitter import QueueNotifications
from shared.persistence.clients import StorageClients
from shared.run_types.diagnostics import NOOP
from shared.runs.dispatch import QueueDispatcher
from shared.runs.identity import (
    RUN_RANGE,
    identity_hash,
    lock_row_key,
    new_run_id,
    outbox_row_key,
)
from shared.runs.index import index_entities
from shared.runs.model import Initiator, Run, new_run
from shared.runs.outbox import Outbox
from shared.runs.rows import run_to_entity
from shared.runs.run_type import Registry
from shared.runs.service import RunService
from shared.runs.store import RunStore

WHO = Initiator(id="bench-user", name="Bench")


def noop_run(tenant_id: str, inputs: dict[str, Any], now: datetime) -> Run:
    """A new diagnostics.noop run by WHO, built as the service builds one (not stored)."""
    return new_run(
        run_id=new_run_id(now),
        tenant_id=tenant_id,
        run_type="diagnostics.noop",
        inputs=inputs,
        identity_hash=identity_hash(tenant_id, "diagnostics.noop", inputs),
        initiator=WHO,
        now=now,
    )


def timed(action: Callable[[int], object], i: int) -> float:
    started = time.perf_counter()
    action(i)
    return time.perf_counter() - started


def interleave(
    ours: Callable[[int], object], floor: Callable[[int], object], rounds: int
) -> tuple[list[float], list[float]]:
    a, b = interleave_all([ours, floor], rounds)
    return a, b


def interleave_all(actions: Sequence[Callable[[int], object]], rounds: int) -> list[list[float]]:
    """Each action once per round, the first of the round rotating so that none always
    gets the warmer connection (or the quieter machine); the durations per action."""
    times: list[list[float]] = [[] for _ in actions]
    for i in range(rounds):
        for k in range(len(actions)):
            slot = (i + k) % len(actions)
            times[slot].append(timed(actions[slot], i))
    return times


def fill_partition(table, tenant_id: str, count: int) -> None:  # type: ignore[no-untyped-def]
    """Insert `count` realistic run rows, 100 per entity-group transaction."""
    start = datetime.now(UTC) - timedelta(days=365)
    batch = []
    for index in range(count):
        now = start + timedelta(seconds=index * 300)
        inputs = {"items": index, "fail_items": [], "label": "history"}
        run = noop_run(tenant_id, inputs, now)
        batch.append(("create", run_to_entity(run)))
        if len(batch) == 100:
            table.submit_transaction(batch)
            batch = []
        if (index + 1) % 10_000 == 0:
            print(f"  ... {index + 1:,} runs written", flush=True)
    if batch:
        table.submit_transaction(batch)


def raw_start_floor(table: TableClient, queue: QueueClient) -> Callable[[int], None]:
    """The least a start can do: one 2-entity entity-group transaction and one queue send."""
    tenant = str(uuid.uuid4())

    def floor_start(i: int) -> None:
        row = {"PartitionKey": tenant, "RowKey": f"run~{uuid.uuid4().hex}", "X": i}
        lock = {"PartitionKey": tenant, "RowKey": lock_row_key(uuid.uuid4().hex)}
        table.submit_transaction([("create", row), ("create", lock)])
        queue.send_message(_FLOOR_MESSAGE)

    return floor_start


def product_start_floor(table: TableClient, queue: QueueClient) -> Callable[[int], None]:
    """The storage work a start must do, as raw SDK calls: the rows its transaction
    writes (the run as stored, its lock, its type and initiator index rows, its queued
    notice's outbox row), then one queue send; none of our code around them."""
    tenant = str(uuid.uuid4())

    def floor_start(i: int) -> None:
        run = noop_run(tenant, {"label": uuid.uuid4().hex, "round": i}, datetime.now(UTC))
        entity = run_to_entity(run)
        lock = {"PartitionKey": tenant, "RowKey": lock_row_key(run.identity_hash), "X": run.id}
        notice = {"PartitionKey": tenant, "RowKey": outbox_row_key(run.id, "queued")}
        rows = [entity, lock, *index_entities(run, entity), notice]
        table.submit_transaction([("create", row) for row in rows])
        queue.send_message(_FLOOR_MESSAGE)

    return floor_start


_FLOOR_MESSAGE = '{"v":1,"run_id":"x","tenant_id":"y","type":"z"}'


def report(name: str, ours: list[float], floor: list[float], target: float) -> None:
    mo, mf = statistics.median(ours), statistics.median(floor)
    ratio = mo / mf
    verdict = "ok" if ratio <= target else "OVER TARGET"
    print(
        f"{name:<38} ours {mo * 1000:7.2f} ms  floor {mf * 1000:7.2f} ms  "
        f"ratio {ratio:4.2f}x (target <= {target}x) {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=400)
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--lists", type=int, default=200)
    args = parser.parse_args()

    azurite = start_azurite()
    try:
        storage = StorageClients.from_connection_string(azurite.connection_string)
        provision(storage)
        table = storage.table(RUNS_TABLE)
        queue = storage.queue(f"bench{uuid.uuid4().hex[:12]}")
        queue.create_queue()
        notices = storage.queue(f"notices{uuid.uuid4().hex[:12]}")
        notices.create_queue()
        store = RunStore(table)
        service = RunService(
            store,
            QueueDispatcher(queue),
            Registry([NOOP]),
            lease=timedelta(minutes=10),
            stale_queued_after=timedelta(hours=1),
            # As deployed: a person's start commits its queued notice, the relay sends it.
            outbox=Outbox(store, QueueNotifications(notices)),
        )
        tenant = str(uuid.uuid4())

        distinct = itertools.count()

        def ours_start(_: int) -> None:
            inputs = {"label": f"bench-{next(distinct)}"}
            run, created = service.ensure_run(tenant, "diagnostics.noop", inputs, WHO)
            assert created
            service.dispatch_or_fail(run)

        starts = [ours_start, raw_start_floor(table, queue), product_start_floor(table, queue)]
        interleave_all(starts, 20)  # warm-up
        ours, floor, product = interleave_all(starts, args.starts)
        report("start (ensure_run + dispatch_or_fail)", ours, floor, 1.2)
        report("start vs txn(5) + send", ours, product, 1.2)

        big, small = str(uuid.uuid4()), str(uuid.uuid4())
        t0 = time.perf_counter()
        fill_partition(table, big, args.history)
        fill_partition(table, small, 100)
        print(f"(filled {args.history:,} runs in {time.perf_counter() - t0:.1f} s)")

        def raw_page(_: int) -> None:
            pages = table.query_entities(
                "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
                parameters={"pk": big, "lo": RUN_RANGE[0], "hi": RUN_RANGE[1]},
                results_per_page=50,
            ).by_page()
            list(next(pages))

        ours_list, floor_list = interleave(
            lambda _: service.list(big, limit=50), raw_page, args.lists
        )
        report(f"list newest 50 of {args.history:,}", ours_list, floor_list, 1.2)
        small_list, big_list = interleave(
            lambda _: service.list(small, limit=50),
            lambda _: service.list(big, limit=50),
            args.lists,
        )
        report(f"list: {args.history:,}-run vs 100-run tenant", big_list, small_list, 1.2)
    finally:
        azurite.stop()


if __name__ == "__main__":
    main()
