"""Flows end as in Zeek and nfstream: idle past their transport's timeout, or shortly after a
TCP reset or a FIN each way; a later packet of the same 5-tuple starts a new flow. Expiry
happens while the capture is read, and gives the same flows whenever it runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

from auditor.capture import flow_table
from auditor.capture.flow_table import CLOSED_TCP_LINGER, IDLE_TIMEOUTS, OTHER_IDLE_TIMEOUT
from auditor.capture.reading import read_capture
from auditor.records import Flow

from .conftest import write_pcap

T0 = 1_762_092_000.0
CLIENT, SERVER = "192.168.1.23", "170.114.52.2"
UDP_IDLE, TCP_IDLE = IDLE_TIMEOUTS[17], IDLE_TIMEOUTS[6]


def at(packet: Packet, seconds: float) -> Packet:
    packet.time = T0 + seconds
    return packet


def udp(seconds: float, sport: int = 50000, dport: int = 8801, reply: bool = False) -> Packet:
    src, dst = (SERVER, CLIENT) if reply else (CLIENT, SERVER)
    ports = (dport, sport) if reply else (sport, dport)
    return at(Ether() / IP(src=src, dst=dst) / UDP(sport=ports[0], dport=ports[1])
              / Raw(b"\x00" * 20), seconds)


def tcp(seconds: float, flags: str, seq: int, reply: bool = False) -> Packet:
    src, dst, sport, dport = (SERVER, CLIENT, 443, 50123) if reply else \
        (CLIENT, SERVER, 50123, 443)
    return at(Ether() / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags,
                                                   seq=seq), seconds)


def flows_of(tmp_path: Path, packets: list[Packet]) -> list[Flow]:
    return read_capture(write_pcap(tmp_path / "c.pcap", packets)).flows


def test_udp_flow_splits_only_after_its_idle_timeout(tmp_path: Path) -> None:
    flows = flows_of(tmp_path, [udp(0), udp(1, reply=True), udp(1 + UDP_IDLE),  # still one
                                udp(2 + 2 * UDP_IDLE + 0.5)])  # idle too long: a new flow
    assert [(f.packets_up, f.packets_down) for f in flows] == [(2, 1), (1, 0)]
    assert flows[0].ts_end == T0 + 1 + UDP_IDLE
    assert [f.flow_id for f in flows] == ["F000001", "F000002"]


def test_icmp_and_tcp_have_their_own_timeouts(tmp_path: Path) -> None:
    ping = Ether() / IP(src=CLIENT, dst=SERVER) / ICMP()
    icmp = flows_of(tmp_path, [at(ping.copy(), 0), at(ping.copy(), OTHER_IDLE_TIMEOUT + 1)])
    assert len(icmp) == 2
    # An open TCP connection idle for longer than UDP's timeout but shorter than its own.
    idle = flows_of(tmp_path, [tcp(0, "S", 100), tcp(0.1, "SA", 500, reply=True),
                               tcp(0.2, "A", 101), tcp(0.2 + TCP_IDLE - 1, "A", 101)])
    assert len(idle) == 1 and idle[0].packets_up == 3
    gone = flows_of(tmp_path, [tcp(0, "S", 100), tcp(0.1, "SA", 500, reply=True),
                               tcp(0.2, "A", 101), tcp(0.2 + TCP_IDLE + 1, "A", 101)])
    assert [f.packets_up + f.packets_down for f in gone] == [3, 1]


@pytest.mark.parametrize(("closing", "late", "flows"), [
    (["FA", "FA*"], CLOSED_TCP_LINGER - 1, 1),  # a late ACK within the linger time: same flow
    (["FA", "FA*"], CLOSED_TCP_LINGER + 1, 2),
    (["R"], CLOSED_TCP_LINGER + 1, 2),
    (["FA"], CLOSED_TCP_LINGER + 1, 1),  # half-closed: the connection may still carry data
])
def test_closed_tcp_connection_lingers_briefly(tmp_path: Path, closing: list[str], late: float,
                                               flows: int) -> None:
    packets = [tcp(0, "S", 100), tcp(0.1, "SA", 500, reply=True), tcp(0.2, "A", 101)]
    for n, flags in enumerate(closing):
        packets.append(tcp(1 + n * 0.1, flags.rstrip("*"), 101, reply=flags.endswith("*")))
    packets.append(tcp(1 + late, "A", 102))
    assert len(flows_of(tmp_path, packets)) == flows


def test_a_packet_stamped_out_of_order_does_not_split_its_flow(tmp_path: Path) -> None:
    # Captures merged from several sources step back in time: idle time is measured on the
    # capture's clock (the latest time seen), not from a packet's own stamp.
    flows = flows_of(tmp_path, [udp(0), udp(100), udp(-50), udp(110, reply=True)])
    assert [(f.packets_up, f.packets_down) for f in flows] == [(3, 1)]
    assert (flows[0].ts_start, flows[0].ts_end) == (T0, T0 + 110)


def many_flows(count: int) -> list[Packet]:
    """`count` UDP flows with two packets each, a second apart, their idle times crossing."""
    packets = []
    for n in range(count):
        packets.append(udp(n * 30.0, sport=40000 + n))
        packets.append(udp(n * 30.0 + 150.0 * (n % 3), sport=40000 + n, reply=True))
    packets.sort(key=lambda p: float(p.time))
    return packets


def test_expiry_gives_the_same_flows_whenever_it_looks(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    packets = many_flows(40)
    seen = []
    for every in (0.001, 5.0, 1e9):
        monkeypatch.setattr(flow_table, "SCAN_EVERY", every)
        seen.append([(f.client_port, f.ts_start, f.ts_end, f.packets_up, f.packets_down)
                     for f in flows_of(tmp_path, packets)])
    assert seen[0] == seen[1] == seen[2]
    assert len(seen[0]) == 40 + 26  # two flows in three got their reply 150 or 300 s later


def test_a_full_table_ends_its_least_recently_active_flows(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow_table, "MAX_ACTIVE_FLOWS", 8)
    packets = [udp(n * 0.001, sport=30000 + n) for n in range(40)]
    packets.append(udp(1.0, sport=30000))  # the first flow, ended early to make room
    reading = read_capture(write_pcap(tmp_path / "flood.pcap", packets))
    assert len(reading.flows) == 41
    # At most 8 flows are open at the end: every other one ended early, and says so.
    assert 41 - 8 <= reading.anomalies.counts["flow-table-full"] <= 40
    assert [f.client_port for f in reading.flows[:2]] == [30000, 30001]
