"""The caller of an API request, as established by shared.auth.authenticate."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from shared.runs.model import Initiator


class CallerKind(StrEnum):
    """How the caller signed in."""

    USER = "user"
    """A person, with a delegated token (`scp`): their token may be exchanged on-behalf-of."""
    APP = "app"
    """An application acting as itself (`roles`, no `scp`): no delegated Graph access."""


@dataclass(frozen=True)
class Caller:
    oid: str
    kind: CallerKind
    name: str = ""
    username: str | None = None  # preferred_username (a UPN or email) when the token has one
    home_tenant_id: str | None = None
    scopes: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    # The raw user token, kept only as the on-behalf-of assertion. Never logged or stored.
    delegated_assertion: str | None = field(default=None, repr=False, compare=False)

    @property
    def is_delegated(self) -> bool:
        return self.kind is CallerKind.USER and bool(self.delegated_assertion)

    @property
    def initiator(self) -> Initiator:
        """Who a run started by this caller names as its initiator."""
        return Initiator(
            id=self.oid,
            name=self.name or self.username or self.oid,
            email=self.username if self.kind is CallerKind.USER else None,
            kind=self.kind.value,
        )
