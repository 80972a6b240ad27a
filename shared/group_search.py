"""Delegated group search: Graph `/groups?$search=` on behalf of the calling user.

The caller's own API token is exchanged (msal on-behalf-of, our API app's credential)
for a Graph token in the *managed* tenant, so Graph applies the user's own rights there.
App-only callers have no user to act for; they, and users whose token cannot be
exchanged (no consent, not a user of that tenant), get DelegatedTokenUnavailable (403
`delegated_token_required`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.auth.caller import Caller
from shared.graph import (
    DelegatedTokenUnavailable,
    GraphClient,
    GraphCredentials,
    MsalApps,
    acquire_on_behalf_of,
)

# Least privilege for listing groups with delegated access.
GROUP_SEARCH_SCOPES = ("https://graph.microsoft.com/GroupMember.Read.All",)
_SEARCH_UNSAFE = str.maketrans({'"': " ", "\\": " "})


@dataclass(frozen=True)
class GroupSearchConfig:
    api_client_id: str
    api_client_secret: str
    authority_base_url: str
    graph_base_url: str
    ca_bundle: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.api_client_id and self.api_client_secret)


def search_expression(term: str) -> str:
    """`"displayName:term"`: quotes and backslashes would end the clause early."""
    cleaned = " ".join(term.translate(_SEARCH_UNSAFE).split())
    return f'"displayName:{cleaned}"'


def search_groups(
    config: GroupSearchConfig,
    caller: Caller,
    tenant_id: str,
    term: str,
    *,
    top: int = 25,
    apps: MsalApps | None = None,
) -> list[dict[str, Any]]:
    """`[{"id", "display_name"}]` of the tenant's groups whose display name matches."""
    if not caller.is_delegated or caller.delegated_assertion is None:
        raise DelegatedTokenUnavailable(
            "group search acts on behalf of a signed-in user; this caller has no user token",
            reason="not_delegated",
        )
    if not config.configured:
        raise DelegatedTokenUnavailable(
            "on-behalf-of is not configured for this API", reason="not_configured"
        )
    credentials = GraphCredentials(
        tenant_id=tenant_id,
        client_id=config.api_client_id,
        client_secret=config.api_client_secret,
        authority_base_url=config.authority_base_url,
        graph_base_url=config.graph_base_url,
        ca_bundle=config.ca_bundle,
    )
    token = acquire_on_behalf_of(credentials, caller.delegated_assertion, GROUP_SEARCH_SCOPES, apps)
    with GraphClient.delegated(credentials, token, apps=apps) as graph:
        page = graph.get(
            "/groups",
            params={
                "$search": search_expression(term),
                "$select": "id,displayName",
                "$top": top,
            },
            headers={"ConsistencyLevel": "eventual"},
        )
    value = page.get("value")
    items: list[Any] = value if isinstance(value, list) else []
    return [
        {"id": str(g.get("id", "")), "display_name": str(g.get("displayName") or "")}
        for g in items
        if isinstance(g, dict) and g.get("id")
    ]
