"""The endpoint and flow tables of report.html: every column report.md has (ports, addresses,
times) plus the evidence, collapsed when long. Sortable and filterable by category and
organisation with the page's script (data-* attributes), readable without it; on a narrow
screen each row is a card.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape
from typing import Any

from auditor.report.render.page.clock import duration_text, offset_text, parse_time
from auditor.report.render.page.fragments import (
    address,
    badge,
    bytes_cell,
    evidence,
    host,
    network_text,
    number_cell,
)
from auditor.report.render.text_safety import html_cell

MAX_ENDPOINT_ROWS = 2000
URL_SHOWN = 90  # characters of a URL before it collapses
NO_NAME = '<span class="muted">no name</span>'


def endpoint_table(endpoints: list[dict[str, Any]], origin: float | None) -> str:
    """Every endpoint (the first MAX_ENDPOINT_ROWS): name and addresses, category,
    organisation and network, protocols and ports, counts, times, evidence."""
    if not endpoints:
        return '<p class="muted">No endpoint.</p>'
    head = _head([("host", "text", "hostcol"), ("category", "rank", ""),
                  ("organisation", "text", ""), ("protocols, ports", "", ""),
                  ("flows", "num", "n"), ("sent", "num", "n"), ("received", "num", "n"),
                  ("seen", "num", "n"), ("why", "", "")])
    rows = [_endpoint_row(e, origin) for e in endpoints[:MAX_ENDPOINT_ROWS]]
    if len(endpoints) > MAX_ENDPOINT_ROWS:
        rows.append(f'<tr class="more"><td colspan="9">{len(endpoints) - MAX_ENDPOINT_ROWS} '
                    "more endpoints in endpoints.csv</td></tr>")
    return (f'<div class="wrap"><table class="cards" id="endpoints-table" data-sortable '
            f'data-filter>{head}<tbody>{"".join(rows)}</tbody></table></div>')


def flow_table(earliest: list[dict[str, Any]], total: int, origin: float | None) -> str:
    """The `earliest` flows (the first MAX_FLOW_ROWS of `total`, in time order): when, where
    to, what, how much."""
    if not earliest:
        return '<p class="muted">No flow.</p>'
    head = _head([("start", "num", "n"), ("duration", "num", "n"), ("host", "text", "hostcol"),
                  ("server", "text", ""), ("protocol", "text", ""), ("category", "rank", ""),
                  ("organisation", "text", ""), ("sent", "num", "n"),
                  ("received", "num", "n"), ("content", "text", "")])
    repeats = Repeats()
    rows = [_flow_row(f, origin, repeats) for f in earliest]
    if total > len(earliest):
        rows.append(f'<tr class="more"><td colspan="10">{total - len(earliest)} more flows '
                    "in flows.csv</td></tr>")
    return (f'<div class="wrap"><table class="cards" id="flows-table" data-sortable '
            f'data-filter>{head}<tbody>{"".join(rows)}</tbody></table></div>')


def _head(columns: list[tuple[str, str, str]]) -> str:
    cells = []
    for name, sort, css in columns:
        attributes = (f' class="{css}"' if css else "") + (f' data-sort="{sort}"' if sort else "")
        cells.append(f"<th{attributes}>{escape(name)}</th>")
    return f"<thead><tr>{''.join(cells)}</tr></thead>"


def _row_start(category: object, organisation: str) -> str:
    category = category if isinstance(category, str) else "unknown"
    return (f'<tr data-category="{html_cell(category)}" '
            f'data-org="{escape(organisation, quote=True)}">')


def _endpoint_row(endpoint: dict[str, Any], origin: float | None) -> str:
    entity = endpoint.get("entity") or ""
    names = (endpoint.get("ips") or [])[:4]
    ips = " ".join(address(ip) for ip in names if ip != endpoint.get("host"))
    more_ips = len(endpoint.get("ips") or []) - len(names)
    if more_ips > 0:
        ips += f" and {more_ips} more"
    named_by = ", ".join(s for s in endpoint.get("host_sources") or [] if s != "none")
    sub = " · ".join(p for p in (ips, f"named by {html_cell(named_by)}" if named_by else "")
                     if p)
    owner = html_cell(entity) if entity else '<span class="muted">none known</span>'
    if endpoint.get("first_party"):
        owner += ' <span class="muted small">(the app\'s vendor)</span>'
    network = network_text(endpoint)
    protocols = html_cell(", ".join(endpoint.get("protocols") or []))
    ports = ", ".join(str(p) for p in (endpoint.get("ports") or [])[:8])
    if len(endpoint.get("ports") or []) > 8:
        ports += f" and {len(endpoint['ports']) - 8} more"
    return (
        _row_start(endpoint.get("category"), entity if entity else "")
        + f'<td class="lead" data-label="host" data-v="{html_cell(endpoint.get("host"))}">'
        + host(endpoint.get("host"))
        + (f'<div class="muted small">{sub}</div>' if sub else "") + "</td>"
        + f'<td data-label="category">{badge(endpoint.get("category"))}</td>'
        + f'<td class="wide" data-label="organisation">{owner}'
        + (f'<div class="muted small">{network}</div>' if network else "") + "</td>"
        + f'<td data-label="protocols, ports">{protocols}'
        + (f' <span class="muted small">{ports}</span>' if ports else "") + "</td>"
        + number_cell(endpoint.get("flows"), "flows")
        + bytes_cell(endpoint.get("bytes_up"), "sent")
        + bytes_cell(endpoint.get("bytes_down"), "received")
        + _seen_cell(parse_time(endpoint.get("first_seen")),
                     parse_time(endpoint.get("last_seen")), origin)
        + '<td data-label="why" class="small why wide">'
        + evidence(endpoint.get("evidence") or [], endpoint.get("label")) + "</td>"
        + "</tr>")


def _flow_row(flow: dict[str, Any], origin: float | None, repeats: Repeats) -> str:
    entity = flow.get("entity") or ""
    start, end = _number(flow.get("ts_start")), _number(flow.get("ts_end"))
    duration = end - start if start is not None and end is not None else None
    name = flow.get("host")
    return (
        repeats(_row_start, flow.get("category"), entity)
        + _time_cell(start, origin, "start")
        + (f'<td class="n" data-label="duration" data-v="{duration:.3f}">'
           f"{duration_text(max(duration, 0.0))}</td>" if duration is not None
           else '<td class="n" data-label="duration" data-v="">?</td>')
        + '<td class="wide" data-label="host">'
        + (repeats(host, name) if name else NO_NAME) + "</td>"
        + repeats(_where, flow.get("server_ip"), flow.get("server_port"), flow.get("app_proto"),
                  flow.get("transport"), flow.get("category"), entity)
        + bytes_cell(flow.get("bytes_up"), "sent")
        + bytes_cell(flow.get("bytes_down"), "received")
        + f'<td data-label="content" class="small wide">{_content(flow)}</td>'
        + "</tr>")


def _where(server_ip: str | None, server_port: int | None, app_proto: object,
           transport: object, category: str | None, entity: str) -> str:
    """A flow's server, protocol, category and organisation cells."""
    protocol = app_proto or transport or "?"
    transport = transport or ""
    shown_protocol = html_cell(protocol) + (
        f' <span class="muted small">{html_cell(transport)}</span>'
        if transport and transport != protocol else "")
    return (f'<td data-label="server">{address(server_ip, server_port)}</td>'
            f'<td data-label="protocol">{shown_protocol}</td>'
            f'<td data-label="category">{badge(category)}</td>'
            f'<td data-label="organisation">{html_cell(entity) if entity else ""}</td>')


