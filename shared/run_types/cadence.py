"""How often each run type is expected to succeed in a tenant that uses it.

Plain data, no imports: the monitoring reads (which may not import the run types, whose
handlers call Graph) flag a run type that has run in a tenant but has not succeeded
within this interval. A type missing here has no expectation (restore, diagnostics).
"""

from __future__ import annotations

from datetime import timedelta

EXPECTED_INTERVALS: dict[str, timedelta] = {
    "directory_groups.sync": timedelta(days=1),
    "policy.sync": timedelta(days=1),
    "backup.capture": timedelta(days=1),
}
