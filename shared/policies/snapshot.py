"""A policy as read from Graph, checked: the unit that policy.sync, backup.capture and
restore.execute handle one at a time (so one malformed policy fails only itself)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shared.errors import AppError
from shared.policies.kinds import PolicyKind

# Policy and group ids become table keys and blob names: only key-safe characters.
_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,127}")
GROUP_TARGETS = frozenset(
    {
        "#microsoft.graph.groupAssignmentTarget",
        "#microsoft.graph.exclusionGroupAssignmentTarget",
    }
)
EXCLUDE_TARGET = "#microsoft.graph.exclusionGroupAssignmentTarget"
ALL_DEVICES_TARGET = "#microsoft.graph.allDevicesAssignmentTarget"
ALL_USERS_TARGET = "#microsoft.graph.allLicensedUsersAssignmentTarget"
# The summary kept in a table row lists at most this many groups (the payload has all).
SUMMARY_GROUPS = 50


class MalformedPolicy(AppError):
    """Graph returned a policy we cannot use (no id, no name, bad assignments)."""

    code = "malformed_policy"


def is_key_safe(value: object) -> bool:
    return isinstance(value, str) and bool(_ID.fullmatch(value))


@dataclass(frozen=True)
class PolicySnapshot:
    kind: PolicyKind
    id: str
    display_name: str
    odata_type: str
    policy: dict[str, Any]  # the entity as Graph gave it, assignments taken out
    assignments: list[dict[str, Any]]

    @property
    def key(self) -> str:
        """Unique within a tenant: `<kind>~<policy id>`."""
        return f"{self.kind.name}~{self.id}"

    @property
    def ref(self) -> str:
        """How a failure names the item."""
        return f"{self.kind.name}/{self.id}"

    def document(self) -> dict[str, Any]:
        """What is stored: the full policy and its assignments."""
        return {"kind": self.kind.name, "policy": self.policy, "assignments": self.assignments}

    def group_ids(self) -> list[str]:
        return sorted({group for group, _ in assignment_groups(self.assignments)})

    def assignment_summary(self) -> dict[str, Any]:
        included = sorted(
            {g for g, excluded in assignment_groups(self.assignments) if not excluded}
        )
        excluded = sorted({g for g, was in assignment_groups(self.assignments) if was})
        types = [a["target"].get("@odata.type") for a in self.assignments]
        return {
            "count": len(self.assignments),
            "all_devices": ALL_DEVICES_TARGET in types,
            "all_users": ALL_USERS_TARGET in types,
            "groups": included[:SUMMARY_GROUPS],
            "excluded_groups": excluded[:SUMMARY_GROUPS],
            "groups_truncated": len(included) > SUMMARY_GROUPS or len(excluded) > SUMMARY_GROUPS,
        }


def assignment_groups(assignments: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    """(group id, is exclusion) for every group-targeted assignment."""
    found = []
    for assignment in assignments:
        target = assignment["target"]
        if target.get("@odata.type") in GROUP_TARGETS:
            found.append((str(target["groupId"]).lower(), target["@odata.type"] == EXCLUDE_TARGET))
    return found


def parse_policy(kind: PolicyKind, raw: Any) -> PolicySnapshot:
    if not isinstance(raw, dict):
        raise MalformedPolicy(f"{kind.name}: a listed policy is not a JSON object")
    policy_id = raw.get("id")
    if not is_key_safe(policy_id):
        raise MalformedPolicy(f"{kind.name}: a listed policy has no usable id")
    name = raw.get(kind.name_field)
    if not isinstance(name, str) or not name.strip():
        raise MalformedPolicy(f"{kind.name} {policy_id}: no {kind.name_field}")
    odata_type = raw.get("@odata.type") or kind.default_odata_type
    if not isinstance(odata_type, str) or not odata_type.startswith("#microsoft.graph."):
        raise MalformedPolicy(f"{kind.name} {policy_id}: no @odata.type")
    assignments = raw.get("assignments", [])
    if not isinstance(assignments, list) or not all(_valid_assignment(a) for a in assignments):
        raise MalformedPolicy(f"{kind.name} {policy_id}: assignments are not readable")
    policy = {k: v for k, v in raw.items() if k not in ("assignments", "assignments@odata.context")}
    return PolicySnapshot(kind, str(policy_id), name, odata_type, policy, assignments)


def _valid_assignment(assignment: Any) -> bool:
    target = assignment.get("target") if isinstance(assignment, dict) else None
    if not isinstance(target, dict) or not isinstance(target.get("@odata.type"), str):
        return False
    return target["@odata.type"] not in GROUP_TARGETS or is_key_safe(target.get("groupId"))
