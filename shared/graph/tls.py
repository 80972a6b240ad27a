"""TLS trust for Entra and Graph: the system store, or one CA bundle in dev/test."""

from __future__ import annotations

import ssl


def verify_for(ca_bundle: str | None) -> ssl.SSLContext | bool:
    # httpx 0.28 deprecates a path string for verify=; give it an SSLContext instead.
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
