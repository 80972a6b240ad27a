"""restore.execute through the worker: policies recreated from a backup set with their
assignments retargeted, unmapped groups skipped, dry runs, a refused create, and crashes
and throttling mid-restore that a redelivery finishes without duplicate policies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from localcloud.dataset import TenantDataset
from localcloud.seed import CONTOSO_TENANT_ID, TENANTS
from shared.errors import InputInvalid
from shared.policies.graph import PolicyGraph
from shared.policies.kinds import KINDS, PolicyKind, kind_named
from shared.policies.snapshot import GROUP_TARGETS, parse_policy
from shared.restore.payload import restore_marker
from shared.runs.identity import new_run_id
from shared.runs.model import RunOutcome, RunStatus
from tests.integration.conftest import LEASE, Harness

from .conftest import Env, rows

CONTOSO = TENANTS[0]
RESTORE = "restore.execute"


@dataclass
class Backup:
    set_id: str
    sources: dict[str, tuple[PolicyKind, dict[str, Any]]]  # policy id -> kind, seed policy
    assignments: dict[str, list[dict[str, Any]]]
    mapping: dict[str, str]  # every source group but `left_out`
    left_out: str

    @property
    def unmapped(self) -> int:
        return sum(
            1
            for listed in self.assignments.values()
            for a in listed
            if a["target"].get("groupId") == self.left_out
        )

    @property
    def mapped(self) -> int:
        return sum(len(listed) for listed in self.assignments.values()) - self.unmapped


@pytest.fixture
def backup(harness: Harness) -> Backup:
    """A complete backup of one policy of each kind, all with group assignments."""
    seed = TenantDataset(CONTOSO)

    def with_groups(policies: list[dict[str, Any]]) -> dict[str, Any]:
        return next(
            p
            for p in policies
            if any(a["target"].get("groupId") for a in seed.assignments[p["id"]])
        )

    chosen = {
        "device_configurations": with_groups(seed.device_configurations),
        "compliance_policies": with_groups(seed.compliance_policies),
        "settings_catalog": with_groups([p for p, _ in seed.configuration_policies]),
    }
    run, _ = harness.start("backup.capture", {"policy_ids": [p["id"] for p in chosen.values()]})
    captured = harness.deliver_next()
    assert captured is not None and captured.outcome is RunOutcome.SUCCEEDED
    assignments = {p["id"]: seed.assignments[p["id"]] for p in chosen.values()}
    sources = sorted(
        {a["target"]["groupId"] for listed in assignments.values() for a in listed
         if a["target"].get("groupId")}
    )  # fmt: skip
    left_out, mapped = sources[0], sources[1:]
    targets = [g["id"] for g in seed.groups if g["id"] not in sources][: len(mapped)]
    return Backup(
        set_id=run.id,
        sources={p["id"]: (kind_named(k), p) for k, p in chosen.items()},
        assignments=assignments,
        mapping=dict(zip(mapped, targets, strict=True)),
        left_out=left_out,
    )


def restored_copies(env: Env, run_id: str, source_id: str) -> list[dict[str, Any]]:
    """The policies in the tenant that carry this run's marker for this source policy."""
    marker = restore_marker(run_id, source_id)
    found = []
    with env.graph() as graph:
        for kind in KINDS.values():
            for page in PolicyGraph(graph).pages(kind):
                found += [p for p in page if marker in (p.get("description") or "")]
    return found


def assert_restored_once(env: Env, backup: Backup, run_id: str) -> None:
    for source_id in backup.sources:
        [copy] = restored_copies(env, run_id, source_id)  # exactly one: no duplicates
        expected = {
            backup.mapping[a["target"]["groupId"]]
            for a in backup.assignments[source_id]
            if a["target"].get("groupId") in backup.mapping
        }
        got = {a["target"]["groupId"] for a in copy["assignments"] if "groupId" in a["target"]}
        assert got == expected and backup.left_out not in got


def test_restore_recreates_policies_and_retargets_their_assignments(
    harness: Harness, env: Env, backup: Backup
) -> None:
    run, _ = harness.start(
        RESTORE, {"backup_set_id": backup.set_id, "group_mapping": backup.mapping}
    )
    done = harness.deliver_next()
    assert done is not None and done.outcome is RunOutcome.SUCCEEDED
    assert backup.unmapped >= 1
    assert done.summary_counts == {
        "total": 3 + backup.unmapped,
        "processed": 3 + backup.unmapped,
        "succeeded": 3,
        "failed": 0,
        "skipped": backup.unmapped,
        "created": 3,
        "assignments": backup.mapped,
    }
    assert done.result == {
        "backup_set_id": backup.set_id,
        "dry_run": False,
        "restored": 3,
        "skipped_reasons": {"unmapped_group": backup.unmapped},
    }
    assert_restored_once(env, backup, run.id)
    # Non-group targets (all devices / all users) come back as they were.
    for source_id, (kind, policy) in backup.sources.items():
        [copy] = restored_copies(env, run.id, source_id)
        assert copy["id"] != source_id and copy[kind.name_field] == policy[kind.name_field]
        kept = sorted(
            a["target"]["@odata.type"]
            for a in backup.assignments[source_id]
            if a["target"]["@odata.type"] not in GROUP_TARGETS
        )
        assert kept == sorted(
            a["target"]["@odata.type"]
            for a in copy["assignments"]
            if a["target"]["@odata.type"] not in GROUP_TARGETS
        )
    ledger = rows(env.tables["ledger"])
    assert len(ledger) == 3 and {r["State"] for r in ledger} == {"assigned"}


