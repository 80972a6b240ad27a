"""The caller's notifications over HTTP, from a real run through workers to the inbox,
mail (captured by the local Graph) and the Teams sink."""

from __future__ import annotations

import time
from pathlib import Path

from devhost import DevHost, LocalSettings
from devstack.azurite import free_port
from localcloud.seed import CONTOSO_TENANT_ID

from .conftest import Stack

ROOT = Path(__file__).resolve().parents[2]


def _wait(predicate, timeout: float = 60):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_a_run_notifies_its_initiator_in_app_by_mail_and_in_teams(stack: Stack, label: str) -> None:
    import function_app

    with stack.client("operator") as http:
        started = http.post(
            f"/api/tenants/{CONTOSO_TENANT_ID}/operations",
            json={"type": "diagnostics.noop", "inputs": {"items": 2, "label": label}},
        )
        assert started.status_code == 202, started.text
        run = started.json()["run"]
        view = run["links"]["view"]
        with DevHost(function_app.app, ROOT / "host.json", LocalSettings(), port=free_port()):

            def mine() -> list[dict]:
                items = http.get("/api/me/notifications", params={"limit": 200}).json()["items"]
                found = [n for n in items if n["run_id"] == run["id"]]
                return found if len(found) == 2 else []

            notes = _wait(mine)
            _wait(lambda: [p for p in stack.cloud.teams_posts() if view in str(p.body)])
        assert {n["event"] for n in notes} == {"queued", "completed"}
        assert all(n["link"] == view and n["read_at"] is None for n in notes)
        completed = next(n for n in notes if n["event"] == "completed")
        assert completed["outcome"] == "succeeded"

        read = http.post(f"/api/me/notifications/{completed['id']}/read")
        assert read.status_code == 200 and read.json()["read_at"]
        unread = http.get("/api/me/notifications", params={"unread": "true", "limit": 200})
        assert completed["id"] not in {n["id"] for n in unread.json()["items"]}

    mails = [m for m in stack.cloud.sent_mail(CONTOSO_TENANT_ID) if view in str(m.message)]
    assert len(mails) == 1  # terminal event only, by default
    assert mails[0].message["toRecipients"][0]["emailAddress"]["address"].startswith("olivia")

    # Nobody else hears about it.
    with stack.client("viewer") as http:
        items = http.get("/api/me/notifications", params={"limit": 200}).json()["items"]
        assert all(n["run_id"] != run["id"] for n in items)


def test_preferences_round_trip_and_validation(stack: Stack) -> None:
    with stack.client("viewer") as http:
        current = http.get("/api/me/notification-preferences").json()
        assert current["queued"] == ["in_app"] and "email" in current["available"]
        saved = http.put(
            "/api/me/notification-preferences",
            json={"queued": [], "completed": ["email", "in_app"]},
        )
        assert saved.status_code == 200
        assert saved.json()["completed"] == ["email", "in_app"] and saved.json()["customized"]
        bad = http.put("/api/me/notification-preferences", json={"queued": ["pager"]})
        assert bad.status_code == 422 and bad.json()["error"]["details"]
        malformed = http.put(
            "/api/me/notification-preferences",
            content=b"{nope",
            headers={"Content-Type": "application/json"},
        )
        assert malformed.status_code == 400


def test_only_members_of_some_tenant_may_write_preferences(stack: Stack) -> None:
    with stack.client("outsider") as http:
        assert http.get("/api/tenants").json()["items"] == []
        refused = http.put(
            "/api/me/notification-preferences", json={"queued": [], "completed": ["in_app"]}
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "not_a_member"
        # Nothing was written: the defaults still apply.
        assert not http.get("/api/me/notification-preferences").json()["customized"]


def test_notification_routes_need_a_person(stack: Stack) -> None:
    with stack.client() as http:
        assert http.get("/api/me/notifications").status_code == 401
    with stack.client("app") as http:
        reply = http.get("/api/me/notifications")
        assert reply.status_code == 403 and reply.json()["error"]["code"] == "user_required"
    with stack.client("operator") as http:
        assert http.post("/api/me/notifications/nope/read").status_code == 404
        assert http.get("/api/me/notifications", params={"limit": "0"}).status_code == 422
        assert http.get("/api/me/notifications", params={"cursor": "x"}).status_code == 400
        # One bound for a cursor, the query model's: a 100-character one is refused there.
        too_long = http.get("/api/me/notifications", params={"cursor": "0" * 50 + "~" + "q" * 49})
        assert too_long.status_code == 422, too_long.text
