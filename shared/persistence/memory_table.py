"""An in-memory table with Table Storage's write semantics, for race and fault tests.

It answers the subset of `azure.data.tables.TableClient` our stores call, and raises the
same exceptions the SDK raises against the real service: insert-if-absent
(ResourceExistsError), If-Match (ResourceModifiedError), missing rows
(ResourceNotFoundError; a delete of a missing row is silent, as in the SDK), and
entity-group transactions that are all-or-nothing, hold at most 100 operations and touch
one partition (TableTransactionError naming the failed operation's index). It is never
more lenient than the service: the contract suite runs the same calls against Azurite.

Queries accept only what our stores send: conjunctions of `Prop op @param`. Rows are
examined in key order, as the service scans a partition; `examined` counts them (what a
filtered query costs), and a page holds at most 1,000 rows.
"""

from __future__ import annotations

import copy
import itertools
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableEntity, TableTransactionError, UpdateMode

MAX_TRANSACTION_OPERATIONS = 100
MAX_PAGE = 1000

_CLAUSE = re.compile(r"^\s*(\w+)\s+(eq|ne|gt|ge|lt|le)\s+@(\w+)\s*$")
_COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}

Key = tuple[str, str]


def _error(kind: type[HttpResponseError], status: int, code: str, text: str) -> HttpResponseError:
    error = kind(message=f"{text}\nErrorCode:{code}")
    error.status_code = status
    error.error_code = code  # type: ignore[attr-defined]
    return error


def _transaction_error(index: int, status: int, code: str, text: str) -> TableTransactionError:
    error = TableTransactionError(message=f"{index}:{text}\nErrorCode:{code}")
    error.status_code = status
    error.error_code = code  # type: ignore[attr-defined]
    return error


