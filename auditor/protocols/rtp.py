"""RTP and RTCP headers (RFC 3550), and telling the protocols of one media port apart (RFC 7983).

WebRTC and most conferencing clients send STUN, DTLS, TURN ChannelData and RTP/RTCP over one
UDP port; the first byte says which: `demultiplex` follows RFC 7983 (with QUIC's ranges from
RFC 9443). SRTP keeps the RTP header in clear and encrypts only the payload, so a header tells
RTP from SRTP only with help from the rest of the flow (a DTLS handshake before it, say); SRTCP
shows itself because its encrypted part no longer splits into RTCP packets by their lengths.
Malformed input raises `RtpError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

RTP_HEADER_LENGTH = 12
RTCP_HEADER_LENGTH = 8
# RTCP packet types (RFC 3550, 4585, 3611, 5760, ...): 192-213. Over a muxed port (RFC 5761)
# they are told from RTP by the second byte, which for RTP is marker bit + payload type.
RTCP_TYPES = range(192, 214)
RTCP_SENDER_REPORT, RTCP_RECEIVER_REPORT = 200, 201
# Payload types seen in practice: the IANA static assignments (0-34) and the dynamic range
# (96-127). Others collide with RTCP when multiplexed (RFC 5761) or are unassigned, and
# accepting them would let random bytes pass for RTP.
VALID_PAYLOAD_TYPES = frozenset(range(0, 35)) | frozenset(range(96, 128))
# Static payload types of RFC 3551 whose medium is known; dynamic ones (96-127) say nothing.
STATIC_AUDIO = frozenset({0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18})
STATIC_VIDEO = frozenset({25, 26, 28, 31, 32, 33, 34})

_RTP = struct.Struct("!BBHII")
_RTCP = struct.Struct("!BBHI")


class RtpError(ValueError):
    """The bytes are not a well-formed RTP or RTCP packet."""


# First byte ranges of RFC 7983 section 7 and RFC 9443, in order.
_DEMUX = ((0, 3, "stun"), (16, 19, "zrtp"), (20, 63, "dtls"), (64, 79, "turn-channel"),
          (80, 127, "quic"), (128, 191, "rtp"), (192, 255, "quic"))
_DEMUX_TABLE = tuple(next((name for low, high, name in _DEMUX if low <= b <= high), None)
                     for b in range(256))


def demultiplex(first_byte: int) -> str | None:
    """Which protocol a datagram on a multiplexed media port carries, by its first byte:
    `stun`, `zrtp`, `dtls`, `turn-channel`, `rtp` (RTP or RTCP), `quic`, or None."""
    return _DEMUX_TABLE[first_byte]


@dataclass(frozen=True, slots=True)
class RtpHeader:
    """The fixed RTP header fields, and where the payload starts."""

    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    csrc_count: int
    header_length: int  # fixed header, CSRCs and extension: where the payload begins


@dataclass(frozen=True, slots=True)
class RtcpInfo:
    """An RTCP compound packet: its packet types, the sender's SSRC, and whether it is SRTCP
    (the lengths of the packets after the first do not add up to the datagram)."""

    packet_types: tuple[int, ...]
    ssrc: int
    encrypted: bool


def is_rtcp(payload: bytes) -> bool:
    """Whether an RTP-range datagram is RTCP (its second byte is an RTCP packet type)."""
    return len(payload) >= 2 and payload[1] in RTCP_TYPES


def parse_rtp(payload: bytes) -> RtpHeader:
    """Decode an RTP header, checking that CSRCs, extension and padding fit the datagram."""
    if len(payload) < RTP_HEADER_LENGTH:
        raise RtpError(f"{len(payload)} bytes is shorter than an RTP header")
    first, second, sequence, timestamp, ssrc = _RTP.unpack_from(payload, 0)
    if first >> 6 != 2:
        raise RtpError(f"RTP version {first >> 6}, not 2")
    payload_type = second & 0x7F
    if payload_type not in VALID_PAYLOAD_TYPES:
        raise RtpError(f"payload type {payload_type} is unassigned or collides with RTCP")
    csrc_count = first & 0x0F
    length = RTP_HEADER_LENGTH + 4 * csrc_count
    if first & 0x10:  # header extension: 16-bit profile, 16-bit length in 32-bit words
        if length + 4 > len(payload):
            raise RtpError("RTP header extension is truncated")
        length += 4 + 4 * int.from_bytes(payload[length + 2 : length + 4], "big")
    if length > len(payload):
        raise RtpError(f"RTP header of {length} bytes runs past the {len(payload)}-byte packet")
    if first & 0x20 and (payload[-1] == 0 or length + payload[-1] > len(payload)):
        raise RtpError(f"RTP padding of {payload[-1]} bytes does not fit")
    return RtpHeader(payload_type, bool(second & 0x80), sequence, timestamp, ssrc, csrc_count,
                     length)


def parse_rtcp(payload: bytes) -> RtcpInfo:
    """Decode the headers of an RTCP compound packet (or the clear header of SRTCP)."""
    if len(payload) < RTCP_HEADER_LENGTH:
        raise RtpError(f"{len(payload)} bytes is shorter than an RTCP header")
    first, packet_type, words, ssrc = _RTCP.unpack_from(payload, 0)
    if first >> 6 != 2 or packet_type not in RTCP_TYPES:
        raise RtpError(f"not an RTCP header (version {first >> 6}, type {packet_type})")
    end = 4 * (words + 1)
    if end > len(payload):
        raise RtpError(f"RTCP length {end} runs past the {len(payload)}-byte packet")
    types = [packet_type]
    pos = end
    while pos + 4 <= len(payload):
        first, packet_type, words = payload[pos], payload[pos + 1], payload[pos + 2] << 8 | (
            payload[pos + 3])
        if first >> 6 != 2 or packet_type not in RTCP_TYPES or pos + 4 * (words + 1) > len(
                payload):
            break  # not clear text RTCP any more: SRTCP's encrypted part (or its trailer)
        types.append(packet_type)
        pos += 4 * (words + 1)
    return RtcpInfo(tuple(types), ssrc, encrypted=pos != len(payload))


def medium_of(payload_type: int) -> str | None:
    """`audio` or `video` for a static payload type whose medium RFC 3551 fixes, else None."""
    if payload_type in STATIC_AUDIO:
        return "audio"
    if payload_type in STATIC_VIDEO:
        return "video"
    return None
