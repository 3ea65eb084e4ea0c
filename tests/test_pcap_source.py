"""Reading capture files into frames: pcap and pcapng, link types per interface, timestamp
precision, gzip, snap length, and files cut off or damaged."""

from __future__ import annotations

import gzip
import random
import struct
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import ARP, CookedLinuxV2, Ether
from scapy.packet import Packet
from scapy.utils import PcapNgWriter, PcapWriter

import auditor.capture.reader as pcap_source
from auditor.capture.reader import ReadStatus, read_frames
from auditor.errors import InputError

from .conftest import write_pcap, write_pcapng

T0 = 1_762_092_000
LINKTYPE_ETHERNET = 1
LINKTYPE_IPV4 = 228
LINKTYPE_LINUX_SLL2 = 276


def udp(n: int, size: int = 100) -> Packet:
    packet = (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") /
              IP(src="192.168.1.23", dst="170.114.52.2") / UDP(sport=50000 + n, dport=8801) /
              (bytes([n]) * size))
    packet.time = T0 + n / 10
    return packet


PACKETS = [udp(n) for n in range(5)]


def read_all(path: Path) -> tuple[list[tuple[float, int, bytes, int]], ReadStatus]:
    status = ReadStatus(path=str(path))
    return list(read_frames(path, status)), status


def pcapng_blocks(data: bytes) -> list[tuple[int, bytes]]:
    """(block type, body) of every block of a little-endian pcapng file."""
    blocks = []
    pos = 0
    while pos + 12 <= len(data):
        block_type, length = struct.unpack_from("<II", data, pos)
        blocks.append((block_type, data[pos + 8 : pos + length - 4]))
        pos += length
    return blocks


def pcapng_block(block_type: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    return struct.pack("<II", block_type, len(body) + 12) + body + struct.pack("<I",
                                                                             len(body) + 12)


SHB = pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(linktype: int, tsresol: int | None = None) -> bytes:
    options = b""
    if tsresol is not None:
        options = struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
    return pcapng_block(1, struct.pack("<HHI", linktype, 0, 262144) + options)


def epb(interface: int, ts_units: int, frame: bytes, wirelen: int | None = None) -> bytes:
    return pcapng_block(6, struct.pack("<IIIII", interface, ts_units >> 32, ts_units & 0xFFFFFFFF,
                                       len(frame), wirelen or len(frame)) + frame)


# --- formats --------------------------------------------------------------------------------


def test_pcap_and_pcapng_yield_the_same_frames(tmp_path: Path) -> None:
    from_pcap, pcap_status = read_all(write_pcap(tmp_path / "a.pcap", PACKETS))
    from_ng, ng_status = read_all(write_pcapng(tmp_path / "a.pcapng", PACKETS))
    assert (pcap_status.file_format, ng_status.file_format) == ("pcap", "pcapng")
    assert len(from_pcap) == 5
    for (ts_a, lt_a, frame_a, wire_a), (ts_b, lt_b, frame_b, wire_b) in zip(
            from_pcap, from_ng, strict=True):
        assert ts_a == pytest.approx(ts_b, abs=1e-6)
        assert (lt_a, frame_a, wire_a) == (lt_b, frame_b, wire_b)
    assert [f[2] for f in from_pcap] == [bytes(p) for p in PACKETS]
    assert from_pcap[3][0] == pytest.approx(T0 + 0.3, abs=1e-6)
    for status in (pcap_status, ng_status):
        assert status.packets == 5 and status.truncated is None
        assert status.bytes_read == status.file_size > 0


def test_pcap_in_big_endian_byte_order(tmp_path: Path) -> None:
    path = tmp_path / "be.pcap"
    with PcapWriter(str(path), endianness=">", sync=True) as writer:
        for packet in PACKETS:
            writer.write(packet)
    assert path.read_bytes()[:4] == b"\xa1\xb2\xc3\xd4"
    frames, status = read_all(path)
    assert [f[2] for f in frames] == [bytes(p) for p in PACKETS]
    assert frames[1][0] == pytest.approx(T0 + 0.1, abs=1e-6) and status.truncated is None


def test_raw_ip_pcap_reports_its_link_type(tmp_path: Path) -> None:
    packet = IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2)
    frames, _ = read_all(write_pcap(tmp_path / "raw.pcap", [packet], linktype=LINKTYPE_IPV4))
    assert frames[0][1] == LINKTYPE_IPV4 and frames[0][2] == bytes(packet)


