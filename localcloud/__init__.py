"""A local stand-in for Entra ID and Microsoft Graph (dev and tests only).

The application never imports this package. Start it with LocalCloud.start() or
`python -m localcloud serve`; point msal's authority at `cloud.authority(tenant_id)`,
Graph at `cloud.graph_base_url`, and trust `cloud.ca_path`.
"""

from localcloud.cloud import LocalCloud
from localcloud.faults import FaultRule, Faults

__all__ = ["FaultRule", "Faults", "LocalCloud"]
