"""How Azurite is started, for `make dev` (data on disk) and the tests (in memory)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
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


def wait_for_ports(
    ports: tuple[int, ...], deadline: float, process: subprocess.Popen[bytes] | None = None
) -> bool:
    """True once every port accepts a connection; False at `deadline` (monotonic) or as
    soon as `process` has exited."""
    pending = list(ports)
    while pending and time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", pending[0]), timeout=0.2):
                pending.pop(0)
        except OSError:
            time.sleep(0.05)
    return not pending


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start_azurite_process(
    root: Path,
    ports: tuple[int, int, int] | None = None,
    *,
    tls: tuple[Path, Path] | None = None,
    location: Path | None = None,
) -> tuple[subprocess.Popen[bytes], tuple[int, int, int]]:
    """Azurite (blob, queue, table) on `ports` or free ones, ready to serve.

    Its stderr goes to a temporary file, not a pipe: nobody reads a pipe while Azurite
    runs (for hours under `make dev`), and a full pipe would stall it.
    """
    binary = azurite_binary(root)
    if binary is None:
        raise RuntimeError("Azurite is not installed: run `make deps` (npm ci).")
    blob, queue, table = ports or (free_port(), free_port(), free_port())
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 - a fixed local binary
            azurite_command(
                binary, blob=blob, queue=queue, table=table, location=location, tls=tls
            ),
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        if not wait_for_ports((blob, queue, table), time.monotonic() + 30, process):
            process.kill()
            process.wait(timeout=10)
            errors.seek(0)
            said = errors.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"Azurite did not start (exit {process.returncode}): {said}")
    return process, (blob, queue, table)