def test_a_dry_run_counts_everything_and_writes_nothing(
    harness: Harness, env: Env, backup: Backup
) -> None:
    env.cloud.records.reset()
    harness.start(
        RESTORE,
        {"backup_set_id": backup.set_id, "group_mapping": backup.mapping, "dry_run": True},
    )
    done = harness.deliver_next()
    assert done is not None and done.outcome is RunOutcome.SUCCEEDED
    counts = done.summary_counts
    assert (counts["succeeded"], counts["skipped"], counts["created"]) == (3, backup.unmapped, 0)
    assert done.result is not None and done.result["dry_run"] is True
    assert env.cloud.graph_requests(CONTOSO_TENANT_ID) == 0
    assert rows(env.tables["ledger"]) == []


def test_a_policy_graph_refuses_fails_alone(harness: Harness, env: Env) -> None:
    seed = TenantDataset(CONTOSO)
    store = env.deps.backups
    set_id = new_run_id(harness.clock())
    good = seed.device_configurations[0]
    bad = {**seed.device_configurations[1], "@odata.type": "#microsoft.graph.notAThing"}
    kind = kind_named("device_configurations")
    header = store.begin(CONTOSO_TENANT_ID, set_id, label="", run_id=set_id, now=harness.clock())
    for policy in (good, bad):
        store.add_item(header, parse_policy(kind, policy), harness.clock())
    store.complete(header, item_count=2, now=harness.clock())

    run, _ = harness.start(RESTORE, {"backup_set_id": set_id})
    done = harness.deliver_next()
    assert done is not None and done.outcome is RunOutcome.PARTIALLY_SUCCEEDED
    assert [(f.code, f.item) for f in done.failures] == [
        ("graph_bad_request", f"device_configurations/{bad['id']}")
    ]
    assert (done.summary_counts["succeeded"], done.summary_counts["failed"]) == (1, 1)
    assert len(restored_copies(env, run.id, good["id"])) == 1
    # A refused create leaves no ledger row, so a later attempt would try it again.
    assert [r["RowKey"] for r in rows(env.tables["ledger"])] == [
        f"{run.id}~device_configurations~{good['id']}"
    ]


def test_a_crash_after_a_create_does_not_create_it_twice(
    harness: Harness, env: Env, backup: Backup, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = PolicyGraph.create
    creates: list[str] = []

    def dies_after_second_create(self: PolicyGraph, kind: PolicyKind, body: dict[str, Any]) -> str:
        created = original(self, kind, body)
        creates.append(created)
        if len(creates) == 2:
            # Graph made the policy; the process dies before the ledger records its id.
            raise SystemExit("worker process died")
        return created

    monkeypatch.setattr(PolicyGraph, "create", dies_after_second_create)
    run, _ = harness.start(
        RESTORE, {"backup_set_id": backup.set_id, "group_mapping": backup.mapping}
    )
    first = harness.receive(visibility_timeout=1)
    with pytest.raises(SystemExit):
        harness.worker.process(first.body, first.dequeue_count)
    assert harness.service.get(CONTOSO_TENANT_ID, run.id).status is RunStatus.RUNNING
    states = sorted(r["State"] for r in rows(env.tables["ledger"]))
    assert states == ["assigned", "creating"]

    harness.clock.advance(seconds=LEASE.total_seconds())  # the dead attempt's lease ends
    again = harness.wait_for_delivery()
    done = harness.worker.process(again.body, again.dequeue_count)
    assert done is not None and done.outcome is RunOutcome.SUCCEEDED and done.attempt == 2
    assert done.summary_counts["succeeded"] == 3 and done.summary_counts["created"] == 3
    assert len(creates) == 3  # one create per backup item, over both attempts
    assert_restored_once(env, backup, run.id)


def test_throttled_creates_go_back_to_the_queue_and_the_retry_creates_once(
    harness: Harness, env: Env, backup: Backup
) -> None:
    env.cloud.faults.throttle(
        tenant=CONTOSO_TENANT_ID,
        route="/beta/deviceManagement/deviceConfigurations",
        method="POST",
        count=None,
    )
    run, _ = harness.start(
        RESTORE, {"backup_set_id": backup.set_id, "group_mapping": backup.mapping}
    )
    first = harness.receive()
    # Graph's Retry-After re-schedules the message with that delay (this one is deleted).
    assert harness.worker.process(first.body, first.dequeue_count) is None
    harness.queue.delete_message(first.id, first.pop_receipt)
    env.cloud.faults.clear()
    later = harness.wait_for_delivery()
    done = harness.worker.process(later.body, later.dequeue_count)
    assert done is not None and done.outcome is RunOutcome.SUCCEEDED
    assert done.summary_counts["succeeded"] == 3 and done.failures == ()
    assert_restored_once(env, backup, run.id)


def test_only_a_complete_backup_of_this_tenant_can_be_restored(harness: Harness) -> None:
    harness.start(RESTORE, {"backup_set_id": new_run_id(harness.clock())})
    done = harness.deliver_next()
    assert done is not None and done.outcome is RunOutcome.FAILED
    assert [f.code for f in done.failures] == ["backup_set_unusable"]


@pytest.mark.parametrize(
    "inputs",
    [
        {},
        {"backup_set_id": "../etc"},
        {"backup_set_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "group_mapping": {"x": "y"}},
        {"backup_set_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "surprise": True},
    ],
)
def test_bad_inputs_are_refused_at_the_start(harness: Harness, inputs: dict[str, Any]) -> None:
    before = len(harness.run_rows())  # the demo tenant's partition is shared by tests
    with pytest.raises(InputInvalid):
        harness.start(RESTORE, inputs)
    assert len(harness.run_rows()) == before
