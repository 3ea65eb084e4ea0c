"""Time formatting shared by records and reports: epoch seconds to ISO 8601 UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(ts: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 UTC string with millisecond precision; None when unknown
    or not a time a calendar can show (a damaged capture or log can hold any number)."""
    if ts is None:
        return None
    try:
        moment = datetime.fromtimestamp(ts, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
