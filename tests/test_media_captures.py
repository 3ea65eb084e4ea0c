"""Media protocols on real captures, checked against nDPI's per-flow results (skipped when
../shared/captures is absent): every flow nDPI labels as a media protocol gets one from vcaudit,
except the disagreements listed with their reasons in tests/data/media_disagreements.csv."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.capture.reading import read_capture
from auditor.records import Flow

DISAGREEMENTS = Path(__file__).parent / "data" / "media_disagreements.csv"
# nDPI's label (its master protocol, the first dotted part) -> vcaudit protocols that agree.
MEDIA_LABELS = {
    "RTP": {"rtp", "srtp"}, "RTCP": {"rtcp", "srtcp"}, "SRTP": {"srtp"},
    "STUN": {"stun", "turn"}, "DTLS": {"dtls"}, "Zoom": {"zoom-media"},
    "Discord": {"discord-voice"}, "SD-RTN": {"sd-rtn"},
    # Labels nDPI gives media flows by port or address alone: listed as disagreements.
    "Skype_TeamsCall": set(), "Webex": set(),
}
TARGET = ("RTP", "RTCP", "SRTP", "STUN", "DTLS", "Zoom")  # the target labels
Key = tuple[str, str, str, int, str, int]


def reference_flows(shared: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """(capture, nDPI row) for every capture in pcap/ and media/pcap/."""
    for folder in (shared / "pcap", shared / "media" / "pcap"):
        for capture in sorted(folder.iterdir()):
            reference = folder.parent / "reference" / "ndpi-flows" / f"{capture.name}.csv"
            with open(reference, newline="") as handle:
                for row in csv.DictReader(handle):
                    yield capture, row


def flows_by_key(capture: Path, cache: dict[Path, dict[Key, list[Flow]]]) -> dict[Key, list[Flow]]:
    if capture not in cache:
        index: dict[Key, list[Flow]] = {}
        for flow in read_capture(capture).flows:
            proto = flow.transport.value.upper()
            a = (str(flow.client_ip), int(flow.client_port or 0))
            b = (str(flow.server_ip), int(flow.server_port or 0))
            for first, second in ((a, b), (b, a)):
                index.setdefault((capture.name, proto, *first, *second), []).append(flow)
        cache[capture] = index
    return cache[capture]


def vcaudit_protocols(flows: list[Flow]) -> set[str]:
    found = {f.app_proto for f in flows if f.app_proto}
    for flow in flows:
        if flow.media is not None:
            found |= set(flow.media.protocols)
    return found


def listed_disagreements() -> dict[Key, dict[str, str]]:
    with open(DISAGREEMENTS, newline="") as handle:
        return {(r["capture"], r["proto"], r["src"], int(r["sport"]), r["dst"], int(r["dport"])): r
                for r in csv.DictReader(handle)}


def test_every_ndpi_media_flow_gets_a_media_protocol(shared_captures: Path) -> None:
    listed = listed_disagreements()
    cache: dict[Path, dict[Key, list[Flow]]] = {}
    agreed, disagreed, problems = 0, set(), []
    by_label: dict[str, int] = {}
    for capture, row in reference_flows(shared_captures):
        master = row["ndpi_app"].split(".")[0]
        if master not in MEDIA_LABELS:
            continue
        key = (capture.name, row["proto"], row["src"], int(row["sport"]), row["dst"],
               int(row["dport"]))
        flows = flows_by_key(capture, cache).get(key, [])
        assert flows, f"{key} missing"
        if MEDIA_LABELS[master] & vcaudit_protocols(flows):
            agreed += 1
            by_label[master] = by_label.get(master, 0) + 1
            assert key not in listed, f"{key} is listed as a disagreement but agrees now"
            continue
        disagreed.add(key)
        if key not in listed:
            problems.append(f"{key}: nDPI {row['ndpi_app']}, vcaudit "
                            f"{sorted(vcaudit_protocols(flows))}")
        elif master in TARGET:
            problems.append(f"{key}: nDPI {row['ndpi_app']} is a target label and must agree")
    assert not problems, "\n".join(problems)
    assert disagreed == set(listed), "stale entries in media_disagreements.csv"
    assert all(listed[k]["reason"] for k in listed)
    # nDPI's own counts on these captures: 3 RTP, 25 STUN, 2 DTLS, 4 Zoom, 34 Discord, 26 SD-RTN
    assert by_label == {"RTP": 3, "STUN": 25, "DTLS": 2, "Zoom": 4, "Discord": 34,
                        "SD-RTN": 26}
    assert agreed == 94


def test_mapped_addresses_match_ndpi(shared_captures: Path) -> None:
    """nDPI prints the address in a flow's first STUN success response ("Mapped IP/Port"),
    whichever side sent it. vcaudit reports the one that tells the client its public address;
    in an ICE check the client answers too, naming the remote side's own address. For MS-TURN
    allocations nDPI's value is the relay address, and for an ICE check relayed through TURN it is