def test_pcapng_with_two_interfaces_of_different_link_types(tmp_path: Path) -> None:
    """scapy's PcapNgWriter keys interfaces on the capturing interface's name, so each
    packet names its interface; the file then has an IDB per link type, and each packet is
    returned with its own interface's link type."""
    ether = udp(1)
    ether.sniffed_on = "wlan0"
    ip = IP(src="10.0.0.5", dst="10.0.0.6") / UDP(sport=40000, dport=3478) / b"raw-ip"
    ip.time = T0 + 1
    ip.sniffed_on = "tun0"
    sll2 = (CookedLinuxV2(proto=0x0800, ifindex=3, pkttype=4, lladdrlen=6) /
            IP(src="10.0.0.7", dst="10.0.0.8") / TCP(sport=50000, dport=443, flags="S"))
    sll2.time = T0 + 2
    sll2.sniffed_on = "any"
    path = tmp_path / "multi.pcapng"
    with PcapNgWriter(str(path)) as writer:
        for packet in (ether, ip, sll2, ether):
            writer.write(packet)
    blocks = pcapng_blocks(path.read_bytes())
    idb_linktypes = [struct.unpack_from("<H", body)[0] for kind, body in blocks if kind == 1]
    used = [idb_linktypes[struct.unpack_from("<I", body)[0]] for kind, body in blocks
            if kind == 6]
    assert used == [LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_LINUX_SLL2, LINKTYPE_ETHERNET]
    frames, status = read_all(path)
    assert [(lt, frame) for _, lt, frame, _ in frames] == [
        (LINKTYPE_ETHERNET, bytes(ether)), (LINKTYPE_IPV4, bytes(ip)),
        (LINKTYPE_LINUX_SLL2, bytes(sll2)), (LINKTYPE_ETHERNET, bytes(ether)),
    ]
    assert status.truncated is None and status.packets == 4


def test_gzip_compressed_pcap_is_read_whole(tmp_path: Path) -> None:
    plain = write_pcap(tmp_path / "a.pcap", PACKETS)
    packed = tmp_path / "a.pcap.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    frames, status = read_all(packed)
    assert [f[2] for f in frames] == [bytes(p) for p in PACKETS]
    assert status.file_format == "pcap" and status.truncated is None and status.packets == 5


def noisy(n: int) -> Packet:
    """A packet whose payload does not compress, so a cut gzip file loses packets."""
    packet = udp(n, size=0) / random.Random(n).randbytes(1000)
    packet.time = T0 + n / 10
    return packet


NOISY = [noisy(n) for n in range(40)]


