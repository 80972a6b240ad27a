"""A small in-memory cache of on-behalf-of tokens.

msal 1.39's acquire_token_on_behalf_of always asks Entra; Microsoft's guidance is that
the middle tier caches per incoming assertion. Keys hold a hash of the assertion, never
the assertion itself.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

# Renew a little before expiry so a token never dies mid-request.
EXPIRY_MARGIN = 300.0


class OboCache:
    def __init__(self, capacity: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self._capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()

    @staticmethod
    def key(app_key: Sequence[str], assertion: str, scopes: Sequence[str]) -> str:
        raw = "\x1f".join([*app_key, assertion, *sorted(scopes)])
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            token, expires_at = entry
            if expires_at <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return token

    def put(self, key: str, token: str, expires_in: float) -> None:
        lifetime = expires_in - EXPIRY_MARGIN
        if lifetime <= 0:
            return
        with self._lock:
            self._entries[key] = (token, self._clock() + lifetime)
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
