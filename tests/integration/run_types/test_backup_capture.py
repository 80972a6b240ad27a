"""backup.capture through the worker: a sealed set of policies with assignments, a
selection with a missing id, and a crash mid-capture that a redelivery finishes."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from devstack.storage_requests import storage_requests
from localcloud.dataset import TenantDataset
from localcloud.seed import CONTOSO_TENANT_ID, TENANTS
from shared.backups.store import BackupSetSealed, BackupStatus, BackupStore
from shared.persistence.clients import StorageClients
from shared.policies.kinds import DEVICE_CONFIGURATIONS
from shared.policies.snapshot import parse_policy
from shared.runs.model import RunOutcome, RunStatus
from tests.integration.conftest import LEASE, Harness

from .conftest import Env, rows

CONTOSO = TENANTS[0]
ALL = CONTOSO.device_configurations + CONTOSO.compliance_policies + CONTOSO.configuration_policies
CAPTURE = "backup.capture"


def test_capture_snapshots_every_policy_into_a_sealed_set(harness: Harness, env: Env) -> None:
    run, _ = harness.start(CAPTURE, {"label": "before the change"})
    done = harness.deliver_next()
    assert done is not None and done.outcome is RunOutcome.SUCCEEDED
    assert done.summary_counts["succeeded"] == done.summary_counts["total"] == ALL
    assert done.result == {"backup_set_id": run.id, "items": ALL, "label": "before the change"}

    backups = env.deps.backups
    backup = backups.get(CONTOSO_TENANT_ID, run.id)
    assert backup is not None and backup.status is BackupStatus.COMPLETE
    assert backup.item_count == ALL and backup.completed_at is not None
    items = backups.items(CONTOSO_TENANT_ID, run.id)
    assert len(items) == ALL and len({i.key for i in items}) == ALL

    seed = TenantDataset(CONTOSO)
    config = next(p for p in seed.device_configurations if seed.assignments[p["id"]])
    [item] = [i for i in items if i.policy_id == config["id"]]
    document = backups.payload(CONTOSO_TENANT_ID, item)
    assert document["policy"] == config  # the full policy, as Graph has it
    assert document["assignments"] == seed.assignments[config["id"]]
    groups = {a["target"]["groupId"] for a in document["assignments"] if "groupId" in a["target"]}
    assert set(item.group_ids) == groups

    # Sealed: nothing writes to it again.
    with pytest.raises(BackupSetSealed):
        backups.add_item(backup, parse_policy(DEVICE_CONFIGURATIONS, config), backup.created_at)


def test_a_selection_with_an_unknown_id_is_partial(harness: Harness, env: Env) -> None:
    seed = TenantDataset(CONTOSO)
    chosen = [seed.device_configurations[0]["id"], seed.configuration_policies[0][0]["id"]]
    unknown = "00000000-0000-4000-8000-0000000000bb"
    run, _ = harness.start(CAPTURE, {"policy_ids": [*chosen, unknown]})
    done = harness.deliver_next()
    assert done is not None and done.outcome is RunOutcome.PARTIALLY_SUCCEEDED
    counts = done.summary_counts
    assert (counts["total"], counts["succeeded"], counts["failed"]) == (3, 2, 1)
    assert [(f.code, f.item) for f in done.failures] == [("policy_not_found", unknown)]
    items = env.deps.backups.items(CONTOSO_TENANT_ID, run.id)
    assert sorted(i.policy_id for i in items) == sorted(chosen)


def test_a_crash_mid_capture_is_finished_by_the_redelivery_without_duplicates(
    harness: Harness, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = BackupStore.add_item
    calls: list[int] = []

    def dies_after_ten(self: BackupStore, *args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) > 10:
            raise SystemExit("worker process died")
        original(self, *args, **kwargs)

    monkeypatch.setattr(BackupStore, "add_item", dies_after_ten)
    run, _ = harness.start(CAPTURE)
    first = harness.receive(visibility_timeout=1)
    with pytest.raises(SystemExit):
        harness.worker.process(first.body, first.dequeue_count)
    crashed = harness.service.get(CONTOSO_TENANT_ID, run.id)
    assert crashed.status is RunStatus.RUNNING
    assert len(env.deps.backups.items(CONTOSO_TENANT_ID, run.id)) == 10

    monkeypatch.setattr(BackupStore, "add_item", original)
    harness.clock.advance(seconds=LEASE.total_seconds())  # the dead attempt's lease ends
    again = harness.wait_for_delivery()
    done = harness.worker.process(again.body, again.dequeue_count)
    assert done is not None and done.outcome is RunOutcome.SUCCEEDED and done.attempt == 2
    assert done.summary_counts["succeeded"] == ALL
    assert done.result is not None and done.result["backup_set_id"] == run.id
    item_rows = [r for r in rows(env.tables["backups"]) if r["RowKey"].startswith("item~")]
    assert len(item_rows) == ALL  # the ten from the first attempt were not captured twice
    headers = [r for r in rows(env.tables["backups"]) if r["RowKey"].startswith("set~")]
    assert len(headers) == 1 and headers[0]["Status"] == "complete"


def test_items_are_written_in_transactions_with_small_payloads_inline(
    harness: Harness, env: Env, storage: StorageClients
) -> None:
    with storage_requests(storage) as requests:
        run, _ = harness.start(CAPTURE)
        done = harness.deliver_next()
    assert done is not None and done.outcome is RunOutcome.SUCCEEDED

    item_transactions = [
        r for r in requests if r.is_transaction_on(env.tables["backups"]) and b"item~" in r.body
    ]
    blob_writes = [r for r in requests if r.method == "PUT" and "/c-backups-" in r.url]
    assert len(item_transactions) == math.ceil(ALL / 100)
    assert blob_writes == []  # every demo policy fits its row
    items = env.deps.backups.items(CONTOSO_TENANT_ID, run.id)
    assert len(items) == ALL and all(i.inline is not None and i.blob == "" for i in items)
    for item in items:
        assert env.deps.backups.payload(CONTOSO_TENANT_ID, item)["policy"]["id"] == item.policy_id


def test_a_payload_too_large_for_its_row_goes_to_a_blob(env: Env) -> None:
    backups = env.deps.backups
    backup = backups.begin(
        CONTOSO_TENANT_ID, "big-set", label="", run_id="r", now=datetime.now(UTC)
    )
    seed = TenantDataset(CONTOSO)
    big = {**seed.device_configurations[0], "description": "d" * 40_000}
    snapshot = parse_policy(DEVICE_CONFIGURATIONS, big)
    with backups.batch() as rows:
        backups.add_item(backup, snapshot, backup.created_at, rows)
    [item] = backups.items(CONTOSO_TENANT_ID, "big-set")
    assert item.inline is None and item.blob.endswith(f"/{snapshot.id}.json")
    assert backups.payload(CONTOSO_TENANT_ID, item)["policy"]["description"] == "d" * 40_000
    [summary] = backups.items(CONTOSO_TENANT_ID, "big-set", with_payloads=False)
    assert summary.inline is None and summary.group_ids == item.group_ids