@pytest.mark.parametrize("writer", [write_pcap, write_pcapng])
def test_gzip_cut_off_is_truncated(tmp_path: Path, writer: Any) -> None:
    packed = gzip.compress(writer(tmp_path / "full", NOISY).read_bytes())
    path = tmp_path / "cut.gz"
    path.write_bytes(packed[: len(packed) // 2])  # `head -c` of a .pcap.gz
    frames, status = read_all(path)
    assert 0 < len(frames) < len(NOISY) and status.packets == len(frames)
    # Every packet before the cut is whole; the one the cut falls in is kept as far as it goes
    # (as in a plain capture cut inside a packet), unless the cut fell between two blocks.
    sent = [bytes(p) for p in NOISY[: len(frames)]]
    assert [f[2] for f in frames[:-1]] == sent[:-1]
    assert sent[-1].startswith(frames[-1][2])
    assert status.truncated is not None
    assert status.truncated.startswith(f"the compressed file is cut off or damaged after "
                                       f"packet {len(frames)}")


@pytest.mark.parametrize("writer", [write_pcap, write_pcapng])
def test_gzip_missing_only_its_trailer_is_truncated(tmp_path: Path, writer: Any) -> None:
    packed = gzip.compress(writer(tmp_path / "full", PACKETS).read_bytes())
    path = tmp_path / "cut.gz"
    path.write_bytes(packed[:-8])  # every packet is there, the CRC and length are not
    frames, status = read_all(path)
    assert len(frames) <= len(PACKETS) and status.truncated is not None


@pytest.mark.parametrize("writer, expected", [
    (write_pcap, "file ends inside packet 5"),
    (write_pcapng, "file ends inside the block after packet 4"),
])
def test_gzip_of_a_capture_cut_inside_a_packet(tmp_path: Path, writer: Any,
                                               expected: str) -> None:
    data = writer(tmp_path / "full", PACKETS).read_bytes()
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(data[:-60]))  # a whole gzip file of a cut capture
    _, status = read_all(path)
    assert status.truncated == expected


def test_gzip_pcapng_ending_with_statistics_is_whole(tmp_path: Path) -> None:
    frame = bytes(udp(0))
    isb = pcapng_block(5, struct.pack("<III", 0, 0, 0))  # dumpcap writes these at the end
    path = tmp_path / "stats.pcapng.gz"
    path.write_bytes(gzip.compress(SHB + idb(LINKTYPE_ETHERNET) + epb(0, T0 * 10**6, frame)
                                   + isb))
    frames, status = read_all(path)
    assert [f[2] for f in frames] == [frame]
    assert status.file_format == "pcapng" and status.truncated is None


def test_gzip_with_trailing_garbage_is_reported(tmp_path: Path) -> None:
    packed = gzip.compress(write_pcap(tmp_path / "full.pcap", PACKETS).read_bytes())
    path = tmp_path / "garbage.pcap.gz"
    path.write_bytes(packed + b"this is not gzip data")
    frames, status = read_all(path)
    assert [f[2] for f in frames] == [bytes(p) for p in PACKETS]
    assert status.truncated is not None and "damaged" in status.truncated


# --- timestamps -----------------------------------------------------------------------------


def test_nanosecond_pcap_timestamps(tmp_path: Path) -> None:
    packet = udp(0)
    packet.time = Decimal("1.123456789")
    path = tmp_path / "nano.pcap"
    with PcapWriter(str(path), nano=True, sync=True) as writer:
        writer.write(packet)
    assert path.read_bytes()[:4] == b"\x4d\x3c\xb2\xa1"
    (ts, _, _, _), = read_all(path)[0]
    assert ts == pytest.approx(1.123456789, abs=1e-12)
    micro = write_pcap(tmp_path / "micro.pcap", [packet])
    (ts_micro, _, _, _), = read_all(micro)[0]
    assert ts_micro == pytest.approx(1.123457, abs=1e-12)


def test_nanosecond_pcap_timestamp_at_a_real_date(tmp_path: Path) -> None:
    packet = udp(0)
    packet.time = Decimal(T0) + Decimal("0.000000250")
    path = tmp_path / "nano.pcap"
    with PcapWriter(str(path), nano=True, sync=True) as writer:
        writer.write(packet)
    (ts, _, _, _), = read_all(path)[0]
    assert ts == pytest.approx(T0 + 250e-9, abs=1e-6)


@pytest.mark.parametrize("tsresol, units_per_second", [(None, 10**6), (9, 10**9), (3, 10**3),
                                                       (0x80 | 20, 2**20)])
def test_pcapng_timestamp_resolution(tmp_path: Path, tsresol: int | None,
                                     units_per_second: int) -> None:
    frame = bytes(udp(0))
    ts_units = (T0 * units_per_second) + units_per_second // 4  # a quarter second in
    path = tmp_path / "res.pcapng"
    path.write_bytes(SHB + idb(LINKTYPE_ETHERNET, tsresol) + epb(0, ts_units, frame))
    (ts, linktype, data, wirelen), = read_all(path)[0]
    assert ts == pytest.approx(T0 + 0.25, abs=1e-6)
    assert (linktype, data, wirelen) == (LINKTYPE_ETHERNET, frame, len(frame))


# --- snap length and wire length ------------------------------------------------------------


def test_wire_length_and_snaplen_cut(tmp_path: Path) -> None:
    packet = udp(0, size=1400)
    path = tmp_path / "snap.pcap"
    with PcapWriter(str(path), linktype=LINKTYPE_ETHERNET, sync=True, snaplen=96) as writer:
        writer.write_header(None)
        writer.write_packet(bytes(packet)[:96], sec=T0, usec=0, caplen=96,
                            wirelen=len(packet))
        writer.write(udp(1, size=10))
    frames, status = read_all(path)
    assert [(len(f[2]), f[3]) for f in frames] == [(96, len(packet)), (52, 52)]
    assert status.snaplen_cut == 1 and status.truncated is None


def test_pcapng_wire_length(tmp_path: Path) -> None:
    frame = bytes(udp(0, size=1400))
    path = tmp_path / "snap.pcapng"
    path.write_bytes(SHB + idb(LINKTYPE_ETHERNET) + epb(0, T0 * 10**6, frame[:128], len(frame)))
    (_, _, data, wirelen), = read_all(path)[0]
    assert (data, wirelen) == (frame[:128], len(frame))


def test_frame_larger_than_64k_is_not_a_truncation(tmp_path: Path) -> None:
    big = (Ether() / IP(src="127.0.0.1", dst="127.0.0.1", len=0) / TCP(sport=5000, dport=6000) /
           (b"x" * 70000))
    big.time = T0
    path = tmp_path / "gro.pcap"
    with PcapWriter(str(path), sync=True, snaplen=262144) as writer:
        writer.write(big)
        writer.write(udp(1))
    frames, status = read_all(path)
    assert status.truncated is None
    assert len(frames) == 2 and len(frames[0][2]) == len(big)


# --- damaged and cut files ------------------------------------------------------------------


def test_pcap_cut_in_the_middle_of_a_packet(tmp_path: Path) -> None:
    data = write_pcap(tmp_path / "full.pcap", PACKETS).read_bytes()
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[: len(data) - 60])  # inside the last packet's 142 bytes
    frames, status = read_all(path)
    assert status.packets == 5 and len(frames) == 5
    assert [f[2] for f in frames[:4]] == [bytes(p) for p in PACKETS[:4]]
    assert frames[4][2] == bytes(PACKETS[4])[:-60]  # what there is of the last one
    assert status.truncated == "file ends inside packet 5"


