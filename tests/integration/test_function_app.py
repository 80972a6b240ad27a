"""function_app.py as the Functions host sees it: names, triggers, and a run through them."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import azure.functions as func
import pytest
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest

from devhost.loader import _get_functions
from devstack.azurite import Azurite
from shared.composition import root
from shared.composition import services as full_side
from shared.composition.provisioning import provision
from shared.composition.services import services
from shared.config import RUNS_POISON_QUEUE, RUNS_QUEUE, STORAGE_CONNECTION
from shared.persistence.clients import StorageClients
from shared.runs.model import Initiator, RunOutcome
from shared.tenants import ManagedTenant


@pytest.fixture
def app_env(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(STORAGE_CONNECTION, azurite.connection_string)
    monkeypatch.setenv("AUTO_PROVISION_STORAGE", "true")
    monkeypatch.setenv("ENABLE_DIAGNOSTIC_RUN_TYPES", "true")
    root.reset()
    yield
    root.reset()


def _functions() -> dict[str, func.Function]:
    import function_app

    # The library's get_functions() can be listed once per app; devhost knows the way round.
    return {f.get_function_name(): f for f in _get_functions(function_app.app)}


def test_the_app_registers_worker_poison_and_reaper() -> None:
    functions = _functions()
    assert functions["run_worker"].get_trigger().queue_name == RUNS_QUEUE
    assert functions["run_poison"].get_trigger().queue_name == RUNS_POISON_QUEUE
    assert functions["run_worker"].get_trigger().connection == STORAGE_CONNECTION
    assert functions["run_reaper"].get_trigger().schedule == "0 */5 * * * *"


def test_provisioning_is_idempotent_under_concurrency(azurite: Azurite) -> None:
    clients = StorageClients.from_connection_string(azurite.connection_string)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: provision(clients), range(4)))
    provision(clients)


def test_a_run_through_the_registered_triggers(app_env: None, tenant_id: str) -> None:
    svc = services()
    svc.tenants.upsert(ManagedTenant(tenant_id, "Contoso"))
    run, created = svc.runs.ensure_run(
        tenant_id,
        "diagnostics.noop",
        {"items": 2, "label": f"app-{tenant_id}"},
        Initiator(id="u1", name="U"),
    )
    assert created
    svc.runs.dispatch_or_fail(run)
    queue = svc.storage.queue(RUNS_QUEUE)
    for message in queue.receive_messages(max_messages=32, visibility_timeout=5):
        if json.loads(message.content)["run_id"] != run.id:
            continue  # another test's message on the shared queue: leave it
        functions = _functions()
        delivery = QueueMessage(
            id=message.id,
            body=message.content.encode(),
            dequeue_count=message.dequeue_count,
            pop_receipt=message.pop_receipt,
        )
        functions["run_worker"].get_user_function()(delivery)
        queue.delete_message(message)
        break
    else:
        raise AssertionError("the run's message was not on the work queue")
    assert svc.runs.get(tenant_id, run.id).outcome is RunOutcome.SUCCEEDED
    # The reaper timer walks registered tenants and finds nothing to do.
    _functions()["run_reaper"].get_user_function()(TimerRequest())


def _app_principal(tenant: str) -> str:
    """App Service Authentication's principal header for an app-only caller (roles only)."""
    claims = [
        {"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": tenant},
        {"typ": "http://schemas.microsoft.com/identity/claims/tenantid", "val": tenant},
        {"typ": "roles", "val": "Runs.Read"},
    ]
    body = json.dumps({"claims": claims, "role_typ": "roles"}).encode()
    return base64.b64encode(body).decode()


def test_the_catalogue_route_never_builds_the_write_side(
    app_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET /api/operation-types answers from the run types' declarations: no Graph
    clients, credentials or dispatcher are built for it (the full side's services)."""
    tenant = str(uuid.uuid4())
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "true")
    monkeypatch.setenv("AUTH_TRUST_APP_SERVICE_PRINCIPAL", "true")
    monkeypatch.setenv("AUTH_TRUSTED_TENANTS", tenant)
    root.reset()

    def refuse(base: object) -> None:
        raise AssertionError("the catalogue route built the write side")

    monkeypatch.setattr(full_side, "build_services", refuse)
    request = func.HttpRequest(
        "GET",
        "http://localhost/api/operation-types",
        headers={"X-MS-CLIENT-PRINCIPAL": _app_principal(tenant)},
        body=b"",
    )
    answer = _functions()["api_run_types"].get_user_function()(request)

    assert answer.status_code == 200, answer.get_body()
    items = json.loads(answer.get_body())["items"]
    assert [e["type"] for e in items] == [
        "backup.capture",
        "diagnostics.noop",
        "directory_groups.sync",
        "policy.sync",
        "restore.execute",
    ]
    assert items[-1]["inputs_schema"]["required"] == ["backup_set_id"]
    assert services.cache_info().currsize == 0
