"""From a pcap or pcapng file to named `Flow` records, DNS answers and a count of what was
skipped. This is the offline source: frames are decoded and tracked in one pass; names from
the capture's own DNS are applied at the end, when every answer is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from auditor.capture.flow_table import TRANSPORT_OF_PROTO, FlowState, FlowTable, ip_text
from auditor.capture.headers import NonIpFrameError, PacketError, decode_frame
from auditor.capture.inspector import FlowInspector
from auditor.capture.reader import ProgressCallback, ReadStatus, read_frames
from auditor.names.dns_index import DnsIndex, answers_from_message
from auditor.names.domains import is_ip_address
from auditor.personal_data.request_fields import RequestData
from auditor.personal_data.scan import ScanContext, scan_names, scan_request
from auditor.protocols.dns import DnsMessage
from auditor.records import (
    Anomaly,
    AnomalyLog,
    DnsAnswer,
    Finding,
    Flow,
    HostSource,
    Transport,
    Visibility,
)

# What a protocol label says about visibility: every label the inspector sets is in one set
# (Google QUIC's and Agora's hellos are readable, but what follows them is not; Zoom and
# Discord encrypt the media payload behind readable headers, as SRTP does).
ENCRYPTED_PROTOS = frozenset({"tls", "quic", "gquic", "dtls", "ssh", "srtp", "srtcp",
                              "zoom-media", "discord-voice", "sd-rtn"})
PLAINTEXT_PROTOS = frozenset({"dns", "mdns", "llmnr", "http", "ssdp", "stun", "turn", "dhcp",
                              "dhcpv6", "netbios-ns", "netbios-dgm", "ntp", "snmp",
                              "ws-discovery", "sip", "rtp", "rtcp"})
SNI_SOURCES = {"sni": HostSource.SNI, "quic-sni": HostSource.QUIC_SNI,
               "dtls-sni": HostSource.DTLS_SNI, "sd-rtn-sni": HostSource.QUIC_SNI}
# Where a server name was stated, in name_evidence (default: the client's first handshake).
SNI_PLACES = {"sd-rtn-sni": "the client's Agora SD-RTN hello"}
LOCAL_RESOLUTION = frozenset({"mdns", "llmnr"})  # their answers name local addresses only


@dataclass(slots=True)
class CaptureReading:
    """Everything read from one capture file."""

    status: ReadStatus
    flows: list[Flow] = field(default_factory=list)
    dns_answers: list[DnsAnswer] = field(default_factory=list)
    anomalies: AnomalyLog = field(default_factory=AnomalyLog)
    findings: list[Finding] = field(default_factory=list)  # personal data in clear payloads
    non_ip: dict[str, int] = field(default_factory=dict)  # frames without IP, by kind
    other_ip: dict[int, int] = field(default_factory=dict)  # packets of other IP protocols


def read_capture(
    path: Path, flow_id_prefix: str = "F", progress: ProgressCallback | None = None,
    scan: ScanContext | None = None,
) -> CaptureReading:
    """Read one capture into flows, and scan what is readable in it (plaintext HTTP requests,
    DNS query names) for personal data. Raises InputError if it is not a capture at all."""
    reading = CaptureReading(status=ReadStatus(path=str(path)))
    anomalies = reading.anomalies
    packet_number = 0

    def note(kind: str, detail: str) -> None:
        anomalies.add(Anomaly(kind, detail, packet=packet_number))

    finished: list[FlowState] = []
    dns_messages: list[tuple[FlowState, float, DnsMessage]] = []
    table = FlowTable(note, finished.append,
                      lambda state, ts, message: dns_messages.append((state, ts, message)))
    add = table.add
    non_ip = reading.non_ip
    for ts, linktype, data, wirelen in read_frames(path, reading.status, progress):
        packet_number += 1
        try:
            add(ts, wirelen, decode_frame(linktype, data), data)
        except NonIpFrameError as exc:
            non_ip[exc.what] = non_ip.get(exc.what, 0) + 1
        except PacketError as exc:
            note(exc.kind, exc.detail)
    if reading.status.truncated:
        anomalies.add(Anomaly("capture-truncated", reading.status.truncated))
    table.finish_all()
    finished.sort(key=lambda state: state.index)
    _build_records(reading, finished, dns_messages, flow_id_prefix,
                   scan or ScanContext.build([]))
    return reading


def _build_records(reading: CaptureReading, states: list[FlowState],
                   dns_messages: list[tuple[FlowState, float, DnsMessage]], prefix: str,
                   scan: ScanContext) -> None:
    ids = {id(state): f"{prefix}{n:06d}" for n, state in enumerate(states, start=1)}
    local_resolution: set[str] = set()  # mDNS and LLMNR exchanges: they name local addresses
    for state, ts, message in dns_messages:
        reading.dns_answers.extend(answers_from_message(ids[id(state)], ts, message))
        if state.payload_info is not None and state.payload_info.app_proto in LOCAL_RESOLUTION:
            local_resolution.add(ids[id(state)])
    dns_index = DnsIndex(reading.dns_answers, local_resolution)
    ip_cache: dict[bytes, str] = {}
    names_cache: dict[str, tuple[str, ...]] = {}  # server address -> every DNS name for it
    for state in states:
        transport = TRANSPORT_OF_PROTO.get(state.proto)
        if transport is None:
            reading.other_ip[state.proto] = (
                reading.other_ip.get(state.proto, 0) + state.counts[0] + state.counts[2]
            )
            continue
        flow = _flow(state, ids[id(state)], Transport(transport), dns_index, ip_cache,
                     names_cache)
        reading.flows.append(flow)
        if state.payload_info is not None:
            _scan_payloads(reading, flow, state.payload_info, scan)


def _scan_payloads(reading: CaptureReading, flow: Flow, info: FlowInspector,
                   scan: ScanContext) -> None:
    """Personal data in what the capture shows in the clear: HTTP requests and DNS names."""
    for request in info.http_requests():
        head = request.head
        outcome = scan_request(flow.flow_id, flow.host, RequestData(
            method=head.method, url=head.url or head.target, headers=head.headers,
            body=request.body, body_complete=request.complete), scan, flow.client_ip)
        reading.findings.extend(outcome.findings)
        if outcome.partial:
            reading.anomalies.add(Anomaly("body-partially-scanned", "; ".join(outcome.partial),
                                          flow_id=flow.flow_id))
    if info.dns_queries and scan.needles:
        reading.findings.extend(scan_names(flow.flow_id, info.dns_queries, scan))


def _flow(state: FlowState, flow_id: str, transport: Transport, dns_index: DnsIndex,
          ip_cache: dict[bytes, str], names_cache: dict[str, tuple[str, ...]]) -> Flow:
    client, orientation = state.client_side()
    a_ip, b_ip = ip_text(state.a_ip, ip_cache), ip_text(state.b_ip, ip_cache)
    counts = state.counts
    if client == 0:
        client_ip, client_port, server_ip, server_port = a_ip, state.a_port, b_ip, state.b_port
        up_p, up_b, down_p, down_b = counts
    else:
        client_ip, client_port, server_ip, server_port = b_ip, state.b_port, a_ip, state.a_port
        down_p, down_b, up_p, up_b = counts
    info = state.payload_info
    app_proto = info.app_proto if info else None
    sniffer = info.media_sniffer if info else None
    media = None
    if sniffer is not None:
        media = sniffer.seen.media(client, counts[0] + counts[2], state.ts_last - state.ts_first,
                                   counted=transport is Transport.UDP)
        app_proto = sniffer.seen.label() or app_proto
    sni = info.sni if info else None
    http = info.http if info else None
    host, host_source, evidence = None, HostSource.NONE, None
    if sni is not None and info is not None:
        kind = info.sni_kind or "sni"
        host, host_source = sni, SNI_SOURCES[kind]
        place = SNI_PLACES.get(kind, "the client's first handshake")
        evidence = f"{host_source.value.upper()} {sni} in {place}"
    elif http is not None and http.host is not None and not is_ip_address(http.host):
        # An address in Host (SSDP's 239.255.255.250:1900) is not a name: only in http_host.
        host, host_source = http.host, HostSource.HTTP_HOST
        evidence = f"HTTP Host {http.host} in the {http.method} request"
    else:
        dns = dns_index.name_at(server_ip, state.ts_first, state.ts_last)
        if dns is not None:
            host, host_source, evidence = dns.name, HostSource.DNS, dns.evidence
    dns_names = names_cache.get(server_ip)
    if dns_names is None:
        dns_names = names_cache[server_ip] = dns_index.names_for(server_ip)
    ports_apply = transport is not Transport.ICMP
    return Flow(
        flow_id=flow_id,
        ts_start=state.ts_first,
        ts_end=state.ts_last,
        transport=transport,
        client_ip=client_ip,
        client_port=client_port if ports_apply else None,
        server_ip=server_ip,
        server_port=server_port if ports_apply else None,
        orientation=orientation,
        host=host,
        host_source=host_source,
        app_proto=app_proto,
        bytes_up=up_b,
        bytes_down=down_b,
        packets_up=up_p,
        packets_down=down_p,
        visibility=_visibility(app_proto),
        sni=sni,
        http_host=http.host if http else None,
        alpn=info.alpn if info else None,
        dns_names=dns_names or None,
        name_evidence=evidence,
        tunnel=state.tunnel,
        vlan=state.vlans,
        method=http.method if http else None,
        url=http.url if http else None,
        media=media,
    )


def _visibility(app_proto: str | None) -> Visibility | None:
    if app_proto in ENCRYPTED_PROTOS:
        return Visibility.ENCRYPTED
    if app_proto in PLAINTEXT_PROTOS:
        return Visibility.PLAINTEXT
    return None
