"""When and how long to wait before trying Graph again."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 503, 504})
# Graph throttles before doing any work ("Microsoft Graph throttling guidance": a 429
# request was not processed), so even a create may be sent again after one. A 503/504
# carries no such promise: a gateway timeout can follow a committed write.
NOT_PROCESSED_STATUSES = frozenset({429})
# Sending one of these twice leaves the same state as sending it once (RFC 9110 9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def may_resend(status: int, *, idempotent: bool) -> bool:
    """Whether an answer with `status` may be followed by the same request again."""
    return status in RETRY_STATUSES and (idempotent or status in NOT_PROCESSED_STATUSES)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = moment.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded, jittered exponential back-off that honours Retry-After.

    max_attempts counts every try (the first included). A Retry-After longer than
    max_retry_after is not slept through in-process: the caller gets the typed error at
    once (with retry_after) and the queue redelivers later.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if retry_after is not None:
            # At least what the server asked; a little spread so clients do not stampede.
            return retry_after + self.rng.uniform(0, min(1.0, 0.1 * retry_after))
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return self.rng.uniform(ceiling / 2, ceiling)

    def may_wait(self, retry_after: float | None) -> bool:
        return retry_after is None or retry_after <= self.max_retry_after
