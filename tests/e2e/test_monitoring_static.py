"""The monitoring page over HTTP: served by the app at /monitoring/ with types and headers."""

from __future__ import annotations

import pytest

from .conftest import Stack


def test_the_page_is_served_with_strict_headers_and_revalidates(stack: Stack) -> None:
    with stack.client() as http:  # anonymous: the page is static; its data needs sign-in
        page = http.get("/monitoring/")
        again = http.get("/monitoring/", headers={"If-None-Match": page.headers["etag"]})
        head = http.head("/monitoring/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="app.js"></script>' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-cache"
    assert again.status_code == 304 and again.content == b""
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == page.headers["etag"]


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/monitoring/index.html", "text/html; charset=utf-8"),
        ("/monitoring/app.js", "text/javascript; charset=utf-8"),
        ("/monitoring/app.css", "text/css; charset=utf-8"),
        ("/monitoring/bell.js", "text/javascript; charset=utf-8"),
    ],
)
def test_assets_have_their_content_types(stack: Stack, path: str, content_type: str) -> None:
    with stack.client() as http:
        reply = http.get(path)
    assert reply.status_code == 200 and reply.headers["content-type"] == content_type
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["etag"].startswith('"')


def test_monitoring_without_a_slash_redirects_permanently(stack: Stack) -> None:
    with stack.client() as http:
        reply = http.get("/monitoring")
    assert reply.status_code == 301 and reply.headers["location"] == "/monitoring/"
    # Every answer of the page carries its security headers, the redirect too.
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]


@pytest.mark.parametrize(
    "path",
    ["/monitoring/nope.js", "/monitoring/static_files.py", "/monitoring/..%2fstatic_files.py",
     "/monitoring/__init__.py", "/monitoring/static/app.js"],
)  # fmt: skip
def test_nothing_else_is_served(stack: Stack, path: str) -> None:
    with stack.client() as http:
        reply = http.get(path)
    assert reply.status_code == 404
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in reply.headers


def test_the_page_only_reads(stack: Stack) -> None:
    with stack.client() as http:
        reply = http.post("/monitoring/", content=b"x")
    assert reply.status_code == 405
