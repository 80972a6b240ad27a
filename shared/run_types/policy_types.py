"""The `policy_types` input shared by run types that read several policy kinds."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from shared.policies.kinds import ALL_KIND_NAMES, PolicyKindName

# A Graph object id: a GUID in practice; kept to key-safe characters either way.
PolicyId = Annotated[
    str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$", to_lower=True)
]
GroupId = Annotated[
    str,
    StringConstraints(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        to_lower=True,
    ),
]


def _sorted_unique(values: list[str]) -> list[str]:
    # Normalized so that the same selection in another order is the same run (identity).
    return sorted(set(values))


PolicyKinds = Annotated[
    list[PolicyKindName],
    Field(min_length=1, max_length=len(ALL_KIND_NAMES)),
    AfterValidator(_sorted_unique),
]


# Sized to keep a run's inputs well inside their 16 KiB limit (a GUID is 36 characters).
BackupPolicyIds = Annotated[
    list[PolicyId], Field(min_length=1, max_length=300), AfterValidator(_sorted_unique)
]
RestorePolicyIds = Annotated[
    list[PolicyId], Field(min_length=1, max_length=100), AfterValidator(_sorted_unique)
]
