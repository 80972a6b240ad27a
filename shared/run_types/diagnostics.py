"""`diagnostics.noop`: FOR TESTS AND BENCHMARKS ONLY. It touches no tenant and no Graph.

It is registered only when the ENABLE_DIAGNOSTIC_RUN_TYPES setting is on (the local sample
turns it on; production leaves it off), so an operator never sees it in the catalogue.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.runs.context import RunContext
from shared.runs.run_type import RunType


class NoopInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: int = Field(default=0, ge=0, le=1000, description="How many items to process")
    fail_items: list[int] = Field(
        default_factory=list, max_length=1000, description="Indexes of items that fail"
    )
    label: str = Field(default="", max_length=200, description="Free text, echoed in result")


def run_noop(ctx: RunContext, inputs: NoopInputs) -> dict[str, Any]:
    ctx.set_total(inputs.items)
    failing = set(inputs.fail_items)
    for index in range(inputs.items):
        ctx.check_cancelled()
        if index in failing:
            ctx.item_failed(f"item-{index}", "noop_item_failed", "failed on request")
        else:
            ctx.item_succeeded()
    return {"label": inputs.label, "items": inputs.items}


NOOP = RunType(
    name="diagnostics.noop",
    title="Diagnostics: no-op (tests only)",
    description="Processes N synthetic items. For tests and benchmarks; not for operators.",
    input_model=NoopInputs,
    handler=run_noop,
    summarize=lambda inputs: " · ".join(
        part
        for part in (str(inputs.get("label") or "").strip(), f"{inputs.get('items', 0)} items")
        if part
    ),
)
