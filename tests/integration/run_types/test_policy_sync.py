"""policy.sync through the worker: the inventory of all three kinds with assignments,
a subset, a malformed policy, deleted policies, and payloads too large for a row."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest

from devstack.storage_requests import storage_requests
from localcloud.dataset import TenantDataset
from localcloud.seed import CONTOSO_TENANT_ID, TENANTS
from shared.errors import InputInvalid
from shared.persistence.clients import StorageClients
from shared.policies.kinds import DEVICE_CONFIGURATIONS, SETTINGS_CATALOG
from shared.policies.snapshot import parse_policy
from shared.runs.model import RunOutcome
from tests.integration.conftest import Harness

from .conftest import Env, rows

CONTOSO = TENANTS[0]
ALL = CONTOSO.device_configurations + CONTOSO.compliance_policies + CONTOSO.configuration_policies
SYNC = "policy.sync"


def test_sync_reads_every_kind_with_assignments_into_the_inventory(
    harness: Harness, env: Env
) -> None:
    harness.start(SYNC)
    done = harness.deliver_next()
    assert done is not None and done.outcome is RunOutcome.SUCCEEDED
    assert done.summary_counts == {
        "total": ALL,
        "processed": ALL,
        "succeeded": ALL,
        "failed": 0,
        "skipped": 0,
        "removed": 0,
    }
    assert done.result is not None and done.result["policies"] == {
        "compliance_policies": CONTOSO.compliance_policies,
        "device_configurations": CONTOSO.device_configurations,
        "settings_catalog": CONTOSO.configuration_policies,
    }
    inventory = rows(env.tables["inventory"])
    assert len(inventory) == ALL
    by_kind: dict[str, int] = {}
    for row in inventory:
        by_kind[row["Kind"]] = by_kind.get(row["Kind"], 0) + 1
        assert row["RowKey"] == f"{row['Kind']}~{row['PolicyId']}"
        assert row["Payload"] and not row.get("PayloadBlob")
    assert by_kind == done.result["policies"]

    # Assignments and settings are what Graph has, and the summary says so.
    seed = TenantDataset(CONTOSO)
    policy, settings = next(
        (p, s) for p, s in seed.configuration_policies if seed.assignments[p["id"]]
    )
    stored = env.deps.inventory.payload(CONTOSO_TENANT_ID, SETTINGS_CATALOG, policy["id"])
    assert stored is not None
    assert stored["policy"]["settings"] == settings
    assert stored["assignments"] == seed.assignments[policy["id"]]
    [entry] = [
        e for e in env.deps.inventory.entries(CONTOSO_TENANT_ID, SETTINGS_CATALOG)
        if e.policy_id == policy["id"]
    ]  # fmt: skip
    assert entry.display_name == policy["name"]
    assert entry.assignment_summary["count"] == len(seed.assignments[policy["id"]])
    # Every kind came from beta: one page each of device configurations and compliance
    # policies, the settings catalog in pages of 25, and the rest of the settings of each
    # policy whose settings the list cut short (more than 25), read through their link.
    long = [s for _, s in seed.configuration_policies if len(s) > 25]
    assert long and all(stored_settings(env, p) == s for p, s in seed.configuration_policies)
    assert env.cloud.graph_requests(CONTOSO_TENANT_ID, "/beta/deviceManagement") == (
        1 + 1 + 2 + len(long)
    )
    assert env.cloud.graph_requests(CONTOSO_TENANT_ID, "/v1.0/deviceManagement") == 0


def stored_settings(env: Env, policy: dict[str, Any]) -> Any:
    stored = env.deps.inventory.payload(CONTOSO_TENANT_ID, SETTINGS_CATALOG, policy["id"])
    return stored and stored["policy"]["settings"]


def test_a_subset_of_kinds_and_inputs_are_normalised(harness: Harness, env: Env) -> None:
    run, _ = harness.start(SYNC, {"policy_types": ["settings_catalog", "settings_catalog"]})
    assert run.inputs == {"policy_types": ["settings_catalog"]}
    done = harness.deliver_next()
    assert done is not None and done.summary_counts["succeeded"] == CONTOSO.configuration_policies
    assert {row["Kind"] for row in rows(env.tables["inventory"])} == {"settings_catalog"}
    with pytest.raises(InputInvalid):
        harness.start(SYNC, {"policy_types": ["apps"]})
    with pytest.raises(InputInvalid):
        harness.start(SYNC, {"policy_types": []})


def test_a_malformed_policy_fails_alone(harness: Harness, env: Env) -> None:
    env.cloud.faults.malformed(
        route="/beta/deviceManagement/deviceConfigurations", mode="missing_fields", count=1
    )
    harness.start(SYNC)
    done = harness.deliver_next()
    assert done is not None and done.outcome is RunOutcome.PARTIALLY_SUCCEEDED
    counts = done.summary_counts
    assert (counts["total"], counts["succeeded"], counts["failed"]) == (ALL, ALL - 1, 1)
    [failure] = done.failures
    assert failure.code == "malformed_policy" and failure.item == "device_configurations/#0"
    assert len(rows(env.tables["inventory"])) == ALL - 1


def test_policies_deleted_in_the_tenant_leave_the_inventory(harness: Harness, env: Env) -> None:
    ghost = parse_policy(
        DEVICE_CONFIGURATIONS,
        {
            "id": "00000000-0000-4000-8000-0000000000aa",
            "displayName": "Deleted in the portal",
            "@odata.type": "#microsoft.graph.windows10GeneralConfiguration",
        },
    )
    env.deps.inventory.save(CONTOSO_TENANT_ID, ghost, "an-older-sync", datetime.now(UTC))
    harness.start(SYNC, {"policy_types": ["device_configurations"]})
    done = harness.deliver_next()
    assert done is not None and done.summary_counts["removed"] == 1
    keys = {row["RowKey"] for row in rows(env.tables["inventory"])}
    assert ghost.key not in keys and len(keys) == CONTOSO.device_configurations


def test_a_payload_too_large_for_a_row_goes_to_blob_storage(harness: Harness, env: Env) -> None:
    big = {
        "@odata.type": "#microsoft.graph.windows10CustomConfiguration",
        "displayName": "Huge OMA-URI profile",
        "omaSettings": [
            {"displayName": f"setting {i}", "omaUri": f"./Device/Vendor/MSFT/X/{i}" * 20}
            for i in range(200)
        ],
    }
    with env.graph() as graph:
        created = graph.post("/deviceManagement/deviceConfigurations", big)
        assert created is not None
        try:
            harness.start(SYNC, {"policy_types": ["device_configurations"]})
            done = harness.deliver_next()
        finally:
            graph.request("DELETE", f"/deviceManagement/deviceConfigurations/{created['id']}")
    assert done is not None and done.outcome is RunOutcome.SUCCEEDED
    [row] = [r for r in rows(env.tables["inventory"]) if r["PolicyId"] == created["id"]]
    assert row["PayloadBlob"] and "Payload" not in row
    assert all(len(str(value)) < 32_000 for value in row.values())
    stored = env.deps.inventory.payload(CONTOSO_TENANT_ID, DEVICE_CONFIGURATIONS, created["id"])
    assert stored is not None and stored["policy"]["omaSettings"] == big["omaSettings"]
    assert json.loads(row["AssignmentSummary"])["count"] == 0


def test_a_cancel_request_is_honoured_between_policies(
    harness: Harness, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory = env.deps.inventory
    original = inventory.save
    saved: list[str] = []

    def save_then_cancel(tenant_id: str, snapshot: Any, *args: Any) -> None:
        original(tenant_id, snapshot, *args)  # into the run's batch, written as the run ends
        saved.append(snapshot.id)
        if len(saved) == 5:
            harness.service.cancel(tenant_id, run.id)

    monkeypatch.setattr(inventory, "save", save_then_cancel)
    run, _ = harness.start(SYNC)
    done = harness.deliver_next()
    assert done is not None and done.outcome is RunOutcome.CANCELLED
    assert done.summary_counts["processed"] == len(saved) == 5


def test_inventory_rows_are_written_a_hundred_per_transaction(
    harness: Harness, env: Env, storage: StorageClients
) -> None:
    with storage_requests(storage) as requests:
        harness.start(SYNC)
        done = harness.deliver_next()
    assert done is not None and done.outcome is RunOutcome.SUCCEEDED
    writes = [r for r in requests if r.is_transaction_on(env.tables["inventory"])]
    per_kind = (
        CONTOSO.device_configurations,
        CONTOSO.compliance_policies,
        CONTOSO.configuration_policies,
    )
    assert len(writes) == sum(math.ceil(n / 100) for n in per_kind) < ALL
    assert len(rows(env.tables["inventory"])) == ALL
