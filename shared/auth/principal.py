"""App Service Authentication ("Easy Auth") headers: the signed-in principal, as App Service
injects it after validating the token itself. Trusted only when a setting says so: without
App Service in front, any client could send these headers.

For a cookie session Azure builds the principal from the user's ID token (no `scp`). The
token store's X-MS-TOKEN-AAD-ACCESS-TOKEN is deliberately not used: on Flex Consumption
the token store is per instance, so a delegated call would work on one instance and fail
on the next. Cookie sessions are never delegated (group search answers 403
`delegated_token_required`); callers that need delegated Graph send a bearer token.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from shared.auth.caller import Caller
from shared.auth.errors import Unauthenticated
from shared.auth.tokens import caller_from_claims

PRINCIPAL_HEADER = "x-ms-client-principal"
MAX_PRINCIPAL_CHARS = 32 * 1024

# Easy Auth maps claims to long names; the short JWT names are what we read.
_CLAIM_NAMES = {
    "http://schemas.microsoft.com/identity/claims/objectidentifier": "oid",
    "http://schemas.microsoft.com/identity/claims/tenantid": "tid",
    "http://schemas.microsoft.com/identity/claims/scope": "scp",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/role": "roles",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": "sub",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "upn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": "email",
}


def principal_claims(encoded: str) -> dict[str, Any]:
    """X-MS-CLIENT-PRINCIPAL (base64 JSON {claims: [{typ, val}], role_typ, ...}) as claims."""
    if len(encoded) > MAX_PRINCIPAL_CHARS:
        raise Unauthenticated("the client principal header is too long")
    try:
        data = json.loads(base64.b64decode(encoded, validate=False))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: JSON nested deeper than the interpreter allows (a 401, not a 500).
        raise Unauthenticated("the client principal header is not base64 JSON") from None
    items = data.get("claims") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise Unauthenticated("the client principal header has no claims")
    role_type = data.get("role_typ")
    claims: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("val"), str):
            continue
        typ = str(item.get("typ", ""))
        name = "roles" if typ == role_type else _CLAIM_NAMES.get(typ, typ)
        if name == "roles":
            claims.setdefault("roles", []).append(item["val"])
        else:
            claims.setdefault(name, item["val"])
    return claims


def caller_from_principal(headers: Mapping[str, str]) -> Caller | None:
    """The caller App Service signed in, or None when the header is absent."""
    encoded = headers.get(PRINCIPAL_HEADER)
    if not encoded:
        return None
    return caller_from_claims(principal_claims(encoded), assertion=None, session=True)
