"""Who is calling and what they may do: Entra bearer tokens, App Service principals,
and tenant membership (TenantMembers and its per-member mirror)."""

from shared.auth.authenticate import Authenticator
from shared.auth.caller import Caller, CallerKind
from shared.auth.errors import Unauthenticated
from shared.auth.membership import Membership, MembershipStore, Role
from shared.auth.tokens import TokenValidator

__all__ = [
    "Authenticator",
    "Caller",
    "CallerKind",
    "Membership",
    "MembershipStore",
    "Role",
    "TokenValidator",
    "Unauthenticated",
]
