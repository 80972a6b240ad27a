"""The local Entra's signing key: issues RS256 JWTs and verifies the ones it issued."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

DEFAULT_LIFETIME = 3600


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class TokenSigner:
    """One RSA key per process start: tokens from a previous run are rejected, as after
    a key rollover in Entra."""

    def __init__(self, issuer_base: str) -> None:
        self.issuer_base = issuer_base.rstrip("/")
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self._key.public_key().public_numbers()
        self._jwk = {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }
        thumb = hashlib.sha256(json.dumps(self._jwk, sort_keys=True).encode()).digest()
        self.kid = base64.urlsafe_b64encode(thumb[:15]).decode("ascii")
        self._jwk["kid"] = self.kid

    def issuer(self, tenant_id: str) -> str:
        return f"{self.issuer_base}/{tenant_id}/v2.0"

    def jwks(self, tenant_id: str) -> dict[str, Any]:
        return {"keys": [{**self._jwk, "x5t": self.kid, "issuer": self.issuer(tenant_id)}]}

    def issue(
        self,
        tenant_id: str,
        audience: str,
        claims: dict[str, Any],
        lifetime: int = DEFAULT_LIFETIME,
        now: float | None = None,
    ) -> str:
        issued = int(time.time() if now is None else now)
        body = {
            "aud": audience,
            "iss": self.issuer(tenant_id),
            "iat": issued,
            "nbf": issued,
            "exp": issued + lifetime,
            "tid": tenant_id,
            "ver": "2.0",
            "uti": uuid.uuid4().hex[:22],
            **claims,
        }
        return jwt.encode(body, self._key, algorithm="RS256", headers={"kid": self.kid})

    def verify(self, token: str, audiences: list[str] | None = None) -> dict[str, Any]:
        """Claims of a token this signer issued. Raises jwt.PyJWTError otherwise."""
        options = {"verify_aud": audiences is not None, "require": ["exp", "iss", "tid"]}
        claims: dict[str, Any] = jwt.decode(
            token,
            self._key.public_key(),
            algorithms=["RS256"],
            audience=audiences,
            options=options,  # type: ignore[arg-type]
            leeway=30,
        )
        if claims["iss"] != self.issuer(claims["tid"]):
            raise jwt.InvalidIssuerError("issuer does not match the token's tenant")
        return claims


def unverified_tenant(token: str) -> str | None:
    """The tid claim without checking anything: only to pick the fault rules to apply."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    tid = claims.get("tid")
    return tid if isinstance(tid, str) else None
