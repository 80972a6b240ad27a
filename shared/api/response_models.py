"""Response models of the API (pydantic): what each route answers, one shape for both the
body and the OpenAPI document.

The use cases answer with instances of these models (shared.api.present maps a run to
RunSummary/RunDetail), validated from the use case's own values, and functions/_http
serializes them; functions/_routes checks that a route answers with the model the route
table names for that status. A field exists here or nowhere. Times are `datetime` on
the model and formatted on the way out (shared.api.wire_times).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.api.wire_times import UtcMillis
from shared.auth.membership import Role
from shared.notifications.message import Channel, NotificationEvent
from shared.runs.model import RunOutcome, RunStatus


class _Out(BaseModel):
    # Validated from our own values (a wrong or extra field is a bug, found by the tests)
    # and written with the aliases the wire uses (`self`).
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


# -- errors --------------------------------------------------------------------------------


class ErrorDetail(_Out):
    code: str = Field(description="A machine-readable code, e.g. `invalid_inputs`, `not_found`")
    message: str = Field(description="A human-readable sentence; never echoes a token")
    details: Any = Field(
        default=None,
        exclude_if=lambda value: value is None,  # absent, not null, when there is none
        description="Present only when there is more to say: for 422 the failing fields, "
        "`[{field, message}]`",
    )


class ErrorBody(_Out):
    """Every error response: `{"error": {"code", "message", "details"?}}`."""

    error: ErrorDetail


# -- runs ----------------------------------------------------------------------------------


class RunLinks(_Out):
    self_: str = Field(alias="self", description="The run's API URL")
    view: str = Field(description="Deep link into the monitoring page for this run")


class RunInitiator(_Out):
    id: str
    name: str
    email: str | None = Field(description="The user's sign-in name; null for apps and system")
    kind: str = Field(description="`user`, `app` or `system`")


class RunFailure(_Out):
    code: str
    message: str
    item: str | None
    attempt: int | None
    at: UtcMillis | None


class RunClaim(_Out):
    attempt: int
    at: UtcMillis


class RunSummary(_Out):
    """A run as a list shows it: no inputs, failures or result (the detail route has them)."""

    id: str
    tenant_id: str
    type: str
    input_summary: str = Field(
        description="The run type's one line about the inputs (label, policy count, set)"
    )
    status: RunStatus
    outcome: RunOutcome
    initiator: RunInitiator
    summary_counts: dict[str, int]
    cancel_requested: bool
    created_at: UtcMillis
    started_at: UtcMillis | None
    updated_at: UtcMillis
    completed_at: UtcMillis | None
    links: RunLinks


class RunDetail(RunSummary):
    """One run: the fields of shared.runs.model.Run (not the lock, not storage
    internals)."""

    inputs: dict[str, Any]
    identity_hash: str
    failures: list[RunFailure]
    result: dict[str, Any] | None
    attempt: int
    lease_expires_at: UtcMillis | None
    claims: list[RunClaim] = Field(description="Each claim by a worker (newest 20), oldest first")
    cancel_requested_at: UtcMillis | None


class RunPage(_Out):
    items: list[RunSummary] = Field(description="Newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


class StartResult(_Out):
    run: RunDetail
    deduplicated: bool = Field(description="True when an active identical run was returned")
    view_url: str


class DispatchFailedBody(_Out):
    """503 from start: the run was created but could not be queued; it is already failed."""

    error: ErrorDetail
    run: RunDetail
    view_url: str


class CancelResult(_Out):
    run: RunDetail


# -- catalogue and tenants -----------------------------------------------------------------


class RunTypeEntry(_Out):
    type: str
    title: str
    description: str
    inputs_schema: dict[str, Any] = Field(description="JSON Schema of the run type's inputs")


class Catalogue(_Out):
    items: list[RunTypeEntry]


class TenantEntry(_Out):
    tenant_id: str
    name: str
    role: Role
    group_search_enabled: bool = Field(
        description="False for callers without a delegated user token (app-only callers)"
    )


class TenantList(_Out):
    items: list[TenantEntry]


# -- directory -----------------------------------------------------------------------------


class DirectoryGroup(_Out):
    id: str
    display_name: str


class GroupSearchResult(_Out):
    items: list[DirectoryGroup]


class MappingSource(_Out):
    id: str
    display_name: str = Field(description="Empty when the group is not in the cache")
    candidates: list[DirectoryGroup]


class GroupMapping(_Out):
    backup_set_id: str
    helper_text: str = Field(description="Always present, also with an empty cache")
    cache_synced_at: UtcMillis | None
    sources: list[MappingSource]


# -- the caller's own things ---------------------------------------------------------------


class NotificationOut(_Out):
    id: str
    run_id: str
    tenant_id: str
    event: NotificationEvent
    outcome: str
    title: str
    body: str
    link: str
    created_at: UtcMillis
    read_at: UtcMillis | None
    delivery_problems: list[str]


class NotificationPage(_Out):
    items: list[NotificationOut] = Field(description="Newest first")
    next_cursor: str | None


class Preferences(_Out):
    queued: list[Channel]
    completed: list[Channel]
    customized: bool = Field(description="False while the defaults apply")
    available: list[Channel] = Field(description="The channels this deployment can deliver")


class Health(_Out):
    status: Literal["ok"]


# -- monitoring summaries ------------------------------------------------------------------


class WorkQueue(_Out):
    """The work queue as the queue-health timer last measured it (null before its first run)."""

    queue: str
    depth: int = Field(description="Approximate messages waiting")
    oldest_age_seconds: int = Field(description="Age of the oldest visible message")
    poison: int
    measured_at: UtcMillis
    behind: bool = Field(description="True when the oldest message has waited over 2 minutes")
    stale: bool = Field(description="True when the measurement is over 5 minutes old")


class LastSuccess(_Out):
    type: str
    at: UtcMillis
    age_seconds: int


class AttentionItem(_Out):
    code: Literal["failed_recently", "queued_too_long", "overdue"]
    message: str
    type: str | None = Field(description="The run type, for `overdue`")


class TenantOverviewRow(_Out):
    tenant_id: str
    name: str
    role: Role
    running: int
    queued: int
    queued_too_long: int = Field(description="Queued longer than `queued_too_long_seconds`")
    oldest_queued_at: UtcMillis | None
    failed_24h: int
    last_success: list[LastSuccess] = Field(
        description="The last succeeded run of each run type within the window"
    )
    attention: list[AttentionItem] = Field(description="Empty when nothing needs attention")
    complete: bool = Field(description="False when the per-tenant row bound was reached")
    as_of: UtcMillis = Field(description="Runs written up to this time are counted")


class Overview(_Out):
    generated_at: UtcMillis
    as_of: UtcMillis | None = Field(description="The oldest `as_of` of the items (null: none)")
    window_days: int
    queued_too_long_seconds: int
    expected_intervals: dict[str, int] = Field(
        description="Seconds within which each run type is expected to succeed"
    )
    work_queue: WorkQueue | None
    items: list[TenantOverviewRow] = Field(description="Most in need of attention first")


class DayOutcomes(_Out):
    day: str = Field(description="UTC date, YYYY-MM-DD")
    outcomes: dict[str, int] = Field(description="Runs that ended that day, by outcome")


class TypeDurations(_Out):
    type: str
    count: int
    p50_seconds: float
    p95_seconds: float


class TenantGlance(_Out):
    tenant_id: str
    generated_at: UtcMillis
    queued_too_long_seconds: int
    work_queue: WorkQueue | None
    now: dict[str, int] = Field(description="Active runs by status: queued, running")
    last_24h: dict[str, int] = Field(description="Runs that ended in the last 24 h, by outcome")
    last_7d: dict[str, int] = Field(description="Runs that ended in the last 7 days, by outcome")
    daily: list[DayOutcomes] = Field(description="14 days, oldest first")
    durations: list[TypeDurations] = Field(description="Run time percentiles per run type")
    queued_too_long: int
    complete: bool = Field(description="False when the row bound was reached (lower bounds)")
