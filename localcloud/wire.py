"""Transport-neutral request/response values, so $batch can replay inner requests through
the same handlers the HTTP server uses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    method: str
    path: str  # no query string; percent-decoding is left to the route
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    base_url: str = ""  # https://host:port, for absolute links such as @odata.nextLink

    @classmethod
    def build(
        cls,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes = b"",
        base_url: str = "",
    ) -> Request:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return cls(
            method=method.upper(),
            path=parts.path or "/",
            query=query,
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
            base_url=base_url,
        )

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body as JSON; ValueError if it is not."""
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Set by the "unreachable" fault: the server closes the socket without answering.
    hang_up: bool = False

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return Response(status=status, body=body, headers=all_headers)


def empty(status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(status=status, headers=dict(headers or {}))
