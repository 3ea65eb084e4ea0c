"""The timeline of report.html: when each organisation (and, expanded, each of its endpoints)
was contacted over the session, coloured by category, so that "the app called Facebook at
launch, before the call began" is visible at a glance.

Each row is an SVG track scaled to its width (viewBox in thousandths, no text inside, so
nothing can be clipped): a band where its connections were open, and columns of the bytes
exchanged in each moment (log scale, shared by all rows: the largest column is the session's
busiest moment). Labels are HTML beside the track; the axis is an SVG whose labels sit at
percentages, anchored to stay inside it. A dashed line marks when the call's media began.
The traffic comes from flow_digest; which rows are drawn is decided first (`timeline_plan`),
so that only their traffic is kept.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from auditor.quantities import byte_size, counted
from auditor.records import TRACKER_CATEGORIES
from auditor.report.render.page.clock import duration_text, offset_text, parse_time
from auditor.report.render.page.flow_digest import STREAM_PROTOCOLS, FlowDigest
from auditor.report.render.page.fragments import CATEGORIES, badge, category_rank, host
from auditor.report.render.page.organisations import Organisation
from auditor.report.render.page.time_scale import TimeScale
from auditor.report.render.page.tracks import BINS, WIDTH, Track
from auditor.report.render.text_safety import html_cell, visible

HEIGHT = 24
COLUMN_TOP, COLUMN_BASE = 2.0, 16.0
BAND_TOP, BAND_HEIGHT = 17.0, 6.0
MAX_ORGANISATIONS = 80
MAX_ENDPOINTS = 40  # rows per organisation when expanded
Plan = list[tuple[Organisation, list[dict[str, Any]]]]


def timeline_plan(organisations: list[Organisation]) -> tuple[Plan, int]:
    """The rows to draw: organisations in order of first contact (the first
    MAX_ORGANISATIONS), each with its endpoints in that order (the first MAX_ENDPOINTS); and
    how many organisations were left out."""
    def first(endpoint: dict[str, Any]) -> float:
        seen = parse_time(endpoint.get("first_seen"))
        return seen if seen is not None else math.inf

    ordered = sorted(organisations, key=lambda o: (o.first_seen if o.first_seen is not None
                                                   else math.inf, o.rank, o.name))
    plan = [(o, sorted(o.endpoints, key=first)[:MAX_ENDPOINTS])
            for o in ordered[:MAX_ORGANISATIONS]]
    return plan, max(len(ordered) - MAX_ORGANISATIONS, 0)


def drawn_keys(plan: Plan) -> tuple[set[str], set[str]]:
    """The organisations and endpoints that get a row."""
    return ({o.name for o, _ in plan},
            {str(e.get("host")) for _, endpoints in plan for e in endpoints})


def timeline_section(report: dict[str, Any], organisations: list[Organisation], plan: Plan,
                     left_out: int, digest: FlowDigest) -> str:
    """The timeline's sentences, legend and rows."""
    scale = digest.scale
    if scale is None:
        return '<p class="muted">No traffic: nothing to draw.</p>'
    media = digest.media_start if digest.media_start is not None else _media_start(report)
    mark = scale.x(media) if media is not None else None
    peak = max((t.peak() for t in digest.organisations.values()), default=0.0)
    rows = [_axis_row(scale, mark)]
    for organisation, endpoints in plan:
        track = digest.organisations.get(organisation.name)
        if track is not None:
            rows.append(_organisation_rows(organisation, endpoints, track, digest, scale,
                                           peak, mark))
    if left_out:
        rows.append(f'<p class="muted small">and {left_out} more organisations, contacted '
                    "later (see the organisations table)</p>")
    if len(plan) > 12:
        rows.append(_axis_row(scale, mark))
    sentences = timeline_lines(scale, organisations, media)
    return (f'<ul>{"".join(f"<li>{s}</li>" for s in sentences)}</ul>'
            f"{_legend(organisations, mark is not None)}"
            f'<div class="timeline" role="group" aria-label="timeline">{"".join(rows)}</div>')


def timeline_lines(scale: TimeScale, organisations: list[Organisation],
                   media: float | None) -> list[str]:
    """What the timeline shows, in sentences (HTML): the span, when media began, and when each
    analytics or ad-tech organisation was first contacted relative to it."""
    last = scale.segments[-1].end
    lines = [f"The session's traffic spans {duration_text(last - scale.origin)}."]
    if scale.gaps:
        cut = sum(g[2] for g in scale.gaps)
        lines.append(f"Silences of {duration_text(cut)} without traffic are cut out of the "
                     "timeline (shaded).")
    if media is not None:
        lines.append(f"The call's media began at {offset_text(media - scale.origin)} "
                     "(the dashed line).")
    trackers = {c.value for c in TRACKER_CATEGORIES}
    for organisation in organisations:
        seen = [(when, e) for e in organisation.endpoints if e.get("category") in trackers
                for when in [parse_time(e.get("first_seen"))] if when is not None]
        if not seen:
            continue
        when, first = min(seen, key=lambda pair: pair[0])
        relative = ""
        if media is not None:
            gap = duration_text(abs(media - when))
            relative = (f", {gap} before the call's media began" if when < media
                        else f", {gap} after the call's media began")
        lines.append(f"{html_cell(organisation.name)} ({escape(str(first.get('category')))}, "
                     f"{host(first.get('host'))}) was first contacted at "
                     f"{offset_text(when - scale.origin)}{relative}.")
    return lines


