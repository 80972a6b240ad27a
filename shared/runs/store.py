"""OperationRuns on Azure Table Storage: run rows and active-lock rows in one tenant partition.

Every write is conditional: inserts fail on an existing key, updates and deletes carry
If-Match with the ETag last read. A lost swap surfaces as ConcurrentUpdate; the service
decides whether to re-read and retry. Queries are always bound to one partition and pass
values as parameters, never by string formatting.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from shared.config import RUNS_TABLE
from shared.errors import ConcurrentUpdate, StorageUnavailable
from shared.persistence.errors import SDK_ERRORS, unavailable
from shared.persistence.tables import etag_of
from shared.runs.expiry import ExpiredRun, RunPurge, expired_runs, purge_runs
from shared.runs.identity import (
    LOCK_PREFIX,
    LOCK_RANGE,
    OUTBOX_RANGE,
    RUN_RANGE,
    TENANT_INDEX_PARTITION,
    lock_row_key,
    outbox_row_key,
    outbox_run_range,
    run_row_key,
)
from shared.runs.index import (
    READY_KEY,
    index_entities,
    matches,
    plan,
    run_row_key_of,
    scan_plan,
)
from shared.runs.listing import RunFilter
from shared.runs.model import Run
from shared.runs.rows import SUMMARY_PROPERTIES, parse_datetime, run_from_entity, run_to_entity

# How long a tenant seen without its index-ready marker is listed by scan before asking again.
NOT_READY_RECHECK_SECONDS = 60.0

Page = list[Run]  # (the store's own `list` method shadows the builtin inside it)


class LockHeld(Exception):
    """An active-lock row for this identity already exists (internal to the service)."""


@dataclass(frozen=True)
class ActiveLock:
    """Exists exactly while its run is queued or running; also the index of active runs."""

    tenant_id: str
    identity_hash: str
    run_id: str
    etag: str | None = None


@dataclass(frozen=True)
class OutboxRow:
    """A notice written with a run's transition, waiting to be handed on."""

    tenant_id: str
    row_key: str
    run_id: str
    event: str
    created_at: datetime
    etag: str | None = None


# Rows that join a run's create or terminal transaction (outbox rows; later index rows).
# They must be in the run's partition; the transaction stays within 100 operations.
ExtraRows = Sequence[dict[str, Any]]


class RunStorePort(Protocol):
    """What the run service needs from storage; RunStore over a TableClient (Azure or the
    in-memory table with the same semantics) is the implementation."""

    def get(self, tenant_id: str, run_id: str) -> Run | None: ...
    def get_lock(self, tenant_id: str, identity_hash: str) -> ActiveLock | None: ...
    def active_locks(self, tenant_id: str) -> Iterator[ActiveLock]: ...
    def list(
        self,
        tenant_id: str,
        run_filter: RunFilter,
        *,
        limit: int,
        after_row_key: str | None = None,
    ) -> tuple[list[Run], str | None]: ...
    def create_with_lock(self, run: Run, extra: ExtraRows = ()) -> Run: ...
    def replace(self, run: Run) -> Run: ...
    def replace_and_release(
        self, run: Run, lock: ActiveLock | None, extra: ExtraRows = ()
    ) -> Run: ...
    def end_own_run(self, run: Run, extra: ExtraRows = ()) -> Run: ...
    def delete_lock(self, lock: ActiveLock) -> bool: ...
    def outbox(self, tenant_id: str, run_id: str | None = None) -> Sequence[OutboxRow]: ...
    def remove_outbox(self, row: OutboxRow) -> None: ...
    def remove_notice(self, tenant_id: str, run_id: str, event: str) -> None: ...
    def note_tenant(self, tenant_id: str) -> None: ...
    def tenants_with_runs(self) -> Iterator[str]: ...
    def expired_runs(self, tenant_id: str, cutoff: datetime) -> Iterator[ExpiredRun]: ...
    def purge_runs(self, runs: Sequence[ExpiredRun]) -> RunPurge: ...


