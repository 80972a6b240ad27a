"""JSON $batch: at most 20 requests per call; inner throttling retried per request."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.graph.errors import GraphMalformedResponse
from shared.graph.retry import IDEMPOTENT_METHODS, RetryPolicy, may_resend, parse_retry_after

MAX_BATCH = 20


@dataclass(frozen=True)
class BatchRequest:
    """One inner request; url is relative to the version, e.g. "/groups?$top=5".

    dependsOn is not offered: requests are chunked and retried independently.
    """

    method: str
    url: str
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class BatchResponse:
    id: str
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


def _wire(request: BatchRequest, request_id: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": request_id,
        "method": request.method.upper(),
        "url": "/" + request.url.lstrip("/"),
    }
    headers = dict(request.headers)
    if request.body is not None:
        item["body"] = request.body
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"  # Graph requires it with a body
    if headers:
        item["headers"] = headers
    return item


def _parse(answer: dict[str, Any] | None, expected: set[str]) -> dict[str, BatchResponse]:
    items = answer.get("responses") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise GraphMalformedResponse("Graph POST /$batch: no responses list")
    parsed: dict[str, BatchResponse] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("status"), int):
            raise GraphMalformedResponse("Graph POST /$batch: malformed inner response")
        item_id = str(item.get("id"))
        raw_headers = item.get("headers")
        headers = raw_headers if isinstance(raw_headers, dict) else {}
        parsed[item_id] = BatchResponse(
            item_id, item["status"], {str(k): str(v) for k, v in headers.items()}, item.get("body")
        )
    if set(parsed) != expected:
        raise GraphMalformedResponse("Graph POST /$batch: responses do not match the requests")
    return parsed


def _may_resend(request: BatchRequest, status: int) -> bool:
    # An inner create answered 503/504 may have been done: only a 429 (or a read) is resent.
    return may_resend(status, idempotent=request.method.upper() in IDEMPOTENT_METHODS)


def run_batch(
    send: Callable[[dict[str, Any]], dict[str, Any] | None],
    requests: Sequence[BatchRequest],
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> list[BatchResponse]:
    ids = [r.id or str(i + 1) for i, r in enumerate(requests)]
    if len(set(ids)) != len(ids):
        raise ValueError("batch request ids must be unique")
    by_id = dict(zip(ids, requests, strict=True))
    results: dict[str, BatchResponse] = {}
    for start in range(0, len(ids), MAX_BATCH):
        pending = ids[start : start + MAX_BATCH]
        for attempt in range(1, policy.max_attempts + 1):
            payload = {"requests": [_wire(by_id[i], i) for i in pending]}
            results.update(_parse(send(payload), set(pending)))
            retry = [i for i in pending if _may_resend(by_id[i], results[i].status)]
            if not retry or attempt == policy.max_attempts:
                break
            waits = [parse_retry_after(results[i].header("Retry-After")) for i in retry]
            known = [w for w in waits if w is not None]
            retry_after = max(known) if known else None
            if not policy.may_wait(retry_after):
                break
            sleep(policy.delay(attempt, retry_after))
            pending = retry
    # Inner failures (including throttling that outlasted the retries) are returned, not
    # raised: each item succeeds or fails on its own.
    return [results[i] for i in ids]