the peer's address: vcaudit reports them as the relayed and peer addresses."""
    cache: dict[Path, dict[Key, list[Flow]]] = {}
    compared = 0
    line = re.compile(r"(UDP|TCP) ([\d.]+):(\d+) <?-> ([\d.]+):(\d+) .*\[Mapped IP/Port: ([^]]+)\]")
    for folder in (shared_captures / "pcap", shared_captures / "media" / "pcap"):
        for capture in sorted(folder.iterdir()):
            text = (folder.parent / "reference" / "ndpi" / f"{capture.name}.out").read_text()
            for match in line.finditer(text):
                proto, src, sport, dst, dport, mapped = match.groups()
                flows = flows_by_key(capture, cache)[(capture.name, proto, src, int(sport), dst,
                                                      int(dport))]
                reported = {a for f in flows if f.media
                            for a in (f.media.mapped_address, f.media.relayed_address,
                                      f"{f.server_ip}:{f.server_port}",
                                      *(f.media.peer_addresses or ()))}
                assert mapped in reported, (capture.name, src, sport, dst, dport, mapped, reported)
                compared += 1
    assert compared == 22


def test_teams_relays_show_realm_and_the_peer_behind_them(shared_captures: Path) -> None:
    flows = read_capture(shared_captures / "pcap" / "teams.pcap").flows
    relays = [f for f in flows if f.media is not None and f.media.relay]
    assert {f.server_ip for f in relays} == {"52.114.250.123", "52.114.250.137",
                                            "52.114.250.141"}
    assert all(f.media and f.media.turn_realm == "rtcmedia" for f in relays)
    assert all(f.app_proto == "turn" and f.visibility is not None for f in relays)
    peers = {p for f in relays if f.media and f.media.peer_addresses
             for p in f.media.peer_addresses}
    assert peers == {"93.71.110.205:16332", "93.71.110.205:16333"}
    # The direct flows to that peer carry ICE checks, then SRTP (its RTCP is encrypted).
    direct = [f for f in flows if "93.71.110.205" in (f.client_ip, f.server_ip)
              and f.transport.value == "udp"]
    assert direct and all(f.media and f.media.ice for f in direct)
    assert any(f.app_proto == "srtp" and f.media and f.media.srtp_evidence == "srtcp"
               and f.media.payload_types == (104,) for f in direct)


def test_whatsapp_relays_and_discord_voice(shared_captures: Path) -> None:
    whatsapp = read_capture(shared_captures / "pcap" / "whatsapp_voice_and_message.pcap")
    relays = [f for f in whatsapp.flows if f.app_proto == "turn"]
    assert len(relays) == 8
    assert all(f.media and f.media.stun_methods == ("allocate",) for f in relays)
    assert {f.media.mapped_address.split(":")[0] for f in relays if f.media
            and f.media.mapped_address} == {"191.162.107.92"}

    discord = read_capture(shared_captures / "pcap" / "discord.pcap").flows
    voice = [f for f in discord if f.app_proto == "srtp"]
    assert len(voice) == 26
    for flow in voice:
        assert flow.media is not None and flow.visibility is not None
        assert flow.media.mapped_address == f"84.59.132.100:{flow.client_port}"
        assert flow.media.payload_types is not None and 120 in flow.media.payload_types
        assert flow.media.packet_rate is not None and flow.media.packet_rate > 0
    pings = [f for f in discord if f.app_proto == "discord-voice"]
    assert len(pings) == 7


def test_agora_sd_rtn_names_match_ndpi(shared_captures: Path) -> None:
    capture = shared_captures / "media" / "pcap" / "agora-sd-rtn.pcap"
    cache: dict[Path, dict[Key, list[Flow]]] = {}
    index = flows_by_key(capture, cache)
    compared = split = 0
    for _capture, row in reference_flows(shared_captures):
        if _capture != capture:
            continue
        key = (capture.name, row["proto"], row["src"], int(row["sport"]), row["dst"],
               int(row["dport"]))
        # nDPI keeps a conversation whole; vcaudit splits one idle past the UDP timeout
        # (two of them here, idle for 12 and 15 minutes), and each part says its own hello.
        parts = index[key]
        for flow in parts:
            assert (flow.app_proto, flow.host) == ("sd-rtn", row["hostname_sni"])
            assert flow.name_evidence and "SD-RTN hello" in flow.name_evidence
        packets = sum((f.packets_up or 0) + (f.packets_down or 0) for f in parts)
        assert packets == int(row["pkts_c2s"]) + int(row["pkts_s2c"])
        compared += 1
        split += len(parts) > 1
    assert (compared, split) == (26, 2)


def test_zoom_media_router_flows(shared_captures: Path) -> None:
    flows = read_capture(shared_captures / "pcap" / "zoom.pcap").flows
    zoom = [f for f in flows if f.app_proto == "zoom-media"]
    assert {(f.server_ip, f.server_port) for f in zoom} == {("109.94.160.99", 8801),
                                                            ("193.122.35.237", 8801)}
    assert len(zoom) == 4 and any(f.tunnel == "gtp-u" for f in zoom)
    assert all(f.client_ip in ("192.168.1.117", "10.140.117.35") for f in zoom)


@pytest.mark.parametrize("name", ["gnutella.pcap"])
def test_no_media_guessed_in_p2p_file_sharing(shared_captures: Path, name: str) -> None:
    """A capture full of UDP between public peers: nothing in it is media."""
    flows = read_capture(shared_captures / "media" / "pcap" / name).flows
    assert len(flows) > 700
    assert [f for f in flows if f.media is not None] == []