def _parse_filter(query_filter: str, parameters: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    clauses = []
    for part in re.split(r"\s+and\s+", query_filter.strip()):
        match = _CLAUSE.match(part)
        if match is None:
            raise ValueError(f"the in-memory table only understands `Prop op @param`: {part!r}")
        prop, op, name = match.groups()
        clauses.append((prop, op, parameters[name]))
    return clauses


def _matches(entity: Mapping[str, Any], clauses: Sequence[tuple[str, str, Any]]) -> bool:
    for prop, op, value in clauses:
        if prop not in entity:
            return False  # the service skips rows that lack the property
        try:
            if not _COMPARE[op](entity[prop], value):
                return False
        except TypeError:
            return False  # different types never compare equal in OData
    return True


def _in_seek(key: Key, clauses: Sequence[tuple[str, str, Any]]) -> bool:
    """Whether the service's key index reaches this row: PartitionKey and RowKey bounds
    narrow the scan; every other clause is checked on each row examined."""
    for prop, op, value in clauses:
        if prop == "PartitionKey" and op == "eq" and key[0] != value:
            return False
        if prop == "RowKey" and op != "ne" and not _COMPARE[op](key[1], value):
            return False
    return True


class MemoryTable:
    def __init__(self, table_name: str = "memory") -> None:
        self.table_name = table_name
        self._rows: dict[Key, tuple[dict[str, Any], str]] = {}
        self._lock = threading.RLock()
        self._etags = itertools.count(1)
        self.examined = 0
        """Rows the service would have scanned for queries so far (issue 15's cost figure)."""

    # -- reads ---------------------------------------------------------------------------

    def get_entity(self, partition_key: str, row_key: str, **_: Any) -> TableEntity:
        with self._lock:
            found = self._rows.get((partition_key, row_key))
            if found is None:
                raise _error(ResourceNotFoundError, 404, "ResourceNotFound", "not found")
            return self._out(*found)

    def query_entities(
        self,
        query_filter: str,
        *,
        parameters: Mapping[str, Any] | None = None,
        select: Sequence[str] | str | None = None,
        results_per_page: int | None = None,
        **_: Any,
    ) -> Iterator[TableEntity]:
        clauses = _parse_filter(query_filter, parameters or {})
        fields = [select] if isinstance(select, str) else select
        return self._scan(clauses, fields)

    def list_entities(self, **_: Any) -> Iterator[TableEntity]:
        return self._scan([], None)

    def _scan(
        self, clauses: Sequence[tuple[str, str, Any]], fields: Sequence[str] | None
    ) -> Iterator[TableEntity]:
        # A snapshot per page, as the service answers page by page: a write between pages
        # is seen by later pages, never inside one.
        after: Key | None = None
        while True:
            with self._lock:
                keys = sorted(
                    k for k in self._rows if _in_seek(k, clauses) and (after is None or k > after)
                )[:MAX_PAGE]
                page = []
                for key in keys:
                    self.examined += 1
                    entity, etag = self._rows[key]
                    if _matches(entity, clauses):
                        page.append(self._out(entity, etag, fields))
            yield from page
            if len(keys) < MAX_PAGE:
                return
            after = keys[-1]

    # -- single writes -------------------------------------------------------------------

    def create_entity(self, entity: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        return self.submit_transaction([("create", entity)], single=True)[0]

    def update_entity(
        self,
        entity: Mapping[str, Any],
        mode: UpdateMode | str = UpdateMode.MERGE,
        *,
        etag: str | None = None,
        match_condition: MatchConditions | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        options = {"mode": mode, "etag": etag, "match_condition": match_condition}
        return self.submit_transaction([("update", entity, options)], single=True)[0]

    def upsert_entity(
        self, entity: Mapping[str, Any], mode: UpdateMode | str = UpdateMode.MERGE, **_: Any
    ) -> dict[str, Any]:
        return self.submit_transaction([("upsert", entity, {"mode": mode})], single=True)[0]

    def delete_entity(
        self,
        partition_key: str | Mapping[str, Any],
        row_key: str | None = None,
        *,
        etag: str | None = None,
        match_condition: MatchConditions | None = None,
        **_: Any,
    ) -> None:
        if isinstance(partition_key, Mapping):
            entity = dict(partition_key)
        else:
            entity = {"PartitionKey": partition_key, "RowKey": row_key}
        options = {"etag": etag, "match_condition": match_condition}
        try:
            self.submit_transaction([("delete", entity, options)], single=True)
        except ResourceNotFoundError:
            return  # the SDK ignores a 404 on delete

    # -- transactions --------------------------------------------------------------------

    def submit_transaction(
        self, operations: Iterable[Sequence[Any]], *, single: bool = False, **_: Any
    ) -> list[dict[str, Any]]:
        ops = [(op[0], dict(op[1]), dict(op[2]) if len(op) > 2 else {}) for op in operations]
        partitions = {entity.get("PartitionKey") for _, entity, _ in ops}
        if len(partitions) > 1:
            raise ValueError("Partition Keys in the batch must all be the same.")
        if not single and len(ops) > MAX_TRANSACTION_OPERATIONS:
            raise _transaction_error(
                0, 400, "InvalidInput", "A batch holds at most 100 operations."
            )
        with self._lock:
            staged = dict(self._rows)
            results: list[dict[str, Any]] = []
            seen: set[Key] = set()
            for index, (kind, entity, options) in enumerate(ops):
                key = (str(entity["PartitionKey"]), str(entity["RowKey"]))
                if not single and key in seen:
                    raise _transaction_error(
                        index, 400, "InvalidDuplicateRow", "One row twice in a batch."
                    )
                seen.add(key)
                try:
                    results.append(self._apply(staged, key, str(kind), entity, options))
                except HttpResponseError as error:
                    if single:
                        raise
                    code = str(getattr(error, "error_code", "")) or "InvalidInput"
                    raise _transaction_error(
                        index, int(error.status_code or 400), code, error.message
                    ) from None
            self._rows = staged
            return results

    def _apply(
        self,
        rows: dict[Key, tuple[dict[str, Any], str]],
        key: Key,
        kind: str,
        entity: dict[str, Any],
        options: Mapping[str, Any],
    ) -> dict[str, Any]:
        current = rows.get(key)
        if kind == "create":
            if current is not None:
                raise _error(
                    ResourceExistsError, 409, "EntityAlreadyExists", "The entity already exists."
                )
            return self._store(rows, key, entity)
        mode = str(options.get("mode", UpdateMode.MERGE)).lower()
        if kind == "upsert":
            return self._store(rows, key, self._merged(current, entity, mode))
        if current is None:
            raise _error(ResourceNotFoundError, 404, "ResourceNotFound", "not found")
        condition = options.get("match_condition")
        if condition == MatchConditions.IfNotModified:
            if not options.get("etag"):
                raise ValueError("IfNotModified must be specified with etag.")
            if options["etag"] != current[1]:
                raise _error(
                    ResourceModifiedError, 412, "UpdateConditionNotSatisfied", "ETag mismatch."
                )
        if kind == "delete":
            del rows[key]
            return {}
        if kind == "update":
            return self._store(rows, key, self._merged(current, entity, mode))
        raise ValueError(f"unknown transaction operation {kind!r}")

    @staticmethod
    def _merged(
        current: tuple[dict[str, Any], str] | None, entity: dict[str, Any], mode: str
    ) -> dict[str, Any]:
        if current is None or mode.endswith("replace"):
            return entity
        return {**current[0], **entity}

    def _store(
        self, rows: dict[Key, tuple[dict[str, Any], str]], key: Key, entity: dict[str, Any]
    ) -> dict[str, Any]:
        etag = f'W/"memory{next(self._etags)}"'
        rows[key] = (copy.deepcopy(entity), etag)
        return {"etag": etag}

    @staticmethod
    def _out(entity: dict[str, Any], etag: str, fields: Sequence[str] | None = None) -> TableEntity:
        out = TableEntity()
        source = copy.deepcopy(entity)
        if fields:
            source = {name: source[name] for name in fields if name in source}
        out.update(source)
        out._metadata = {"etag": etag, "timestamp": None}
        return out

    # -- test helpers --------------------------------------------------------------------

    def rows(self, partition_key: str) -> list[TableEntity]:
        """Every row of one partition, in key order (what invariants read)."""
        with self._lock:
            return [
                self._out(entity, etag)
                for (pk, _), (entity, etag) in sorted(self._rows.items())
                if pk == partition_key
            ]
