"""The page live: a real run moves from queued through running to completed on screen
without a reload. A worker host runs here, so this module comes after the others (it would
run their queued runs)."""

from __future__ import annotations

from playwright.sync_api import expect

from devstack.stack import Stack
from localcloud.seed import CONTOSO_TENANT_ID

from .conftest import OpenPage, ops, screenshot


def test_a_run_moves_from_queued_through_running_to_completed_live(
    stack: Stack, open_page: OpenPage
) -> None:
    # The local Graph answers slowly, so the policy sync stays running for a few polls.
    stack.cloud.faults.slow(delay=0.8, tenant=CONTOSO_TENANT_ID, route="*/devicemanagement/*")
    with stack.client("operator") as http:
        reply = http.post(ops(CONTOSO_TENANT_ID), json={"type": "policy.sync", "inputs": {}})
    assert reply.status_code in (200, 202), reply.text
    run = reply.json()["run"]
    assert run["status"] == "queued"
    page = open_page("operator", run["links"]["view"].removeprefix(stack.base_url))
    status = page.locator("#detail-status")
    expect(status).to_have_text("queued")
    expect(page.locator("#cancel-button")).to_be_visible()
    with stack.worker():
        expect(status).to_have_text("running", timeout=20_000)
        expect(page.locator("#detail-fields")).not_to_contain_text("Started—")
        screenshot(page, "detail-running")
        expect(status).to_have_text("completed", timeout=40_000)
    expect(page.locator("#detail-outcome")).to_have_text("succeeded")
    expect(page.locator("#detail-progress [role=progressbar]")).to_have_attribute(
        "aria-valuenow", "100"
    )
    expect(page.locator("#cancel-button")).to_be_hidden()
    expect(page.locator("#detail-result")).to_contain_text("synced_at")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload
