"""The registry of run types the app offers, built from settings: each declaration
(shared.run_types.declarations) with its handler. The catalogue route reads the
declarations alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.runs.run_type import Registry

if TYPE_CHECKING:
    from shared.run_types.run_type_deps import RunTypeDeps


def build_registry(*, include_diagnostics: bool, deps: RunTypeDeps | None = None) -> Registry:
    """Every run type. The Intune types need their dependencies (Graph, stores); without
    `deps` (tools that only need the diagnostics type) they are left out."""
    registry = Registry()
    if deps is not None:
        from shared.run_types.backup_capture import make_backup_capture
        from shared.run_types.directory_groups_sync import make_directory_groups_sync
        from shared.run_types.policy_sync import make_policy_sync
        from shared.run_types.restore_execute import make_restore_execute

        for make in (
            make_directory_groups_sync,
            make_policy_sync,
            make_backup_capture,
            make_restore_execute,
        ):
            registry.register(make(deps))
    if include_diagnostics:
        from shared.run_types.diagnostics import NOOP

        registry.register(NOOP)
    return registry
