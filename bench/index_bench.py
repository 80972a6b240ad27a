"""Run-index benchmark (not a test): entities examined per filtered newest-50 call, and the
same calls timed on Azurite, index walk against today's partition scan, in one run.

Entities examined are counted by ScanCountingTable, an in-memory table with Table
Storage's scan semantics for the queries RunStore sends: a query seeks to its RowKey
range, examines rows in key order, at most 1,000 per response, and returns the rows that
pass its other filters, until it has `$top` of them. The real RunStore runs on top of it,
on a 100,000-run tenant where the filtered value has 0%, 0.1%, 1% and 50% selectivity;
the scan is the same store before the tenant's index is ready (`scan_plan`).

Then the same calls on a private Azurite (--azurite-runs per tenant, smaller: filling
Azurite is slow), medians of interleaved rounds. Usage: make bench-index
"""

from __future__ import annotations

import argparse
import bisect
import statistics
import time
import uuid
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient

from bench.runs_bench import interleave
from devstack.azurite import start_azurite
from shared.composition.provisioning import provision
from shared.config import RUNS_TABLE
from shared.persistence.clients import StorageClients
from shared.runs.identity import identity_hash, new_run_id
from shared.runs.index import index_entities
from shared.runs.listing import RunFilter
from shared.runs.model import Initiator, Run, RunOutcome, finish, new_run
from shared.runs.rows import SUMMARY_PROPERTIES, run_to_entity
from shared.runs.store import RunStore

ME = Initiator(id="me-0000", name="Me")
OTHERS = Initiator(id="someone-else", name="Someone")
PAGE = 50
RESPONSE_ROWS = 1000  # Table Storage examines/returns at most this many per response
SELECTIVITIES = (0.0, 0.001, 0.01, 0.5)


class ScanCountingTable:
    """Just enough of TableClient for RunStore's reads, counting entities examined."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Mapping[str, Any]]] = {}
        self._keys: dict[str, list[str]] = {}
        self.examined = 0
        self.responses = 0

    def put(self, row: Mapping[str, Any]) -> None:
        self._rows.setdefault(row["PartitionKey"], {})[row["RowKey"]] = row
        self._keys.pop(row["PartitionKey"], None)

    def _sorted(self, partition: str) -> list[str]:
        if partition not in self._keys:
            self._keys[partition] = sorted(self._rows.get(partition, {}))
        return self._keys[partition]

    def get_entity(self, partition_key: str, row_key: str, **_: Any) -> Mapping[str, Any]:
        self.examined += 1
        self.responses += 1
        try:
            return self._rows[partition_key][row_key]
        except KeyError:
            raise ResourceNotFoundError("not found") from None

    def query_entities(
        self,
        query_filter: str,
        *,
        parameters: dict[str, Any],
        results_per_page: int | None = None,
        select: Any = None,
    ) -> Iterator[Mapping[str, Any]]:
        clauses = [c.split(" ") for c in query_filter.split(" and ")]
        bounds: dict[str, str] = {}
        others: list[tuple[str, Any]] = []
        partition = ""
        for prop, op, name in clauses:
            value = parameters[name[1:]]
            if prop == "PartitionKey":
                partition = value
            elif prop == "RowKey":
                bounds[op] = value
            else:
                others.append((prop, value))
        top = results_per_page or RESPONSE_ROWS
        return self._scan(partition, bounds, others, top)

    def _scan(
        self, partition: str, bounds: dict[str, str], others: list[tuple[str, Any]], top: int
    ) -> Iterator[Mapping[str, Any]]:
        keys = self._sorted(partition)
        rows = self._rows.get(partition, {})
        if "gt" in bounds:
            position = bisect.bisect_right(keys, bounds["gt"])
        else:
            position = bisect.bisect_left(keys, bounds.get("ge", ""))
        high = bounds.get("lt")
        examined_in_response, matched_in_response = 0, 0
        self.responses += 1
        while position < len(keys) and (high is None or keys[position] < high):
            if examined_in_response == RESPONSE_ROWS or matched_in_response == top:
                self.responses += 1  # a continuation: the next response
                examined_in_response, matched_in_response = 0, 0
            row = rows[keys[position]]
            position += 1
            self.examined += 1
            examined_in_response += 1
            if all(str(row.get(prop)) == str(value) for prop, value in others):
                matched_in_response += 1
                yield row


class ScanStore(RunStore):
    """The store as a tenant whose index is not ready yet sees it: today's scan."""

    def _index_ready(self, tenant_id: str) -> bool:
        return False


class IndexStore(RunStore):
    def _index_ready(self, tenant_id: str) -> bool:
        return True


