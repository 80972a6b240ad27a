"""Starting Azurite: a start that fails says why, at once, from Azurite's own stderr."""

from __future__ import annotations

import socket

import pytest

from devhost.azurite import ROOT, free_port, start_azurite_process


def test_a_port_in_use_fails_at_once_with_azurites_reason() -> None:
    # Bound but not listening: connections are refused, so the wait ends on Azurite's exit
    # (not its 30 s deadline), and the error carries what Azurite wrote to stderr.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError) as failed:
            start_azurite_process(ROOT, (port, free_port(), free_port()))
    assert "EADDRINUSE" in str(failed.value)
