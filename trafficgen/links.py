"""Link layers: Ethernet (as a capturing host sees it) and Linux SLL2 (`tcpdump -i any`).

A `Link` wraps an IP packet seen from the capturing host, outgoing or received.
`host_frame` and `udp_frame` frame a packet between two `Host`s in one go: with checksums for
LAN chatter, without (the default) for the bulk of a large capture.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Protocol

from trafficgen.addresses import ZERO_MAC, Host, mac_bytes
from trafficgen.ip import PROTO_UDP, ip_header, udp

LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL2 = 276
ETHERTYPE_IPV4, ETHERTYPE_ARP, ETHERTYPE_IPV6, ETHERTYPE_LLDP = 0x0800, 0x0806, 0x86DD, 0x88CC
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
SLL_HOST, SLL_OUTGOING = 0, 4  # SLL packet types: to us, sent by us
LOOPBACK_IFINDEX = 1  # Linux's "lo"
ETH_MIN_FRAME = 60  # without FCS: what a capturing host sees for short received frames

ETHERNET_HEADER = struct.Struct("!6s6sH")
SLL2_HEADER = struct.Struct("!HHIHBB8s")


def ip_ethertype(l3: bytes) -> int:
    """The EtherType of an IP packet, from its version."""
    version = l3[0] >> 4
    if version == 4:
        return ETHERTYPE_IPV4
    if version == 6:
        return ETHERTYPE_IPV6
    raise ValueError(f"not an IP packet (version {version}); give the EtherType")


def ethernet(dst: str, src: str, payload: bytes, ethertype: int | None = None) -> bytes:
    """An Ethernet II frame (no FCS) between two MAC addresses written as text; the EtherType
    is the IP version's unless given."""
    kind = ip_ethertype(payload) if ethertype is None else ethertype
    return ETHERNET_HEADER.pack(mac_bytes(dst), mac_bytes(src), kind) + payload


def pad_received(frame: bytes) -> bytes:
    """Received Ethernet frames shorter than 60 bytes arrive padded; the capture keeps it."""
    return frame.ljust(ETH_MIN_FRAME, b"\x00")


def sll2(
    l3: bytes, ifindex: int, hatype: int, pkttype: int, mac: str, ethertype: int | None = None
) -> bytes:
    """A LINKTYPE_LINUX_SLL2 header (20 bytes) in front of `l3`."""
    kind = ip_ethertype(l3) if ethertype is None else ethertype
    return SLL2_HEADER.pack(kind, 0, ifindex, hatype, pkttype, 6, mac_bytes(mac)) + l3


def sll2_loopback(l3: bytes) -> tuple[bytes, bytes]:
    """A loopback packet as `-i any` captures it: going out, then coming back in."""
    return (
        sll2(l3, LOOPBACK_IFINDEX, ARPHRD_LOOPBACK, SLL_OUTGOING, ZERO_MAC),
        sll2(l3, LOOPBACK_IFINDEX, ARPHRD_LOOPBACK, SLL_HOST, ZERO_MAC),
    )


class Link(Protocol):
    """Wraps an IP packet in the capture's link layer, seen from the capturing host."""

    def frame(self, l3: bytes, outgoing: bool, ethertype: int | None = None) -> bytes:
        """The frame that carries `l3` (an IP packet unless `ethertype` says otherwise), sent by
        the capturing host or received by it."""
        ...


@dataclass(frozen=True)
class EtherLink:
    """Ethernet between the capturing host and its router (the next hop off the LAN)."""

    own_mac: str
    router_mac: str

    def frame(self, l3: bytes, outgoing: bool, ethertype: int | None = None) -> bytes:
        """`l3` to or from the router; received short frames padded."""
        if outgoing:
            return ethernet(self.router_mac, self.own_mac, l3, ethertype)
        return pad_received(ethernet(self.own_mac, self.router_mac, l3, ethertype))


@dataclass(frozen=True)
class CookedLink:
    """`tcpdump -i any` on Linux: SLL2 headers naming the interface and the packet direction."""

    ifindex: int
    own_mac: str
    router_mac: str

    def frame(self, l3: bytes, outgoing: bool, ethertype: int | None = None) -> bytes:
        """`l3` with the sender's MAC and the direction in its SLL2 header."""
        if outgoing:
            return sll2(l3, self.ifindex, ARPHRD_ETHER, SLL_OUTGOING, self.own_mac, ethertype)
        return sll2(l3, self.ifindex, ARPHRD_ETHER, SLL_HOST, self.router_mac, ethertype)


def host_frame(
    src: Host,
    dst: Host,
    proto: int,
    l4: bytes,
    ident: int,
    ttl: int = 64,
    *,
    df: bool = True,
    checksum: bool = False,
) -> bytes:
    """Ethernet, IPv4 or IPv6, then `l4`, from `src` to `dst` (see `ip.ip_header`)."""
    kind = ETHERTYPE_IPV4 if len(src.ip) == 4 else ETHERTYPE_IPV6
    header = ip_header(src.ip, dst.ip, proto, len(l4), ident, ttl, df, 0, checksum)
    return b"".join((ETHERNET_HEADER.pack(dst.mac, src.mac, kind), header, l4))


def udp_frame(
    src: Host,
    dst: Host,
    sport: int,
    dport: int,
    payload: bytes,
    ident: int,
    ttl: int = 64,
    *,
    df: bool = True,
    checksum: bool = False,
) -> bytes:
    """A UDP datagram from `src` to `dst` in an Ethernet frame (see `host_frame`)."""
    datagram = udp(src.ip, dst.ip, sport, dport, payload, checksum)
    return host_frame(src, dst, PROTO_UDP, datagram, ident, ttl, df=df, checksum=checksum)
