"""The registry of run types the app offers, built from settings."""

from __future__ import annotations

from shared.operations.registry import Registry


def build_registry(*, include_diagnostics: bool) -> Registry:
    registry = Registry()
    if include_diagnostics:
        from shared.operations.diagnostics import NOOP

        registry.register(NOOP)
    return registry
