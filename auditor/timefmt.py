"""Time formatting shared by records and reports: epoch seconds to ISO 8601 UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(ts: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 UTC string with millisecond precision."""
    if ts is None:
        return None
    moment = datetime.fromtimestamp(ts, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
