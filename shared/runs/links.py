"""Where a run lives: its API URL and the monitoring page's deep link ("View run").

Used by the API's responses and by notifications, so it belongs to the run domain, not
to either of them.
"""

from __future__ import annotations

from urllib.parse import quote


class Links:
    """Where a run lives: its API URL and the monitoring page's deep link."""

    def __init__(self, public_base_url: str) -> None:
        self.base = public_base_url.rstrip("/")

    def run(self, tenant_id: str, run_id: str) -> str:
        return f"{self.base}/api/tenants/{quote(tenant_id)}/operations/{quote(run_id)}"

    def view(self, tenant_id: str, run_id: str) -> str:
        return f"{self.base}/monitoring/#/tenants/{quote(tenant_id)}/runs/{quote(run_id)}"
