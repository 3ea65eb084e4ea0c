"""Header decoding for every supported link type, tag, tunnel, and malformed input."""

from __future__ import annotations

import contextlib
import random
import struct

import pytest
from scapy.contrib.gtp import GTP_U_Header
from scapy.contrib.mpls import MPLS
from scapy.layers.inet import GRE, ICMP, IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether
from scapy.layers.ppp import PPP, PPPoE
from scapy.layers.vxlan import VXLAN

from auditor.capture.headers import (
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    PROTO_ICMP,
    PROTO_TCP,
    PROTO_UDP,
    TCP_SYN,
    NonIpFrameError,
    PacketError,
    decode_frame,
)

V4 = IP(src="192.168.1.23", dst="170.114.52.2") / TCP(sport=50123, dport=443, flags="S",
                                                       seq=1000)
V6 = IPv6(src="2001:db8::23", dst="2407:30c0::1") / UDP(sport=50000, dport=8801) / b"media"


def test_ethernet_ipv4_tcp() -> None:
    frame = bytes(Ether() / V4)
    pkt = decode_frame(LINKTYPE_ETHERNET, frame)
    assert pkt.proto == PROTO_TCP
    assert (pkt.src, pkt.dst) == (bytes([192, 168, 1, 23]), bytes([170, 114, 52, 2]))
    assert (pkt.sport, pkt.dport, pkt.tcp_seq) == (50123, 443, 1000)
    assert pkt.tcp_flags & TCP_SYN
    assert pkt.vlans is None and pkt.tunnel is None


def test_ethernet_padding_is_not_payload() -> None:
    frame = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / b"x")
    padded = frame + b"\x00" * 20
    pkt = decode_frame(LINKTYPE_ETHERNET, padded)
    assert padded[pkt.payload_start : pkt.payload_end] == b"x"


def test_ipv6_udp_with_extension_header() -> None:
    frame = bytes(Ether() / IPv6(src="2001:db8::23", dst="2407:30c0::1") /
                  IPv6ExtHdrHopByHop() / UDP(sport=50000, dport=8801) / b"media")
    pkt = decode_frame(LINKTYPE_ETHERNET, frame)
    assert pkt.proto == PROTO_UDP and (pkt.sport, pkt.dport) == (50000, 8801)
    assert frame[pkt.payload_start : pkt.payload_end] == b"media"
    assert len(pkt.src) == 16


@pytest.mark.parametrize("tags, expected", [
    (Dot1Q(vlan=100), (100,)),
    (Dot1AD(vlan=200) / Dot1Q(vlan=300), (200, 300)),  # QinQ
])
def test_vlan_tags(tags: object, expected: tuple[int, ...]) -> None:
    pkt = decode_frame(LINKTYPE_ETHERNET, bytes(Ether() / tags / V4))
    assert pkt.vlans == expected and pkt.dport == 443


def test_linux_cooked_v1_and_v2() -> None:
    ip = bytes(V4)
    sll = struct.pack("!HHH8sH", 0, 1, 6, b"\x00" * 8, 0x0800) + ip
    sll2 = struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, b"\x00" * 8) + ip
    assert decode_frame(LINKTYPE_LINUX_SLL, sll).dport == 443
    assert decode_frame(LINKTYPE_LINUX_SLL2, sll2).dport == 443


def test_raw_ip_both_versions() -> None:
    assert decode_frame(LINKTYPE_RAW, bytes(V4)).dport == 443
    assert decode_frame(LINKTYPE_RAW, bytes(V6)).dport == 8801


@pytest.mark.parametrize("family", [24, 28, 30])
@pytest.mark.parametrize("order", ["little", "big"])
def test_bsd_loopback_ipv6_families(family: int, order: str) -> None:
    frame = family.to_bytes(4, order) + bytes(V6)  # type: ignore[arg-type]
    assert decode_frame(LINKTYPE_NULL, frame).dport == 8801


def test_loopback_ipv4_and_openbsd_loop() -> None:
    assert decode_frame(LINKTYPE_NULL, (2).to_bytes(4, "little") + bytes(V4)).dport == 443
    assert decode_frame(LINKTYPE_LOOP, (2).to_bytes(4, "big") + bytes(V4)).dport == 443


def test_pppoe_and_mpls() -> None:
    pppoe = Ether(type=0x8864) / PPPoE(sessionid=7) / PPP(proto=0x0021) / V4
    assert decode_frame(LINKTYPE_ETHERNET, bytes(pppoe)).dport == 443
    mpls = Ether(type=0x8847) / MPLS(label=16, s=0) / MPLS(label=17, s=1) / V4
    assert decode_frame(LINKTYPE_ETHERNET, bytes(mpls)).dport == 443


