"""The overview summaries: one row per managed tenant, all in one partition of their own
table, so the all-tenants overview reads one partition instead of fanning out per tenant
(docs/adr/0009-overview-summaries.md).

A row is recomputed, never incremented (queue deliveries are at least once): a recompute
reads the tenant's own run partition exactly as the live overview does and replaces the
row with its digest. Writes are ETag compare-and-swap and carry `as_of`, the time the
read began; a row never goes back to an older `as_of`, so a slow recompute that lost the
race cannot overwrite a newer one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.config import TENANT_SUMMARIES_TABLE
from shared.persistence.tables import MAX_PROPERTY_CHARS, etag_of, get_row, storage_errors
from shared.runs.digest import Digest, DigestUnreadable, decode, digest_of, encode
from shared.runs.recent import read_recent
from shared.runs.rows import parse_datetime

log = logging.getLogger(__name__)

PARTITION = "overview"
# The overview looks back a week (the last success of each run type) and reads at most
# this many rows per tenant, in a recompute as it did live.
OVERVIEW_WINDOW = timedelta(days=7)
OVERVIEW_MAX_ROWS = 500
# The timer sweep recomputes rows older than this (a lost event is caught within about
# two sweeps); a read recomputes rows older than STALE_AFTER itself (the sweep stopped).
SWEEP_AFTER = timedelta(minutes=5)
STALE_AFTER = timedelta(minutes=15)
MAX_CAS_ATTEMPTS = 8
_PARTS = "Parts"


@dataclass(frozen=True)
class StoredSummary:
    tenant_id: str
    as_of: datetime
    etag: str | None


@dataclass
class SweepReport:
    rows: int = 0
    recomputed: int = 0
    removed: int = 0
    failed: int = 0


def _digest_columns(text: str) -> dict[str, Any]:
    """The digest split over string properties (each holds ~32K UTF-16 units)."""
    parts = [text[i : i + MAX_PROPERTY_CHARS] for i in range(0, len(text), MAX_PROPERTY_CHARS)]
    return {_PARTS: len(parts), **{f"Digest{n}": part for n, part in enumerate(parts)}}


def _digest_text(row: Any) -> str:
    return "".join(str(row.get(f"Digest{n}", "")) for n in range(int(row.get(_PARTS, 0))))


class TenantSummaries:
    # The tables this store owns (provisioning gathers them from the stores).
    TABLES: ClassVar[tuple[str, ...]] = (TENANT_SUMMARIES_TABLE,)

    def __init__(
        self, runs: TableClient, summaries: TableClient, *, clock: Callable[[], datetime]
    ) -> None:
        self._runs = runs
        self._table = summaries
        self._clock = clock

    # -- read --------------------------------------------------------------------------------

    def read(self, tenant_ids: Iterable[str]) -> dict[str, Digest]:
        """The stored digests of these tenants (absent or unreadable ones are left out):
        one query over the one partition, bounded to the key range the tenants span; rows
        of other tenants in that range are dropped here, never returned.

        Only the first digest column is selected (the rare digest spread over more, a
        tenant with hundreds of active runs, is read whole by its key): the SDK's cost of
        turning 200 rows into entities is most of this read's time."""
        wanted = set(tenant_ids)
        if not wanted:
            return {}
        texts: dict[str, str] = {}
        for row in self._query(min(wanted), max(wanted)):
            tenant_id = row["RowKey"]
            if tenant_id not in wanted:
                continue
            if int(row.get(_PARTS) or 0) > 1:
                whole = get_row(self._table, PARTITION, tenant_id)
                row = whole if whole is not None else row
            texts[tenant_id] = _digest_text(row)
        found: dict[str, Digest] = {}
        for tenant_id, text in texts.items():
            try:
                found[tenant_id] = decode(tenant_id, text)
            except DigestUnreadable as error:
                log.warning("overview summary of %s unreadable (%s): recomputed", tenant_id, error)
        return found

    def stored(self) -> Iterator[StoredSummary]:
        """Every row's tenant and age, for the sweep (keys and `AsOf` only)."""
        with storage_errors(f"reading {self._table.table_name}"):
            for row in self._table.query_entities(
                "PartitionKey eq @pk", parameters={"pk": PARTITION}, select=["RowKey", "AsOf"]
            ):
                as_of = parse_datetime(row.get("AsOf"))
                if as_of is not None:
                    yield StoredSummary(row["RowKey"], as_of, etag_of(row))

    def _query(self, lo: str, hi: str) -> Iterator[Any]:
        with storage_errors(f"reading {self._table.table_name}"):
            yield from self._table.query_entities(
                "PartitionKey eq @pk and RowKey ge @lo and RowKey le @hi",
                parameters={"pk": PARTITION, "lo": lo, "hi": hi},
                select=["RowKey", _PARTS, "Digest0"],
                results_per_page=1000,
            )

    # -- write -------------------------------------------------------------------------------

    def recompute(self, tenant_id: str) -> Digest:
        """Read the tenant's runs as the live overview does and store their digest."""
        as_of = self._clock()
        recent = read_recent(
            self._runs, tenant_id, since=as_of - OVERVIEW_WINDOW, max_rows=OVERVIEW_MAX_ROWS
        )
        digest = digest_of(recent, as_of=as_of)
        self.save(digest)
        return digest

    def save(self, digest: Digest) -> bool:
        """Store the digest unless the row already holds a newer one (False then).

        Insert-if-absent or replace If-Match the row just read: a concurrent writer makes
        us read and decide again, so the newest `as_of` always wins."""
        tenant_id = digest.recent.tenant_id
        entity = {
            "PartitionKey": PARTITION,
            "RowKey": tenant_id,
            "AsOf": digest.as_of,
            **_digest_columns(encode(digest)),
        }
        for _ in range(MAX_CAS_ATTEMPTS):
            current = get_row(self._table, PARTITION, tenant_id)
            if current is not None:
                stored = parse_datetime(current.get("AsOf"))
                if stored is not None and stored > digest.as_of:
                    return False
            try:
                with storage_errors(f"writing {self._table.table_name}"):
                    if current is None:
                        self._table.create_entity(entity)
                    else:
                        self._table.update_entity(
                            entity,
                            mode=UpdateMode.REPLACE,
                            etag=etag_of(current),
                            match_condition=MatchConditions.IfNotModified,
                        )
                return True
            except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
                continue  # another recompute wrote (or removed) it meanwhile: decide again
        log.warning("overview summary of %s not saved: kept losing the race", tenant_id)
        return False

    def remove(self, summary: StoredSummary) -> bool:
        """Delete a row as it was read (If-Match): a row rewritten meanwhile stays."""
        try:
            with storage_errors(f"deleting from {self._table.table_name}"):
                self._table.delete_entity(
                    PARTITION,
                    summary.tenant_id,
                    etag=summary.etag,
                    match_condition=MatchConditions.IfNotModified,
                )
        except (ResourceModifiedError, ResourceNotFoundError):
            return False
        return True

    # -- the timer ---------------------------------------------------------------------------

    def sweep(
        self, tenant_ids: Iterable[str], *, older_than: timedelta = SWEEP_AFTER
    ) -> SweepReport:
        """Recompute the rows of `tenant_ids` that are missing or older than `older_than`
        (an event lost with its process), and remove rows of tenants no longer listed.

        Window roll-overs need no sweep: the digest is evaluated at read time."""
        report = SweepReport()
        known = tuple(dict.fromkeys(tenant_ids))
        stored = {s.tenant_id: s for s in self.stored()}
        report.rows = len(stored)
        now = self._clock()
        for tenant_id in known:
            row = stored.get(tenant_id)
            if row is not None and now - row.as_of <= older_than:
                continue
            try:
                self.recompute(tenant_id)
                report.recomputed += 1
            except Exception as error:  # noqa: BLE001 - isolate tenants: log, count, go on
                report.failed += 1
                reason = type(error).__name__
                log.warning("overview sweep: tenant %s skipped: %s", tenant_id, reason)
        for tenant_id in stored.keys() - set(known):
            report.removed += int(self.remove(stored[tenant_id]))
        return report
