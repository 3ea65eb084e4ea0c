"""Where the call went, in report.html: the report's `call` section (auditor/report/call_path.py
documents its keys) as sentences, bytes by country, the relays and servers, the peers (other
participants, and whether they learned the user's address) and the media flows.

A report without a `call` section (written by an older vcaudit) gets the same view derived
here from its flows' media blocks and its endpoints' owners, with a simpler rule for roles
(TURN relaying: relay; a server-only framing or a known organisation: server; else: peer), and
says so.
"""

from __future__ import annotations

from html import escape
from typing import Any

from auditor.quantities import byte_size, counted
from auditor.report.render.page.charts import Bar, bar_chart
from auditor.report.render.page.clock import duration_text, offset_text, parse_time
from auditor.report.render.page.flow_digest import media_protocols
from auditor.report.render.page.fragments import (
    address,
    badge,
    bytes_cell,
    host,
    hosts,
    number_cell,
)
from auditor.report.render.text_safety import html_cell, html_text
from auditor.timefmt import iso_utc

SERVER_FRAMINGS = frozenset({"zoom-media", "discord-voice", "sd-rtn"})
P2P_EXPOSURE = "p2p-exposure"
MAX_MEDIA_ROWS = 500


def call_section(report: dict[str, Any], media_flows: list[dict[str, Any]],
                 origin: float | None) -> str | None:
    """The section's HTML, or None when the session had no media flow. `media_flows` (rows of
    flows with a media block) stand in for a missing `call` section."""
    call = report.get("call")
    derived = not isinstance(call, dict)
    if not isinstance(call, dict):
        call = derived_call(report, media_flows)
    media = [m for m in call.get("media_flows") or [] if isinstance(m, dict)]
    if not media and not (call.get("totals") or {}).get("media_flows"):
        return None
    parts = []
    verdicts = [v for v in call.get("verdicts") or [] if isinstance(v, str)]
    if verdicts:
        parts.append('<div class="verdict"><ul>'
                     + "".join(f'<li class="strong">{html_text(v)}</li>' for v in verdicts)
                     + "</ul></div>")
    parts.append(f"<p>{_totals(call, media)}</p>")
    exposures = [f for f in report.get("findings") or [] if f.get("kind") == P2P_EXPOSURE]
    if exposures:
        parts.append("<h3>Who learned your address</h3><ul>"
                     + "".join(f"<li>{html_text(f.get('detail') or '')}</li>" for f in exposures)
                     + "</ul>")
    countries = [c for c in call.get("countries") or [] if isinstance(c, dict)]
    if countries:
        parts.append("<h3>Media by country</h3>" + bar_chart(
            [Bar(_country_label(c), int(c.get("bytes_up") or 0), int(c.get("bytes_down") or 0),
                 note=escape(counted(int(c.get("flows") or 0), "flow")))
             for c in countries], "Media bytes by country"))
    relays = [r for r in call.get("relays") or [] if isinstance(r, dict)]
    if relays:
        parts.append("<h3>Relays and media servers</h3>" + _relay_table(relays, origin))
    peers = [p for p in call.get("peers") or [] if isinstance(p, dict)]
    if peers:
        parts.append("<h3>Peers: other participants' addresses</h3>" + _peer_table(peers))
    parts.append("<h3>Media flows</h3>" + _media_table(media, origin))
    if derived:
        parts.append('<p class="muted small">This report has no call section (an older '
                     "vcaudit wrote it): the roles above are derived from the flows' media "
                     "blocks and the endpoints' owners only.</p>")
    return "".join(parts)


def _totals(call: dict[str, Any], media: list[dict[str, Any]]) -> str:
    totals = call.get("totals") if isinstance(call.get("totals"), dict) else {}
    assert isinstance(totals, dict)
    count = int(totals.get("media_flows") or len(media))
    sent = totals.get("bytes_up", sum(int(m.get("bytes_up") or 0) for m in media))
    received = totals.get("bytes_down", sum(int(m.get("bytes_down") or 0) for m in media))
    line = f"{counted(count, 'media flow')}: sent {byte_size(sent)}, received {byte_size(received)}"
    listed = totals.get("media_flows_listed")
    if isinstance(listed, int) and listed < count:
        line += f" ({listed} largest listed below; all in call.csv)"
    return escape(line) + "."


