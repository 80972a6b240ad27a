"""Helpers for devhost tests: a host per test on the sample app, HTTP and queue tools."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from devhost import DevHost, LocalSettings
from tests.devhost import sample_app

YEARLY = "0 0 0 1 1 *"  # effectively never during a test


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    base_url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        connection.close()


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def write_host_json(
    directory: Path, queues: dict[str, Any] | None = None, prefix: str = ""
) -> Path:
    options = {"maxPollingInterval": "00:00:00.500", "visibilityTimeout": "00:00:00"}
    options.update(queues or {})
    data = {
        "version": "2.0",
        "extensions": {"http": {"routePrefix": prefix}, "queues": options},
    }
    path = directory / "host.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def recorder() -> Iterator[sample_app.Recorder]:
    sample_app.RECORDER.reset()
    yield sample_app.RECORDER
    sample_app.RECORDER.reset()


@pytest.fixture
def sample_settings(azurite: Any, unique_name: str) -> LocalSettings:
    return LocalSettings(
        values={
            "SampleStorage": azurite.connection_string,
            "SAMPLE_QUEUE": unique_name,
            "SAMPLE_TIMER_SCHEDULE": YEARLY,
            "SAMPLE_STARTUP_SCHEDULE": YEARLY,
        }
    )


HostFactory = Callable[..., DevHost]


@pytest.fixture
def make_host(
    tmp_path: Path, sample_settings: LocalSettings, recorder: sample_app.Recorder
) -> Iterator[HostFactory]:
    """Start DevHosts on the sample app; all are stopped at the end of the test."""
    hosts: list[DevHost] = []

    def factory(
        queues: dict[str, Any] | None = None,
        values: dict[str, str] | None = None,
        cors: tuple[str, ...] = (),
        cors_credentials: bool = False,
        prefix: str = "",
        **kwargs: Any,
    ) -> DevHost:
        local = LocalSettings(
            values={**sample_settings.values, **(values or {})},
            cors_origins=cors,
            cors_credentials=cors_credentials,
        )
        kwargs.setdefault("environ", {})  # hermetic: ignore the developer's environment
        host = DevHost(sample_app.app, write_host_json(tmp_path, queues, prefix), local, **kwargs)
        hosts.append(host)
        return host.start()

    yield factory
    for host in hosts:
        host.stop(grace=10)


@pytest.fixture
def queue_client(azurite: Any, unique_name: str) -> Iterator[QueueClient]:
    """The test queue, with base64 on the wire (the Functions default)."""
    with QueueClient.from_connection_string(
        azurite.connection_string,
        unique_name,
        message_encode_policy=TextBase64EncodePolicy(),
        message_decode_policy=TextBase64DecodePolicy(),
    ) as client:
        yield client


@pytest.fixture
def raw_queue(azurite: Any) -> Iterator[Callable[[str], QueueClient]]:
    """Clients with no encoding: what is on the wire, byte for byte."""
    clients: list[QueueClient] = []

    def open_queue(name: str) -> QueueClient:
        client = QueueClient.from_connection_string(azurite.connection_string, name)
        clients.append(client)
        return client

    yield open_queue
    for client in clients:
        client.close()
