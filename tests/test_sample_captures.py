"""The bundled sample captures: provably the generator's output, and shaped as the README says."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from scapy.layers.dns import DNS
from scapy.layers.inet import IP, TCP, UDP, in4_chksum
from scapy.layers.inet6 import IPv6, in6_chksum
from scapy.layers.l2 import CookedLinuxV2, Ether
from scapy.packet import Packet
from scapy.utils import PcapNgReader, PcapReader, checksum

from auditor.protocols.tls import parse_client_hello, tls_records_handshake

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
ZOOM = CAPTURES / "zoom-desktop-call.pcapng"
TEAMS = CAPTURES / "teams-linux-any.pcap"
LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL2 = 276
CNAME, A, AAAA = 5, 1, 28
CHECKSUM_AT = {1: 2, 6: 16, 17: 6, 58: 2}  # ICMP, TCP, UDP, ICMPv6: offset of the field


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    script = CAPTURES / "generate_samples.py"
    subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    for committed in (ZOOM, TEAMS):
        fresh = tmp_path / committed.name
        assert fresh.read_bytes() == committed.read_bytes(), f"{committed.name} is stale"


@pytest.fixture(scope="module")
def zoom() -> list[Packet]:
    with PcapNgReader(str(ZOOM)) as reader:
        packets = list(reader)  # interface blocks are read along with the packets
        assert [iface[0] for iface in reader.interfaces] == [LINKTYPE_ETHERNET]
    return packets


@pytest.fixture(scope="module")
def teams() -> list[Packet]:
    with PcapReader(str(TEAMS)) as reader:
        assert reader.linktype == LINKTYPE_LINUX_SLL2
        return list(reader)


def dns_answers(packets: list[Packet]) -> dict[str, set[str]]:
    """Owner name -> rdata of every CNAME/A/AAAA record in DNS responses (mDNS excluded)."""
    out: dict[str, set[str]] = defaultdict(set)
    for pkt in packets:
        if DNS in pkt and pkt[DNS].qr and pkt[UDP].sport == 53:
            for rr in pkt[DNS].an or []:
                if rr.type in (CNAME, A, AAAA):
                    rdata = rr.rdata.decode() if isinstance(rr.rdata, bytes) else str(rr.rdata)
                    out[rr.rrname.decode().rstrip(".")].add(rdata.rstrip("."))
    return out


def tcp_payloads(packets: list[Packet], dst: str, dport: int) -> list[bytes]:
    """Client-to-server IPv4 TCP payloads (without Ethernet padding) in capture order."""
    out = []
    for pkt in packets:
        if IP not in pkt or TCP not in pkt or pkt[IP].dst != dst or pkt[TCP].dport != dport:
            continue
        payload = bytes(pkt[TCP].payload)
        if pkt.haslayer("Padding"):
            payload = payload[: -len(pkt["Padding"])]
        if payload:
            out.append(payload)
    return out


def test_zoom_sample_shape(zoom: list[Packet]) -> None:
    assert 1500 < len(zoom) < 5000
    assert all(isinstance(pkt, Ether) for pkt in zoom)
    assert ZOOM.stat().st_size < 1_100_000
    seconds = float(zoom[-1].time) - float(zoom[0].time)
    assert 55 < seconds < 61


def test_zoom_clienthello_split_over_two_segments(zoom: list[Packet]) -> None:
    first, second = tcp_payloads(zoom, "170.114.10.87", 443)[:2]
    record_length = int.from_bytes(first[3:5], "big") + 5
    assert first[:2] == b"\x16\x03" and len(first) == 1460 < record_length
    assert len(first) + len(second) == record_length
    handshake, _ = tls_records_handshake(first + second)
    hello = parse_client_hello(handshake)
    assert hello.server_name == "us05web.zoom.us"
    assert b"\x11\xec\x04\xc0" in handshake  # X25519MLKEM768 key share, 1216 bytes


def test_zoom_dns_answers(zoom: list[Packet]) -> None:
    answers = dns_answers(zoom)
    assert answers["zoom.us"] == {"170.114.52.2", "2407:30c0:182::aa1:101"}
    assert answers["www.zoom.us"] == {"170.114.52.2"}
    assert answers["zoomfrn169mmr.zoom.us"] == {"109.94.161.27"}
    assert answers["www.googletagmanager.com"] == {"www-googletagmanager.l.google.com"}
    assert answers["www-googletagmanager.l.google.com"] == {"142.250.185.104"}
    assert answers["graph.facebook.com"] == {"star.c10r.facebook.com"}
    assert answers["star.c10r.facebook.com"] == {"157.240.20.19"}
    named = set().union(*answers.values())
    assert "206.247.41.10" not in named and "109.94.162.14" not in named


def test_zoom_media_flow(zoom: list[Packet]) -> None:
    media = [
        p
        for p in zoom
        if UDP in p
        and 8801 in (p[UDP].sport, p[UDP].dport)
        and "109.94.161.27" in (p[IP].src, p[IP].dst)
    ]
    down = sum(p[IP].src == "109.94.161.27" for p in media)
    assert 1800 < len(media) < 2200
    assert 0.55 < down / len(media) < 0.65
    assert all(bytes(p[UDP].payload)[0] >> 6 == 2 for p in media)  # RTP version 2


def test_teams_sample_shape(teams: list[Packet]) -> None:
    assert 200 < len(teams) < 600
    assert all(isinstance(pkt, CookedLinuxV2) for pkt in teams)
    answers = dns_answers(teams)
    assert answers["s-0005.dc-msedge.net"] == {"52.113.194.132"}
    hello = tcp_payloads(teams, "52.113.194.132", 443)[0]
    handshake, _ = tls_records_handshake(hello)
    assert parse_client_hello(handshake).server_name == "teams.microsoft.com"
    media = [p for p in teams if UDP in p and p[IP].dst == "52.115.98.40"]
    assert {p[UDP].dport for p in media} == {3478, 3479, 3480}


def stored_and_computed_checksums(packet: Packet) -> list[tuple[str, int, int]]:
    """(what, checksum in the frame, checksum scapy computes) for the IPv4 header and the
    ICMP/TCP/UDP/ICMPv6 message of `packet`, from the captured bytes."""
    out = []
    if IP in packet:
        ip = packet[IP]
        raw, start = bytes(ip.original), ip.ihl * 4
        header = raw[:10] + b"\x00\x00" + raw[12:start]
        out.append(("ipv4", int.from_bytes(raw[10:12], "big"), checksum(header)))
        proto, l4 = ip.proto, raw[start : ip.len]
    elif IPv6 in packet:
        ip = packet[IPv6]
        proto, l4 = ip.nh, bytes(ip.original)[40 : 40 + ip.plen]
    else:
        return out
    at = CHECKSUM_AT[proto]
    zeroed = l4[:at] + b"\x00\x00" + l4[at + 2 :]
    if proto == 1:  # ICMP: no pseudo-header
        value = checksum(zeroed)
    elif IP in packet:
        value = in4_chksum(proto, ip, zeroed)
    else:
        value = in6_chksum(proto, ip.payload, zeroed)
    if proto == 17 and value == 0:
        value = 0xFFFF  # RFC 768: a computed zero is sent as all ones
    out.append((f"ip proto {proto}", int.from_bytes(l4[at : at + 2], "big"), value))
    return out


def test_every_checksum_is_right(zoom: list[Packet], teams: list[Packet]) -> None:
    """The generator computes the checksums itself (trafficgen.ip); scapy agrees with each."""
    checked = wrong = 0
    for packet in zoom + teams:
        for _what, stored, computed in stored_and_computed_checksums(packet):
            checked += 1
            wrong += stored != computed
    assert wrong == 0
    assert checked > 2 * (len(zoom) + len(teams)) - 100  # nearly every frame is IP
