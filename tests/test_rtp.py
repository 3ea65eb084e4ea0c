"""RTP and RTCP headers and the RFC 7983 demultiplexing of a media port: packets built with
scapy's RTP layer; RTCP compounds told from SRTCP; hostile input raises only RtpError."""

from __future__ import annotations

import contextlib
import random

import pytest
from scapy.layers.rtp import RTP, RTPExtension
from scapy.packet import Raw

from auditor.protocols.rtp import (
    RtpError,
    demultiplex,
    is_rtcp,
    medium_of,
    parse_rtcp,
    parse_rtp,
)

from .media_packets import rtcp_sender_report, rtp


@pytest.mark.parametrize(("first", "expected"), [
    (0, "stun"), (3, "stun"), (4, None), (15, None), (16, "zrtp"), (19, "zrtp"), (20, "dtls"),
    (63, "dtls"), (64, "turn-channel"), (79, "turn-channel"), (80, "quic"), (127, "quic"),
    (128, "rtp"), (191, "rtp"), (192, "quic"), (255, "quic"),
])
def test_rfc7983_ranges(first: int, expected: str | None) -> None:
    assert demultiplex(first) == expected


def test_rtp_header_fields() -> None:
    header = parse_rtp(rtp(111, 4242, 0xDEADBEEF, marker=True, ts=960))
    assert (header.payload_type, header.marker, header.sequence, header.timestamp,
            header.ssrc, header.header_length) == (111, True, 4242, 960, 0xDEADBEEF, 12)


def test_csrcs_and_header_extension_move_the_payload() -> None:
    packet = RTP(payload_type=96, sequence=1, sourcesync=7, numsync=2, sync=[1, 2],
                 extension=1) / RTPExtension(header_id=0xBEDE, header=[0x10203040]) / Raw(b"x")
    header = parse_rtp(bytes(packet))
    assert header.csrc_count == 2 and header.header_length == 12 + 8 + 4 + 4
    assert bytes(packet)[header.header_length:] == b"x"


def test_bad_rtp_headers_raise() -> None:
    good = rtp(0, 1, 2)
    cases = [
        good[:11],  # shorter than the fixed header
        bytes([0x40]) + good[1:],  # version 1
        good[:1] + bytes([72]) + good[2:],  # payload type 72: RTCP's range when muxed
        bytes([0x8F]) + good[1:20],  # 15 CSRCs that are not there
        bytes([0x90]) + good[1:12],  # an extension header that is not there
        bytes([0xA0]) + good[1:-1] + bytes([200]),  # padding longer than the packet
    ]
    for data in cases:
        with pytest.raises(RtpError):
            parse_rtp(data)


def test_rtcp_compound_and_srtcp() -> None:
    plain = rtcp_sender_report(0x74EC)
    assert is_rtcp(plain)
    info = parse_rtcp(plain)
    assert (info.packet_types, info.ssrc, info.encrypted) == ((200, 202), 0x74EC, False)
    encrypted = rtcp_sender_report(0x74EC, encrypted_tail=bytes(range(7, 57)))
    info = parse_rtcp(encrypted)
    assert (info.packet_types, info.encrypted) == ((200,), True)
    assert not is_rtcp(rtp(111, 1, 1))
    with pytest.raises(RtpError):
        parse_rtcp(plain[:7])
    with pytest.raises(RtpError):
        parse_rtcp(rtp(111, 1, 1))


def test_static_payload_types_name_their_medium() -> None:
    assert (medium_of(0), medium_of(8), medium_of(34), medium_of(111)) == (
        "audio", "audio", "video", None)


def test_random_bytes_only_raise_rtp_error() -> None:
    rng = random.Random(3)
    for _ in range(20000):
        data = bytes([rng.randrange(0x80, 0xC0)]) + rng.randbytes(rng.randint(0, 60))
        with contextlib.suppress(RtpError):
            parse_rtp(data)
        with contextlib.suppress(RtpError):
            parse_rtcp(data)
