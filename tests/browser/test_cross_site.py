"""Writes are safe under cookie authentication: with the App Service Authentication session
cookie, a request another site's page makes (a `<form enctype="text/plain">` post, a
no-cors fetch) changes nothing, on every state-changing route the API has; the page's own
requests and bearer callers from portals keep working."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import Browser, Response, expect

from devstack.stack import Stack, reset_caches
from localcloud.seed import CONTOSO_TENANT_ID
from shared.api.routes import ROUTES, Route

NOOP = "diagnostics.noop"
EVIL = "http://evil.example"
PORTAL = "https://portal.example"
# What a hostile page's `<form enctype="text/plain">` with one field named `{"type":...`
# sends: a body that parses as JSON, under a content type no preflight guards.
FORM_BODY = b'{"type": "diagnostics.noop", "inputs": {"label": "csrf", "x": "="}}'

WRITE_ROUTES = [op for op in ROUTES if op.method != "get"]


def _path(template: str, run_id: str, notification_id: str) -> str:
    values = {"tenant_id": CONTOSO_TENANT_ID, "run_id": run_id, "notification_id": notification_id}
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


@pytest.fixture
def session(stack: Stack) -> Iterator[httpx.Client]:
    """The operator signed in with the session cookie only (as the page is)."""
    with httpx.Client(base_url=stack.base_url, timeout=30) as http:
        login = http.get("/.auth/login/aad", params={"user": "operator"})
        assert login.status_code == 302
        yield http


@pytest.fixture(scope="module")
def queued_run(stack: Stack) -> Iterator[str]:
    """One queued run that every refused request tries to cancel. This host has no queue
    workers; cancelled at the end so a later worker finds nothing left to do."""
    with stack.client("operator") as http:
        reply = http.post(
            f"/api/tenants/{CONTOSO_TENANT_ID}/operations",
            json={"type": NOOP, "inputs": {"label": f"victim-{uuid.uuid4().hex}"}},
        )
        assert reply.status_code == 202, reply.text
        run_id = str(reply.json()["run"]["id"])
        yield run_id
        http.post(f"/api/tenants/{CONTOSO_TENANT_ID}/operations/{run_id}/cancel")


def _runs(stack: Stack) -> int:
    with stack.client("operator") as http:
        items = http.get(f"/api/tenants/{CONTOSO_TENANT_ID}/operations", params={"limit": 200})
    return len(items.json()["items"])


def test_every_state_changing_route_is_covered() -> None:
    routes = {(op.method, op.path) for op in WRITE_ROUTES}
    assert routes == {
        ("post", "/api/tenants/{tenant_id}/operations"),
        ("post", "/api/tenants/{tenant_id}/operations/{run_id}/cancel"),
        ("post", "/api/me/notifications/{notification_id}/read"),
        ("put", "/api/me/notification-preferences"),
    }


@pytest.mark.parametrize("op", WRITE_ROUTES, ids=lambda op: op.operation_id)
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"},
        {"Origin": EVIL, "Content-Type": "application/json"},
        {"Origin": "null", "Content-Type": "application/json"},
        {"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
        {"Sec-Fetch-Site": "same-site", "Content-Type": "application/json"},
    ],
    ids=["form-post", "cors-json", "null-origin", "no-origin-cross-site", "no-origin-same-site"],
)
def test_a_cross_site_write_with_the_session_cookie_is_refused(
    stack: Stack,
    session: httpx.Client,
    queued_run: str,
    op: Route,
    headers: dict[str, str],
) -> None:
    assert session.get("/api/tenants").status_code == 200  # the cookie does sign in
    before = _runs(stack)
    path = _path(op.path, queued_run, f"{queued_run}.queued")
    reply = session.request(op.method.upper(), path, content=FORM_BODY, headers=headers)
    assert reply.status_code == 403, reply.text
    assert reply.json()["error"]["code"] == "cross_site"
    assert _runs(stack) == before
    with stack.client("operator") as http:
        run = http.get(f"/api/tenants/{CONTOSO_TENANT_ID}/operations/{queued_run}").json()
    assert run["status"] == "queued" and not run.get("cancel_requested")


@pytest.mark.parametrize("op", WRITE_ROUTES, ids=lambda op: op.operation_id)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_body_that_is_not_json_is_refused_even_from_the_same_origin(
    stack: Stack, session: httpx.Client, queued_run: str, op: Route, content_type: str
) -> None:
    path = _path(op.path, queued_run, f"{queued_run}.queued")
    headers = {"Origin": stack.base_url, "Content-Type": content_type}
    reply = session.request(op.method.upper(), path, content=FORM_BODY, headers=headers)
    assert reply.status_code == 415, reply.text
    assert reply.json()["error"]["code"] == "unsupported_media_type"


def test_the_pages_own_requests_still_write(stack: Stack, session: httpx.Client) -> None:
    same_origin = {"Origin": stack.base_url, "Sec-Fetch-Site": "same-origin"}
    started = session.post(
        f"/api/tenants/{CONTOSO_TENANT_ID}/operations",
        json={"type": NOOP, "inputs": {"label": f"page-{uuid.uuid4().hex}"}},
        headers=same_origin,
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["run"]["id"]
    # The page's cancel has no body and so no Content-Type.
    cancelled = session.post(
        f"/api/tenants/{CONTOSO_TENANT_ID}/operations/{run_id}/cancel", headers=same_origin
    )
    assert cancelled.status_code == 200, cancelled.text
    # Saving the effective channels again: the operator's notifications stay as they are
    # for the other tests sharing this storage.
    current = session.get("/api/me/notification-preferences").json()
    prefs = session.put(
        "/api/me/notification-preferences",
        json={"queued": current["queued"], "completed": current["completed"]},
        headers=same_origin,
    )
    assert prefs.status_code == 200, prefs.text
    assert prefs.json()["completed"] == current["completed"]


@pytest.fixture
def portal_allowed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ALLOWED_ORIGINS", f"{PORTAL},https://other.example")
    reset_caches()
    yield
    monkeypatch.delenv("ALLOWED_ORIGINS")
    reset_caches()


def test_bearer_callers_from_a_listed_portal_or_no_browser_keep_working(
    stack: Stack, portal_allowed: None
) -> None:
    label = f"portal-{uuid.uuid4().hex}"
    operations = f"/api/tenants/{CONTOSO_TENANT_ID}/operations"
    with stack.client("operator") as http:
        for headers in ({"Origin": PORTAL, "Sec-Fetch-Site": "cross-site"}, {}):
            # The same inputs: the second start is the first run back (200).
            reply = http.post(
                operations, json={"type": NOOP, "inputs": {"label": label}}, headers=headers
            )
            assert reply.status_code in (200, 202), (headers, reply.text)
        run_id = reply.json()["run"]["id"]
        cancelled = http.post(f"{operations}/{run_id}/cancel", headers={"Origin": PORTAL})
        assert cancelled.status_code == 200, cancelled.text
        # A bearer token does not make an unlisted origin acceptable.
        refused = http.post(operations, json={"type": NOOP}, headers={"Origin": EVIL})
        assert refused.status_code == 403


# Another app on the same host: a different origin (another port), but the same site, so
# the browser sends the session cookie with its requests whatever the cookie's SameSite.
HOSTILE_PAGE = """<!doctype html><title>hostile</title>
<form id="f" method="post" enctype="text/plain" action="{action}">
<input type="hidden" name='{{"type": "diagnostics.noop", "inputs": {{"label": "csrf", "x": "'
  value='"}}}}'>