def _media_start(report: dict[str, Any]) -> float | None:
    """When the first media flow carrying audio or video began, by the report's call section
    (for a page drawn without the flows)."""
    call = report.get("call")
    flows = call.get("media_flows") if isinstance(call, dict) else None
    starts = [parse_time(f.get("started")) for f in flows or []
              if isinstance(f, dict) and STREAM_PROTOCOLS & {*(f.get("protocols") or []),
                                                             str(f.get("protocol"))}]
    known = [s for s in starts if s is not None]
    return min(known) if known else None


def _organisation_rows(organisation: Organisation, endpoints: list[dict[str, Any]],
                       track: Track, digest: FlowDigest, scale: TimeScale, peak: float,
                       mark: float | None) -> str:
    label = (f"{html_cell(organisation.name)} "
             f"{' '.join(badge(c) for c in organisation.categories)}")
    summary = _row(label, track, scale, peak, mark, visible(organisation.name), "summary")
    subrows = [_row(host(e.get("host")), digest.endpoints[str(e.get("host"))], scale, peak,
                    mark, visible(e.get("host")), "div", " sub")
               for e in endpoints if str(e.get("host")) in digest.endpoints]
    if len(organisation.endpoints) > len(endpoints):
        subrows.append(f'<p class="muted small">and {len(organisation.endpoints) - len(endpoints)}'
                       " more endpoints</p>")
    return f'<details class="tl">{summary}{"".join(subrows)}</details>'


def _row(label: str, track: Track, scale: TimeScale, peak: float, mark: float | None,
         name: str, tag: str, extra: str = "") -> str:
    first = offset_text((track.first or scale.origin) - scale.origin)
    title = (f"{name}: {counted(track.flows, 'flow')}, {byte_size(track.size)}, first at "
             f"{first}, last at {offset_text((track.last or scale.origin) - scale.origin)}")
    return (f'<{tag} class="tl-row{extra}"><div class="label">{label} '
            f'<span class="muted small nowrap">{first}</span></div>'
            f"{_track_svg(track, scale, peak, mark, title)}</{tag}>")


def _track_svg(track: Track, scale: TimeScale, peak: float, mark: float | None,
               title: str) -> str:
    shapes = [f'<rect class="gap" x="{x0 * WIDTH:.1f}" y="0" width="{(x1 - x0) * WIDTH:.1f}" '
              f'height="{HEIGHT}"/>' for x0, x1, _ in scale.gaps]
    # Trackers last, in front: their columns are usually the shorter ones.
    for category in sorted(track.spans, key=category_rank, reverse=True):
        fill = f"f-{category}" if category in CATEGORIES else "f-unknown"
        band = "".join(f"M{x0:.1f} {BAND_TOP}h{x1 - x0:.1f}v{BAND_HEIGHT}h{x0 - x1:.1f}z"
                       for x0, x1 in track.spans[category])
        shapes.append(f'<path class="{fill} span" d="{band}"/>')
        columns = _columns(track.columns[category], peak)
        if columns:
            shapes.append(f'<path class="{fill}" d="{columns}"/>')
    if mark is not None:
        shapes.append(f'<line class="mark" x1="{mark * WIDTH:.1f}" x2="{mark * WIDTH:.1f}" '
                      f'y1="0" y2="{HEIGHT}" vector-effect="non-scaling-stroke"/>')
    return (f'<svg viewBox="0 0 {WIDTH:.0f} {HEIGHT}" preserveAspectRatio="none" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{escape(title)}</title>{''.join(shapes)}</svg>")


def _axis_row(scale: TimeScale, mark: float | None) -> str:
    parts = ['<line class="grid" x1="0" x2="100%" y1="19.5" y2="19.5"/>']
    for x0, x1, seconds in scale.gaps:
        parts.append(f'<rect class="gap" x="{x0:.2%}" y="0" width="{x1 - x0:.2%}" height="20">'
                     f"<title>{escape(duration_text(seconds))} without traffic, cut out"
                     "</title></rect>")
    for tick in scale.ticks():
        parts.append(f'<line class="grid" x1="{tick.x:.2%}" x2="{tick.x:.2%}" y1="15" y2="20"/>'
                     f'<text x="{tick.x:.2%}" y="12" text-anchor="{tick.anchor}">'
                     f"{escape(tick.text)}</text>")
    if mark is not None:
        parts.append(f'<line class="mark" x1="{mark:.2%}" x2="{mark:.2%}" y1="14" y2="20"/>')
    return ('<div class="tl-row tl-axis"><div class="label muted small">time from the first '
            'flow</div><svg role="img" aria-label="time axis" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg></div>')


def _legend(organisations: list[Organisation], media: bool) -> str:
    present = sorted({c for o in organisations for c in o.categories}, key=category_rank)
    items = [badge(c) for c in present]
    items.append("<span>columns: traffic at each moment (log scale)</span>")
    items.append("<span>band: connections open</span>")
    if media:
        items.append("<span>dashed line: the call's media began</span>")
    items.append("<span>open a row for its endpoints</span>")
    return f'<div class="legend">{"".join(f"<span>{i}</span>" for i in items)}</div>'


def _columns(bins: list[float], peak: float) -> str:
    if peak <= 0:
        return ""
    width = WIDTH / BINS
    scale = math.log1p(peak)
    path = []
    for index, value in enumerate(bins):
        if value <= 0:
            continue
        height = max((COLUMN_BASE - COLUMN_TOP) * math.log1p(value) / scale, 1.5)
        path.append(f"M{index * width:.1f} {COLUMN_BASE}v{-height:.1f}h{width:.1f}"
                    f"v{height:.1f}z")
    return "".join(path)
