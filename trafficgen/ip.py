"""IPv4 and IPv6 packets and the UDP, TCP, ICMP and ICMPv6 messages inside them, with `struct`.

Addresses are bytes (4 or 16: the header is chosen by their length). Checksums are computed
when asked (`checksum=True`: what a real stack sends, and what scapy computes) and left zero
otherwise, which readers accept and which keeps a million-packet capture fast to build.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMPV6 = 1, 6, 17, 58
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10

IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")
IPV6_HEADER = struct.Struct("!IHBB16s16s")
UDP_HEADER = struct.Struct("!HHHH")
TCP_HEADER = struct.Struct("!HHIIBBHHH")
_IPV4_DF = 0x4000

TcpOptions = Sequence[tuple[str, object]]


def internet_checksum(data: bytes) -> int:
    """The RFC 1071 ones' complement checksum of `data`."""
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def transport_checksum(src: bytes, dst: bytes, proto: int, segment: bytes) -> int:
    """The checksum of a UDP/TCP/ICMPv6 `segment` (its checksum field zero), over the IPv4 or
    IPv6 pseudo-header."""
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(segment))
    else:
        pseudo = src + dst + struct.pack("!I3xB", len(segment), proto)
    return internet_checksum(pseudo + segment)


def _with_checksum(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + struct.pack("!H", value) + data[at + 2 :]


def ip_header(
    src: bytes,
    dst: bytes,
    proto: int,
    length: int,
    ident: int,
    ttl: int,
    df: bool = True,
    flow_label: int = 0,
    checksum: bool = False,
) -> bytes:
    """An IPv4 header (no options; `ident` and the DF flag) or an IPv6 header (hop limit
    `ttl`, `flow_label`) for `length` bytes of `proto` payload."""
    if len(src) == 4:
        header = IPV4_HEADER.pack(
            0x45, 0, 20 + length, ident & 0xFFFF, _IPV4_DF if df else 0, ttl, proto, 0, src, dst
        )
        return _with_checksum(header, 10, internet_checksum(header)) if checksum else header
    return IPV6_HEADER.pack(0x60000000 | flow_label, length, proto, ttl, src, dst)


def udp(
    src: bytes, dst: bytes, sport: int, dport: int, payload: bytes, checksum: bool = False
) -> bytes:
    """A UDP datagram; a computed checksum of zero is sent as 0xFFFF (RFC 768)."""
    segment = UDP_HEADER.pack(sport, dport, 8 + len(payload), 0) + payload
    if not checksum:
        return segment
    return _with_checksum(segment, 6, transport_checksum(src, dst, PROTO_UDP, segment) or 0xFFFF)


_TCP_OPTION_KINDS = {"EOL": 0, "NOP": 1, "MSS": 2, "WScale": 3, "SAckOK": 4, "Timestamp": 8}


def tcp_options(options: TcpOptions) -> bytes:
    """TCP options as scapy names them (`("MSS", 1460)`, `("NOP", None)`, `("WScale", 8)`,
    `("SAckOK", b"")`, `("Timestamp", (tsval, tsecr))`), padded to whole words."""
    out = bytearray()
    for name, value in options:
        kind = _TCP_OPTION_KINDS[name]
        if name in ("EOL", "NOP"):
            out.append(kind)
        elif name == "MSS" and isinstance(value, int):
            out += struct.pack("!BBH", kind, 4, value)
        elif name == "WScale" and isinstance(value, int):
            out += struct.pack("!BBB", kind, 3, value)
        elif name == "SAckOK":
            out += struct.pack("!BB", kind, 2)
        elif name == "Timestamp" and isinstance(value, tuple):
            out += struct.pack("!BBII", kind, 10, *value)
        else:
            raise ValueError(f"TCP option {name} with value {value!r}")
    return bytes(out) + b"\x00" * (-len(out) % 4)


def tcp(
    src: bytes,
    dst: bytes,
    sport: int,
    dport: int,
    seq: int,
    ack: int,
    flags: int,
    window: int,
    payload: bytes = b"",
    options: bytes = b"",
    checksum: bool = False,
) -> bytes:
    """A TCP segment; `options` already encoded (`tcp_options`)."""
    offset = ((20 + len(options)) // 4) << 4
    header = TCP_HEADER.pack(sport, dport, seq, ack, offset, flags, window, 0, 0)
    segment = header + options + payload
    if not checksum:
        return segment
    return _with_checksum(segment, 16, transport_checksum(src, dst, PROTO_TCP, segment))


def icmp_echo(reply: bool, ident: int, seq: int, payload: bytes, checksum: bool = False) -> bytes:
    """An ICMP echo request or reply."""
    message = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, ident, seq) + payload
    return _with_checksum(message, 2, internet_checksum(message)) if checksum else message


def icmpv6(src: bytes, dst: bytes, message: bytes) -> bytes:
    """An ICMPv6 `message` (its checksum field zero) with its checksum filled in."""
    return _with_checksum(message, 2, transport_checksum(src, dst, PROTO_ICMPV6, message))
