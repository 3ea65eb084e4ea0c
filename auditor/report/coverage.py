"""The report's coverage section: what vcaudit could not see, and why.

Combines what the source counted (packets skipped, anomalies by kind, truncated files) with
what the flows show (flows without a name, encrypted flows, payloads not recognised), and
says it in sentences as well as numbers. The flows' part is added up one flow at a time
(`CoverageCounts`), so no table of flows is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.audit import SessionData
from auditor.quantities import byte_size, counted, plural
from auditor.records import (
    PINNING_REFUSAL,
    Category,
    Classification,
    Flow,
    Transport,
    Visibility,
)

READABLE = frozenset({Visibility.PLAINTEXT, Visibility.INTERCEPTED})
TOP_UNNAMED = 10
# How protocol labels are written in sentences; others are upper-cased (tls -> TLS).
PROTOCOL_NAMES = {"gquic": "gQUIC", "quic": "QUIC", "zoom-media": "Zoom media",
                  "discord-voice": "Discord voice", "sd-rtn": "Agora SD-RTN"}


@dataclass(slots=True)
class FlowGroup:
    """How many flows fell in a group, and their bytes (unknown counts as none)."""

    flows: int = 0
    bytes: int = 0

    def add(self, flow: Flow) -> None:
        """Count one flow."""
        self.flows += 1
        self.bytes += (flow.bytes_up or 0) + (flow.bytes_down or 0)

    def record(self) -> dict[str, int]:
        """The report's `flows` and `bytes`."""
        return {"flows": self.flows, "bytes": self.bytes}


@dataclass(slots=True)
class CoverageCounts:
    """What the flows show about coverage, counted one flow at a time."""

    named_by: dict[str, int] = field(default_factory=dict)
    unnamed: FlowGroup = field(default_factory=FlowGroup)
    unnamed_bytes_by_address: dict[str, int] = field(default_factory=dict)
    encrypted: FlowGroup = field(default_factory=FlowGroup)
    encrypted_by_protocol: dict[str, int] = field(default_factory=dict)
    readable: FlowGroup = field(default_factory=FlowGroup)
    opaque: FlowGroup = field(default_factory=FlowGroup)
    media: FlowGroup = field(default_factory=FlowGroup)
    media_by_protocol: dict[str, int] = field(default_factory=dict)
    pinned_hosts: set[str] = field(default_factory=set)
    handshakes_refused: int = 0
    passed_through: FlowGroup = field(default_factory=FlowGroup)

    def add(self, flow: Flow, verdict: Classification) -> None:
        """Count one flow (with its classification)."""
        source = flow.host_source.value
        self.named_by[source] = self.named_by.get(source, 0) + 1
        if source == "none" and verdict.category is not Category.LOCAL:
            self.unnamed.add(flow)
            if flow.server_ip is not None:
                address = flow.server_ip
                self.unnamed_bytes_by_address[address] = (
                    self.unnamed_bytes_by_address.get(address, 0)
                    + (flow.bytes_up or 0) + (flow.bytes_down or 0))
        visibility = flow.visibility
        if visibility is Visibility.ENCRYPTED:
            self.encrypted.add(flow)
            if flow.app_proto is not None:
                _count(self.encrypted_by_protocol, flow.app_proto)
        elif visibility in READABLE:
            self.readable.add(flow)
        elif visibility is Visibility.PINNED:
            if flow.host is not None:
                self.pinned_hosts.add(flow.host)
            if (flow.error or "").startswith(PINNING_REFUSAL):
                self.handshakes_refused += 1
            else:
                self.passed_through.add(flow)
        if flow.app_proto is None and flow.transport is not Transport.ICMP:
            self.opaque.add(flow)  # ICMP carries no application payload to recognise
        if flow.media is not None:
            self.media.add(flow)
            if flow.app_proto is not None:
                _count(self.media_by_protocol, flow.app_proto)


def _count(table: dict[str, int], key: str) -> None:
    table[key] = table.get(key, 0) + 1


def most_first(counts: dict[str, int]) -> dict[str, int]:
    """Counts, largest first; equal ones in the order they were first counted."""
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def build_coverage(session: SessionData, counts: CoverageCounts) -> dict[str, Any]:
    """The coverage section of report.json."""
    coverage: dict[str, Any] = {
        **session.coverage,
        "named_by": most_first(counts.named_by),
        "flows_without_name": {
            **counts.unnamed.record(),
            "top_addresses": top_addresses(counts.unnamed_bytes_by_address, TOP_UNNAMED),
        },
        "encrypted_flows": {**counts.encrypted.record(),
                            "by_protocol": most_first(counts.encrypted_by_protocol)},
        "readable_flows": counts.readable.record(),  # content vcaudit could read
        "unrecognised_payload_flows": counts.opaque.record(),
        "media_flows": {**counts.media.record(),
                        "by_protocol": most_first(counts.media_by_protocol)},
    }
    coverage["pinned"] = {
        "hosts": sorted(counts.pinned_hosts),
        "handshakes_refused": counts.handshakes_refused,
        "connections_passed_through": counts.passed_through.flows,
        "bytes_passed_through": counts.passed_through.bytes,
    }
    coverage["notes"] = _notes(coverage, session.source) + session.list_notes
    return coverage


