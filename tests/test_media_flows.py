"""Media flows end to end: captures built with scapy, written to tmp_path and read like any
other; what lands in `Flow.app_proto` and `Flow.media`, and how the media block travels through
flows.jsonl, flows.csv and `vcaudit report`."""

from __future__ import annotations

import csv
import json
import random
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.capture.reading import read_capture
from auditor.cli.main import main
from auditor.media.sniffer import MAX_RTP_READ
from auditor.records import Flow, HostSource, Visibility, flow_from_dict

from .media_packets import (
    attribute,
    rtcp_sender_report,
    rtp,
    stun,
    udp_flow,
    xor_address,
)
from .test_pcap_flows import client_data, handshake, read, timed
from .test_tls_clienthello import dtls_client_hello

TXID = bytes(range(12))
PUBLIC = "203.0.113.9"  # the client's address after NAT, as servers report it


def only(path: Path) -> Flow:
    (flow,) = read_capture(path).flows
    return flow


def dtls_record(handshake_message: bytes) -> bytes:
    return struct.pack("!BHHIHH", 22, 0xFEFD, 0, 0, 0, len(handshake_message)) + (
        handshake_message)


def media_stream(count: int, ssrcs: tuple[int, ...] = (0x1111,), pt: int = 111,
                 start: int = 0) -> list[tuple[bool, bytes]]:
    """`count` RTP packets, alternating directions, one sequence per SSRC."""
    return [(n % 2 == 0, rtp(pt, start + n, ssrcs[n % len(ssrcs)])) for n in range(count)]


def test_webrtc_flow_ice_dtls_then_srtp(tmp_path: Path) -> None:
    ice = attribute(0x0024, b"\x6e\x7f\x1e\xff") + attribute(0x802A, bytes(8))
    exchanges = [
        (True, stun(0x001, 0, TXID, ice)),
        (False, stun(0x001, 2, TXID, xor_address(0x0020, PUBLIC, 61000, TXID))),
        (True, dtls_record(dtls_client_hello(server_name=b"sfu.example.net"))),
        *media_stream(40, ssrcs=(0xA1, 0xB2)),
        (True, rtcp_sender_report(0xA1, encrypted_tail=bytes(range(30)))),
    ]
    flow = only(udp_flow(tmp_path / "webrtc.pcap", exchanges, sport=19302))
    assert flow.app_proto == "srtp" and flow.visibility is Visibility.ENCRYPTED
    assert (flow.host, flow.host_source) == ("sfu.example.net", HostSource.DTLS_SNI)
    assert flow.alpn == ("webrtc",)
    media = flow.media
    assert media is not None
    assert media.protocols == ("stun", "dtls", "srtp", "srtcp")
    assert (media.ice, media.srtp_evidence, media.stun_methods) == (True, "dtls", ("binding",))
    assert media.mapped_address == f"{PUBLIC}:61000"
    assert (media.ssrc_count, media.payload_types, media.rtp_packets_read) == (2, (111,), 40)
    duration = flow.ts_end - flow.ts_start
    assert media.packet_rate == round((flow.packets_up + flow.packets_down) / duration, 1)
    assert media.relay is None and media.turn_realm is None