def _country_label(country: dict[str, Any]) -> str:
    code = country.get("country")
    roles = ", ".join(str(r) for r in country.get("roles") or [])
    name = html_cell(code) if code else '<span class="muted">unknown country</span>'
    return f"<strong>{name}</strong>" + (f' <span class="muted small">{html_cell(roles)}</span>'
                                         if roles else "")


def _owner(item: dict[str, Any]) -> str:
    owner = item.get("owner") or item.get("entity")
    shown = html_cell(owner) if owner else '<span class="muted">unknown</span>'
    if item.get("owner_source") == "as":
        shown += ' <span class="muted small">(network)</span>'
    asn = item.get("asn")
    if isinstance(asn, int):
        shown += f' <span class="muted small">AS{asn}</span>'
    return shown


def _table(table_id: str, header: list[tuple[str, str]], rows: list[str]) -> str:
    """A sortable table; `header` is (name, sort kind) per column ("num" columns right-aligned,
    "" not sortable)."""
    cells = "".join(f'<th class="n" data-sort="{kind}">{escape(name)}</th>' if kind == "num"
                    else f"<th>{escape(name)}</th>" for name, kind in header)
    return (f'<div class="wrap"><table class="cards" id="{table_id}" data-sortable>'
            f'<thead><tr>{cells}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def _relay_table(relays: list[dict[str, Any]], origin: float | None) -> str:
    rows = []
    for relay in relays:
        names = [str(h) for h in relay.get("hosts") or []]
        realm = relay.get("turn_realm")
        rows.append(
            f'<tr><td class="lead" data-label="address">{address(relay.get("address"))}'
            + (f'<div class="small">{hosts(names, 3)}</div>' if names else "") + "</td>"
            f'<td data-label="role">{_role(relay)}'
            + (f' <span class="muted small">REALM {html_cell(realm)}</span>' if realm else "")
            + f'</td><td data-label="owner">{_owner(relay)} {badge(relay.get("category"))}</td>'
            f'<td data-label="country">{html_cell(relay.get("country") or "?")}</td>'
            + number_cell(relay.get("flows"), "flows")
            + bytes_cell(relay.get("bytes_up"), "sent")
            + bytes_cell(relay.get("bytes_down"), "received")
            + f'<td data-label="seen">{_seen(relay, origin)}</td></tr>')
    return _table("relays-table", [("address", ""), ("role", ""), ("owner", ""),
                                   ("country", ""), ("flows", "num"), ("sent", "num"),
                                   ("received", "num"), ("seen", "")], rows)


def _peer_table(peers: list[dict[str, Any]]) -> str:
    rows = []
    for peer in peers:
        via = [str(r) for r in peer.get("through_relays") or []]
        reached = "direct" if peer.get("direct") else ""
        if via:
            reached += (", " if reached else "") + "through " + ", ".join(
                address(v) for v in via[:3])
        exposed = ("<strong>yes: it learned your address</strong>" if peer.get("exposed")
                   else "no")
        rows.append(
            f'<tr><td class="lead" data-label="address">{address(peer.get("address"))} '
            f'<span class="muted small">{html_cell(peer.get("scope") or "")}</span></td>'
            f'<td data-label="reached">{reached or "?"}</td>'
            f'<td data-label="learned your address">{exposed}</td>'
            f'<td data-label="owner">{_owner(peer)}</td>'
            f'<td data-label="country">{_country(peer)}</td>'
            + bytes_cell(peer.get("bytes_up"), "sent")
            + bytes_cell(peer.get("bytes_down"), "received") + "</tr>")
    return _table("peers-table", [("address", ""), ("reached", ""),
                                  ("learned your address", ""), ("owner", ""), ("country", ""),
                                  ("sent", "num"), ("received", "num")], rows)


def _media_table(media: list[dict[str, Any]], origin: float | None) -> str:
    rows = []
    for flow in media[:MAX_MEDIA_ROWS]:
        start = parse_time(flow.get("started"))
        when = (f'<td class="n" data-label="start" data-v="{start - origin:.3f}">'
                f"{offset_text(start - origin)}</td>" if start is not None and origin is not None
                else '<td class="n" data-label="start" data-v="">?</td>')
        duration = flow.get("duration_s")
        rows.append(
            f"<tr>{when}"
            f'<td class="wide" data-label="remote">'
            f'{address(flow.get("remote_ip"), flow.get("remote_port"))}'
            + (f'<div class="small">{host(flow.get("host"))}</div>' if flow.get("host") else "")
            + f'</td><td data-label="protocol">{html_cell(flow.get("protocol") or "?")}</td>'
            f'<td data-label="role">{_role(flow)}</td>'
            f'<td data-label="owner">{_owner(flow)}</td>'
            f'<td data-label="country">{html_cell(flow.get("country") or "?")}</td>'
            + (f'<td class="n" data-label="duration" data-v="{duration}">'
               f"{duration_text(float(duration))}</td>"
               if isinstance(duration, (int, float))
               else '<td class="n" data-label="duration" data-v="">?</td>')
            + bytes_cell(flow.get("bytes_up"), "sent")
            + bytes_cell(flow.get("bytes_down"), "received") + "</tr>")
    if len(media) > MAX_MEDIA_ROWS:
        rows.append(f'<tr class="more"><td colspan="9">{len(media) - MAX_MEDIA_ROWS} more media '
                    "flows in call.csv and flows.csv</td></tr>")
    return _table("media-table", [("start", "num"), ("remote", ""), ("protocol", ""),
                                  ("role", ""), ("owner", ""), ("country", ""),
                                  ("duration", "num"), ("sent", "num"), ("received", "num")],
                  rows)


def _country(item: dict[str, Any]) -> str:
    if item.get("country"):
        return html_cell(item["country"])
    return '<span class="muted">local</span>' if item.get("scope") == "local" else "?"


def _role(item: dict[str, Any]) -> str:
    """The remote side's role, its reason behind a disclosure."""
    role = html_cell(item.get("role") or "?")
    reason = item.get("role_reason")
    if not reason:
        return role
    return (f'<details class="evidence small"><summary>{role}</summary>{html_text(reason)}'
            "</details>")


def _seen(item: dict[str, Any], origin: float | None) -> str:
    first, last = parse_time(item.get("first_seen")), parse_time(item.get("last_seen"))
    if first is None or origin is None:
        return "?"
    text = offset_text(first - origin)
    if last is not None and last > first:
        text += f" for {duration_text(last - first)}"
    return f'<span class="nowrap">{text}</span>'


def derived_call(report: dict[str, Any], flows: list[dict[str, Any]]) -> dict[str, Any]:
    """A `call` section made from media flows (rows with their `endpoint`), for a report
    without one: the media flows and countries (no relays, peers, verdicts or findings)."""
    endpoints = {str(e.get("host")): e for e in report.get("endpoints") or []}
    media = []
    for flow in sorted(flows, key=lambda f: f.get("ts_start") or 0.0):
        endpoint = endpoints.get(str(flow.get("endpoint")), {})
        protocols = set(media_protocols(flow))
        entity = flow.get("entity")
        category = flow.get("category")
        if (flow.get("media") or {}).get("relay"):
            role = "relay"
        elif protocols & SERVER_FRAMINGS or (entity and category not in ("unknown", "local")):
            role = "server"
        else:
            role = "peer"
        start, end = flow.get("ts_start"), flow.get("ts_end")
        media.append({
            "started": _iso(start), "remote_ip": flow.get("server_ip"),
            "remote_port": flow.get("server_port"), "host": flow.get("host"),
            "protocol": flow.get("app_proto"), "role": role,
            "owner": entity or endpoint.get("as_org"),
            "owner_source": "classification" if entity else "as" if endpoint.get("as_org")
            else None,
            "category": category, "asn": endpoint.get("asn"), "country": endpoint.get("country"),
            "duration_s": (end - start) if isinstance(start, float) and isinstance(end, float)
            else None,
            "bytes_up": flow.get("bytes_up"), "bytes_down": flow.get("bytes_down"),
        })
    return {"totals": {"media_flows": len(media)}, "media_flows": media,
            "countries": _by_country(media)}


def _by_country(media: list[dict[str, Any]]) -> list[dict[str, Any]]:
    table: dict[str | None, dict[str, Any]] = {}
    for flow in media:
        row = table.setdefault(flow.get("country"), {"country": flow.get("country"), "flows": 0,
                                                    "bytes_up": 0, "bytes_down": 0,
                                                    "roles": []})
        row["flows"] += 1
        row["bytes_up"] += int(flow.get("bytes_up") or 0)
        row["bytes_down"] += int(flow.get("bytes_down") or 0)
        if flow["role"] not in row["roles"]:
            row["roles"].append(flow["role"])
    return sorted(table.values(), key=lambda r: -(r["bytes_up"] + r["bytes_down"]))


def _iso(ts: object) -> str | None:
    return iso_utc(ts) if isinstance(ts, (int, float)) else None
