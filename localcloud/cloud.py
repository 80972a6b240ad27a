"""LocalCloud: the local Entra ID + Microsoft Graph + Teams sink, on one HTTPS port."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from localcloud import admin, teams
from localcloud.directory import Certificate, Directory
from localcloud.entra.errors import aad_error
from localcloud.entra.issuer import TokenIssuer
from localcloud.entra.metadata import jwks, openid_configuration
from localcloud.entra.token_endpoint import TokenEndpoint
from localcloud.faults import FaultRule, Faults
from localcloud.graph import errors as graph_errors
from localcloud.graph.api import VERSIONS, GraphApi
from localcloud.graph.store import seeded_stores
from localcloud.managed_identity import ManagedIdentityEndpoint
from localcloud.records import Records, SentMail, TeamsPost
from localcloud.seed import (
    API_AUDIENCE,
    API_CLIENT_ID,
    CONTOSO_TENANT_ID,
    GRAPH_RESOURCE,
    PORTAL_CLIENT_ID,
    SEED,
)
from localcloud.server import HttpsServer
from localcloud.tls import create_tls_files
from localcloud.tokens import DEFAULT_LIFETIME, TokenSigner, unverified_tenant
from localcloud.wire import Request, Response, json_response


class LocalCloud:
    """Start with LocalCloud.start(); always stop() (or use it as a context manager)."""

    def __init__(
        self, server: HttpsServer, state_dir: Path, owns_state_dir: bool, seed: str
    ) -> None:
        self._server = server
        self._state_dir = state_dir
        self._owns_state_dir = owns_state_dir
        host, port = server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        self.base_url = f"https://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"  # noqa: S104
        self.ca_path = state_dir / "ca.pem"
        self.graph_base_url = self.base_url
        self.faults = Faults()
        self.records = Records()
        self.directory = Directory()
        self.signer = TokenSigner(self.base_url)
        self.issuer = TokenIssuer(self.directory, self.signer)
        self._token_endpoint = TokenEndpoint(self.directory, self.issuer)
        self._stores = seeded_stores(seed)
        self._graph = GraphApi(self.signer, self.directory, self._stores, self.records, self._inner)
        server.base_url = self.base_url
        server.app = self.handle
        self._thread = threading.Thread(target=server.serve_forever, name="localcloud", daemon=True)
        self._stopped = False
        self._identity: ManagedIdentityEndpoint | None = None

    @classmethod
    def start(
        cls,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: str | Path | None = None,
        seed: str = SEED,
    ) -> LocalCloud:
        owns = state_dir is None
        directory = Path(tempfile.mkdtemp(prefix="localcloud-")) if owns else Path(str(state_dir))
        try:
            tls = create_tls_files(directory, extra_hosts=(host,))
            server = HttpsServer((host, port), tls.server_context())
        except BaseException:
            if owns:
                shutil.rmtree(directory, ignore_errors=True)
            raise
        cloud = cls(server, directory, owns, seed)
        cloud._thread.start()
        return cloud

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._identity is not None:
            self._identity.stop()
        self._server.close_all()
        self._thread.join(timeout=5)
        if self._owns_state_dir:
            shutil.rmtree(self._state_dir, ignore_errors=True)

    def __enter__(self) -> LocalCloud:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- addresses -------------------------------------------------------------------
    def authority(self, tenant_id: str) -> str:
        return f"{self.base_url}/{tenant_id}"

    def token_endpoint(self, tenant_id: str) -> str:
        return f"{self.base_url}/{tenant_id}/oauth2/v2.0/token"

    def teams_webhook_url(self, name: str = "runs") -> str:
        return f"{self.base_url}/teams/webhooks/{name}"

    def info(self) -> dict[str, Any]:
        """Everything a dev host needs to configure itself (fake secrets included)."""
        return {
            "base_url": self.base_url,
            "ca_path": str(self.ca_path),
            "graph_base_url": self.graph_base_url,
            "tenants": [
                {
                    "tenant_id": t.tenant_id,
                    "name": t.name,
                    "domain": t.domain,
                    "authority": self.authority(t.tenant_id),
                    "graph_apps": [
                        {"client_id": a.client_id, "client_secret": a.secret} for a in t.apps
                    ],
                }
                for t in self.directory.tenants.values()
            ],
            "users": [
                {"key": u.key, "oid": u.oid, "name": u.display_name, "upn_local": u.upn_local}
                for u in self.directory.users.values()
            ],
        }

    # ---- tokens ----------------------------------------------------------------------
    def issue_user_token(
        self,
        user: str,
        audience: str = API_AUDIENCE,
        scopes: list[str] | tuple[str, ...] = ("access_as_user",),
        tenant_id: str = CONTOSO_TENANT_ID,
        lifetime: int = DEFAULT_LIFETIME,
        client_id: str = PORTAL_CLIENT_ID,
    ) -> str:
        """A user access token (as after an interactive sign-in) for a demo user."""
        tenant = self.directory.tenants[tenant_id]
        found = self.directory.user(user, tenant)
        if found is None:
            raise KeyError(f"unknown user {user!r}")
        return self.issuer.user_token(tenant, found, audience, list(scopes), client_id, lifetime)

    def issue_id_token(
        self,
        user: str,
        client_id: str = API_CLIENT_ID,
        tenant_id: str = CONTOSO_TENANT_ID,
        nonce: str = "local",
    ) -> str:
        """The ID token of a demo user's sign-in to `client_id` (App Service Authentication
        signs users in to the API's own app registration)."""
        tenant = self.directory.tenants[tenant_id]
        found = self.directory.user(user, tenant)
        if found is None:
            raise KeyError(f"unknown user {user!r}")
        return self.issuer.id_token(tenant, found, client_id, nonce)

    def managed_identity(self, tenant_id: str = CONTOSO_TENANT_ID) -> ManagedIdentityEndpoint:
        """The App Service managed-identity endpoint of a Function App in `tenant_id`
        (plain HTTP on loopback, as on an instance); stopped with the cloud."""
        if self._identity is None:
            self._identity = ManagedIdentityEndpoint.start(self.signer, tenant_id)
        return self._identity

    def issue_app_token(
        self,
        tenant_id: str,
        audience: str = GRAPH_RESOURCE,
        roles: list[str] | tuple[str, ...] | None = None,
        client_id: str | None = None,
        lifetime: int = DEFAULT_LIFETIME,
    ) -> str:
        """An app-only token; roles default to the app's Graph application permissions."""
        tenant = self.directory.tenants[tenant_id]
        app = self.directory.app(tenant, client_id) if client_id else tenant.apps[0]
        if app is None:
            raise KeyError(f"unknown client {client_id!r} in tenant {tenant_id}")
        granted = list(app.graph_roles) if roles is None else list(roles)
        return self.issuer.app_token(tenant, app, audience, granted, lifetime=lifetime)

    def register_certificate(self, client_id: str) -> tuple[str, str]:
        """Add a certificate credential to an app; returns (private key PEM, SHA-1 thumbprint)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"localcloud {client_id}")])
        now = time.time()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(dt.datetime.fromtimestamp(now - 300, dt.UTC))
            .not_valid_after(dt.datetime.fromtimestamp(now + 86400 * 30, dt.UTC))
            .sign(key, hashes.SHA256())
        )
        thumbprint = cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - Entra's x5t is SHA-1
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.directory.add_certificate(client_id, Certificate(thumbprint, public_pem))
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        return private_pem, thumbprint

    def set_consent(self, tenant_id: str, scopes: list[str]) -> None:
        self.directory.set_consent(tenant_id, scopes)

    # ---- records ---------------------------------------------------------------------
    def token_requests(self, tenant_id: str | None = None, grant_type: str | None = None) -> int:
        return self.records.token_count(tenant_id, grant_type)

    def key_requests(self, tenant: str | None = None) -> int:
        """JWKS fetches: per tenant id, or `common`, or all when None."""
        return self.records.key_count(tenant)

    def graph_requests(
        self, tenant_id: str | None = None, path_prefix: str = "", method: str | None = None
    ) -> int:
        return self.records.graph_count(tenant_id, path_prefix, method)

    def sent_mail(self, tenant_id: str | None = None) -> list[SentMail]:
        return self.records.sent_mail(tenant_id)

    def teams_posts(self, webhook: str | None = None) -> list[TeamsPost]:
        return self.records.teams_posts(webhook)

    # ---- request pipeline --------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_admin"):
            return admin.handle(self, request)
        return self._with_faults(request, inner=False)

    def _inner(self, request: Request) -> Response:
        return self._with_faults(request, inner=True)

    def _with_faults(self, request: Request, inner: bool) -> Response:
        kind, tenant = self._classify(request)
        if kind == "entra" and request.path.endswith("/oauth2/v2.0/token"):
            # Counted before faults: a refused token request is still a request msal made.
            form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
            self.records.token_request(tenant or "", form.get("grant_type", ""))
        elif kind == "entra" and request.path.endswith("/discovery/v2.0/keys"):
            self.records.key_request(tenant or "")
        elif kind == "graph":
            self.records.graph_request(tenant or "", request.method, request.path)
        rules = self.faults.take(tenant, request.method, request.path)
        if "slow" in rules:
            time.sleep(rules["slow"].delay)
        if "unreachable" in rules:
            # Inside a $batch there is no socket to drop: Graph reports a gateway timeout.
            return graph_errors.server_error(504, None) if inner else Response(0, hang_up=True)
        if "throttle" in rules:
            return self._refuse(kind, 429, rules["throttle"])
        if "error" in rules:
            return self._refuse(kind, rules["error"].status, rules["error"])
        response = self._route(kind, request)
        if "after_processing" in rules:
            # Done, then the answer is lost on the way back: what makes a resent create
            # a duplicate. Only 2xx answers are replaced; a refusal changed nothing.
            rule = rules["after_processing"]
            if 200 <= response.status < 300:
                return self._refuse(kind, rule.status, rule)
        if "malformed" in rules:
            response = _malform(response, rules["malformed"].mode)
        return response

    def _classify(self, request: Request) -> tuple[str, str | None]:
        head = request.path.lstrip("/").split("/", 1)[0]
        if head.lower() in VERSIONS:
            bearer = (request.header("authorization") or "").partition(" ")[2].strip()
            return "graph", unverified_tenant(bearer) if bearer else None
        if head == "teams":
            return "teams", None
        tenant = self.directory.resolve_tenant(head)
        return "entra", tenant.tenant_id if tenant else head

    def _route(self, kind: str, request: Request) -> Response:
        if kind == "graph":
            return self._graph.handle(request)
        parts = request.path.strip("/").split("/")
        if kind == "teams":
            if len(parts) == 3 and parts[1] == "webhooks":
                return teams.receive(self.records, request, parts[2])
            return json_response(404, {"error": {"code": "NotFound", "message": "no such webhook"}})
        tenant_name, rest = parts[0], "/".join(parts[1:])
        tenant = self.directory.resolve_tenant(tenant_name)
        if request.method == "GET" and rest == "v2.0/.well-known/openid-configuration":
            return openid_configuration(self.base_url, self.signer, tenant, tenant_name)
        if request.method == "GET" and rest == "discovery/v2.0/keys":
            return jwks(self.signer, tenant, tenant_name)
        if request.method == "POST" and rest == "oauth2/v2.0/token":
            return self._token_endpoint.handle(request, tenant_name, self.token_endpoint)
        return json_response(
            404, {"error": "not_found", "error_description": f"No endpoint {request.path}"}
        )

    @staticmethod
    def _refuse(kind: str, status: int, rule: FaultRule) -> Response:
        headers = (
            {"Retry-After": _seconds(rule.retry_after)} if rule.retry_after is not None else {}
        )
        if kind == "graph":
            if status == 429:
                return graph_errors.throttled(rule.retry_after or 1)
            return graph_errors.server_error(status, rule.retry_after)
        if kind == "entra":
            response = aad_error(
                status,
                "temporarily_unavailable",
                50196 if status == 429 else 90055,
                "The server is temporarily unable to handle the request.",
            )
            response.headers.update(headers)
            return response
        return json_response(
            status, {"error": {"code": "Throttled" if status == 429 else "ServerError"}}, headers
        )


def _seconds(value: float | None) -> str:
    number = float(value or 0)
    return str(int(number)) if number.is_integer() else str(number)


def _malform(response: Response, mode: str) -> Response:
    if mode == "invalid_json":
        cut = response.body[: max(1, len(response.body) // 2)] if response.body else b'{"value": ['
        return Response(response.status, cut, dict(response.headers))
    try:
        body = json.loads(response.body)
    except ValueError:
        return response
    target = body["value"][0] if isinstance(body.get("value"), list) and body["value"] else body
    if isinstance(target, dict):
        for field in ("id", "displayName", "name"):
            target.pop(field, None)
    return json_response(
        response.status,
        body,
        {k: v for k, v in response.headers.items() if k.lower() != "content-type"},
    )
