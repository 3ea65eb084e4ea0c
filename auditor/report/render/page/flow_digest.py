"""What report.html needs from the session's flows, read in two passes with bounded memory:
the timeline's scale (pass one, bucketed: time_scale.Occupancy), then the traffic of the
timeline rows that are drawn, the earliest flows for the flow table, when the call's media
began and, for a report without a `call` section, its media flows (pass two).

Flows come as rows (dicts with flows.csv's columns): from a function that reads them again on
each call, so a session of millions of flows is never in memory for the page. Without flows
(a report read back from report.json), each endpoint's first-to-last presence stands in.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from auditor.report.render.page.clock import parse_time
from auditor.report.render.page.time_scale import Occupancy, TimeScale

FlowRows = Callable[[], Iterable[Mapping[str, Any]]]
BINS = 200
WIDTH = 1000.0  # viewBox units across a timeline track
SPAN_MIN = 3.0  # viewBox units: an instant's connection stays visible
MAX_FLOW_ROWS = 2000
MAX_MEDIA_FLOWS = 1000
# Protocols that carry the call's audio and video (not just connectivity checks).
STREAM_PROTOCOLS = frozenset({"rtp", "srtp", "rtcp", "srtcp", "zoom-media", "discord-voice",
                              "sd-rtn"})


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
        x0, x1 = scale.x(start) * WIDTH, scale.x(end) * WIDTH
        spans = self.spans.setdefault(category, [])
        if spans and x0 <= spans[-1][1]:  # flows mostly come in time order: merge as we go
            spans[-1] = (spans[-1][0], max(spans[-1][1], x1, x0 + SPAN_MIN))
        else:
            spans.append((x0, max(x1, x0 + SPAN_MIN)))
        _spread(self.columns.setdefault(category, [0.0] * BINS), x0, x1, size)
        self.flows += 1
        self.size += size
        self.first = start if self.first is None else min(self.first, start)
        self.last = end if self.last is None else max(self.last, end)

    def peak(self) -> float:
        """The largest column of the row."""
        return max((max(b) for b in self.columns.values()), default=0.0)


@dataclass(slots=True)
class FlowDigest:
    """The page's view of the flows."""

    scale: TimeScale | None
    organisations: dict[str, Track]  # timeline rows drawn, by organisation key
    endpoints: dict[str, Track]  # and by endpoint, for the rows that open under them
    earliest: list[dict[str, Any]]  # the first MAX_FLOW_ROWS flows, in time order
    flows: int | None  # how many flows there were; None: none were given
    media_start: float | None
    media_flows: list[dict[str, Any]]


def media_protocols(row: Mapping[str, Any]) -> list[str]:
    """The media protocols a flow's payloads showed (its media block), else none."""
    media = row.get("media")
    if isinstance(media, str) and "protocols" in media:
        try:
            media = json.loads(media)
        except ValueError:
            return []
    if isinstance(media, dict) and isinstance(media.get("protocols"), (list, tuple)):
        return [str(p) for p in media["protocols"]]
    return []


def endpoint_key(row: Mapping[str, Any]) -> str | None:
    """The key a flow's endpoint has in the report: its host, else its server address; None
    for a flow with neither (the timeline cannot place it)."""
    name = row.get("host") or row.get("server_ip")
    return str(name) if name else None


