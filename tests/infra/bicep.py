"""Reading the Bicep files offline with pycep-parser (syntax and structure only)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

INFRA = Path(__file__).resolve().parents[2] / "infra"
MAIN = INFRA / "main.bicep"


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


@cache
def parse(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = BicepParser().parse(file_path=path)
    return result


def variable(path: Path, name: str) -> Any:
    return parse(path)["variables"][name]["value"]


def string_list(path: Path, name: str) -> list[str]:
    value = variable(path, name)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), (
        f"{path.name}: var {name} must be a literal list of strings"
    )
    return list(value)


def object_keys(path: Path, name: str) -> list[str]:
    value = variable(path, name)
    assert isinstance(value, dict), f"{path.name}: var {name} must be an object literal"
    return list(value)
