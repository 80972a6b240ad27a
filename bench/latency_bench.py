"""Start-to-running latency (not a test): `started_at - created_at` of runs started over
HTTP while the host's queue workers are idle, as a portal's users would start them.

A private Azurite and LocalCloud, the real function_app in DevHost with queue workers on,
reading the repository's host.json (whose `maxPollingInterval` governs the wait: an idle
listener backs off exponentially from 100 ms to that interval between empty polls). Runs
arrive one at a time at random (exponential gaps, mean --gap seconds), so the listener is
found at every point of its back-off. Prints p50, p95 and max from the run rows' own
timestamps. Usage: make bench-latency  (or python -m bench.latency_bench --help)
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from bench.http_bench import Clients
from devstack.stack import Stack, standalone_stack
from shared.auth.membership import Role
from shared.composition.services import services
from shared.config import APP_ROOT

P50_GOAL, P95_GOAL = 1.0, 2.5


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(stack: Stack, runs: int, gap: float) -> list[float]:
    clients = Clients(stack, "operator")
    tenant = stack.fresh_tenant(operator=Role.OPERATOR)
    path = f"/api/tenants/{tenant}/operations"
    ids = []
    for index in range(runs):
        time.sleep(random.expovariate(1 / gap))
        body = {"type": "diagnostics.noop", "inputs": {"label": f"latency-{index}"}}
        got = clients.get().post(path, json=body)
        if got.status_code != 202:
            raise RuntimeError(f"start answered {got.status_code}: {got.text[:200]}")
        ids.append(got.json()["run"]["id"])
    clients.close()
    service = services().runs
    deadline = time.monotonic() + 60
    waits: list[float] = []
    for run_id in ids:
        while True:
            run = service.get(tenant, run_id)
            if run.started_at is not None:
                waits.append((run.started_at - run.created_at).total_seconds())
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"run {run_id} never started")
            time.sleep(0.2)
    return waits


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--gap", type=float, default=1.0, help="mean seconds between starts")
    args = parser.parse_args()
    host = json.loads((APP_ROOT / "host.json").read_text(encoding="utf-8"))
    polling = host["extensions"]["queues"].get("maxPollingInterval", "(default)")
    with standalone_stack(workers=True) as stack:
        waits = measure(stack, args.runs, args.gap)
    p50, p95 = statistics.median(waits), percentile(waits, 0.95)
    print(
        f"start-to-running over {len(waits)} runs (host.json maxPollingInterval {polling}, "
        f"mean gap {args.gap:g} s): p50 {p50:.2f} s (goal <= {P50_GOAL}) "
        f"{'ok' if p50 <= P50_GOAL else 'OVER'}, p95 {p95:.2f} s (goal <= {P95_GOAL}) "
        f"{'ok' if p95 <= P95_GOAL else 'OVER'}, max {max(waits):.2f} s"
    )


if __name__ == "__main__":
    main()
