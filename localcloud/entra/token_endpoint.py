"""POST /{tenant}/oauth2/v2.0/token: client credentials and on-behalf-of
(learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow,
learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow)."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote_plus

import jwt

from localcloud.directory import Directory
from localcloud.entra.errors import aad_error, missing_parameter, tenant_not_found
from localcloud.entra.issuer import TokenIssuer
from localcloud.seed import API_APP, GRAPH_APP_ID, GRAPH_RESOURCE, App, Tenant
from localcloud.tokens import DEFAULT_LIFETIME
from localcloud.wire import Request, Response, json_response

CLIENT_CREDENTIALS = "client_credentials"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
RESERVED_SCOPES = {"openid", "profile", "offline_access", "email"}
GRAPH_NAMES = (GRAPH_RESOURCE, GRAPH_APP_ID, "https://graph.microsoft.com/")


class TokenEndpoint:
    def __init__(self, directory: Directory, issuer: TokenIssuer) -> None:
        self.directory = directory
        self.issuer = issuer

    def handle(
        self, request: Request, tenant_name: str, token_url_for: Callable[[str], str]
    ) -> Response:
        tenant = self.directory.resolve_tenant(tenant_name)
        if tenant is None:
            return tenant_not_found(tenant_name)
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        grant = form.get("grant_type", "")
        if not grant:
            return missing_parameter("grant_type")
        # A client assertion's audience is the token endpoint msal read from our metadata.
        client = self._authenticate(request, form, tenant, token_url_for(tenant.tenant_id))
        if isinstance(client, Response):
            return client
        app, by_certificate = client
        if grant == CLIENT_CREDENTIALS:
            return self._client_credentials(form, tenant, app, by_certificate)
        if grant == JWT_BEARER:
            return self._on_behalf_of(form, tenant, app)
        return aad_error(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant}'.",
        )

    def _authenticate(
        self, request: Request, form: dict[str, str], tenant: Tenant, token_url: str
    ) -> tuple[App, bool] | Response:
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        basic = request.header("authorization") or ""
        if basic.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(basic[6:]).decode("utf-8")
            except ValueError:
                return aad_error(401, "invalid_client", 7000216, "Malformed basic credentials.")
            user, _, password = decoded.partition(":")
            client_id, secret = unquote_plus(user), unquote_plus(password)
        if not client_id:
            return missing_parameter("client_id")
        app = self.directory.app(tenant, client_id)
        if app is None:
            return aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant.name}'. This can happen if the application has not been installed "
                "by the administrator of the tenant or consented to by any user in the tenant.",
            )
        assertion = form.get("client_assertion")
        if assertion:
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                return missing_parameter("client_assertion_type")
            if not self._assertion_valid(app, assertion, token_url):
                return aad_error(
                    401,
                    "invalid_client",
                    700027,
                    "Client assertion failed signature validation.",
                )
            return app, True
        if secret is None:
            return aad_error(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'.",
            )
        if not hmac.compare_digest(secret.encode(), app.secret.encode()):
            return aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                f"is the client secret value, not the client secret ID, for a secret added to "
                f"app '{app.client_id}'.",
            )
        return app, False

    def _assertion_valid(self, app: App, assertion: str, token_url: str) -> bool:
        try:
            header = jwt.get_unverified_header(assertion)
            x5t = header.get("x5t")
            if not isinstance(x5t, str):
                return False
            thumb = base64.urlsafe_b64decode(x5t + "=" * (-len(x5t) % 4)).hex().upper()
            certificate = self.directory.certificate(app.client_id, thumb)
            if certificate is None:
                return False
            claims = jwt.decode(
                assertion,
                certificate.public_key_pem,
                algorithms=["RS256", "PS256"],
                audience=token_url,
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except (jwt.PyJWTError, ValueError):
            return False
        return bool(claims["iss"] == claims["sub"] == app.client_id)

    def _client_credentials(
        self, form: dict[str, str], tenant: Tenant, app: App, by_certificate: bool
    ) -> Response:
        scopes = form.get("scope", "").split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return aad_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {' '.join(scopes)} is not valid. Client "
                "credential flows must have a scope value with /.default suffixed to the "
                "resource identifier (application ID URI).",
            )
        resource = scopes[0].removesuffix("/.default")
        if resource in GRAPH_NAMES:
            audience, roles = GRAPH_RESOURCE, list(app.graph_roles)
        elif resource in API_APP.identifier_uris:
            audience, roles = resource, list(app.api_roles)
        else:
            return aad_error(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {resource} was not found in the tenant named "
                f"{tenant.name}.",
            )
        token = self.issuer.app_token(tenant, app, audience, roles, certificate=by_certificate)
        return json_response(
            200,
            {
                "token_type": "Bearer",
                "expires_in": DEFAULT_LIFETIME - 1,
                "ext_expires_in": DEFAULT_LIFETIME - 1,
                "access_token": token,
            },
        )

    def _on_behalf_of(self, form: dict[str, str], tenant: Tenant, app: App) -> Response:
        if form.get("requested_token_use") != "on_behalf_of":
            return missing_parameter("requested_token_use")
        if not app.supports_obo:
            return aad_error(
                400,
                "unauthorized_client",
                70001,
                f"The application '{app.display_name}' is not allowed to use on-behalf-of.",
            )
        assertion = form.get("assertion")
        if not assertion:
            return missing_parameter("assertion")
        try:
            claims = self.issuer.signer.verify(assertion, audiences=list(app.identifier_uris))
        except jwt.ExpiredSignatureError:
            return aad_error(
                400, "invalid_grant", 500133, "Assertion is not within its valid time range."
            )
        except jwt.InvalidAudienceError:
            return aad_error(
                400,
                "invalid_grant",
                50013,
                "Assertion audience does not match the Client app presenting the assertion.",
            )
        except jwt.PyJWTError:
            return aad_error(400, "invalid_grant", 50013, "Assertion failed signature validation.")
        if "scp" not in claims or "oid" not in claims:
            return aad_error(
                400, "invalid_grant", 50013, "Assertion is not a delegated (user) token."
            )
        user = self.directory.user(str(claims["oid"]), tenant)
        if user is None:
            return aad_error(
                400,
                "invalid_grant",
                50020,
                f"User account from identity provider does not exist in tenant '{tenant.name}'.",
            )
        requested = [s for s in form.get("scope", "").split() if s not in RESERVED_SCOPES]
        names: list[str] = []
        for scope in requested:
            resource, _, name = scope.rpartition("/")
            if resource and resource not in GRAPH_NAMES:
                return aad_error(
                    400,
                    "invalid_scope",
                    70011,
                    f"The provided value for scope {scope} is not valid.",
                )
            names.append(name)
        if not names:
            return missing_parameter("scope")
        consented = self.directory.consented_scopes(tenant.tenant_id)
        if names == [".default"]:
            names = sorted(consented)
        if not names or not set(names) <= consented:
            return aad_error(
                400,
                "invalid_grant",
                65001,
                f"The user or administrator has not consented to use the application with ID "
                f"'{app.client_id}' named '{app.display_name}'. Send an interactive "
                "authorization request for this user and resource.",
                suberror="consent_required",
            )
        token = self.issuer.user_token(tenant, user, GRAPH_RESOURCE, names, app.client_id)
        return json_response(
            200,
            {
                "token_type": "Bearer",
                # Echo the requested scopes: msal files the token under them in its cache.
                "scope": " ".join(requested),
                "expires_in": DEFAULT_LIFETIME - 1,
                "ext_expires_in": DEFAULT_LIFETIME - 1,
                "access_token": token,
            },
        )
