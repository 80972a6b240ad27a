"""Intune policy calls on Microsoft Graph for one tenant: list with assignments, create,
find a created policy again by its marker, assign."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.graph import GraphClient, GraphMalformedResponse
from shared.policies.kinds import PolicyKind


class PolicyGraph:
    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    def pages(self, kind: PolicyKind) -> Iterator[list[Any]]:
        """Each page of a kind's policies, each with its assignments (and settings)."""
        for page in self._graph.iter_pages(
            kind.path, {"$expand": kind.expand}, version=kind.version
        ):
            yield list(page["value"])

    def create(self, kind: PolicyKind, body: dict[str, Any]) -> str:
        created = self._graph.post(kind.path, json=body, version=kind.version)
        policy_id = created.get("id") if created else None
        if not isinstance(policy_id, str) or not policy_id:
            raise GraphMalformedResponse(f"Graph POST {kind.path}: created policy has no id")
        return policy_id

    def find_by_marker(self, kind: PolicyKind, marker: str) -> str | None:
        """The id of the policy whose description carries `marker`, if one exists.

        Used when a create's outcome is unknown (the answer was lost): looking before
        creating again is what keeps a restore from making a second copy.
        """
        select = f"id,{kind.name_field},description"
        for policy in self._graph.iter_items(kind.path, {"$select": select}, version=kind.version):
            description = policy.get("description")
            if isinstance(description, str) and marker in description:
                policy_id = policy.get("id")
                return policy_id if isinstance(policy_id, str) else None
        return None

    def assign(self, kind: PolicyKind, policy_id: str, assignments: list[dict[str, Any]]) -> None:
        """Replaces the policy's assignments (so assigning again is harmless)."""
        self._graph.post(
            f"{kind.path}/{policy_id}/assign",
            json={"assignments": assignments},
            version=kind.version,
        )
