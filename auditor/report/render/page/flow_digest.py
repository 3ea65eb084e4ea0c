"""What report.html needs from the session's flows, read in two passes with bounded memory:
the timeline's scale (pass one, bucketed: time_scale.Occupancy), then the traffic of the
timeline rows that are drawn, the earliest flows for the flow table, when the call's media
began and, for a report without a `call` section, its media flows (pass two).

Flows come from a function that reads them again on each call (`FlowRows`), so a session of
millions of flows is never in memory for the page; each pass asks for the columns it reads as
plain tuples (the scale pass only the times), and a flow becomes a dict with flows.csv's
columns only when it is kept (the earliest flows, the media flows). Without flows (a report
read back from report.json), each endpoint's first-to-last presence stands in.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from auditor.records import FLOW_COLUMNS
from auditor.report.render.page.clock import parse_time
from auditor.report.render.page.time_scale import Occupancy, TimeScale, flow_times
from auditor.report.render.page.tracks import Track, placement

MAX_FLOW_ROWS = 2000
MAX_MEDIA_FLOWS = 1000
REMEMBERED_ENDPOINTS = 4096  # whose timeline rows are looked up once (memory stays bounded)
# Protocols that carry the call's audio and video (not just connectivity checks).
STREAM_PROTOCOLS = frozenset({"rtp", "srtp", "rtcp", "srtcp", "zoom-media", "discord-voice",
                              "sd-rtn"})
TIME_COLUMNS = ("ts_start", "ts_end")
(_START, _END, _HOST, _SERVER_IP, _UP, _DOWN, _APP_PROTO, _MEDIA, _CATEGORY) = (
    FLOW_COLUMNS.index(c) for c in ("ts_start", "ts_end", "host", "server_ip", "bytes_up",
                                    "bytes_down", "app_proto", "media", "category"))


class FlowRows(Protocol):
    """The session's flows, read again on each call, in the session's order: of each flow its
    values under `columns` (names among flows.csv's), in that order; None for a column a flow
    does not have."""

    def __call__(self, columns: Sequence[str], /) -> Iterable[Sequence[Any]]:
        """One tuple of values per flow."""
        ...


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
    return cell_protocols(row.get("media"))


def cell_protocols(media: object) -> list[str]:
    """The media protocols in a flow's media cell (a block, or its JSON text), else none."""
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
    read = rows if rows is not None else _endpoint_rows(report)
    first = parse_time(report["session"].get("started"))
    last = parse_time(report["session"].get("ended"))
    if first is None or last is None:
        first, last = _bounds(read(TIME_COLUMNS))
    if first is None or last is None:
        return FlowDigest(None, {}, {}, [], 0 if rows is not None else None, None, [])
    occupancy = Occupancy(first, last + 0.001)  # the report's times are cut to milliseconds
    occupancy.add_times(read(TIME_COLUMNS))
    scale = occupancy.scale()
    digest = FlowDigest(scale, {}, {}, [], 0 if rows is not None else None, None, [])
    earliest: list[tuple[float, int, Sequence[Any]]] = []  # a heap of the latest kept on top
    tracks_of: dict[str, tuple[Track, ...]] = {}  # the rows the first endpoints are drawn in
    number = -1
    for number, values in enumerate(read(FLOW_COLUMNS)):
        start, end = values[_START], values[_END]
        if type(start) is float and type(end) is float \
                and start - start == 0.0 and end - end == 0.0:  # finite: the usual case
            if not end > start:  # as max(start, end)
                end = start
        else:
            start, end = flow_times(start, end) or (None, None)
        if rows is not None:
            # Flows come numbered in order: a later one replaces the latest kept only when it
            # starts strictly earlier.
            late = -start if start is not None else -math.inf
            if len(earliest) < MAX_FLOW_ROWS:
                heapq.heappush(earliest, (late, -number, values))
            elif late > earliest[0][0]:
                heapq.heapreplace(earliest, (late, -number, values))
            if values[_MEDIA] is not None:
                _note_media(digest, values, start)
        if start is None or end is None or scale is None:
            continue
        name = values[_HOST] or values[_SERVER_IP]
        if not name:
            continue
        key = name if type(name) is str else str(name)
        tracks = tracks_of.get(key)
        if tracks is None:
            tracks = _tracks(digest, key, owner.get(key, key), drawn)
            if len(tracks_of) < REMEMBERED_ENDPOINTS:
                tracks_of[key] = tracks
        if not tracks:
            continue
        up, down = values[_UP], values[_DOWN]
        size = (up if type(up) is int and up > 0 else _count(up)) \
            + (down if type(down) is int and down > 0 else _count(down))
        category = values[_CATEGORY]
        if type(category) is not str or not category:
            category = str(category or "unknown")
        where = placement(start, end, size, scale)
        for track in tracks:
            track.place(start, end, size, category, where)
    if rows is not None:
        digest.flows = number + 1
    digest.earliest = [_row(values) for _, _, values in sorted((-s, -n, v)
                                                                for s, n, v in earliest)]
    return digest


def _tracks(digest: FlowDigest, key: str, organisation: str,
            drawn: tuple[set[str], set[str]]) -> tuple[Track, ...]:
    """The timeline rows an endpoint's flows are drawn in (made on its first flow drawn):
    its organisation's, its own, both or none."""
    tracks = []
    if organisation in drawn[0]:
        tracks.append(digest.organisations.setdefault(organisation, Track()))
    if key in drawn[1]:
        tracks.append(digest.endpoints.setdefault(key, Track()))
    return tuple(tracks)


def _row(values: Sequence[Any]) -> dict[str, Any]:
    """A flow kept for the page, as a dict with flows.csv's columns."""
    return dict(zip(FLOW_COLUMNS, values, strict=True))


def _note_media(digest: FlowDigest, values: Sequence[Any], start: float | None) -> None:
    protocols = cell_protocols(values[_MEDIA])
    if not protocols:
        return
    if start is not None and STREAM_PROTOCOLS & {*protocols, str(values[_APP_PROTO])}:
        digest.media_start = start if digest.media_start is None else min(
            digest.media_start, start)
    if len(digest.media_flows) < MAX_MEDIA_FLOWS:
        row = _row(values)
        digest.media_flows.append({**row, "endpoint": endpoint_key(row)})


def _endpoint_rows(report: dict[str, Any]) -> FlowRows:
    def rows(columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        for endpoint in report.get("endpoints") or []:
            row = {"host": endpoint.get("host"), "category": endpoint.get("category"),
                   "ts_start": parse_time(endpoint.get("first_seen")),
                   "ts_end": parse_time(endpoint.get("last_seen")),
                   "bytes_up": endpoint.get("bytes_up"), "bytes_down": endpoint.get("bytes_down")}
            yield tuple(map(row.get, columns))
    return rows


def _bounds(times: Iterable[Sequence[Any]]) -> tuple[float | None, float | None]:
    first = last = None
    for start_cell, end_cell in times:
        known = flow_times(start_cell, end_cell)
        if known is not None:
            start, end = known
            first = start if first is None else min(first, start)
            last = end if last is None else max(last, end)
    return first, last


def _count(value: object) -> int:
    if type(value) is int:
        return value if value > 0 else 0
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and value > 0 else 0
