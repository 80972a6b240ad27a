"""local.settings.json and app settings, read the way Core Tools reads them.

`Values` are app settings: they go into the environment before the app is imported,
but never override a variable already set (so `FOO=x python -m devhost serve` wins,
as with `func start`). `Host` holds the local host's own options: CORS origins,
whether CORS allows credentials, and the default HTTP port.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from azure.storage.queue import QueueClient

from shared.persistence.clients import azurite_connection_string

_EXPRESSION = re.compile(r"%([^%]+)%")


class SettingsError(ValueError):
    """A setting the app names is missing or unusable."""


@dataclass(frozen=True)
class LocalSettings:
    values: Mapping[str, str] = field(default_factory=dict)
    cors_origins: tuple[str, ...] = ()
    cors_credentials: bool = False
    local_http_port: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> LocalSettings:
        raw_values = data.get("Values") or {}
        if not isinstance(raw_values, Mapping):
            raise SettingsError("local.settings.json: Values must be an object")
        # App settings are strings in Azure; Core Tools stringifies numbers and booleans.
        values = {str(k): _as_setting_string(v) for k, v in raw_values.items()}
        host = data.get("Host") or {}
        if not isinstance(host, Mapping):
            raise SettingsError("local.settings.json: Host must be an object")
        origins = tuple(
            origin.strip().rstrip("/")
            for origin in str(host.get("CORS") or "").split(",")
            if origin.strip()
        )
        port = host.get("LocalHttpPort")
        return cls(
            values=values,
            cors_origins=origins,
            cors_credentials=_as_bool(host.get("CORSCredentials", False)),
            local_http_port=int(str(port)) if port not in (None, "") else None,
        )

    @classmethod
    def load(cls, path: Path) -> LocalSettings:
        """Read the file; a missing file is an empty configuration (like Core Tools)."""
        if not path.exists():
            return cls()
        with path.open(encoding="utf-8-sig") as handle:
            data = json.load(handle)
        if not isinstance(data, Mapping):
            raise SettingsError(f"{path}: expected a JSON object")
        if data.get("IsEncrypted"):
            raise SettingsError(f"{path}: encrypted settings are not supported by devhost")
        return cls.from_dict(data)

    def apply_to(self, environ: MutableMapping[str, str]) -> list[str]:
        """Copy Values into `environ` without overriding; return the names set."""
        applied = []
        for name, value in self.values.items():
            if name not in environ:
                environ[name] = value
                applied.append(name)
        return applied


def _as_setting_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _as_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class AppSettings:
    """Where app settings are looked up: the environment first, then `Values`."""

    environ: Mapping[str, str]
    local: LocalSettings

    @classmethod
    def from_process(cls, local: LocalSettings | None = None) -> AppSettings:
        return cls(os.environ, local or LocalSettings())

    def get(self, name: str) -> str | None:
        if name in self.environ:
            return self.environ[name]
        return self.local.values.get(name)

    def resolve(self, text: str) -> str:
        """Expand `%Name%` binding expressions (queue names, schedules) like the host."""

        def substitute(match: re.Match[str]) -> str:
            value = self.get(match.group(1))
            if value is None:
                raise SettingsError(f"binding expression {match.group(0)} names no app setting")
            return value

        return _EXPRESSION.sub(substitute, text)

    def queue_connection(self, connection: str | None) -> QueueConnection:
        """The storage connection a queue binding's `connection` names, as the host reads it.

        An empty name means `AzureWebJobsStorage`. A value under the exact name (or
        `AzureWebJobs<name>`) is a connection string; otherwise the section
        `<name>__queueServiceUri` (or `__serviceUri`, or `__accountName` for the public
        cloud) makes it identity-based, with `__clientId` for a user-assigned identity.
        """
        name = connection or "AzureWebJobsStorage"
        value = self.get(name)
        if value is None:
            value = self.get(f"AzureWebJobs{name}")
        if value:
            return QueueConnection(connection_string=expand_development_storage(value))
        uri = self.get(f"{name}__queueServiceUri") or self.get(f"{name}__serviceUri")
        account = self.get(f"{name}__accountName")
        if not uri and account:
            uri = f"https://{account}.queue.core.windows.net"
        if uri:
            return QueueConnection(
                queue_service_uri=uri.rstrip("/"), client_id=self.get(f"{name}__clientId") or None
            )
        raise SettingsError(f"connection {name!r}: no app setting of that name is set")


@dataclass(frozen=True)
class QueueConnection:
    """A connection string, or a queue service URI reached with the app's identity."""

    connection_string: str = ""
    queue_service_uri: str = ""
    client_id: str | None = None

    @property
    def uses_identity(self) -> bool:
        return bool(self.queue_service_uri)

    def client(self, queue_name: str) -> QueueClient:
        # No encode/decode policy: the listener handles the wire text itself.
        if self.connection_string:
            return QueueClient.from_connection_string(self.connection_string, queue_name)
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=self.client_id)
        return QueueClient(self.queue_service_uri, queue_name, credential=credential)


def expand_development_storage(value: str) -> str:
    """Spell out `UseDevelopmentStorage=true`: the Python SDKs do not all accept it."""
    if value.strip().rstrip(";").replace(" ", "").lower() != "usedevelopmentstorage=true":
        return value
    # The development account (and its one key) is the app's: shared.persistence.clients.
    return azurite_connection_string()
