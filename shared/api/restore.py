"""The restore group mapping: DB only (BackupSets and the EntraGroups cache), never Graph.

For each group a backup's assignments name, the candidates a restore could map it to,
taken from the tenant's directory cache: the same group if it still exists, then groups
with the same display name, then groups whose name contains it. `helper_text` is in
every answer, and says what to do when the cache is empty or has never been synced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.api.parsing import parse_query
from shared.api.present import ApiResponse
from shared.api.request_models import GroupMappingQuery
from shared.api.response_models import GroupMapping
from shared.backups.store import BackupStore
from shared.directory.groups import DirectoryGroup, EntraGroupsStore
from shared.errors import Conflict, NotFound

MAX_CANDIDATES = 10
SYNC_HINT = "Start a directory_groups.sync run to refresh the cache."


def _candidates(
    source_id: str, source_name: str, groups: list[DirectoryGroup]
) -> list[dict[str, str]]:
    name = source_name.strip().lower()
    ranked: list[tuple[int, str, DirectoryGroup]] = []
    for group in groups:
        other = group.display_name.strip().lower()
        if group.id == source_id:
            rank = 0
        elif name and other == name:
            rank = 1
        elif name and (name in other or other in name) and other:
            rank = 2
        else:
            continue
        ranked.append((rank, other, group))
    ranked.sort(key=lambda r: (r[0], r[1], r[2].id))
    return [{"id": g.id, "display_name": g.display_name} for _, _, g in ranked[:MAX_CANDIDATES]]


def helper_text(synced: bool, group_count: int, sources: int) -> str:
    if not synced:
        return (
            "The directory group cache of this tenant has never been synced, so no target "
            f"groups can be suggested. {SYNC_HINT} Unmapped groups are skipped by a restore."
        )
    if group_count == 0:
        return (
            f"The directory group cache of this tenant is empty. {SYNC_HINT} "
            "Unmapped groups are skipped by a restore."
        )
    if sources == 0:
        return "This backup's assignments name no groups: nothing needs mapping."
    return (
        "Map each source group to a target group of this tenant. Candidates come from the "
        "directory group cache (see cache_synced_at); if a group is missing, start a "
        "directory_groups.sync run. Unmapped groups are skipped by a restore and counted."
    )


def group_mapping(
    backups: BackupStore, groups: EntraGroupsStore, tenant_id: str, params: Mapping[str, str]
) -> ApiResponse:
    query = parse_query(params, GroupMappingQuery)
    backup = backups.get(tenant_id, query.backup_set_id)
    if backup is None:
        raise NotFound("no such backup set in this tenant")
    if not backup.is_complete:
        raise Conflict(
            "the backup set is still being captured",
            code="backup_incomplete",
            details={"status": backup.status.value},
        )
    source_ids = sorted(
        {
            g.lower()
            for item in backups.items(tenant_id, backup.id, with_payloads=False)
            for g in item.group_ids
        }
    )
    state = groups.sync_state(tenant_id)
    cached = list(groups.groups(tenant_id))
    by_id = {g.id: g for g in cached}
    sources: list[dict[str, Any]] = []
    for source_id in source_ids:
        known = by_id.get(source_id)
        name = known.display_name if known else ""
        sources.append(
            {
                "id": source_id,
                "display_name": name,
                "candidates": _candidates(source_id, name, cached),
            }
        )
    return ApiResponse(
        GroupMapping.model_validate(
            {
                "backup_set_id": backup.id,
                "helper_text": helper_text(state is not None, len(cached), len(sources)),
                "cache_synced_at": state.synced_at if state else None,
                "sources": sources,
            }
        )
    )
