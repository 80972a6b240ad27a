"""The parts of host.json a local host needs: the HTTP route prefix and queue options."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$")

# The host's own bounds (Microsoft.Azure.WebJobs.Extensions.Storage.Queues).
MAX_BATCH_SIZE = 32
MIN_POLLING_INTERVAL = 0.1


class HostConfigError(ValueError):
    """host.json asks for something the host would reject."""


def parse_timespan(text: str) -> float:
    """`[d.]hh:mm:ss[.fffffff]` (a .NET TimeSpan, as host.json writes them) -> seconds."""
    match = _TIMESPAN.match(text.strip())
    if match is None:
        raise HostConfigError(f"{text!r} is not a TimeSpan (expected hh:mm:ss)")
    days, hours, minutes, seconds, fraction = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (int(fraction.ljust(7, "0")) / 10_000_000 if fraction else 0.0)


@dataclass(frozen=True)
class QueueOptions:
    """`extensions.queues`, with the host's defaults for a single instance."""

    batch_size: int = 16
    new_batch_threshold: int = 8
    # The documented default is 1 minute, but the host uses 2 s when running locally.
    max_polling_interval: float = 2.0
    visibility_timeout: float = 0.0
    max_dequeue_count: int = 5
    message_encoding: str = "base64"

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> QueueOptions:
        batch_size = int(str(data.get("batchSize", 16)))
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise HostConfigError(f"queues.batchSize must be 1..{MAX_BATCH_SIZE}")
        # Default newBatchThreshold is N * batchSize / 2 with N = 1 instance core share.
        threshold = int(str(data.get("newBatchThreshold", batch_size // 2)))
        if threshold < 0:
            raise HostConfigError("queues.newBatchThreshold must not be negative")
        polling = parse_timespan(str(data.get("maxPollingInterval", "00:00:02")))
        if polling < MIN_POLLING_INTERVAL:
            raise HostConfigError("queues.maxPollingInterval must be at least 100 ms")
        visibility = parse_timespan(str(data.get("visibilityTimeout", "00:00:00")))
        max_dequeue = int(str(data.get("maxDequeueCount", 5)))
        if max_dequeue < 1:
            raise HostConfigError("queues.maxDequeueCount must be at least 1")
        encoding = str(data.get("messageEncoding", "base64")).lower()
        if encoding not in {"base64", "none"}:
            raise HostConfigError("queues.messageEncoding must be 'base64' or 'none'")
        return cls(batch_size, threshold, polling, visibility, max_dequeue, encoding)


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    queues: QueueOptions = field(default_factory=QueueOptions)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> HostConfig:
        extensions = _section(data, "extensions")
        http = _section(extensions, "http")
        prefix = http.get("routePrefix", "api")
        return cls(
            route_prefix=str(prefix if prefix is not None else "api").strip("/"),
            queues=QueueOptions.from_dict(_section(extensions, "queues")),
        )

    @classmethod
    def load(cls, path: Path | None) -> HostConfig:
        if path is None:
            return cls()
        with path.open(encoding="utf-8-sig") as handle:
            data = json.load(handle)
        if not isinstance(data, Mapping):
            raise HostConfigError(f"{path}: expected a JSON object")
        return cls.from_dict(data)


def _section(data: Mapping[str, object], name: str) -> Mapping[str, object]:
    value = data.get(name) or {}
    if not isinstance(value, Mapping):
        raise HostConfigError(f"host.json: {name} must be an object")
    return value