def test_gtp_u_tunnel_inside_vlans_is_opened() -> None:
    outer = (Ether() / Dot1Q(vlan=3231) / Dot1Q(vlan=2) /
             IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=2152, dport=2152) /
             GTP_U_Header(teid=1) / IP(src="10.191.139.17", dst="54.221.224.45") /
             TCP(sport=58552, dport=443))
    pkt = decode_frame(LINKTYPE_ETHERNET, bytes(outer))
    assert pkt.tunnel == "gtp-u" and pkt.vlans == (3231, 2)
    assert pkt.src == bytes([10, 191, 139, 17]) and pkt.dport == 443


def test_vxlan_and_gre_tunnels_are_opened() -> None:
    vxlan = (Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=40000, dport=4789) /
             VXLAN(vni=42) / Ether() / V4)
    gre = Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / GRE(proto=0x0800) / V4
    assert decode_frame(LINKTYPE_ETHERNET, bytes(vxlan)).tunnel == "vxlan"
    assert decode_frame(LINKTYPE_ETHERNET, bytes(gre)).tunnel == "gre"


def test_icmp_has_no_ports() -> None:
    pkt = decode_frame(LINKTYPE_ETHERNET, bytes(Ether() / IP(dst="192.168.1.1") / ICMP()))
    assert pkt.proto == PROTO_ICMP and (pkt.sport, pkt.dport) == (0, 0)


def test_ipv4_fragments() -> None:
    datagram = IP(src="192.168.1.1", dst="192.168.1.23", id=77) / UDP(sport=53, dport=5000) / (
        b"a" * 3000)
    first, *rest = [bytes(Ether() / f) for f in datagram.fragment(1480)]
    head = decode_frame(LINKTYPE_ETHERNET, first)
    assert head.ports_known and head.fragment == (77, 0, True) and head.sport == 53
    tail = decode_frame(LINKTYPE_ETHERNET, rest[-1])
    assert not tail.ports_known and tail.fragment is not None and tail.fragment[1] > 0


def test_ipv6_fragment_header() -> None:
    frame = bytes(Ether() / IPv6() / IPv6ExtHdrFragment(id=9, offset=0, m=1) / UDP(dport=53))
    pkt = decode_frame(LINKTYPE_ETHERNET, frame)
    assert pkt.fragment == (9, 0, True) and pkt.dport == 53


def test_non_ip_frames_are_named() -> None:
    with pytest.raises(NonIpFrameError, match="0x0806"):
        decode_frame(LINKTYPE_ETHERNET, bytes(Ether(type=0x0806) / (b"\x00" * 28)))


@pytest.mark.parametrize("frame, kind", [
    (b"\x00" * 5, "truncated-ethernet"),
    (bytes(Ether(type=0x0800)) + b"\x45\x00", "truncated-ipv4"),
    (bytes(Ether(type=0x0800)) + b"\x41" + b"\x00" * 19, "bad-ipv4-header-length"),
    (bytes(Ether(type=0x0800)) + b"\x65" + b"\x00" * 19, "bad-ip-version"),
    (bytes(Ether() / IP(proto=6)) + b"\x00\x01", "truncated-tcp"),
    (bytes(Ether() / IP(proto=17)) + b"\x00", "truncated-udp"),
    (bytes(Ether(type=0x86DD)) + b"\x60" + b"\x00" * 10, "truncated-ipv6"),
])
def test_malformed_headers_raise_packet_error(frame: bytes, kind: str) -> None:
    with pytest.raises(PacketError) as info:
        decode_frame(LINKTYPE_ETHERNET, frame)
    assert info.value.kind == kind


def test_unsupported_link_type() -> None:
    with pytest.raises(PacketError) as info:
        decode_frame(147, b"\x00" * 40)
    assert info.value.kind == "unsupported-link-type"


def test_random_bytes_never_raise_anything_else() -> None:
    rng = random.Random(1)
    valid = bytes(Ether() / Dot1Q(vlan=5) / V4 / b"payload")
    for _ in range(3000):
        frame = bytearray(valid[: rng.randrange(len(valid) + 1)])
        for _ in range(rng.randrange(4)):
            if frame:
                frame[rng.randrange(len(frame))] = rng.randrange(256)
        for linktype in (LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_NULL, LINKTYPE_LINUX_SLL2):
            with contextlib.suppress(PacketError, NonIpFrameError):
                decode_frame(linktype, bytes(frame))
