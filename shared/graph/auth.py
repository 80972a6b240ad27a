"""httpx.Auth flows that put a Graph bearer token on each request."""

from __future__ import annotations

from collections.abc import Generator

import httpx

from shared.graph.tokens import TokenProvider


class GraphAppAuth(httpx.Auth):
    """App-only: asks msal for each request; msal answers from its cache while fresh."""

    def __init__(self, tokens: TokenProvider) -> None:
        self._tokens = tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._tokens.app_token()}"
        yield request


class BearerTokenAuth(httpx.Auth):
    """A token obtained elsewhere (e.g. on-behalf-of for one HTTP request's caller)."""

    def __init__(self, access_token: str) -> None:
        self._header = f"Bearer {access_token}"

    def __repr__(self) -> str:
        return "BearerTokenAuth(<redacted>)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request
