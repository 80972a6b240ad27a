"""What each run type is, without what it does: name, title, description, input model and
summary line. The catalogue (GET /api/operation-types) is built from these alone, so the
read side never builds Graph clients, credentials or stores to describe a run type; the
handlers (`make_<type>(deps)` in the modules beside this one) add what it does with
`<DECLARATION>.with_handler(run)`. This module must not import Graph (an import-linter
contract: the read routes cannot reach Graph)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.policies.kinds import ALL_KIND_NAMES
from shared.run_types.diagnostics import NOOP
from shared.run_types.policy_types import BackupPolicyIds, GroupId, PolicyKinds, RestorePolicyIds
from shared.runs.run_type import RunTypeDeclaration

RUN_ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"


def _policies(ids: list[Any]) -> str:
    return f"{len(ids)} {'policy' if len(ids) == 1 else 'policies'}"


# -- directory_groups.sync -----------------------------------------------------------------


class DirectoryGroupsSyncInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")


DIRECTORY_GROUPS_SYNC = RunTypeDeclaration(
    name="directory_groups.sync",
    title="Sync directory groups",
    description=(
        "Reads the tenant's Entra groups from Microsoft Graph into the directory cache "
        "that restore group mapping and group pickers use without calling Graph."
    ),
    input_model=DirectoryGroupsSyncInputs,
    summarize=lambda inputs: "all groups",
)


# -- policy.sync ---------------------------------------------------------------------------


class PolicySyncInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy_types: PolicyKinds = Field(
        default_factory=lambda: list(ALL_KIND_NAMES),
        description="Which kinds to sync (default: all three)",
    )


def summarize_policy_sync(inputs: dict[str, Any]) -> str:
    kinds = list(inputs.get("policy_types") or [])
    if not kinds or len(kinds) == len(ALL_KIND_NAMES):
        return "all policy kinds"
    return ", ".join(str(k) for k in kinds)


POLICY_SYNC = RunTypeDeclaration(
    name="policy.sync",
    title="Sync policies",
    description=(
        "Reads device configurations, compliance policies and settings catalog "
        "policies, with their assignments, into the tenant's policy inventory."
    ),
    input_model=PolicySyncInputs,
    summarize=summarize_policy_sync,
)


# -- backup.capture ------------------------------------------------------------------------


class BackupCaptureInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy_ids: BackupPolicyIds | None = Field(
        default=None, description="Only these policies (any kind); default: every policy"
    )
    label: str = Field(default="", max_length=200, description="A name for the backup set")


def summarize_backup_capture(inputs: dict[str, Any]) -> str:
    ids = inputs.get("policy_ids")
    scope = _policies(ids) if ids else "all policies"
    label = str(inputs.get("label") or "").strip()
    return f"{label} · {scope}" if label else scope


BACKUP_CAPTURE = RunTypeDeclaration(
    name="backup.capture",
    title="Capture a backup",
    description=(
        "Snapshots policies (all, or the ones named) with their assignments into a new, "
        "immutable backup set. The result names the set (backup_set_id)."
    ),
    input_model=BackupCaptureInputs,
    summarize=summarize_backup_capture,
)


# -- restore.execute -----------------------------------------------------------------------


class RestoreInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backup_set_id: str = Field(pattern=RUN_ID_PATTERN, description="The set to restore from")
    group_mapping: dict[GroupId, GroupId] = Field(
        default_factory=dict,
        max_length=150,
        description="Source group id -> target group id; unmapped groups are skipped",
    )
    policy_ids: RestorePolicyIds | None = Field(
        default=None, description="Only these source policies; default: the whole set"
    )
    dry_run: bool = Field(default=False, description="Check and count; change nothing")


def summarize_restore(inputs: dict[str, Any]) -> str:
    ids = inputs.get("policy_ids")
    parts = [
        f"from backup {str(inputs.get('backup_set_id', ''))[-8:]}",
        _policies(ids) if ids else "whole set",
    ]
    if inputs.get("group_mapping"):
        parts.append(f"{len(inputs['group_mapping'])} groups mapped")
    if inputs.get("dry_run"):
        parts.append("dry run")
    return " · ".join(parts)


RESTORE_EXECUTE = RunTypeDeclaration(
    name="restore.execute",
    title="Restore policies from a backup",
    description=(
        "Recreates the policies of a backup set in the tenant and assigns them to the "
        "target groups given by group_mapping; assignments to unmapped groups are "
        "skipped and counted. dry_run changes nothing."
    ),
    input_model=RestoreInputs,
    summarize=summarize_restore,
)


# The Intune run types, in the order the registry is built.
INTUNE = (DIRECTORY_GROUPS_SYNC, POLICY_SYNC, BACKUP_CAPTURE, RESTORE_EXECUTE)


def declared(*, include_diagnostics: bool) -> tuple[RunTypeDeclaration, ...]:
    """Every run type the app offers (as shared.run_types.catalogue registers them),
    sorted by name as the registry lists them."""
    found = [*INTUNE, NOOP] if include_diagnostics else list(INTUNE)
    return tuple(sorted(found, key=lambda d: d.name))
