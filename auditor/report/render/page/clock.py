"""The session's clock for report.html: times as offsets from the first flow (`+0:03.6`) and
durations in words. The timeline's scale is time_scale.py's."""

from __future__ import annotations

import math
from datetime import datetime


def parse_time(text: object) -> float | None:
    """An ISO 8601 time of a report as epoch seconds; None when missing or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def offset_text(seconds: float, precise: bool = True) -> str:
    """Seconds after the start as a clock reading: `+0:03.6` (`precise`: tenths), `+1:02:03`,
    `+1203 d 04:05`."""
    seconds = max(seconds, 0.0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 1:
        return f"+{int(days)} d {int(hours):02}:{int(minutes):02}"
    if hours >= 1:
        return f"+{int(hours)}:{int(minutes):02}:{int(secs):02}"
    if precise:
        tenths = math.floor(secs * 10) / 10
        return f"+{int(minutes)}:{tenths:04.1f}"
    return f"+{int(minutes)}:{int(secs):02}"


def duration_text(seconds: float) -> str:
    """A duration in words: `0.4 s`, `25.6 s`, `12 min 5 s`, `3 h 2 min`, `1203 days`."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
    return f"{int(seconds // 86400)} days"
