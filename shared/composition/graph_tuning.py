"""How the full side's Graph clients retry, wait and cache tokens, and the tests' override
of it. Kept out of root.Overrides because the read side imports the root and must not reach
shared.graph, not even through a type (the "Read routes cannot reach Graph" contract)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from shared.composition.root import reset
from shared.graph import MsalApps, RetryPolicy


@dataclass(frozen=True)
class GraphTuning:
    # None: the Graph client's own retry policy, and the process-wide msal apps (one token
    # cache per process, so a worker asks Entra about once an hour per tenant).
    retry: RetryPolicy | None = None
    apps: MsalApps | None = None
    sleep: Callable[[float], None] = time.sleep


_tuning = GraphTuning()


def graph_tuning() -> GraphTuning:
    return _tuning


@contextmanager
def override_graph(tuning: GraphTuning) -> Iterator[GraphTuning]:
    """Build the Graph clients with this tuning (e.g. fast retries, recorded sleeps, a
    fresh msal registry so token counts are exact); everything is rebuilt on entry and
    forgotten on exit, as with root.override."""
    global _tuning
    previous = _tuning
    _tuning = tuning
    reset()
    try:
        yield tuning
    finally:
        _tuning = previous
        reset()
