"""Classic pcap records accounted straight from the file: the flow table's record taker
(capture.record_taker) counts what decoding every frame counts, payloads of open flows
included, and the mapped windows the reader sees an uncompressed file through
(capture.read_buffer) give the frames that reading it in pieces gives, at window edges, with
a record cut off, and in the progress reported."""

from __future__ import annotations

import faulthandler
import gzip
import os
import random
import resource
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet, Raw

from auditor.capture import background_read, read_buffer, reader, reading
from auditor.capture.flow_facts import named_record
from auditor.capture.flow_spill import flow_record, record_flow
from auditor.capture.flow_table import _FAST_FRAME, FlowTable
from auditor.capture.headers import decode_frame
from auditor.capture.reader import Frame, ReadStatus, read_frame_batches, read_frames
from auditor.capture.reading import CaptureReading, read_capture
from auditor.names.dns_index import DnsIndex
from auditor.records import FLOW_FIELDS, Visibility

from .conftest import SAMPLES, reading_contents, write_pcap

T0 = 1_762_092_000.0
CLIENT, SERVER, RESOLVER = "192.168.1.23", "170.114.52.2", "192.168.1.1"


def frame(n: int, layers: Packet) -> Packet:
    packet = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / layers
    packet.time = T0 + n / 100
    return packet


def mixed_call() -> list[Packet]:
    """A call's worth of what the taker must get right: a DNS exchange (payloads wanted), a
    TCP connection with a request (SYN, payloads with options, FIN), a long UDP media flow, a
    UDP datagram whose length is shorter than its IP packet, Ethernet padding, IPv6, ARP, a
    flow idle long enough to end and start again."""
    packets = [
        frame(0, IP(src=CLIENT, dst=RESOLVER) / UDP(sport=53000, dport=53)
              / DNS(rd=1, qd=DNSQR(qname="zoom.us"))),
        frame(1, IP(src=RESOLVER, dst=CLIENT) / UDP(sport=53, dport=53000)
              / DNS(qr=1, qd=DNSQR(qname="zoom.us"),
                    an=DNSRR(rrname="zoom.us", rdata=SERVER))),
        frame(2, IP(src=CLIENT, dst=SERVER) / TCP(sport=40000, dport=80, flags="S", seq=100)),
        frame(3, IP(src=SERVER, dst=CLIENT) / TCP(sport=80, dport=40000, flags="SA", seq=900,
                                                  ack=101)),
        frame(4, IP(src=CLIENT, dst=SERVER) / TCP(sport=40000, dport=80, flags="A", seq=101,
                                                  options=[("NOP", None), ("NOP", None),
                                                           ("Timestamp", (1, 2))])
              / Raw(b"GET /?email=alice@example.com HTTP/1.1\r\nHost: zoom.us\r\n\r\n")),
        frame(5, IP(src=SERVER, dst=CLIENT) / TCP(sport=80, dport=40000, flags="PA", seq=901)
              / Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")),
    ]
    rng = random.Random(7)
    for n in range(6, 400):
        up = n % 3 != 0
        ip = IP(src=CLIENT, dst=SERVER) if up else IP(src=SERVER, dst=CLIENT)
        ports = UDP(sport=50000, dport=8801) if up else UDP(sport=8801, dport=50000)
        packets.append(frame(n, ip / ports / Raw(bytes(rng.randrange(256)
                                                       for _ in range(rng.randrange(20, 300))))))
    short_udp = IP(src=CLIENT, dst=SERVER) / UDP(sport=50000, dport=8801, len=12) / Raw(b"x" * 40)
    packets.append(frame(400, short_udp))
    padded = frame(401, IP(src=CLIENT, dst=SERVER) / UDP(sport=50000, dport=8801) / Raw(b"y"))
    packets.append(Ether(bytes(padded) + b"\x00" * 20))
    packets[-1].time = T0 + 4.01
    packets.append(frame(402, IPv6(src="fe80::1", dst="fe80::2") / UDP(sport=5353, dport=5353)
                         / DNS(qd=DNSQR(qname="printer.local"))))
    packets.append(frame(403, ARP(pdst=RESOLVER)))
    packets.append(frame(404, IP(src=CLIENT, dst=SERVER) / TCP(sport=40000, dport=80,
                                                               flags="FA", seq=160)))
    late = frame(405, IP(src=CLIENT, dst=SERVER) / UDP(sport=50000, dport=8801) / Raw(b"z" * 50))
    late.time = T0 + 1000  # idle past the UDP timeout: a new flow
    packets.append(late)
    return packets




def read_frame_by_frame(path: Path, monkeypatch: pytest.MonkeyPatch) -> CaptureReading:
    """The capture read without the record taker and with every frame decoded."""
    def decoded(table: FlowTable, ts: float, wirelen: int, linktype: int, data: bytes) -> None:
        table.frames += 1
        table.add(ts, wirelen, decode_frame(linktype, data), data)

    def no_taker(path: Path, status: ReadStatus, progress: Any = None, taker: Any = None,
                 mapped: bool = True) -> Iterator[list[Frame]]:
        return read_frame_batches(path, status, progress, None, mapped)

    with monkeypatch.context() as patch:
        patch.setattr(FlowTable, "add_frame", decoded)
        patch.setattr(reading, "read_frame_batches", no_taker)
        return read_capture(path)


def cut_short(path: Path, keep: int) -> Path:
    """`path`'s pcap records with their captured data cut to at most `keep` bytes (the wire
    length kept), as a capture with a snap length writes them."""
    data = path.read_bytes()
    out, pos = bytearray(data[:24]), 24
    while pos + 16 <= len(data):
        sec, usec, caplen, wirelen = struct.unpack_from("<IIII", data, pos)
        kept = min(caplen, keep)
        out += struct.pack("<IIII", sec, usec, kept, wirelen)
        out += data[pos + 16 : pos + 16 + kept]
        pos += 16 + caplen
    cut = path.with_name(f"cut-{keep}-{path.name}")
    cut.write_bytes(bytes(out))
    return cut


@pytest.mark.parametrize("keep", [None, 60, 50])
def test_the_taker_counts_what_decoding_every_frame_counts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: int | None) -> None:
    path = write_pcap(tmp_path / "call.pcap", mixed_call())
    if keep is not None:
        path = cut_short(path, keep)  # headers whole, payloads cut: counted, not inspected
    general = reading_contents(read_frame_by_frame(path, monkeypatch))
    assert len(general["flows"]) >= 3 and general["non_ip"]
    if keep is None:
        assert general["dns"] and general["findings"]  # the payloads were read
        assert len(general["flows"]) >= 5
    else:
        assert general["snaplen_cut"] > 300
    assert reading_contents(read_capture(path)) == general


