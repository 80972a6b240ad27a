"""Backup, then restore into an emptied tenant, through the worker, against the strict
stand-in: every profile type (beta-only ones included), assignment filters, compliance
actions and long settings lists come back equal to the originals, field by field, and
a restore whose creates are answered 504 after being done makes no duplicates.

This module has a LocalCloud of its own: it deletes every policy of the demo tenant.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.dataset import TenantDataset
from localcloud.seed import TENANTS
from shared.policies.graph import PolicyGraph
from shared.policies.kinds import ALL_KIND_NAMES, kind_named
from shared.policies.snapshot import assignment_groups, parse_policy
from shared.restore.payload import restore_marker
from shared.runs.model import RunOutcome
from tests.integration.conftest import Harness

from .conftest import Env

CONTOSO = TENANTS[0]
# Set by the server (or by Intune's own bookkeeping), never by a create.
SERVER_SET = frozenset(
    {"id", "createdDateTime", "lastModifiedDateTime", "version", "isAssigned",
     "supportsScopeTags", "creationSource"}
)  # fmt: skip
MAX_MAPPED_GROUPS = 150  # RestoreInputs.group_mapping
MAX_POLICIES = 100  # RestorePolicyIds


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud.start() as instance:
        yield instance


Tenant = dict[str, dict[str, Any]]  # policy id -> {"kind", "policy", "assignments"}


def read_tenant(env: Env) -> Tenant:
    """Every policy as the app reads it (beta, expanded, settings completed)."""
    found: Tenant = {}
    with env.graph() as client:
        graph = PolicyGraph(client)
        for name in ALL_KIND_NAMES:
            kind = kind_named(name)
            for page in graph.pages(kind):
                for raw in page:
                    snapshot = parse_policy(kind, graph.complete(kind, raw))
                    found[snapshot.id] = snapshot.document()
    return found


def empty_tenant(env: Env, tenant: Tenant) -> None:
    with env.graph() as client:
        for policy_id, document in tenant.items():
            kind = kind_named(document["kind"])
            client.request("DELETE", f"{kind.path}/{policy_id}", version=kind.version)


def _without_ids(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_ids(item) for item in value]
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "id"}
    return value


def comparable(document: dict[str, Any], marker: str | None = None) -> dict[str, Any]:
    """A policy with what a restore must keep: all but server-set properties and ids;
    assignments as a set of targets (their filters included)."""
    policy = {k: v for k, v in document["policy"].items() if k not in SERVER_SET}
    if marker is not None:  # the restored copy says where it came from
        assert policy["description"].endswith(marker)
        policy["description"] = policy["description"].removesuffix(marker).rstrip("\n")
    targets = sorted(json.dumps(a["target"], sort_keys=True) for a in document["assignments"])
    return {"kind": document["kind"], "policy": _without_ids(policy), "targets": targets}


def chunks(tenant: Tenant) -> list[tuple[list[str], dict[str, str]]]:
    """Restore runs within the input limits: policy ids, and each group mapped to itself."""
    runs: list[tuple[list[str], dict[str, str]]] = []
    ids: list[str] = []
    groups: set[str] = set()
    for policy_id, document in sorted(tenant.items()):
        mine = {g for g, _ in assignment_groups(document["assignments"])}
        if len(ids) == MAX_POLICIES or len(groups | mine) > MAX_MAPPED_GROUPS:
            runs.append((ids, {g: g for g in groups}))
            ids, groups = [], set()
        ids.append(policy_id)
        groups |= mine
    runs.append((ids, {g: g for g in groups}))
    return runs


def backup_then_empty(harness: Harness, env: Env) -> tuple[str, Tenant]:
    original = read_tenant(env)
    run, _ = harness.start("backup.capture", {"label": "round trip"})
    captured = harness.deliver_next()
    assert captured is not None and captured.outcome is RunOutcome.SUCCEEDED
    assert captured.result is not None and captured.result["items"] == len(original)
    empty_tenant(env, original)
    assert read_tenant(env) == {}
    return run.id, original


def restore(harness: Harness, set_id: str, original: Tenant) -> list[str]:
    run_ids = []
    for policy_ids, mapping in chunks(original):
        run, _ = harness.start(
            "restore.execute",
            {"backup_set_id": set_id, "policy_ids": policy_ids, "group_mapping": mapping},
        )
        done = harness.deliver_next()
        assert done is not None and done.outcome is RunOutcome.SUCCEEDED, done
        assert done.summary_counts["created"] == len(policy_ids)
        run_ids.append(run.id)
    return run_ids


def assert_restored_faithfully(env: Env, original: Tenant, run_ids: list[str]) -> None:
    restored = read_tenant(env)
    assert len(restored) == len(original)  # one copy each: no duplicate, none missing
    by_marker: dict[str, dict[str, Any]] = {}
    for document in restored.values():
        description = document["policy"]["description"]
        [marker] = [
            restore_marker(run_id, source)
            for run_id in run_ids
            for source in original
            if restore_marker(run_id, source) in description
        ]
        by_marker[marker] = document
    for source_id, document in original.items():
        [marker] = [m for m in by_marker if m.endswith(f" from policy {source_id}]")]
        assert comparable(by_marker[marker], marker) == comparable(document), source_id


def test_the_tenant_seeds_what_the_round_trip_must_carry(env: Env) -> None:
    """The round trips below prove something only if the tenant holds it."""
    seed = TenantDataset(CONTOSO)
    tenant = read_tenant(env)
    types = {d["policy"].get("@odata.type") for d in tenant.values()}
    assert {"#microsoft.graph.windowsKioskConfiguration",
            "#microsoft.graph.androidDeviceOwnerGeneralDeviceConfiguration",
            "#microsoft.graph.androidDeviceOwnerCompliancePolicy"} <= types  # fmt: skip
    assert {p["@odata.type"] for p in seed.device_configurations} <= types
    targets = [a["target"] for d in tenant.values() for a in d["assignments"]]
    assert any(t["deviceAndAppManagementAssignmentFilterType"] == "exclude" for t in targets)
    actions = [
        a
        for d in tenant.values()
        for rule in d["policy"].get("scheduledActionsForRule", [])
        for a in rule["scheduledActionConfigurations"]
    ]
    assert any(a["actionType"] == "retire" for a in actions)
    assert any(a["actionType"] == "block" and a["gracePeriodHours"] > 0 for a in actions)
    assert max(len(d["policy"].get("settings", [])) for d in tenant.values()) > 25


def test_a_backup_restored_into_an_empty_tenant_equals_the_original(
    harness: Harness, env: Env
) -> None:
    set_id, original = backup_then_empty(harness, env)
    run_ids = restore(harness, set_id, original)
    assert_restored_faithfully(env, original, run_ids)


def test_creates_done_then_answered_504_make_no_duplicates(harness: Harness, env: Env) -> None:
    set_id, original = backup_then_empty(harness, env)
    lost = [
        env.cloud.faults.after_processing(
            route=f"/beta{kind_named(name).path}", method="POST", count=None
        )
        for name in ALL_KIND_NAMES
    ]
    # An assign is resent after a 504: it replaces the set, so twice is once.
    resent = env.cloud.faults.after_processing(route="*/assign", method="POST", count=3)
    run_ids = restore(harness, set_id, original)
    assert sum(rule.hits for rule in lost) == len(original)  # every create was answered 504
    assert resent.hits == 3
    assert_restored_faithfully(env, original, run_ids)
