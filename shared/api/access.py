"""Authorization: who the caller is, and their role in the tenant a path names.

A caller who is not a member gets 404 for everything under the tenant (the tenant's
existence is not disclosed); a readonly member gets 403 on writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.api.parsing import tenant_path_id
from shared.api.routes import Route
from shared.auth.authenticate import Authenticator
from shared.auth.caller import Caller
from shared.auth.membership import Membership, MembershipStore
from shared.errors import Forbidden, NotFound


@dataclass(frozen=True)
class Authorized:
    """Who passed the route's auth rule. `caller` is None only on anonymous routes;
    `tenant_id` is set when the path names a tenant and the rule is member or writer."""

    caller: Caller | None
    tenant_id: str | None = None

    @property
    def user(self) -> Caller:
        if self.caller is None:  # an anonymous route asked for a caller: a wiring bug
            raise RuntimeError("this route is anonymous")
        return self.caller

    @property
    def tenant(self) -> str:
        if self.tenant_id is None:
            raise RuntimeError("this route names no tenant")
        return self.tenant_id


class Access:
    def __init__(self, authenticator: Authenticator, members: MembershipStore) -> None:
        self.authenticator = authenticator
        self.members = members

    def caller(self, headers: Mapping[str, str]) -> Caller:
        return self.authenticator.authenticate(headers)

    def member(
        self, caller: Caller, raw_tenant_id: str | None, *, write: bool = False
    ) -> Membership:
        tenant_id = tenant_path_id(raw_tenant_id)
        membership = self.members.membership(tenant_id, caller.oid)
        if membership is None:
            raise NotFound("no such tenant")
        if write and not membership.role.may_write:
            raise Forbidden(
                f"a {membership.role.value} member cannot do this",
                details={"role": membership.role.value},
            )
        return membership

    def require_membership(self, caller: Caller) -> None:
        """Some tenant's member: what a caller must be to keep anything of their own here
        (notification preferences), so a token holder of no tenant cannot write rows."""
        if not self.members.tenants_of(caller.oid):
            raise Forbidden("only members of a managed tenant can do this", code="not_a_member")

    def authorize(
        self, route: Route, headers: Mapping[str, str], route_params: Mapping[str, str]
    ) -> Authorized:
        """Apply the route's auth rule: anonymous, any caller, a member of some tenant, or
        a member (writer) of the tenant the path names."""
        if route.auth == "anonymous":
            return Authorized(None)
        caller = self.caller(headers)
        if route.auth == "caller":
            return Authorized(caller)
        if "tenant_id" not in route.path_params:
            self.require_membership(caller)
            return Authorized(caller)
        member = self.member(caller, route_params.get("tenant_id"), write=route.auth == "writer")
        return Authorized(caller, member.tenant_id)
