"""Schemathesis against the local host: every operation of GET /api/openapi.json, called
over real HTTP with an operator token, answers no 5xx, only documented status codes,
content types and headers, and bodies that conform to the schema.

Stateless, bounded and reproducible: fixed seed, derandomized Hypothesis, no example
database, a few examples per operation (positive and negative data), no deadline. Most
cases are pointed at the seeded Contoso tenant (where the operator is an operator) and
some at seeded runs, a notification and a backup set, so the 200/409 paths are exercised
as well as 404 and 422.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from localcloud.seed import CONTOSO_TENANT_ID
from shared.api.openapi import document
from shared.backups.store import BackupStore
from shared.config import BACKUP_PAYLOADS_CONTAINER, BACKUP_SETS_TABLE, NOTIFICATIONS_TABLE
from shared.notifications.inbox import Inbox, Notification, notification_id
from shared.notifications.message import NotificationEvent
from shared.persistence.blobs import JsonBlobs

from .conftest import OIDS, Stack
from .test_restore_mapping import make_backup

EXAMPLES = 20
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20250301,
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES,
            "database": "none",
            "with-security-parameters": False,
        },
        # The coverage phase is unbounded by max-examples; fuzzing covers the operations.
        "phases": {"coverage": {"enabled": False}, "examples": {"enabled": False}},
    }
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> dict[str, Any]:
    """Things for generated cases to find: runs (one to cancel), a notification of the
    operator's, a complete backup set."""
    with stack.client("operator") as http:
        runs = []
        for n in range(3):
            started = http.post(
                f"/api/tenants/{CONTOSO_TENANT_ID}/operations",
                json={
                    "type": "diagnostics.noop",
                    "inputs": {"label": f"st-{uuid.uuid4().hex}-{n}"},
                },
            )
            assert started.status_code == 202, started.text
            runs.append(started.json()["run"]["id"])
    run_id = runs[0]
    Inbox(stack.storage.table(NOTIFICATIONS_TABLE)).add(
        Notification(
            id=notification_id(run_id, NotificationEvent.QUEUED),
            user_id=OIDS["operator"],
            run_id=run_id,
            tenant_id=CONTOSO_TENANT_ID,
            event=NotificationEvent.QUEUED,
            outcome="pending",
            title="Run queued",
            body="diagnostics.noop was queued",
            link=f"{stack.base_url}/monitoring/",
            created_at=datetime.now(UTC),
        )
    )
    backups = BackupStore(
        stack.storage.table(BACKUP_SETS_TABLE),
        JsonBlobs(stack.storage.container(BACKUP_PAYLOADS_CONTAINER)),
    )
    return {
        "runs": runs,
        "notification": notification_id(run_id, NotificationEvent.QUEUED),
        "backup": make_backup(backups, CONTOSO_TENANT_ID, [str(uuid.uuid4())]),
        "auth": {"Authorization": f"Bearer {stack.token('operator')}"},
    }


# The document the module builds; test_the_host_serves_this_document ties it to the host.
schema = schemathesis.openapi.from_dict(document(), config=CONFIG)
_turn = itertools.count()


def _aim(case: Any, seeded: dict[str, Any]) -> None:
    """Point most cases at things that exist; leave every few as generated (404s)."""
    turn = next(_turn)
    params = case.path_parameters or {}
    if "tenant_id" in params and turn % 5:
        params["tenant_id"] = CONTOSO_TENANT_ID
    if "run_id" in params and turn % 3:
        params["run_id"] = seeded["runs"][turn % len(seeded["runs"])]
    if "notification_id" in params and turn % 2:
        params["notification_id"] = seeded["notification"]
    query = case.query if isinstance(case.query, dict) else None
    if query is not None and "backup_set_id" in query and turn % 2:
        query["backup_set_id"] = seeded["backup"]
    if case.operation.label == "POST /api/tenants/{tenant_id}/operations" and turn % 2:
        # A real run type: new runs (202) and, every few, an identical active one (200).
        label = "st-dedup" if turn % 4 == 1 else f"st-{turn}-{uuid.uuid4().hex[:8]}"
        case.body = {"type": "diagnostics.noop", "inputs": {"label": label}}


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@schema.parametrize()
def test_every_operation_conforms_to_the_schema(
    case: Any, stack: Stack, seeded: dict[str, Any]
) -> None:
    _aim(case, seeded)
    case.call_and_validate(base_url=stack.base_url, headers=seeded["auth"], checks=CHECKS)


def test_the_host_serves_this_document(stack: Stack) -> None:
    with stack.client() as anonymous:
        served = anonymous.get("/api/openapi.json")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/json")
    assert served.json() == document()
