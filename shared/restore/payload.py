"""Pure rules for recreating a captured policy: the create body and the assignments.

Nothing here calls Graph or storage, so the rules are unit-tested on their own.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from shared.errors import AppError
from shared.policies.kinds import COMPLIANCE_POLICIES, PolicyKind
from shared.policies.snapshot import GROUP_TARGETS

# Server-set or navigation properties Graph refuses (or ignores) on create.
# `priorityMetaData` is writable (deviceManagementPriorityMetaData, beta) and is kept when
# set, so a restored settings-catalog policy keeps its priority.
READ_ONLY_FIELDS = frozenset(
    {
        "id", "createdDateTime", "lastModifiedDateTime", "version", "settingCount",
        "isAssigned", "assignments", "creationSource", "supportsScopeTags",
        "deviceStatusOverview", "userStatusOverview", "deviceSettingStateSummaries",
        "deviceStatuses", "userStatuses", "groupAssignments",
    }
)  # fmt: skip
# Children created with their parent: Graph gives them new ids, and their navigation
# properties are not part of a create.
_NESTED_READ_ONLY = frozenset({"id", "settingDefinitions"})
_NESTED = ("scheduledActionsForRule", "settings")
UNMAPPED_GROUP = "unmapped_group"
MAX_DESCRIPTION = 1000


class ComplianceActionsMissing(AppError):
    """A compliance policy captured without its scheduled actions cannot be restored
    faithfully: Intune would get a default action (block at once) instead of the original
    grace periods, notifications and retire actions. Capture the policy again."""

    code = "compliance_actions_missing"


def restore_marker(run_id: str, source_policy_id: str) -> str:
    """Carried in the new policy's description: finds it again if the create's answer
    was lost, and tells an admin where the policy came from."""
    return f"[restored by run {run_id} from policy {source_policy_id}]"


def creation_body(kind: PolicyKind, policy: dict[str, Any], marker: str) -> dict[str, Any]:
    body = {
        key: copy.deepcopy(value)
        for key, value in policy.items()
        if key not in READ_ONLY_FIELDS and not _is_annotation(key)
    }
    if body.get("priorityMetaData") is None:
        body.pop("priorityMetaData", None)
    if kind.default_odata_type is not None:
        body.pop("@odata.type", None)  # the settings catalog takes no derived type
    for name in _NESTED:
        if isinstance(body.get(name), list):
            body[name] = [_without_server_fields(child) for child in body[name]]
    description = str(body.get("description") or "")
    room = MAX_DESCRIPTION - len(marker) - 1
    body["description"] = (description[:room] + "\n" if description else "") + marker
    if kind is COMPLIANCE_POLICIES and not _has_actions(body.get("scheduledActionsForRule")):
        raise ComplianceActionsMissing(
            f"compliance policy {policy.get('id')}: the backup holds no scheduled actions"
        )
    return body


def _without_server_fields(value: Any) -> Any:
    """A child for a deep create: no server ids, no navigation links, no annotations."""
    if isinstance(value, list):
        return [_without_server_fields(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: _without_server_fields(item)
        for key, item in value.items()
        if key not in _NESTED_READ_ONLY and not _is_annotation(key)
    }


def _has_actions(rules: Any) -> bool:
    return (
        isinstance(rules, list)
        and bool(rules)
        and all(
            isinstance(rule, dict) and isinstance(rule.get("scheduledActionConfigurations"), list)
            for rule in rules
        )
    )


def _is_annotation(key: str) -> bool:
    # "@odata.context", "settings@odata.context", "@odata.etag"...: keep only @odata.type.
    return "@odata." in key and key != "@odata.type"


@dataclass
class MappedAssignments:
    targets: list[dict[str, Any]] = field(default_factory=list)
    unmapped_groups: list[str] = field(default_factory=list)


def map_assignments(
    assignments: list[dict[str, Any]], group_mapping: dict[str, str]
) -> MappedAssignments:
    """Assignments for the new policy: group targets through the mapping, others as is.

    A group the mapping does not name is left out (and reported), never assigned to
    the source group id, which in another tenant would mean nothing or someone else.
    """
    mapped = MappedAssignments()
    for assignment in assignments:
        target = copy.deepcopy(assignment["target"])
        if target.get("@odata.type") in GROUP_TARGETS:
            source = str(target["groupId"]).lower()
            if source not in group_mapping:
                mapped.unmapped_groups.append(source)
                continue
            target["groupId"] = group_mapping[source]
        mapped.targets.append({"target": target})
    return mapped