@pytest.mark.parametrize(("transport", "sport", "dport"), [
    (UDP, 50000, 1900), (TCP, 40000, 443), (UDP, 4789, 2152)])
def test_the_shortcut_reads_the_transports_ports(transport: Any, sport: int,
                                                 dport: int) -> None:
    """The ports the shortcut checks for tunnels (GTP-U 2152, VXLAN 4789) and hands on with a
    payload are the transport header's, bytes 34 to 38 of the frame."""
    data = bytes(frame(0, IP(src=CLIENT, dst="239.255.255.250")
                       / transport(sport=sport, dport=dport) / Raw(b"x")))
    assert _FAST_FRAME.unpack_from(data)[-2:] == (sport, dport)
    if dport != 2152:
        packet = decode_frame(1, data)
        assert (packet.sport, packet.dport) == (sport, dport)


def big_endian(path: Path) -> Path:
    """`path` (a little-endian pcap) written in big-endian byte order, as a big-endian
    machine writes it."""
    data = path.read_bytes()
    out = bytearray(struct.pack(">IHHiIII", *struct.unpack_from("<IHHiIII", data, 0)))
    pos = 24
    while pos + 16 <= len(data):
        sec, usec, caplen, wirelen = struct.unpack_from("<IIII", data, pos)
        out += struct.pack(">IIII", sec, usec, caplen, wirelen)
        out += data[pos + 16 : pos + 16 + caplen]
        pos += 16 + caplen
    swapped = path.with_name(f"be-{path.name}")
    swapped.write_bytes(bytes(out))
    return swapped


