"""Start, list, detail and cancel over HTTP: status codes, headers, bodies, errors."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from localcloud.seed import CONTOSO_TENANT_ID, OPERATOR_OID
from shared.auth.membership import Role
from shared.config import RUNS_QUEUE

from .conftest import Stack

NOOP = "diagnostics.noop"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def ops(tenant_id: str) -> str:
    return f"/api/tenants/{tenant_id}/operations"


def error_code(reply: httpx.Response) -> str:
    body = reply.json()
    assert set(body) == {"error"} or "run" in body, body
    assert isinstance(body["error"]["message"], str)
    return str(body["error"]["code"])


def test_health_is_anonymous(stack: Stack) -> None:
    with stack.client() as http:
        reply = http.get("/api/health")
    assert reply.status_code == 200 and reply.json() == {"status": "ok"}


def test_a_new_run_is_202_with_location_then_identical_starts_are_200(
    stack: Stack, label: str
) -> None:
    body = {"type": NOOP, "inputs": {"label": label}}
    with stack.client("operator") as http:
        first = http.post(ops(CONTOSO_TENANT_ID), json=body)
        again = http.post(ops(CONTOSO_TENANT_ID), json={"inputs": {"label": label}, "type": NOOP})
        assert first.status_code == 202, first.text
        run = first.json()["run"]
        assert first.headers["location"] == run["links"]["self"]
        assert run["links"]["self"] == f"{stack.base_url}{ops(CONTOSO_TENANT_ID)}/{run['id']}"
        assert run["links"]["view"] == (
            f"{stack.base_url}/monitoring/#/tenants/{CONTOSO_TENANT_ID}/runs/{run['id']}"
        )
        assert int(first.headers["retry-after"]) > 0
        assert first.json()["deduplicated"] is False
        assert first.json()["view_url"] == run["links"]["view"]
        assert run["status"] == "queued" and run["outcome"] == "pending"
        assert run["initiator"]["id"] == OPERATOR_OID and run["initiator"]["kind"] == "user"
        assert run["inputs"]["label"] == label
        assert RFC3339.match(run["created_at"]) and run["completed_at"] is None
        assert again.status_code == 200 and "location" not in again.headers
        assert again.json()["deduplicated"] is True and again.json()["run"]["id"] == run["id"]
        detail = http.get(first.headers["location"])
    assert detail.status_code == 200 and detail.json()["id"] == run["id"]
    assert "etag" not in detail.json() and "PartitionKey" not in detail.json()


def test_twenty_concurrent_identical_starts_make_one_run(stack: Stack, label: str) -> None:
    body = {"type": NOOP, "inputs": {"label": label, "items": 3}}
    token = stack.token("operator")

    def one(_: int) -> httpx.Response:
        with stack.client(token=token) as http:
            return http.post(ops(CONTOSO_TENANT_ID), json=body)

    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(one, range(20)))
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [200] * 19 + [202]
    assert len({r.json()["run"]["id"] for r in replies}) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"", 400, "invalid_json"),
        (b"\xff\xfe", 400, "invalid_json"),
        (b"[]", 422, "invalid_inputs"),
        (b'{"inputs": {}}', 422, "invalid_inputs"),
        (b'{"type": "nope.nothing"}', 422, "unknown_run_type"),
        (b'{"type": "diagnostics.noop", "inputs": {"items": -1}}', 422, "invalid_inputs"),
        (b'{"type": "diagnostics.noop", "inputs": {"bogus": 1}}', 422, "invalid_inputs"),
        (b'{"type": "diagnostics.noop", "extra": 1}', 422, "invalid_inputs"),
        (b'{"type": "diagnostics.noop", "inputs": [1]}', 422, "invalid_inputs"),
    ],
)
def test_bad_start_bodies(stack: Stack, body: bytes, status: int, code: str) -> None:
    with stack.client("operator") as http:
        reply = http.post(
            ops(CONTOSO_TENANT_ID), content=body, headers={"Content-Type": "application/json"}
        )
    assert reply.status_code == status, reply.text
    assert error_code(reply) == code


def test_schema_violations_name_the_failing_fields(stack: Stack) -> None:
    with stack.client("operator") as http:
        missing = http.post(ops(CONTOSO_TENANT_ID), json={"inputs": {}})
        bad = http.post(ops(CONTOSO_TENANT_ID), json={"type": NOOP, "inputs": {"items": "x"}})
    assert {d["field"] for d in missing.json()["error"]["details"]} == {"type"}
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"items"}


JSON_BODY = {"Content-Type": "application/json"}


def test_a_body_over_64_kib_is_413(stack: Stack) -> None:
    body = b'{"type": "diagnostics.noop", "inputs": {"label": "' + b"x" * 70_000 + b'"}}'
    with stack.client("operator") as http:
        reply = http.post(ops(CONTOSO_TENANT_ID), content=body, headers=JSON_BODY)
    assert reply.status_code == 413 and error_code(reply) == "payload_too_large"


@pytest.mark.parametrize("tenant", ["not-a-guid", "contoso", "3f2c6d0e", "..", "%20"])
def test_tenant_ids_that_are_not_guids_are_404(stack: Stack, tenant: str) -> None:
    with stack.client("operator") as http:
        for reply in (
            http.get(ops(tenant)),
            http.post(ops(tenant), json={"type": NOOP}),
            http.get(f"{ops(tenant)}/01J0000000000000000000000"),
        ):
            assert reply.status_code == 404, reply.text
            assert reply.json()["error"]["code"] in {"not_found"}


def test_dispatch_failure_is_503_with_the_failed_run(stack: Stack, label: str) -> None:
    queue = stack.storage.queue(RUNS_QUEUE)
    queue.delete_queue()
    try:
        with stack.client("operator") as http:
            reply = http.post(
                ops(CONTOSO_TENANT_ID), json={"type": NOOP, "inputs": {"label": label}}
            )
    finally:
        queue.create_queue()
    assert reply.status_code == 503, reply.text
    body = reply.json()
    assert body["error"]["code"] == "dispatch_failed"
    assert body["run"]["status"] == "completed" and body["run"]["outcome"] == "failed"
    assert body["run"]["failures"][0]["code"] == "dispatch_failed"
    # The lock was released: the same request starts a fresh run now.
    with stack.client("operator") as http:
        retry = http.post(ops(CONTOSO_TENANT_ID), json={"type": NOOP, "inputs": {"label": label}})
    assert retry.status_code == 202 and retry.json()["run"]["id"] != body["run"]["id"]


def test_detail_is_404_for_unknown_malformed_or_other_tenant_runs(stack: Stack) -> None:
    tenant = stack.fresh_tenant(operator=Role.OPERATOR)
    with stack.client("operator") as http:
        run = http.post(ops(tenant), json={"type": NOOP}).json()["run"]
        assert http.get(f"{ops(tenant)}/{run['id']}").status_code == 200
        assert http.get(f"{ops(CONTOSO_TENANT_ID)}/{run['id']}").status_code == 404
        assert http.get(f"{ops(tenant)}/01J00000000000000000000000").status_code == 404
        assert http.get(f"{ops(tenant)}/not-a-run").status_code == 404
        assert http.get(f"{ops(tenant)}/{run['id'].lower()}").status_code == 404


def test_cancel_queued_then_completed_is_409(stack: Stack) -> None:
    tenant = stack.fresh_tenant(operator=Role.OPERATOR, viewer=Role.READONLY)
    with stack.client("operator") as http:
        run = http.post(ops(tenant), json={"type": NOOP}).json()["run"]
        with stack.client("viewer") as viewer:
            refused = viewer.post(f"{ops(tenant)}/{run['id']}/cancel")
        assert refused.status_code == 403 and error_code(refused) == "forbidden"
        cancelled = http.post(f"{ops(tenant)}/{run['id']}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["run"]["outcome"] == "cancelled"
        again = http.post(f"{ops(tenant)}/{run['id']}/cancel")
        assert again.status_code == 409 and error_code(again) == "invalid_transition"
        assert again.json()["error"]["details"]["outcome"] == "cancelled"
        missing = http.post(f"{ops(tenant)}/01J00000000000000000000000/cancel")
        assert missing.status_code == 404


def test_list_filters_paging_and_initiator_me(stack: Stack) -> None:
    tenant = stack.fresh_tenant(operator=Role.OPERATOR, viewer=Role.READONLY, app=Role.OPERATOR)
    ids = []
    with stack.client("operator") as http:
        for index in range(5):
            reply = http.post(ops(tenant), json={"type": NOOP, "inputs": {"label": f"r{index}"}})
            ids.append(reply.json()["run"]["id"])
        cancelled = http.post(f"{ops(tenant)}/{ids[0]}/cancel").json()["run"]
    with stack.client("app") as app:
        app_run = app.post(ops(tenant), json={"type": NOOP, "inputs": {"label": "app"}}).json()
    with stack.client("viewer") as http:
        everything = http.get(ops(tenant)).json()
        assert [r["id"] for r in everything["items"]] == [app_run["run"]["id"], *reversed(ids)]
        assert everything["next_cursor"] is None
        seen, cursor = [], None
        while True:
            page = http.get(
                ops(tenant), params={"limit": 2, **({"cursor": cursor} if cursor else {})}
            )
            assert page.status_code == 200 and len(page.json()["items"]) <= 2
            seen += [r["id"] for r in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        assert seen == [r["id"] for r in everything["items"]]
        done = http.get(ops(tenant), params={"outcome": "cancelled"}).json()["items"]
        assert [r["id"] for r in done] == [cancelled["id"]]
        queued = http.get(ops(tenant), params={"status": "queued", "type": NOOP}).json()["items"]
        assert len(queued) == 5
        assert http.get(ops(tenant), params={"initiator": "me"}).json()["items"] == []
        by_app = http.get(ops(tenant), params={"initiator": app_run["run"]["initiator"]["id"]})
        assert [r["id"] for r in by_app.json()["items"]] == [app_run["run"]["id"]]
        assert app_run["run"]["initiator"]["kind"] == "app"
    with stack.client("operator") as http:
        mine = http.get(ops(tenant), params={"initiator": "me"}).json()["items"]
        assert len(mine) == 5


SUMMARY_FIELDS = {
    "id", "tenant_id", "type", "input_summary", "status", "outcome", "initiator", "summary_counts",
    "cancel_requested", "created_at", "started_at", "updated_at", "completed_at", "links",
}  # fmt: skip


def test_the_list_returns_summaries_and_the_detail_everything(stack: Stack) -> None:
    tenant = stack.fresh_tenant(operator=Role.OPERATOR)
    inputs = {"label": "x" * 200, "items": 7, "fail_items": list(range(7))}
    with stack.client("operator") as http:
        started = http.post(ops(tenant), json={"type": NOOP, "inputs": inputs}).json()["run"]
        listed = http.get(ops(tenant)).json()["items"]
        detail = http.get(started["links"]["self"]).json()
    assert len(listed) == 1
    summary = listed[0]
    assert set(summary) == SUMMARY_FIELDS  # no inputs, failures, result, lease or hash
    assert summary["id"] == started["id"] and summary["status"] == "queued"
    assert summary["initiator"] == started["initiator"]
    assert summary["links"] == started["links"]
    assert summary["summary_counts"] == started["summary_counts"]
    assert SUMMARY_FIELDS < set(detail)
    assert detail["inputs"] == inputs and detail["failures"] == [] and "result" in detail
    assert {k: detail[k] for k in SUMMARY_FIELDS} == summary


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"status": "sleeping"}, 422, "invalid_inputs"),
        ({"outcome": "meh"}, 422, "invalid_inputs"),
        ({"limit": "0"}, 422, "invalid_inputs"),
        ({"limit": "201"}, 422, "invalid_inputs"),
        ({"limit": "ten"}, 422, "invalid_inputs"),
        ({"cursor": "%%%"}, 400, "invalid_cursor"),
        ({"cursor": "eyJhZnRlciI6IngifQ"}, 400, "invalid_cursor"),
        ({"type": "x" * 101}, 422, "invalid_inputs"),
        ({"outcom": "failed"}, 422, "invalid_inputs"),  # a typo must not answer everything
    ],
)
def test_bad_list_queries(stack: Stack, params: dict[str, str], status: int, code: str) -> None:
    with stack.client("operator") as http:
        reply = http.get(ops(CONTOSO_TENANT_ID), params=params)
    assert reply.status_code == status, reply.text
    assert error_code(reply) == code


@pytest.mark.parametrize(
    "value",
    [
        "' or PartitionKey ne '",
        "x' or 1 eq 1 or Type eq 'x",
        "diagnostics.noop' or RowKey gt '",
        "') or (PartitionKey ne '",
        "@pk",
        "*",
        "%27%20or%20true",
        "\u0000",
    ],
)
def test_odata_looking_filter_values_return_nothing_foreign(stack: Stack, value: str) -> None:
    mine = stack.fresh_tenant(operator=Role.OPERATOR)
    other = stack.fresh_tenant(operator=Role.OPERATOR)
    with stack.client("operator") as http:
        http.post(ops(other), json={"type": NOOP})
        for name in ("type", "initiator"):
            reply = http.get(ops(mine), params={name: value})
            assert reply.status_code in (200, 422), reply.text
            if reply.status_code == 200:
                assert reply.json()["items"] == []
