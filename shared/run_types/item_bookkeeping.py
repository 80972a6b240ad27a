"""Per-item bookkeeping shared by the Intune run types.

One bad item (a malformed policy, a 400 from Graph) is recorded on the run and the run
goes on. What no item can fix is re-raised: transient errors (the queue redelivers the
whole run, which is idempotent) and a rejected app credential (every item would fail
the same way).
"""

from __future__ import annotations

from collections.abc import Callable

from shared.errors import AppError, TransientError
from shared.graph import GraphAuthError
from shared.runs.context import RunContext


def run_item(ctx: RunContext, item: str, action: Callable[[], None]) -> bool:
    """Do one item; count it succeeded, or failed with its error's code. True if it worked."""
    try:
        action()
    except (TransientError, GraphAuthError):
        raise
    except AppError as error:
        ctx.item_failed(item, error.code, error.message)
        return False
    ctx.item_succeeded()
    return True


def restart_counts(ctx: RunContext, *names: str) -> None:
    """Zero a type's own counters at the start of an attempt.

    The context carries a type's counters over from the run row, but our handlers redo
    all their items on a redelivery (idempotently), so they must count from zero again,
    like the standard counters do.
    """
    for name in names:
        ctx.counts[name] = 0
