"""The timeline's scale: from a time to a fraction of the track's width, with its axis labels.

A capture may hold long silences (nDPI's zoom.pcap has a flow three years after the others):
drawn to scale, everything else would collapse into a sliver. A silence of more than a minute
that takes more than half the remaining span is cut out of the scale and drawn as a marked gap.

Silences are found without keeping the flows: `Occupancy` counts them into a fixed number of
buckets over the session (where each flow starts and ends, and the exact earliest start and
latest end per bucket), so memory does not grow with the session.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from auditor.report.render.page.clock import offset_text

BUCKETS = 65536
GAP_MIN_SECONDS = 60.0
GAP_WIDTH = 0.04  # of the track, per cut silence
SEGMENT_MIN_WIDTH = 0.2  # of the track: a short stretch between silences stays readable
NICE_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
              10800, 21600, 43200, 86400, 172800, 604800)
NARROWEST_TRACK = 320.0  # pixels: the track on a 360 px screen
CHAR_WIDTH = 7.0  # pixels per character of an 11 px axis label, generously
LABEL_GAP = 8.0


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of time drawn to scale between `x0` and `x1` (fractions of the track)."""

    start: float
    end: float
    x0: float
    x1: float


@dataclass(frozen=True, slots=True)
class Tick:
    """An axis label at `x`, anchored so that it stays inside the track."""

    x: float
    text: str
    anchor: str  # start | middle | end


