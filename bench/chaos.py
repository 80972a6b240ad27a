"""`make chaos`: a bounded soak of the real stack under faults; prints one line of figures.

Two local hosts (devhost, queue workers and timers on), a disk-backed Azurite and the
local Entra/Graph, all on free loopback ports. A driver starts 300+ runs of mixed types
(no-op, directory group sync, policy sync) for several people and an app, repeats some
(deduplication), cancels some, and lets some starts "die" between the commit and the send
(lost dispatches). Meanwhile a host is killed with SIGKILL and restarted every ~20 s,
Azurite is stopped and started once, and Graph 429 and 503 storms come and go. The
driver also plays the reaper timer (every few seconds; leases and windows are short, set
through settings). Then the faults stop, everything drains, and the invariants are read
from the tables: duplicates, lost, stuck, duplicate notices and overwritten must be 0.

Stops by itself within 10 minutes. Not part of `make test`.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from devhost.azurite import azurite_binary, azurite_command
from devhost.localstack import local_values, seed_demo
from devstack.azurite import Azurite as RunningAzurite
from devstack.azurite import free_port
from localcloud import LocalCloud
from localcloud.seed import CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID
from shared.config import NOTIFICATION_DELIVERIES_TABLE, NOTIFICATIONS_TABLE, RUNS_TABLE
from shared.persistence.clients import StorageClients, azurite_connection_string
from shared.runs.identity import LOCK_RANGE, OUTBOX_RANGE, RUN_RANGE
from shared.runs.model import FailureCode, Initiator, Run
from shared.runs.rows import run_from_entity

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 480  # the whole soak, drain included: well inside 10 minutes
START_PHASE_SECONDS = 170
RUNS_TO_START = 320
KILL_EVERY_SECONDS = 20
LEASE_SECONDS = 8
# A killed host's in-flight messages come back after this (the Functions host: 10 min).
MESSAGE_LEASE_SECONDS = 20
TENANTS = (CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID)
PEOPLE = [
    Initiator(id=f"c4a05000-0000-4000-8000-00000000000{i}", name=f"Person {i}",
              email=f"person{i}@contoso.test")
    for i in range(1, 5)
]  # fmt: skip
ROBOT = Initiator(id="chaos-automation", name="Automation", kind="app")
SETTINGS = {
    "RUN_LEASE_SECONDS": str(LEASE_SECONDS),
    "RUN_REDISPATCH_SECONDS": "2",
    "RUN_DISPATCH_LOST_SECONDS": "6",
    "RUN_MAX_REDISPATCHES": "5",
    "RUN_STALE_QUEUED_SECONDS": "900",
    "RUN_PROGRESS_MIN_INTERVAL_SECONDS": "0.5",
    "RUN_MAX_RETRY_AFTER_SECONDS": "3",
    "NOTIFY_RETRY_BASE_SECONDS": "1",
    "NOTIFY_MAX_ATTEMPTS": "8",
    "NOTIFY_SEND_LEASE_SECONDS": "15",
    "ENABLE_DIAGNOSTIC_RUN_TYPES": "true",
    "AUTO_PROVISION_STORAGE": "true",
}


@dataclass
class Figures:
    started: int = 0
    kills: int = 0
    azurite_restarts: int = 0
    storms: int = 0
    died_before_send: int = 0
    duplicates: int = 0
    overwritten: int = 0
    active_twice: int = 0
    notes: list[str] = field(default_factory=list)


class Azurite:
    def __init__(self, location: Path) -> None:
        self.location = location
        self.ports = (free_port(), free_port(), free_port())
        self.process: subprocess.Popen[bytes] | None = None
        binary = azurite_binary(ROOT)
        if binary is None:
            raise SystemExit("Azurite is not installed: run `make deps`.")
        self.binary = binary

    @property
    def connection_string(self) -> str:
        blob, queue, table = self.ports
        return azurite_connection_string(blob=blob, queue=queue, table=table)

    def start(self) -> None:
        blob, queue, table = self.ports
        self.process = subprocess.Popen(
            azurite_command(
                self.binary, blob=blob, queue=queue, table=table, location=self.location
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(lambda: _port_open(table) and _port_open(queue), 30, "Azurite")

    def stop(self) -> None:
        RunningAzurite(self.connection_string, self.process).stop()


class Host:
    """One Functions instance: `python -m devhost serve` on its own port."""

    def __init__(self, port: int, settings: Path, host_json: Path, log: Path) -> None:
        self.port, self.settings, self.host_json, self.log = port, settings, host_json, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "devhost", "serve", "--port", str(self.port),
                    "--script-root", str(ROOT), "--settings", str(self.settings),
                    "--host-json", str(self.host_json), "--log-level", "WARNING",
                    "--message-lease", str(MESSAGE_LEASE_SECONDS),
                ],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with suppress(Exception):
            if condition():
                return
        time.sleep(0.2)
    raise SystemExit(f"chaos: {what} did not come up within {seconds:.0f} s")


class Observer:
    """Polls the run rows: two attempts holding one run at once, two active runs of one
    identity, or a terminal run that changed, are counted from what the table shows."""

    def __init__(self, storage: StorageClients, figures: Figures) -> None:
        self._table = storage.table(RUNS_TABLE)
        self._figures = figures
        self._last: dict[str, Run] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Observer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            with suppress(Exception):  # Azurite may be down: look again later
                self.look()

    def look(self) -> None:
        active: Counter[tuple[str, str]] = Counter()
        for tenant in TENANTS:
            for run in runs_of(self._table, tenant):
                if run.is_active:
                    active[(tenant, run.identity_hash)] += 1
                self._compare(self._last.get(run.id), run)
                self._last[run.id] = run
        self._figures.active_twice += sum(1 for n in active.values() if n > 1)

    def _compare(self, before: Run | None, now: Run) -> None:
        if before is None:
            return
        if before.is_terminal and (now.outcome, now.completed_at) != (
            before.outcome,
            before.completed_at,
        ):
            self._figures.overwritten += 1
        if now.attempt > before.attempt and before.lease_expires_at and now.lease_expires_at:
            claimed_by = now.lease_expires_at - timedelta(seconds=LEASE_SECONDS)
            if before.lease_expires_at > claimed_by + timedelta(seconds=1):
                self._figures.duplicates += 1  # taken while the other's lease was live


def runs_of(table: Any, tenant: str) -> list[Run]:
    rows = table.query_entities(
        "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
        parameters={"pk": tenant, "lo": RUN_RANGE[0], "hi": RUN_RANGE[1]},
    )
    return [run_from_entity(e) for e in rows]


def _count(table: Any, tenant: str, key_range: tuple[str, str]) -> int:
    rows = table.query_entities(
        "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
        parameters={"pk": tenant, "lo": key_range[0], "hi": key_range[1]},
        select=["RowKey"],
    )
    return sum(1 for _ in rows)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def start_some(services: Any, figures: Figures, rng: random.Random) -> None:
    runs = services.runs
    tenant = rng.choice(TENANTS)
    who = ROBOT if rng.random() < 0.15 else rng.choice(PEOPLE)
    roll = rng.random()
    inputs: dict[str, Any]
    if roll < 0.15:
        run_type, inputs = "directory_groups.sync", {}
    elif roll < 0.3:
        run_type, inputs = "policy.sync", {}
    else:
        items = rng.randint(1, 25)
        fail = [i for i in range(items) if rng.random() < 0.05]
        label = f"chaos-{figures.started}" if rng.random() < 0.85 else "repeat"
        run_type, inputs = "diagnostics.noop", {"items": items, "fail_items": fail, "label": label}
    try:
        run, created = runs.ensure_run(tenant, run_type, inputs, who)
        if not created:
            return
        figures.started += 1
        if rng.random() < 0.05:
            figures.died_before_send += 1  # the front end died after the commit
            return
        run = runs.dispatch_or_fail(run)
        if rng.random() < 0.08:
            runs.cancel(tenant, run.id)
    except Exception as error:  # noqa: BLE001 - a user sees a 5xx and may retry
        figures.notes.append(type(error).__name__)


def main() -> int:
    began = time.monotonic()
    rng = random.Random(11)
    figures = Figures()
    work = Path(tempfile.mkdtemp(prefix="chaos-"))
    azurite = Azurite(work / "azurite")
    azurite.location.mkdir()
    azurite.start()
    cloud = LocalCloud.start(port=free_port(), state_dir=work / "cloud")
    hosts: list[Host] = []
    try:
        sample = json.loads((ROOT / "local.settings.sample.json").read_text(encoding="utf-8"))
        values = {
            **sample["Values"],
            **local_values(cloud.base_url, cloud.ca_path),
            **SETTINGS,
            "AzureWebJobsStorage": azurite.connection_string,
        }
        settings_path = work / "local.settings.json"
        settings_path.write_text(json.dumps({"IsEncrypted": False, "Values": values}))
        host_json = json.loads((ROOT / "host.json").read_text(encoding="utf-8"))
        host_json["extensions"]["queues"].update(
            {"visibilityTimeout": "00:00:02", "maxPollingInterval": "00:00:01"}
        )
        host_json_path = work / "host.json"
        host_json_path.write_text(json.dumps(host_json))
        seed_demo(StorageClients.from_connection_string(azurite.connection_string))
        hosts = [
            Host(free_port(), settings_path, host_json_path, work / f"host{i}.log")
            for i in range(2)
        ]
        for host in hosts:
            host.start()
        for host in hosts:
            _wait_for(
                lambda h=host: httpx.get(f"http://127.0.0.1:{h.port}/api/health").status_code < 500,
                60,
                "a host",
            )
        with environment(values):
            from shared.composition.root import Overrides, build_foundation
            from shared.composition.services import build_services
            from shared.config import Settings

            services = build_services(build_foundation(Overrides(settings=Settings())))
            storage = StorageClients.from_connection_string(azurite.connection_string)
            with Observer(storage, figures) as observer:
                soak(services, hosts, azurite, cloud, figures, rng, began)
                drain(services, storage, began)
                observer.look()
            line = report(storage, cloud, figures, began)
            services.close()
        print(line, flush=True)
        return (
            0 if "duplicates 0, lost 0, stuck 0, duplicate notices 0, overwritten 0" in line else 1
        )
    finally:
        for host in hosts:
            host.stop()
        cloud.stop()
        azurite.stop()
        shutil.rmtree(work, ignore_errors=True)


def soak(
    services: Any,
    hosts: list[Host],
    azurite: Azurite,
    cloud: LocalCloud,
    figures: Figures,
    rng: random.Random,
    began: float,
) -> None:
    next_kill = time.monotonic() + KILL_EVERY_SECONDS
    next_reap = time.monotonic() + 3
    azurite_bounce = time.monotonic() + START_PHASE_SECONDS / 2
    storm: str | None = None
    next_storm = time.monotonic() + 15
    victim = 0
    interval = START_PHASE_SECONDS / RUNS_TO_START
    while figures.started < RUNS_TO_START and time.monotonic() - began < BUDGET_SECONDS - 200:
        start_some(services, figures, rng)
        now = time.monotonic()
        if now >= next_kill:
            hosts[victim].kill()
            figures.kills += 1
            hosts[victim].start()
            victim = 1 - victim
            next_kill = now + KILL_EVERY_SECONDS + rng.uniform(-3, 3)
        if now >= azurite_bounce and figures.azurite_restarts == 0:
            azurite.stop()
            time.sleep(3)
            azurite.start()
            figures.azurite_restarts += 1
        if now >= next_storm:
            if storm is None:
                rule = (
                    cloud.faults.throttle(count=None, retry_after=1, route="/v1.0/*")
                    if figures.storms % 2 == 0
                    else cloud.faults.server_error(status=503, count=None, route="/v1.0/*")
                )
                storm = rule.id
                figures.storms += 1
                next_storm = now + 8
            else:
                cloud.faults.clear(storm)
                storm = None
                next_storm = now + 15
        if now >= next_reap:
            reap(services)
            next_reap = now + 3
        time.sleep(interval)
    if storm is not None:
        cloud.faults.clear(storm)


def reap(services: Any) -> None:
    with suppress(Exception):  # the timer fires again
        services.runs.reap(services.runs.tenants_with_runs(TENANTS))


def drain(services: Any, storage: StorageClients, began: float) -> None:
    """Faults off; the reaper keeps ticking until nothing is active, pending or claimed."""
    runs = storage.table(RUNS_TABLE)
    while time.monotonic() - began < BUDGET_SECONDS:
        reap(services)
        with suppress(Exception):
            busy = sum(_count(runs, t, LOCK_RANGE) + _count(runs, t, OUTBOX_RANGE) for t in TENANTS)
            queue = storage.queue("notifications").get_queue_properties()
            if busy == 0 and queue.approximate_message_count == 0 and not _sending(storage):
                return
        time.sleep(3)


def _sending(storage: StorageClients) -> bool:
    """A delivery claim still `sending` (its message comes back when the host's hold ends)."""
    deliveries = storage.table(NOTIFICATION_DELIVERIES_TABLE)
    for tenant in TENANTS:
        for run in runs_of(storage.table(RUNS_TABLE), tenant):
            claims = deliveries.query_entities("PartitionKey eq @pk", parameters={"pk": run.id})
            if any(e.get("State") == "sending" for e in claims):
                return True
    return False


def report(storage: StorageClients, cloud: LocalCloud, figures: Figures, began: float) -> str:
    runs_table = storage.table(RUNS_TABLE)
    runs = [r for t in TENANTS for r in runs_of(runs_table, t)]
    outcomes = Counter(r.outcome.value for r in runs if r.is_terminal)
    redispatches = sum(max(0, r.dispatch_count - 1) for r in runs)
    reaped_codes = {FailureCode.LEASE_EXPIRED, FailureCode.STALE_QUEUED, FailureCode.DISPATCH_LOST}
    reaped = sum(1 for r in runs if r.failures and r.failures[-1].code in reaped_codes)
    details = [f"active: {r.id} {r.status.value} attempt {r.attempt}" for r in runs if r.is_active]
    for tenant in TENANTS:
        for key_range, what in ((LOCK_RANGE, "lock"), (OUTBOX_RANGE, "outbox")):
            rows = runs_table.query_entities(
                "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
                parameters={"pk": tenant, "lo": key_range[0], "hi": key_range[1]},
            )
            details.extend(f"{what} left: {e['RowKey']}" for e in rows)
    stuck = len(details)
    sent = {
        "email": Counter(
            r.id for m in cloud.sent_mail() for r in runs if r.id in json.dumps(m.message)
        ),
        "teams": Counter(
            r.id for p in cloud.teams_posts() for r in runs if r.id in json.dumps(p.body)
        ),
    }
    duplicate_notices = sum(n - 1 for per in sent.values() for n in per.values() if n > 1)
    lost, states, found = _notices(storage, runs, sent)
    stuck += states["sending"]
    details.extend(found)
    for line in details:
        print(f"chaos detail: {line}", file=sys.stderr)
    completed = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
    return (
        f"chaos: runs started {len(runs)} (completed: {completed}), kills {figures.kills},"
        f" azurite restarts {figures.azurite_restarts}, graph storms {figures.storms},"
        f" starts that died before the send {figures.died_before_send},"
        f" re-dispatches {redispatches}, reaped {reaped},"
        f" duplicates {figures.duplicates + figures.active_twice}, lost {lost}, stuck {stuck},"
        f" duplicate notices {duplicate_notices}, overwritten {figures.overwritten},"
        f" emails {sum(sent['email'].values())}, cards {sum(sent['teams'].values())},"
        f" deliveries failed {states['failed']} / unknown {states['unknown']} (shown in-app),"
        f" {time.monotonic() - began:.0f} s"
    )


def _notices(
    storage: StorageClients, runs: list[Run], sent: dict[str, Counter[str]]
) -> tuple[int, Counter[str], list[str]]:
    """Per person and run: one queued (unless its dispatch failed) and one completed
    in-app notice; per external channel, sent once or failed/unknown and shown in-app."""
    inbox = storage.table(NOTIFICATIONS_TABLE)
    deliveries = storage.table(NOTIFICATION_DELIVERIES_TABLE)
    people = {r.initiator.id for r in runs if r.initiator.is_human}
    notices = {
        e["NotificationId"]: e
        for person in people
        for e in inbox.query_entities("PartitionKey eq @pk", parameters={"pk": person})
    }
    lost, states, found = 0, Counter[str](), []
    for run in runs:
        claims = {
            str(e["RowKey"]): str(e.get("State"))
            for e in deliveries.query_entities("PartitionKey eq @pk", parameters={"pk": run.id})
        }
        states.update(claims.values())
        if not run.initiator.is_human or run.is_active:
            continue
        dispatch_failed = any(f.code == FailureCode.DISPATCH_FAILED for f in run.failures)
        if (f"{run.id}.queued" in notices) == dispatch_failed:
            lost += 1
            found.append(f"queued notice wrong: {run.id} {[f.code for f in run.failures]}")
        completed = notices.get(f"{run.id}.completed")
        if completed is None:
            lost += 1
            found.append(f"no completed notice: {run.id} {run.outcome.value}")
            continue
        for channel in ("email", "teams"):
            if sent[channel][run.id]:
                continue
            state = claims.get(f"completed~{channel}")
            shown = channel in (completed.get("DeliveryProblems") or "")
            if state not in ("failed", "unknown") or not shown:
                lost += 1
                found.append(f"{channel} silently dropped: {run.id} (ledger {state})")
    return lost, states, found


if __name__ == "__main__":
    sys.exit(main())
