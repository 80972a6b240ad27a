"""The Table Storage semantics the run store relies on, asserted against Azurite and the
in-memory table alike: insert-if-absent, If-Match, entity-group transactions
(all-or-nothing, one partition, at most 100 operations), key-ordered filtered queries."""

from __future__ import annotations

from http.client import HTTPException
from typing import Any

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableTransactionError, UpdateMode

PK = "3f2b6c1e-0000-4000-8000-000000000001"


def _row(rk: str, **props: Any) -> dict[str, Any]:
    return {"PartitionKey": PK, "RowKey": rk, **props}


def _keys(table: Any) -> list[str]:
    return [e["RowKey"] for e in table.query_entities("PartitionKey eq @pk", parameters={"pk": PK})]


def test_insert_if_absent(table: Any) -> None:
    table.create_entity(_row("a", N=1))
    with pytest.raises(ResourceExistsError):
        table.create_entity(_row("a", N=2))
    assert table.get_entity(PK, "a")["N"] == 1


def test_if_match_update_and_delete(table: Any) -> None:
    first = table.create_entity(_row("a", N=1))["etag"]
    second = table.update_entity(
        _row("a", N=2),
        mode=UpdateMode.REPLACE,
        etag=first,
        match_condition=MatchConditions.IfNotModified,
    )["etag"]
    assert second != first and table.get_entity(PK, "a").metadata["etag"] == second
    with pytest.raises(ResourceModifiedError):
        table.update_entity(
            _row("a", N=3), etag=first, match_condition=MatchConditions.IfNotModified
        )
    with pytest.raises(ResourceModifiedError):
        table.delete_entity(PK, "a", etag=first, match_condition=MatchConditions.IfNotModified)
    table.delete_entity(PK, "a", etag=second, match_condition=MatchConditions.IfNotModified)
    table.delete_entity(PK, "a")  # a missing row's delete is silent (the SDK ignores 404)
    with pytest.raises(ResourceNotFoundError):
        table.get_entity(PK, "a")
    with pytest.raises(ResourceNotFoundError):
        table.update_entity(_row("a", N=4), mode=UpdateMode.MERGE)


def test_merge_keeps_and_replace_drops_other_properties(table: Any) -> None:
    table.create_entity(_row("a", X=1, Y=1))
    table.update_entity(_row("a", Y=2), mode=UpdateMode.MERGE)
    assert (table.get_entity(PK, "a")["X"], table.get_entity(PK, "a")["Y"]) == (1, 2)
    table.update_entity(_row("a", Y=3), mode=UpdateMode.REPLACE)
    assert "X" not in table.get_entity(PK, "a") and table.get_entity(PK, "a")["Y"] == 3
    table.upsert_entity(_row("b", Z=1))
    table.upsert_entity(_row("b", W=1))  # merge by default
    assert table.get_entity(PK, "b")["Z"] == 1


def test_a_transaction_is_all_or_nothing_and_names_the_failed_operation(table: Any) -> None:
    table.create_entity(_row("b"))
    with pytest.raises(TableTransactionError) as raised:
        table.submit_transaction([("create", _row("a")), ("create", _row("b"))])
    assert raised.value.index == 1 and raised.value.error_code == "EntityAlreadyExists"
    assert _keys(table) == ["b"]  # "a" was not written


def test_a_stale_etag_fails_the_whole_transaction(table: Any) -> None:
    etag = table.create_entity(_row("a", N=1))["etag"]
    table.update_entity(_row("a", N=2))
    stale = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
    with pytest.raises(TableTransactionError) as raised:
        table.submit_transaction(
            [("create", _row("c")), ("update", _row("a", N=3), {"mode": "replace", **stale})]
        )
    assert raised.value.status_code == 412 and raised.value.index == 1
    assert _keys(table) == ["a"] and table.get_entity(PK, "a")["N"] == 2
    with pytest.raises(TableTransactionError) as gone:
        table.submit_transaction([("delete", _row("zz"), stale)])
    assert gone.value.status_code == 404


def test_a_transaction_holds_one_partition_and_at_most_100_operations(table: Any) -> None:
    other = {"PartitionKey": "other", "RowKey": "a"}
    with pytest.raises(ValueError, match="Partition"):
        table.submit_transaction([("create", _row("a")), ("create", other)])
    rows = [("create", _row(f"r{i:03d}")) for i in range(101)]
    # The service refuses a 101st change (a 400 inside the changeset); Azurite answers with
    # a changeset the SDK cannot parse. Either way it is an error and nothing is written.
    with pytest.raises((TableTransactionError, HTTPException)):
        table.submit_transaction(rows)
    assert _keys(table) == []
    table.submit_transaction(rows[:100])
    assert len(_keys(table)) == 100


def test_filtered_range_queries_return_key_order_and_skip_rows_without_the_property(
    table: Any,
) -> None:
    for rk, status in (("run~c", "queued"), ("run~a", "completed"), ("run~b", "queued")):
        table.create_entity(_row(rk, Status=status))
    table.create_entity(_row("run~d"))  # no Status at all
    table.create_entity(_row("active~x", Status="queued"))
    found = table.query_entities(
        "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi and Status eq @s",
        parameters={"pk": PK, "lo": "run~", "hi": "run\x7f", "s": "queued"},
        select=["RowKey"],
    )
    rows = list(found)
    assert [r["RowKey"] for r in rows] == ["run~b", "run~c"]
    assert "Status" not in rows[0] and rows[0].metadata["etag"]
