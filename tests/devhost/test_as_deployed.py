"""devhost.as_deployed: main.bicep's app settings, resolved for this machine, and what it
refuses to guess."""

from __future__ import annotations

from pathlib import Path

import pytest

from devhost.as_deployed import (
    DeployedSettingsError,
    LocalPlatform,
    bicep_app_settings,
    deployed_settings,
)
from tests.infra.bicep import MAIN, object_keys

PLATFORM = LocalPlatform(
    cloud_base_url="https://127.0.0.1:1",
    ca_path=Path("ca.pem"),
    blob_uri="https://127.0.0.1:2/devstoreaccount1",
    queue_uri="https://127.0.0.1:3/devstoreaccount1",
    table_uri="https://127.0.0.1:4/devstoreaccount1",
    public_base_url="http://127.0.0.1:5",
    identity={"IDENTITY_ENDPOINT": "http://127.0.0.1:6/msi/token", "IDENTITY_HEADER": "h"},
)


def test_every_bicep_setting_is_read_as_the_parser_reads_it() -> None:
    assert [s.name for s in bicep_app_settings()] == object_keys(MAIN, "appSettings")


def test_literals_stay_as_written_and_expressions_are_resolved() -> None:
    settings = deployed_settings(PLATFORM)
    assert "AzureWebJobsStorage" not in settings
    assert settings["AUTH_TRUST_APP_SERVICE_PRINCIPAL"] == "true"  # literal in main.bicep
    assert settings["AUTO_PROVISION_STORAGE"] == "false"
    assert settings["AzureWebJobsStorage__queueServiceUri"] == PLATFORM.queue_uri
    assert settings["GRAPH_AUTHORITY_BASE_URL"] == PLATFORM.cloud_base_url  # the stand-in
    assert settings["IDENTITY_ENDPOINT"] == PLATFORM.identity["IDENTITY_ENDPOINT"]
    assert not any(v.startswith("@Microsoft.KeyVault(") for v in settings.values())


def _bicep(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "main.bicep"
    path.write_text(f"param x string\n\nvar appSettings = {{\n{body}\n}}\n", encoding="utf-8")
    return path


def test_an_expression_it_cannot_resolve_stops_it(tmp_path: Path) -> None:
    main = _bicep(tmp_path, "  // a comment\n  NEW_SETTING: someParameter\n  PLAIN: 'x'")
    with pytest.raises(DeployedSettingsError, match="NEW_SETTING"):
        deployed_settings(PLATFORM, main)


def test_a_storage_connection_string_in_the_bicep_stops_it(tmp_path: Path) -> None:
    main = _bicep(tmp_path, "  AzureWebJobsStorage: 'UseDevelopmentStorage=true'")
    with pytest.raises(DeployedSettingsError, match="AzureWebJobsStorage"):
        deployed_settings(PLATFORM, main)