@dataclass(frozen=True, slots=True)
class TimeScale:
    """Time to a fraction of the timeline's width; silences cut out as gaps between segments."""

    origin: float
    segments: tuple[Segment, ...]
    gaps: tuple[tuple[float, float, float], ...]  # (x0, x1, seconds cut) of each cut silence

    def x(self, ts: float) -> float:
        """Where a time falls, 0 to 1 (inside a gap: at the gap's start)."""
        for segment in self.segments:
            if ts <= segment.end:
                if ts <= segment.start:
                    return segment.x0
                span = segment.end - segment.start
                share = (ts - segment.start) / span if span else 0.0
                return segment.x0 + share * (segment.x1 - segment.x0)
        return self.segments[-1].x1

    def ticks(self) -> list[Tick]:
        """Axis labels at round offsets from the start, and at the start of every segment
        (after a gap: always), spaced so that they cannot overlap on the narrowest track."""
        drawn = sum(s.end - s.start for s in self.segments)
        step = next((s for s in NICE_STEPS if s >= drawn / 4), NICE_STEPS[-1])
        wanted = [(segment.x0, segment.start) for segment in self.segments]
        for segment in self.segments:
            first = math.ceil((segment.start - self.origin) / step) * step + self.origin
            count = int((segment.end - first) // step) + 1 if segment.end >= first else 0
            wanted += [(self.x(first + i * step), first + i * step)
                       for i in range(min(count, 50))]
        placed: list[Tick] = []
        for x, ts in wanted:
            anchor = "start" if x < 0.08 else "end" if x > 0.92 else "middle"
            tick = Tick(x, offset_text(ts - self.origin, step < 1), anchor)
            if all(_apart(tick, other) for other in placed):
                placed.append(tick)
        return sorted(placed, key=lambda t: t.x)


class Occupancy:
    """When anything was active between `first` and `last`, counted into buckets."""

    def __init__(self, first: float, last: float, buckets: int = BUCKETS) -> None:
        self.first, self.last = first, max(last, first)
        self.buckets = buckets
        self.width = (self.last - self.first) / buckets or 1.0
        self.opened = array("i", bytes(4 * (buckets + 1)))  # +1 at a start, -1 after an end
        self.earliest = array("d", [math.inf]) * buckets
        self.latest = array("d", [-math.inf]) * buckets

    def add(self, start: float, end: float) -> None:
        """Count one flow active from `start` to `end`."""
        if not (_finite(start) and _finite(end)):
            return
        end = max(start, end)
        low, high = self._bucket(start), self._bucket(end)
        self.opened[low] += 1
        self.opened[high + 1] -= 1
        self.earliest[low] = min(self.earliest[low], start)
        self.latest[high] = max(self.latest[high], end)

    def add_times(self, times: Iterable[Sequence[object]]) -> None:
        """Count flows by their (start, end) cells as flows.csv has them (`flow_times`: a flow
        without a finite start is left out), as `add` counts each: the same buckets, in a loop
        that does not look each attribute up again."""
        first, width, buckets = self.first, self.width, self.buckets
        opened, earliest, latest = self.opened, self.earliest, self.latest
        top = buckets - 1
        for start, end in times:
            if type(start) is float and type(end) is float \
                    and start - start == 0.0 and end - end == 0.0:  # finite: the usual case
                if not end > start:  # as max(start, end)
                    end = start
            else:
                known = flow_times(start, end)
                if known is None:
                    continue
                start, end = known
            position = (start - first) / width  # as _bucket
            low = top if position >= buckets or position != position else \
                int(position) if position > 0 else 0
            position = (end - first) / width
            high = top if position >= buckets or position != position else \
                int(position) if position > 0 else 0
            opened[low] += 1
            opened[high + 1] -= 1
            if start < earliest[low]:
                earliest[low] = start
            if end > latest[high]:
                latest[high] = end

    def scale(self) -> TimeScale | None:
        """The scale for what was counted; None when nothing was."""
        # A bucket some flow was open in (a running count above 0; it never goes below, as
        # every end is counted at or after its start) belongs to a run of activity.
        active = bytes(map(bool, accumulate(self.opened[:self.buckets])))
        runs: list[tuple[float, float]] = []
        index = active.find(1)
        while index >= 0:
            stop = active.find(0, index)
            stop = stop if stop >= 0 else self.buckets
            runs.append((min(self.earliest[index:stop]), max(self.latest[index:stop])))
            index = active.find(1, stop)
        return scale_of_runs(runs) if runs else None

    def _bucket(self, ts: float) -> int:
        position = (ts - self.first) / self.width  # inf or NaN for times spanning the floats
        if position >= self.buckets or position != position:
            return self.buckets - 1
        return int(position) if position > 0 else 0


def flow_times(start: object, end: object) -> tuple[float, float] | None:
    """A flow's start and end from its cells (the end never before the start; the start when
    unknown), or None when its start is unknown or not a finite number."""
    begin = finite_number(start)
    if begin is None:
        return None
    until = finite_number(end)
    return begin, max(begin, until) if until is not None else begin


def finite_number(value: object) -> float | None:
    """A cell's value as a finite float (not a bool); None otherwise."""
    if type(value) is float:
        return value if value - value == 0.0 else None  # inf - inf and NaN are NaN
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def time_scale(intervals: list[tuple[float, float]]) -> TimeScale | None:
    """The scale for flows active over `intervals` (start, end); None without any."""
    known = [(s, e) for s, e in intervals if _finite(s) and _finite(e)]
    if not known:
        return None
    occupancy = Occupancy(min(s for s, _ in known), max(max(s, e) for s, e in known))
    for start, end in known:
        occupancy.add(start, end)
    return occupancy.scale()


def scale_of_runs(runs: list[tuple[float, float]]) -> TimeScale:
    """The scale for activity in `runs` (time order, apart): the silences between them that are
    longer than a minute and than the rest of the span are cut out, longest first."""
    origin, finish = runs[0][0], runs[-1][1]
    silences = sorted(((runs[i + 1][0] - runs[i][1], i) for i in range(len(runs) - 1)),
                      reverse=True)
    remaining = finish - origin
    cut: set[int] = set()
    for length, index in silences:
        if length < GAP_MIN_SECONDS or length <= (remaining - length):
            break
        cut.add(index)
        remaining -= length
    bounds: list[tuple[float, float]] = []
    start = origin
    for index in sorted(cut):
        bounds.append((start, runs[index][1]))
        start = runs[index + 1][0]
    bounds.append((start, finish))
    return _laid_out(origin, bounds)


def _laid_out(origin: float, bounds: list[tuple[float, float]]) -> TimeScale:
    room = 1.0 - GAP_WIDTH * (len(bounds) - 1)
    total = sum(end - start for start, end in bounds)
    least = min(SEGMENT_MIN_WIDTH, room / len(bounds))
    widths = [max((end - start) / total * room if total else room / len(bounds), least)
              for start, end in bounds]
    widths = [w * room / sum(widths) for w in widths]
    segments, gaps, x = [], [], 0.0
    for i, ((start, end), width) in enumerate(zip(bounds, widths, strict=True)):
        if i:
            gaps.append((x, x + GAP_WIDTH, start - bounds[i - 1][1]))
            x += GAP_WIDTH
        segments.append(Segment(start, end if end > start else start, x, x + width))
        x += width
    return TimeScale(origin, tuple(segments), tuple(gaps))


def _apart(a: Tick, b: Tick) -> bool:
    """Whether two labels leave room between them on a track NARROWEST_TRACK pixels wide."""
    left, right = sorted((a, b), key=lambda t: t.x)
    gap = (right.x - left.x) * NARROWEST_TRACK
    return gap >= _reach(left, "right") + _reach(right, "left") + LABEL_GAP


def _reach(tick: Tick, side: str) -> float:
    """How far a label extends from its anchor to one side, in pixels (estimated)."""
    width = len(tick.text) * CHAR_WIDTH
    if tick.anchor == "middle":
        return width / 2
    return width if (tick.anchor == "start") == (side == "right") else 0.0


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
