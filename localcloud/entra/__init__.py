"""The local Entra ID: OIDC metadata, JWKS and the v2.0 token endpoint."""
