"""A whole deployment on the in-memory table and queues, on a clock the test moves: users
start and cancel runs, hosts deliver queue messages (at least once, visibility timeouts,
poison after maxDequeueCount, a crash leaves a message invisible), the reaper ticks. One
named fault point can be armed to fail once, before the call or after it (the call took
effect and the caller sees an error: an ambiguous commit). Invariants are read from the
tables afterwards, never from what the code under test believes.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from azure.core.exceptions import ServiceRequestError, ServiceResponseError

from shared.errors import TransientError
from shared.notifications.channels import ChannelUnavailable, Recipient
from shared.notifications.content import NotificationContent
from shared.notifications.emitter import QueueNotifications
from shared.notifications.inbox import Inbox, notification_id
from shared.notifications.ledger import DeliveryLedger
from shared.notifications.message import Channel, NotificationEvent
from shared.notifications.preferences import ChannelPlan, PreferenceStore
from shared.notifications.worker import NotificationWorker, RetrySchedule
from shared.persistence.memory_queue import MemoryQueue
from shared.persistence.memory_table import MemoryTable
from shared.run_types.diagnostics import NOOP
from shared.runs.context import RunContext
from shared.runs.dispatch import QueueDispatcher, RunMessage
from shared.runs.identity import LOCK_PREFIX, OUTBOX_PREFIX, RUN_RANGE
from shared.runs.model import ACTIVE, FailureCode, Initiator, Run, RunStatus
from shared.runs.outbox import Outbox, inline
from shared.runs.rows import run_from_entity
from shared.runs.run_type import Registry
from shared.runs.service import DispatchPolicy, RunService
from shared.runs.store import RunStore
from shared.runs.worker import RetryPolicy, RunWorker
from shared.tenants import ManagedTenant, TenantStore

TENANT = "5d1c3a9e-1111-4c2d-9e8f-000000000011"
ALICE = Initiator(id="a11ce000-0000-4000-8000-000000000001", name="Alice", email="a@x.test")
BOB = Initiator(id="b0b00000-0000-4000-8000-000000000002", name="Bob", email="b@x.test")
ROBOT = Initiator(id="app-1", name="Automation", kind="app")

LEASE = timedelta(minutes=10)
STALE_QUEUED = timedelta(hours=1)
POLICY = DispatchPolicy(
    redispatch_after=timedelta(seconds=10), lost_after=timedelta(seconds=60), max_redispatches=3
)
REAPER_PERIOD = timedelta(minutes=5)
VISIBILITY = 30  # host.json visibilityTimeout
HOST_HOLD = 900  # a crashed host's message stays invisible this long
MAX_DELIVERIES = 5
SEND_LEASE = timedelta(minutes=5)

# -- fault points ----------------------------------------------------------------------------

FAULT_POINTS = (
    "start.tenant_index",  # the index of tenants with runs, before the first run
    "start.commit",  # run + lock + queued notice, one transaction
    "dispatch.send",  # the work message of a new run
    "dispatch.record_failure",  # failing a run whose send failed
    "redispatch.mark",  # recording a re-send (deduplicated start or reaper)
    "redispatch.send",  # the re-sent work message
    "run.read",  # any point read of a run row (claim, finish, cancel, reaper)
    "claim.write",  # a delivery taking the run
    "progress.write",  # progress / heartbeat
    "finish.commit",  # the worker's terminal transaction (with the completed notice)
    "lease.release",  # an attempt ending its lease to be retried
    "cancel.commit",  # cancelling a queued run
    "cancel.request",  # asking a running run to stop
    "reaper.scan",  # the reaper listing a tenant's locks
    "reaper.fail",  # the reaper's terminal transaction
    "outbox.hand_on",  # a notice put on the notifications queue
    "outbox.remove",  # the handed-on notice's row deleted
    "notify.inbox_add",  # the in-app notice written
    "notify.ledger_claim",  # claim-before-send
    "notify.ledger_record",  # record-after-send (sent / retry / failed)
    "notify.channel_retry",  # one channel's retry message
)
MODES = ("before", "ambiguous")


class Crash(BaseException):
    """Not caught by the code under test: the host process died mid-handler."""


@dataclass
class Faults:
    point: str | None = None
    mode: str = "before"
    fired: int = 0
    seen: Counter[str] = field(default_factory=Counter)
    # Conditions a scenario sets up (an outage of N calls), apart from the armed fault.
    outages: Counter[str] = field(default_factory=Counter)

    def around(self, point: str | None, call: Callable[[], Any]) -> Any:
        if point is not None:
            self.seen[point] += 1
            if self.outages[point] > 0:
                self.outages[point] -= 1
                raise ServiceRequestError(f"outage: {point}")
        if point is None or point != self.point or self.fired:
            return call()
        self.fired += 1
        if self.mode == "before":
            raise ServiceRequestError(f"injected: {point} failed before the call")
        call()
        raise ServiceResponseError(f"injected: {point} succeeded, its response was lost")


def _run_row_changes(inner: MemoryTable, entity: dict[str, Any]) -> str:
    """Name a single update of a run row by what it changes in the stored row."""
    try:
        current = inner.get_entity(entity["PartitionKey"], entity["RowKey"])
    except Exception:
        return "progress.write"
    if entity.get("Attempt", 0) > current.get("Attempt", 0):
        return "claim.write"
    if entity.get("DispatchCount", 0) > current.get("DispatchCount", 0):
        return "redispatch.mark"
    if entity.get("CancelRequested") and not current.get("CancelRequested"):
        return "cancel.request"
    if entity.get("LeaseExpiresAt") is not None and entity.get("LeaseExpiresAt") == entity.get(
        "UpdatedAt"
    ):
        return "lease.release"
    return "progress.write"


def _terminal_point(inner: MemoryTable, entity: dict[str, Any]) -> str:
    failures = entity.get("Failures") or ""
    if FailureCode.DISPATCH_FAILED in failures:
        return "dispatch.record_failure"
    if entity.get("Outcome") == "cancelled":
        current = inner.get_entity(entity["PartitionKey"], entity["RowKey"])
        if current.get("Status") == "queued":
            return "cancel.commit"
    for code in (FailureCode.STALE_QUEUED, FailureCode.LEASE_EXPIRED, FailureCode.DISPATCH_LOST):
        if f'"code":"{code}"' in failures:
            return "reaper.fail"
    return "finish.commit"


def classify_runs(inner: MemoryTable, op: str, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    if op == "submit_transaction":
        kind, entity = args[0][0][0], args[0][0][1]
        if not str(entity["RowKey"]).startswith("run~"):
            return None
        if kind == "create":
            return "start.commit"
        return _terminal_point(inner, entity)
    if op == "update_entity" and str(args[0]["RowKey"]).startswith("run~"):
        return _run_row_changes(inner, args[0])
    if op == "upsert_entity" and args[0]["PartitionKey"] == "~tenants":
        return "start.tenant_index"
    if op == "delete_entity" and str(args[1] if len(args) > 1 else "").startswith(OUTBOX_PREFIX):
        return "outbox.remove"
    if op == "get_entity" and str(args[1]).startswith("run~"):
        return "run.read"
    if op == "query_entities" and kw.get("parameters", {}).get("lo") == "active~":
        return "reaper.scan"
    return None


def classify_inbox(inner: MemoryTable, op: str, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    return "notify.inbox_add" if op == "create_entity" else None


def classify_ledger(inner: MemoryTable, op: str, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    if op == "create_entity":
        return "notify.ledger_claim"
    if op == "update_entity" and args[0].get("State") in ("sent", "retry", "failed"):
        return "notify.ledger_record"
    if op == "update_entity" and args[0].get("State") == "sending":
        return "notify.ledger_claim"
    return None


class FaultyTable:
    """The in-memory table behind a fault point for each call (classified by content)."""

    def __init__(
        self,
        inner: MemoryTable,
        faults: Faults,
        classify: Callable[[MemoryTable, str, tuple[Any, ...], dict[str, Any]], str | None],
    ) -> None:
        self.inner = inner
        self._faults = faults
        self._classify = classify
        self.table_name = inner.table_name

    def _call(self, op: str, *args: Any, **kw: Any) -> Any:
        point = self._classify(self.inner, op, args, kw)
        method = getattr(self.inner, op)
        result = self._faults.around(point, lambda: method(*args, **kw))
        return list(result) if op == "query_entities" else result

    def get_entity(self, *args: Any, **kw: Any) -> Any:
        return self._call("get_entity", *args, **kw)

    def query_entities(self, *args: Any, **kw: Any) -> Any:
        return iter(self._call("query_entities", *args, **kw))

    def create_entity(self, *args: Any, **kw: Any) -> Any:
        return self._call("create_entity", *args, **kw)

    def update_entity(self, *args: Any, **kw: Any) -> Any:
        return self._call("update_entity", *args, **kw)

    def upsert_entity(self, *args: Any, **kw: Any) -> Any:
        return self._call("upsert_entity", *args, **kw)

    def delete_entity(self, *args: Any, **kw: Any) -> Any:
        return self._call("delete_entity", *args, **kw)

    def submit_transaction(self, *args: Any, **kw: Any) -> Any:
        return self._call("submit_transaction", *args, **kw)


class FaultyQueue:
    def __init__(
        self, inner: MemoryQueue, faults: Faults, classify: Callable[[str, int | None], str]
    ) -> None:
        self.inner = inner
        self._faults = faults
        self._classify = classify

    def send_message(self, content: str, *, visibility_timeout: int | None = None) -> Any:
        point = self._classify(content, visibility_timeout)
        return self._faults.around(
            point, lambda: self.inner.send_message(content, visibility_timeout=visibility_timeout)
        )

    def peek_messages(self, max_messages: int = 32) -> Any:
        return self.inner.peek_messages(max_messages=max_messages)


class RecordingChannel:
    """An external channel (mail, Teams) that counts what reached the person."""

    def __init__(self) -> None:
        self.delivered: Counter[tuple[str, str]] = Counter()
        self.outages = 0

    def send(self, recipient: Recipient, content: NotificationContent) -> None:
        if self.outages > 0:
            self.outages -= 1
            raise ChannelUnavailable("503 from the channel")
        self.delivered[(content.link, content.title)] += 1

    def close(self) -> None:
        return None


@dataclass
class Execution:
    run_id: str
    attempt: int
    started: datetime
    ended: bool = False
    lease_at_end: datetime | None = None


class World:
    def __init__(self, point: str | None = None, mode: str = "before") -> None:
        self.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
        self.faults = Faults(point, mode)
        self.runs_table = MemoryTable("OperationRuns")
        self.runs_queue = MemoryQueue(self.clock, "operation-runs")
        self.notices_queue = MemoryQueue(self.clock, "notifications")
        self.inbox_table = MemoryTable("Notifications")
        self.ledger_table = MemoryTable("NotificationDeliveries")
        store = RunStore(cast(Any, FaultyTable(self.runs_table, self.faults, classify_runs)))
        self.store = store
        self.registry = Registry([NOOP])
        self.executions: list[Execution] = []
        self.violations: list[str] = []
        self._register_work_type()
        notices = FaultyQueue(self.notices_queue, self.faults, self._classify_notice)
        self.service = RunService(
            store,
            QueueDispatcher(FaultyQueue(self.runs_queue, self.faults, self._classify_send)),
            self.registry,
            lease=LEASE,
            stale_queued_after=STALE_QUEUED,
            outbox=Outbox(store, QueueNotifications(notices), run_after=inline),
            dispatch=POLICY,
            clock=self.clock,
        )
        self.worker = RunWorker(
            self.service,
            self.registry,
            retry=RetryPolicy(MAX_DELIVERIES),
            progress_interval=0.0,
            heartbeat_interval=0,
        )
        tenants = TenantStore(cast(Any, MemoryTable("Tenants")))
        tenants.upsert(ManagedTenant(TENANT, "Contoso"))
        self.email, self.teams = RecordingChannel(), RecordingChannel()
        self.notifier = NotificationWorker(
            runs=store,
            tenants=tenants,
            registry=self.registry,
            preferences=PreferenceStore(
                cast(Any, MemoryTable("NotificationPreferences")),
                ChannelPlan.parse("in_app", "in_app,email,teams"),
                frozenset(Channel),
            ),
            inbox=Inbox(cast(Any, FaultyTable(self.inbox_table, self.faults, classify_inbox))),
            ledger=DeliveryLedger(
                cast(Any, FaultyTable(self.ledger_table, self.faults, classify_ledger)),
                lease=SEND_LEASE,
            ),
            channels={Channel.EMAIL: self.email, Channel.TEAMS: self.teams},
            retry_queue=cast(Any, notices),
            view_url=lambda run: f"https://app.test/{run.id}",
            clock=self.clock,
            schedule=RetrySchedule(max_attempts=3, base_seconds=30),
        )
        self.next_reap = self.now + REAPER_PERIOD
        self.actions: list[tuple[datetime, Callable[[], None]]] = []
        self.terminal_seen: dict[str, tuple[Any, ...]] = {}

    def clock(self) -> datetime:
        return self.now

    # -- classification of queue sends ---------------------------------------------------------

    def _classify_send(self, content: str, delay: int | None) -> str:
        message = RunMessage.model_validate_json(content)
        if delay:
            return "worker.reschedule"
        row = self._row(message.run_id)
        return "redispatch.send" if row and row.dispatch_count > 1 else "dispatch.send"

    @staticmethod
    def _classify_notice(content: str, delay: int | None) -> str:
        retry = json.loads(content).get("channel") is not None
        return "notify.channel_retry" if retry else "outbox.hand_on"

    # -- the run type: items with a progress write in the middle --------------------------------

    def _register_work_type(self) -> None:
        from shared.runs.run_type import RunType

        def handler(ctx: RunContext, inputs: Any) -> dict[str, Any]:
            self._execution_starts(ctx)
            try:
                if ctx.attempt == 1 and inputs.label == "crash":
                    raise Crash(ctx.run.id)
                if ctx.attempt == 1 and inputs.label == "flaky":
                    raise TransientError("Graph answered 503")
                if ctx.attempt == 1 and inputs.label == "throttled":
                    raise TransientError("Graph answered 429", retry_after=20)
                ctx.set_total(inputs.items)
                for index in range(inputs.items):
                    ctx.check_cancelled()
                    ctx.item_succeeded()
                    if index == 0 and inputs.label == "stop midway":
                        self._user_cancels(ctx.run.id)  # a request while the handler works
                    if index == 0:
                        ctx.flush()
                return {"items": inputs.items}
            finally:
                self._execution_ends(ctx)

        self.registry.register(RunType("sim.work", "Work", "sim", NOOP.input_model, handler))

    def _execution_starts(self, ctx: RunContext) -> None:
        row = self._row(ctx.run.id)
        if row is None or row.attempt != ctx.attempt or row.status is not RunStatus.RUNNING:
            self.violations.append(f"{ctx.run.id}: attempt {ctx.attempt} runs without owning it")
        for previous in self.executions:
            if previous.run_id != ctx.run.id:
                continue
            if previous.lease_at_end is None:
                self.violations.append(f"{ctx.run.id}: two executions at once")
            elif previous.lease_at_end > self.now:
                self.violations.append(f"{ctx.run.id}: executed under another attempt's lease")
        self.executions.append(Execution(ctx.run.id, ctx.attempt, self.now))

    def _execution_ends(self, ctx: RunContext) -> None:
        self.executions[-1].ended = True

    def _settle_executions(self) -> None:
        """After the worker returned or raised (and maybe ended its lease): how long the
        attempt still holds the run, read from its row."""
        for execution in self.executions:
            if not execution.ended or execution.lease_at_end is not None:
                continue
            row = self._row(execution.run_id)
            held = (
                row is not None
                and row.status is RunStatus.RUNNING
                and row.attempt == execution.attempt
            )
            execution.lease_at_end = (row.lease_expires_at if held and row else None) or self.now

    # -- users --------------------------------------------------------------------------------

    def start(self, who: Initiator, inputs: dict[str, Any], run_type: str = "sim.work") -> None:
        """A user's start; on an error they try once more 15 s later (a person retrying)."""

        def attempt(retries_left: int) -> None:
            try:
                run, created = self.service.ensure_run(TENANT, run_type, inputs, who)
                if created:
                    self.service.dispatch_or_fail(run)
            except Exception:
                if retries_left:
                    self.at(timedelta(seconds=15), lambda: attempt(retries_left - 1))

        attempt(2)

    def start_and_die(self, who: Initiator, inputs: dict[str, Any], *, retry: bool) -> None:
        """The start's process dies between the commit and the send; the user may retry."""
        try:
            self.service.ensure_run(TENANT, "sim.work", inputs, who)
        except Exception:  # noqa: S110 - the caller saw a 5xx
            pass
        if retry:
            self.at(timedelta(seconds=15), lambda: self.start(who, inputs))

    def cancel(self, who: Initiator, inputs: dict[str, Any], run_type: str = "sim.work") -> None:
        for run in self.runs():
            if run.type == run_type and run.inputs == {**run.inputs, **inputs} and run.is_active:
                try:
                    self.service.cancel(TENANT, run.id)
                except Exception:  # noqa: S110 - the caller saw an error; fine
                    pass

    def _user_cancels(self, run_id: str) -> None:
        try:
            self.service.cancel(TENANT, run_id)
        except Exception:  # noqa: S110 - the caller saw an error; the run goes on
            pass

    def at(self, delay: timedelta, action: Callable[[], None]) -> None:
        self.actions.append((self.now + delay, action))

    # -- hosts --------------------------------------------------------------------------------

    def _deliver(self, queue: MemoryQueue, handle: Callable[[str, int], Any]) -> int:
        handled = 0
        for message in queue.receive_messages(visibility_timeout=HOST_HOLD, max_messages=16):
            handled += 1
            if message.dequeue_count > MAX_DELIVERIES:
                self._poison(queue, message.content)
                queue.delete_message(message.id, message.pop_receipt)
                continue
            try:
                handle(message.content, message.dequeue_count)
            except Crash:
                self._settle_executions()
                continue  # the host died: the message stays invisible for HOST_HOLD
            except Exception:
                if message.dequeue_count >= MAX_DELIVERIES:
                    self._poison(queue, message.content)
                    queue.delete_message(message.id, message.pop_receipt)
                else:
                    queue.update_message(
                        message.id, message.pop_receipt, visibility_timeout=VISIBILITY
                    )
                continue
            self._settle_executions()
            queue.delete_message(message.id, message.pop_receipt)
        return handled

    def _poison(self, queue: MemoryQueue, content: str) -> None:
        if queue is self.runs_queue:
            try:
                self.worker.process_poison(content)
            except Exception:  # noqa: S110 - the reaper remains
                pass
        # A poisoned notification is lost: the invariants below would catch it.

    def step(self) -> bool:
        """Do everything due now; False when nothing was due."""
        did = False
        due = [a for a in self.actions if a[0] <= self.now]
        self.actions = [a for a in self.actions if a[0] > self.now]
        for _, action in due:
            action()
            did = True
        did |= self._deliver(self.runs_queue, self.worker.process) > 0
        did |= self._deliver(self.notices_queue, lambda body, _: self.notifier.process(body)) > 0
        if self.now >= self.next_reap:
            try:
                self.service.reap(self.service.tenants_with_runs())
            except Exception:  # noqa: S110 - the timer fires again next period
                pass
            self.next_reap += REAPER_PERIOD
            did = True
        self.check_running_invariants()
        return did

    def run_until_quiet(self, limit: timedelta = timedelta(hours=3)) -> None:
        end = self.now + limit
        while self.now < end:
            while self.step():
                pass
            if self.quiet():
                return
            upcoming = [
                t
                for t in (
                    self.runs_queue.next_visible(),
                    self.notices_queue.next_visible(),
                    self.next_reap,
                    *(a[0] for a in self.actions),
                )
                if t is not None
            ]
            self.now = max(self.now + timedelta(seconds=1), min(upcoming))

    def quiet(self) -> bool:
        outbox = [e for e in self.runs_table.rows(TENANT) if e["RowKey"].startswith(OUTBOX_PREFIX)]
        return (
            not self.actions
            and self.runs_queue.pending() == 0
            and self.notices_queue.pending() == 0
            and not outbox
            and all(not r.is_active for r in self.runs())
        )

    # -- reading the truth from the tables -----------------------------------------------------

    def runs(self) -> list[Run]:
        return [
            run_from_entity(e)
            for e in self.runs_table.rows(TENANT)
            if RUN_RANGE[0] <= e["RowKey"] < RUN_RANGE[1]
        ]

    def _row(self, run_id: str) -> Run | None:
        return next((r for r in self.runs() if r.id == run_id), None)

    def check_running_invariants(self) -> None:
        active: dict[str, list[str]] = defaultdict(list)
        for run in self.runs():
            if run.status in ACTIVE:
                active[run.identity_hash].append(run.id)
            if run.status is RunStatus.QUEUED:
                age = self.now - (run.dispatched_at or run.created_at)
                if age > POLICY.lost_after + REAPER_PERIOD:
                    self.violations.append(f"{run.id}: queued {age} after its last send")
            if run.is_terminal:
                seen = (run.outcome, run.completed_at, tuple(run.failures), run.result)
                if self.terminal_seen.setdefault(run.id, seen) != seen:
                    self.violations.append(f"{run.id}: a terminal run was overwritten")
        for identity, ids in active.items():
            if len(ids) > 1:
                self.violations.append(f"{identity[:8]}: {len(ids)} active runs")

    def final_violations(self) -> list[str]:
        problems = list(dict.fromkeys(self.violations))
        rows = self.runs_table.rows(TENANT)
        leftovers = [
            e["RowKey"] for e in rows if e["RowKey"].startswith((LOCK_PREFIX, OUTBOX_PREFIX))
        ]
        if leftovers:
            problems.append(f"rows left behind: {leftovers}")
        for run in self.runs():
            if run.is_active:
                problems.append(f"{run.id}: still {run.status.value}")
                continue
            if not run.initiator.is_human:
                continue
            problems.extend(self._notice_problems(run))
        return problems

    def _notice_problems(self, run: Run) -> list[str]:
        problems = []
        user = run.initiator.id
        inbox = {e["NotificationId"]: e for e in self.inbox_table.rows(user)}
        dispatch_failed = any(f.code == FailureCode.DISPATCH_FAILED for f in run.failures)
        if (notification_id(run.id, NotificationEvent.QUEUED) in inbox) == dispatch_failed:
            problems.append(f"{run.id}: queued notice {'sent' if dispatch_failed else 'missing'}")
        completed = inbox.get(notification_id(run.id, NotificationEvent.COMPLETED))
        if completed is None:
            problems.append(f"{run.id}: completed notice missing")
            return problems
        link = f"https://app.test/{run.id}"
        for channel, recorder in ((Channel.EMAIL, self.email), (Channel.TEAMS, self.teams)):
            sent = sum(n for (lk, _), n in recorder.delivered.items() if lk == link)
            if sent > 1:
                problems.append(f"{run.id}: {channel.value} sent {sent} times")
            if sent == 1:
                continue
            state = next(
                (
                    e.get("State")
                    for e in self.ledger_table.rows(run.id)
                    if e["RowKey"] == f"completed~{channel.value}"
                ),
                None,
            )
            shown = channel.value in (completed.get("DeliveryProblems") or "")
            if state not in ("failed", "unknown") or not shown:
                problems.append(f"{run.id}: {channel.value} silently dropped (ledger {state})")
        return problems
