"""The monitoring page in a real browser: Playwright driving Debian's Chromium
(/usr/bin/chromium, installed by `make test`; never a browser download) against the app in
DevHost with the local App Service Authentication in front, the session's Azurite and a
LocalCloud for Entra and Graph.

The page's host serves HTTP only (queued runs stay queued until a test wants them run);
`stack.worker()` starts a second instance of the same app with queue workers, as a second
Functions instance in Azure would be. Screenshots go to .artifacts/browser/ (not committed).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, expect, sync_playwright

from devstack.azurite import Azurite
from devstack.stack import ROOT, Stack, running_stack
from localcloud import LocalCloud
from shared.auth.membership import Role

CHROMIUM = Path("/usr/bin/chromium")
# axe-core from npm, injected by the test browser only (an init script runs outside the
# page's CSP); the app never serves it.
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / ".artifacts" / "browser"
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)
NOOP = "diagnostics.noop"
EXPECTED_401 = "/.auth/me"


@pytest.fixture(scope="package")
def browser_cloud() -> Iterator[LocalCloud]:
    with LocalCloud.start() as instance:
        yield instance


@pytest.fixture(scope="package")
def stack(azurite: Azurite, browser_cloud: LocalCloud) -> Iterator[Stack]:
    # Progress is written at most every 0.2 s here (2 s by default) so a short run shows it.
    settings = {"RUN_PROGRESS_MIN_INTERVAL_SECONDS": "0.2"}
    with running_stack(azurite, browser_cloud, easy_auth=True, settings=settings) as running:
        yield running


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(autouse=True)
def _clean_cloud(browser_cloud: LocalCloud) -> Iterator[None]:
    browser_cloud.faults.clear()
    yield
    browser_cloud.faults.clear()


@dataclass
class Watch:
    """What a page did that it must not: dialogs (script ran) and console errors."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = str(message.location.get("url", ""))
        if url.endswith(EXPECTED_401) and "status of 401" in message.text:
            return  # a signed-out visitor's /.auth/me: how the page learns to send them to sign in
        self.errors.append(f"{message.text} ({url})")

    def on_page_error(self, error: Any) -> None:
        self.errors.append(str(error))


OpenPage = Callable[..., Page]


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def open_page(browser: Browser, stack: Stack, watch: Watch) -> Iterator[OpenPage]:
    """open_page(user, path): a new browser context signed in as `user` (or signed out
    with None) on `path`. Every page is watched for dialogs and console errors, which
    fail the test at teardown."""
    contexts = []

    if not AXE.exists():
        pytest.fail("axe-core is missing: `make test` installs node_modules")

    def open_(
        user: str | None = "operator",
        path: str = "/monitoring/",
        *,
        width: int = 1280,
        dark: bool = False,
        reduced_motion: bool = False,
    ) -> Page:
        context = browser.new_context(
            base_url=stack.base_url,
            viewport={"width": width, "height": 800},
            color_scheme="dark" if dark else "light",
            reduced_motion="reduce" if reduced_motion else "no-preference",
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(path=str(AXE))
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", watch.on_dialog)
        page.on("console", watch.on_console)
        page.on("pageerror", watch.on_page_error)
        if user is None:
            page.goto(path)
        else:
            query = httpx.QueryParams({"user": user, "post_login_redirect_uri": path})
            page.goto(f"/.auth/login/aad?{query}")
        return page

    yield open_
    for context in contexts:
        for page in context.pages:
            page.close()
        context.close()
    assert watch.dialogs == [], watch.dialogs
    assert watch.errors == [], watch.errors


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def ops(tenant_id: str) -> str:
    return f"/api/tenants/{tenant_id}/operations"


def start(stack: Stack, tenant_id: str, inputs: dict[str, Any], who: str = "operator") -> str:
    """Start a diagnostics.noop run over the API (bearer token); its id."""
    with stack.client(who) as http:
        reply = http.post(ops(tenant_id), json={"type": NOOP, "inputs": inputs})
    assert reply.status_code in (200, 202), reply.text
    return str(reply.json()["run"]["id"])


def fresh_tenant(stack: Stack, name: str, **roles: Role) -> str:
    return stack.fresh_tenant(f"{name} {uuid.uuid4().hex[:4]}", **roles)


SERIOUS = ("serious", "critical")
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    found: list[dict[str, Any]] = page.evaluate(AXE_RUN)
    return [v for v in found if v["impact"] in SERIOUS]


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], violations
