"""Inline HTML that every section of report.html uses: category badges, host names that wrap
after their dots only, addresses that do not wrap, byte cells with their raw value for sorting,
and evidence that collapses when long. Everything from traffic is escaped here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from html import escape
from typing import Any

from auditor.quantities import byte_size
from auditor.records import CATEGORY_ORDER
from auditor.report.render.text_safety import html_cell, html_text

CATEGORIES = frozenset(c.value for c in CATEGORY_ORDER)
EVIDENCE_SHOWN = 140  # characters of evidence shown before it collapses
LABEL_NOWRAP = 40  # characters: a longer DNS label (at most 63) may wrap inside
EVIDENCE_SUMMARY = 90  # characters of the line that stands for collapsed evidence


def category_rank(category: str | None) -> int:
    """Where a category goes in lists: ad-tech first, local last, anything else after."""
    order = [c.value for c in CATEGORY_ORDER]
    return order.index(category) if category in order else len(order)


def badge(category: str | None) -> str:
    """A category as a coloured label; the colour only for a category vcaudit knows."""
    text = category or "unknown"
    css = f"cat c-{text}" if text in CATEGORIES else "cat"
    return f'<span class="{css}">{html_cell(text)}</span>'


def host(name: str | None) -> str:
    """A host name, or an address when that is all there is: escaped, and allowed to wrap after
    its dots only (an IPv6 address after its colons, an IPv4 address nowhere), so a long name
    never breaks inside a label."""
    if not name:
        return '<span class="muted">(none)</span>'
    if _is_address(name):
        return address(name)
    # Each label in a span that does not wrap (a label may hold hyphens, where text would
    # otherwise break); a break opportunity after each dot. A label too long for any screen
    # may wrap inside. The name is made safe whole: escaping adds no dot and takes none away,
    # so its labels are those of the name.
    raw, safe = name.split("."), html_cell(name).split(".")
    last = len(raw) - 1
    pieces = []
    for index, (label, text) in enumerate(zip(raw, safe, strict=True)):
        length = len(label) + (index < last)  # with its dot
        if length:
            text = text if index == last else f"{text}."
            pieces.append(f"<span>{text}</span>" if length <= LABEL_NOWRAP else text)
    return f'<span class="host">{"<wbr>".join(pieces)}</span>'


def path(text: str) -> str:
    """A file path or URL: escaped, wrapping after its slashes first, anywhere if it must."""
    return f'<span class="url">{html_cell(text).replace("/", "/<wbr>")}</span>'


def address(value: str | None, port: int | None = None) -> str:
    """An IP address (with its port): IPv4 never wraps, IPv6 only after a colon."""
    if not value:
        return '<span class="muted">?</span>'
    text = html_cell(value)
    if ":" in value:
        text = text.replace(":", ":<wbr>")
        shown = f"[{text}]:{port}" if port is not None else text
        return f'<span class="ip6">{shown}</span>'
    shown = f"{text}:{port}" if port is not None else text
    return f'<span class="ip">{shown}</span>'


def hosts(names: Iterable[str], limit: int = 8) -> str:
    """Several host names, comma-separated, `and N more` past `limit`."""
    names = list(names)
    shown = ", ".join(host(n) for n in names[:limit])
    if len(names) > limit:
        shown += f' <span class="muted">and {len(names) - limit} more</span>'
    return shown


def bytes_cell(count: int | None, label: str) -> str:
    """A right-aligned table cell of a byte count in words, its raw value kept for sorting
    (unknown sorts last)."""
    raw = "" if count is None else str(int(count))
    return f'<td class="n" data-label="{_label(label)}" data-v="{raw}">{byte_size(count)}</td>'


def number_cell(count: int | None, label: str) -> str:
    """A right-aligned table cell of a count."""
    shown = "?" if count is None else str(count)
    raw = "" if count is None else str(count)
    return f'<td class="n" data-label="{_label(label)}" data-v="{raw}">{shown}</td>'


@lru_cache(maxsize=64)
def _label(text: str) -> str:
    """A column's label as an attribute value (the page's own few labels, escaped once)."""
    return escape(text)


def network_text(endpoint: dict[str, Any]) -> str:
    """Who holds an endpoint's addresses, from the address database: `network: GOOGLE,
    AS15169, US`; empty when nothing is known (a local address)."""
    parts = []
    if endpoint.get("as_org"):
        parts.append(html_cell(endpoint["as_org"]))
    if isinstance(endpoint.get("asn"), int):
        parts.append(f"AS{endpoint['asn']}")
    countries = endpoint.get("countries") or ([endpoint["country"]] if endpoint.get("country")
                                              else [])
    if countries:
        parts.append(html_cell(", ".join(str(c) for c in countries)))
    return "network: " + ", ".join(parts) if parts else ""


def evidence(items: list[dict[str, Any]], label: str | None = None) -> str:
    """Why an endpoint got its category: each distinct piece of evidence once (an address
    range names and classifies at once, and used to be listed twice). More than one short
    sentence collapses behind the rule's purpose (`label`) or the first sentence's start."""
    details = distinct_details(items)
    if not details:
        return '<span class="muted">no evidence</span>'
    if len(details) == 1 and len(details[0]) <= EVIDENCE_SHOWN and not label:
        return f'<span class="evidence">{html_text(details[0])}</span>'
    first = label or details[0]
    summary = first if len(first) <= EVIDENCE_SUMMARY else first[:EVIDENCE_SUMMARY - 3] + "..."
    rest = "".join(f"<li>{html_text(d)}</li>" for d in details)
    return (f'<details class="evidence"><summary>{html_text(summary)}</summary>'
            f"<ul>{rest}</ul></details>")


def distinct_details(items: list[dict[str, Any]]) -> list[str]:
    """The evidence sentences of an endpoint, each once, in the report's order."""
    seen: dict[str, None] = {}
    for item in items:
        detail = item.get("detail") if isinstance(item, dict) else None
        if isinstance(detail, str) and detail:
            seen.setdefault(detail, None)
    return list(seen)


def _is_address(name: str) -> bool:
    if ":" not in name and name.strip("0123456789."):
        return False  # neither IPv6 (which has colons) nor IPv4 (digits and dots only)
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
