"""Ids with control characters (a trailing newline passed `re.match` with `$`) are ids of
nothing: 404, never a storage error reported as 503."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from localcloud.seed import CONTOSO_TENANT_ID
from shared.runs.identity import is_run_id, new_run_id, normalize_tenant_id

from .conftest import Stack

NOOP = "diagnostics.noop"
SUFFIXES = ["\n", "\r\n", "\t", "\x00", "\x0b", "\x1f", "\x7f", "\u2028", " "]


@pytest.mark.parametrize("suffix", SUFFIXES, ids=[repr(s) for s in SUFFIXES])
def test_ids_with_control_characters_are_not_ids(suffix: str) -> None:
    run_id = new_run_id(datetime.now(UTC))
    assert is_run_id(run_id)
    assert not is_run_id(run_id + suffix)
    assert not is_run_id(suffix + run_id)
    assert not is_run_id(run_id[:13] + suffix + run_id[14:])
    assert normalize_tenant_id(CONTOSO_TENANT_ID[:8] + suffix + CONTOSO_TENANT_ID[8:]) is None


@pytest.fixture(scope="module")
def run_id(stack: Stack) -> Iterator[str]:
    with stack.client("operator") as http:
        run = http.post(
            f"/api/tenants/{CONTOSO_TENANT_ID}/operations",
            json={"type": NOOP, "inputs": {"label": f"ctl-{new_run_id(datetime.now(UTC))}"}},
        ).json()["run"]
        yield str(run["id"])
        http.post(f"/api/tenants/{CONTOSO_TENANT_ID}/operations/{run['id']}/cancel")


@pytest.mark.parametrize("suffix", ["%0A", "%0D%0A", "%09", "%00", "%0B"])
def test_run_and_notification_ids_with_control_characters_are_404(
    stack: Stack, run_id: str, suffix: str
) -> None:
    with stack.client("operator") as http:
        base = f"/api/tenants/{CONTOSO_TENANT_ID}/operations/{run_id}{suffix}"
        for reply in (
            http.get(base),
            http.post(f"{base}/cancel"),
            http.post(f"/api/me/notifications/{run_id}{suffix}.queued/read"),
            http.post(f"/api/me/notifications/{run_id}.queued{suffix}/read"),
        ):
            assert reply.status_code == 404, (reply.request.url, reply.text)
            assert reply.json()["error"]["code"] == "not_found"
