"""CORS for HTTP routes, configured by local.settings.json's `Host.CORS`.

Mirrors the host's behaviour: only configured origins (or `*`) get
`Access-Control-Allow-Origin`; other origins get no CORS headers at all, so the
browser blocks them. With `CORSCredentials`, the origin is echoed (never `*`) and
`Access-Control-Allow-Credentials: true` is added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

PREFLIGHT_MAX_AGE = "600"


@dataclass(frozen=True)
class CorsPolicy:
    origins: tuple[str, ...] = ()
    credentials: bool = False

    @property
    def enabled(self) -> bool:
        return bool(self.origins)

    def _allowed(self, origin: str | None) -> bool:
        if not origin or not self.enabled:
            return False
        return "*" in self.origins or origin.rstrip("/").lower() in {
            o.lower() for o in self.origins
        }

    def _origin_headers(self, origin: str) -> dict[str, str]:
        headers = {"Vary": "Origin"}
        if "*" in self.origins and not self.credentials:
            headers["Access-Control-Allow-Origin"] = "*"
        else:
            headers["Access-Control-Allow-Origin"] = origin
        if self.credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def is_preflight(self, method: str, headers: Mapping[str, str]) -> bool:
        return (
            self.enabled
            and method.upper() == "OPTIONS"
            and "origin" in headers
            and "access-control-request-method" in headers
        )

    def preflight_headers(
        self, headers: Mapping[str, str], route_methods: Sequence[str]
    ) -> dict[str, str]:
        """Headers for a preflight answer; empty when the origin is not allowed."""
        origin = headers.get("origin")
        if origin is None or not self._allowed(origin):
            return {}
        requested = headers.get("access-control-request-method", "").upper()
        if route_methods and requested not in route_methods:
            return {}
        result = self._origin_headers(origin)
        result["Access-Control-Allow-Methods"] = requested
        asked = headers.get("access-control-request-headers")
        if asked:
            result["Access-Control-Allow-Headers"] = asked
        result["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return result

    def response_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Headers to add to an actual response for this request's Origin."""
        origin = headers.get("origin")
        if origin is None or not self._allowed(origin):
            return {}
        return self._origin_headers(origin)
