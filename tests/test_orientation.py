"""Which side of a captured flow is the server (the endpoint): the rule order of
capture/orientation.py on scapy-built captures, and on the real captures in ../shared/captures:
no conferencing capture may report the user's own device as the remote side."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

from auditor.capture.orientation import client_direction
from auditor.capture.reading import read_capture
from auditor.cli.main import main
from auditor.names.addresses import AddressScope, address_scope
from auditor.records import Flow, Orientation, Transport, flow_from_dict, record_to_dict

from .conftest import write_pcap

T0 = 1_762_092_000.0
DEVICE = "192.168.1.6"  # the user's laptop behind a home router
RELAY = "52.114.252.21"  # a Teams media relay (microsoft.teams-media, 52.112.0.0/14)
PEER = "93.71.110.205"  # another participant's public address
STUN_BINDING_REQUEST = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + bytes(range(12))
STUN_BINDING_RESPONSE = b"\x01\x01\x00\x00\x21\x12\xa4\x42" + bytes(range(12))


def timed(packets: Iterable[Packet]) -> list[Packet]:
    out = []
    for n, packet in enumerate(packets):
        packet.time = T0 + n * 0.01
        out.append(packet)
    return out


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes) -> Packet:
    ip = IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)
    return Ether() / ip / UDP(sport=sport, dport=dport) / Raw(payload)


def tcp(src: str, dst: str, sport: int, dport: int, flags: str, seq: int = 1000) -> Packet:
    return Ether() / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq)


def only_flow(tmp_path: Path, packets: Iterable[Packet]) -> Flow:
    (flow,) = read_capture(write_pcap(tmp_path / "c.pcap", timed(packets))).flows
    return flow


# --- the rules on built captures ------------------------------------------------------------


def test_relay_that_sends_the_first_binding_request_is_the_server(tmp_path: Path) -> None:
    """ICE checks go both ways: the relay asked first, from its service port."""
    flow = only_flow(tmp_path, [
        udp(RELAY, DEVICE, 3480, 50036, STUN_BINDING_REQUEST),
        udp(DEVICE, RELAY, 50036, 3480, STUN_BINDING_RESPONSE),
        udp(DEVICE, RELAY, 50036, 3480, STUN_BINDING_REQUEST),
    ])
    assert (flow.client_ip, flow.client_port, flow.server_ip, flow.server_port) == (
        DEVICE, 50036, RELAY, 3480)
    assert flow.orientation is Orientation.PRIVATE_PUBLIC
    assert (flow.packets_up, flow.packets_down) == (2, 1)


def test_public_peer_on_a_lower_port_reaching_the_device_first_is_still_the_server(
    tmp_path: Path,
) -> None:
    # Port rules alone would make the device (lower port 6346) the server.
    flow = only_flow(tmp_path, [udp(PEER, DEVICE, 40000, 6346, b"\x00" * 30),
                                udp(DEVICE, PEER, 6346, 40000, b"\x01" * 30)])
    assert (flow.client_ip, flow.server_ip, flow.server_port) == (DEVICE, PEER, 40000)
    assert flow.orientation is Orientation.PRIVATE_PUBLIC


def test_one_way_inbound_udp_from_a_public_peer(tmp_path: Path) -> None:
    flow = only_flow(tmp_path, [udp(PEER, DEVICE, 16332, 50016, STUN_BINDING_REQUEST)])
    assert (flow.client_ip, flow.server_ip) == (DEVICE, PEER)
    assert (flow.packets_up, flow.packets_down) == (0, 1)


@pytest.mark.parametrize(("device", "remote"), [
    ("100.72.10.4", "66.22.196.173"),  # carrier-grade NAT (RFC 6598)
    ("10.0.2.15", "66.22.196.173"),
    ("172.20.1.2", "66.22.196.173"),
    ("169.254.10.10", "66.22.196.173"),
    ("fd12:3456::10", "2603:1063::1"),  # unique local
    ("fe80::c50d:519f:96a4:e108", "2603:1063::1"),  # link-local
])
def test_every_private_range_faces_the_public_side(tmp_path: Path, device: str,
                                                    remote: str) -> None:
    flow = only_flow(tmp_path, [udp(remote, device, 50004, 49648, b"\x90" * 40)])
    assert (flow.client_ip, flow.server_ip) == (device, remote)
    assert flow.orientation is Orientation.PRIVATE_PUBLIC


def test_an_inbound_tcp_connection_is_proven_by_its_syn(tmp_path: Path) -> None:
    flow = only_flow(tmp_path, [tcp(PEER, DEVICE, 51000, 6346, "S"),
                                tcp(DEVICE, PEER, 6346, 51000, "SA", 9000)])
    assert (flow.client_ip, flow.server_ip, flow.server_port) == (PEER, DEVICE, 6346)
    assert flow.orientation is Orientation.TCP_SYN


def test_a_syn_ack_alone_proves_the_other_side_opened_the_connection(tmp_path: Path) -> None:
    flow = only_flow(tmp_path, [tcp(DEVICE, PEER, 6346, 51000, "SA", 9000),
                                tcp(PEER, DEVICE, 51000, 6346, "A", 1001)])
    assert (flow.client_ip, flow.server_ip) == (PEER, DEVICE)
    assert flow.orientation is Orientation.TCP_SYN_ACK


def test_tcp_without_handshake_between_private_and_public(tmp_path: Path) -> None:
    # A capture started mid-connection: the address rule decides, not the first packet.
    flow = only_flow(tmp_path, [tcp(RELAY, DEVICE, 443, 50200, "PA"),
                                tcp(DEVICE, RELAY, 50200, 443, "A")])
    assert (flow.client_ip, flow.server_ip, flow.server_port) == (DEVICE, RELAY, 443)
    assert flow.orientation is Orientation.PRIVATE_PUBLIC


@pytest.mark.parametrize(("src", "sport", "dst", "dport"), [
    ("fe80::c50d:519f:96a4:e108", 546, "ff02::1:2", 547),  # DHCPv6 solicit (lower port: 546)
    ("0.0.0.0", 68, "255.255.255.255", 67),  # DHCP discover from a host with no address yet
    ("192.168.1.117", 5353, "224.0.0.251", 5353),  # mDNS, equal ports
    ("203.0.113.9", 40000, "239.255.255.250", 1900),  # whatever the sender's scope
])
def test_a_multicast_or_broadcast_destination_is_the_server(
    tmp_path: Path, src: str, sport: int, dst: str, dport: int,
) -> None:
    flow = only_flow(tmp_path, [udp(src, dst, sport, dport, b"\x00" * 40)])
    assert (flow.client_ip, flow.server_ip) == (src, dst)
    assert flow.orientation is Orientation.GROUP


def test_between_two_private_addresses_the_protocol_decides(tmp_path: Path) -> None:
    # A LAN peer's binding request (host candidates): no address rule applies.
    flow = only_flow(tmp_path, [udp("192.168.1.20", DEVICE, 50000, 50036,
                                    STUN_BINDING_REQUEST)])
    assert (flow.client_ip, flow.server_ip) == ("192.168.1.20", DEVICE)
    assert flow.orientation is Orientation.PROTOCOL


def test_icmp_from_a_public_address_faces_it(tmp_path: Path) -> None:
    flow = only_flow(tmp_path, [Ether() / IP(src=PEER, dst=DEVICE) / ICMP(type=3, code=3)])
    assert (flow.client_ip, flow.server_ip) == (DEVICE, PEER)
    assert flow.orientation is Orientation.PRIVATE_PUBLIC


def test_rule_order_without_packets() -> None:
    device, relay = bytes([192, 168, 1, 6]), bytes([52, 114, 252, 21])
    # The SYN beats the address rule; the address rule beats the payload and port hints.
    assert client_direction((relay, 3480), (device, 50036), syn_dir=0, synack_dir=None,
                            protocol_hint=None) == (0, Orientation.TCP_SYN)
    assert client_direction((relay, 3480), (device, 50036), syn_dir=None, synack_dir=None,
                            protocol_hint=0) == (1, Orientation.PRIVATE_PUBLIC)
    public = bytes([198, 51, 100, 23])
    assert client_direction((relay, 3480), (public, 50036), syn_dir=None, synack_dir=None,
                            protocol_hint=0) == (0, Orientation.PROTOCOL)


def test_orientation_round_trips_through_flows_jsonl() -> None:
    flow = Flow("F1", T0, T0 + 1, Transport.UDP, DEVICE, 50036, RELAY, 3480,
                orientation=Orientation.PRIVATE_PUBLIC)
    data = json.loads(json.dumps(record_to_dict(flow)))
    assert data["orientation"] == "private-public"
    assert flow_from_dict(data) == flow
    assert flow_from_dict({**data, "orientation": None}).orientation is None
    with pytest.raises(ValueError):
        flow_from_dict({**data, "orientation": "guessed"})


# --- the real captures ----------------------------------------------------------------------


def real_captures(shared: Path) -> list[Path]:
    """Every conferencing capture, and the P2P client whose public peers reach in."""
    return [*sorted((shared / "pcap").iterdir()), shared / "media" / "pcap" / "gnutella.pcap"]


def is_private(address: str | None) -> bool:
    return address is not None and address_scope(address) is AddressScope.PRIVATE


def is_public(address: str | None) -> bool:
    return address is not None and address_scope(address) is AddressScope.PUBLIC


def test_no_real_capture_reports_the_device_as_the_remote_side(shared_captures: Path) -> None:
    """A public client with a private server only where a SYN proved an inbound TCP
    connection; in the conferencing captures, not at all."""
    problems, checked = [], 0
    for capture in real_captures(shared_captures):
        for flow in read_capture(capture).flows:
            checked += 1
            assert flow.orientation is not None, (capture.name, flow)
            if not (is_public(flow.client_ip) and is_private(flow.server_ip)):
                continue
            proven = flow.orientation in (Orientation.TCP_SYN, Orientation.TCP_SYN_ACK)
            conferencing = capture.parent == shared_captures / "pcap"
            if conferencing or not proven:
                problems.append(f"{capture.name} {flow.flow_id} {flow.client_ip}:"
                                f"{flow.client_port} -> {flow.server_ip}:{flow.server_port} "
                                f"({flow.orientation})")
    assert not problems, "\n".join(problems)
    assert checked > 1000


def test_gnutella_peers_are_the_remote_side(shared_captures: Path) -> None:
    reading = read_capture(shared_captures / "media" / "pcap" / "gnutella.pcap")
    inbound_udp = [f for f in reading.flows if f.transport.value == "udp"
                   and f.orientation is Orientation.PRIVATE_PUBLIC]
    assert len(inbound_udp) > 500
    assert all(f.client_ip == "10.0.2.15" and is_public(f.server_ip) for f in inbound_udp)


@pytest.mark.parametrize(("capture", "relay", "port"), [
    ("teams.pcap", "52.114.252.21", 3480),
    ("teams.pcap", "52.114.252.8", 3479),
    ("discord.pcap", "66.22.196.173", 50004),
])
def test_media_relays_are_endpoints(shared_captures: Path, capture: str, relay: str,
                                    port: int) -> None:
    flows = read_capture(shared_captures / "pcap" / capture).flows
    to_relay = [f for f in flows if relay in (f.client_ip, f.server_ip)]
    assert to_relay
    for flow in to_relay:
        assert (flow.server_ip, flow.server_port) == (relay, port)
        assert flow.orientation is Orientation.PRIVATE_PUBLIC


def test_teams_relays_are_first_party_microsoft(shared_captures: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(shared_captures / "pcap" / "teams.pcap"),
                                       "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.stderr
    flows = [json.loads(line) for line in (tmp_path / "s" / "flows.jsonl").open()]
    relays = [f for f in flows if f["server_ip"] in ("52.114.252.21", "52.114.252.8")]
    assert len(relays) == 2
    for flow in relays:
        assert (flow["category"], flow["entity"], flow["first_party"]) == (
            "first-party", "Microsoft", True)
        assert flow["orientation"] == "private-public"
    assert not [f for f in flows if f["category"] == "local" and is_public(f["server_ip"])]
