"""Easy Auth's principal header: a malformed one is Unauthenticated (401), never a 500."""

from __future__ import annotations

import base64
import json

import pytest

from shared.auth.errors import Unauthenticated
from shared.auth.principal import MAX_PRINCIPAL_CHARS, principal_claims


def _encoded(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@pytest.mark.parametrize(
    "encoded",
    [
        "not base64 at all!",
        _encoded(b"not json"),
        _encoded(b"[]"),
        # Deeper than json.loads can recurse, yet within the header's length limit.
        _encoded(b"[" * 20_000),
    ],
)
def test_a_malformed_principal_is_unauthenticated(encoded: str) -> None:
    assert len(encoded) <= MAX_PRINCIPAL_CHARS
    with pytest.raises(Unauthenticated):
        principal_claims(encoded)


def test_a_principal_maps_claim_types_to_names() -> None:
    body = {
        "role_typ": "roles",
        "claims": [
            {"typ": "http://schemas.microsoft.com/identity/claims/tenantid", "val": "t"},
            {"typ": "roles", "val": "Reader"},
        ],
    }
    assert principal_claims(_encoded(json.dumps(body).encode())) == {
        "tid": "t",
        "roles": ["Reader"],
    }