def digest_flows(report: dict[str, Any], rows: FlowRows | None, owner: dict[str, str],
                 drawn: tuple[set[str], set[str]]) -> FlowDigest:
    """Read the flows (or, without them, the endpoints) once for the scale and once for the
    rest. `owner` maps every endpoint to its organisation key; `drawn` holds the organisations
    and the endpoints that get a timeline row."""
    drawn_organisations, drawn_endpoints = drawn
    read = rows if rows is not None else _endpoint_rows(report)
    first = parse_time(report["session"].get("started"))
    last = parse_time(report["session"].get("ended"))
    if first is None or last is None:
        first, last = _bounds(read())
    if first is None or last is None:
        return FlowDigest(None, {}, {}, [], 0 if rows is not None else None, None, [])
    occupancy = Occupancy(first, last + 0.001)  # the report's times are cut to milliseconds
    for row in read():
        start, end = _times(row)
        if start is not None and end is not None:
            occupancy.add(start, end)
    scale = occupancy.scale()
    digest = FlowDigest(scale, {}, {}, [], 0 if rows is not None else None, None, [])
    earliest: list[tuple[float, int, dict[str, Any]]] = []
    for number, row in enumerate(read()):
        start, end = _times(row)
        if rows is not None:
            digest.flows = number + 1
            _keep_earliest(earliest, start, number, row)
            _note_media(digest, row, start)
        key = endpoint_key(row)
        if start is None or end is None or scale is None or key is None:
            continue
        organisation = owner.get(key, key)
        size = _count(row.get("bytes_up")) + _count(row.get("bytes_down"))
        category = str(row.get("category") or "unknown")
        if organisation in drawn_organisations:
            digest.organisations.setdefault(organisation, Track()).add(
                start, end, size, category, scale)
        if key in drawn_endpoints:
            digest.endpoints.setdefault(key, Track()).add(start, end, size, category, scale)
    digest.earliest = [row for _, _, row in sorted((-s, -n, r) for s, n, r in earliest)]
    return digest


def _keep_earliest(heap: list[tuple[float, int, dict[str, Any]]], start: float | None,
                   number: int, row: Mapping[str, Any]) -> None:
    """Keep the MAX_FLOW_ROWS earliest rows (a heap of the latest kept on top)."""
    key = (-(start if start is not None else math.inf), -number)
    if len(heap) < MAX_FLOW_ROWS:
        heapq.heappush(heap, (*key, dict(row)))
    elif key > heap[0][:2]:
        heapq.heapreplace(heap, (*key, dict(row)))


def _note_media(digest: FlowDigest, row: Mapping[str, Any], start: float | None) -> None:
    protocols = media_protocols(row)
    if not protocols:
        return
    if start is not None and STREAM_PROTOCOLS & {*protocols, str(row.get("app_proto"))}:
        digest.media_start = start if digest.media_start is None else min(
            digest.media_start, start)
    if len(digest.media_flows) < MAX_MEDIA_FLOWS:
        digest.media_flows.append({**row, "endpoint": endpoint_key(row)})


def _endpoint_rows(report: dict[str, Any]) -> FlowRows:
    def rows() -> Iterable[Mapping[str, Any]]:
        for endpoint in report.get("endpoints") or []:
            yield {"host": endpoint.get("host"), "category": endpoint.get("category"),
                   "ts_start": parse_time(endpoint.get("first_seen")),
                   "ts_end": parse_time(endpoint.get("last_seen")),
                   "bytes_up": endpoint.get("bytes_up"), "bytes_down": endpoint.get("bytes_down")}
    return rows


def _bounds(rows: Iterable[Mapping[str, Any]]) -> tuple[float | None, float | None]:
    first = last = None
    for row in rows:
        start, end = _times(row)
        if start is not None and end is not None:
            first = start if first is None else min(first, start)
            last = end if last is None else max(last, end)
    return first, last


def _times(row: Mapping[str, Any]) -> tuple[float | None, float | None]:
    start, end = _number(row.get("ts_start")), _number(row.get("ts_end"))
    if start is None:
        return None, None
    return start, max(start, end) if end is not None else start


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _count(value: object) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and value > 0 else 0


def _spread(bins: list[float], x0: float, x1: float, size: int) -> None:
    """Add `size` bytes to the bins under [x0, x1], in proportion to their overlap."""
    width = WIDTH / BINS
    first = min(int(x0 / width), BINS - 1)
    if x1 - x0 < width:
        bins[first] += size
        return
    last = min(int(x1 / width), BINS - 1)
    for index in range(first, last + 1):
        overlap = min(x1, (index + 1) * width) - max(x0, index * width)
        bins[index] += size * max(overlap, 0.0) / (x1 - x0)
