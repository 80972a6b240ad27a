"""GET /api/tenants/{t}/restore/group-mapping: DB only, helper_text always, never Graph."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.auth.membership import Role
from shared.backups.store import BackupStore
from shared.config import BACKUP_PAYLOADS_CONTAINER, BACKUP_SETS_TABLE, ENTRA_GROUPS_TABLE
from shared.directory.groups import DirectoryGroup, EntraGroupsStore, GroupCacheState
from shared.persistence.blobs import JsonBlobs
from shared.policies.kinds import DEVICE_CONFIGURATIONS
from shared.policies.snapshot import PolicySnapshot

from .conftest import Stack

GROUP_TARGET = "#microsoft.graph.groupAssignmentTarget"


def gid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def backups(stack: Stack) -> BackupStore:
    return BackupStore(
        stack.storage.table(BACKUP_SETS_TABLE),
        JsonBlobs(stack.storage.container(BACKUP_PAYLOADS_CONTAINER)),
    )


def make_backup(backups: BackupStore, tenant: str, groups: list[str], complete: bool = True) -> str:
    now = datetime.now(UTC)
    set_id = f"bk{uuid.uuid4().hex[:10]}"
    backup = backups.begin(tenant, set_id, label="test", run_id=set_id, now=now)
    snapshot = PolicySnapshot(
        kind=DEVICE_CONFIGURATIONS,
        id=gid(),
        display_name="Policy",
        odata_type="#microsoft.graph.windows10GeneralConfiguration",
        policy={"displayName": "Policy"},
        assignments=[{"target": {"@odata.type": GROUP_TARGET, "groupId": g}} for g in groups],
    )
    backups.add_item(backup, snapshot, now)
    if complete:
        backups.complete(backup, item_count=1, now=now)
    return set_id


def mapping(stack: Stack, who: str, tenant: str, **params: str) -> object:
    with stack.client(who) as http:
        return http.get(f"/api/tenants/{tenant}/restore/group-mapping", params=params)


def test_mapping_with_an_empty_cache_still_has_helper_text(
    stack: Stack, backups: BackupStore
) -> None:
    tenant = stack.fresh_tenant(viewer=Role.READONLY)
    source = gid()
    set_id = make_backup(backups, tenant, [source])
    reply = mapping(stack, "viewer", tenant, backup_set_id=set_id)
    assert reply.status_code == 200, reply.text  # type: ignore[attr-defined]
    body = reply.json()  # type: ignore[attr-defined]
    assert body["backup_set_id"] == set_id and body["cache_synced_at"] is None
    assert "never been synced" in body["helper_text"]
    assert body["sources"] == [{"id": source, "display_name": "", "candidates": []}]


def test_mapping_suggests_cached_candidates(stack: Stack, backups: BackupStore) -> None:
    tenant = stack.fresh_tenant(operator=Role.OPERATOR)
    kept, renamed_twin, gone = gid(), gid(), gid()
    cache = EntraGroupsStore(stack.storage.table(ENTRA_GROUPS_TABLE))
    now = datetime.now(UTC)
    cache.save_groups(
        tenant,
        [
            DirectoryGroup(kept, "SG-Pilot"),
            DirectoryGroup(renamed_twin, "SG-Pilot"),
            DirectoryGroup(gid(), "SG-Pilot-Extended"),
            DirectoryGroup(gid(), "Unrelated"),
        ],
        "sync1",
        now,
    )
    cache.mark_synced(tenant, GroupCacheState(synced_at=now, group_count=4, run_id="sync1"))
    set_id = make_backup(backups, tenant, [kept, gone])
    for route in ("/v1.0/*", "/beta/*", "/*/oauth2/*"):  # Graph and tokens down
        stack.cloud.faults.add("unreachable", route=route, remaining=None)
    reply = mapping(stack, "operator", tenant, backup_set_id=set_id)
    stack.cloud.faults.clear()
    assert reply.status_code == 200, reply.text  # type: ignore[attr-defined]
    body = reply.json()  # type: ignore[attr-defined]
    assert body["cache_synced_at"].endswith("Z") and body["helper_text"]
    sources = {s["id"]: s for s in body["sources"]}
    assert sources[kept]["display_name"] == "SG-Pilot"
    names = [c["display_name"] for c in sources[kept]["candidates"]]
    assert sources[kept]["candidates"][0]["id"] == kept
    assert names == ["SG-Pilot", "SG-Pilot", "SG-Pilot-Extended"]
    assert sources[gone] == {"id": gone, "display_name": "", "candidates": []}


def test_mapping_errors(stack: Stack, backups: BackupStore) -> None:
    tenant = stack.fresh_tenant(operator=Role.OPERATOR)
    capturing = make_backup(backups, tenant, [gid()], complete=False)
    assert mapping(stack, "operator", tenant).status_code == 422  # type: ignore[attr-defined]
    missing = mapping(stack, "operator", tenant, backup_set_id="nope")
    assert missing.status_code == 404  # type: ignore[attr-defined]
    busy = mapping(stack, "operator", tenant, backup_set_id=capturing)
    assert busy.status_code == 409  # type: ignore[attr-defined]
    assert mapping(stack, "outsider", tenant, backup_set_id=capturing).status_code == 404  # type: ignore[attr-defined]
    other = stack.fresh_tenant(operator=Role.OPERATOR)
    assert mapping(stack, "operator", other, backup_set_id=capturing).status_code == 404  # type: ignore[attr-defined]
