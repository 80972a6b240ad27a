"""Tenant membership: who may see (readonly) or act (operator, owner) in a managed tenant.

`TenantMembers` (PK tenant id, RK member object id) is the record of a tenant's members;
`MemberTenants` (PK member object id, RK tenant id) mirrors it so a caller's tenants are
one partition query, never a scan. Writes go mirror-last on grant and mirror-first on
revoke: authorization reads the mirror, so a half-done write fails closed.

Reads are served from a small in-process cache per member (`ttl` seconds, 30 by default):
a start request costs no membership round trip while the entry is fresh. A tenant
missing from a fresh entry is looked up with one point read, so a new grant applies at
once; a revoke or a role change made by another instance applies within `ttl`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.config import MEMBER_TENANTS_TABLE, TENANT_MEMBERS_TABLE
from shared.persistence.errors import storage_errors

CACHE_CAPACITY = 10_000


class Role(StrEnum):
    """A member's role in one managed tenant."""

    OWNER = "owner"
    """Everything an operator may, plus managing members."""
    OPERATOR = "operator"
    """Starts and cancels runs."""
    READONLY = "readonly"
    """Sees runs and the directory; changes nothing."""

    @property
    def may_write(self) -> bool:
        return self in (Role.OWNER, Role.OPERATOR)


@dataclass(frozen=True)
class Membership:
    tenant_id: str
    member_id: str
    role: Role
    tenant_name: str = ""
    member_kind: str = "user"  # user | app


_READ = "reading membership"


def _membership(entity: Any, tenant_id: str, member_id: str) -> Membership | None:
    try:
        role = Role(str(entity.get("Role", "")))
    except ValueError:
        return None  # an unknown role grants nothing
    return Membership(
        tenant_id=tenant_id,
        member_id=member_id,
        role=role,
        tenant_name=str(entity.get("TenantName") or ""),
        member_kind=str(entity.get("MemberKind") or "user"),
    )


class MembershipStore:
    # The tables this store owns (provisioning gathers them from the stores).
    TABLES: ClassVar[tuple[str, ...]] = (TENANT_MEMBERS_TABLE, MEMBER_TENANTS_TABLE)

    def __init__(
        self,
        members: TableClient,
        mirror: TableClient,
        *,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._members = members
        self._mirror = mirror
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[float, dict[str, Membership]]] = OrderedDict()

    # -- writes ----------------------------------------------------------------------------

    def grant(self, membership: Membership) -> None:
        row = {
            "Role": membership.role.value,
            "MemberKind": membership.member_kind,
            "TenantName": membership.tenant_name,
        }
        self._members.upsert_entity(
            {"PartitionKey": membership.tenant_id, "RowKey": membership.member_id, **row},
            mode=UpdateMode.REPLACE,
        )
        self._mirror.upsert_entity(
            {"PartitionKey": membership.member_id, "RowKey": membership.tenant_id, **row},
            mode=UpdateMode.REPLACE,
        )
        self._forget(membership.member_id)

    def revoke(self, tenant_id: str, member_id: str) -> None:
        self._mirror.delete_entity(member_id, tenant_id)
        self._members.delete_entity(tenant_id, member_id)
        self._forget(member_id)

    # -- reads -----------------------------------------------------------------------------

    def tenants_of(self, member_id: str, *, fresh: bool = False) -> list[Membership]:
        """The member's tenants: one partition query of the mirror (or the cache)."""
        return sorted(
            self._entry(member_id, fresh=fresh).values(),
            key=lambda m: (m.tenant_name.lower(), m.tenant_id),
        )

    def membership(self, tenant_id: str, member_id: str) -> Membership | None:
        """The member's role in one tenant; None for a non-member."""
        entry = self._entry(member_id)
        found = entry.get(tenant_id)
        if found is not None:
            return found
        # Not in the cached entry: perhaps granted since. One point read, not cached, so
        # a grant applies at once and a non-member stays a non-member.
        return self._point_read(tenant_id, member_id)

    def members_of(self, tenant_id: str) -> list[Membership]:
        """A tenant's members (admin and tests; not on a request's hot path)."""
        with storage_errors(_READ):
            rows = list(
                self._members.query_entities("PartitionKey eq @pk", parameters={"pk": tenant_id})
            )
        found = (_membership(e, tenant_id, e["RowKey"]) for e in rows)
        return [m for m in found if m is not None]

    def _entry(self, member_id: str, *, fresh: bool = False) -> dict[str, Membership]:
        now = self._clock()
        if not fresh:
            with self._lock:
                cached = self._cache.get(member_id)
                if cached is not None and cached[0] > now:
                    self._cache.move_to_end(member_id)
                    return cached[1]
        with storage_errors(_READ):
            rows = list(
                self._mirror.query_entities("PartitionKey eq @pk", parameters={"pk": member_id})
            )
        entry: dict[str, Membership] = {}
        for row in rows:
            found = _membership(row, row["RowKey"], member_id)
            if found is not None:
                entry[found.tenant_id] = found
        if self._ttl > 0:
            with self._lock:
                self._cache[member_id] = (now + self._ttl, entry)
                self._cache.move_to_end(member_id)
                while len(self._cache) > CACHE_CAPACITY:
                    self._cache.popitem(last=False)
        return entry

    def _point_read(self, tenant_id: str, member_id: str) -> Membership | None:
        try:
            with storage_errors(_READ):
                entity = self._mirror.get_entity(member_id, tenant_id)
        except ResourceNotFoundError:
            return None
        return _membership(entity, tenant_id, member_id)

    def _forget(self, member_id: str) -> None:
        with self._lock:
            self._cache.pop(member_id, None)
