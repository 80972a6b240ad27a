"""What the local cloud saw: token requests, Graph requests, sent mail, Teams posts."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class SentMail:
    tenant_id: str
    sender: str  # the UPN or id in the URL
    message: dict[str, Any]
    save_to_sent_items: bool
    received_at: float


@dataclass(frozen=True)
class TeamsPost:
    webhook: str
    body: dict[str, Any]
    received_at: float


class Records:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: Counter[tuple[str, str]] = Counter()
        self._graph: Counter[tuple[str, str, str]] = Counter()
        self._keys: Counter[str] = Counter()
        self._mail: list[SentMail] = []
        self._teams: list[TeamsPost] = []

    def token_request(self, tenant: str, grant_type: str) -> None:
        with self._lock:
            self._tokens[(tenant, grant_type)] += 1

    def graph_request(self, tenant: str, method: str, path: str) -> None:
        with self._lock:
            self._graph[(tenant, method, path)] += 1

    def key_request(self, tenant: str) -> None:
        with self._lock:
            self._keys[tenant] += 1

    def key_count(self, tenant: str | None = None) -> int:
        """Signing-key (JWKS) fetches, for one authority path segment or all."""
        with self._lock:
            return sum(n for t, n in self._keys.items() if tenant is None or t == tenant)

    def mail(self, tenant_id: str, sender: str, message: dict[str, Any], save: bool) -> None:
        with self._lock:
            self._mail.append(SentMail(tenant_id, sender, message, save, time.time()))

    def teams(self, webhook: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._teams.append(TeamsPost(webhook, body, time.time()))

    def token_count(self, tenant: str | None = None, grant_type: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (t, g), n in self._tokens.items()
                if (tenant is None or t == tenant) and (grant_type is None or g == grant_type)
            )

    def graph_count(
        self, tenant: str | None = None, path_prefix: str = "", method: str | None = None
    ) -> int:
        with self._lock:
            return sum(
                n
                for (t, m, p), n in self._graph.items()
                if (tenant is None or t == tenant)
                and (method is None or m == method.upper())
                and p.lower().startswith(path_prefix.lower())
            )

    def sent_mail(self, tenant_id: str | None = None) -> list[SentMail]:
        with self._lock:
            return [m for m in self._mail if tenant_id is None or m.tenant_id == tenant_id]

    def teams_posts(self, webhook: str | None = None) -> list[TeamsPost]:
        with self._lock:
            return [p for p in self._teams if webhook is None or p.webhook == webhook]

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._graph.clear()
            self._mail.clear()
            self._teams.clear()

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "token_requests": [
                    {"tenant": t, "grant_type": g, "count": n} for (t, g), n in self._tokens.items()
                ],
                "graph_requests": [
                    {"tenant": t, "method": m, "path": p, "count": n}
                    for (t, m, p), n in self._graph.items()
                ],
                "sent_mail": len(self._mail),
                "teams_posts": len(self._teams),
            }

    def mail_json(self) -> list[dict[str, Any]]:
        return [asdict(m) for m in self.sent_mail()]

    def teams_json(self) -> list[dict[str, Any]]:
        return [asdict(p) for p in self.teams_posts()]
