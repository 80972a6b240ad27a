"""Every .bicep file parses (pycep-parser), and the deployment keeps its promises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.infra.bicep import INFRA, MAIN, bicep_files, object_keys, parse

FILES = bicep_files()


def test_there_is_infra_to_check() -> None:
    names = {p.relative_to(INFRA).as_posix() for p in FILES}
    assert {"main.bicep", "app/function.bicep", "app/storage.bicep", "app/rbac.bicep"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_bicep_parses(path: Path) -> None:
    parsed = parse(path)
    assert parsed.get("resources") or parsed.get("modules"), f"{path.name} declares nothing"


def test_modules_point_at_files_that_exist() -> None:
    for path in FILES:
        for name, module in parse(path).get("modules", {}).items():
            target = (path.parent / module["detail"]["path"]).resolve()
            assert target.is_file(), f"{path.name}: module {name} -> {target} is missing"


def test_module_params_are_declared_by_the_module() -> None:
    for path in FILES:
        for name, module in parse(path).get("modules", {}).items():
            target = (path.parent / module["detail"]["path"]).resolve()
            declared = set(parse(target)["parameters"])
            given = set(module["config"]["params"])
            assert given <= declared, f"{path.name}: module {name} gets unknown {given - declared}"
            required = {
                p for p, spec in parse(target)["parameters"].items() if spec.get("default") is None
            }
            assert required <= given, f"{path.name}: module {name} misses {required - given}"


def test_parameters_file_matches_main() -> None:
    params = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))
    declared = parse(MAIN)["parameters"]
    given = set(params["parameters"])
    assert given <= set(declared), f"unknown parameters {given - set(declared)}"
    required = {p for p, spec in declared.items() if spec.get("default") is None}
    assert required <= given, f"main.parameters.json misses {required - given}"


def test_no_connection_string_or_secret_in_app_settings() -> None:
    text = MAIN.read_text(encoding="utf-8")
    keys = object_keys(MAIN, "appSettings")
    assert "AzureWebJobsStorage" not in keys  # identity-based: __accountName etc.
    assert "AccountKey" not in text and "listKeys(" not in text
    for path in FILES:
        body = path.read_text(encoding="utf-8")
        assert "listKeys(" not in body and "AccountKey=" not in body, path.name
    # Secrets are Key Vault references, nothing else.
    settings = parse(MAIN)["variables"]["appSettings"]["value"]
    for name in ("API_CLIENT_SECRET", "MICROSOFT_PROVIDER_AUTHENTICATION_SECRET"):
        assert settings[name] == "apiClientSecretReference"
    assert "@Microsoft.KeyVault(" in text


def test_flex_consumption_python_311_with_system_identity() -> None:
    site = parse(INFRA / "app" / "function.bicep")["resources"]["site"]
    config = site["config"]
    assert site["type"] == "Microsoft.Web/sites"
    assert config["kind"] == "functionapp,linux"
    assert config["identity"]["type"] == "SystemAssigned"
    app_config = config["properties"]["functionAppConfig"]
    assert app_config["runtime"] == {"name": "python", "version": "3.11"}
    auth = app_config["deployment"]["storage"]["authentication"]
    assert auth["type"] == "SystemAssignedIdentity"
    plan = parse(INFRA / "app" / "function.bicep")["resources"]["plan"]["config"]
    assert plan["sku"] == {"tier": "FlexConsumption", "name": "FC1"}


def test_identity_gets_the_storage_data_roles() -> None:
    roles = parse(INFRA / "app" / "rbac.bicep")["variables"]["roles"]["value"]
    assert roles["storageBlobDataOwner"] == "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
    assert roles["storageQueueDataContributor"] == "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
    assert roles["storageTableDataContributor"] == "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
    assert roles["keyVaultSecretsUser"] == "4633458b-17de-408a-b874-0445c86b69e6"


def test_easy_auth_sends_browsers_to_login_but_lets_the_api_through() -> None:
    auth = parse(INFRA / "app" / "auth.bicep")["resources"]["authSettings"]["config"]
    validation = auth["properties"]["globalValidation"]
    assert validation["unauthenticatedClientAction"] == "RedirectToLoginPage"
    assert validation["excludedPaths"] == ["/api/*"]
    assert auth["properties"]["login"]["tokenStore"]["enabled"] is True
