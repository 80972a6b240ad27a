"""HTTP benchmark (not a test): start and list through the local host against the raw
storage floor, measured in one run.

A private Azurite, a LocalCloud (Entra tokens, JWKS) and a DevHost serving the real
function_app with queue workers off (runs stay queued), set up as tests/e2e does
(devstack.stack.standalone_stack). Then, interleaving ours and the floor so drift hits both:
  start: POST /api/tenants/{t}/operations (distinct diagnostics.noop labels), sequential
         vs one 2-entity entity-group transaction + one queue send with the SDKs (the
         issue's floor), and vs the storage work a start must do, as raw SDK calls: its
         5-entity transaction (run, lock, 2 index rows, queued notice) + one queue send
  list:  GET /api/tenants/{t}/operations?limit=50 vs one raw 50-row page query
and the throughput of 1, 2, 4 and 8 concurrent clients for both (and for the floors), plus
the peak memory of this process. The host runs in a process of its own (`python -m devhost
serve`, as the Functions host is not its client's process), so the clients, the floors'
SDK calls and the host do not share one interpreter lock; `--host in-process` serves it
from this process instead (how the figures before issue 15's second part were taken).
Prints medians, ratios and throughput. Usage: make bench-http  (or --help)
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.runs_bench import (
    fill_partition,
    interleave,
    interleave_all,
    product_start_floor,
    raw_start_floor,
    report,
    timed,
)
from devstack.azurite import free_port
from devstack.stack import ROOT, Stack, standalone_stack
from shared.auth.membership import Role
from shared.config import NOTIFICATIONS_QUEUE, RUNS_TABLE
from shared.runs.identity import RUN_RANGE
from shared.runs.relay import RELAY_WINDOW_SECONDS

START_TARGET = 1.2
LIST_TARGET = 1.2
# Throughput of HTTP start at 8 clients against the floor's at 8 clients.
THROUGHPUT_TARGET = 0.8


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def throughput(action: Callable[[int], object], clients: int, seconds: float) -> float:
    """Calls per second with `clients` threads each calling `action` for `seconds`."""
    stop = time.perf_counter() + seconds
    counter = itertools.count()
    done = [0] * clients

    def client(slot: int) -> None:
        while time.perf_counter() < stop:
            action(next(counter))
            done[slot] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return sum(done) / (time.perf_counter() - started)


class Clients:
    """One keep-alive HTTP client per thread (as a portal's connection pool would)."""

    def __init__(self, stack: Stack, who: str, base_url: str | None = None) -> None:
        self._stack = stack
        self._token = stack.token(who)
        self._base_url = base_url or stack.base_url
        self._local = threading.local()
        self._all: list[httpx.Client] = []
        self._lock = threading.Lock()

    def get(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._stack.client(token=self._token)
            client.base_url = httpx.URL(self._base_url)
            self._local.client = client
            with self._lock:
                self._all.append(client)
        return client

    def close(self) -> None:
        for client in self._all:
            client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--starts", type=int, default=300, help="sequential start rounds")
    parser.add_argument("--lists", type=int, default=300, help="sequential list rounds")
    parser.add_argument("--history", type=int, default=1000, help="runs in the list tenant")
    parser.add_argument("--seconds", type=float, default=3.0, help="per concurrency level")
    parser.add_argument(
        "--host",
        choices=("process", "in-process"),
        default="process",
        help="serve the app from a process of its own (default) or from this one",
    )
    args = parser.parse_args()

    with standalone_stack() as stack:
        run(stack, args)


@contextmanager
def host_process() -> Iterator[str]:
    """`python -m devhost serve` (HTTP only) with this process's environment, which
    running_stack has pointed at the stack's Azurite and LocalCloud; its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as empty:
        command = [sys.executable, "-m", "devhost", "serve", "--no-workers", "--port", str(port)]
        command += ["--settings", str(Path(empty) / "none.json"), "--log-level", "WARNING"]
        env = {**os.environ, "PUBLIC_BASE_URL": base_url}
        host = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            assert host.stdout is not None
            for line in host.stdout:
                if "devhost ready" in line:
                    break
            else:
                raise RuntimeError(f"the host exited with {host.wait()} before it was ready")
            yield base_url
        finally:
            host.terminate()
            host.wait(timeout=60)


def run(stack: Stack, args: argparse.Namespace) -> None:
    if args.host == "in-process":
        measure(stack, args, stack.base_url)
        return
    with host_process() as base_url:
        measure(stack, args, base_url)


def measure(stack: Stack, args: argparse.Namespace, base_url: str) -> None:
    rss_before = peak_rss_mib()
    print(f"host: {args.host}")
    clients = Clients(stack, "operator", base_url)
    tenant = stack.fresh_tenant(operator=Role.OPERATOR)
    table = stack.storage.table(RUNS_TABLE)
    queue = stack.storage.queue(f"bench{uuid.uuid4().hex[:12]}")
    queue.create_queue()
    labels = itertools.count()
    start_path = f"/api/tenants/{tenant}/operations"

    def http_start(_: int) -> None:
        body = {"type": "diagnostics.noop", "inputs": {"label": f"bench-{next(labels)}"}}
        got = clients.get().post(start_path, json=body)
        if got.status_code != 202:
            raise RuntimeError(f"start answered {got.status_code}: {got.text[:200]}")

    floor_start = raw_start_floor(table, queue)
    product_floor = product_start_floor(table, queue)

    def http_health(_: int) -> None:
        clients.get().get("/api/health").raise_for_status()

    print("sequential, 1 client (keep-alive), medians of interleaved rounds")
    starts = [http_start, floor_start, product_floor]
    interleave_all(starts, 30)  # warm-up: connections, JWKS, membership cache
    notices = stack.storage.queue(NOTIFICATIONS_QUEUE)  # no worker drains it here
    time.sleep(2 * RELAY_WINDOW_SECONDS)  # the warm-up's last batch has gone out
    before = notices.get_queue_properties().approximate_message_count or 0
    ours, floor, product = interleave_all(starts, args.starts)
    time.sleep(2 * RELAY_WINDOW_SECONDS)
    sent = (notices.get_queue_properties().approximate_message_count or 0) - before
    report("HTTP start vs txn(2) + queue send", ours, floor, START_TARGET)
    report("HTTP start vs txn(5) + queue send", ours, product, START_TARGET)
    print(
        f"  queued notices: {sent} notifications messages for {args.starts} starts "
        f"({sent / args.starts:.2f} per start; one per start before the relay)"
    )
    print(
        f"  Azurite + SDK, 5-entity against 2-entity transaction + send: "
        f"{statistics.median(product) / statistics.median(floor):.2f}x "
        f"({(statistics.median(product) - statistics.median(floor)) * 1000:.2f} ms more)"
    )
    health = [timed(http_health, i) for i in range(args.starts)]
    transport = statistics.median(health)
    print(
        f"  transport alone (GET /api/health, no storage): {transport * 1000:.2f} ms; "
        f"start less transport: {(statistics.median(ours) - transport) * 1000:.2f} ms = "
        f"{(statistics.median(ours) - transport) / statistics.median(floor):.2f}x the floor, "
        f"{(statistics.median(ours) - transport) / statistics.median(product):.2f}x txn(5) + send"
    )

    list_tenant = stack.fresh_tenant(operator=Role.OPERATOR)
    fill_partition(table, list_tenant, args.history)
    list_path = f"/api/tenants/{list_tenant}/operations"

    def http_list(_: int) -> None:
        got = clients.get().get(list_path, params={"limit": 50})
        if got.status_code != 200 or len(got.json()["items"]) != 50:
            raise RuntimeError(f"list answered {got.status_code}: {got.text[:200]}")

    def raw_page(_: int) -> None:
        pages = table.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": list_tenant, "lo": RUN_RANGE[0], "hi": RUN_RANGE[1]},
            results_per_page=50,
        ).by_page()
        list(next(pages))

    interleave(http_list, raw_page, 20)
    ours_list, floor_list = interleave(http_list, raw_page, args.lists)
    report(f"HTTP list 50 (of {args.history}) vs raw page", ours_list, floor_list, LIST_TARGET)
    print(
        f"  list less transport: {(statistics.median(ours_list) - transport) * 1000:.2f} ms = "
        f"{(statistics.median(ours_list) - transport) / statistics.median(floor_list):.2f}x "
        "the floor"
    )
    per_start = statistics.median(ours) * 1000
    per_list = statistics.median(ours_list) * 1000
    print(f"  (HTTP start p50 {per_start:.2f} ms, list p50 {per_list:.2f} ms)")

    print(f"\nthroughput, {args.seconds:.0f} s per level (calls/s; x = vs 1 client)")
    columns = ("HTTP start", "txn(2) + send", "txn(5) + send", "HTTP list", "raw page")
    print(f"{'clients':>8} " + " ".join(f"{name:>18}" for name in columns))
    base: dict[str, float] = {}
    last: dict[str, float] = {}
    for n in (1, 2, 4, 8):
        row = []
        for name, action in (
            ("start", http_start),
            ("floor", floor_start),
            ("product", product_floor),
            ("list", http_list),
            ("page", raw_page),
        ):
            rate = throughput(action, n, args.seconds)
            base.setdefault(name, rate)
            last[name] = rate
            row.append(f"{rate:8.0f} ({rate / base[name]:4.2f}x)")
        print(f"{n:>8} " + " ".join(f"{cell:>18}" for cell in row))
    for floor_name, label in (("floor", "txn(2) + send"), ("product", "txn(5) + send")):
        share = last["start"] / last[floor_name]
        verdict = "ok" if share >= THROUGHPUT_TARGET else "UNDER TARGET"
        print(
            f"HTTP start at 8 clients: {share:.2f}x the throughput of {label} "
            f"(target >= {THROUGHPUT_TARGET}x) {verdict}"
        )

    clients.close()
    rss_after = peak_rss_mib()
    print(
        f"\npeak RSS of this process (bench, its clients and floors; the host too when "
        f"in-process): {rss_after:.0f} MiB "
        f"(before the load: {rss_before:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
