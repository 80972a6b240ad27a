"""What `azd up` and the platform read besides the Bicep: azure.yaml, the parameters file
azd fills in, and host.json's logging."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from tests.infra.bicep import MAIN, parse

ROOT = Path(__file__).resolve().parents[2]


def test_azure_yaml_provisions_infra_and_deploys_the_app_as_a_function() -> None:
    spec = yaml.safe_load((ROOT / "azure.yaml").read_text(encoding="utf-8"))
    assert spec["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    api = spec["services"]["api"]
    assert api == {"project": ".", "language": "python", "host": "function"}
    # azd finds the Function App by this tag; the Bicep must set it on the site.
    function = (ROOT / "infra" / "app" / "function.bicep").read_text(encoding="utf-8")
    assert "'azd-service-name': 'api'" in function
    assert (ROOT / "function_app.py").exists() and (ROOT / "requirements.txt").exists()


def test_azd_fills_the_parameters_from_its_environment() -> None:
    params = json.loads((MAIN.parent / "main.parameters.json").read_text(encoding="utf-8"))
    values = {name: spec["value"] for name, spec in params["parameters"].items()}
    assert values["environmentName"] == "${AZURE_ENV_NAME}"
    assert values["location"] == "${AZURE_LOCATION}"
    declared = parse(MAIN)["parameters"]
    required = {p for p, spec in declared.items() if spec.get("default") is None}
    for name in required:  # azd prompts for nothing the file does not give
        assert name in values, name
    for value in values.values():
        if isinstance(value, str) and "$" in value:
            assert re.fullmatch(r"\$\{[A-Z_]+\}", value), value


def test_successful_invocations_reach_application_insights() -> None:
    host = json.loads((ROOT / "host.json").read_text(encoding="utf-8"))
    levels = host["logging"]["logLevel"]
    # Host.Results carries the per-invocation results (requests in App Insights).
    assert levels["Host.Results"] == "Information"
