"""Who took part in the call's media plane, from the media flow records of call_path: the
relays and servers (one per address), the peers (reached directly or through a relay), the
countries, and the user's own public addresses as remote sides reported them.

The user's public address is personal data: it is shown as a short hash (findings.redact)
unless the session shows values (--show-values), like every value the report finds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auditor.audit import SessionData
from auditor.classify.address_owner import AddressOwner
from auditor.names.addresses import AddressScope, address_scope
from auditor.records import Flow, split_address
from auditor.report.findings import redact

MAX_IDS = 100
COUNTERS = ("bytes_up", "bytes_down", "packets_up", "packets_down")


def shown_address(address: str | None, show_values: bool) -> str | None:
    """The user's own address as reports show it: itself with --show-values, else a hash."""
    if address is None:
        return None
    return address if show_values else redact(address)


def relays(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`call.relays`: one entry per relay or server address, most bytes first."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        if record["role"] != "peer":
            groups.setdefault(record["remote_ip"] or record["host"] or "?", []).append(record)
    out = []
    for address, members in groups.items():
        main = max(members, key=_bytes)
        relaying = [m for m in members if m["role"] == "relay"]
        out.append({
            "address": address,
            "ports": sorted({m["remote_port"] for m in members if m["remote_port"] is not None}),
            "hosts": sorted({m["host"] for m in members if m["host"]}),
            "role": "relay" if relaying else "server",
            "role_reason": (relaying[0] if relaying else main)["role_reason"],
            **{k: main[k] for k in ("owner", "owner_source", "category", "entity",
                                    "first_party", "label", "asn", "as_org", "country")},
            "turn_realm": next((m["turn_realm"] for m in members if m["turn_realm"]), None),
            "flows": len(members),
            **_sums(members),
            "first_seen": min(m["started"] for m in members),
            "last_seen": max(m["ended"] for m in members),
            "flow_ids": [m["flow_id"] for m in members][:MAX_IDS],
        })
    return sorted(out, key=lambda r: (-_bytes(r), r["address"]))


def peers(session: SessionData, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`call.peers`: every other participant's address, direct ones with their flows, those
    reached through a TURN relay with the relays; exposed ones first, then by bytes."""
    flows = {f.flow_id: f for f in session.flows}
    by_local_port: dict[tuple[str | None, int | None], list[str]] = {}
    for flow in session.flows:
        if flow.media is not None and flow.media.mapped_address:
            by_local_port.setdefault((flow.client_ip, flow.client_port), []).append(
                flow.media.mapped_address)
    direct: dict[str, list[dict[str, Any]]] = {}
    relayed: dict[str, list[tuple[dict[str, Any], int | None]]] = {}
    for record in records:
        if record["role"] == "peer" and record["remote_ip"]:
            direct.setdefault(record["remote_ip"], []).append(record)
        for text in record["peer_addresses"] or ():
            address, port = split_address(text)
            relayed.setdefault(address, []).append((record, port))
    out = []
    for address in {*direct, *relayed}:
        members = direct.get(address, [])
        via = relayed.get(address, [])
        owner = session.address_owners.get(address)
        main = max(members, key=_bytes) if members else None
        public = address_scope(address) is AddressScope.PUBLIC
        # A local peer sees the device's private address, not a public one.
        mine = _your_addresses(members, flows, by_local_port) if public else []
        exposed = bool(members) and public
        yours = session.address_owners.get(mine[0][0]) if mine else None
        out.append({
            "address": address,
            "scope": "public" if public else "local",
            "ports": sorted({m["remote_port"] for m in members if m["remote_port"] is not None}
                            | {p for _, p in via if p is not None}),
            "direct": bool(members),
            "through_relays": sorted({f"{r['remote_ip']}:{r['remote_port']}" for r, _ in via}),
            "exposed": exposed,
            "answered": any((m["bytes_down"] or 0) > 0 for m in members) if members else None,
            **_owner(main, owner),
            "your_addresses": [shown_address(a, session.show_values)
                               for a in dict.fromkeys(a for a, _ in mine)],
            "your_addresses_from": mine[0][1] if mine else None,
            "your_as_org": yours.facts.as_org if yours else None,
            "your_country": yours.facts.country if yours else None,
            "flows": len(members),
            **_sums(members),
            "first_seen": min((m["started"] for m in members), default=None),
            "last_seen": max((m["ended"] for m in members), default=None),
            "flow_ids": [m["flow_id"] for m in members][:MAX_IDS],
            "relay_flow_ids": list(dict.fromkeys(r["flow_id"] for r, _ in via))[:MAX_IDS],
        })
    return sorted(out, key=lambda p: (not p["exposed"], p["scope"] != "public", -_bytes(p),
                                      p["address"]))


def countries(records: list[dict[str, Any]],
              found_peers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`call.countries`: the countries of media flows' public remote sides, most bytes first
    (unknown last); peers reached only through a relay add their country as `peer`."""
    table: dict[str | None, dict[str, Any]] = {}

    def entry(country: str | None) -> dict[str, Any]:
        return table.setdefault(country, {"country": country, "flows": 0, "bytes_up": 0,
                                          "bytes_down": 0, "roles": set()})

    for record in records:
        if record["remote_scope"] != "public":
            continue
        row = entry(record["country"])
        row["flows"] += 1
        row["bytes_up"] += record["bytes_up"] or 0
        row["bytes_down"] += record["bytes_down"] or 0
        row["roles"].add(record["role"])
    for peer in found_peers:
        if peer["scope"] == "public" and not peer["direct"]:
            entry(peer["country"])["roles"].add("peer")
    rows = [{**row, "roles": sorted(row["roles"])} for row in table.values()]
    return sorted(rows, key=lambda r: (r["country"] is None, -_bytes(r), r["country"] or ""))


def your_public_addresses(session: SessionData,
                          records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`call.your_public_addresses`: the user's public addresses as remote sides reported
    them (STUN XOR-MAPPED-ADDRESS, Discord's IP discovery), most reported first."""
    flows = {f.flow_id: f for f in session.flows}
    table: dict[str, dict[str, Any]] = {}
    for record in records:
        media = flows[record["flow_id"]].media
        if media is None or media.mapped_address is None:
            continue
        address, port = split_address(media.mapped_address)
        row = table.setdefault(address, {"ports": set(), "seen_by": [], "flow_ids": []})
        if port is not None:
            row["ports"].add(port)
        if record["remote_ip"] and record["remote_ip"] not in row["seen_by"]:
            row["seen_by"].append(record["remote_ip"])
        row["flow_ids"].append(record["flow_id"])
    out = []
    for address, row in table.items():
        owner = session.address_owners.get(address)
        out.append({
            "address": shown_address(address, session.show_values),
            "ports": sorted(row["ports"]),
            "asn": owner.asn if owner else None,
            "as_org": owner.facts.as_org if owner else None,
            "country": owner.facts.country if owner else None,
            "seen_by": row["seen_by"][:MAX_IDS],
            "flow_ids": row["flow_ids"][:MAX_IDS],
        })
    return sorted(out, key=lambda r: (-len(r["flow_ids"]), r["address"]))


def _your_addresses(direct: list[dict[str, Any]], flows: dict[str, Flow],
                    by_local_port: dict[tuple[str | None, int | None], list[str]],
                    ) -> list[tuple[str, str]]:
    """The user's public addresses a peer saw, with where that is known from: the peer's own
    STUN answers on the direct flows (`peer`), else a server's answer for the same local
    address and port (`server`: the same NAT mapping, most likely)."""
    found = [(split_address(m)[0], "peer") for m in _mapped(flows[r["flow_id"]] for r in direct)]
    if found:
        return found
    same_port = (m for r in direct for m in by_local_port.get((r["local_ip"], r["local_port"]), []))
    return [(split_address(m)[0], "server") for m in same_port]


def _mapped(flows: Iterable[Flow]) -> list[str]:
    return [f.media.mapped_address for f in flows if f.media and f.media.mapped_address]


def _owner(main: dict[str, Any] | None, owner: AddressOwner | None) -> dict[str, Any]:
    """A peer's owner fields: from its largest direct flow, else from the address's AS."""
    facts = owner.facts if owner is not None else None
    as_fields = {"asn": owner.asn if owner is not None else None,
                 "as_org": facts.as_org if facts is not None else None,
                 "country": facts.country if facts is not None else None}
    if main is not None:
        return {k: main[k] for k in ("owner", "owner_source", "category", "entity",
                                     "first_party", "asn", "as_org", "country")}
    return {"owner": as_fields["as_org"], "owner_source": "as" if as_fields["as_org"] else None,
            "category": None, "entity": None, "first_party": None, **as_fields}


def _sums(members: list[dict[str, Any]]) -> dict[str, int | None]:
    """Totals of the counters; None when no member knows one (e.g. proxied packets)."""
    out: dict[str, int | None] = {}
    for key in COUNTERS:
        known = [m[key] for m in members if m[key] is not None]
        out[key] = sum(known) if known else None
    return out


def _bytes(row: dict[str, Any]) -> int:
    return int((row.get("bytes_up") or 0) + (row.get("bytes_down") or 0))
