"""Organisations in report.html: the report's endpoints summed per organisation (Teams' 19
Microsoft hosts as one row), with the data each received, as a table whose rows expand to
their endpoints.

Endpoints without a known organisation are grouped per category as "no known organisation":
vcaudit does not guess the owner from the network the address is in (that is shown per
endpoint, as the network).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from auditor.quantities import byte_size, counted
from auditor.report.render.page.clock import offset_text, parse_time
from auditor.report.render.page.fragments import (
    badge,
    bytes_cell,
    category_rank,
    host,
    number_cell,
)
from auditor.report.render.text_safety import html_cell

NO_ORGANISATION = "no known organisation"
ENDPOINTS_LISTED = 60  # per organisation, in its expanded row


@dataclass(slots=True)
class Organisation:
    """One organisation's endpoints and their totals."""

    name: str
    known: bool  # False: the group of endpoints no organisation is known for
    categories: list[str] = field(default_factory=list)
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    flows: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    first_seen: float | None = None
    last_seen: float | None = None
    received: list[str] = field(default_factory=list)  # kinds of personal data

    @property
    def rank(self) -> int:
        """The category rank of its most telling category (ad-tech first)."""
        return min((category_rank(c) for c in self.categories), default=99)


def organisation_key(endpoint: dict[str, Any]) -> str:
    """The organisation an endpoint is counted under."""
    entity = endpoint.get("entity")
    if isinstance(entity, str) and entity:
        return entity
    return f"{NO_ORGANISATION} ({endpoint.get('category') or 'unknown'})"


def group_organisations(report: dict[str, Any]) -> list[Organisation]:
    """The report's organisations, most telling category first, then most bytes."""
    table: dict[str, Organisation] = {}
    for endpoint in report.get("endpoints") or []:
        key = organisation_key(endpoint)
        organisation = table.get(key)
        if organisation is None:
            organisation = table[key] = Organisation(key, bool(endpoint.get("entity")))
        category = endpoint.get("category") or "unknown"
        if category not in organisation.categories:
            organisation.categories.append(category)
        organisation.endpoints.append(endpoint)
        organisation.flows += int(endpoint.get("flows") or 0)
        organisation.bytes_up += int(endpoint.get("bytes_up") or 0)
        organisation.bytes_down += int(endpoint.get("bytes_down") or 0)
        first, last = parse_time(endpoint.get("first_seen")), parse_time(endpoint.get("last_seen"))
        if first is not None and (organisation.first_seen is None
                                  or first < organisation.first_seen):
            organisation.first_seen = first
        if last is not None and (organisation.last_seen is None or last > organisation.last_seen):
            organisation.last_seen = last
    for row in (report.get("personal_data") or {}).get("who_received_what") or []:
        organisation = table.get(row.get("entity") or "")
        if organisation is not None:
            organisation.received += [k for k in row.get("kinds") or []
                                      if k not in organisation.received]
    for organisation in table.values():
        organisation.categories.sort(key=category_rank)
    return sorted(table.values(), key=lambda o: (o.rank, -(o.bytes_up + o.bytes_down), o.name))


def organisation_table(organisations: list[Organisation], origin: float | None) -> str:
    """One row per organisation; its endpoints behind a disclosure in the name cell."""
    if not organisations:
        return '<p class="muted">No organisation: no traffic was recorded.</p>'
    head = ('<thead><tr><th data-sort="text">organisation</th><th data-sort="rank">category</th>'
            '<th class="n" data-sort="num">endpoints</th><th class="n" data-sort="num">flows</th>'
            '<th class="n" data-sort="num">sent</th><th class="n" data-sort="num">received</th>'
            '<th class="n" data-sort="num">first contact</th><th>data it received</th>'
            "</tr></thead>")
    rows = [_row(o, origin) for o in organisations]
    return (f'<div class="wrap"><table class="cards" id="organisations-table" data-sortable>'
            f'{head}<tbody>{"".join(rows)}</tbody></table></div>')


def _row(organisation: Organisation, origin: float | None) -> str:
    name = html_cell(organisation.name)
    if not organisation.known:
        name = f'<span class="muted">{name}</span>'
    listed = organisation.endpoints[:ENDPOINTS_LISTED]
    several = len(organisation.categories) > 1
    items = "".join(
        f"<li>{host(e.get('host'))} {badge(e.get('category')) + ' ' if several else ''}"
        f'<span class="muted small">{counted(int(e.get("flows") or 0), "flow")}, '
        f"{byte_size(e.get('bytes_up'))} sent, {byte_size(e.get('bytes_down'))} received"
        f"{_country(e)}</span></li>" for e in listed)
    if len(organisation.endpoints) > len(listed):
        items += (f'<li class="muted">and {len(organisation.endpoints) - len(listed)} more in the '
                  "endpoints table</li>")
    first, first_text = "", "?"
    if organisation.first_seen is not None and origin is not None:
        first = f"{organisation.first_seen - origin:.3f}"
        first_text = offset_text(organisation.first_seen - origin)
    received = (html_cell(", ".join(organisation.received)) if organisation.received
                else '<span class="muted">none found</span>')
    data_org = escape(organisation.name if organisation.known else "", quote=True)
    return (
        f'<tr data-category="{escape(organisation.categories[0])}" data-org="{data_org}">'
        f'<td class="lead orgcol" data-label="organisation"><details><summary>{name}</summary>'
        f'<ul class="plain small">{items}</ul></details></td>'
        f'<td data-label="category">{" ".join(badge(c) for c in organisation.categories)}</td>'
        f"{number_cell(len(organisation.endpoints), 'endpoints')}"
        f"{number_cell(organisation.flows, 'flows')}"
        f"{bytes_cell(organisation.bytes_up, 'sent')}"
        f"{bytes_cell(organisation.bytes_down, 'received')}"
        f'<td class="n" data-label="first contact" data-v="{first}">{first_text}</td>'
        f'<td class="wide" data-label="data it received">{received}</td></tr>')



def _country(endpoint: dict[str, Any]) -> str:
    countries = endpoint.get("countries") or ([endpoint["country"]] if endpoint.get("country")
                                              else [])
    return ", " + html_cell(", ".join(str(c) for c in countries)) if countries else ""
