"""How times go on the wire: annotated `datetime` types for the response models.

Each serializes the datetime the use case hands over (never a preformatted string), so
the format is decided here and nowhere else. The OpenAPI document still says
`string`/`date-time` for all three.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import PlainSerializer, WithJsonSchema

_DATE_TIME = WithJsonSchema({"format": "date-time", "type": "string"}, mode="serialization")


def rfc3339(value: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and `Z`; a naive time is UTC (how rows hold it)."""
    # On the list path this runs four times per run: skip the conversion when the time
    # is already UTC (rows and the clock give that), then cut the "+00:00" off.
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"


def _isoformat(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _seconds(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def _wire(format_time: Callable[[datetime], str]) -> Any:
    return PlainSerializer(format_time, return_type=str, when_used="json")


# Runs, the monitoring summaries, the group mapping: `2025-03-01T12:00:00.123Z`.
UtcMillis = Annotated[datetime, _wire(rfc3339), _DATE_TIME]
# Notifications as they always went out: Python's isoformat (microseconds when there are
# any) with `Z`. Kept so clients see no change; new fields use UtcMillis.
UtcIsoformat = Annotated[datetime, _wire(_isoformat), _DATE_TIME]
# The queue measurement, whole seconds: `2025-03-01T12:00:00Z`.
UtcSeconds = Annotated[datetime, _wire(_seconds), _DATE_TIME]
