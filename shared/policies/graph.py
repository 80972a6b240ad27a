"""Intune policy calls on Microsoft Graph for one tenant: list with assignments, complete
what a list cut short, create, find a created policy again by its marker, assign."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.graph import GraphClient, GraphMalformedResponse
from shared.policies.kinds import PolicyKind
from shared.policies.snapshot import MalformedPolicy, is_key_safe


class PolicyGraph:
    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    def pages(self, kind: PolicyKind) -> Iterator[list[Any]]:
        """Each page of a kind's policies, each with its assignments (and settings)."""
        for page in self._graph.iter_pages(
            kind.path, {"$expand": kind.expand}, version=kind.version
        ):
            yield list(page["value"])

    def complete(self, kind: PolicyKind, raw: Any) -> Any:
        """The listed policy with all of its paged child collection (the settings).

        An expanded collection in a list may stop at a page and carry a
        `settings@odata.nextLink`; `/settings` read alone pages at 25. So: follow the link,
        and if the count still disagrees with `settingCount`, read `/settings` on its own.
        A policy whose settings cannot be read in full fails, rather than being stored
        (and later restored) with settings missing.
        """
        child, count_field = kind.paged_child, kind.child_count_field
        if child is None or count_field is None or not isinstance(raw, dict):
            return raw
        policy_id = raw.get("id")
        if not is_key_safe(policy_id):
            return raw  # parse_policy names the problem
        items = raw.get(child)
        if not isinstance(items, list):
            items = []
        items = list(items)
        link = raw.get(f"{child}@odata.nextLink")
        if isinstance(link, str):
            for page in self._graph.iter_pages(link, version=kind.version):
                items.extend(page["value"])
        expected = raw.get(count_field)
        if isinstance(expected, int) and expected != len(items):
            items = list(
                self._graph.iter_items(f"{kind.path}/{policy_id}/{child}", version=kind.version)
            )
        if isinstance(expected, int) and expected != len(items):
            raise MalformedPolicy(
                f"{kind.name} {policy_id}: {count_field} is {expected} but Graph returned "
                f"{len(items)} {child}"
            )
        annotations = (f"{child}@odata.nextLink", f"{child}@odata.count")
        completed = {k: v for k, v in raw.items() if k not in annotations}
        completed[child] = items
        return completed

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
            idempotent=True,  # the set replaces the previous one: sending it twice is once
        )
