"""One timeline row's traffic: the stretches its connections were open (merged as they come)
and its bytes per bin, per category, in viewBox units across the track.

A flow is placed on the track once (`placement`: where it starts and ends, and what it adds to
which bins) and then added to every row it is drawn in (`Track.place`): its organisation's
and its endpoint's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.report.render.page.time_scale import TimeScale

BINS = 200
WIDTH = 1000.0  # viewBox units across a timeline track
SPAN_MIN = 3.0  # viewBox units: an instant's connection stays visible
BIN_WIDTH = WIDTH / BINS

# Where a flow is drawn: x0, x1, and (bin, bytes) for the bins its bytes are spread over.
Placement = tuple[float, float, tuple[tuple[int, float], ...]]


def placement(start: float, end: float, size: int, scale: TimeScale) -> Placement:
    """Where a flow active from `start` to `end` with `size` bytes is drawn: its bytes spread
    over the bins under it in proportion to their overlap (one bin for a short flow)."""
    x0, x1 = scale.x(start) * WIDTH, scale.x(end) * WIDTH
    first = min(int(x0 / BIN_WIDTH), BINS - 1)
    if x1 - x0 < BIN_WIDTH:
        return x0, x1, ((first, size),)
    last = min(int(x1 / BIN_WIDTH), BINS - 1)
    cells = []
    for index in range(first, last + 1):
        overlap = min(x1, (index + 1) * BIN_WIDTH) - max(x0, index * BIN_WIDTH)
        cells.append((index, size * max(overlap, 0.0) / (x1 - x0)))
    return x0, x1, tuple(cells)


@dataclass(slots=True)
class Track:
    """What one timeline row draws: open connections per category (viewBox units), and bytes
    per bin per category."""

    spans: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    columns: dict[str, list[float]] = field(default_factory=dict)
    flows: int = 0
    size: int = 0
    first: float | None = None
    last: float | None = None

    def add(self, start: float, end: float, size: int, category: str,
            scale: TimeScale) -> None:
        """Count one flow into this row."""
        self.place(start, end, size, category, placement(start, end, size, scale))

    def place(self, start: float, end: float, size: int, category: str,
              where: Placement) -> None:
        """Count one flow into this row, drawn `where` (its placement on the scale)."""
        x0, x1, cells = where
        spans = self.spans.get(category)
        if spans is None:
            spans = self.spans[category] = []
            bins = self.columns[category] = [0.0] * BINS
        else:
            bins = self.columns[category]
        reach = x0 + SPAN_MIN
        if spans and x0 <= spans[-1][1]:  # flows mostly come in time order: merge as we go
            begin, top = spans[-1]
            if x1 > top:  # top = max(top, x1, reach), as max compares
                top = x1
            if reach > top:
                top = reach
            spans[-1] = (begin, top)
        else:
            spans.append((x0, max(x1, reach)))
        if len(cells) == 1:
            index, amount = cells[0]
            bins[index] += amount
        else:
            for index, amount in cells:
                bins[index] += amount
        self.flows += 1
        self.size += size
        if self.first is None or start < self.first:
            self.first = start
        if self.last is None or end > self.last:
            self.last = end

    def peak(self) -> float:
        """The largest column of the row."""
        return max((max(b) for b in self.columns.values()), default=0.0)
