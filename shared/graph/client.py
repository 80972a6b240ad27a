"""GraphClient: httpx with Graph's paging, throttling and error conventions."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from shared.graph.auth import BearerTokenAuth, GraphAppAuth
from shared.graph.batch import BatchRequest, BatchResponse, run_batch
from shared.graph.credentials import GraphCredentials
from shared.graph.errors import (
    GraphError,
    GraphMalformedResponse,
    GraphOutcomeUnknown,
    GraphTransientError,
    error_from_response,
    safe_path,
)
from shared.graph.retry import (
    IDEMPOTENT_METHODS,
    RETRY_STATUSES,
    RetryPolicy,
    may_resend,
    parse_retry_after,
)
from shared.graph.tls import verify_for
from shared.graph.tokens import MsalApps, TokenProvider
from shared.telemetry.spans import graph_span

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# Connect failures never reached Graph, so even a POST may be sent again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

Params = Mapping[str, str | int | bool] | None


class GraphClient:
    """One tenant's Graph. Use as a context manager (or call close())."""

    def __init__(
        self,
        credentials: GraphCredentials,
        *,
        auth: httpx.Auth | None = None,
        apps: MsalApps | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        api_version: str = "v1.0",
    ) -> None:
        self.credentials = credentials
        self.api_version = api_version
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._base = credentials.graph_base_url
        self._http = httpx.Client(
            auth=auth or GraphAppAuth(TokenProvider(credentials, apps)),
            timeout=timeout,
            verify=verify_for(credentials.ca_bundle),
            transport=transport,
            headers={"Accept": "application/json"},
        )

    @classmethod
    def delegated(
        cls, credentials: GraphCredentials, access_token: str, **options: Any
    ) -> GraphClient:
        """A client acting as a user, with a token from acquire_on_behalf_of."""
        return cls(credentials, auth=BearerTokenAuth(access_token), **options)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- requests --------------------------------------------------------------------
    def url(self, path: str, version: str | None = None) -> str:
        """Absolute URL for a path like "/groups"; absolute URLs must point at our Graph."""
        if "://" in path:
            # A nextLink is followed with our bearer token: never send it to another host.
            if not path.startswith(self._base + "/"):
                raise GraphError(f"Refusing to follow a link outside Graph: {safe_path(path)}")
            return path
        return f"{self._base}/{version or self.api_version}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        version: str | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send with retries on 429/503/504 and connect failures; raise a typed error else.

        A request that is not idempotent (a POST, unless the caller says otherwise) is
        sent again only when Graph surely did not act on it: a connect failure or a 429.
        After a 5xx or a lost answer it raises GraphOutcomeUnknown instead.
        """
        method = method.upper()
        url = self.url(path, version)
        policy = self.retry
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        for attempt in range(1, policy.max_attempts + 1):
            last = attempt == policy.max_attempts
            try:
                with graph_span(method, url, attempt) as span:
                    response = self._http.request(
                        method, url, params=params, json=json, content=content, headers=headers
                    )
                    span.set_attribute("http.response.status_code", response.status_code)
            except httpx.TransportError as error:
                not_sent = isinstance(error, _NOT_SENT)
                if (not_sent or safe) and not last:
                    self._sleep(policy.delay(attempt))
                    continue
                kind = GraphTransientError if not_sent or safe else GraphOutcomeUnknown
                raise kind(
                    f"Graph {method} {safe_path(url)} failed: {type(error).__name__}",
                    method=method,
                    path=safe_path(url),
                ) from None
            status = response.status_code
            if status in RETRY_STATUSES:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                resend = may_resend(status, idempotent=safe) and policy.may_wait(retry_after)
                if resend and not last:
                    self._sleep(policy.delay(attempt, retry_after))
                    continue
                raise error_from_response(response, method, url, retry_after, idempotent=safe)
            if response.is_error:
                raise error_from_response(response, method, url, idempotent=safe)
            return response
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def get(
        self,
        path: str,
        params: Params = None,
        headers: Mapping[str, str] | None = None,
        *,
        version: str | None = None,
    ) -> dict[str, Any]:
        response = self.request("GET", path, params=params, headers=headers, version=version)
        return _json_object(response, "GET")

    def post(
        self,
        path: str,
        json: Any = None,
        params: Params = None,
        headers: Mapping[str, str] | None = None,
        *,
        version: str | None = None,
        idempotent: bool = False,
    ) -> dict[str, Any] | None:
        """The JSON answer, or None for Graph's bodiless 202/204 (e.g. sendMail).

        `idempotent=True` only for a POST whose repetition changes nothing more (an
        action that replaces a whole set, a batch of reads): it may then be resent
        after a 503/504 too.
        """
        response = self.request(
            "POST",
            path,
            params=params,
            json=json,
            headers=headers,
            version=version,
            idempotent=idempotent,
        )
        if response.status_code in (202, 204) or not response.content:
            return None
        return _json_object(response, "POST")

    def iter_pages(
        self,
        path: str,
        params: Params = None,
        headers: Mapping[str, str] | None = None,
        *,
        version: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Each page (a dict with a "value" list), following @odata.nextLink as opaque."""
        url: str | None = self.url(path, version)
        seen: set[str] = set()
        while url is not None:
            page = self.get(url, params, headers)
            if not isinstance(page.get("value"), list):
                raise GraphMalformedResponse(
                    f"Graph GET {safe_path(url)}: page without a value list"
                )
            yield page
            link = page.get("@odata.nextLink")
            if link is not None and (not isinstance(link, str) or link in seen):
                raise GraphMalformedResponse(f"Graph GET {safe_path(url)}: bad @odata.nextLink")
            if link is not None:
                seen.add(link)
            url, params = link, None  # the link already carries every query option

    def iter_items(
        self,
        path: str,
        params: Params = None,
        headers: Mapping[str, str] | None = None,
        *,
        version: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        for page in self.iter_pages(path, params, headers, version=version):
            yield from page["value"]

    def batch(
        self, requests: Sequence[BatchRequest], *, version: str | None = None
    ) -> list[BatchResponse]:
        """JSON batching: chunks of 20; inner 429 (and 503/504 of reads) are retried; order
        preserved. The outer POST is resent after a 503/504 only when every inner request
        is a read."""
        reads_only = all(r.method.upper() in IDEMPOTENT_METHODS for r in requests)
        return run_batch(
            lambda payload: self.post(
                "/$batch", json=payload, version=version, idempotent=reads_only
            ),
            requests,
            self.retry,
            self._sleep,
        )


def _json_object(response: httpx.Response, method: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise GraphMalformedResponse(
            f"Graph {method} {safe_path(response.request.url)} returned {response.status_code} "
            "without a JSON object body",
            status=response.status_code,
            method=method,
            path=safe_path(response.request.url),
        )
    return body
