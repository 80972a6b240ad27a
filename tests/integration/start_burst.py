"""A second process for the concurrency test: N threads start the same run at once.

Usage: python -m tests.integration.start_burst CONNECTION_STRING QUEUE TENANT THREADS GO_FILE
Waits until GO_FILE exists so both processes fire together; prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from shared.config import RUNS_TABLE
from shared.persistence.clients import StorageClients
from shared.run_types.diagnostics import NOOP
from shared.runs.dispatch import QueueDispatcher
from shared.runs.model import Initiator
from shared.runs.run_type import Registry
from shared.runs.service import RunService
from shared.runs.store import RunStore
from tests.integration.conftest import LEASE, STALE_QUEUED

INPUTS = {"items": 3, "label": "burst"}


def burst(service: RunService, tenant_id: str, threads: int, go: threading.Event) -> list[dict]:
    results: list[dict] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        go.wait()
        who = Initiator(id=f"user-{index}", name=f"User {index}")
        run, created = service.ensure_run(tenant_id, "diagnostics.noop", INPUTS, who)
        if created:
            service.dispatch_or_fail(run)
        with lock:
            results.append({"run_id": run.id, "created": created})

    workers = [threading.Thread(target=one, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    return_when_done = workers
    go.set()
    for worker in return_when_done:
        worker.join()
    return results


def main() -> None:
    connection, queue_name, tenant_id, threads, go_file = sys.argv[1:6]
    storage = StorageClients.from_connection_string(connection)
    service = RunService(
        RunStore(storage.table(RUNS_TABLE)),
        QueueDispatcher(storage.queue(queue_name)),
        Registry([NOOP]),
        lease=LEASE,
        stale_queued_after=STALE_QUEUED,
    )
    print("ready", flush=True)
    while not Path(go_file).exists():
        time.sleep(0.001)
    results = burst(service, tenant_id, int(threads), threading.Event())
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
