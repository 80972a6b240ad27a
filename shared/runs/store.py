"""OperationRuns on Azure Table Storage: run rows and active-lock rows in one tenant partition.

Every write is conditional: inserts fail on an existing key, updates and deletes carry
If-Match with the ETag last read. A lost swap surfaces as ConcurrentUpdate; the service
decides whether to re-read and retry. Queries are always bound to one partition and pass
values as parameters, never by string formatting.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from shared.errors import ConcurrentUpdate, StorageUnavailable
from shared.runs.entity import parse_datetime, run_from_entity, run_to_entity
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
from shared.runs.listing import RunFilter
from shared.runs.model import OperationRun


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

    def get(self, tenant_id: str, run_id: str) -> OperationRun | None: ...
    def get_lock(self, tenant_id: str, identity_hash: str) -> ActiveLock | None: ...
    def active_locks(self, tenant_id: str) -> Iterator[ActiveLock]: ...
    def list(
        self,
        tenant_id: str,
        run_filter: RunFilter,
        *,
        limit: int,
        after_row_key: str | None = None,
    ) -> tuple[list[OperationRun], str | None]: ...
    def create_with_lock(self, run: OperationRun, extra: ExtraRows = ()) -> OperationRun: ...
    def replace(self, run: OperationRun) -> OperationRun: ...
    def replace_and_release(
        self, run: OperationRun, lock: ActiveLock | None, extra: ExtraRows = ()
    ) -> OperationRun: ...
    def delete_lock(self, lock: ActiveLock) -> bool: ...
    def outbox(self, tenant_id: str, run_id: str | None = None) -> Sequence[OutboxRow]: ...
    def remove_outbox(self, row: OutboxRow) -> None: ...
    def remove_notice(self, tenant_id: str, run_id: str, event: str) -> None: ...
    def note_tenant(self, tenant_id: str) -> None: ...
    def tenants_with_runs(self) -> Iterator[str]: ...


def _if_match(etag: str | None) -> dict[str, Any]:
    if etag is None:
        raise ValueError("a conditional write needs the ETag it was read with")
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified}


def _unavailable(error: Exception) -> StorageUnavailable:
    status = getattr(error, "status_code", None)
    return StorageUnavailable(f"table storage failed ({status or error.__class__.__name__})")


class RunStore:
    def __init__(self, table: TableClient) -> None:
        self._table = table
        # Tenants this process already put in the index: one write per tenant per process.
        self._noted: set[str] = set()

    # -- reads ---------------------------------------------------------------------------

    def get(self, tenant_id: str, run_id: str) -> OperationRun | None:
        try:
            entity = self._table.get_entity(tenant_id, run_row_key(run_id))
        except ResourceNotFoundError:
            return None
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as error:
            raise _unavailable(error) from error
        return run_from_entity(entity)

    def get_lock(self, tenant_id: str, identity_hash: str) -> ActiveLock | None:
        try:
            entity = self._table.get_entity(tenant_id, lock_row_key(identity_hash))
        except ResourceNotFoundError:
            return None
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as error:
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
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as error:
            raise _unavailable(error) from error

    def list(
        self,
        tenant_id: str,
        run_filter: RunFilter,
        *,
        limit: int,
        after_row_key: str | None = None,
    ) -> tuple[list[OperationRun], str | None]:
        """Newest first. Returns the page and the RowKey to continue after (None at the end)."""
        clauses = ["PartitionKey eq @pk", "RowKey gt @lo" if after_row_key else "RowKey ge @lo"]
        parameters: dict[str, Any] = {"pk": tenant_id, "lo": after_row_key or RUN_RANGE[0]}
        clauses.append("RowKey lt @hi")
        parameters["hi"] = RUN_RANGE[1]
        for prop, name, value in (
            ("Type", "type", run_filter.type),
            ("Status", "status", run_filter.status),
            ("Outcome", "outcome", run_filter.outcome),
            ("InitiatorId", "initiator", run_filter.initiator_id),
        ):
            if value is not None:
                clauses.append(f"{prop} eq @{name}")
                parameters[name] = str(value)
        # One more than asked tells whether another page exists without a second query.
        entities = self._table.query_entities(
            " and ".join(clauses), parameters=parameters, results_per_page=min(limit + 1, 1000)
        )
        try:
            rows = list(itertools.islice(entities, limit + 1))
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as error:
            raise _unavailable(error) from error
        page = [run_from_entity(e) for e in rows[:limit]]
        next_key = rows[limit - 1]["RowKey"] if len(rows) > limit else None
        return page, next_key

    # -- writes --------------------------------------------------------------------------

    def create_with_lock(self, run: OperationRun, extra: ExtraRows = ()) -> OperationRun:
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
        try:
            results = self._table.submit_transaction(
                [("create", entity), ("create", lock), *(("create", row) for row in extra)]
            )
        except TableTransactionError as error:
            code = getattr(error, "error_code", None)
            if code == "EntityAlreadyExists" and getattr(error, "index", None) == 1:
                raise LockHeld(run.identity_hash) from error
            raise _unavailable(error) from error
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as error:
            raise _unavailable(error) from error
        return _with_etag(run, results[0].get("etag"))

    def replace(self, run: OperationRun) -> OperationRun:
        """Write the whole run if its row still has the ETag it was read with."""
        try:
            metadata = self._table.update_entity(
                run_to_entity(run), mode=UpdateMode.REPLACE, **_if_match(run.etag)
            )
        except (ResourceModifiedError, ResourceNotFoundError) as error:
            raise ConcurrentUpdate(f"run {run.id} changed since it was read") from error
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as error:
            if getattr(error, "status_code", None) == 412:
                raise ConcurrentUpdate(f"run {run.id} changed since it was read") from error
            raise _unavailable(error) from error
        return _with_etag(run, metadata.get("etag"))

    def replace_and_release(
        self, run: OperationRun, lock: ActiveLock | None, extra: ExtraRows = ()
    ) -> OperationRun:
        """Terminal write: the run (If-Match), the deletion of its lock (If-Match) and the
        insertion of `extra` rows, in one transaction."""
        if lock is None and not extra:
            return self.replace(run)
        operations: list[Any] = [
            ("update", run_to_entity(run), {"mode": UpdateMode.REPLACE, **_if_match(run.etag)}),
        ]
        if lock is not None:
            operations.append(
                (
                    "delete",
                    {"PartitionKey": lock.tenant_id, "RowKey": lock_row_key(lock.identity_hash)},
                    _if_match(lock.etag),
                )
            )
        # Upsert: a retried terminal write after an ambiguous one finds its row there.
        operations.extend(("upsert", row, {"mode": UpdateMode.REPLACE}) for row in extra)
        try:
            results = self._table.submit_transaction(operations)
        except TableTransactionError as error:
            if error.status_code in (404, 412):
                raise ConcurrentUpdate(f"run {run.id} or its lock changed") from error
            raise _unavailable(error) from error
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as error:
            raise _unavailable(error) from error
        return _with_etag(run, results[0].get("etag"))

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
                    created_at=_aware(e["CreatedAt"]),
                    etag=(getattr(e, "metadata", {}) or {}).get("etag"),
                )
                for e in entities
            ]
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as error:
            raise _unavailable(error) from error

    def remove_outbox(self, row: OutboxRow) -> None:
        """Handled: delete it (gone already is fine; the downstream is idempotent)."""
        try:
            self._table.delete_entity(row.tenant_id, row.row_key)
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as error:
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
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as error:
            raise _unavailable(error) from error
        self._noted.add(tenant_id)

    def tenants_with_runs(self) -> Iterator[str]:
        entities = self._table.query_entities(
            "PartitionKey eq @pk", parameters={"pk": TENANT_INDEX_PARTITION}, select=["RowKey"]
        )
        try:
            for entity in entities:
                yield entity["RowKey"]
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as error:
            raise _unavailable(error) from error

    def delete_lock(self, lock: ActiveLock) -> bool:
        """Remove a stale lock only if nobody touched it since it was read.

        False when it changed meanwhile; a lock already gone counts as removed.
        """
        try:
            self._table.delete_entity(
                lock.tenant_id, lock_row_key(lock.identity_hash), **_if_match(lock.etag)
            )
        except (ResourceModifiedError, ResourceNotFoundError):
            return False
        except HttpResponseError as error:
            if error.status_code in (404, 412):
                return False
            raise _unavailable(error) from error
        except (ServiceRequestError, ServiceResponseError) as error:
            raise _unavailable(error) from error
        return True

    @staticmethod
    def _lock_from_entity(entity: Any) -> ActiveLock:
        metadata = getattr(entity, "metadata", {}) or {}
        return ActiveLock(
            tenant_id=entity["PartitionKey"],
            identity_hash=entity["RowKey"][len(LOCK_PREFIX) :],
            run_id=entity["RunId"],
            etag=metadata.get("etag"),
        )


def _aware(value: Any) -> datetime:
    result = parse_datetime(value)
    assert result is not None  # noqa: S101 - written on every outbox row
    return result


def _with_etag(run: OperationRun, etag: str | None) -> OperationRun:
    return dataclasses.replace(run, etag=etag)
