"""The root's renames override: a test's private tables, queues and containers replace the
deployed ones by name, and only those it names."""

from __future__ import annotations

from shared.composition.root import Overrides, build_foundation, storage_from_settings
from shared.config import (
    NOTIFICATIONS_QUEUE,
    POLICY_PAYLOADS_CONTAINER,
    RUNS_QUEUE,
    RUNS_TABLE,
    TENANTS_TABLE,
    Settings,
)


def test_renamed_parts_get_the_private_name_and_the_rest_keep_theirs() -> None:
    settings = Settings()
    base = build_foundation(
        Overrides(
            settings=settings,
            storage=storage_from_settings(settings),
            renames={
                TENANTS_TABLE: "ttenantsprivate",
                NOTIFICATIONS_QUEUE: "notices-private",
                POLICY_PAYLOADS_CONTAINER: "c-policies-private",
            },
        )
    )
    assert base.table(TENANTS_TABLE).table_name == "ttenantsprivate"
    assert base.queue(NOTIFICATIONS_QUEUE).queue_name == "notices-private"
    assert base.container(POLICY_PAYLOADS_CONTAINER).container_name == "c-policies-private"
    assert base.table(RUNS_TABLE).table_name == RUNS_TABLE
    assert base.queue(RUNS_QUEUE).queue_name == RUNS_QUEUE


def test_without_renames_every_part_has_its_deployed_name() -> None:
    settings = Settings()
    base = build_foundation(Overrides(settings=settings, storage=storage_from_settings(settings)))
    assert base.table(TENANTS_TABLE).table_name == TENANTS_TABLE
    assert base.queue(NOTIFICATIONS_QUEUE).queue_name == NOTIFICATIONS_QUEUE
