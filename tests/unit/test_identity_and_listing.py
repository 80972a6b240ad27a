from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import InvalidRequest
from shared.runs import identity
from shared.runs.listing import decode_cursor, encode_cursor

T0 = datetime(2026, 11, 27, tzinfo=UTC)


def test_run_ids_sort_by_time_and_row_keys_sort_newest_first() -> None:
    ids = [identity.new_run_id(T0 + timedelta(milliseconds=i)) for i in range(0, 5000, 7)]
    assert ids == sorted(ids)
    keys = [identity.run_row_key(i) for i in ids]
    assert keys == sorted(keys, reverse=True)


def test_row_key_and_run_id_map_both_ways() -> None:
    run_id = identity.new_run_id(T0)
    assert identity.is_run_id(run_id)
    assert identity.run_id_from_row_key(identity.run_row_key(run_id)) == run_id
    with pytest.raises(ValueError):
        identity.run_id_from_row_key("active~abc")


def test_identity_hash_ignores_key_order_and_depends_on_tenant_type_inputs() -> None:
    a = identity.identity_hash("t1", "x", {"a": 1, "b": [1, 2]})
    assert a == identity.identity_hash("t1", "x", {"b": [1, 2], "a": 1})
    assert a != identity.identity_hash("t2", "x", {"a": 1, "b": [1, 2]})
    assert a != identity.identity_hash("t1", "y", {"a": 1, "b": [1, 2]})
    assert a != identity.identity_hash("t1", "x", {"a": 2, "b": [1, 2]})
    assert len(a) == 64


def test_tenant_ids_are_lower_case_guids() -> None:
    assert (
        identity.normalize_tenant_id(" 0E5B1D9A-1111-4A7B-9C3D-2E6F7A8B9C0D ")
        == "0e5b1d9a-1111-4a7b-9c3d-2e6f7a8b9c0d"
    )
    assert identity.normalize_tenant_id("contoso") is None
    assert identity.normalize_tenant_id("' or PartitionKey ne '") is None


def test_cursor_round_trip_and_rejection() -> None:
    key = identity.run_row_key(identity.new_run_id(T0))
    assert decode_cursor(encode_cursor(key)) == key
    for bad in ("", "!!!", encode_cursor("active~x"), "eyJhZnRlciI6IDF9"):
        with pytest.raises(InvalidRequest):
            decode_cursor(bad)
