"""What a capture lets vcaudit see of a flow: every protocol the inspector can name is either
encrypted or plaintext, so an encrypted flow (TLS, QUIC of any version, gQUIC, DTLS, SRTP, ...)
is never reported with unknown visibility, and the report's encrypted count includes it."""

from __future__ import annotations

import re
from pathlib import Path

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import auditor.capture.inspector as flow_inspector
from auditor.audit import run_audit
from auditor.capture.flow_facts import ENCRYPTED_PROTOS, PLAINTEXT_PROTOS
from auditor.capture.reading import read_capture
from auditor.classify.catalog import Catalog
from auditor.media.observations import LABEL_ORDER
from auditor.records import Visibility
from auditor.report.build import build_report

from .conftest import write_pcap

KNOWN_ENCRYPTED = {"tls", "quic", "gquic", "dtls", "ssh", "srtp", "srtcp"}


def gquic_hello(server_name: bytes) -> bytes:
    """A Google QUIC Q043 client hello (CHLO) naming `server_name` in clear."""
    tags = [(b"PAD\x00", b"-" * 400), (b"SNI\x00", server_name), (b"VER\x00", b"Q043")]
    table, values, end = b"", b"", 0
    for tag, value in tags:
        end += len(value)
        table += tag + end.to_bytes(4, "little")
        values += value
    chlo = b"CHLO" + len(tags).to_bytes(2, "little") + b"\x00\x00" + table + values
    header = b"\x0d" + bytes(range(1, 9)) + b"Q043" + b"\x01" + bytes(12)
    return header + b"\xa0\x01" + len(chlo).to_bytes(2, "big") + chlo


def inspector_labels() -> set[str]:
    """Every app_proto the pcap inspector can set: literal labels in its code and its tables,
    and the media protocols its media sniffer names."""
    source = Path(flow_inspector.__file__).read_text()
    literal = set(re.findall(r'_set_proto\("([a-z0-9-]+)"', source))
    literal |= set(re.findall(r'_set_proto\("([a-z0-9-]+)" if', source))
    literal |= set(re.findall(r'else "([a-z0-9-]+)"\)', source))
    return literal | set(flow_inspector.UDP_PORT_LABELS.values()) | set(
        flow_inspector.DNS_PORTS.values()) | set(LABEL_ORDER)


def test_every_inspector_label_has_a_visibility() -> None:
    labels = inspector_labels()
    assert {"tls", "quic", "gquic", "dtls", "stun", "dns", "http", "ssdp"} <= labels
    assert not ENCRYPTED_PROTOS & PLAINTEXT_PROTOS
    assert labels <= ENCRYPTED_PROTOS | PLAINTEXT_PROTOS, labels - ENCRYPTED_PROTOS - (
        PLAINTEXT_PROTOS)
    assert KNOWN_ENCRYPTED <= ENCRYPTED_PROTOS


def test_gquic_flow_is_encrypted_and_counted(tmp_path: Path, catalog: Catalog) -> None:
    packets = []
    for i in range(3):
        packet = Ether() / IP(src="192.168.1.23", dst="142.250.185.110") / UDP(
            sport=51000, dport=443) / Raw(gquic_hello(b"www.youtube.com"))
        packet.time = 1_700_000_000 + i * 0.05
        packets.append(packet)
    reading = read_capture(write_pcap(tmp_path / "gquic.pcap", packets))
    (flow,) = reading.flows
    assert (flow.app_proto, flow.host) == ("gquic", "www.youtube.com")
    assert flow.visibility is Visibility.ENCRYPTED
    session = run_audit(catalog, reading.flows, [], session_id="g", source="pcap",
                        inputs=["gquic.pcap"], requested_app=None)
    coverage = build_report(session).document["coverage"]
    assert coverage["encrypted_flows"]["flows"] == 1
    assert coverage["encrypted_flows"]["by_protocol"] == {"gquic": 1}
    assert any("1 flow" in note and "(1 gQUIC)" in note for note in coverage["notes"])


def test_real_captures_have_no_encrypted_flow_without_visibility(shared_captures: Path) -> None:
    seen: set[str] = set()
    for capture in sorted((shared_captures / "pcap").iterdir()):
        for flow in read_capture(capture).flows:
            if flow.app_proto is None:
                continue
            seen.add(flow.app_proto)
            assert flow.visibility is not None, (capture.name, flow.flow_id, flow.app_proto)
            if flow.app_proto in KNOWN_ENCRYPTED:
                assert flow.visibility is Visibility.ENCRYPTED, (capture.name, flow.flow_id)
    assert {"gquic", "quic", "tls"} <= seen  # quic.pcap is Google QUIC

