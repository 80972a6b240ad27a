"""Turning path segments, query strings and bodies into validated values (or AppErrors).

Malformed input is never a 500: bad JSON is 400, a body over MAX_BODY_BYTES is 413, a
schema violation is 422 naming the failing fields, an id that cannot exist is 404.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shared.errors import InputInvalid, InvalidRequest, NotFound, PayloadTooLarge
from shared.runs.identity import is_run_id, normalize_tenant_id

MAX_BODY_BYTES = 64 * 1024
# No body of this API needs more; deeper ones could exhaust the recursion limit later on
# (json.loads itself raises RecursionError near 1,000 levels).
MAX_JSON_DEPTH = 64

Model = TypeVar("Model", bound=BaseModel)


def tenant_path_id(raw: str | None) -> str:
    """A tenant id from the path; anything but a GUID cannot be a tenant: 404."""
    tenant_id = normalize_tenant_id(raw or "")
    if tenant_id is None:
        raise NotFound("no such tenant")
    return tenant_id


def run_path_id(raw: str | None) -> str:
    if not raw or not is_run_id(raw):
        raise NotFound("no such run in this tenant")
    return raw


def field_errors(error: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    return [
        {
            "field": prefix + (".".join(str(p) for p in e["loc"]) or "body"),
            "message": e["msg"],
        }
        for e in error.errors(include_input=False, include_url=False)
    ]


def json_body(body: bytes) -> Any:
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"the request body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}",
            details={"limit": MAX_BODY_BYTES},
        )
    if not body.strip():
        raise InvalidRequest("a JSON body is required", code="invalid_json")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("the body is not valid JSON", code="invalid_json") from None
    except RecursionError:
        data = None  # deeper than the interpreter's limit: certainly too deep
    else:
        if _depth_within(data, MAX_JSON_DEPTH):
            return data
    raise InvalidRequest(
        f"the body is nested more than {MAX_JSON_DEPTH} levels deep",
        code="invalid_json",
        details={"max_depth": MAX_JSON_DEPTH},
    )


def _depth_within(data: Any, limit: int) -> bool:
    """Whether no array or object in `data` is nested deeper than `limit` (iteratively)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


def parse_body(body: bytes, model: type[Model]) -> Model:
    data = json_body(body)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InputInvalid("the request body is not valid", details=field_errors(error)) from None


def parse_query(params: Mapping[str, str], model: type[Model]) -> Model:
    try:
        return model.model_validate(dict(params))
    except ValidationError as error:
        raise InputInvalid("the query is not valid", details=field_errors(error)) from None
