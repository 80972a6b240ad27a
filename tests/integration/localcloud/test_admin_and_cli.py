"""The admin HTTP surface, the CLI, and deterministic seeding."""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

import httpx

from localcloud import LocalCloud
from localcloud.dataset import TenantDataset
from localcloud.seed import CONTOSO_TENANT_ID, TENANTS

from .conftest import Sleeps


def _client(cloud: LocalCloud) -> httpx.Client:
    return httpx.Client(verify=ssl.create_default_context(cafile=str(cloud.ca_path)))


def test_faults_and_counters_over_http(cloud: LocalCloud, graph: object, sleeps: Sleeps) -> None:
    with _client(cloud) as http:
        made = http.post(
            f"{cloud.base_url}/_admin/faults",
            json={"kind": "throttle", "route": "/v1.0/groups*", "count": 2, "retry_after": 1},
        )
        assert made.status_code == 201 and made.json()["remaining"] == 2
        assert len(http.get(f"{cloud.base_url}/_admin/faults").json()["value"]) == 1
        bad = http.post(f"{cloud.base_url}/_admin/faults", json={"kind": "meteor"})
        assert bad.status_code == 400
        lost = http.post(f"{cloud.base_url}/_admin/faults", json={"kind": "after_processing"})
        assert lost.status_code == 201 and lost.json()["status"] == 504  # a gateway timeout
        refused = {"kind": "after_processing", "status": 429}  # 429 means "not processed"
        assert http.post(f"{cloud.base_url}/_admin/faults", json=refused).status_code == 400
        http.delete(f"{cloud.base_url}/_admin/faults/{lost.json()['id']}")
        graph.get("/groups", {"$top": 1})  # type: ignore[attr-defined]
        assert len(sleeps) == 2 and cloud.faults.rules() == []
        http.post(f"{cloud.base_url}/_admin/faults", json={"kind": "slow", "delay": 0.01})
        assert http.delete(f"{cloud.base_url}/_admin/faults").json() == {"removed": 1}
        counters = http.get(f"{cloud.base_url}/_admin/counters").json()
        token = http.post(
            f"{cloud.base_url}/_admin/tokens/user", json={"user": "viewer", "scopes": ["x"]}
        )
    grants = {(c["tenant"], c["grant_type"]): c["count"] for c in counters["token_requests"]}
    assert grants == {(CONTOSO_TENANT_ID, "client_credentials"): 1}
    assert token.status_code == 200 and token.json()["access_token"].count(".") == 2


def test_seed_is_deterministic() -> None:
    first, second = TenantDataset(TENANTS[0]), TenantDataset(TENANTS[0])
    assert first.groups == second.groups and first.assignments == second.assignments
    other = TenantDataset(TENANTS[0], seed="another")
    assert other.groups != first.groups


def test_cli_serves_and_prints_its_addresses(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "localcloud", "serve", "--port", "0", "--state-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        assert process.stdout is not None
        lines = dict(process.stdout.readline().strip().split("=", 1) for _ in range(2))
        base, ca = lines["LOCALCLOUD_BASE_URL"], lines["LOCALCLOUD_CA_PATH"]
        assert Path(ca).is_file() and (tmp_path / "localcloud.json").is_file()
        with httpx.Client(verify=ssl.create_default_context(cafile=ca)) as http:
            meta = http.get(f"{base}/{CONTOSO_TENANT_ID}/v2.0/.well-known/openid-configuration")
        assert meta.status_code == 200
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
