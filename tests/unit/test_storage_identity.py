"""Which way StorageClients reach storage: identity (Azure) or connection string (Azurite)."""

from __future__ import annotations

import pytest
from azure.identity import DefaultAzureCredential

from shared.composition.root import storage_from_settings
from shared.config import Settings, StorageSettingsConflict
from shared.persistence.clients import StorageEndpoints, identity_endpoints


def _settings(**values: str) -> Settings:
    return Settings(**values)  # type: ignore[arg-type]


def test_no_identity_settings_means_connection_string_mode() -> None:
    assert identity_endpoints("") is None
    clients = storage_from_settings(_settings(AzureWebJobsStorage="UseDevelopmentStorage=true"))
    assert not clients.uses_identity and clients.credential is None
    assert "devstoreaccount1" in clients.connection_string
    assert clients.table("OperationRuns").url.startswith("http://127.0.0.1:10002/")


def test_account_name_gives_the_public_cloud_endpoints() -> None:
    assert identity_endpoints("acct") == StorageEndpoints(
        blob="https://acct.blob.core.windows.net",
        queue="https://acct.queue.core.windows.net",
        table="https://acct.table.core.windows.net",
    )


def test_explicit_service_uris_win_and_lose_their_trailing_slash() -> None:
    endpoints = identity_endpoints(
        "acct", table_uri="https://acct.table.core.chinacloudapi.cn/", queue_uri=" "
    )
    assert endpoints is not None
    assert endpoints.table == "https://acct.table.core.chinacloudapi.cn"
    assert endpoints.queue == "https://acct.queue.core.windows.net"


def test_service_uris_alone_must_name_every_service() -> None:
    with pytest.raises(ValueError, match="blobServiceUri"):
        identity_endpoints(table_uri="https://a.table.core.windows.net", queue_uri="https://q")
    endpoints = identity_endpoints(
        blob_uri="https://a.blob.x", queue_uri="https://a.queue.x", table_uri="https://a.table.x"
    )
    assert endpoints == StorageEndpoints(
        "https://a.blob.x", "https://a.queue.x", "https://a.table.x"
    )


def test_identity_settings_select_default_azure_credential_without_network() -> None:
    settings = _settings(
        AzureWebJobsStorage="UseDevelopmentStorage=true",
        AzureWebJobsStorage__accountName="acct",
        AzureWebJobsStorage__tableServiceUri="https://acct.table.core.windows.net/",
    )
    clients = storage_from_settings(settings)
    assert clients.uses_identity and clients.connection_string == ""
    assert isinstance(clients.credential, DefaultAzureCredential)
    table = clients.table("OperationRuns")
    assert table.url.startswith("https://acct.table.core.windows.net")
    assert table.credential is clients.credential
    queue = clients.queue("operation-runs")
    assert queue.url == "https://acct.queue.core.windows.net/operation-runs"
    assert type(queue._message_encode_policy).__name__ == "TextBase64EncodePolicy"
    container = clients.container("policy-payloads")
    assert container.url == "https://acct.blob.core.windows.net/policy-payloads"
    assert clients.table_service().url.startswith("https://acct.table.core.windows.net")


def test_settings_read_the_identity_names_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AzureWebJobsStorage__accountName", "fromenv")
    monkeypatch.setenv("AzureWebJobsStorage__clientId", "11111111-2222-3333-4444-555555555555")
    settings = Settings()
    assert settings.storage_account_name == "fromenv"
    assert settings.storage_client_id == "11111111-2222-3333-4444-555555555555"
    assert storage_from_settings(settings).uses_identity


def test_the_connection_string_is_refused_while_identity_settings_are_present() -> None:
    """In Azure there is no AzureWebJobsStorage; its default would point at loopback."""
    settings = _settings(
        AzureWebJobsStorage="UseDevelopmentStorage=true",
        AzureWebJobsStorage__queueServiceUri="https://acct.queue.core.windows.net",
        AzureWebJobsStorage__accountName="acct",
    )
    with pytest.raises(StorageSettingsConflict):
        _ = settings.storage_connection_string
    plain = _settings(AzureWebJobsStorage="UseDevelopmentStorage=true")
    assert plain.storage_connection_string == "UseDevelopmentStorage=true"
