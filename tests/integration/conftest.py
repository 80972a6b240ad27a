"""The run service and worker from the composition root, over the session's Azurite, with a
private work queue (the dispatcher override), a registry and a clock tests move."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.data.tables import TableClient
from azure.storage.queue import QueueClient

from shared.composition import root
from shared.composition.services import services
from shared.config import RUNS_TABLE, Settings
from shared.persistence.clients import StorageClients
from shared.run_types.diagnostics import NOOP
from shared.runs.dispatch import QueueDispatcher
from shared.runs.identity import LOCK_RANGE, RUN_RANGE
from shared.runs.model import Initiator, Run
from shared.runs.run_type import Registry, RunType
from shared.runs.service import ClaimVerdict, RunService
from shared.runs.store import RunStore
from shared.runs.worker import RunWorker

ALICE = Initiator(id="11111111-1111-1111-1111-111111111111", name="Alice", email="alice@x.test")
BOB = Initiator(id="22222222-2222-2222-2222-222222222222", name="Bob", email="bob@x.test")
LEASE = timedelta(minutes=10)
STALE_QUEUED = timedelta(hours=1)
MAX_DELIVERIES = 5  # host.json's maxDequeueCount, which the worker built by the root uses


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Delivery:
    body: str
    dequeue_count: int
    id: str
    pop_receipt: str


@dataclass
class Harness:
    storage: StorageClients
    table: TableClient
    queue: QueueClient
    store: RunStore
    registry: Registry
    service: RunService
    worker: RunWorker
    clock: Clock
    tenant_id: str
    calls: list[str] = field(default_factory=list)

    def start(
        self, run_type: str = "diagnostics.noop", inputs: Any = None, who: Initiator = ALICE
    ) -> tuple[Run, bool]:
        run, created = self.service.ensure_run(self.tenant_id, run_type, inputs or {}, who)
        if created:
            run = self.service.dispatch_or_fail(run)
        return run, created

    def claim(self, run_id: str, token: str | None = None) -> Run | None:
        """The run if a delivery carrying `token` takes it now, else None."""
        claim = self.service.claim(self.tenant_id, run_id, token=token)
        return claim.run if claim.verdict is ClaimVerdict.CLAIMED else None

    def receive(self, visibility_timeout: int = 1) -> Delivery:
        message = next(iter(self.queue.receive_messages(visibility_timeout=visibility_timeout)))
        return Delivery(message.content, message.dequeue_count, message.id, message.pop_receipt)

    def wait_for_delivery(self, timeout: float = 10) -> Delivery:
        """Poll until a message is visible (e.g. after its visibility timeout ran out)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.queue.receive_messages(visibility_timeout=30, max_messages=1):
                return Delivery(m.content, m.dequeue_count, m.id, m.pop_receipt)
            time.sleep(0.1)
        raise AssertionError("no message became visible")

    def deliver_next(self) -> Run | None:
        """What the Functions host does: receive, run the worker, delete on success."""
        delivery = self.receive()
        result = self.worker.process(delivery.body, delivery.dequeue_count)
        self.queue.delete_message(delivery.id, delivery.pop_receipt)
        return result

    def raw_messages(self) -> list[str]:
        return [m.content for m in self.queue.peek_messages(max_messages=32)]

    def rows(self, key_range: tuple[str, str]) -> list[dict[str, Any]]:
        return list(
            self.table.query_entities(
                "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
                parameters={"pk": self.tenant_id, "lo": key_range[0], "hi": key_range[1]},
            )
        )

    def run_rows(self) -> list[dict[str, Any]]:
        return self.rows(RUN_RANGE)

    def lock_rows(self) -> list[dict[str, Any]]:
        return self.rows(LOCK_RANGE)


def make_service(
    store: RunStore, queue: QueueClient, registry: Registry, clock: Clock
) -> RunService:
    return RunService(
        store,
        QueueDispatcher(queue),
        registry,
        lease=LEASE,
        stale_queued_after=STALE_QUEUED,
        clock=clock,
    )


@pytest.fixture
def registry() -> Registry:
    return Registry([NOOP])


@pytest.fixture
def harness_settings() -> Settings:
    """The settings the harness builds its services with; a folder adds its own."""
    return Settings(
        run_lease_seconds=int(LEASE.total_seconds()),
        run_stale_queued_seconds=int(STALE_QUEUED.total_seconds()),
        run_progress_min_interval_seconds=0.0,
    )


@pytest.fixture
def harness(
    storage: StorageClients,
    tenant_id: str,
    unique_name: str,
    registry: Registry,
    harness_settings: Settings,
) -> Iterator[Harness]:
    table = storage.table(RUNS_TABLE)
    queue = storage.queue(unique_name)
    queue.create_queue()
    clock = Clock()
    with root.override(
        settings=harness_settings,
        storage=storage,
        clock=clock,
        dispatcher=QueueDispatcher(queue),
        registry=registry,
    ):
        built = services()
        yield Harness(
            storage,
            table,
            queue,
            RunStore(table),
            registry,
            built.runs,
            built.worker,
            clock,
            tenant_id,
        )
    queue.delete_queue()


def add_type(
    registry: Registry, name: str, handler: Callable[..., Any], model: type | None = None
) -> None:
    """Register a test-only run type whose inputs model is NOOP's unless given."""
    registry.register(RunType(name, name, "test type", model or NOOP.input_model, handler))
