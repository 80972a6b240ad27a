"""End-to-end over real HTTP: the app in DevHost (loopback), the session's Azurite, and a
LocalCloud for Entra (tokens, JWKS, on-behalf-of) and Graph.

One host (HTTP only, no queue workers: runs stay queued, so dedup is observable) serves
the package. Contoso and Fabrikam are the LocalCloud tenants; memberships are seeded as
`make dev` seeds them. Tests that need a clean partition grant themselves a fresh tenant.
The building blocks live in devstack/stack.py (the browser tests use them too).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from devstack.azurite import Azurite
from devstack.stack import OIDS, ROOT, SEEDED_ROLES, Stack, reset_caches, running_stack
from localcloud import LocalCloud

__all__ = ["OIDS", "ROOT", "SEEDED_ROLES", "Call", "Stack", "reset_caches"]


@pytest.fixture(scope="package")
def e2e_cloud() -> Iterator[LocalCloud]:
    with LocalCloud.start() as instance:
        yield instance


@pytest.fixture(scope="package")
def stack(azurite: Azurite, e2e_cloud: LocalCloud) -> Iterator[Stack]:
    with running_stack(azurite, e2e_cloud, workers=False) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_cloud(e2e_cloud: LocalCloud) -> Iterator[None]:
    e2e_cloud.faults.clear()
    yield
    e2e_cloud.faults.clear()


@pytest.fixture
def label() -> str:
    """A unique noop label: a start that must not dedupe against other tests' runs."""
    return f"t-{uuid.uuid4().hex[:12]}"


Call = Callable[..., httpx.Response]
