"""Vendor framings and hellos: Zoom's SFU and media encapsulation, Agora's SD-RTN hello,
Discord's IP discovery and pings, Google QUIC Q050's CHLO inside a protected Initial."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest

from auditor.capture.reading import read_capture
from auditor.protocols.agora import AgoraError, sd_rtn_server_name
from auditor.protocols.discord_voice import (
    DiscordVoiceError,
    is_voice_ping,
    parse_ip_discovery,
)
from auditor.protocols.gquic import VERSION_Q050, chlo_server_name, q050_server_name
from auditor.protocols.quic import QuicInitialError, client_initial_crypto
from auditor.protocols.zoom_media import ZoomMediaError, parse_p2p, parse_sfu

from .media_packets import rtcp_sender_report, rtp, udp_flow
from .test_quic_initial import crypto_frame, protect

SALT_Q050 = bytes.fromhex("504574efd066fe2f9d945cfcdbd3a7f0d3b56b45")


def sfu_media(zme_type: int, inner: bytes, offset: int) -> bytes:
    """SFU type 5 (8 bytes) around a Zoom media header whose RTP sits `offset` bytes in."""
    return bytes([5, 0, 1, 0, 0, 0, 0, 0]) + bytes([zme_type]) + bytes(offset - 1) + inner


def test_zoom_sfu_hellos_and_media() -> None:
    assert parse_sfu(bytes.fromhex("0100027d464d35fffda2344900")).kind == "hello"
    assert parse_sfu(bytes.fromhex("0200037d464d35fffda2344900")).kind == "hello"
    audio = parse_sfu(sfu_media(15, rtp(98, 1, 0x1234), 19))
    assert (audio.sfu_type, audio.kind, audio.rtp_offset) == (5, "audio", 8 + 19)
    video = parse_sfu(sfu_media(16, rtp(98, 1, 0x1234), 24))
    assert (video.kind, video.rtp_offset) == ("video", 32)
    report = parse_sfu(sfu_media(33, rtcp_sender_report(9), 16))
    assert report.kind == "rtcp"
    screen = parse_sfu(sfu_media(13, bytes(40), 27))  # type 13 may come without RTP
    assert (screen.kind, screen.rtp_offset) == ("screen-share", None)
    for bad in (bytes(8), sfu_media(15, bytes(30), 19), sfu_media(21, rtp(98, 1, 1), 19),
                bytes([7]) + bytes(40), sfu_media(16, rtcp_sender_report(1), 24)):
        with pytest.raises(ZoomMediaError):
            parse_sfu(bad)


def test_zoom_peer_to_peer_hello() -> None:
    address, ident = b"192.0.2.10", b"2f1c4e5a-uuid"
    hello = (bytes.fromhex("1f0201") + bytes(21) + len(address).to_bytes(4, "big") + address
             + len(ident).to_bytes(4, "big") + ident + bytes(4))
    assert parse_p2p(hello).kind == "hello"
    with pytest.raises(ZoomMediaError):
        parse_p2p(hello[:-1] + b"\x01")
    media = parse_p2p(bytes([15]) + bytes(18) + rtp(98, 1, 5))
    assert (media.sfu_type, media.kind, media.rtp_offset) == (None, "audio", 19)


def agora_hello(name: bytes) -> bytes:
    return (b"\x00\x5a\x38\x4c\x00\x00\x21\x00" + bytes(4) + b"\x04SNI"
            + len(name).to_bytes(2, "big") + b"\x00" + name + b"PDMD\x00\x00CPTO")


def test_agora_sd_rtn_hello() -> None:
    assert sd_rtn_server_name(agora_hello(b"23-248-186-179.edge.agora.io")) == (
        "23-248-186-179.edge.agora.io")
    assert sd_rtn_server_name(bytes(40)) is None
    claims_too_much = bytearray(agora_hello(b"example.agora.io"))
    claims_too_much[16:18] = (200).to_bytes(2, "big")
    with pytest.raises(AgoraError):
        sd_rtn_server_name(bytes(claims_too_much))
    with pytest.raises(AgoraError):
        sd_rtn_server_name(agora_hello(b"\xff\xfe"))


def discovery(kind: int, address: bytes, port: int = 0) -> bytes:
    return (kind.to_bytes(2, "big") + (70).to_bytes(2, "big") + (0xACE3).to_bytes(4, "big")
            + address.ljust(64, b"\x00") + port.to_bytes(2, "big"))


def test_discord_ip_discovery_and_pings() -> None:
    request = parse_ip_discovery(discovery(1, b""))
    assert request is not None and not request.response and request.ssrc == 0xACE3
    response = parse_ip_discovery(discovery(2, b"84.59.132.100", 61985))
    assert response is not None and response.address == ("84.59.132.100", 61985)
    assert parse_ip_discovery(discovery(2, b"x")[:-1]) is None
    with pytest.raises(DiscordVoiceError):
        parse_ip_discovery(discovery(2, b"not-an-address"))
    assert is_voice_ping(bytes.fromhex("1337cafe0e000000"))
    assert not is_voice_ping(bytes.fromhex("1337cafe"))


def q050_initial(name: bytes, dcid: bytes = bytes(range(8))) -> bytes:
    tags = [(b"PAD\x00", b"-" * 200), (b"SNI\x00", name), (b"VER\x00", b"Q050")]
    table, values, end = b"", b"", 0
    for tag, value in tags:
        end += len(value)
        table += tag + end.to_bytes(4, "little")
        values += value
    chlo = b"CHLO" + len(tags).to_bytes(2, "little") + b"\x00\x00" + table + values
    return protect(crypto_frame(0, chlo, frame_type=0x08), version=VERSION_Q050, dcid=dcid,
                   salt=SALT_Q050)


def test_q050_chlo_inside_a_protected_initial(tmp_path: Path) -> None:
    datagram = q050_initial(b"www.Google.com")
    crypto = client_initial_crypto(datagram)
    assert crypto is not None and crypto.version == VERSION_Q050
    assert q050_server_name(crypto.fragments) == "www.google.com"
    reading = read_capture(udp_flow(tmp_path / "q050.pcap", [(True, datagram)], sport=443))
    (flow,) = reading.flows
    assert (flow.app_proto, flow.host, flow.host_source.value) == (
        "gquic", "www.google.com", "quic-sni")
    assert flow.visibility is not None and flow.visibility.value == "encrypted"


def test_chlo_parser_refuses_damage() -> None:
    chlo = b"CHLO\x01\x00\x00\x00SNI\x00\x20\x00\x00\x00short"
    with pytest.raises(QuicInitialError):
        chlo_server_name(chlo)
    with pytest.raises(QuicInitialError):
        chlo_server_name(b"SHLO" + chlo[4:])
    rng = random.Random(2)
    good = b"CHLO\x01\x00\x00\x00SNI\x00\x0b\x00\x00\x00example.org"
    assert chlo_server_name(good) == "example.org"
    for _ in range(2000):
        data = bytearray(good)
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        with contextlib.suppress(QuicInitialError):
            chlo_server_name(bytes(data))