def top_addresses(bytes_by_address: dict[str, int], limit: int) -> dict[str, int]:
    """The `limit` addresses with the most bytes, largest first.

    Reports before vcaudit 0.2 ranked them with pandas, whose default sort is not stable:
    addresses with equal bytes came in an order its sorting algorithm picked (on x86 with
    AVX-512, numpy's vectorised quicksort). To keep reports exactly as they were, equal counts
    are ranked the same way, with numpy, on the addresses in text order."""
    addresses = sorted(bytes_by_address)
    values = [bytes_by_address[a] for a in addresses]
    if len(set(values)) == len(values):
        order = sorted(range(len(values)), key=lambda i: -values[i])
    else:
        order = _unstable_descending(values)
    return {addresses[i]: values[i] for i in order[:limit]}


def _unstable_descending(values: list[int]) -> list[int]:
    """pandas' Series.sort_values(ascending=False) order of `values` (nargsort with numpy's
    default quicksort)."""
    import numpy as np  # only when equal counts make the order depend on it

    items = np.asarray(values, dtype=np.int64)[::-1]
    positions = np.arange(len(values))[::-1]
    return [int(i) for i in positions[items.argsort(kind="quicksort")][::-1]]


def _notes(coverage: dict[str, Any], source: str) -> list[str]:
    notes = []
    unnamed = coverage["flows_without_name"]
    if unnamed["flows"]:
        notes.append(
            f"{counted(unnamed['flows'], 'flow')} ({byte_size(unnamed['bytes'])}) to non-local "
            "addresses had no name: no SNI, Host or DNS answer in the input, and no published "
            f"IP range covers the address; {plural(unnamed['flows'], 'it is', 'they are')} "
            "listed by address."
        )
    encrypted = coverage["encrypted_flows"]
    if encrypted["flows"] and source == "pcap":
        protocols = ", ".join(f"{number} {PROTOCOL_NAMES.get(name, name.upper())}"
                              for name, number in encrypted["by_protocol"].items())
        count = encrypted["flows"]
        notes.append(
            f"{counted(count, 'flow')} ({byte_size(encrypted['bytes'])}) "
            f"{plural(count, 'was', 'were')} encrypted{f' ({protocols})' if protocols else ''}: "
            f"a capture shows where "
            f"{plural(count, 'it', 'they')} went, not what {plural(count, 'it', 'they')} "
            f"carried. Run `vcaudit proxy` to see inside {plural(count, 'it', 'them')}."
        )
    opaque = coverage["unrecognised_payload_flows"]
    if opaque["flows"]:
        notes.append(
            f"{counted(opaque['flows'], 'flow')} ({byte_size(opaque['bytes'])}) matched no "
            "protocol vcaudit decodes (proprietary or encrypted media, or a connection that "
            "carried no data)."
        )
    pinned = coverage["pinned"]
    if pinned["hosts"]:
        notes.append(
            "The client refused the proxy's certificate for "
            f"{counted(len(pinned['hosts']), 'host')} (certificate pinning, or the CA is not "
            f"trusted): {', '.join(pinned['hosts'])}. "
            f"{plural(len(pinned['hosts']), 'Its', 'Their')} contents could not be inspected; "
            "later connections were relayed untouched and are listed with their SNI and byte "
            "counts."
        )
    anomalies = coverage.get("anomalies", {})
    if anomalies.get("total"):
        kinds = ", ".join(f"{k} ({v})" for k, v in sorted(anomalies["by_kind"].items()))
        notes.append(f"{counted(anomalies['total'], 'malformed or undecodable item')} "
                     f"{plural(anomalies['total'], 'was', 'were')} skipped: {kinds}.")
    for item in coverage.get("inputs", []):
        if item.get("truncated"):
            notes.append(f"{item['path']}: {item['truncated']}; analysed up to that point.")
    skipped = coverage.get("packets_not_ip", {})
    if skipped:
        frames = sum(skipped.values())
        notes.append(f"{counted(frames, 'frame')} carried no IP traffic (ARP, LLDP, ...) and "
                     f"{plural(frames, 'was', 'were')} not analysed.")
    return notes
