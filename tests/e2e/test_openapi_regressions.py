"""Regressions found while fuzzing the documented surface: each must be a documented 4xx
with the JSON error body, never a 500."""

from __future__ import annotations

import base64

import pytest

from localcloud.seed import CONTOSO_TENANT_ID

from .conftest import Stack

START = f"/api/tenants/{CONTOSO_TENANT_ID}/operations"


@pytest.mark.parametrize("depth", [40, 900, 5000, 30000])
@pytest.mark.parametrize("route", ["start", "preferences"])
def test_deeply_nested_json_is_a_client_error(stack: Stack, route: str, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    if route == "start":
        method, path = "POST", START
        body = '{"type": "diagnostics.noop", "inputs": {"label": "x", "deep": ' + nested + "}}"
    else:
        method, path = "PUT", "/api/me/notification-preferences"
        body = '{"queued": ' + nested + ', "completed": []}'
    with stack.client("operator") as http:
        got = http.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert got.status_code in (400, 422), got.text
    assert got.json()["error"]["code"] in ("invalid_json", "invalid_inputs")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "a.b.c",
        _b64("[]") + "." + _b64("{}") + ".c2ln",
        _b64('{"alg":"RS256","kid":["k"]}')
        + "."
        + _b64(f'{{"tid":"{CONTOSO_TENANT_ID}"}}')
        + ".c2ln",
        _b64('{"alg":"RS256","kid":"k"}') + "." + _b64("[1]") + ".c2ln",
        _b64('{"alg":"none"}') + "." + _b64(f'{{"tid":"{CONTOSO_TENANT_ID}","oid":1}}') + ".",
    ],
)
def test_malformed_bearer_tokens_are_401(stack: Stack, token: str) -> None:
    with stack.client(token=token) as http:
        got = http.get("/api/tenants")
    assert got.status_code == 401, got.text
    assert got.json()["error"]["code"] == "unauthenticated"
