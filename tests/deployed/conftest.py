"""The app as infra/ deploys it, run locally end to end (devhost.as_deployed).

One stack for the package: its own Azurite over HTTPS that accepts only what identity-based
storage sends (bearer tokens; the app has no key), LocalCloud's App Service identity
endpoint behind azure-identity's real DefaultAzureCredential, App Service Authentication
in front (principal from the ID token), queue workers and timers on.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.stack import Stack, running_deployed_stack
from localcloud import LocalCloud
from tests.browser.conftest import browser  # noqa: F401 - Debian's Chromium, shared


@pytest.fixture(scope="package")
def deployed_cloud() -> Iterator[LocalCloud]:
    with LocalCloud.start() as instance:
        yield instance


@pytest.fixture(scope="package")
def deployed(deployed_cloud: LocalCloud) -> Iterator[Stack]:
    with running_deployed_stack(deployed_cloud, workers=True) as running:
        yield running
