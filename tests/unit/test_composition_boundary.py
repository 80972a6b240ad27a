"""One composition root: no module but shared.composition.root reads the storage settings
or builds StorageClients, no module but shared.persistence.clients builds an Azure
storage client, and no use case (shared/api/) reads the settings at all: the root hands
it what it needs.

A second hand-built wiring is how the API once talked to `UseDevelopmentStorage=true` in
Azure while the triggers used the managed identity; this makes that unrepeatable.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSITION_ROOT = "shared/composition/root.py"
STORAGE_MODULE = "shared/persistence/clients.py"
CONFIG_MODULE = "shared/config.py"
USE_CASES = "shared/api/"

SDK_CLIENTS = {
    "TableClient",
    "TableServiceClient",
    "QueueClient",
    "QueueServiceClient",
    "BlobClient",
    "BlobServiceClient",
    "ContainerClient",
}
STORAGE_SETTINGS = {
    "storage_connection_string",
    "storage_connection_string_setting",
    "storage_uses_identity",
    "storage_account_name",
    "storage_blob_service_uri",
    "storage_queue_service_uri",
    "storage_table_service_uri",
    "storage_client_id",
}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return ""


def violations(path: str, source: str) -> Iterator[str]:
    """What in `source` (the file at `path`, relative to the repo) breaks the boundary."""
    for node in ast.walk(ast.parse(source)):
        if path.startswith(USE_CASES) and isinstance(node, ast.Name) and node.id == "Settings":
            yield f"{path}:{node.lineno}: a use case reads the settings (wire it in the root)"
        if isinstance(node, ast.Call):
            called = _name(node.func)
            head = called.split(".")[0]
            if head in SDK_CLIENTS and path != STORAGE_MODULE:
                yield f"{path}:{node.lineno}: builds a storage client ({called})"
            if head == "StorageClients" and path != COMPOSITION_ROOT:
                yield f"{path}:{node.lineno}: builds StorageClients ({called})"
            if called.endswith("get_settings") and path not in (COMPOSITION_ROOT, CONFIG_MODULE):
                yield f"{path}:{node.lineno}: reads settings outside the root ({called})"
        elif isinstance(node, ast.Attribute) and node.attr in STORAGE_SETTINGS:
            if path not in (COMPOSITION_ROOT, CONFIG_MODULE):
                yield f"{path}:{node.lineno}: reads a storage setting ({node.attr})"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("AzureWebJobsStorage") and path not in (
                CONFIG_MODULE,
                STORAGE_MODULE,
            ):
                yield f"{path}:{node.lineno}: names a storage setting ({node.value})"


def _app_modules() -> Iterator[Path]:
    yield ROOT / "function_app.py"
    for package in ("shared", "functions"):
        yield from sorted((ROOT / package).rglob("*.py"))


def test_only_the_root_reads_storage_settings_and_only_storage_builds_clients() -> None:
    found = [
        problem
        for module in _app_modules()
        for problem in violations(
            module.relative_to(ROOT).as_posix(), module.read_text(encoding="utf-8")
        )
    ]
    assert found == []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        # What shared/api/wiring.py did before the root existed.
        (
            "shared/api/wiring.py",
            "storage = StorageClients.from_connection_string(settings.storage_connection_string)",
        ),
        ("shared/api/x.py", "TableClient.from_connection_string(cs, table_name='t')"),
        ("functions/x.py", "QueueClient(url, 'q', credential=c)"),
        ("shared/x.py", "os.environ.get('AzureWebJobsStorage')"),
        ("shared/x.py", "s = get_settings()"),
        ("shared/x.py", "uri = settings.storage_queue_service_uri"),
        # What shared/api/directory.py did before the root built the group search config.
        (
            "shared/api/directory.py",
            "def group_search_config(s: Settings) -> GroupSearchConfig: ...",
        ),
    ],
)
def test_the_check_catches_a_second_wiring(path: str, source: str) -> None:
    assert list(violations(path, source))


def test_the_root_and_the_storage_module_may() -> None:
    assert not list(violations(COMPOSITION_ROOT, "StorageClients.from_identity(e, c)"))
    assert not list(violations(STORAGE_MODULE, "TableClient(url, name, credential=c)"))
