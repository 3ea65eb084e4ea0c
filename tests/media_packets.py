"""Builders of STUN/TURN messages, RTP packets (scapy's RTP layer) and media flows written as
captures, shared by the media tests."""

from __future__ import annotations

import ipaddress
import struct
import zlib
from pathlib import Path

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.layers.rtp import RTP
from scapy.packet import Packet, Raw

from .conftest import write_pcap

COOKIE = 0x2112A442
T0 = 1_700_000_000.0


def attribute(kind: int, value: bytes) -> bytes:
    """One STUN attribute, padded to 4 bytes."""
    return struct.pack("!HH", kind, len(value)) + value + b"\x00" * (-len(value) % 4)


def xor_address(kind: int, host: str, port: int, txid: bytes) -> bytes:
    """An XOR-MAPPED/RELAYED/PEER-ADDRESS attribute (RFC 8489 section 14.2)."""
    raw = ipaddress.ip_address(host).packed
    key = COOKIE.to_bytes(4, "big") + txid
    family = 1 if len(raw) == 4 else 2
    value = struct.pack("!BBH", 0, family, port ^ (COOKIE >> 16)) + bytes(
        a ^ b for a, b in zip(raw, key, strict=False))
    return attribute(kind, value)


def stun(method: int, message_class: int, txid: bytes, attrs: bytes = b"",
         fingerprint: bool = True) -> bytes:
    """An RFC 8489 message: method and class interleaved into the type, optional FINGERPRINT."""
    msg_type = ((method & 0x000F) | (method & 0x0070) << 1 | (method & 0x0F80) << 2
                | (message_class & 1) << 4 | (message_class & 2) << 7)
    length = len(attrs) + (8 if fingerprint else 0)
    head = struct.pack("!HHI", msg_type, length, COOKIE) + txid
    if not fingerprint:
        return head + attrs
    crc = (zlib.crc32(head + attrs) ^ 0x5354554E) & 0xFFFFFFFF
    return head + attrs + struct.pack("!HHI", 0x8028, 4, crc)


def rtp(pt: int, seq: int, ssrc: int, payload: bytes = b"\x55" * 40, marker: bool = False,
        ts: int = 0) -> bytes:
    """An RTP packet built by scapy's RTP layer."""
    return bytes(RTP(payload_type=pt, sequence=seq & 0xFFFF, timestamp=ts, sourcesync=ssrc,
                     marker=int(marker)) / Raw(payload))


def rtcp_sender_report(ssrc: int, encrypted_tail: bytes | None = None) -> bytes:
    """An RTCP sender report (no report blocks) and an SDES; with `encrypted_tail`, SRTCP's
    shape instead: the 8-byte clear header, then bytes that are no RTCP (ciphertext, index,
    tag)."""
    sr = struct.pack("!BBHI", 0x80, 200, 6, ssrc) + bytes(20)
    if encrypted_tail is not None:
        return sr[:8] + encrypted_tail
    cname = b"\x01\x04host"
    chunk = struct.pack("!I", ssrc) + cname + b"\x00" * (-(4 + len(cname)) % 4 or 4)
    sdes = struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk
    return sr + sdes


def udp_flow(path: Path, exchanges: list[tuple[bool, bytes]], client: str = "192.168.1.20",
             server: str = "198.51.100.7", cport: int = 50100, sport: int = 3478,
             step: float = 0.02) -> Path:
    """A capture of one UDP flow: (from_client, payload) in order."""
    packets: list[Packet] = []
    for number, (up, payload) in enumerate(exchanges):
        src, dst, a, b = (client, server, cport, sport) if up else (server, client, sport, cport)
        packet = Ether() / IP(src=src, dst=dst) / UDP(sport=a, dport=b) / Raw(payload)
        packet.time = T0 + number * step
        packets.append(packet)
    return write_pcap(path, packets)
