"""How times go on the wire: annotated `datetime` types for the response models.

Each serializes the datetime the use case hands over (never a preformatted string), so
the format is decided here and nowhere else. The OpenAPI document says
`string`/`date-time`.
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


def _wire(format_time: Callable[[datetime], str]) -> Any:
    return PlainSerializer(format_time, return_type=str, when_used="json")


# Every time in every body: `2025-03-01T12:00:00.123Z`, one format for clients to parse.
UtcMillis = Annotated[datetime, _wire(rfc3339), _DATE_TIME]