</form>
<script>
fetch("{action}", {{method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"Content-Type": "text/plain"}},
  body: '{{"type": "diagnostics.noop", "inputs": {{"label": "csrf-fetch"}}}}'}})
  .finally(() => document.getElementById("f").submit());
</script>"""


@contextmanager
def sibling_site(page: str) -> Iterator[str]:
    """A real server on another loopback port serving `page` (a page the browser must
    see as a loopback origin, as a sibling app would be, not a stubbed response)."""

    class Hostile(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_sibling_origins_page_in_chromium_cannot_start_a_run(
    stack: Stack, browser: Browser
) -> None:
    """The real thing rather than browser-style headers: Chromium, signed in with the
    session cookie, opens a page of another origin on the same host; its no-cors fetch
    and its auto-submitted text/plain form both carry the cookie and both are refused."""
    action = f"{stack.base_url}/api/tenants/{CONTOSO_TENANT_ID}/operations"
    context = browser.new_context(base_url=stack.base_url)
    try:
        page = context.new_page()
        query = httpx.QueryParams({"user": "operator", "post_login_redirect_uri": "/monitoring/"})
        page.goto(f"/.auth/login/aad?{query}")
        assert context.cookies(stack.base_url), "not signed in"
        before = _runs(stack)
        answers: list[Response] = []
        page.on("response", lambda r: answers.append(r) if r.url == action else None)
        with sibling_site(HOSTILE_PAGE.format(action=action)) as sibling:
            with page.expect_navigation(url=action):
                page.goto(f"{sibling}/hostile.html")
            expect(page.locator("body")).to_contain_text("cross_site")
        # Both reached the app and were refused as cross-site (without the origin check the
        # form's text/plain body would be a 415, the fetch's too).
        assert [(r.request.resource_type, r.status) for r in answers] == [
            ("fetch", 403),
            ("document", 403),
        ]
        form = answers[1].request.all_headers()  # the fetch's are not all reported
        assert "AppServiceAuthSession=" in form.get("cookie", "")  # the session went along
        assert (form["origin"], form["sec-fetch-site"]) == (sibling, "same-site")
        assert _runs(stack) == before
    finally:
        context.close()
