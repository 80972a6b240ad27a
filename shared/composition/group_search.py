"""The delegated group search's wiring: our API app's credential and the Entra/Graph
endpoints, read from the settings once per process and handed to the use case
(shared.api.directory), which reads no settings itself.

Apart from the read side because it reaches Graph (on behalf of the caller): an
import-linter contract keeps the read routes from importing it."""

from __future__ import annotations

from functools import lru_cache

from shared.composition.root import foundation, on_reset
from shared.group_search import GroupSearchConfig


@lru_cache(maxsize=1)
def group_search_config() -> GroupSearchConfig:
    settings = foundation().settings
    return GroupSearchConfig(
        api_client_id=settings.api_client_id,
        api_client_secret=settings.api_client_secret,
        authority_base_url=settings.graph_authority_base_url,
        graph_base_url=settings.graph_base_url,
        ca_bundle=settings.graph_ca_bundle,
    )


on_reset(group_search_config.cache_clear)