class Repeats:
    """Cells of values that repeat from row to row (hosts, servers, categories), each made once
    per table. Only plain values (strings, integers, None) are remembered: values that compare
    equal across types (1, 1.0 and True) would share a cell."""

    def __init__(self) -> None:
        self._made: dict[tuple[object, ...], str] = {}

    def __call__(self, make: Callable[..., str], *args: object) -> str:
        """`make(*args)`, made once for the same plain arguments."""
        if not _PLAIN.issuperset(map(type, args)):
            return make(*args)
        key = (make, *args)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = make(*args)
        return made


_PLAIN = frozenset({str, int, type(None)})


def _content(flow: dict[str, Any]) -> str:
    """What could be seen of a flow: its visibility, and for HTTP the request and status."""
    parts = []
    if flow.get("visibility"):
        parts.append(html_cell(flow["visibility"]))
    url = flow.get("url")
    if url:
        request = f"{flow.get('method') or ''} {url}".strip()
        status = f" → {flow['status']}" if flow.get("status") is not None else ""
        if len(request) <= URL_SHOWN:
            parts.append(f'<span class="url">{html_cell(request)}{status}</span>')
        else:
            parts.append(f'<details class="evidence"><summary>{html_cell(request[:URL_SHOWN])}'
                         f'...{status}</summary><span class="url">{html_cell(request)}</span>'
                         "</details>")
    if flow.get("error"):
        parts.append(f'<span class="muted">{html_cell(flow["error"])}</span>')
    return " ".join(parts)


def _seen_cell(first: float | None, last: float | None, origin: float | None) -> str:
    """When an endpoint was first and last seen (sorted by the first)."""
    if first is None or origin is None:
        return '<td class="n" data-label="seen" data-v="">?</td>'
    until = (f'<div class="muted small">to {offset_text(last - origin)}</div>'
             if last is not None and last - first >= 0.05 else "")
    return (f'<td class="n" data-label="seen" data-v="{first - origin:.3f}">'
            f"{offset_text(first - origin)}{until}</td>")


def _time_cell(ts: float | None, origin: float | None, label: str) -> str:
    if ts is None or origin is None:
        return f'<td class="n" data-label="{label}" data-v="">?</td>'
    return (f'<td class="n" data-label="{label}" data-v="{ts - origin:.3f}">'
            f"{offset_text(ts - origin)}</td>")


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
