"""Per-endpoint totals, added up one flow at a time: what the endpoints table and report.json's
`endpoints` need, without keeping the flows.

An endpoint is a flow's host name, or its server address when it has none. For each one this
keeps counts, byte and packet sums, first and last times, the sets of addresses, ports,
protocols and naming sources, the first MAX_FLOW_IDS flow ids, the first MAX_NAME_EVIDENCE
distinct ways its name was learned, how many of its flows got each classification (the
endpoint takes the most common, ties going to the earliest flow's), and per server address the
bytes, flows and first time that decide which address owner (AS, country) it is shown with.
The order of things follows the flows' order, so the result does not depend on how flows are
stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.classify.address_owner import AddressOwner
from auditor.names.domains import registrable_domain
from auditor.records import CATEGORY_ORDER, Classification, Flow

MAX_FLOW_IDS = 100
MAX_NAME_EVIDENCE = 3
UNKNOWN_ENDPOINT = "(no name or address)"
ENDPOINT_INTEGER_COLUMNS = ("flows", "bytes_up", "bytes_down", "packets_up", "packets_down")
OWNER_COLUMNS = ("asn", "as_org", "country", "countries")
ENDPOINT_COLUMNS = ("host", "domain", "ips", *OWNER_COLUMNS, "ports", "protocols",
                    "host_sources", "entity", "category", "first_party", "label",
                    *ENDPOINT_INTEGER_COLUMNS, "first_seen", "last_seen")
_RANK = {category.value: rank for rank, category in enumerate(CATEGORY_ORDER)}


def endpoint_key(host: str | None, server_ip: str | None) -> str:
    """A flow's endpoint: its host name, or its server address when it has none."""
    if host is not None:
        return host
    return server_ip if server_ip is not None else UNKNOWN_ENDPOINT


def _add(total: int | None, value: int | None) -> int | None:
    """A sum of the known values; None while none is known (e.g. a proxy's packets)."""
    if value is None:
        return total
    return value if total is None else total + value


@dataclass(slots=True)
class EndpointTotals:
    """What is known about one endpoint so far."""

    flows: int = 0
    bytes_up: int | None = None
    bytes_down: int | None = None
    packets_up: int | None = None
    packets_down: int | None = None
    first_seen: float | None = None
    last_seen: float | None = None
    ips: set[str] = field(default_factory=set)
    ports: set[int] = field(default_factory=set)
    protocols: set[str] = field(default_factory=set)
    host_sources: set[str] = field(default_factory=set)
    flow_ids: list[str] = field(default_factory=list)
    naming: dict[str, None] = field(default_factory=dict)  # distinct evidence, first seen first
    votes: dict[int, list[Any]] = field(default_factory=dict)  # id(verdict): [count, verdict]
    # Per server address: [bytes, flows, first start], in the order addresses were first seen.
    usage: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, flow: Flow, verdict: Classification) -> None:
        """Count one more flow of this endpoint."""
        self.flows += 1
        self.bytes_up = _add(self.bytes_up, flow.bytes_up)
        self.bytes_down = _add(self.bytes_down, flow.bytes_down)
        self.packets_up = _add(self.packets_up, flow.packets_up)
        self.packets_down = _add(self.packets_down, flow.packets_down)
        if self.first_seen is None or flow.ts_start < self.first_seen:
            self.first_seen = flow.ts_start
        if self.last_seen is None or flow.ts_end > self.last_seen:
            self.last_seen = flow.ts_end
        server_ip = flow.server_ip
        if server_ip is not None:
            self.ips.add(server_ip)
            used = self.usage.get(server_ip)
            size = (flow.bytes_up or 0) + (flow.bytes_down or 0)
            if used is None:
                self.usage[server_ip] = [size, 1, flow.ts_start]
            else:
                used[0] += size
                used[1] += 1
                if flow.ts_start < used[2]:
                    used[2] = flow.ts_start
        if flow.server_port is not None:
            self.ports.add(flow.server_port)
        self.protocols.add(flow.app_proto if flow.app_proto is not None else flow.transport.value)
        self.host_sources.add(flow.host_source.value)
        if len(self.flow_ids) < MAX_FLOW_IDS:
            self.flow_ids.append(flow.flow_id)
        if flow.name_evidence is not None and len(self.naming) < MAX_NAME_EVIDENCE:
            self.naming[flow.name_evidence] = None
        vote = self.votes.get(id(verdict))
        if vote is None:
            self.votes[id(verdict)] = [1, verdict]
        else:
            vote[0] += 1

    def verdict(self) -> Classification:
        """The classification most of its flows got (ties: the earliest flow's)."""
        best: list[Any] | None = None
        for vote in self.votes.values():
            if best is None or vote[0] > best[0]:
                best = vote
        assert best is not None
        verdict: Classification = best[1]
        return verdict

    def owner(self, owners: dict[str, AddressOwner]) -> dict[str, Any]:
        """The owner columns: those of the address that carried most bytes (ties: the most
        flows, then the earliest), and every country its addresses are in."""
        known = [(ip, used) for ip, used in self.usage.items() if ip in owners]
        if not known:
            return {"asn": None, "as_org": None, "country": None, "countries": []}
        known.sort(key=lambda item: (-item[1][0], -item[1][1], item[1][2]))
        countries = sorted({c for c in (owners[ip].facts.country for ip, _ in known) if c})
        return {**owners[known[0][0]].record(), "countries": countries}


class EndpointTable:
    """Every endpoint's totals, in the order endpoints were first seen."""

    def __init__(self) -> None:
        self.endpoints: dict[str, EndpointTotals] = {}

    def add(self, flow: Flow, verdict: Classification) -> None:
        """Count one flow to its endpoint."""
        key = endpoint_key(flow.host, flow.server_ip)
        totals = self.endpoints.get(key)
        if totals is None:
            totals = self.endpoints[key] = EndpointTotals()
        totals.add(flow, verdict)

    def rows(self, owners: dict[str, AddressOwner]) -> list[dict[str, Any]]:
        """One row per endpoint (the ENDPOINT_COLUMNS), by category, then bytes (largest
        first), then host."""
        rows = []
        for host, totals in self.endpoints.items():
            verdict = totals.verdict()
            rows.append({
                "host": host, "domain": registrable_domain(host),
                "ips": sorted(totals.ips), **totals.owner(owners),
                "ports": sorted(totals.ports), "protocols": sorted(totals.protocols),
                "host_sources": sorted(totals.host_sources), "entity": verdict.entity,
                "category": verdict.category.value, "first_party": verdict.first_party,
                "label": verdict.label, "flows": totals.flows, "bytes_up": totals.bytes_up,
                "bytes_down": totals.bytes_down, "packets_up": totals.packets_up,
                "packets_down": totals.packets_down, "first_seen": totals.first_seen,
                "last_seen": totals.last_seen,
            })
        rows.sort(key=lambda r: (_RANK.get(r["category"], len(_RANK)),
                                 -((r["bytes_up"] or 0) + (r["bytes_down"] or 0)), r["host"]))
        return rows
