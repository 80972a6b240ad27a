"""Start a private, in-memory Azurite for the test session (or use one named by the env).

Tests fail, not skip, when Azurite cannot start: storage behaviour is the product.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from devhost.azurite import azurite_binary, azurite_command
from shared.storage import AZURITE_ACCOUNT, azurite_connection_string

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


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
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()


def start_azurite(tls: tuple[Path, Path] | None = None) -> Azurite:
    """In memory on free ports; with `tls` (certificate, key), HTTPS with Entra bearer
    tokens accepted (`--oauth basic`), as identity-based storage is reached in Azure."""
    external = os.environ.get("TEST_STORAGE_CONNECTION_STRING")
    if external and tls is None:
        return Azurite(external, None)
    binary = azurite_binary(ROOT)
    if binary is None:
        raise RuntimeError("Azurite is not installed: run `make test` (it runs `npm ci`).")
    blob, queue, table = free_port(), free_port(), free_port()
    process = subprocess.Popen(
        azurite_command(binary, blob=blob, queue=queue, table=table, tls=tls),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    if not all(_wait_for_port(port, deadline) for port in (blob, queue, table)):
        process.kill()
        _, err = process.communicate()
        if process.stderr is not None:
            process.stderr.close()
        raise RuntimeError(f"Azurite did not start: {err.decode(errors='replace')[-2000:]}")
    scheme = "https" if tls else "http"
    base = f"{scheme}://127.0.0.1"
    return Azurite(
        azurite_connection_string(blob=blob, queue=queue, table=table, scheme=scheme),
        process,
        blob_uri=f"{base}:{blob}/{AZURITE_ACCOUNT}",
        queue_uri=f"{base}:{queue}/{AZURITE_ACCOUNT}",
        table_uri=f"{base}:{table}/{AZURITE_ACCOUNT}",
    )
