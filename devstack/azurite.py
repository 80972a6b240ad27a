"""Start a private, in-memory Azurite for the test session (or use one named by the env).

Tests fail, not skip, when Azurite cannot start: storage behaviour is the product.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devhost.azurite import free_port, start_azurite_process

__all__ = ["Azurite", "free_port", "start_azurite"]
from shared.persistence.clients import AZURITE_ACCOUNT, azurite_connection_string

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Azurite:
    connection_string: str
    process: subprocess.Popen[bytes] | None
    # Service URIs (scheme://host:port/account), for identity-based access.
    blob_uri: str = ""
    queue_uri: str = ""
    table_uri: str = ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_azurite(tls: tuple[Path, Path] | None = None) -> Azurite:
    """In memory on free ports; with `tls` (certificate, key), HTTPS with Entra bearer
    tokens accepted (`--oauth basic`), as identity-based storage is reached in Azure."""
    external = os.environ.get("TEST_STORAGE_CONNECTION_STRING")
    if external and tls is None:
        return Azurite(external, None)
    process, (blob, queue, table) = start_azurite_process(ROOT, tls=tls)
    scheme = "https" if tls else "http"
    base = f"{scheme}://127.0.0.1"
    return Azurite(
        azurite_connection_string(blob=blob, queue=queue, table=table, scheme=scheme),
        process,
        blob_uri=f"{base}:{blob}/{AZURITE_ACCOUNT}",
        queue_uri=f"{base}:{queue}/{AZURITE_ACCOUNT}",
        table_uri=f"{base}:{table}/{AZURITE_ACCOUNT}",
    )
