"""local.settings.json, app-setting lookup and host.json parsing (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devhost.host_config import HostConfig, HostConfigError, QueueOptions, parse_timespan
from devhost.settings import AppSettings, LocalSettings, SettingsError


def test_local_settings_file(tmp_path: Path) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text(
        json.dumps(
            {
                "IsEncrypted": False,
                "Values": {"A": "1", "FLAG": True, "N": 5},
                "Host": {
                    "CORS": "http://localhost:3000, https://portal.example/",
                    "CORSCredentials": True,
                    "LocalHttpPort": 7072,
                },
            }
        ),
        encoding="utf-8",
    )
    settings = LocalSettings.load(path)
    assert settings.values == {"A": "1", "FLAG": "true", "N": "5"}
    assert settings.cors_origins == ("http://localhost:3000", "https://portal.example")
    assert settings.cors_credentials is True
    assert settings.local_http_port == 7072


def test_missing_file_is_empty(tmp_path: Path) -> None:
    assert LocalSettings.load(tmp_path / "absent.json") == LocalSettings()


def test_values_never_override_the_environment() -> None:
    environ = {"A": "from-env"}
    applied = LocalSettings(values={"A": "from-file", "B": "b"}).apply_to(environ)
    assert environ == {"A": "from-env", "B": "b"}
    assert applied == ["B"]


def test_lookup_environment_first_then_values() -> None:
    settings = AppSettings({"A": "env"}, LocalSettings(values={"A": "file", "B": "file"}))
    assert settings.get("A") == "env"
    assert settings.get("B") == "file"
    assert settings.get("C") is None
    assert settings.resolve("%B%-queue") == "file-queue"
    with pytest.raises(SettingsError):
        settings.resolve("%C%")


def test_storage_connection_names() -> None:
    settings = AppSettings(
        {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "Other": "X=1"}, LocalSettings()
    )
    assert "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1" in (
        settings.queue_connection(None).connection_string
    )
    assert settings.queue_connection("Other").connection_string == "X=1"
    with pytest.raises(SettingsError):
        settings.queue_connection("Missing")


def test_identity_based_connections_as_the_host_reads_them() -> None:
    identity = AppSettings(
        {
            "Id__queueServiceUri": "https://a.queue.core.windows.net/",
            "Id__clientId": "11111111-2222-3333-4444-555555555555",
            "Acct__accountName": "acct",
        },
        LocalSettings(),
    )
    connection = identity.queue_connection("Id")
    assert connection.uses_identity and connection.connection_string == ""
    assert connection.queue_service_uri == "https://a.queue.core.windows.net"
    assert connection.client_id == "11111111-2222-3333-4444-555555555555"
    client = connection.client("work")
    assert client.url == "https://a.queue.core.windows.net/work"
    assert type(client.credential).__name__ == "DefaultAzureCredential"
    account = identity.queue_connection("Acct")
    assert account.queue_service_uri == "https://acct.queue.core.windows.net"
    # The exact name wins, as in the host: a connection string beside the section.
    both = AppSettings(
        {"S": "UseDevelopmentStorage=true", "S__queueServiceUri": "https://x"}, LocalSettings()
    )
    assert not both.queue_connection("S").uses_identity


def test_timespans() -> None:
    assert parse_timespan("00:00:02") == 2
    assert parse_timespan("00:01:00") == 60
    assert parse_timespan("1.02:00:00") == 93600
    assert parse_timespan("00:00:00.5") == 0.5
    with pytest.raises(HostConfigError):
        parse_timespan("2s")


def test_host_json_defaults_and_values() -> None:
    assert HostConfig.from_dict({}) == HostConfig("api", QueueOptions())
    config = HostConfig.from_dict(
        {
            "extensions": {
                "http": {"routePrefix": ""},
                "queues": {
                    "batchSize": 4,
                    "maxPollingInterval": "00:00:01",
                    "visibilityTimeout": "00:00:30",
                    "maxDequeueCount": 3,
                    "messageEncoding": "none",
                },
            }
        }
    )
    assert config.route_prefix == ""
    assert config.queues == QueueOptions(4, 2, 1.0, 30.0, 3, "none")


@pytest.mark.parametrize(
    "queues",
    [
        {"batchSize": 33},
        {"batchSize": 0},
        {"maxPollingInterval": "00:00:00.05"},
        {"maxDequeueCount": 0},
        {"messageEncoding": "utf8"},
        {"newBatchThreshold": -1},
    ],
)
def test_host_json_rejects(queues: dict[str, object]) -> None:
    with pytest.raises(HostConfigError):
        HostConfig.from_dict({"extensions": {"queues": queues}})