def test_turn_relay_with_channel_data(tmp_path: Path) -> None:
    relayed = [rtp(96, n, 0xC0FFEE) for n in range(6)]
    exchanges = [
        (True, stun(0x003, 0, TXID, attribute(0x0019, b"\x11\x00\x00\x00"))),
        (False, stun(0x003, 3, TXID, attribute(0x0009, b"\x00\x00\x04\x01Unauthorized")
                     + attribute(0x0014, b"signal.org") + attribute(0x0015, b"n0nce"))),
        (False, stun(0x003, 2, TXID, xor_address(0x0016, "198.51.100.7", 49152, TXID)
                     + xor_address(0x0020, PUBLIC, 50100, TXID)
                     + attribute(0x8022, b"Coturn-4.6"))),
        (True, stun(0x008, 0, TXID, xor_address(0x0012, "192.0.2.77", 40000, TXID))),
        (True, stun(0x009, 0, TXID, attribute(0x000C, b"\x40\x00\x00\x00")
                    + xor_address(0x0012, "192.0.2.77", 40000, TXID))),
        *[(n % 2 == 0, b"\x40\x00" + len(p).to_bytes(2, "big") + p) for n, p in
          enumerate(relayed)],
    ]
    flow = only(udp_flow(tmp_path / "turn.pcap", exchanges,
                         client="10.0.0.5", server="198.51.100.7", sport=3478))
    assert (flow.client_ip, flow.server_ip) == ("10.0.0.5", "198.51.100.7")
    media = flow.media
    assert media is not None and media.relay
    assert media.turn_realm == "signal.org" and media.software == ("Coturn-4.6",)
    assert media.stun_methods == ("allocate", "create-permission", "channel-bind")
    assert media.relayed_address == "198.51.100.7:49152"
    assert media.mapped_address == f"{PUBLIC}:50100"
    assert media.peer_addresses == ("192.0.2.77:40000",)
    assert media.protocols == ("turn", "rtp") and flow.app_proto == "rtp"
    assert media.ssrc_count == 1 and media.payload_types == (96,)


def test_rtp_alone_needs_two_packets_of_one_stream(tmp_path: Path) -> None:
    flow = only(udp_flow(tmp_path / "two.pcap", [(True, rtp(0, 5, 9)), (True, rtp(0, 6, 9))],
                         sport=6000))
    assert flow.app_proto == "rtp" and flow.visibility is Visibility.PLAINTEXT
    assert flow.media is not None and flow.media.srtp_evidence is None
    lone = only(udp_flow(tmp_path / "one.pcap", [(True, rtp(0, 5, 9))], sport=6000))
    assert lone.app_proto is None and lone.media is None
    jumping = only(udp_flow(tmp_path / "jump.pcap", [(True, rtp(0, 5, 9)),
                                                     (True, rtp(0, 5000, 9))], sport=6000))
    assert jumping.media is None


def test_random_datagrams_in_rtp_range_are_not_media(tmp_path: Path) -> None:
    rng = random.Random(8)
    exchanges = [(bool(n % 2), bytes([rng.randrange(0x80, 0xC0)]) + rng.randbytes(100))
                 for n in range(30)]
    flow = only(udp_flow(tmp_path / "noise.pcap", exchanges, sport=40000))
    assert flow.media is None and flow.app_proto is None


def test_streams_are_read_after_the_first_datagrams_up_to_the_cap(tmp_path: Path) -> None:
    # A second stream appears at packet 200 (long after the full inspection), a third after
    # MAX_RTP_READ headers were read: only the first two are counted.
    exchanges = [(True, stun(0x001, 0, TXID, attribute(0x0024, bytes(4))))]
    exchanges += media_stream(200, ssrcs=(1,))
    exchanges += media_stream(MAX_RTP_READ - 200, ssrcs=(1, 2), start=200)
    exchanges += media_stream(20, ssrcs=(3,), start=5000)
    flow = only(udp_flow(tmp_path / "long.pcap", exchanges, sport=3480, step=0.001))
    assert flow.media is not None
    assert flow.media.ssrc_count == 2 and flow.media.rtp_packets_read == MAX_RTP_READ
    assert flow.media.srtp_evidence == "ice" and flow.app_proto == "srtp"


