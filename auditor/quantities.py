"""Quantities in words, for every sentence vcaudit writes (terminal, report.md, report.html and
the readable notes inside report.json): byte sizes in one set of units, and counted nouns with
the right number. Machine fields (report.json numbers, CSV cells) keep raw integers.
"""

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


def plural(count: int, noun: str, many: str | None = None) -> str:
    """The noun in the number `count` asks for: `flow` for 1, `flows` (or `many`) otherwise."""
    if count == 1:
        return noun
    return many if many is not None else noun + "s"


def counted(count: int, noun: str, many: str | None = None) -> str:
    """`1 flow`, `2 flows`, `0 flows`; `many` for irregular plurals (`1 anomaly`, `3 anomalies`)."""
    return f"{count} {plural(count, noun, many)}"

