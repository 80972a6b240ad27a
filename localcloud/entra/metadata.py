"""OpenID configuration and signing keys, per tenant
(learn.microsoft.com/entra/identity-platform/v2-protocols-oidc)."""

from __future__ import annotations

from localcloud.entra.errors import tenant_not_found
from localcloud.seed import Tenant
from localcloud.tokens import TokenSigner
from localcloud.wire import Response, json_response


def openid_configuration(
    base_url: str, signer: TokenSigner, tenant: Tenant | None, name: str
) -> Response:
    if tenant is None:
        return tenant_not_found(name)
    root = f"{base_url}/{tenant.tenant_id}"
    return json_response(
        200,
        {
            "issuer": signer.issuer(tenant.tenant_id),
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
            "jwks_uri": f"{root}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nbf",
                "name",
                "oid",
                "tid",
                "preferred_username",
                "roles",
                "scp",
            ],
            "request_uri_parameter_supported": False,
            "tenant_region_scope": "EU",
            "cloud_instance_name": "localcloud",
            "cloud_graph_host_name": "graph.windows.net",
            # Graph lives on this same host in the local cloud.
            "msgraph_host": base_url.split("://", 1)[1],
        },
    )


# Entra serves the keys of every tenant without its own signing keys at the multi-tenant
# authorities too; their `issuer` is a template, since the tenant is only known per token.
MULTI_TENANT_AUTHORITIES = ("common", "organizations")
TENANT_ID_TEMPLATE = "{tenantid}"


def jwks(signer: TokenSigner, tenant: Tenant | None, name: str) -> Response:
    if tenant is None and name.lower() in MULTI_TENANT_AUTHORITIES:
        return json_response(200, signer.jwks(TENANT_ID_TEMPLATE))
    if tenant is None:
        return tenant_not_found(name)
    return json_response(200, signer.jwks(tenant.tenant_id))