def test_pcap_cut_inside_a_record_header(tmp_path: Path) -> None:
    data = write_pcap(tmp_path / "full.pcap", PACKETS).read_bytes()
    record = 16 + len(bytes(PACKETS[0]))
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[: 24 + 2 * record + 7])  # 7 bytes of the third record's header
    frames, status = read_all(path)
    assert len(frames) == 2
    assert status.truncated is not None


@pytest.mark.parametrize("cut_from_end", [1, 4, 20, 60, 150])
def test_pcapng_cut_inside_a_block(tmp_path: Path, cut_from_end: int) -> None:
    data = write_pcapng(tmp_path / "full.pcapng", PACKETS).read_bytes()
    last_block = 12 + 20 + len(bytes(PACKETS[4])) + 2  # EPB header, packet, padding
    assert last_block > 150
    path = tmp_path / "cut.pcapng"
    path.write_bytes(data[: len(data) - cut_from_end])
    frames, status = read_all(path)
    assert [f[2] for f in frames] == [bytes(p) for p in PACKETS[:4]]
    assert status.packets == 4
    assert status.truncated is not None and "inside" in status.truncated


def test_pcapng_cut_between_blocks_is_not_truncated(tmp_path: Path) -> None:
    one = write_pcapng(tmp_path / "one.pcapng", PACKETS[:1]).read_bytes()
    two = write_pcapng(tmp_path / "two.pcapng", PACKETS[:2]).read_bytes()
    path = tmp_path / "cut.pcapng"
    path.write_bytes(two[: len(one)])  # cut exactly after the first packet's block
    frames, status = read_all(path)
    assert [f[2] for f in frames] == [bytes(PACKETS[0])] and status.truncated is None


def test_pcapng_damaged_block_length_stops_the_read(tmp_path: Path) -> None:
    frames_in = [bytes(p) for p in PACKETS[:3]]
    good = SHB + idb(LINKTYPE_ETHERNET) + b"".join(
        epb(0, T0 * 10**6 + i, frame) for i, frame in enumerate(frames_in))
    damaged = good + struct.pack("<II", 6, 8) + b"\x00" * 64  # block length below 12
    path = tmp_path / "damaged.pcapng"
    path.write_bytes(damaged)
    frames, status = read_all(path)
    assert [f[2] for f in frames] == frames_in
    assert status.truncated is not None


def test_pcapng_simple_packet_block(tmp_path: Path) -> None:
    frame = bytes(udp(0))
    spb = pcapng_block(3, struct.pack("<I", len(frame)) + frame)
    path = tmp_path / "spb.pcapng"
    path.write_bytes(SHB + idb(LINKTYPE_ETHERNET) + epb(0, T0 * 10**6, frame) + spb)
    frames, status = read_all(path)
    assert [f[2] for f in frames] == [frame, frame]
    assert status.truncated is None


@pytest.mark.parametrize("content", [
    b"this is a text file, not a capture\n" * 20,
    b"",
    b"\xd4\xc3\xb2\xa1\x02\x00",  # pcap magic, global header cut short
    b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x00\x00\x00\x00",  # pcapng magic, bad byte-order magic
])
def test_not_a_capture_raises_input_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.pcap"
    path.write_bytes(content)
    with pytest.raises(InputError):
        read_all(path)


def test_non_ip_frames_are_passed_through(tmp_path: Path) -> None:
    arp = Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst="192.168.1.1")
    arp.time = T0
    frames, _ = read_all(write_pcap(tmp_path / "arp.pcap", [arp, PACKETS[0]]))
    assert [f[2] for f in frames] == [bytes(arp), bytes(PACKETS[0])]


def test_progress_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pcap_source, "PROGRESS_EVERY", 2)
    path = write_pcap(tmp_path / "a.pcap", PACKETS)
    calls: list[tuple[int, int, int]] = []
    status = ReadStatus(path=str(path))
    for _ in read_frames(path, status,
                         lambda done, total, packets: calls.append((done, total, packets))):
        pass
    size = path.stat().st_size
    assert len(calls) == 2 and all(total == size for _, total, _ in calls)
    assert 0 < calls[0][0] < calls[1][0] <= size
    assert [packets for _, _, packets in calls] == [2, 4]