def test_ssrcs_kept_are_bounded(tmp_path: Path) -> None:
    exchanges = [(True, rtp(96, n, 0x100 + n // 2)) for n in range(400)]
    flow = only(udp_flow(tmp_path / "many.pcap", exchanges, sport=5004))
    assert flow.media is not None and flow.media.ssrc_count == 64


def test_rtp_over_tcp_rfc4571(tmp_path: Path) -> None:
    frames = b"".join(len(p).to_bytes(2, "big") + p for p in
                      (rtp(8, 1, 0xC6), rtp(8, 2, 0xC6), rtp(8, 3, 0xC6)))
    reading = read(tmp_path, timed([*handshake(sport=5000), client_data(frames, 1001,
                                                                        sport=5000)]))
    (flow,) = reading.flows
    assert flow.app_proto == "rtp" and flow.media is not None
    assert flow.media.payload_types == (8,) and flow.media.packet_rate is None


def test_zoom_media_router_flow(tmp_path: Path) -> None:
    hello = bytes.fromhex("0100027d464d35fffda234495d0d6d3b51e89600") + bytes(40)
    audio = [bytes([5, 0, n, 0, 0, 0, 0, 0, 15]) + bytes(18) + rtp(98, n, 0x5A5A)
             for n in range(10)]
    flow = only(udp_flow(tmp_path / "zoom.pcap", [(True, hello), *[(bool(n % 2), a) for n, a
                                                                   in enumerate(audio)]],
                         server="206.247.41.10", sport=8801))
    assert flow.app_proto == "zoom-media" and flow.visibility is Visibility.ENCRYPTED
    media = flow.media
    assert media is not None and media.zoom_kinds == ("audio",)
    assert (media.payload_types, media.ssrc_count, media.srtp_evidence) == ((98,), 1, "zoom")
    # The same bytes on another port are not Zoom's framing.
    other = only(udp_flow(tmp_path / "other.pcap", [(True, hello)], sport=9999))
    assert other.app_proto is None


def test_malformed_stun_is_an_anomaly_not_a_crash(tmp_path: Path) -> None:
    good = stun(0x001, 0, TXID, attribute(0x0024, bytes(4)))
    broken = good[:20] + struct.pack("!HH", 0x8022, 200) + good[24:]
    reading = read_capture(udp_flow(tmp_path / "bad.pcap", [(True, good), (True, broken)]))
    assert reading.anomalies.counts.get("stun-malformed") == 1
    assert reading.flows[0].app_proto == "stun"


def test_media_block_through_jsonl_csv_and_report(tmp_path: Path) -> None:
    exchanges = [
        (True, stun(0x003, 0, TXID)),
        (False, stun(0x003, 3, TXID, attribute(0x0014, b"turn.l.google.com"))),
        (False, stun(0x003, 2, TXID, xor_address(0x0020, PUBLIC, 50100, TXID))),
        *media_stream(10),
    ]
    capture = udp_flow(tmp_path / "call.pcap", exchanges, server="74.125.250.129",
                       sport=19305)
    out = tmp_path / "session"
    result = CliRunner().invoke(main, ["analyze", str(capture), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    (line,) = (out / "flows.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["media"]["turn_realm"] == "turn.l.google.com"
    assert record["media"]["protocols"] == ["turn", "rtp"]
    assert flow_from_dict(record).media == read_capture(capture).flows[0].media
    with open(out / "flows.csv", newline="") as handle:
        (row,) = csv.DictReader(handle)
    cell = json.loads(row["media"])
    assert cell["turn_realm"] == "turn.l.google.com" and "ice" not in cell  # nulls left out
    report = json.loads((out / "report.json").read_text())
    assert report["coverage"]["media_flows"]["by_protocol"] == {"rtp": 1}
    assert report["coverage"]["unrecognised_payload_flows"]["flows"] == 0
    before = (out / "flows.csv").read_text()
    (out / "flows.csv").unlink()
    rebuilt = CliRunner().invoke(main, ["report", str(out)])
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert (out / "flows.csv").read_text() == before


@pytest.mark.parametrize("bad", [
    {"protocols": "stun"}, {"protocols": ["stun"], "ssrc_count": "2"},
    {"protocols": ["stun"], "software": "x"}, {"protocols": ["stun"], "relay": 1},
    {"protocols": ["stun"], "payload_types": [True]}, [],
])
def test_bad_media_blocks_are_refused(bad: object) -> None:
    record = {"flow_id": "F1", "ts_start": 1.0, "ts_end": 2.0, "transport": "udp",
              "client_ip": "10.0.0.1", "client_port": 1, "server_ip": "10.0.0.2",
              "server_port": 2, "media": bad}
    with pytest.raises(ValueError):
        flow_from_dict(record)
