"""Quantities in words: one set of byte units, and nouns that agree with their numbers."""

from __future__ import annotations

import pytest

from auditor.quantities import byte_size, counted, plural


@pytest.mark.parametrize("count,text", [
    (None, "?"), (0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (353307, "353.3 kB"),
    (4_500_000, "4.5 MB"), (7_200_000_000, "7.2 GB"), (12_000_000_000_000, "12000.0 GB"),
])
def test_byte_size(count: int | None, text: str) -> None:
    assert byte_size(count) == text


@pytest.mark.parametrize("count,text", [(0, "0 flows"), (1, "1 flow"), (2, "2 flows")])
def test_counted_regular(count: int, text: str) -> None:
    assert counted(count, "flow") == text


def test_counted_irregular_and_verbs() -> None:
    assert counted(1, "anomaly", "anomalies") == "1 anomaly"
    assert counted(2, "anomaly", "anomalies") == "2 anomalies"
    assert [plural(n, "was", "were") for n in (0, 1, 2)] == ["were", "was", "were"]
