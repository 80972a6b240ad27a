"""Request models of the API (pydantic): what a body or query string may contain."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.runs.listing import DEFAULT_LIMIT, MAX_LIMIT
from shared.runs.model import RunOutcome, RunStatus


class StartRequest(BaseModel):
    """POST /api/tenants/{tenant_id}/operations."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=100, description="A run type of the catalogue")
    inputs: dict[str, Any] | None = Field(
        default=None, description="The run type's inputs (its JSON Schema in the catalogue)"
    )


class ListQuery(BaseModel):
    """GET /api/tenants/{tenant_id}/operations query string.

    Unknown parameters are refused (422), as on every route: a mistyped filter
    (`outcom=failed`) must not answer the unfiltered list as if it were filtered."""

    model_config = ConfigDict(extra="forbid")

    type: str | None = Field(default=None, max_length=100)
    status: RunStatus | None = None
    outcome: RunOutcome | None = None
    initiator: str | None = Field(
        default=None, max_length=100, description="`me` or an initiator id"
    )
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=512)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class GroupSearchQuery(BaseModel):
    """GET /api/tenants/{tenant_id}/directory/groups query string."""

    model_config = ConfigDict(extra="forbid")

    search: str = Field(min_length=1, max_length=120)
    top: int = Field(default=25, ge=1, le=100)


class GroupMappingQuery(BaseModel):
    """GET /api/tenants/{tenant_id}/restore/group-mapping query string."""

    model_config = ConfigDict(extra="forbid")

    backup_set_id: str = Field(min_length=1, max_length=200)
