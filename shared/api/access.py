"""Authorization: who the caller is, and their role in the tenant a path names.

A caller who is not a member gets 404 for everything under the tenant (the tenant's
existence is not disclosed); a readonly member gets 403 on writes.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.api.parsing import tenant_path_id
from shared.auth.authenticate import Authenticator
from shared.auth.caller import Caller
from shared.auth.membership import Membership, MembershipStore
from shared.errors import Forbidden, NotFound


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
