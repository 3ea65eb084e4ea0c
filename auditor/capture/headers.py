"""Struct-level decoding of link, network and transport headers.

This runs once per captured packet, so it decodes only what flow tracking needs (addresses,
ports, TCP flags and sequence number, where the payload lies) with `struct` and slicing, and
leaves full dissection to the few packets that need it. Each header is a short table of
offsets. A malformed header raises `PacketError` with a kind the caller counts and skips.

Link types: Ethernet (with 802.1Q/802.1ad/QinQ VLAN tags, PPPoE, MPLS), Linux cooked capture
v1 and v2, raw IP, BSD/macOS/Windows loopback (null and loop). Tunnels are opened so flows are
keyed on the inner 5-tuple: GTP-U, VXLAN, GRE, IP-in-IP.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW_12 = 12
LINKTYPE_RAW_14 = 14
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_VLAN = frozenset({0x8100, 0x88A8, 0x9100, 0x9200})
ETHERTYPE_PPPOE_SESSION = 0x8864
ETHERTYPE_MPLS = frozenset({0x8847, 0x8848})
ETHERTYPE_TRANSPARENT_ETHERNET = 0x6558
# BSD loopback address-family values for IPv6 differ between operating systems.
LOOPBACK_FAMILY_IPV4 = frozenset({2})
LOOPBACK_FAMILY_IPV6 = frozenset({10, 23, 24, 28, 30})

PROTO_ICMP = 1
PROTO_IPIP = 4
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_IPV6 = 41
PROTO_GRE = 47
PROTO_ICMPV6 = 58
IPV6_EXTENSION_HEADERS = frozenset({0, 43, 60, 135, 139, 140})
IPV6_FRAGMENT = 44
IPV6_AH = 51

PORT_GTP_U = 2152
PORT_VXLAN = 4789
MAX_TUNNEL_DEPTH = 4

TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_ACK = 0x10

_U16 = struct.Struct("!H")
_TCP = struct.Struct("!HHIIBB")
_UDP = struct.Struct("!HHH")
# The common frame in one read: Ethernet type; IPv4 version/IHL, total length, flags and
# fragment offset, protocol, addresses; then the transport header's first 8 bytes (ports, and
# the UDP length or the TCP sequence number).
_ETHERNET_IPV4 = struct.Struct("!12xHBxHxxHxBxx4s4sHHHH")


class PacketError(ValueError):
    """A packet whose headers cannot be decoded; `kind` names the problem for counting."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class NonIpFrameError(Exception):
    """A frame that carries no IP packet (ARP, LLDP, STP, ...); `what` names it."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class Packet(NamedTuple):
    """The headers of one IP packet, innermost tunnel level.

    `payload_start`/`payload_end` index into the frame bytes. For a non-first IP fragment
    `ports_known` is False and the ports are 0; `fragment` is then (ip id, offset, more).
    """

    proto: int
    src: bytes
    dst: bytes
    sport: int
    dport: int
    payload_start: int
    payload_end: int
    tcp_flags: int
    tcp_seq: int
    vlans: tuple[int, ...] | None
    tunnel: str | None
    fragment: tuple[int, int, bool] | None
    ports_known: bool


_new_packet = tuple.__new__  # builds a Packet without NamedTuple's Python-level __new__


def decode_frame(linktype: int, data: bytes) -> Packet:
    """Decode one captured frame down to its transport header.

    Raises NonIpFrameError for frames without IP and PacketError for malformed headers.
    """
    if linktype == LINKTYPE_ETHERNET:
        # Fast path, the same result as the general one below for the frame nearly every
        # packet is: Ethernet, IPv4 without options, not a fragment, UDP (no tunnel port) or
        # TCP, headers whole.
        size = len(data)
        if size >= 42:
            (ethertype, version_ihl, total, flags_offset, proto, src, dst, sport, dport,
             word1, word2) = _ETHERNET_IPV4.unpack_from(data)
            if ethertype == ETHERTYPE_IPV4 and version_ihl == 0x45 and not flags_offset & 0x3FFF:
                end = 14 + total if total else size
                if end > size:
                    end = size
                if proto == PROTO_UDP:
                    if end >= 42 and sport != PORT_GTP_U and dport != PORT_GTP_U \
                            and dport != PORT_VXLAN:
                        if word1 >= 8 and 34 + word1 < end:  # word1: UDP length
                            end = 34 + word1
                        return _new_packet(Packet, (PROTO_UDP, src, dst, sport, dport, 42, end,
                                                    0, 0, None, None, None, True))
                elif proto == PROTO_TCP and end >= 54:
                    header = (data[46] >> 4) * 4
                    if header >= 20:
                        start = 34 + header
                        return _new_packet(Packet, (PROTO_TCP, src, dst, sport, dport,
                                                    start if start < end else end, end, data[47],
                                                    (word1 << 16) | word2, None, None, None,
                                                    True))
        return _ethernet(data, 0, None, None, 0)
    if linktype == LINKTYPE_LINUX_SLL:
        _need(data, 16, "linux-sll")
        return _by_ethertype(_U16.unpack_from(data, 14)[0], data, 16, None, None, 0)
    if linktype == LINKTYPE_LINUX_SLL2:
        _need(data, 20, "linux-sll2")
        return _by_ethertype(_U16.unpack_from(data, 0)[0], data, 20, None, None, 0)
    if linktype in (LINKTYPE_RAW, LINKTYPE_RAW_12, LINKTYPE_RAW_14, LINKTYPE_IPV4, LINKTYPE_IPV6):
        return _ip_by_version(data, 0, None, None, 0)
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        return _loopback(linktype, data)
    raise PacketError("unsupported-link-type", f"link type {linktype}")


def _need(data: bytes, length: int, what: str) -> None:
    if len(data) < length:
        raise PacketError(f"truncated-{what}", f"{len(data)} bytes, need {length}")


def _loopback(linktype: int, data: bytes) -> Packet:
    _need(data, 4, "loopback")
    if linktype == LINKTYPE_LOOP:
        family = int.from_bytes(data[:4], "big")
    else:
        # DLT_NULL stores the family in the capturing host's byte order.
        family = int.from_bytes(data[:4], "little")
        if family > 0xFFFF:
            family = int.from_bytes(data[:4], "big")
    if family in LOOPBACK_FAMILY_IPV4:
        return _ipv4(data, 4, None, None, 0)
    if family in LOOPBACK_FAMILY_IPV6:
        return _ipv6(data, 4, None, None, 0)
    raise NonIpFrameError(f"loopback family {family}")


def _ethernet(
    data: bytes, off: int, vlans: tuple[int, ...] | None, tunnel: str | None, depth: int
) -> Packet:
    _need(data, off + 14, "ethernet")
    ethertype = _U16.unpack_from(data, off + 12)[0]
    return _by_ethertype(ethertype, data, off + 14, vlans, tunnel, depth)


def _by_ethertype(
    ethertype: int,
    data: bytes,
    off: int,
    vlans: tuple[int, ...] | None,
    tunnel: str | None,
    depth: int,
) -> Packet:
    while ethertype in ETHERTYPE_VLAN:
        _need(data, off + 4, "vlan")
        tci, ethertype = struct.unpack_from("!HH", data, off)
        vlans = (*(vlans or ()), tci & 0x0FFF)
        off += 4
    if ethertype == ETHERTYPE_IPV4:
        return _ipv4(data, off, vlans, tunnel, depth)
    if ethertype == ETHERTYPE_IPV6:
        return _ipv6(data, off, vlans, tunnel, depth)
    if ethertype == ETHERTYPE_PPPOE_SESSION:
        _need(data, off + 8, "pppoe")
        ppp_proto = _U16.unpack_from(data, off + 6)[0]
        if ppp_proto == 0x0021:
            return _ipv4(data, off + 8, vlans, tunnel, depth)
        if ppp_proto == 0x0057:
            return _ipv6(data, off + 8, vlans, tunnel, depth)
        raise NonIpFrameError(f"ppp protocol 0x{ppp_proto:04x}")
    if ethertype in ETHERTYPE_MPLS:
        return _mpls(data, off, vlans, tunnel, depth)
    if ethertype <= 1500:
        raise NonIpFrameError("802.3/LLC frame")
    raise NonIpFrameError(f"ethertype 0x{ethertype:04x}")


def _mpls(
    data: bytes, off: int, vlans: tuple[int, ...] | None, tunnel: str | None, depth: int
) -> Packet:
    for _ in range(16):
        _need(data, off + 4, "mpls")
        bottom = data[off + 2] & 0x01
        off += 4
        if bottom:
            return _ip_by_version(data, off, vlans, tunnel or "mpls", depth)
    raise PacketError("malformed-mpls", "label stack without bottom")


def _ip_by_version(
    data: bytes, off: int, vlans: tuple[int, ...] | None, tunnel: str | None, depth: int
) -> Packet:
    _need(data, off + 1, "ip")
    version = data[off] >> 4
    if version == 4:
        return _ipv4(data, off, vlans, tunnel, depth)
    if version == 6:
        return _ipv6(data, off, vlans, tunnel, depth)
    raise PacketError("bad-ip-version", f"IP version {version}")


def _ipv4(
    data: bytes, off: int, vlans: tuple[int, ...] | None, tunnel: str | None, depth: int
) -> Packet:
    if len(data) < off + 20:
        raise PacketError("truncated-ipv4", f"{len(data) - off} bytes of IPv4 header")
    first = data[off]
    if first >> 4 != 4:
        raise PacketError("bad-ip-version", f"IP version {first >> 4} in an IPv4 frame")
    ihl = (first & 0x0F) * 4
    total = _U16.unpack_from(data, off + 2)[0]
    if ihl < 20:
        raise PacketError("bad-ipv4-header-length", f"IHL {ihl}")
    if total == 0:  # segmentation offload: the length was never filled in
        total = len(data) - off
    if total < ihl:
        raise PacketError("bad-ipv4-total-length", f"total length {total} < header {ihl}")
    end = min(len(data), off + total)
    if end < off + ihl:
        raise PacketError("truncated-ipv4", "options cut off")
    frag_field = _U16.unpack_from(data, off + 6)[0]
    proto = data[off + 9]
    src = data[off + 12 : off + 16]
    dst = data[off + 16 : off + 20]
    frag_offset = (frag_field & 0x1FFF) * 8
    more = bool(frag_field & 0x2000)
    fragment = None
    if frag_offset or more:
        ip_id = _U16.unpack_from(data, off + 4)[0]
        fragment = (ip_id, frag_offset, more)
        if frag_offset:
            return Packet(proto, src, dst, 0, 0, off + ihl, end, 0, 0, vlans, tunnel, fragment,
                          False)
    return _transport(proto, src, dst, data, off + ihl, end, vlans, tunnel, fragment, depth)


def _ipv6(
    data: bytes, off: int, vlans: tuple[int, ...] | None, tunnel: str | None, depth: int
) -> Packet:
    if len(data) < off + 40:
        raise PacketError("truncated-ipv6", f"{len(data) - off} bytes of IPv6 header")
    if data[off] >> 4 != 6:
        raise PacketError("bad-ip-version", f"IP version {data[off] >> 4} in an IPv6 frame")
    payload_len = _U16.unpack_from(data, off + 4)[0]
    proto = data[off + 6]
    src = data[off + 8 : off + 24]
    dst = data[off + 24 : off + 40]
    end = len(data) if payload_len == 0 else min(len(data), off + 40 + payload_len)
    pos = off + 40
    fragment = None
    for _ in range(8):
        if proto in IPV6_EXTENSION_HEADERS:
            _need(data, pos + 2, "ipv6-extension")
            proto, pos = data[pos], pos + (data[pos + 1] + 1) * 8
        elif proto == IPV6_AH:
            _need(data, pos + 2, "ipv6-extension")
            proto, pos = data[pos], pos + (data[pos + 1] + 2) * 4
        elif proto == IPV6_FRAGMENT:
            _need(data, pos + 8, "ipv6-fragment")
            frag_field = _U16.unpack_from(data, pos + 2)[0]
            ip_id = struct.unpack_from("!I", data, pos + 4)[0]
            frag_offset = frag_field & 0xFFF8
            fragment = (ip_id, frag_offset, bool(frag_field & 1))
            proto, pos = data[pos], pos + 8
            if frag_offset:
                return Packet(proto, src, dst, 0, 0, pos, end, 0, 0, vlans, tunnel, fragment,
                              False)
        else:
            break
    if pos > end:
        raise PacketError("truncated-ipv6", "extension headers run past the packet")
    return _transport(proto, src, dst, data, pos, end, vlans, tunnel, fragment, depth)


def _transport(
    proto: int,
    src: bytes,
    dst: bytes,
    data: bytes,
    off: int,
    end: int,
    vlans: tuple[int, ...] | None,
    tunnel: str | None,
    fragment: tuple[int, int, bool] | None,
    depth: int,
) -> Packet:
    if proto == PROTO_TCP:
        if end < off + 20:
            raise PacketError("truncated-tcp", f"{end - off} bytes of TCP header")
        sport, dport, seq, _ack, data_off, flags = _TCP.unpack_from(data, off)
        header = (data_off >> 4) * 4
        if header < 20:
            raise PacketError("bad-tcp-header-length", f"data offset {header}")
        start = min(off + header, end)
        return Packet(proto, src, dst, sport, dport, start, end, flags, seq, vlans, tunnel,
                      fragment, True)
    if proto == PROTO_UDP:
        if end < off + 8:
            raise PacketError("truncated-udp", f"{end - off} bytes of UDP header")
        sport, dport, length = _UDP.unpack_from(data, off)
        if length >= 8 and fragment is None:
            end = min(end, off + length)
        if depth < MAX_TUNNEL_DEPTH and fragment is None:
            if PORT_GTP_U in (sport, dport):
                inner = _gtp_u(data, off + 8, end, vlans, depth)
                if inner is not None:
                    return inner
            elif dport == PORT_VXLAN and end >= off + 16 and data[off + 8] & 0x08:
                return _ethernet(data[: end], off + 16, vlans, "vxlan", depth + 1)
        return Packet(proto, src, dst, sport, dport, off + 8, end, 0, 0, vlans, tunnel, fragment,
                      True)
    if depth < MAX_TUNNEL_DEPTH and fragment is None:
        if proto == PROTO_IPIP:
            return _ipv4(data[:end], off, vlans, "ip-in-ip", depth + 1)
        if proto == PROTO_IPV6:
            return _ipv6(data[:end], off, vlans, "ip-in-ip", depth + 1)
        if proto == PROTO_GRE:
            inner = _gre(data[:end], off, vlans, depth)
            if inner is not None:
                return inner
    # ICMP and any other protocol: a flow keyed on addresses alone.
    return Packet(proto, src, dst, 0, 0, off, end, 0, 0, vlans, tunnel, fragment, True)


def _gtp_u(
    data: bytes, off: int, end: int, vlans: tuple[int, ...] | None, depth: int
) -> Packet | None:
    """Open a GTP-U G-PDU; None when the payload is not GTPv1-U user data."""
    if end < off + 8:
        return None
    flags, msg_type = data[off], data[off + 1]
    if flags >> 5 != 1 or not flags & 0x10 or msg_type != 0xFF:
        return None
    pos = off + 8
    if flags & 0x07:
        if end < pos + 4:
            return None
        next_ext = data[pos + 3]
        pos += 4
        while next_ext:
            if end < pos + 1 or data[pos] == 0:
                return None
            ext_len = data[pos] * 4
            if end < pos + ext_len:
                return None
            next_ext = data[pos + ext_len - 1]
            pos += ext_len
    if pos >= end or data[pos] >> 4 not in (4, 6):
        return None
    return _ip_by_version(data[:end], pos, vlans, "gtp-u", depth + 1)


def _gre(data: bytes, off: int, vlans: tuple[int, ...] | None, depth: int) -> Packet | None:
    if len(data) < off + 4:
        return None
    flags, proto = struct.unpack_from("!HH", data, off)
    if flags & 0x0007:  # only GRE version 0 carries the payloads we open
        return None
    pos = off + 4 + 4 * bool(flags & 0x8000) + 4 * bool(flags & 0x2000) + 4 * bool(flags & 0x1000)
    if proto == ETHERTYPE_TRANSPARENT_ETHERNET:
        return _ethernet(data, pos, vlans, "gre", depth + 1)
    if proto in (ETHERTYPE_IPV4, ETHERTYPE_IPV6):
        return _by_ethertype(proto, data, pos, vlans, "gre", depth + 1)
    return None
