"""Shutdown (API and CLI) and the CLI's settings handling."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient

from devhost import DevHost, LocalSettings
from devstack.azurite import free_port
from tests.devhost import sample_app
from tests.devhost.conftest import YEARLY, HostFactory, request, wait_for
from tests.devhost.sample_app import Recorder

ROOT = Path(__file__).resolve().parents[2]


def test_stop_finishes_in_flight_work_and_stops_polling(
    make_host: HostFactory, queue_client: QueueClient, recorder: Recorder
) -> None:
    host = make_host()
    queue_client.send_message(json.dumps({"tag": "in-flight", "sleep": 0.8}))
    wait_for(lambda: len(recorder.of("queue_worker")) == 1, what="delivery")
    assert host.stop(grace=10) is True
    [call] = recorder.of("queue_worker")
    assert call.outcome == "ok"
    assert queue_client.get_queue_properties().approximate_message_count == 0
    queue_client.send_message(json.dumps({"tag": "after-stop"}))
    time.sleep(0.7)  # longer than the polling interval
    assert len(recorder.of("queue_worker")) == 1
    with pytest.raises(OSError):
        request(host.base_url, "GET", "/api/items/1")


def test_stop_waits_for_running_http_requests(make_host: HostFactory, recorder: Recorder) -> None:
    host = make_host(workers=False)
    replies: list[int] = []
    worker = threading.Thread(
        target=lambda: replies.append(request(host.base_url, "GET", "/api/slow?seconds=0.6").status)
    )
    worker.start()
    wait_for(lambda: len(recorder.of("slow")) == 1, what="slow request started")
    assert host.stop(grace=10) is True
    worker.join(10)
    assert replies == [200]


def test_stop_abandons_work_past_the_grace_period(
    make_host: HostFactory, queue_client: QueueClient, recorder: Recorder
) -> None:
    host = make_host()
    queue_client.send_message(json.dumps({"tag": "slow", "sleep": 1.5}))
    wait_for(lambda: len(recorder.of("queue_worker")) == 1, what="delivery")
    assert host.stop(grace=0.2) is False
    # Abandoned, not settled: the message stays in the queue (hidden by its lease).
    call = recorder.of("queue_worker")[0]
    wait_for(lambda: call.ended is not None, what="the abandoned function to return")
    assert queue_client.get_queue_properties().approximate_message_count == 1


def _cli(tmp_path: Path, azurite: Any, queue: str, *extra: str) -> subprocess.Popen[str]:
    settings = {
        "IsEncrypted": False,
        "Values": {
            "SampleStorage": azurite.connection_string,
            "SAMPLE_QUEUE": queue,
            "SAMPLE_TIMER_SCHEDULE": YEARLY,
            "SAMPLE_STARTUP_SCHEDULE": "%NOT_SET_SO_UNUSED%",
            "FROM_FILE": "file",
        },
        "Host": {"CORS": "http://localhost:3000"},
    }
    (tmp_path / "local.settings.json").write_text(json.dumps(settings), encoding="utf-8")
    (tmp_path / "host.json").write_text(
        json.dumps({"version": "2.0", "extensions": {"http": {"routePrefix": ""}}}),
        encoding="utf-8",
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SAMPLE_", "SampleStorage"))
    }
    # The environment wins over local.settings.json.
    env["SAMPLE_STARTUP_SCHEDULE"] = YEARLY
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devhost",
            "serve",
            "--app",
            "tests.devhost.sample_app",
            "--script-root",
            str(ROOT),
            "--settings",
            str(tmp_path / "local.settings.json"),
            "--host-json",
            str(tmp_path / "host.json"),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_up(base: str, path: str, process: subprocess.Popen[str]) -> None:
    def up() -> bool:
        assert process.poll() is None, process.communicate()[1][-3000:]
        try:
            return request(base, "GET", path).status == 200
        except OSError:
            return False

    wait_for(up, timeout=20, what="the CLI host")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_and_exits_cleanly_on_signal(
    tmp_path: Path, azurite: Any, unique_name: str, sig: signal.Signals
) -> None:
    port = free_port()
    process = _cli(tmp_path, azurite, unique_name, "--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_up(base, "/api/items/1", process)
        got = request(base, "GET", "/api/items/1", headers={"Origin": "http://localhost:3000"})
        assert got.status == 200
        assert got.headers["access-control-allow-origin"] == "http://localhost:3000"
        process.send_signal(sig)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err[-3000:]
    assert "queue_worker: queueTrigger " + unique_name in out
    assert f"{base}/api/items/{{item_id:int}}" in out


def test_cli_no_workers(tmp_path: Path, azurite: Any, unique_name: str) -> None:
    port = free_port()
    process = _cli(tmp_path, azurite, unique_name, "--port", str(port), "--no-workers")
    try:
        _wait_up(f"http://127.0.0.1:{port}", "/api/items/1", process)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err[-3000:]
    assert "(not polled: --no-workers)" in out
    # No queue listener ran, so the trigger's queue was never even created.
    with QueueClient.from_connection_string(azurite.connection_string, unique_name) as client:
        with pytest.raises(ResourceNotFoundError):
            client.get_queue_properties()


def test_settings_are_read_from_values_unless_in_environment() -> None:
    environ = {"SAMPLE_QUEUE": "from-env"}
    settings = LocalSettings(
        values={
            "SAMPLE_QUEUE": "from-file",
            "SAMPLE_TIMER_SCHEDULE": YEARLY,
            "SAMPLE_STARTUP_SCHEDULE": YEARLY,
        }
    )
    host = DevHost(sample_app.app, None, settings, workers=False, environ=environ)
    queues = [f for f in host.functions if getattr(f, "queue_name", None)]
    assert [q.queue_name for q in queues] == ["from-env"]  # type: ignore[union-attr]
    host.stop()
