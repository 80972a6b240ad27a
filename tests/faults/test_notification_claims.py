"""A delivery claim stranded in `sending` (the channel failed, recording `retry` failed too) is
looked at again when its lease runs out, then marked unknown and shown in-app: never
left `sending` with nobody told."""

from __future__ import annotations

from datetime import timedelta

from shared.notifications.message import NotificationEvent, NotificationMessage
from shared.persistence.memory_table import MemoryTable
from shared.runs.model import RunOutcome
from tests.faults.world import ALICE, SEND_LEASE, TENANT, World


def test_a_stranded_claim_is_revisited_after_its_lease_and_marked_unknown() -> None:
    world = World("notify.ledger_record", "before")  # recording the email `retry` fails
    world.email.outages = 1
    run, _ = world.service.ensure_run(TENANT, "sim.work", {"items": 1}, ALICE)
    run = world.service.finish(TENANT, run.id, RunOutcome.SUCCEEDED)
    world.notices_queue.receive_messages()  # the outbox's own copies: ignore them here
    body = NotificationMessage(
        event=NotificationEvent.COMPLETED, run_id=run.id, tenant_id=TENANT
    ).model_dump_json()
    try:
        world.notifier.process(body)
    except Exception:  # noqa: S110 - the host would retry this message
        pass
    assert _ledger(world.ledger_table, run.id, "email") == "sending"
    # The host redelivers after 30 s: the claim is still live, so look again after it.
    world.now += timedelta(seconds=30)
    world.notifier.process(body)
    [later] = [m for m in world.notices_queue.inner_messages() if '"email"' in m.content]
    assert later.next_visible_on > world.now + SEND_LEASE - timedelta(seconds=31)
    world.now = later.next_visible_on
    world.notifier.process(later.content)
    assert _ledger(world.ledger_table, run.id, "email") == "unknown"
    [notice] = [
        e for e in world.inbox_table.rows(ALICE.id) if e["NotificationId"].endswith("completed")
    ]
    assert "email" in notice["DeliveryProblems"]
    assert sum(world.email.delivered.values()) == 0


def _ledger(table: MemoryTable, run_id: str, channel: str) -> str | None:
    rows = [e for e in table.rows(run_id) if e["RowKey"] == f"completed~{channel}"]
    return rows[0]["State"] if rows else None


def test_the_memory_table_counts_rows_examined_like_a_partition_scan() -> None:
    table = MemoryTable()
    for index in range(2500):
        table.create_entity(
            {
                "PartitionKey": "p",
                "RowKey": f"run~{index:05d}",
                "Outcome": "failed" if index % 100 == 0 else "succeeded",
            }
        )
    table.create_entity({"PartitionKey": "q", "RowKey": "run~00000", "Outcome": "failed"})
    found = list(
        table.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and Outcome eq @o",
            parameters={"pk": "p", "lo": "run~", "o": "failed"},
        )
    )
    assert len(found) == 25 and table.examined == 2500  # every row of the range, not q's
    table.examined = 0
    rows = table.query_entities(
        "PartitionKey eq @pk and Outcome eq @o", parameters={"pk": "p", "o": "failed"}
    )
    next(rows)
    assert table.examined == 1000  # one page of the scan answers the first row
