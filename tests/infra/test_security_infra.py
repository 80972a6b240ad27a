"""The deployment's security promises: no basic publishing credentials, and network rules
for storage and Key Vault offered as parameters with a documented default."""

from __future__ import annotations

from tests.infra.bicep import INFRA, MAIN, parse

FUNCTION = INFRA / "app" / "function.bicep"
STORAGE = INFRA / "app" / "storage.bicep"
KEY_VAULT = INFRA / "app" / "keyvault.bicep"
NETWORK_PARAMS = ("networkDefaultAction", "allowedIpRanges", "allowedSubnetIds")


def test_basic_publishing_credentials_are_off_for_scm_and_ftp() -> None:
    resources = parse(FUNCTION)["resources"].values()
    policies = {
        r["config"]["name"]: r["config"]["properties"]["allow"]
        for r in resources
        if r["type"] == "Microsoft.Web/sites/basicPublishingCredentialsPolicies"
    }
    assert policies == {"scm": False, "ftp": False}


def test_storage_and_key_vault_take_network_rules_defaulting_to_allow() -> None:
    for path, resource in ((STORAGE, "account"), (KEY_VAULT, "vault")):
        parsed = parse(path)
        params = parsed["parameters"]
        assert set(NETWORK_PARAMS) <= set(params), path.name
        assert params["networkDefaultAction"]["default"] == "Allow"
        assert "SECURITY.md" in str(params["networkDefaultAction"])
        acls = parsed["resources"][resource]["config"]["properties"]["networkAcls"]
        assert acls["defaultAction"] == "networkDefaultAction"
        assert acls["bypass"] == "AzureServices"
    main = parse(MAIN)
    assert main["parameters"]["networkDefaultAction"]["default"] == "Allow"
    for name in ("storage", "keyVault"):
        given = main["modules"][name]["config"]["params"]
        assert given["networkDefaultAction"] == "networkDefaultAction"
        assert given["allowedIpRanges"] == "networkAllowedIpRanges"
        assert given["allowedSubnetIds"] == "networkAllowedSubnetIds"
