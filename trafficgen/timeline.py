"""Time and randomness: seeded generators, frames placed in time, lazy streams merged in order.

Times in a capture are whole microseconds after the capture's start. A `Timeline` collects
frames in any order (a scenario adds a whole conversation at once) and hands them back sorted;
`merge` interleaves lazily generated streams without holding them in memory.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

SECOND = 1_000_000
MS = 1_000

Frame = tuple[int, bytes]  # (microseconds after the start, link-layer frame)


@dataclass(frozen=True)
class Seeds:
    """Independent, reproducible generators: one per label, all derived from one prefix.

    A part of a scenario that draws from its own generator keeps its bytes when another part
    changes how much randomness it uses.
    """

    prefix: str

    def key(self, label: str) -> str:
        """The seed string of `label`'s generator (to start it again later)."""
        return self.prefix + label

    def rng(self, label: str) -> random.Random:
        """A fresh generator for `label`."""
        return random.Random(self.key(label))


def usec(seconds: float) -> int:
    """Seconds to whole microseconds."""
    return round(seconds * 1_000_000)


@dataclass
class Timeline:
    """Frames with their time; kept in creation order, handed back in time order (frames at
    the same microsecond in the order they were added)."""

    frames: list[tuple[int, int, bytes]] = field(default_factory=list)

    def add(self, seconds: float, frame: bytes) -> None:
        """Place `frame` at `seconds` after the start."""
        self.frames.append((usec(seconds), len(self.frames), frame))

    def in_time_order(self) -> list[Frame]:
        """(microseconds, frame) pairs, sorted by time."""
        return [(t, raw) for t, _, raw in sorted(self.frames)]


@dataclass(slots=True)
class Activity:
    """A lazily generated stream of frames in time order, starting at `start` (µs)."""

    start: int
    kind: str
    make: Callable[[], Iterator[Frame]]


def merge(activities: Sequence[Activity], counts: dict[str, int]) -> Iterator[Frame]:
    """Every frame of every activity, in time order, counted by activity kind into `counts`.

    An activity's stream is started only when its first frame is due, so at most one frame
    per running activity is held at a time; frames at the same time keep the order in which
    they were produced.
    """
    heap: list[tuple[int, int, bytes, str, Iterator[Frame] | Activity]] = []
    order = 0
    for activity in activities:
        heap.append((activity.start, order, b"", activity.kind, activity))
        order += 1
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        ts, _order, frame, kind, source = pop(heap)
        if isinstance(source, Activity):
            source = source.make()
        else:
            counts[kind] = counts.get(kind, 0) + 1
            yield ts, frame
        item = next(source, None)
        if item is not None:
            push(heap, (item[0], order, item[1], kind, source))
            order += 1
