"""From capture files written with scapy to named, oriented flows: formats and interfaces,
orientation, TCP reassembly of the ClientHello, names from the capture's DNS (fragmented
responses too), anomalies, ICMP, non-IP frames and byte counts."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import ARP, CookedLinuxV2, Ether
from scapy.packet import Packet, Raw
from scapy.utils import PcapNgWriter, PcapWriter

from auditor.capture.reading import CaptureReading, read_capture
from auditor.errors import InputError
from auditor.records import Flow, HostSource, Orientation, Transport, Visibility

from .conftest import tls_client_hello, tls_records, write_pcap, write_pcapng

T0 = 1_762_092_000.0
CLIENT = "192.168.1.23"
SERVER = "170.114.52.2"
RESOLVER = "192.168.1.1"
PUBLIC_HOST = "198.51.100.23"  # a device with a public address: only ports or payloads tell
HELLO = tls_client_hello(server_name=b"zoomgov.com")
RECORD = tls_records(HELLO)
LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_LINUX_SLL2 = 1, 228, 276


def timed(packets: Iterable[Packet], start: float = T0, step: float = 0.01) -> list[Packet]:
    out = []
    for n, packet in enumerate(packets):
        packet.time = start + n * step
        out.append(packet)
    return out


def eth(packet: Packet) -> Packet:
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / packet


def tcp(src: str, dst: str, sport: int, dport: int, flags: str, seq: int, ack: int = 0,
        payload: bytes = b"") -> Packet:
    packet = eth(IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq,
                                            ack=ack))
    return packet / Raw(payload) if payload else packet


def handshake(client: str = CLIENT, server: str = SERVER, cport: int = 50123, sport: int = 443,
              isn: int = 1000, server_isn: int = 7000) -> list[Packet]:
    return [
        tcp(client, server, cport, sport, "S", isn),
        tcp(server, client, sport, cport, "SA", server_isn, isn + 1),
        tcp(client, server, cport, sport, "A", isn + 1, server_isn + 1),
    ]


def client_data(payload: bytes, seq: int, client: str = CLIENT, server: str = SERVER,
                cport: int = 50123, sport: int = 443) -> Packet:
    return tcp(client, server, cport, sport, "PA", seq, 7001, payload)


def dns_exchange(name: str, addresses: list[str], txid: int = 1, cport: int = 53001,
                 cnames: tuple[str, ...] = ()) -> list[Packet]:
    owner = cnames[-1] if cnames else name
    chain = (name, *cnames)
    answers = [DNSRR(rrname=a, type="CNAME", ttl=60, rdata=b) for a, b in pairwise(chain)]
    answers += [DNSRR(rrname=owner, type="A", ttl=60, rdata=a) for a in addresses]
    query = eth(IP(src=CLIENT, dst=RESOLVER) / UDP(sport=cport, dport=53) /
                DNS(id=txid, rd=1, qd=DNSQR(qname=name)))
    response = eth(IP(src=RESOLVER, dst=CLIENT) / UDP(sport=53, dport=cport) /
                   DNS(id=txid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name), an=answers))
    return [query, response]


def pcapng_link_types(path: Path) -> list[int]:
    """The link type of every Interface Description Block of a little-endian pcapng file."""
    data = path.read_bytes()
    link_types = []
    pos = 0
    while pos + 12 <= len(data):
        block_type, length = struct.unpack_from("<II", data, pos)
        if block_type == 1:
            link_types.append(struct.unpack_from("<H", data, pos + 8)[0])
        pos += length
    return link_types


def read(tmp_path: Path, packets: Iterable[Packet], name: str = "capture.pcap") -> CaptureReading:
    return read_capture(write_pcap(tmp_path / name, packets))


def only_flow(reading: CaptureReading, transport: Transport | None = None) -> Flow:
    flows = [f for f in reading.flows if transport is None or f.transport is transport]
    assert len(flows) == 1, flows
    return flows[0]


def flow_to(reading: CaptureReading, server_ip: str, server_port: int | None = None) -> Flow:
    flows = [f for f in reading.flows if f.server_ip == server_ip
             and (server_port is None or f.server_port == server_port)]
    assert len(flows) == 1, reading.flows
    return flows[0]


def mixed_call() -> list[Packet]:
    """DNS, a TLS connection whose ClientHello spans two segments, and UDP media."""
    media = [eth(IP(src=CLIENT, dst=SERVER) / UDP(sport=60000, dport=8801) / (b"\x90" * 200)),
             eth(IP(src=SERVER, dst=CLIENT) / UDP(sport=8801, dport=60000) / (b"\x90" * 900))]
    return timed([
        *dns_exchange("zoom.us", [SERVER]),
        *handshake(),
        client_data(RECORD[:1200], 1001),
        client_data(RECORD[1200:], 1001 + 1200),
        tcp(SERVER, CLIENT, 443, 50123, "PA", 7001, 1001 + len(RECORD), b"\x16\x03\x03" +
            b"\x00\x04\x02\x00\x00\x00"),
        *media,
    ])


# --- formats and interfaces -----------------------------------------------------------------


def test_pcap_and_pcapng_read_the_same_flows(tmp_path: Path) -> None:
    packets = mixed_call()
    from_pcap = read_capture(write_pcap(tmp_path / "call.pcap", packets))
    from_ng = read_capture(write_pcapng(tmp_path / "call.pcapng", packets))
    assert from_pcap.flows == from_ng.flows
    assert from_pcap.dns_answers == from_ng.dns_answers
    assert from_pcap.anomalies.counts == from_ng.anomalies.counts == {}
    assert (from_pcap.status.packets, from_ng.status.packets) == (len(packets), len(packets))
    dns, tls, media = from_pcap.flows
    assert (dns.app_proto, dns.server_ip, dns.server_port) == ("dns", RESOLVER, 53)
    assert (tls.host, tls.host_source, tls.alpn) == ("zoomgov.com", HostSource.SNI,
                                                      ("h2", "http/1.1"))
    assert tls.visibility is Visibility.ENCRYPTED
    assert (media.host, media.host_source, media.server_port) == ("zoom.us", HostSource.DNS, 8801)
    assert [f.flow_id for f in from_pcap.flows] == ["F000001", "F000002", "F000003"]


def test_pcapng_with_ethernet_and_linux_cooked_interfaces(tmp_path: Path) -> None:
    """`tcpdump -i any` beside a Wi-Fi capture: each interface its own link type. scapy writes
    one IDB per interface name, so every packet names its interface."""
    wlan = dns_exchange("teams.microsoft.com", ["52.112.0.5"])
    for packet in wlan:
        packet.sniffed_on = "wlan0"
    cooked = []
    for frame in [*handshake(server="52.112.0.5"),
                  client_data(RECORD, 1001, server="52.112.0.5")]:
        packet = CookedLinuxV2(proto=0x0800, ifindex=2, lladdrlen=6) / frame[IP]
        packet.sniffed_on = "any"
        cooked.append(packet)
    raw_ip = IP(src=CLIENT, dst="52.112.0.5") / UDP(sport=50020, dport=3479) / (b"m" * 40)
    raw_ip.sniffed_on = "tun0"
    path = tmp_path / "two-interfaces.pcapng"
    with PcapNgWriter(str(path)) as writer:
        for packet in timed([*wlan, *cooked, raw_ip]):
            writer.write(packet)
    assert pcapng_link_types(path) == [LINKTYPE_ETHERNET, LINKTYPE_ETHERNET,
                                       LINKTYPE_LINUX_SLL2, LINKTYPE_IPV4]
    reading = read_capture(path)
    assert reading.anomalies.counts == {} and reading.non_ip == {}
    tls = flow_to(reading, "52.112.0.5", 443)
    assert (tls.client_ip, tls.client_port, tls.host) == (CLIENT, 50123, "zoomgov.com")
    media = flow_to(reading, "52.112.0.5", 3479)
    assert media.host == "teams.microsoft.com" and media.host_source is HostSource.DNS
    assert media.bytes_up == len(raw_ip)


def test_nanosecond_timestamps_reach_the_flows(tmp_path: Path) -> None:
    first = eth(IP(src=CLIENT, dst=SERVER) / UDP(sport=60000, dport=8801) / b"a")
    last = eth(IP(src=SERVER, dst=CLIENT) / UDP(sport=8801, dport=60000) / b"b")
    first.time = Decimal("1000.000000001")
    last.time = Decimal("1000.000000999")
    path = tmp_path / "nano.pcap"
    with PcapWriter(str(path), nano=True, sync=True) as writer:
        writer.write(first)
        writer.write(last)
    flow = only_flow(read_capture(path))
    assert flow.ts_start == pytest.approx(1000.000000001, abs=1e-10)
    assert flow.ts_end == pytest.approx(1000.000000999, abs=1e-10)


def test_truncated_pcap_is_read_up_to_the_cut(tmp_path: Path) -> None:
    packets = mixed_call()
    data = write_pcap(tmp_path / "full.pcap", packets).read_bytes()
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[: len(data) - 300])  # inside the last media packet
    reading = read_capture(path)
    assert reading.status.truncated == f"file ends inside packet {len(packets)}"
    assert reading.anomalies.counts.get("capture-truncated") == 1
    (example,) = reading.anomalies.examples["capture-truncated"]
    assert example.detail == reading.status.truncated
    tls = flow_to(reading, SERVER, 443)
    assert tls.host == "zoomgov.com"  # everything before the cut is intact
    media = flow_to(reading, SERVER, 8801)
    assert media.packets_up == 1  # the cut packet's headers are gone


def test_truncated_pcapng_block_is_reported(tmp_path: Path) -> None:
    packets = mixed_call()
    data = write_pcapng(tmp_path / "full.pcapng", packets).read_bytes()
    path = tmp_path / "cut.pcapng"
    path.write_bytes(data[: len(data) - 100])
    reading = read_capture(path)
    assert reading.status.packets == len(packets) - 1
    assert reading.status.truncated is not None
    assert reading.anomalies.counts.get("capture-truncated") == 1
    assert flow_to(reading, SERVER, 443).host == "zoomgov.com"


def test_text_file_raises_input_error(tmp_path: Path) -> None:
    path = tmp_path / "call.pcap"
    path.write_text("Meeting notes: call with the Zoom team at 10:00\n")
    with pytest.raises(InputError, match="not a pcap or pcapng capture"):
        read_capture(path)


# --- orientation ----------------------------------------------------------------------------


def test_syn_sender_is_the_client_even_when_the_syn_ack_came_first(tmp_path: Path) -> None:
    syn, syn_ack, ack = handshake()
    reading = read(tmp_path, timed([syn_ack, syn, ack, client_data(RECORD, 1001)]))
    flow = only_flow(reading)
    assert (flow.client_ip, flow.client_port, flow.server_ip, flow.server_port) == (
        CLIENT, 50123, SERVER, 443)
    assert (flow.packets_up, flow.packets_down) == (3, 1)
    assert flow.host == "zoomgov.com"
    assert flow.orientation is Orientation.TCP_SYN


def test_syn_sender_is_the_client_even_with_the_higher_server_port(tmp_path: Path) -> None:
    # An FTP-style active connection: the client's port is 20, the server's 52000.
    reading = read(tmp_path, timed(handshake(cport=20, sport=52000)))
    flow = only_flow(reading)
    assert (flow.client_ip, flow.client_port, flow.server_port) == (CLIENT, 20, 52000)


def test_without_syn_the_client_hello_sender_is_the_client(tmp_path: Path) -> None:
    """A capture started mid-connection between two public hosts on high ports: the server
    speaks first and has the higher port, so only the ClientHello says who the client is."""
    reading = read(tmp_path, timed([
        tcp(SERVER, PUBLIC_HOST, 52000, 51000, "A", 7001, 1001),
        client_data(RECORD, 1001, client=PUBLIC_HOST, cport=51000, sport=52000),
        tcp(SERVER, PUBLIC_HOST, 52000, 51000, "PA", 7001, 1001 + len(RECORD),
            b"\x16\x03\x03\x00"),
    ]))
    flow = only_flow(reading)
    assert (flow.client_ip, flow.client_port, flow.server_ip, flow.server_port) == (
        PUBLIC_HOST, 51000, SERVER, 52000)
    assert flow.host == "zoomgov.com"
    assert (flow.packets_up, flow.packets_down) == (1, 2)
    assert flow.orientation is Orientation.PROTOCOL


@pytest.mark.parametrize("server_port", [3478, 8801, 19302, 443, 123])
def test_udp_with_one_well_known_port(tmp_path: Path, server_port: int) -> None:
    # The server speaks first; the well-known port still marks it.
    reading = read(tmp_path, timed([
        eth(IP(src=SERVER, dst=PUBLIC_HOST) / UDP(sport=server_port, dport=50500) /
            (b"media-data" * 3)),
        eth(IP(src=PUBLIC_HOST, dst=SERVER) / UDP(sport=50500, dport=server_port) /
            (b"media-data" * 3)),
    ]))
    flow = only_flow(reading)
    assert (flow.client_ip, flow.client_port, flow.server_port) == (PUBLIC_HOST, 50500,
                                                                    server_port)
    assert flow.orientation is Orientation.WELL_KNOWN_PORT


def test_udp_between_two_high_ports_lower_port_is_the_server(tmp_path: Path) -> None:
    reading = read(tmp_path, timed([
        eth(IP(src=SERVER, dst=PUBLIC_HOST) / UDP(sport=41000, dport=52000) / b"media-data"),
        eth(IP(src=PUBLIC_HOST, dst=SERVER) / UDP(sport=52000, dport=41000) / b"media-data"),
    ]))
    flow = only_flow(reading)
    assert (flow.client_port, flow.server_port) == (52000, 41000)
    assert flow.orientation is Orientation.LOWER_PORT


def test_equal_ports_first_sender_is_the_client(tmp_path: Path) -> None:
    reading = read(tmp_path, timed([
        eth(IP(src=SERVER, dst=PUBLIC_HOST) / UDP(sport=5004, dport=5004) / b"rtp-like-data"),
        eth(IP(src=PUBLIC_HOST, dst=SERVER) / UDP(sport=5004, dport=5004) / b"rtp-like-data"),
        eth(IP(src=PUBLIC_HOST, dst=SERVER) / UDP(sport=5004, dport=5004) / b"rtp-like-data"),
    ]))
    flow = only_flow(reading)
    assert (flow.client_ip, flow.server_ip) == (SERVER, PUBLIC_HOST)
    assert (flow.packets_up, flow.packets_down) == (1, 2)
    assert flow.orientation is Orientation.FIRST_SENDER


def test_dns_query_sender_is_the_client_even_when_the_response_came_first(
    tmp_path: Path,
) -> None:
    # Resolver to resolver on port 53 both ways: neither ports nor order tell, the query does.
    query, response = dns_exchange("zoom.us", [SERVER], cport=53)
    reading = read(tmp_path, timed([response, query]))
    flow = only_flow(reading)
    assert (flow.client_ip, flow.server_ip) == (CLIENT, RESOLVER)
    assert (flow.packets_up, flow.packets_down) == (1, 1)
    assert flow.orientation is Orientation.PROTOCOL


# --- TCP connections and reassembly ---------------------------------------------------------


def test_tcp_five_tuple_reuse_after_fin_gives_two_flows(tmp_path: Path) -> None:
    first_record = tls_records(tls_client_hello(server_name=b"first.zoom.us"))
    second_record = tls_records(tls_client_hello(server_name=b"second.zoom.us"))
    reading = read(tmp_path, timed([
        *handshake(isn=1000),
        client_data(first_record, 1001),
        tcp(CLIENT, SERVER, 50123, 443, "FA", 1001 + len(first_record), 7001),
        tcp(SERVER, CLIENT, 443, 50123, "FA", 7001, 1002 + len(first_record)),
        tcp(CLIENT, SERVER, 50123, 443, "A", 1002 + len(first_record), 7002),
        *handshake(isn=900_000, server_isn=50_000),
        client_data(second_record, 900_001),
    ]))
    first, second = reading.flows
    assert (first.host, second.host) == ("first.zoom.us", "second.zoom.us")
    assert (first.packets_up, first.packets_down) == (5, 2)
    assert (second.packets_up, second.packets_down) == (3, 1)
    assert first.ts_end < second.ts_start
    assert first.flow_id != second.flow_id


def test_retransmitted_syn_does_not_split_the_flow(tmp_path: Path) -> None:
    syn, syn_ack, ack = handshake()
    reading = read(tmp_path, timed([syn, syn, syn_ack, ack, client_data(RECORD, 1001)]))
    flow = only_flow(reading)
    assert flow.packets_up == 4 and flow.host == "zoomgov.com"


def _segments(order: str) -> list[Packet]:
    first = client_data(RECORD[:1000], 1001)
    second = client_data(RECORD[1000:], 2001)
    if order == "in-order":
        return [first, second]
    if order == "out-of-order":
        return [second, first]
    if order == "retransmission":
        return [first, first, second]
    if order == "overlapping-retransmission":
        return [first, client_data(RECORD[500:1300], 1501), second]
    raise AssertionError(order)


@pytest.mark.parametrize("order", ["in-order", "out-of-order", "retransmission",
                                   "overlapping-retransmission"])
def test_client_hello_split_over_two_segments_is_named(tmp_path: Path, order: str) -> None:
    assert len(RECORD) > 1500
    reading = read(tmp_path, timed([*handshake(), *_segments(order)]))
    flow = only_flow(reading)
    assert (flow.host, flow.host_source, flow.sni) == ("zoomgov.com", HostSource.SNI,
                                                        "zoomgov.com")
    assert flow.app_proto == "tls" and flow.alpn == ("h2", "http/1.1")
    assert reading.anomalies.counts == {}


def test_client_hello_in_two_records_over_three_segments(tmp_path: Path) -> None:
    stream = tls_records(HELLO, split_at=(800,))
    reading = read(tmp_path, timed([
        *handshake(),
        client_data(stream[:600], 1001),
        client_data(stream[1200:], 1001 + 1200),
        client_data(stream[600:1200], 1001 + 600),
    ]))
    assert only_flow(reading).host == "zoomgov.com"


def test_http_request_is_named_by_host(tmp_path: Path) -> None:
    request = b"GET /ocsp/MFEw HTTP/1.1\r\nHost: ocsp.digicert.com\r\nAccept: */*\r\n\r\n"
    reading = read(tmp_path, timed([*handshake(sport=80), client_data(request, 1001, sport=80)]))
    flow = only_flow(reading)
    assert (flow.host, flow.host_source, flow.method) == ("ocsp.digicert.com",
                                                          HostSource.HTTP_HOST, "GET")
    assert flow.url == "http://ocsp.digicert.com/ocsp/MFEw"
    assert flow.visibility is Visibility.PLAINTEXT


def test_ssdp_search_is_named_with_a_url_without_the_asterisk(tmp_path: Path) -> None:
    search = (b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
              b"MX: 1\r\nST: ssdp:all\r\n\r\n")
    reading = read(tmp_path, timed([
        eth(IP(src=CLIENT, dst="239.255.255.250") / UDP(sport=51000, dport=1900) / search),
    ]))
    flow = only_flow(reading)
    assert (flow.app_proto, flow.http_host, flow.method) == ("ssdp", "239.255.255.250",
                                                             "M-SEARCH")
    assert flow.url == "http://239.255.255.250:1900"
    # The Host header holds an address, not a name: the flow is not named by it.
    assert (flow.host, flow.host_source, flow.name_evidence) == (None, HostSource.NONE, None)


@pytest.mark.parametrize(("host_header", "http_host"), [
    (b"170.114.52.2", "170.114.52.2"), (b"170.114.52.2:8080", "170.114.52.2"),
    (b"[2603:1063::1]:80", "2603:1063::1"),
])
def test_an_address_in_the_host_header_is_not_a_name(tmp_path: Path, host_header: bytes,
                                                      http_host: str) -> None:
    request = b"GET /status HTTP/1.1\r\nHost: " + host_header + b"\r\n\r\n"
    reading = read(tmp_path, timed([
        *dns_exchange("status.zoom.us", [SERVER]),
        *handshake(sport=80), client_data(request, 1001, sport=80),
    ]))
    flow = flow_to(reading, SERVER)
    assert (flow.http_host, flow.method) == (http_host, "GET")
    # Named from the capture's DNS instead, as any flow without a name of its own.
    assert (flow.host, flow.host_source) == ("status.zoom.us", HostSource.DNS)


# --- names from the capture's DNS -----------------------------------------------------------


def test_flow_without_sni_is_named_from_a_prior_dns_answer(tmp_path: Path) -> None:
    reading = read(tmp_path, timed([
        *dns_exchange("zoom.us", [SERVER], cnames=("zoom.us.edgekey.net",)),
        eth(IP(src=CLIENT, dst=SERVER) / UDP(sport=60000, dport=8801) / (b"\x90" * 100)),
    ]))
    dns_flow = flow_to(reading, RESOLVER)
    media = flow_to(reading, SERVER)
    assert dns_flow.app_proto == "dns"
    assert (media.host, media.host_source, media.dns_names) == ("zoom.us", HostSource.DNS,
                                                                ("zoom.us",))
    assert media.name_evidence is not None
    assert f"(DNS flow {dns_flow.flow_id})" in media.name_evidence
    assert "via CNAME chain zoom.us -> zoom.us.edgekey.net" in media.name_evidence
    (answer,) = reading.dns_answers
    assert (answer.flow_id, answer.query, answer.address) == (dns_flow.flow_id, "zoom.us",
                                                              SERVER)


def test_dns_answer_after_the_flow_started_says_so(tmp_path: Path) -> None:
    packet = eth(IP(src=CLIENT, dst=SERVER) / UDP(sport=60000, dport=8801) / (b"\x90" * 100))
    reading = read(tmp_path, timed([packet, *dns_exchange("zoom.us", [SERVER]), packet.copy()]))
    media = flow_to(reading, SERVER)
    assert media.host == "zoom.us" and media.name_evidence is not None
    assert "after the flow started" in media.name_evidence
    assert "after the flow ended" not in media.name_evidence


def test_dns_answer_after_the_flow_ended_is_applied_and_flagged(tmp_path: Path) -> None:
    reading = read(tmp_path, timed([
        eth(IP(src=CLIENT, dst=SERVER) / UDP(sport=60000, dport=8801) / (b"\x90" * 100)),
        *dns_exchange("zoom.us", [SERVER]),
    ]))
    media = flow_to(reading, SERVER)
    assert (media.host, media.host_source) == ("zoom.us", HostSource.DNS)
    assert media.name_evidence is not None
    assert "after the flow ended" in media.name_evidence
    assert "learned only after the flow ended" in media.name_evidence


def test_sni_wins_over_dns_but_dns_names_are_kept(tmp_path: Path) -> None:
    reading = read(tmp_path, timed([
        *dns_exchange("zoom.us", [SERVER]),
        *handshake(),
        client_data(RECORD, 1001),
    ]))
    tls = flow_to(reading, SERVER, 443)
    assert (tls.host, tls.host_source, tls.dns_names) == ("zoomgov.com", HostSource.SNI,
                                                          ("zoom.us",))


def test_several_names_for_one_ip(tmp_path: Path) -> None:
    reading = read(tmp_path, timed([
        *dns_exchange("web.zoom.us", [SERVER], txid=1, cport=53001),
        *dns_exchange("log.zoom.us", [SERVER], txid=2, cport=53002),
        eth(IP(src=CLIENT, dst=SERVER) / UDP(sport=60000, dport=8801) / (b"\x90" * 100)),
        *dns_exchange("cdn.zoom.us", [SERVER], txid=3, cport=53003),
    ]))
    media = flow_to(reading, SERVER)
    assert media.host == "log.zoom.us"  # the most recent answer before the flow
    assert media.dns_names == ("web.zoom.us", "log.zoom.us", "cdn.zoom.us")
    assert media.name_evidence is not None
    assert "3 names resolved to this IP" in media.name_evidence
    assert "the most recent answer before the flow started" in media.name_evidence


def test_ipv4_fragmented_dns_response_is_reassembled(tmp_path: Path) -> None:
    addresses = [f"10.20.{i // 200}.{i % 200 + 1}" for i in range(150)]
    message = DNS(id=77, qr=1, rd=1, ra=1, qd=DNSQR(qname="media.zoom.us"),
                  an=[DNSRR(rrname="media.zoom.us", type="A", ttl=30, rdata=a)
                      for a in addresses]).compress()
    datagram = (IP(src=RESOLVER, dst=CLIENT, id=4242) / UDP(sport=53, dport=53100) /
                Raw(bytes(message)))
    assert len(datagram) > 1500
    pieces = fragment(datagram, fragsize=1480)
    assert len(pieces) >= 2
    query = eth(IP(src=CLIENT, dst=RESOLVER) / UDP(sport=53100, dport=53) /
                DNS(id=77, rd=1, qd=DNSQR(qname="media.zoom.us")))
    last_address = addresses[-1]  # its record is in the last fragment
    reading = read(tmp_path, timed([
        query,
        *(eth(piece) for piece in pieces),
        eth(IP(src=CLIENT, dst=last_address) / UDP(sport=60000, dport=8801) / (b"\x90" * 80)),
    ]))
    assert [a.address for a in reading.dns_answers] == addresses
    media = flow_to(reading, last_address)
    assert (media.host, media.host_source) == ("media.zoom.us", HostSource.DNS)
    dns_flow = flow_to(reading, RESOLVER)
    assert dns_flow.packets_down == len(pieces)
    assert dns_flow.bytes_down == sum(len(eth(p)) for p in pieces)
    assert reading.anomalies.counts == {}


def test_ipv4_fragments_arriving_last_first_are_reassembled(tmp_path: Path) -> None:
    addresses = [f"10.30.{i // 200}.{i % 200 + 1}" for i in range(150)]
    message = DNS(id=78, qr=1, qd=DNSQR(qname="media.zoom.us"),
                  an=[DNSRR(rrname="media.zoom.us", type="A", rdata=a) for a in addresses])
    datagram = (IP(src=RESOLVER, dst=CLIENT, id=4243) / UDP(sport=53, dport=53101) /
                Raw(bytes(message.compress())))
    pieces = [eth(piece) for piece in fragment(datagram, fragsize=1480)]
    query = eth(IP(src=CLIENT, dst=RESOLVER) / UDP(sport=53101, dport=53) /
                DNS(id=78, rd=1, qd=DNSQR(qname="media.zoom.us")))
    reading = read(tmp_path, timed([query, *reversed(pieces)]))
    assert len(reading.dns_answers) == 150
    assert flow_to(reading, RESOLVER).packets_down == len(pieces)


# --- anomalies, ICMP, non-IP, byte counts ---------------------------------------------------


def test_malformed_packets_are_counted_by_kind_and_never_stop_the_read(tmp_path: Path) -> None:
    bad_hello = tls_records(b"\x01\x00\x00\x05\x03\x03\x00\x00\x00")
    bad_dns = eth(IP(src=RESOLVER, dst=CLIENT) / UDP(sport=53, dport=53009) /
                  (b"\x00\x01\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01"))
    reading = read(tmp_path, timed([
        Ether(type=0x0800) / b"\x45\x00",  # truncated IPv4 header
        Ether(type=0x0800) / (b"\x41" + b"\x00" * 19),  # IHL 4
        Ether(type=0x0800) / (b"\x65" + b"\x00" * 19),  # version 6 in an IPv4 frame
        eth(IP(src=CLIENT, dst=SERVER, proto=6) / b"\x00\x01"),  # truncated TCP
        eth(IP(src=CLIENT, dst=SERVER, proto=6) / b"\x00\x01"),
        bad_dns,
        *handshake(server="170.114.52.9"),
        client_data(bad_hello, 1001, server="170.114.52.9"),
        *dns_exchange("zoom.us", [SERVER]),
        eth(IP(src=CLIENT, dst=SERVER) / UDP(sport=60000, dport=8801) / (b"\x90" * 100)),
    ]))
    counts = reading.anomalies.counts
    assert counts.get("truncated-ipv4") == 1
    assert counts.get("truncated-tcp") == 2
    assert counts.get("bad-ipv4-header-length") == 1
    assert counts.get("bad-ip-version") == 1
    assert counts.get("dns-malformed") == 1
    assert counts.get("client-hello-malformed") == 1
    assert sum(counts.values()) == reading.anomalies.total() >= 7
    examples = reading.anomalies.examples["truncated-tcp"]
    assert [e.packet for e in examples] == [4, 5]  # the packet numbers in the file
    assert flow_to(reading, SERVER, 8801).host == "zoom.us"  # the read went on
    assert reading.status.packets == 13 and reading.status.truncated is None


def test_icmp_flows_have_no_ports(tmp_path: Path) -> None:
    reading = read(tmp_path, timed([
        eth(IP(src=CLIENT, dst="8.8.8.8") / ICMP(type=8, id=1, seq=1) / b"ping"),
        eth(IP(src="8.8.8.8", dst=CLIENT) / ICMP(type=0, id=1, seq=1) / b"ping"),
        eth(IPv6(src="2001:db8::23", dst="2001:4860:4860::8888") / ICMPv6EchoRequest()),
        eth(IPv6(src="2001:4860:4860::8888", dst="2001:db8::23") / ICMPv6EchoReply()),
    ]))
    v4, v6 = reading.flows
    for flow in (v4, v6):
        assert flow.transport is Transport.ICMP
        assert flow.client_port is None and flow.server_port is None
        assert (flow.packets_up, flow.packets_down) == (1, 1)
    assert (v4.client_ip, v4.server_ip) == (CLIENT, "8.8.8.8")
    assert (v6.client_ip, v6.server_ip) == ("2001:db8::23", "2001:4860:4860::8888")


def test_non_ip_frames_are_counted(tmp_path: Path) -> None:
    arp = Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst="192.168.1.1")
    lldp = Ether(dst="01:80:c2:00:00:0e", type=0x88CC) / (b"\x02\x07\x04" + b"\x00" * 40)
    llc = Ether(dst="01:80:c2:00:00:00", type=38) / (b"\x42\x42\x03" + b"\x00" * 35)
    reading = read(tmp_path, timed([
        arp, arp, lldp, llc, arp,
        eth(IP(src=CLIENT, dst=SERVER) / UDP(sport=60000, dport=8801) / b"x"),
    ]))
    assert reading.non_ip == {"ethertype 0x0806": 3, "ethertype 0x88cc": 1,
                              "802.3/LLC frame": 1}
    assert len(reading.flows) == 1 and reading.anomalies.counts == {}
    assert reading.status.packets == 6


def test_other_ip_protocols_are_counted_not_flows(tmp_path: Path) -> None:
    reading = read(tmp_path, timed([
        eth(IP(src=CLIENT, dst="224.0.0.22", proto=2) / (b"\x22" + b"\x00" * 7)),  # IGMP
        eth(IP(src=CLIENT, dst="224.0.0.22", proto=2) / (b"\x22" + b"\x00" * 7)),
    ]))
    assert reading.flows == [] and reading.other_ip == {2: 2}


def test_byte_counts_use_the_wire_length(tmp_path: Path) -> None:
    up = eth(IP(src=CLIENT, dst=SERVER) / UDP(sport=60000, dport=8801) / (b"\x90" * 1158))
    down = eth(IP(src=SERVER, dst=CLIENT) / UDP(sport=8801, dport=60000) / (b"\x90" * 958))
    assert (len(up), len(down)) == (1200, 1000)
    path = tmp_path / "snap.pcap"
    with PcapWriter(str(path), linktype=1, snaplen=64, sync=True) as writer:
        writer.write_header(None)
        for n, packet in enumerate([up, up, down]):
            raw = bytes(packet)
            writer.write_packet(raw[:64], sec=T0 + n, usec=0, caplen=64, wirelen=len(raw))
    reading = read_capture(path)
    flow = only_flow(reading)
    assert (flow.bytes_up, flow.bytes_down) == (2400, 1000)
    assert (flow.packets_up, flow.packets_down) == (2, 1)
    assert reading.status.snaplen_cut == 3
    assert reading.anomalies.counts == {}


def test_pcapng_byte_counts_use_the_wire_length(tmp_path: Path) -> None:
    packet = eth(IP(src=CLIENT, dst=SERVER) / UDP(sport=60000, dport=8801) / (b"\x90" * 1158))
    packet.time = T0
    packet.wirelen = 1514  # e.g. captured after offload, shorter than on the wire
    path = tmp_path / "wire.pcapng"
    with PcapNgWriter(str(path)) as writer:
        writer.write(packet)
    assert only_flow(read_capture(path)).bytes_up == 1514


def test_fragments_of_a_datagram_never_completed(tmp_path: Path) -> None:
    """A fragment whose first part never arrives is an orphan; media fragments are counted to
    their flow even after its payloads stopped being inspected."""
    media = (IP(src=CLIENT, dst=SERVER, id=999) / UDP(sport=60000, dport=8801) /
             Raw(b"\x90" * 3000))
    first, second, third = fragment(media, fragsize=1480)
    lost = IP(src=RESOLVER, dst=CLIENT, id=5, frag=185, flags=0, proto=17) / Raw(b"x" * 40)
    warm_up = [eth(IP(src=CLIENT, dst=SERVER) / UDP(sport=60000, dport=8801) / (b"\x90" * 50))
               for _ in range(20)]  # enough packets for the flow's inspection to end
    reading = read(tmp_path, timed([*warm_up, eth(third), eth(first), eth(second), eth(lost)]))
    flow = flow_to(reading, SERVER)
    assert flow.packets_up == 23
    assert reading.anomalies.counts == {"ip-fragment-orphan": 1}


def test_a_dns_port_carrying_something_else_is_not_parsed_forever(tmp_path: Path) -> None:
    junk = b"\x00\x07" + b"\xff" * 60
    vpn = [eth(IP(src=CLIENT, dst=SERVER) / UDP(sport=50000, dport=53) / junk)
           for _ in range(50)]
    reading = read(tmp_path, timed(vpn))
    assert reading.anomalies.counts == {"dns-malformed": 8}
    flow = flow_to(reading, SERVER)
    assert flow.packets_up == 50 and flow.app_proto is None
