"""Every response says HTTPS only (HSTS): API answers, errors and the monitoring page."""

from __future__ import annotations

from .conftest import Stack

HSTS = "max-age=31536000; includeSubDomains"


def test_api_and_page_responses_carry_hsts(stack: Stack) -> None:
    with stack.client("operator") as http:
        replies = [
            http.get("/api/health"),
            http.get("/api/tenants"),
            http.get("/api/tenants/not-a-guid/operations"),
            http.get("/monitoring/"),
            http.get("/monitoring/no-such-file.js"),
        ]
    with stack.client() as anonymous:
        replies.append(anonymous.get("/api/tenants"))
    for reply in replies:
        assert reply.headers.get("strict-transport-security") == HSTS, reply.request.url
