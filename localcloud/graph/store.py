"""In-memory, thread-safe tenant data: seeded groups and policies plus what Graph creates."""

from __future__ import annotations

import copy
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from localcloud.dataset import TenantDataset
from localcloud.seed import TENANTS


@dataclass(frozen=True)
class Collection:
    """One Intune policy collection under /deviceManagement."""

    name: str
    versions: frozenset[str]
    name_field: str  # displayName, or `name` for the settings catalog
    entity: str  # OData type name, for @odata.context
    has_settings: bool = False
    default_top: int = 100


DEVICE_CONFIGURATIONS = Collection(
    "deviceConfigurations", frozenset({"v1.0", "beta"}), "displayName", "deviceConfiguration"
)
COMPLIANCE_POLICIES = Collection(
    "deviceCompliancePolicies",
    frozenset({"v1.0", "beta"}),
    "displayName",
    "deviceCompliancePolicy",
)
# The settings catalog is beta-only and pages at 25, which makes paging visible early.
CONFIGURATION_POLICIES = Collection(
    "configurationPolicies",
    frozenset({"beta"}),
    "name",
    "deviceManagementConfigurationPolicy",
    has_settings=True,
    default_top=25,
)
COLLECTIONS = {
    c.name.lower(): c for c in (DEVICE_CONFIGURATIONS, COMPLIANCE_POLICIES, CONFIGURATION_POLICIES)
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TenantStore:
    """All reads return deep copies, so handlers can never mutate shared state by accident."""

    def __init__(self, dataset: TenantDataset) -> None:
        self._lock = threading.RLock()
        self._groups: dict[str, dict[str, Any]] = {g["id"]: g for g in dataset.groups}
        self._policies: dict[str, dict[str, dict[str, Any]]] = {
            DEVICE_CONFIGURATIONS.name: {p["id"]: p for p in dataset.device_configurations},
            COMPLIANCE_POLICIES.name: {p["id"]: p for p in dataset.compliance_policies},
            CONFIGURATION_POLICIES.name: {p["id"]: p for p, _ in dataset.configuration_policies},
        }
        self._settings: dict[str, list[dict[str, Any]]] = {
            p["id"]: s for p, s in dataset.configuration_policies
        }
        self._assignments: dict[str, list[dict[str, Any]]] = dict(dataset.assignments)
        # Navigation properties kept apart from the entity, as Graph does.
        self._scheduled_actions: dict[str, list[dict[str, Any]]] = dict(dataset.scheduled_actions)
        self._filters: dict[str, dict[str, Any]] = {f["id"]: f for f in dataset.assignment_filters}

    def groups(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._groups.values()))

    def group(self, group_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._groups.get(group_id.lower())
            return copy.deepcopy(found) if found else None

    def has_group(self, group_id: str) -> bool:
        with self._lock:
            return group_id.lower() in self._groups

    def policies(self, collection: Collection) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._policies[collection.name].values()))

    def policy(self, collection: Collection, policy_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._policies[collection.name].get(policy_id.lower())
            return copy.deepcopy(found) if found else None

    def settings(self, policy_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._settings.get(policy_id.lower(), []))

    def has_filter(self, filter_id: str) -> bool:
        with self._lock:
            return filter_id.lower() in self._filters

    def scheduled_actions(self, policy_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._scheduled_actions.get(policy_id.lower(), []))

    def assignments(self, policy_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._assignments.get(policy_id.lower(), []))

    def create_policy(
        self,
        collection: Collection,
        body: dict[str, Any],
        settings: list[dict[str, Any]] | None = None,
        scheduled_actions: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        stamp = now_iso()
        policy = {
            **copy.deepcopy(body),
            "id": str(uuid.uuid4()),
            "createdDateTime": stamp,
            "lastModifiedDateTime": stamp,
        }
        policy.setdefault("roleScopeTagIds", ["0"])
        if collection.has_settings:
            policy["settingCount"] = len(settings or [])
            policy["isAssigned"] = False
        else:
            policy["version"] = 1
        with self._lock:
            self._policies[collection.name][policy["id"]] = policy
            self._assignments[policy["id"]] = []
            if collection.has_settings:
                self._settings[policy["id"]] = [
                    {**copy.deepcopy(setting), "id": str(index)}
                    for index, setting in enumerate(settings or [])
                ]
            if scheduled_actions is not None:
                self._scheduled_actions[policy["id"]] = [
                    _with_ids(rule, "scheduledActionConfigurations") for rule in scheduled_actions
                ]
            return copy.deepcopy(policy)

    def replace_assignments(
        self, collection: Collection, policy_id: str, assignments: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        with self._lock:
            policy = self._policies[collection.name][policy_id.lower()]
            self._assignments[policy["id"]] = copy.deepcopy(assignments)
            policy["lastModifiedDateTime"] = now_iso()
            if collection.has_settings:
                policy["isAssigned"] = bool(assignments)
            return copy.deepcopy(assignments)

    def delete_policy(self, collection: Collection, policy_id: str) -> bool:
        with self._lock:
            removed = self._policies[collection.name].pop(policy_id.lower(), None)
            self._assignments.pop(policy_id.lower(), None)
            self._settings.pop(policy_id.lower(), None)
            self._scheduled_actions.pop(policy_id.lower(), None)
            return removed is not None


def _with_ids(item: dict[str, Any], children: str) -> dict[str, Any]:
    """A created navigation item and its children, each with the id Graph gives it."""
    made = {**copy.deepcopy(item), "id": str(uuid.uuid4())}
    if isinstance(made.get(children), list):
        made[children] = [{**child, "id": str(uuid.uuid4())} for child in made[children]]
    return made


def seeded_stores(seed: str) -> dict[str, TenantStore]:
    return {t.tenant_id: TenantStore(TenantDataset(t, seed)) for t in TENANTS}
