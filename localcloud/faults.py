"""Fault injection: per tenant and route pattern, for the next N matching requests.

Kinds: throttle (429 + Retry-After, before any processing, as Graph documents throttled
requests: "Microsoft Graph throttling guidance"), error (500/503/504, also before
processing), after_processing (the request IS carried out, then the answer is replaced by
a 500/502/503/504: a gateway timeout after a committed write), slow (delay before
answering), malformed (invalid JSON, or a value item missing required fields),
unreachable (the server hangs up without a response).
"""

from __future__ import annotations

import fnmatch
import itertools
import threading
from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultKind = Literal["throttle", "error", "after_processing", "slow", "malformed", "unreachable"]
KINDS: tuple[str, ...] = (
    "throttle", "error", "after_processing", "slow", "malformed", "unreachable",
)  # fmt: skip
SERVER_ERRORS = (500, 502, 503, 504)
MALFORMED_MODES = ("invalid_json", "missing_fields")


@dataclass
class FaultRule:
    id: str
    kind: FaultKind
    route: str = "*"  # fnmatch pattern on the path, case-insensitive, e.g. "/v1.0/groups*"
    tenant: str | None = None  # tenant id; None = any request
    method: str | None = None  # None = any method
    remaining: int | None = 1  # None = until cleared
    status: int = 503  # for "error" and "after_processing"
    retry_after: float | None = 1  # for "throttle" (and "error" when set)
    delay: float = 0.0  # for "slow"
    mode: str = "invalid_json"  # for "malformed"
    hits: int = 0

    def matches(self, tenant: str | None, method: str, path: str) -> bool:
        if self.tenant is not None and (tenant or "").lower() != self.tenant.lower():
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(path.lower(), self.route.lower())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    """Thread-safe rule set. Each request consumes at most one rule of each kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(self, kind: str, **options: Any) -> FaultRule:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {KINDS}")
        unknown = set(options) - {
            "route", "tenant", "method", "remaining", "count", "status", "retry_after", "delay",
            "mode",
        }  # fmt: skip
        if unknown:
            raise ValueError(f"unknown fault options {sorted(unknown)}")
        if "count" in options:
            options["remaining"] = options.pop("count")
        if kind == "after_processing":
            options.setdefault("status", 504)
        if kind in ("error", "after_processing") and int(options.get("status", 503)) not in (
            SERVER_ERRORS
        ):
            raise ValueError(f"{kind} faults answer 500, 502, 503 or 504")
        if kind == "malformed" and options.get("mode", "invalid_json") not in MALFORMED_MODES:
            raise ValueError(f"malformed mode is one of {MALFORMED_MODES}")
        if kind in ("error", "after_processing") and "retry_after" not in options:
            options["retry_after"] = None
        with self._lock:
            rule = FaultRule(id=str(next(self._ids)), kind=kind, **options)  # type: ignore[arg-type]
            self._rules.append(rule)
            return rule

    def throttle(self, *, count: int | None = 1, retry_after: float = 1, **where: Any) -> FaultRule:
        return self.add("throttle", count=count, retry_after=retry_after, **where)

    def server_error(
        self, *, status: int = 503, count: int | None = 1, retry_after: float | None = None,
        **where: Any,
    ) -> FaultRule:  # fmt: skip
        return self.add("error", status=status, count=count, retry_after=retry_after, **where)

    def after_processing(
        self, *, status: int = 504, count: int | None = 1, **where: Any
    ) -> FaultRule:
        """Carry the request out, then answer `status` as if the gateway lost the answer."""
        return self.add("after_processing", status=status, count=count, **where)

    def slow(self, *, delay: float, count: int | None = None, **where: Any) -> FaultRule:
        return self.add("slow", delay=delay, count=count, **where)

    def malformed(
        self, *, mode: str = "invalid_json", count: int | None = 1, **where: Any
    ) -> FaultRule:
        return self.add("malformed", mode=mode, count=count, **where)

    def unreachable(self, *, count: int | None = 1, **where: Any) -> FaultRule:
        return self.add("unreachable", count=count, **where)

    def clear(self, rule_id: str | None = None) -> int:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if rule_id is not None and r.id != rule_id]
            return before - len(self._rules)

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def take(self, tenant: str | None, method: str, path: str) -> dict[str, FaultRule]:
        """The rules to apply to this request, by kind; consumes one use of each."""
        chosen: dict[str, FaultRule] = {}
        with self._lock:
            for rule in self._rules:
                if rule.kind in chosen or not rule.matches(tenant, method, path):
                    continue
                chosen[rule.kind] = rule
                rule.hits += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
            self._rules = [r for r in self._rules if r.remaining is None or r.remaining > 0]
        return chosen
