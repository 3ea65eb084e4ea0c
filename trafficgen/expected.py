"""What a generated capture should give a reader: its flows with their names, and the manifest
written beside the capture file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class ExpectedFlow:
    """One flow as vcaudit should report it."""

    kind: str  # what the generator made it for: media, p2p, stun-probe, tls, http, quic, ...
    transport: str
    client_ip: str
    client_port: int | None
    server_ip: str
    server_port: int | None
    ts_start: int  # microseconds
    host: str | None = None
    host_source: str = "none"


def name_from_dns(flows: list[ExpectedFlow], answers: dict[str, list[tuple[int, str]]]) -> None:
    """Name the flows that carry no name of their own the way vcaudit does: from the capture's
    DNS answers for their server address (`answers`: address -> (µs, name asked)), the last
    answer before the flow started, else the first one after."""
    for flow in flows:
        if flow.host_source != "none":
            continue
        named = sorted(answers.get(flow.server_ip, ()))
        if not named:
            continue
        before = [a for a in named if a[0] <= flow.ts_start]
        flow.host = (before[-1] if before else named[0])[1]
        flow.host_source = "dns"


def unique_flows(flows: list[ExpectedFlow]) -> list[ExpectedFlow]:
    """UDP and ICMP flows with the same endpoints are one flow (a reused port, a ping)."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for flow in sorted(flows, key=lambda f: f.ts_start):
        key = (flow.transport, flow.client_ip, flow.client_port, flow.server_ip,
               flow.server_port)
        if flow.transport != "tcp" and key in seen:
            continue
        seen.add(key)
        out.append(flow)
    return out


@dataclass(slots=True)
class Manifest:
    """A generated capture: how it was made, its packets by kind and its flows."""

    path: str
    file_format: str
    seed: int
    generator_version: int
    packets: int = 0
    duration_s: float = 0.0
    non_ip_frames: int = 0
    packets_by_kind: dict[str, int] = field(default_factory=dict)
    flows: list[ExpectedFlow] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The manifest without the per-flow list, with flow counts."""
        by_transport: dict[str, int] = {}
        by_source: dict[str, int] = {}
        by_kind: dict[str, int] = {}
        for flow in self.flows:
            by_transport[flow.transport] = by_transport.get(flow.transport, 0) + 1
            by_source[flow.host_source] = by_source.get(flow.host_source, 0) + 1
            by_kind[flow.kind] = by_kind.get(flow.kind, 0) + 1
        out = {k: v for k, v in asdict(self).items() if k != "flows"}
        out.update(flows=len(self.flows), flows_by_transport=dict(sorted(by_transport.items())),
                   flows_by_host_source=dict(sorted(by_source.items())),
                   flows_by_kind=dict(sorted(by_kind.items())))
        return out
