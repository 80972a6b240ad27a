"""Routes /v1.0/... and /beta/... to the Graph handlers, behind token validation."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

from localcloud.directory import Directory
from localcloud.graph import groups, intune, mail
from localcloud.graph.auth import Principal, authenticate
from localcloud.graph.batch import run_batch
from localcloud.graph.errors import graph_error, unknown_segment
from localcloud.graph.store import COLLECTIONS, TenantStore
from localcloud.records import Records
from localcloud.tokens import TokenSigner
from localcloud.wire import Request, Response

VERSIONS = ("v1.0", "beta")
_POLICY = re.compile(
    r"^/deviceManagement/(?P<collection>[^/]+)(?:/(?P<id>[^/]+)(?:/(?P<child>[^/]+))?)?$", re.I
)
_GROUP = re.compile(r"^/groups(?:/(?P<id>[^/]+))?$", re.I)
_SEND_MAIL = re.compile(r"^/users/(?P<user>[^/]+)/sendMail$", re.I)


def _method_not_allowed() -> Response:
    return graph_error(
        405, "Request_BadRequest", "The requested HTTP method is not allowed for this resource."
    )


class GraphApi:
    def __init__(
        self,
        signer: TokenSigner,
        directory: Directory,
        stores: dict[str, TenantStore],
        records: Records,
        dispatch_inner: Callable[[Request], Response],
    ) -> None:
        self.signer = signer
        self.directory = directory
        self.stores = stores
        self.records = records
        self.dispatch_inner = dispatch_inner

    def handle(self, request: Request) -> Response:
        head, _, tail = request.path.lstrip("/").partition("/")
        version, rest = head.lower(), "/" + tail
        if version not in VERSIONS:
            return unknown_segment(head)
        principal = authenticate(request, self.signer, self.directory)
        if isinstance(principal, Response):
            return principal
        return self._route(request, version, unquote(rest.rstrip("/")) or "/", principal)

    def _route(self, request: Request, version: str, path: str, principal: Principal) -> Response:
        store = self.stores[principal.tenant.tenant_id]
        method = request.method
        if path.lower() == "/$batch":
            if method != "POST":
                return _method_not_allowed()
            return run_batch(request, version, self.dispatch_inner)
        if match := _GROUP.match(path):
            if method != "GET":
                return _method_not_allowed()
            if match["id"]:
                return groups.get_group(store, principal, request, match["id"])
            return groups.list_groups(store, principal, request)
        if match := _SEND_MAIL.match(path):
            if method != "POST":
                return _method_not_allowed()
            return mail.send_mail(self.directory, self.records, principal, request, match["user"])
        if match := _POLICY.match(path):
            return self._policies(request, version, principal, store, match)
        return unknown_segment(path.strip("/").split("/")[0] or "/")

    def _policies(
        self,
        request: Request,
        version: str,
        principal: Principal,
        store: TenantStore,
        match: re.Match[str],
    ) -> Response:
        collection = COLLECTIONS.get(match["collection"].lower())
        if collection is None or version not in collection.versions:
            return unknown_segment(match["collection"])
        policy_id, child, method = match["id"], (match["child"] or "").lower(), request.method
        if policy_id is None:
            if method == "GET":
                return intune.list_policies(store, principal, request, version, collection)
            if method == "POST":
                return intune.create_policy(store, principal, request, version, collection)
            return _method_not_allowed()
        if not child:
            if method == "GET":
                return intune.get_policy(store, principal, request, version, collection, policy_id)
            if method == "DELETE":
                return intune.delete_policy(store, principal, version, collection, policy_id)
            return _method_not_allowed()
        if child == "assign":
            if method != "POST":
                return _method_not_allowed()
            return intune.assign(store, principal, request, version, collection, policy_id)
        if child == "assignments" or (child == "settings" and collection.has_settings):
            if method != "GET":
                return _method_not_allowed()
            return intune.list_children(
                store, principal, request, version, collection, policy_id, child
            )
        return unknown_segment(match["child"])