def test_a_big_endian_pcap_is_taken_the_same(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_pcap(tmp_path / "call.pcap", mixed_call())
    swapped = big_endian(path)
    assert swapped.read_bytes()[:4] == b"\xa1\xb2\xc3\xd4"
    general = reading_contents(read_frame_by_frame(swapped, monkeypatch))
    assert reading_contents(read_capture(swapped)) == general
    assert general == reading_contents(read_capture(path))


def test_the_taker_counts_most_packets_itself(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: the taker leaves few records to the general way."""
    path = write_pcap(tmp_path / "call.pcap", mixed_call())
    left: list[int] = []
    original = reading.pcap_taker

    def counting(table: FlowTable, general: Any) -> Any:
        def counted(*args: Any) -> None:
            left.append(table.frames)
            general(*args)
        return original(table, counted)

    monkeypatch.setattr(reading, "pcap_taker", counting)
    result = read_capture(path)
    assert 0 < len(left) < result.status.packets / 4
    assert left == sorted(left)  # numbered in the file's order


def test_a_gzip_compressed_pcap_is_taken_the_same(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_pcap(tmp_path / "call.pcap", mixed_call())
    packed = tmp_path / "call.pcap.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    unpacked = reading_contents(read_capture(path))
    assert reading_contents(read_capture(packed))["flows"] == unpacked["flows"]
    general = reading_contents(read_frame_by_frame(packed, monkeypatch))
    assert reading_contents(read_capture(packed)) == general


def read_through(path: Path, monkeypatch: pytest.MonkeyPatch, mapped: bool,
                 progress: Any = None) -> tuple[list[Frame], ReadStatus]:
    """Every frame of `path`, its file seen through mapped windows or read in pieces."""
    refill_for = read_buffer.refill_for

    def chosen(handle: Any, mapped_if_can: bool = True) -> read_buffer.Refill:
        return refill_for(handle, mapped and mapped_if_can)

    status = ReadStatus(path=str(path))
    with monkeypatch.context() as patch:
        patch.setattr(reader, "refill_for", chosen)
        return list(read_frames(path, status, progress)), status


def bulky_capture(path: Path) -> Path:
    """Records of many sizes, up to a few windows' worth when windows are small."""
    rng = random.Random(11)
    packets = [frame(n, IP(src=CLIENT, dst=SERVER) / UDP(sport=50000, dport=8801)
                     / Raw(b"m" * rng.randrange(0, 3000))) for n in range(120)]
    return write_pcap(path, packets)


def test_mapped_windows_give_the_frames_reads_give(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = bulky_capture(tmp_path / "bulky.pcap")
    monkeypatch.setattr(read_buffer, "WINDOW", 8192)  # many records across window edges
    mapped, mapped_status = read_through(path, monkeypatch, mapped=True)
    pieces, pieces_status = read_through(path, monkeypatch, mapped=False)
    assert len(mapped) == 120 and mapped == pieces
    assert mapped_status == pieces_status and mapped_status.truncated is None


def test_a_record_cut_off_is_reported_alike_through_windows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = bulky_capture(tmp_path / "bulky.pcap")
    path = tmp_path / "cut.pcap"
    path.write_bytes(whole.read_bytes()[:-700])
    monkeypatch.setattr(read_buffer, "WINDOW", 8192)
    mapped, mapped_status = read_through(path, monkeypatch, mapped=True)
    pieces, pieces_status = read_through(path, monkeypatch, mapped=False)
    assert mapped == pieces and 100 < len(mapped) <= 120
    assert mapped_status.truncated is not None and mapped_status == pieces_status


@pytest.mark.skipif(not hasattr(os, "fork"), reason="reading in another process needs fork")
def test_a_capture_cut_short_under_the_reader_is_read_here_in_pieces(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file cut short while the reader has it mapped ends the reader (SIGBUS): the capture
    is then read here, in pieces, as far as it goes, and this process lives on."""
    path = bulky_capture(tmp_path / "bulky.pcap")
    parent = os.getpid()
    windows = read_buffer._windows

    mapped_here: list[int] = []

    def cut_once_mapped(fileno: int, file_size: int) -> read_buffer.Refill:
        if os.getpid() == parent:
            mapped_here.append(file_size)
        refill = windows(fileno, file_size)

        def refill_then_cut(base: int, buf: Any, pos: int, wanted: int) -> Any:
            state = refill(base, buf, pos, wanted)
            if os.getpid() != parent and state is not None and state[0] > 0:
                faulthandler.disable()  # the reader's death needs no traceback
                os.truncate(path, state[0] + 100)  # the window now reaches past the end
            return state

        return refill_then_cut

    monkeypatch.setattr(read_buffer, "WINDOW", 1 << 16)
    monkeypatch.setattr(read_buffer, "_windows", cut_once_mapped)
    no_core = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, no_core[1]))  # the reader dies, no core file
    try:
        result = background_read.read_in_background(path)
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, no_core)
    assert path.stat().st_size < 1 << 17 and result.status.truncated is not None
    assert 0 < result.status.packets < 120
    assert mapped_here == []  # read here in pieces
    assert reading_contents(result) == reading_contents(read_capture(path, mapped=False))


def test_progress_is_reported_at_the_same_packets_with_the_taker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_pcap(tmp_path / "call.pcap", mixed_call())
    monkeypatch.setattr(reader, "PROGRESS_EVERY", 64)
    with_taker: list[tuple[int, int, int]] = []
    read_capture(path, progress=lambda *report: with_taker.append(report))
    frame_by_frame: list[tuple[int, int, int]] = []
    read_frame_by_frame_progress = list(read_frames(path, ReadStatus(path=str(path)),
                                                    lambda *r: frame_by_frame.append(r)))
    assert read_frame_by_frame_progress
    assert with_taker == frame_by_frame
    assert [packets for _, _, packets in with_taker] == [64 * n for n in range(1, 7)]


def test_a_named_record_is_a_flow_record(tmp_path: Path) -> None:
    """named_record gives a flow store's values in FLOW_FIELDS' order: what flow_record gives
    for the Flow they make."""
    result = read_capture(SAMPLES / "teams-linux-any.pcap")
    assert len(result.flows) > 10
    for flow in result.flows:
        record = flow_record(flow)
        assert len(record) == len(FLOW_FIELDS)
        assert flow_record(record_flow(record)) == record
    facts = (0, "udp", T0, T0 + 1, CLIENT, 50000, SERVER, 8801, "first-sender", None, "none",
             None, "rtp", 10, 20, 1, 2, None, None, None, None, None, None, None, None, None,
             None)
    index = DnsIndex([], set())
    record = named_record(facts, "F000001", index, {})
    flow = record_flow(record)
    assert (flow.flow_id, flow.ts_start, flow.client_port, flow.bytes_down, flow.packets_up,
            flow.visibility) == ("F000001", T0, 50000, 20, 1, Visibility.PLAINTEXT)
    assert flow_record(flow) == record
