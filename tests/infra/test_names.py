"""No environment name main.bicep allows yields an invalid resource name.

There is no Bicep compiler here, so the name variables of main.bicep are evaluated by a
small interpreter of the few functions they use (string interpolation, toLower, take,
replace, uniqueString), over edge-case environment names within the parameter's
declared lengths, and each name is held against Azure's naming rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from tests.infra.bicep import MAIN, parse

# Azure's rules (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules).
RULES: dict[str, Callable[[str], bool]] = {
    # Microsoft.Storage/storageAccounts: 3-24, lower-case letters and digits only.
    "storageAccountName": lambda n: re.fullmatch(r"[a-z0-9]{3,24}", n) is not None,
    # Microsoft.KeyVault/vaults: 3-24, letters, digits, hyphens; a letter first; a letter
    # or digit last; no consecutive hyphens.
    "keyVaultName": lambda n: (
        re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]", n) is not None and "--" not in n
    ),
    # Microsoft.Web/sites: 2-60, letters, digits, hyphens; not starting or ending with one.
    "functionAppName": lambda n: (
        re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,58}[A-Za-z0-9]", n) is not None
    ),
    # Blob container: 3-63, lower-case letters, digits, single hyphens, alphanumeric ends.
    "deploymentContainerName": lambda n: (
        re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", n) is not None and "--" not in n
    ),
}
# uniqueString() is 13 characters of lower-case letters and digits.
TOKENS = ("a" * 13, "0" * 13, "z9" * 6 + "x")


class BicepExpression:
    """A tiny recursive-descent evaluator for the name expressions main.bicep uses."""

    def __init__(self, text: str, scope: Mapping[str, Any], token: str) -> None:
        self.text, self.pos, self.scope, self.token = text.strip(), 0, scope, token

    def value(self) -> Any:
        result = self._expr()
        if self.pos != len(self.text):
            raise ValueError(f"unparsed: {self.text[self.pos :]!r}")
        return result

    def _peek(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1
        return self.text[self.pos : self.pos + 1]

    def _expr(self) -> Any:
        char = self._peek()
        if char == "'":
            return self._string()
        if char.isdigit():
            start = self.pos
            while self._peek().isdigit() and self.pos < len(self.text):
                self.pos += 1
            return int(self.text[start : self.pos])
        name = re.match(r"[A-Za-z_][A-Za-z0-9_]*", self.text[self.pos :])
        if name is None:
            raise ValueError(f"unexpected {self.text[self.pos :]!r}")
        self.pos += name.end()
        value: Any
        if self._peek() == "(":
            self.pos += 1
            args: list[Any] = []
            while self._peek() != ")":
                args.append(self._expr())
                if self._peek() == ",":
                    self.pos += 1
            self.pos += 1
            value = self._call(name.group(0), args)
        else:
            value = self.scope[name.group(0)]
        while self._peek() == ".":
            self.pos += 1
            prop = re.match(r"[A-Za-z_]+", self.text[self.pos :])
            assert prop is not None
            self.pos += prop.end()
            value = value[prop.group(0)]
        return value

    def _string(self) -> str:
        self.pos += 1
        out: list[str] = []
        while self.text[self.pos] != "'":
            if self.text.startswith("${", self.pos):
                self.pos += 2
                out.append(str(self._expr()))
                assert self._peek() == "}"
                self.pos += 1
            else:
                out.append(self.text[self.pos])
                self.pos += 1
        self.pos += 1
        return "".join(out)

    def _call(self, name: str, args: list[Any]) -> Any:
        if name == "toLower":
            return str(args[0]).lower()
        if name == "take":
            return args[0][: args[1]]
        if name == "replace":
            return str(args[0]).replace(args[1], args[2])
        if name == "uniqueString":
            return self.token
        if name in ("subscription", "resourceGroup"):
            return {"id": f"/{name}/id", "tenantId": "t", "location": "westeurope"}
        raise ValueError(f"function {name} is not known here: teach the test")


def bicep_vars() -> dict[str, str]:
    found = {}
    for line in MAIN.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^var (\w+) = (.+)$", line)
        if match and not match.group(2).rstrip().endswith(("{", "[")):
            found[match.group(1)] = match.group(2)
    return found


def names_for(environment: str, token: str, variables: Mapping[str, str]) -> dict[str, str]:
    scope: dict[str, Any] = {"environmentName": environment}
    for name in ("token", "envName", *RULES):
        if name in variables:
            scope[name] = BicepExpression(variables[name], scope, token).value()
    return {name: scope[name] for name in RULES}


def _length_bounds() -> tuple[int, int]:
    decorators = parse(MAIN)["parameters"]["environmentName"]["decorators"]
    bounds = {d["type"]: d["argument"] for d in decorators}
    return int(bounds["min_length"]), int(bounds["max_length"])


def edge_case_environments() -> list[str]:
    low, high = _length_bounds()
    return [
        "a" * low,
        "a" * high,
        "A" * high,
        "9" * high,
        "a-" * (high // 2),  # ends with a hyphen
        "-" + "a" * (high - 1),  # starts with one
        "a--b",
        "Prod-EU-1",
        "-" * high,
    ]


@pytest.mark.parametrize("environment", edge_case_environments())
@pytest.mark.parametrize("token", TOKENS)
def test_every_name_is_valid(environment: str, token: str) -> None:
    for name, value in names_for(environment, token, bicep_vars()).items():
        assert RULES[name](value), f"{name} = {value!r} for environmentName {environment!r}"


def test_the_names_this_checks_are_in_main_bicep() -> None:
    assert set(RULES) <= set(bicep_vars())


def test_it_catches_the_names_main_bicep_used_to_build() -> None:
    """The previous expressions: a 20-character environment name ended the Key Vault name
    with a hyphen, and an upper-case one broke the storage account name."""
    before = {
        **bicep_vars(),
        "keyVaultName": "take('kv-${environmentName}-${token}', 24)",
        "storageAccountName": "take('st${replace(environmentName, '-', '')}${token}', 24)",
    }
    long_name = names_for("a" * 20, TOKENS[0], before)
    assert not RULES["keyVaultName"](long_name["keyVaultName"])
    upper = names_for("Prod", TOKENS[0], before)
    assert not RULES["storageAccountName"](upper["storageAccountName"])


def test_instance_memory_allows_what_flex_consumption_offers() -> None:
    for path in (MAIN, MAIN.parent / "app" / "function.bicep"):
        decorators = parse(path)["parameters"]["instanceMemoryMB"]["decorators"]
        allowed = next(d["argument"] for d in decorators if d["type"] == "allowed")
        assert sorted(allowed) == [512, 2048, 4096], path.name
