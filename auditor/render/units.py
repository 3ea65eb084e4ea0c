"""Human-readable quantities for reports and the terminal."""

from __future__ import annotations


def byte_size(count: int | float | None) -> str:
    """Bytes in decimal units: 950 B, 12.3 kB, 4.5 MB; "?" when unknown (e.g. a request that
    got no response)."""
    if count is None:
        return "?"
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")
