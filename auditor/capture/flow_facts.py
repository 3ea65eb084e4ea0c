"""What a finished flow's own packets say about it, and the Flow record it becomes.

When a flow leaves the flow table its state is reduced to `facts`: a tuple of plain values
(addresses as text, counters, orientation, protocol, the names its payloads stated, its media
block, and what the personal-data scan reads: the client's plaintext HTTP stream and its DNS
questions). Only a name from the capture's DNS is missing, because an answer may come later
in the capture than the flow (names.dns_index); `named_flow` adds it once every answer is
known.
"""

from __future__ import annotations

import dataclasses
from operator import attrgetter
from typing import Any

from auditor.capture.flow_spill import Record, record_flow
from auditor.capture.flow_table import FlowState, ip_text
from auditor.names.dns_index import DnsIndex
from auditor.names.domains import is_ip_address
from auditor.records import Flow, HostSource, Media, Transport, Visibility

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

_media_values = attrgetter(*(f.name for f in dataclasses.fields(Media)))

Facts = tuple[Any, ...]
# Positions in a facts tuple.
(INDEX, TRANSPORT, TS_FIRST, TS_LAST, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT,
 ORIENTATION, HOST, HOST_SOURCE, EVIDENCE, APP_PROTO, BYTES_UP, BYTES_DOWN, PACKETS_UP,
 PACKETS_DOWN, SNI, HTTP_HOST, ALPN, TUNNEL, VLAN, METHOD, URL, MEDIA, CLIENT_STREAM,
 DNS_QUERIES) = range(27)


def flow_facts(state: FlowState, transport: Transport, ip_cache: dict[bytes, str]) -> Facts:
    """The facts of a finished TCP, UDP or ICMP flow."""
    client, orientation = state.client_side()
    a_ip, b_ip = ip_text(state.a_ip, ip_cache), ip_text(state.b_ip, ip_cache)
    counts = state.counts
    client_port: int | None
    server_port: int | None
    if client == 0:
        client_ip, client_port, server_ip, server_port = a_ip, state.a_port, b_ip, state.b_port
        up_p, up_b, down_p, down_b = counts
    else:
        client_ip, client_port, server_ip, server_port = b_ip, state.b_port, a_ip, state.a_port
        down_p, down_b, up_p, up_b = counts
    if transport is Transport.ICMP:
        client_port = server_port = None
    info = state.payload_info
    if info is None:
        return (state.index, transport.value, state.ts_first, state.ts_last, client_ip,
                client_port, server_ip, server_port, orientation.value, None,
                HostSource.NONE.value, None, None, up_b, down_b, up_p, down_p, None, None,
                None, state.tunnel, state.vlans, None, None, None, None, None)
    app_proto = info.app_proto
    sniffer = info.media_sniffer
    media = None
    if sniffer is not None:
        block = sniffer.seen.media(client, counts[0] + counts[2], state.ts_last - state.ts_first,
                                   counted=transport is Transport.UDP)
        media = _media_values(block) if block is not None else None
        app_proto = sniffer.seen.label() or app_proto
    sni, http = info.sni, info.http
    host, host_source, evidence = None, HostSource.NONE, None
    if sni is not None:
        kind = info.sni_kind or "sni"
        host, host_source = sni, SNI_SOURCES[kind]
        place = SNI_PLACES.get(kind, "the client's first handshake")
        evidence = f"{host_source.value.upper()} {sni} in {place}"
    elif http is not None and http.host is not None and not is_ip_address(http.host):
        # An address in Host (SSDP's 239.255.255.250:1900) is not a name: only in http_host.
        host, host_source = http.host, HostSource.HTTP_HOST
        evidence = f"HTTP Host {http.host} in the {http.method} request"
    return (state.index, transport.value, state.ts_first, state.ts_last, client_ip, client_port,
            server_ip, server_port, orientation.value, host, host_source.value, evidence,
            app_proto, up_b, down_b, up_p, down_p, sni, http.host if http else None, info.alpn,
            state.tunnel, state.vlans, http.method if http else None,
            http.url if http else None, media, info.client_stream,
            tuple(info.dns_queries) or None)


def named_flow(facts: Facts, flow_id: str, dns_index: DnsIndex,
               names_cache: dict[str, tuple[str, ...]]) -> Flow:
    """The Flow of `facts`, named from the capture's DNS when its payloads stated no name
    (`names_cache`: every DNS name for each server address, filled as it goes)."""
    return record_flow(named_record(facts, flow_id, dns_index, names_cache))


def named_record(facts: Facts, flow_id: str, dns_index: DnsIndex,
                 names_cache: dict[str, tuple[str, ...]]) -> Record:
    """`named_flow`'s Flow as the plain values a flow store keeps (flow_spill.flow_record),
    made straight from the facts."""
    host, host_source, evidence = facts[HOST], facts[HOST_SOURCE], facts[EVIDENCE]
    server_ip = facts[SERVER_IP]
    if host is None:
        dns = dns_index.name_at(server_ip, facts[TS_FIRST], facts[TS_LAST])
        if dns is not None:
            host, host_source, evidence = dns.name, _DNS_SOURCE, dns.evidence
    dns_names = names_cache.get(server_ip)
    if dns_names is None:
        dns_names = names_cache[server_ip] = dns_index.names_for(server_ip)
    app_proto = facts[APP_PROTO]
    visibility = _VISIBILITY.get(app_proto)
    # In the order of FLOW_FIELDS; what a capture does not tell (messages, HTTP status and
    # version, content types, error) is None.
    return (flow_id, facts[TS_FIRST], facts[TS_LAST], facts[TRANSPORT], facts[CLIENT_IP],
            facts[CLIENT_PORT], server_ip, facts[SERVER_PORT], facts[ORIENTATION], host,
            host_source, app_proto, facts[BYTES_UP], facts[BYTES_DOWN], facts[PACKETS_UP],
            facts[PACKETS_DOWN], None, None, visibility, facts[SNI], facts[HTTP_HOST],
            facts[ALPN], dns_names or None, evidence, facts[TUNNEL], facts[VLAN],
            facts[METHOD], facts[URL], None, None, None, None, None, facts[MEDIA])


def visibility_of(app_proto: str | None) -> Visibility | None:
    """How much of a flow labelled `app_proto` can be seen in a capture."""
    if app_proto in ENCRYPTED_PROTOS:
        return Visibility.ENCRYPTED
    if app_proto in PLAINTEXT_PROTOS:
        return Visibility.PLAINTEXT
    return None


_DNS_SOURCE = HostSource.DNS.value
_VISIBILITY = {proto: Visibility.ENCRYPTED.value for proto in ENCRYPTED_PROTOS} | {
    proto: Visibility.PLAINTEXT.value for proto in PLAINTEXT_PROTOS}