def _if_match(etag: str | None) -> dict[str, Any]:
    if etag is None:
        raise ValueError("a conditional write needs the ETag it was read with")
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified}


def _unavailable(error: Exception) -> StorageUnavailable:
    # The run store's rule: any failure it has not handled as a lost compare-and-swap or a
    # held lock is worth a retry (the fault suite relies on it); the message is the map's.
    return unavailable(error, "OperationRuns")


class RunStore:
    # The tables this store owns (provisioning gathers them from the stores).
    TABLES: ClassVar[tuple[str, ...]] = (RUNS_TABLE,)

    def __init__(self, table: TableClient) -> None:
        self._table = table
        self._indexed: set[str] = set()
        self._not_indexed: dict[str, float] = {}
        # Tenants this process already put in the tenant index: one write per tenant per process.
        self._noted: set[str] = set()

    # -- reads ---------------------------------------------------------------------------

    def get(self, tenant_id: str, run_id: str) -> Run | None:
        try:
            entity = self._table.get_entity(tenant_id, run_row_key(run_id))
        except ResourceNotFoundError:
            return None
        except SDK_ERRORS as error:
            raise _unavailable(error) from error
        return run_from_entity(entity)

    def get_lock(self, tenant_id: str, identity_hash: str) -> ActiveLock | None:
        try:
            entity = self._table.get_entity(tenant_id, lock_row_key(identity_hash))
        except ResourceNotFoundError:
            return None
        except SDK_ERRORS as error:
            raise _unavailable(error) from error
        return self._lock_from_entity(entity)

    def active_locks(self, tenant_id: str) -> Iterator[ActiveLock]:
        """The tenant's active runs, as one RowKey range query over its lock rows."""
        entities = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": tenant_id, "lo": LOCK_RANGE[0], "hi": LOCK_RANGE[1]},
            select=["PartitionKey", "RowKey", "RunId"],
        )
        try:
            for entity in entities:
                yield self._lock_from_entity(entity)
        except SDK_ERRORS as error:
            raise _unavailable(error) from error

    def list(
        self,
        tenant_id: str,
        run_filter: RunFilter,
        *,
        limit: int,
        after_row_key: str | None = None,
    ) -> tuple[list[Run], str | None]:
        """Newest first, as summaries: the page's runs carry SUMMARY_PROPERTIES only (no
        inputs, failures or result). A filtered page walks an index range (shared.runs.index)
        once the tenant's index is ready. Returns the page and the run RowKey to continue
        after (None at the end): the same cursor whichever range was walked."""
        # An unfiltered page is the run range either way: no need to ask about the index.
        filtered = run_filter != RunFilter()
        ready = filtered and self._index_ready(tenant_id)
        chosen = plan(run_filter) if ready else scan_plan(run_filter)
        if chosen.active_only:
            return self._list_active(tenant_id, run_filter, limit, after_row_key)
        lo = chosen.start_after(after_row_key) if after_row_key else chosen.key_range[0]
        clauses = [
            "PartitionKey eq @pk",
            "RowKey gt @lo" if after_row_key else "RowKey ge @lo",
            "RowKey lt @hi",
        ]
        parameters: dict[str, Any] = {"pk": tenant_id, "lo": lo, "hi": chosen.key_range[1]}
        for number, (prop, value) in enumerate(chosen.filters):
            clauses.append(f"{prop} eq @f{number}")
            parameters[f"f{number}"] = value
        # One more than asked tells whether another page exists without a second query.
        entities = self._table.query_entities(
            " and ".join(clauses),
            parameters=parameters,
            results_per_page=min(limit + 1, 1000),
            select=list(SUMMARY_PROPERTIES),
        )
        try:
            rows = list(itertools.islice(entities, limit + 1))
        except SDK_ERRORS as error:
            raise _unavailable(error) from error
        keys = [
            run_row_key_of(row["RowKey"], chosen.prefix) if chosen.uses_index else row["RowKey"]
            for row in rows
        ]
        page: list[Run] = []
        for row, key in zip(rows[:limit], keys, strict=False):
            summary = run_from_entity({**row, "RowKey": key})
            if chosen.uses_index and not summary.is_terminal:
                # The copy is the run's creation state; an active run is read live (few).
                live = self.get(tenant_id, summary.id)
                if live is None:
                    continue
                summary = live
            page.append(summary)
        return page, keys[limit - 1] if len(rows) > limit else None

    def _list_active(
        self, tenant_id: str, run_filter: RunFilter, limit: int, after_row_key: str | None
    ) -> tuple[Page, str | None]:
        """Queued or running: the lock rows are the active runs, a handful per tenant."""
        runs = [self.get(tenant_id, lock.run_id) for lock in self.active_locks(tenant_id)]
        keyed = sorted(
            (run_row_key(run.id), run)
            for run in runs
            if run is not None and matches(run, run_filter)
        )
        if after_row_key:
            keyed = [(key, run) for key, run in keyed if key > after_row_key]
        page = keyed[:limit]
        next_key = page[-1][0] if len(keyed) > limit else None
        return [run for _, run in page], next_key

    def _index_ready(self, tenant_id: str) -> bool:
        if tenant_id in self._indexed:
            return True
        if self._not_indexed.get(tenant_id, 0.0) > time.monotonic():
            return False
        try:
            self._table.get_entity(tenant_id, READY_KEY, select=["RowKey"])
        except ResourceNotFoundError:
            # Not yet (the retention pass backfills): ask again after a while, not per call.
            self._not_indexed[tenant_id] = time.monotonic() + NOT_READY_RECHECK_SECONDS
            return False
        except SDK_ERRORS as error:
            raise _unavailable(error) from error
        self._indexed.add(tenant_id)  # once ready, always ready: remember it
        return True

    def backfill_index(self, tenant_id: str) -> int:
        """Give the tenant's runs from before the index their index rows, then mark the
        tenant ready. Inserts only: a row a create or terminal transaction wrote (fresher
        than what this walk read) is left as it is. Returns the index rows written."""
        if self._index_ready(tenant_id):
            return 0
        written = 0
        batch: list[dict[str, Any]] = []
        entities = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": tenant_id, "lo": RUN_RANGE[0], "hi": RUN_RANGE[1]},
            select=list(SUMMARY_PROPERTIES),
        )
        try:
            for entity in entities:
                batch.extend(index_entities(run_from_entity(entity), dict(entity)))
                if len(batch) >= 90:
                    written += self._insert_missing(batch)
                    batch = []
            written += self._insert_missing(batch)
            self._table.upsert_entity({"PartitionKey": tenant_id, "RowKey": READY_KEY})
        except SDK_ERRORS as error:
            raise _unavailable(error) from error
        self._indexed.add(tenant_id)
        return written

    def _insert_missing(self, rows: Sequence[dict[str, Any]]) -> int:
        if not rows:
            return 0
        try:
            self._table.submit_transaction([("create", row) for row in rows])
            return len(rows)
        except TableTransactionError:
            pass  # some exist already: insert the rest one by one
        written = 0
        for row in rows:
            try:
                self._table.create_entity(row)
                written += 1
            except ResourceExistsError:
                pass
        return written

    # -- writes --------------------------------------------------------------------------

    def create_with_lock(self, run: Run, extra: ExtraRows = ()) -> Run:
        """Insert the run row, its lock row and `extra` rows atomically; LockHeld if the
        lock exists."""
        entity = run_to_entity(run)
        lock = {
            "PartitionKey": run.tenant_id,
            "RowKey": lock_row_key(run.identity_hash),
            "Kind": "lock",
            "RunId": run.id,
            "Type": run.type,
            "CreatedAt": run.created_at,
        }
        # The lock stays operation 1: its EntityAlreadyExists is how a duplicate shows.
        # Every row is an insert: index and notice keys name this new run, so none can exist
        # (and Azurite inserts cheaper than it upserts).
        rows = [entity, lock, *index_entities(run, entity), *extra]
        operations: list[Any] = [("create", row) for row in rows]
        try:
            results = self._table.submit_transaction(operations)
        except TableTransactionError as error:
            code = getattr(error, "error_code", None)
            if code == "EntityAlreadyExists" and getattr(error, "index", None) == 1:
                raise LockHeld(run.identity_hash) from error
            raise _unavailable(error) from error
        except SDK_ERRORS as error:
            raise _unavailable(error) from error
        return _with_etag(run, results[0].get("etag"))

    def replace(self, run: Run) -> Run:
        """Write the whole run if its row still has the ETag it was read with."""
        try:
            metadata = self._table.update_entity(
                run_to_entity(run), mode=UpdateMode.REPLACE, **_if_match(run.etag)
            )
        except (ResourceModifiedError, ResourceNotFoundError) as error:
            raise ConcurrentUpdate(f"run {run.id} changed since it was read") from error
        except SDK_ERRORS as error:
            if getattr(error, "status_code", None) == 412:
                raise ConcurrentUpdate(f"run {run.id} changed since it was read") from error
            raise _unavailable(error) from error
        return _with_etag(run, metadata.get("etag"))

    def replace_and_release(self, run: Run, lock: ActiveLock | None, extra: ExtraRows = ()) -> Run:
        """Terminal write: the run (If-Match), the deletion of its lock (If-Match) and the
        `extra` rows (the outbox notice), in one transaction with the run's index rows."""
        entity = run_to_entity(run)
        operations: list[Any] = [
            ("update", entity, {"mode": UpdateMode.REPLACE, **_if_match(run.etag)}),
        ]
        if lock is not None:
            lock_key = {"PartitionKey": lock.tenant_id, "RowKey": lock_row_key(lock.identity_hash)}
            operations.append(("delete", lock_key, _if_match(lock.etag)))
        return self._submit_terminal(run, entity, operations, extra)

    def _submit_terminal(
        self,
        run: Run,
        entity: dict[str, Any],
        operations: Sequence[Any],
        extra: ExtraRows,
    ) -> Run:
        """The run's terminal write, with its index rows rewritten (and its outcome row
        added) and the `extra` rows upserted, in the same transaction."""
        index = [
            ("upsert", row, {"mode": UpdateMode.REPLACE}) for row in index_entities(run, entity)
        ]
        # Upsert: a retried terminal write after an ambiguous one finds its rows there.
        index += [("upsert", row, {"mode": UpdateMode.REPLACE}) for row in extra]
        try:
            results = self._table.submit_transaction([*operations, *index])
        except TableTransactionError as error:
            if error.status_code in (404, 412):
                raise ConcurrentUpdate(f"run {run.id} or its lock changed") from error
            raise _unavailable(error) from error
        except SDK_ERRORS as error:
            raise _unavailable(error) from error
        return _with_etag(run, results[0].get("etag"))

    def end_own_run(self, run: Run, extra: ExtraRows = ()) -> Run:
        """Terminal write for a run its worker holds: run (If-Match) + lock delete, atomic.

        The lock is deleted without its own ETag, which is safe because the run's If-Match
        guards the transaction: while a run is active its lock names it, and the lock is
        only ever removed together with the run's terminal write or after its run was seen
        ended, which changes the run's ETag. So if the run is unchanged, the lock is its
        own. A missing lock (404) fails the whole transaction: ConcurrentUpdate, and the
        caller falls back to reading both.
        """
        lock_key = {"PartitionKey": run.tenant_id, "RowKey": lock_row_key(run.identity_hash)}
        entity = run_to_entity(run)
        operations: list[Any] = [
            ("update", entity, {"mode": UpdateMode.REPLACE, **_if_match(run.etag)}),
            ("delete", lock_key, {"match_condition": MatchConditions.Unconditionally}),
        ]
        return self._submit_terminal(run, entity, operations, extra)

    # -- outbox and tenant index ------------------------------------------------------------

    def outbox(self, tenant_id: str, run_id: str | None = None) -> Sequence[OutboxRow]:
        """Notices not yet handed on: the tenant's, or one run's (a RowKey range either way)."""
        lo, hi = outbox_run_range(run_id) if run_id else OUTBOX_RANGE
        entities = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": tenant_id, "lo": lo, "hi": hi},
        )
        try:
            return [
                OutboxRow(
                    tenant_id=e["PartitionKey"],
                    row_key=e["RowKey"],
                    run_id=e["RunId"],
                    event=e["Event"],
                    created_at=_required_time(e["CreatedAt"]),
                    etag=etag_of(e),
                )
                for e in entities
            ]
        except SDK_ERRORS as error:
            raise _unavailable(error) from error

    def remove_outbox(self, row: OutboxRow) -> None:
        """Handled: delete it (gone already is fine; the downstream is idempotent)."""
        try:
            self._table.delete_entity(row.tenant_id, row.row_key)
        except SDK_ERRORS as error:
            raise _unavailable(error) from error

    def remove_notice(self, tenant_id: str, run_id: str, event: str) -> None:
        """The consumer handled this notice: its outbox row is done."""
        self.remove_outbox(
            OutboxRow(tenant_id, outbox_row_key(run_id, event), run_id, event, datetime.min)
        )

    def note_tenant(self, tenant_id: str) -> None:
        """Index a tenant that has runs, before its first run is written (the reaper walks
        this index, so a tenant started through membership alone is never missed)."""
        if tenant_id in self._noted:
            return
        try:
            self._table.upsert_entity(
                {"PartitionKey": TENANT_INDEX_PARTITION, "RowKey": tenant_id, "Kind": "tenant"}
            )
        except SDK_ERRORS as error:
            raise _unavailable(error) from error
        self._noted.add(tenant_id)

    def tenants_with_runs(self) -> Iterator[str]:
        entities = self._table.query_entities(
            "PartitionKey eq @pk", parameters={"pk": TENANT_INDEX_PARTITION}, select=["RowKey"]
        )
        try:
            for entity in entities:
                yield entity["RowKey"]
        except SDK_ERRORS as error:
            raise _unavailable(error) from error

    # -- retention ------------------------------------------------------------------------

    def expired_runs(self, tenant_id: str, cutoff: datetime) -> Iterator[ExpiredRun]:
        """The tenant's completed runs created and finished before `cutoff`, oldest last
        (a RowKey range; runs a lock still names are among them: the caller decides)."""
        return expired_runs(self._table, tenant_id, cutoff)

    def purge_runs(self, runs: Sequence[ExpiredRun]) -> RunPurge:
        """Delete expired runs with their index rows, each run only if unchanged since it
        was read (If-Match); those changed or gone are counted and left alone."""
        return purge_runs(self._table, runs)

    def delete_lock(self, lock: ActiveLock) -> bool:
        """Remove a stale lock only if nobody touched it since it was read.

        False when it changed meanwhile; a lock already gone counts as removed (the SDK's
        delete answers a 404 with success).
        """
        try:
            self._table.delete_entity(
                lock.tenant_id, lock_row_key(lock.identity_hash), **_if_match(lock.etag)
            )
        except ResourceModifiedError:
            return False
        except HttpResponseError as error:
            if error.status_code == 412:
                return False
            raise _unavailable(error) from error
        except (ServiceRequestError, ServiceResponseError) as error:
            raise _unavailable(error) from error
        return True

    @staticmethod
    def _lock_from_entity(entity: Any) -> ActiveLock:
        return ActiveLock(
            tenant_id=entity["PartitionKey"],
            identity_hash=entity["RowKey"][len(LOCK_PREFIX) :],
            run_id=entity["RunId"],
            etag=etag_of(entity),
        )


def _required_time(value: Any) -> datetime:
    result = parse_datetime(value)
    assert result is not None  # noqa: S101 - written on every outbox row
    return result


def _with_etag(run: Run, etag: str | None) -> Run:
    return dataclasses.replace(run, etag=etag)
