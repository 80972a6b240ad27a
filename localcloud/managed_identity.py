"""The App Service managed-identity endpoint, as a Function App sees it
(learn.microsoft.com/azure/app-service/overview-managed-identity, "REST endpoint reference").

App Service gives the app two environment variables: IDENTITY_ENDPOINT (a plain-HTTP URL
on the instance, e.g. http://localhost:8081/msi/token) and IDENTITY_HEADER (a secret the
caller echoes in X-IDENTITY-HEADER, against SSRF). A token request is
`GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=<resource>[&client_id=<id>]`;
the answer is JSON `{access_token, expires_on (epoch seconds, a string), resource,
token_type, client_id}`. That is what azure-identity's ManagedIdentityCredential (through
msal's ManagedIdentityClient) sends and reads, so DefaultAzureCredential works unchanged.

The tokens are v1 Entra access tokens for the identity's service principal, as Entra
issues them to managed identities: issuer `https://sts.windows.net/{tenant}/`, audience
the resource, `idtyp: app`. Azurite's `--oauth basic` checks exactly issuer prefix,
audience and lifetime. Only resources this stand-in knows are issued; anything else is a
400 like the real endpoint's, never a token for the wrong audience.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from localcloud.tokens import TokenSigner

API_VERSION = "2019-08-01"
TOKEN_PATH = "/msi/token"  # noqa: S105 - a URL path
# The resources a Function App of this project asks for (storage; Key Vault is resolved by
# the platform, not the app). Either spelling Entra accepts for a v1 resource.
KNOWN_RESOURCES = frozenset({"https://storage.azure.com", "https://storage.azure.com/"})
LIFETIME = 24 * 3600  # managed-identity tokens live about a day


class ManagedIdentityEndpoint:
    """Start with ManagedIdentityEndpoint.start(...); stop() when done."""

    def __init__(
        self,
        server: ThreadingHTTPServer,
        signer: TokenSigner,
        tenant_id: str,
        principal_id: str,
        client_id: str,
    ) -> None:
        self._server = server
        self.signer = signer
        self.tenant_id = tenant_id
        self.principal_id = principal_id
        self.client_id = client_id
        self.header = secrets.token_hex(16)
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}{TOKEN_PATH}"
        self.issued = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=server.serve_forever, name="localcloud-mi")
        self._thread.daemon = True

    @classmethod
    def start(
        cls, signer: TokenSigner, tenant_id: str, host: str = "127.0.0.1", port: int = 0
    ) -> ManagedIdentityEndpoint:
        server = ThreadingHTTPServer((host, port), _Handler)
        server.daemon_threads = True
        # A system-assigned identity: a service principal of its own (object and app id).
        endpoint = cls(server, signer, tenant_id, str(uuid.uuid4()), str(uuid.uuid4()))
        server.endpoint = endpoint  # type: ignore[attr-defined]
        endpoint._thread.start()
        return endpoint

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def environment(self) -> dict[str, str]:
        """What App Service puts in the app's environment."""
        return {"IDENTITY_ENDPOINT": self.url, "IDENTITY_HEADER": self.header}

    def answer(self, headers: dict[str, str], target: str) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(target)
        if parts.path.rstrip("/") != TOKEN_PATH:
            return 404, {"statusCode": 404, "message": "Not found"}
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if not secrets.compare_digest(headers.get("x-identity-header", ""), self.header):
            return 401, {"statusCode": 401, "message": "X-IDENTITY-HEADER missing or wrong"}
        if query.get("api-version") != API_VERSION:
            return 400, {"statusCode": 400, "message": "api-version 2019-08-01 is required"}
        resource = query.get("resource", "")
        if not resource:
            return 400, {"statusCode": 400, "message": "resource is required"}
        if resource not in KNOWN_RESOURCES:
            return 400, {"statusCode": 400, "message": f"unknown resource {resource}"}
        wanted = query.get("client_id") or query.get("object_id") or query.get("mi_res_id")
        if wanted and wanted not in (self.client_id, self.principal_id):
            return 400, {"statusCode": 400, "message": "no such user-assigned identity"}
        now = int(time.time())
        audience = resource.rstrip("/")
        claims = {
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "ver": "1.0",
            "oid": self.principal_id,
            "sub": self.principal_id,
            "appid": self.client_id,
            "appidacr": "2",
            "idtyp": "app",
            "idp": f"https://sts.windows.net/{self.tenant_id}/",
        }
        token = self.signer.issue(self.tenant_id, audience, claims, LIFETIME, now=now)
        with self._lock:
            self.issued += 1
        return 200, {
            "access_token": token,
            "expires_on": str(now + LIFETIME),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": self.client_id,
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        endpoint: ManagedIdentityEndpoint = self.server.endpoint  # type: ignore[attr-defined]
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload = endpoint.answer(headers, self.path)
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        # The App Service endpoint answers GET only.
        body = b'{"statusCode":405,"message":"Method not allowed"}'
        self.send_response(405)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass
