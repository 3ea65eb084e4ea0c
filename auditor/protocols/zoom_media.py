"""Zoom's own media framing on UDP 8801-8810 (its multimedia routers) and between peers.

What marks it, as measured by the Princeton zoom-analysis dissector and nDPI's Zoom dissector
(facts, not their code): a connection to a media router opens with an 8-byte "SFU" header
whose first three bytes are 01 00 02/03 (client) or 02 00 02/03 (router); media then travels
in SFU type 5 packets wrapping a "Zoom media encapsulation" (ZME) header whose first byte says
what it carries: 15 audio, 16 video, 13 and 30 screen sharing, 33-35 RTCP, each with an RTP
(or RTCP) header at a fixed offset behind it. Peer-to-peer calls send ZME without the SFU
header and open with 1f 02 01 and a length-value list holding an address and an ID. Zoom
encrypts the media payload; the RTP headers stay readable. Malformed input raises
`ZoomMediaError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.protocols.rtp import RtpError, is_rtcp, parse_rtcp, parse_rtp

ZOOM_MEDIA_PORTS = range(8801, 8811)  # Zoom's published multimedia router ports
SFU_HEADER_LENGTH = 8
ZME_HEADER_LENGTH = 15
SFU_HELLOS = frozenset({b"\x01\x00\x02", b"\x01\x00\x03", b"\x02\x00\x02", b"\x02\x00\x03"})
SFU_MEDIA = 5
P2P_HELLO = b"\x1f\x02\x01"
# ZME type -> (what it carries, offset of the RTP or RTCP header from the ZME header)
ZME_TYPES = {15: ("audio", 19), 16: ("video", 24), 13: ("screen-share", 27),
             30: ("screen-share", 20), 33: ("rtcp", 16), 34: ("rtcp", 16), 35: ("rtcp", 16)}


class ZoomMediaError(ValueError):
    """The bytes are not Zoom's media framing."""


@dataclass(frozen=True, slots=True)
class ZoomPacket:
    """One Zoom media datagram: its SFU type (None between peers), what the ZME header says
    it carries, and where the inner RTP/RTCP header starts (None when there is none)."""

    sfu_type: int | None
    kind: str | None  # "hello", "audio", "video", "screen-share", "rtcp", or None (other)
    rtp_offset: int | None


def is_zoom_port(sport: int, dport: int) -> bool:
    """Whether either side uses one of Zoom's media router ports."""
    return sport in ZOOM_MEDIA_PORTS or dport in ZOOM_MEDIA_PORTS


def parse_sfu(payload: bytes) -> ZoomPacket:
    """A datagram to or from a Zoom media router (ports 8801-8810).

    Recognised: the SFU hellos that open a connection, and SFU type 5 carrying a ZME header
    with an RTP/RTCP header where its type says. Anything else raises `ZoomMediaError`.
    """
    if len(payload) <= SFU_HEADER_LENGTH:
        raise ZoomMediaError(f"{len(payload)} bytes is too short for Zoom's SFU header")
    if bytes(payload[:3]) in SFU_HELLOS:
        return ZoomPacket(payload[0], "hello", None)
    if payload[0] != SFU_MEDIA:
        raise ZoomMediaError(f"SFU type {payload[0]} is not a hello or media")
    kind, offset = _zme(payload, SFU_HEADER_LENGTH)
    return ZoomPacket(SFU_MEDIA, kind, offset)


def parse_p2p(payload: bytes) -> ZoomPacket:
    """A datagram of a peer-to-peer Zoom call: its opening hello, or ZME-framed media."""
    if bytes(payload[:3]) == P2P_HELLO:
        if not _p2p_hello(payload):
            raise ZoomMediaError("peer-to-peer hello without its address and ID list")
        return ZoomPacket(None, "hello", None)
    kind, offset = _zme(payload, 0)
    return ZoomPacket(None, kind, offset)


def _zme(payload: bytes, start: int) -> tuple[str, int | None]:
    if len(payload) <= start + ZME_HEADER_LENGTH:
        raise ZoomMediaError("too short for a Zoom media encapsulation header")
    kind_offset = ZME_TYPES.get(payload[start])
    if kind_offset is None:
        raise ZoomMediaError(f"Zoom media type {payload[start]} is not audio, video, "
                             "screen sharing or RTCP")
    kind, offset = kind_offset
    inner = start + offset
    if inner >= len(payload):
        raise ZoomMediaError(f"Zoom {kind} packet ends before its RTP header")
    body = payload[inner:]
    try:
        if kind == "rtcp":
            parse_rtcp(body)
        elif is_rtcp(body):
            raise ZoomMediaError(f"RTCP where Zoom {kind} has RTP")
        else:
            parse_rtp(body)
    except RtpError as exc:
        if kind == "screen-share" and payload[start] == 13:
            return kind, None  # type 13 often starts without RTP (nDPI saw the same)
        raise ZoomMediaError(f"Zoom {kind} packet without a valid RTP header: {exc}") from exc
    return kind, inner


def _p2p_hello(payload: bytes) -> bool:
    """24 header bytes, then a length-value list (4-byte lengths) of an address string and
    an ID, then 4 zero bytes that end the datagram."""
    if len(payload) <= 36 or payload[-4:] != b"\x00\x00\x00\x00":
        return False
    address_length = int.from_bytes(payload[24:28], "big")
    id_at = 28 + address_length
    if id_at + 4 > len(payload):
        return False
    id_length = int.from_bytes(payload[id_at : id_at + 4], "big")
    return id_at + 4 + id_length + 4 == len(payload)
