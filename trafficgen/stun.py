"""STUN (RFC 5389) binding requests and responses, as ICE and NAT discovery send them."""

from __future__ import annotations

import struct
import zlib

from trafficgen.addresses import ip_bytes
from trafficgen.flows import UdpFlow

STUN_MAGIC = 0x2112A442
BINDING_REQUEST, BINDING_SUCCESS = 0x0001, 0x0101

# An ICE connectivity check's attributes: USERNAME, PRIORITY, ICE-CONTROLLING,
# MESSAGE-INTEGRITY (zeros) and a FINGERPRINT that is not computed.
ICE_CHECK_ATTRS = (
    bytes.fromhex("0006000c") + b"a3f1:9c2e1b7d"[:12]  # USERNAME
    + bytes.fromhex("002400046e7f00ff")  # PRIORITY
    + bytes.fromhex("802a000801020304050607080008001400") + bytes(19)  # ICE-CONTROLLING, MI
    + bytes.fromhex("802800045ad1c3f1")  # FINGERPRINT
)


def stun_message(msg_type: int, txid: bytes, attrs: bytes = b"", fingerprint: bool = True) -> bytes:
    """A STUN message with `attrs`, ending with a FINGERPRINT attribute (CRC-32 xor
    0x5354554e) unless `fingerprint` is false."""
    if not fingerprint:
        return struct.pack("!HHI", msg_type, len(attrs), STUN_MAGIC) + txid + attrs
    head = struct.pack("!HHI", msg_type, len(attrs) + 8, STUN_MAGIC) + txid
    crc = (zlib.crc32(head + attrs) ^ 0x5354554E) & 0xFFFFFFFF
    return head + attrs + struct.pack("!HHI", 0x8028, 4, crc)


def xor_mapped_address(addr: str | bytes, port: int) -> bytes:
    """An IPv4 XOR-MAPPED-ADDRESS attribute: the address and port the server saw."""
    packed = ip_bytes(addr) if isinstance(addr, str) else addr
    xaddr = bytes(a ^ b for a, b in zip(packed, STUN_MAGIC.to_bytes(4, "big"), strict=True))
    return struct.pack("!HHBBH", 0x0020, 8, 0, 1, port ^ (STUN_MAGIC >> 16)) + xaddr


def stun_binding(
    flow: UdpFlow, t: float, txid: bytes, mapped: tuple[str, int], rtt: float
) -> float:
    """Binding Request from the client, Binding Success Response from the server; returns the
    time of the response."""
    flow.up(t, stun_message(BINDING_REQUEST, txid))
    flow.down(t + rtt, stun_message(BINDING_SUCCESS, txid, xor_mapped_address(*mapped)))
    return t + rtt
