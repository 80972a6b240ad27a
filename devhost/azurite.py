"""How Azurite is started, for `make dev` (data on disk) and the tests (in memory)."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def azurite_binary(root: Path = ROOT) -> str | None:
    """The project's pinned Azurite (node_modules), else one on PATH."""
    local = root / "node_modules" / ".bin" / "azurite"
    return str(local) if local.exists() else shutil.which("azurite")


def azurite_command(
    binary: str,
    *,
    blob: int,
    queue: int,
    table: int,
    location: Path | None = None,
    tls: tuple[Path, Path] | None = None,
) -> list[str]:
    """Loopback only; newer SDK API versions accepted; in memory unless `location` is given.

    With `tls` (certificate, key PEM files) Azurite serves HTTPS and accepts Entra bearer
    tokens (`--oauth basic`: issuer, audience and lifetime checked, as the deployed app's
    managed identity uses storage). Its shared key still works, for seeding and tests.
    """
    storage = ["--location", str(location)] if location else ["--inMemoryPersistence"]
    identity = ["--oauth", "basic", "--cert", str(tls[0]), "--key", str(tls[1])] if tls else []
    return [
        binary,
        *storage,
        *identity,
        "--silent",
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",
        *("--blobHost", "127.0.0.1", "--blobPort", str(blob)),
        *("--queueHost", "127.0.0.1", "--queuePort", str(queue)),
        *("--tableHost", "127.0.0.1", "--tablePort", str(table)),
    ]
