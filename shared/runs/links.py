"""Where a run lives: its API URL and the monitoring page's deep link ("View run").

Used by the API's responses and by notifications, so it belongs to the run domain, not
to either of them.
"""

from __future__ import annotations

import string
from urllib.parse import quote

# Characters a path segment carries as they are (RFC 3986 "unreserved"): tenant and run ids
# are made of them, so a list of 50 runs need not run `quote` 200 times.
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")


def _segment(value: str) -> str:
    return value if _UNRESERVED.issuperset(value) else quote(value)


class Links:
    """Where a run lives: its API URL and the monitoring page's deep link."""

    def __init__(self, public_base_url: str) -> None:
        self.base = public_base_url.rstrip("/")

    def run(self, tenant_id: str, run_id: str) -> str:
        return f"{self.base}/api/tenants/{_segment(tenant_id)}/operations/{_segment(run_id)}"

    def view(self, tenant_id: str, run_id: str) -> str:
        return f"{self.base}/monitoring/#/tenants/{_segment(tenant_id)}/runs/{_segment(run_id)}"
