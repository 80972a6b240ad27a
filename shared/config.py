"""One frozen settings object, read from app settings (environment variables).

Names match the Function App's application settings and `local.settings.sample.json`.
Queue and table names are constants: trigger decorators need them at import time and
infra/ creates them by these names.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_ROOT = Path(__file__).resolve().parent.parent

RUNS_TABLE = "OperationRuns"
TENANTS_TABLE = "Tenants"
RUNS_QUEUE = "operation-runs"
RUNS_POISON_QUEUE = f"{RUNS_QUEUE}-poison"
# The connection (app setting name) the queue triggers use, as Functions names it.
STORAGE_CONNECTION = "AzureWebJobsStorage"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    storage_connection_string: str = Field(
        default="UseDevelopmentStorage=true", alias="AzureWebJobsStorage"
    )
    run_lease_seconds: int = Field(default=600, ge=30)
    run_stale_queued_seconds: int = Field(default=3600, ge=60)
    run_progress_min_interval_seconds: float = Field(default=2.0, ge=0)
    auto_provision_storage: bool = False
    # Registers diagnostics.noop (tests and benchmarks only; off in production).
    enable_diagnostic_run_types: bool = False
    public_base_url: str = "http://localhost:7071"

    @property
    def run_lease(self) -> timedelta:
        return timedelta(seconds=self.run_lease_seconds)

    @property
    def stale_queued_after(self) -> timedelta:
        return timedelta(seconds=self.run_stale_queued_seconds)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


@lru_cache(maxsize=1)
def max_dequeue_count() -> int:
    """host.json's queues.maxDequeueCount: the one place the last delivery is defined."""
    host = json.loads((APP_ROOT / "host.json").read_text(encoding="utf-8"))
    return int(host.get("extensions", {}).get("queues", {}).get("maxDequeueCount", 5))
