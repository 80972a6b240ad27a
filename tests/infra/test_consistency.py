"""The Bicep, the sample settings, the settings model and the triggers name the same things.

Each side is read from its source: `infra/main.bicep` (parsed), `local.settings.sample.json`,
`shared.config.Settings` (field aliases / names), the trigger decorators (introspected
through `function_app.app.get_functions()`), and the table / queue / container constants.
A name added to one side only fails here; so does an exception below that became stale.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import shared.composition.provisioning as provisioning
import shared.config as config
import shared.persistence.clients as storage
from shared.config import STORAGE_CONNECTION, Settings
from tests.infra.bicep import MAIN, object_keys, string_list

ROOT = Path(__file__).resolve().parents[2]

# In local.settings.sample.json for Core Tools, not read by the app, not set in Azure (Flex
# takes the worker runtime from functionAppConfig.runtime).
SAMPLE_ONLY = {"FUNCTIONS_WORKER_RUNTIME"}
# Read by the app, set in Azure only: identity-based storage. Locally the connection string
# (Azurite) is used; an empty `AzureWebJobsStorage__*` beside it would confuse the host.
AZURE_ONLY = {
    "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__blobServiceUri",
    "AzureWebJobsStorage__queueServiceUri",
    "AzureWebJobsStorage__tableServiceUri",
}
# Read by the app, local only: the Azurite connection string and the dev CA bundle.
LOCAL_ONLY = {"AzureWebJobsStorage", "GRAPH_CA_BUNDLE"}
# Read by the app, set nowhere by default: a user-assigned identity's client id.
OPTIONAL = {"AzureWebJobsStorage__clientId"}
# In Azure, read by the platform, not the app: Easy Auth's client secret (a KV reference).
PLATFORM = {"MICROSOFT_PROVIDER_AUTHENTICATION_SECRET"}
# Read by the app, set by App Service itself (never by us): whether its Authentication is on.
PLATFORM_SET = {"WEBSITE_AUTH_ENABLED"}

_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def assert_same(what: str, expected: Iterable[str], actual: Iterable[str]) -> None:
    expected_set, actual_set = set(expected), set(actual)
    missing = sorted(expected_set - actual_set)
    stale = sorted(actual_set - expected_set)
    assert not missing and not stale, f"{what}: missing {missing}, stale {stale}"


def settings_names(model: type[Settings] = Settings) -> set[str]:
    """The app setting (environment variable) each settings field is read from."""
    return {field.alias or name.upper() for name, field in model.model_fields.items()}


def constants(suffix: str) -> set[str]:
    return {
        value
        for name, value in vars(config).items()
        if name.isupper() and name.endswith(suffix) and isinstance(value, str)
    }


def sample_values() -> set[str]:
    data = json.loads((ROOT / "local.settings.sample.json").read_text(encoding="utf-8"))
    return set(data["Values"])


def bicep_settings() -> set[str]:
    return set(object_keys(MAIN, "appSettings"))


@cache
def triggers() -> list[dict[str, Any]]:
    """Trigger bindings of every function, introspected once (the library allows one call)."""
    import function_app

    app = function_app.app
    if hasattr(app, "functions_bindings"):
        app.functions_bindings = None
    found = []
    for function in app.get_functions():
        trigger = function.get_trigger()
        found.append(
            {
                "function": function.get_function_name(),
                "type": trigger.type,
                "queue_name": getattr(trigger, "queue_name", None),
                "connection": getattr(trigger, "connection", None),
                "schedule": getattr(trigger, "schedule", None),
            }
        )
    return found


# -- the comparison itself fails when one side gains a name ------------------------------------


def test_a_name_on_one_side_only_fails() -> None:
    with pytest.raises(AssertionError, match="missing \\['B'\\]"):
        assert_same("x", {"A", "B"}, {"A"})
    with pytest.raises(AssertionError, match="stale \\['B'\\]"):
        assert_same("x", {"A"}, {"A", "B"})


def test_a_new_settings_field_shows_up_as_a_name_to_deploy() -> None:
    class Extended(Settings):
        brand_new_setting: str = ""

    assert "BRAND_NEW_SETTING" in settings_names(Extended) - settings_names()
    with pytest.raises(AssertionError, match="BRAND_NEW_SETTING"):
        assert_same(
            "bicep",
            settings_names(Extended) - LOCAL_ONLY - OPTIONAL | PLATFORM,
            bicep_settings(),
        )


# -- the exceptions above are themselves current -------------------------------------------


def test_exceptions_are_not_stale() -> None:
    read = settings_names()
    assert (AZURE_ONLY | LOCAL_ONLY | OPTIONAL | PLATFORM_SET) <= read
    assert not (PLATFORM | SAMPLE_ONLY) & read
    assert not AZURE_ONLY & LOCAL_ONLY


# -- app settings --------------------------------------------------------------------------


def test_sample_settings_are_exactly_what_the_app_reads() -> None:
    expected = (settings_names() - AZURE_ONLY - OPTIONAL - PLATFORM_SET) | SAMPLE_ONLY
    assert_same("local.settings.sample.json Values", expected, sample_values())


def test_bicep_app_settings_are_exactly_what_the_app_reads_in_azure() -> None:
    expected = (settings_names() - LOCAL_ONLY - OPTIONAL - PLATFORM_SET) | PLATFORM
    assert_same("infra/main.bicep appSettings", expected, bicep_settings())


def test_graph_credential_settings_are_setting_names_that_collide_with_nothing() -> None:
    params = json.loads((ROOT / "infra" / "main.parameters.json").read_text(encoding="utf-8"))
    for cred in params["parameters"]["graphCredentials"]["value"]:
        assert _SETTING_NAME.match(cred["settingName"]), cred
        assert cred["settingName"] not in settings_names() | bicep_settings()


def test_the_app_reads_no_literal_environment_variable_outside_the_settings_model() -> None:
    pattern = re.compile(r"(?:environ(?:\.get)?\(|environ\[|getenv\()\s*[\"']([^\"']+)[\"']")
    sources = [ROOT / "function_app.py", *(ROOT / "shared").rglob("*.py")]
    sources += list((ROOT / "functions").rglob("*.py"))
    found = {m for path in sources for m in pattern.findall(path.read_text(encoding="utf-8"))}
    assert not found, f"read these through shared.config.Settings instead: {sorted(found)}"


# -- triggers ------------------------------------------------------------------------------


def test_queue_triggers_use_the_identity_based_storage_connection() -> None:
    queue_triggers = [t for t in triggers() if t["type"] == "queueTrigger"]
    assert queue_triggers, "no queue trigger found"
    for trigger in queue_triggers:
        assert trigger["connection"] == STORAGE_CONNECTION, trigger
    connections = {t["connection"] for t in queue_triggers}
    for connection in connections:
        assert f"{connection}__accountName" in bicep_settings()
        assert f"{connection}__queueServiceUri" in bicep_settings()
        assert connection in sample_values()


def test_every_trigger_queue_is_deployed() -> None:
    names = {t["queue_name"] for t in triggers() if t["type"] == "queueTrigger"}
    assert names <= set(string_list(MAIN, "queueNames")), names


def test_timers_are_registered() -> None:
    timers = {t["function"]: t["schedule"] for t in triggers() if t["type"] == "timerTrigger"}
    assert {"run_reaper", "run_retention"} <= set(timers)


# -- tables, queues, containers -----------------------------------------------------------


def test_tables() -> None:
    assert_same(
        "table constants vs the tables the stores declare (shared.composition.provisioning)",
        constants("_TABLE"),
        provisioning.ALL_TABLES,
    )
    assert_same("infra/main.bicep tableNames", constants("_TABLE"), string_list(MAIN, "tableNames"))


def test_queues() -> None:
    assert_same(
        "queue constants vs shared.persistence.clients.ALL_QUEUES",
        constants("_QUEUE"),
        storage.ALL_QUEUES,
    )
    assert_same("infra/main.bicep queueNames", constants("_QUEUE"), string_list(MAIN, "queueNames"))


def test_containers() -> None:
    assert_same(
        "container constants vs shared.persistence.clients.ALL_CONTAINERS",
        constants("_CONTAINER"),
        storage.ALL_CONTAINERS,
    )
    assert_same(
        "infra/main.bicep appContainerNames",
        constants("_CONTAINER"),
        string_list(MAIN, "appContainerNames"),
    )
