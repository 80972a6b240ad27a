"""The devhost command line: a port already taken is said plainly, not as a traceback."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

import devhost.__main__ as cli


def test_serve_on_a_port_in_use_says_so_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli.signal, "signal", lambda *_: None)  # keep pytest's own handlers
    monkeypatch.setattr(sys, "path", list(sys.path))  # serve puts the script root first
    # What the sample app's bindings name (no worker runs: --no-workers).
    values = {
        "SAMPLE_QUEUE": "cli-queue",
        "SAMPLE_TIMER_SCHEDULE": "0 0 * * * *",
        "SAMPLE_STARTUP_SCHEDULE": "0 0 * * * *",
        "SampleStorage": "UseDevelopmentStorage=true",
    }
    for name, value in values.items():  # serve copies settings into the environment: undo
        monkeypatch.setenv(name, value)
    settings = tmp_path / "local.settings.json"
    settings.write_text(json.dumps({"IsEncrypted": False, "Values": values}), encoding="utf-8")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = cli.main(
            [
                "serve",
                "--app",
                "tests.devhost.sample_app:app",
                "--script-root",
                str(tmp_path),
                "--settings",
                str(settings),
                "--port",
                str(port),
                "--no-workers",
            ]
        )
    assert code == 2
    said = capsys.readouterr().err
    assert "already in use" in said and "Traceback" not in said
