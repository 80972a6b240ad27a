"""msal's small http_client contract (get/post/close) served by httpx.

One HTTP stack for Entra and Graph: the same TLS trust, timeouts and exception types,
and a client we can close (msal's default requests.Session would otherwise linger).
"""

from __future__ import annotations

from typing import Any

import httpx


class MsalHttpClient:
    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def get(
        self,
        url: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        return self._client.get(url, params=params, headers=headers, timeout=_timeout(kwargs))

    def post(
        self,
        url: str,
        params: dict[str, Any] | None = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        timeout = _timeout(kwargs)
        if isinstance(data, str | bytes):  # msal sends pre-encoded bodies as-is
            return self._client.post(
                url, params=params, content=data, headers=headers, timeout=timeout
            )
        if isinstance(data, dict):
            # msal hands over client assertions as bytes; httpx would form-encode them as
            # "b'...'", so decode them the way requests does.
            data = {k: v.decode("utf-8") if isinstance(v, bytes) else v for k, v in data.items()}
        return self._client.post(url, params=params, data=data, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._client.close()


def _timeout(kwargs: dict[str, Any]) -> Any:
    value = kwargs.get("timeout")
    return value if value is not None else httpx.USE_CLIENT_DEFAULT
