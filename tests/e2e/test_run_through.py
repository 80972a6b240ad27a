"""Runs started over HTTP are run by the queue worker and finish (a host with workers)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from devhost import DevHost, LocalSettings
from devstack.azurite import free_port
from localcloud.seed import CONTOSO_TENANT_ID

from .conftest import Stack

ROOT = Path(__file__).resolve().parents[2]
# Inputs that make each type do real (small) work against the local Graph.
INPUTS = {
    "diagnostics.noop": {"items": 3, "fail_items": [1], "label": "run-through"},
    "directory_groups.sync": {},
    "policy.sync": {},
    "backup.capture": {"label": "run-through"},
}


def wait_done(stack: Stack, url: str, timeout: float = 60) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    with stack.client("operator") as http:
        while time.monotonic() < deadline:
            run = http.get(url).json()
            if run["status"] == "completed":
                return dict(run)
            time.sleep(0.2)
    raise AssertionError(f"run {url} did not finish")


def test_every_run_type_starts_runs_and_finishes(stack: Stack) -> None:
    import function_app

    with stack.client("operator") as http:
        known = {e["type"] for e in http.get("/api/operation-types").json()["items"]}
    types = [t for t in INPUTS if t in known]
    if "diagnostics.noop" not in types:
        pytest.fail("the diagnostics type is not registered")
    worker = DevHost(function_app.app, ROOT / "host.json", LocalSettings(), port=free_port())
    with worker:
        results = {}
        for run_type in types:
            with stack.client("operator") as http:
                reply = http.post(
                    f"/api/tenants/{CONTOSO_TENANT_ID}/operations",
                    json={"type": run_type, "inputs": INPUTS[run_type]},
                )
            assert reply.status_code in (200, 202), reply.text
            results[run_type] = wait_done(stack, reply.json()["run"]["links"]["self"])
    noop = results.pop("diagnostics.noop")
    assert noop["outcome"] == "partially_succeeded"
    assert noop["summary_counts"] == {
        "total": 3, "processed": 3, "succeeded": 2, "failed": 1, "skipped": 0,
    }  # fmt: skip
    for run_type, run in results.items():
        assert run["outcome"] in ("succeeded", "partially_succeeded"), (run_type, run)
