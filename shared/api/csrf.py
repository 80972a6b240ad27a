"""Cross-site request refusal for every state-changing route.

In Azure the monitoring page calls the API with App Service Authentication's session
cookie, which the browser attaches to any request to the app, including one a hostile
page makes (a `<form>` post, a no-cors fetch). Such a request is told apart by what the
browser adds and the page cannot change:

- `Origin`: when present it must be the app's own origin (PUBLIC_BASE_URL, or the URL the
  request came in on) or one of ALLOWED_ORIGINS (the portals CORS lists);
- `Sec-Fetch-Site`: without an `Origin`, anything but `same-origin` / `none` is refused;
- `Content-Type`: a body must be `application/json`, which no form can send and which a
  cross-origin fetch can send only after a CORS preflight that we do not grant.

Callers outside a browser (portals' back ends, scripts) send no `Origin` and no
`Sec-Fetch-Site`, and authenticate with a bearer token: they pass as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.errors import Forbidden, UnsupportedMediaType

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_MEDIA_TYPE = "application/json"
# Sec-Fetch-Site values that mean the request did not come from another site's page.
_FIRST_PARTY = frozenset({"same-origin", "none"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of a URL as a browser writes it in `Origin`, or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        host = f"{host}:{port}"
    return f"{parts.scheme}://{host}"


@dataclass(frozen=True)
class WriteGuard:
    allowed_origins: frozenset[str]

    @classmethod
    def for_origins(cls, urls: Iterable[str]) -> WriteGuard:
        origins = (origin_of(u) for u in urls if u.strip())
        return cls(frozenset(o for o in origins if o is not None))

    def check(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> None:
        """`headers` with lower-case names. Raises Forbidden (403) for a cross-site request
        and UnsupportedMediaType (415) for a body that is not JSON; only state-changing
        methods are checked."""
        if method.upper() not in STATE_CHANGING:
            return
        self._refuse_cross_site(url, headers)
        content_type = headers.get("content-type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if (content_type or body) and media_type != JSON_MEDIA_TYPE:
            raise UnsupportedMediaType(
                f"the request body must be {JSON_MEDIA_TYPE}",
                details={"accepted": [JSON_MEDIA_TYPE]},
            )

    def _refuse_cross_site(self, url: str, headers: Mapping[str, str]) -> None:
        origin = headers.get("origin")
        if origin is not None:
            own = origin_of(url)
            if origin_of(origin) in self.allowed_origins or (own and origin_of(origin) == own):
                return
            raise Forbidden("cross-site requests may not change anything", code="cross_site")
        site = headers.get("sec-fetch-site", "").strip().lower()
        if site and site not in _FIRST_PARTY:
            raise Forbidden("cross-site requests may not change anything", code="cross_site")
