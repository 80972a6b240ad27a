"""Request bodies: too deep is a 400, never a RecursionError (a 500)."""

from __future__ import annotations

import pytest

from shared.api.parsing import MAX_JSON_DEPTH, json_body
from shared.errors import InvalidRequest


def _nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def test_bodies_up_to_the_depth_limit_parse() -> None:
    assert json_body(_nested(MAX_JSON_DEPTH)) is not None
    assert json_body(b'{"a": {"b": [1, {"c": null}]}}') == {"a": {"b": [1, {"c": None}]}}


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 900, 20_000])
def test_deeper_bodies_are_invalid_requests(depth: int) -> None:
    with pytest.raises(InvalidRequest) as raised:
        json_body(_nested(depth))
    assert raised.value.http_status == 400
    assert raised.value.code == "invalid_json"
