"""`directory_groups.sync`: refresh the tenant's `EntraGroups` cache from Graph `/groups`.

Each group is an item; pages are counted too. Groups gone from the directory leave the
cache, but only after a complete listing: a sync with a failed item (a group we could
not read) must not remove that group from the cache, so it removes nothing.
"""

from __future__ import annotations

from typing import Any

from shared.directory.groups import DirectoryGroup, GroupCacheState
from shared.errors import AppError
from shared.policies.snapshot import is_key_safe
from shared.run_types.declarations import DIRECTORY_GROUPS_SYNC, DirectoryGroupsSyncInputs
from shared.run_types.item_bookkeeping import restart_counts
from shared.run_types.run_type_deps import RunTypeDeps
from shared.runs.context import RunContext
from shared.runs.run_type import RunType

GROUP_SELECT = "id,displayName,description,mailEnabled,securityEnabled"
PAGE_SIZE = 999  # Graph's maximum for /groups: fewest round trips


class MalformedGroup(AppError):
    code = "malformed_group"


def parse_group(raw: Any) -> DirectoryGroup:
    if not isinstance(raw, dict) or not is_key_safe(raw.get("id")):
        raise MalformedGroup("a listed group has no usable id")
    name = raw.get("displayName")
    return DirectoryGroup(
        id=str(raw["id"]).lower(),
        display_name=name if isinstance(name, str) else "",
        description=raw.get("description") or "",
        mail_enabled=bool(raw.get("mailEnabled")),
        security_enabled=bool(raw.get("securityEnabled")),
    )


def make_directory_groups_sync(deps: RunTypeDeps) -> RunType:
    def run(ctx: RunContext, inputs: DirectoryGroupsSyncInputs) -> dict[str, Any]:
        restart_counts(ctx, "pages")
        tenant_id = ctx.tenant_id
        # Per attempt: rows stamped by a crashed attempt must not count as seen by this one.
        sync_id = f"{ctx.run.id}.{ctx.attempt}"
        started = deps.clock()
        groups = 0
        with deps.graph.client(tenant_id) as graph:
            params: dict[str, str | int | bool] = {"$select": GROUP_SELECT, "$top": PAGE_SIZE}
            for page in graph.iter_pages("/groups", params):
                ctx.check_cancelled()
                values = page["value"]
                ctx.add_total(len(values))
                ctx.add_count("pages")
                good: list[DirectoryGroup] = []
                for index, raw in enumerate(values):
                    try:
                        good.append(parse_group(raw))
                    except MalformedGroup as error:
                        where = f"groups page {ctx.counts['pages']} item {index}"
                        ctx.item_failed(where, error.code, error.message)
                deps.groups.save_groups(tenant_id, good, sync_id, started)
                ctx.item_succeeded(len(good))
                groups += len(good)
        complete = ctx.counts["failed"] == 0
        removed = deps.groups.remove_unseen(tenant_id, sync_id) if complete else 0
        deps.groups.mark_synced(
            tenant_id, GroupCacheState(synced_at=started, group_count=groups, run_id=ctx.run.id)
        )
        return {
            "groups": groups,
            "removed": removed,
            "synced_at": started.isoformat(),
            "complete": complete,
        }

    return DIRECTORY_GROUPS_SYNC.with_handler(run)
