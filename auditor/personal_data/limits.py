"""How much of a request is scanned: bounds that keep hostile bodies from exhausting memory
or stalling the proxy. A request cut by a bound is reported as partially scanned."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScanLimits:
    """Bounds on one request's scan (documented in the README)."""

    max_body_bytes: int = 4 * 1024 * 1024  # decoded body bytes scanned (after decompression)
    max_fields: int = 20_000  # leaves of nested JSON/form structures
    max_depth: int = 8  # nesting of containers and encodings (JSON in base64 in a form ...)
    max_value_bytes: int = 256 * 1024  # one value's text


DEFAULT_LIMITS = ScanLimits()