def history(tenant_id: str, count: int, selectivity: float) -> Iterator[Run]:
    """`count` ended runs, newest last; a `selectivity` share failed and were started by
    ME, evenly spread, the rest succeeded and were started by someone else."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    every = round(1 / selectivity) if selectivity else 0
    for index in range(count):
        now = start + timedelta(seconds=index * 60)
        chosen = bool(every) and index % every == 0
        run = new_run(
            run_id=new_run_id(now),
            tenant_id=tenant_id,
            run_type="diagnostics.noop",
            inputs={},
            identity_hash=identity_hash(tenant_id, "x", {"i": index}),
            initiator=ME if chosen else OTHERS,
            now=now,
        )
        outcome = RunOutcome.FAILED if chosen else RunOutcome.SUCCEEDED
        yield finish(run, outcome=outcome, now=now + timedelta(seconds=5))


def rows_of(run: Run) -> list[Mapping[str, Any]]:
    entity = run_to_entity(run)
    summary = {p: entity[p] for p in SUMMARY_PROPERTIES if p in entity}
    # Index rows share one summary mapping: 100,000 runs fit in memory.
    return [summary] + [
        ChainMap({"RowKey": row["RowKey"], "Kind": "index"}, summary)
        for row in index_entities(run, entity)
    ]


FILTERS = {
    "outcome=failed": RunFilter(outcome=RunOutcome.FAILED),
    "initiator=me": RunFilter(initiator_id=ME.id),
    "failed + me": RunFilter(outcome=RunOutcome.FAILED, initiator_id=ME.id),
}


def examined(runs: int) -> None:
    print(f"entities examined per filtered newest-{PAGE} call, {runs:,}-run tenant")
    print(f"{'filter':<16} {'selectivity':>11} {'returned':>9} {'index':>8} {'scan':>9} "
          f"{'index/returned':>15} {'responses idx/scan':>19}")  # fmt: skip
    for selectivity in SELECTIVITIES:
        table = ScanCountingTable()
        tenant = str(uuid.uuid4())
        for run in history(tenant, runs, selectivity):
            for row in rows_of(run):
                table.put(row)
        scan, index = ScanStore(table), IndexStore(table)  # type: ignore[arg-type]
        for name, run_filter in FILTERS.items():
            table.examined = table.responses = 0
            scanned, _ = scan.list(tenant, run_filter, limit=PAGE)
            scan_cost, scan_responses = table.examined, table.responses
            table.examined = table.responses = 0
            page, _ = index.list(tenant, run_filter, limit=PAGE)
            assert [r.id for r in page] == [r.id for r in scanned]
            ratio = table.examined / max(1, len(page))
            print(
                f"{name:<16} {selectivity:>10.1%} {len(page):>9} {table.examined:>8,} "
                f"{scan_cost:>9,} {ratio:>14.2f}x {table.responses:>9}/{scan_responses:<9}"
            )


def fill(table: TableClient, tenant: str, runs: int, selectivity: float) -> None:
    batch: list[Any] = []
    for run in history(tenant, runs, selectivity):
        entity = run_to_entity(run)
        for row in [entity, *index_entities(run, entity)]:
            batch.append(("upsert", row))
            if len(batch) == 100:
                table.submit_transaction(batch)
                batch = []
    if batch:
        table.submit_transaction(batch)


def timed_on_azurite(runs: int, rounds: int) -> None:
    azurite = start_azurite()
    try:
        storage = StorageClients.from_connection_string(azurite.connection_string)
        provision(storage)
        table = storage.table(RUNS_TABLE)
        print(f"\nthe same calls on Azurite, {runs:,}-run tenants, medians of {rounds} rounds")
        print(f"{'filter':<16} {'selectivity':>11} {'index ms':>9} {'scan ms':>9} {'ratio':>6}")
        for selectivity in SELECTIVITIES:
            tenant = str(uuid.uuid4())
            t0 = time.perf_counter()
            fill(table, tenant, runs, selectivity)
            fill_s = time.perf_counter() - t0
            scan, index = ScanStore(table), IndexStore(table)
            for name, run_filter in FILTERS.items():
                ours, floor = interleave(
                    lister(index, tenant, run_filter), lister(scan, tenant, run_filter), rounds
                )
                mi, ms = statistics.median(ours) * 1000, statistics.median(floor) * 1000
                print(f"{name:<16} {selectivity:>10.1%} {mi:>9.2f} {ms:>9.2f} {mi / ms:>5.2f}x")
            print(f"  (filled in {fill_s:.0f} s)", flush=True)
    finally:
        azurite.stop()


def lister(store: RunStore, tenant: str, run_filter: RunFilter) -> Callable[[int], object]:
    return lambda _: store.list(tenant, run_filter, limit=PAGE)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--azurite-runs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    examined(args.runs)
    if args.azurite_runs:
        timed_on_azurite(args.azurite_runs, args.rounds)


if __name__ == "__main__":
    main()
