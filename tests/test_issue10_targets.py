"""Issue 10's targets ("where the call went"), checked in one place on the real captures and
their nDPI references (../shared/captures: skipped when absent), through the report users get:
the conferencing captures of pcap/ and the media-plane captures of media/pcap/.

- no media flow to a public address is reported as local;
- teams.pcap's relays are first-party Microsoft, its direct peer 93.71.110.205 a p2p-exposure
  finding; discord.pcap's voice server is a server, not a peer;
- at least 90% of the UDP media flows nDPI labels in the VC captures have an owner (a name, a
  published range, or the AS), and every public endpoint has a country.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from auditor.classify.catalog import Catalog
from auditor.names.addresses import AddressScope, address_scope
from auditor.report.findings import P2P_EXPOSURE, redact
from auditor.session.offline import analyze_files

MEDIA_CAPTURES = ("rtp.pcapng", "agora-sd-rtn.pcap", "gnutella.pcap")
# nDPI's labels for UDP media flows (its master or application protocol).
MEDIA_LABELS = {"STUN", "DTLS", "RTP", "RTCP", "SRTP", "Zoom", "Skype_TeamsCall",
                "WhatsAppCall", "Discord", "Webex", "SIP", "GoogleMeet", "SD-RTN"}
TEAMS_PEER = "93.71.110.205"


def capture_paths(shared: Path) -> list[Path]:
    return [*sorted((shared / "pcap").iterdir()),
            *(shared / "media" / "pcap" / name for name in MEDIA_CAPTURES)]


@dataclass(frozen=True, slots=True)
class Session:
    """What `vcaudit analyze` wrote for one capture: report.json and flows.jsonl."""

    document: dict[str, Any]
    flows: list[dict[str, Any]]


@pytest.fixture(scope="module")
def reports(shared_captures: Path, catalog: Catalog,
            tmp_path_factory: pytest.TempPathFactory) -> dict[str, Session]:
    """Every capture audited as `vcaudit analyze` does, into its own session folder."""
    out = {}
    for capture in capture_paths(shared_captures):
        folder = tmp_path_factory.mktemp(capture.stem) / "s"
        analyze_files(catalog, [capture], out=folder, app=None)
        with open(folder / "flows.jsonl") as log:
            flows = [json.loads(line) for line in log]
        out[capture.name] = Session(json.loads((folder / "report.json").read_text()), flows)
    return out


def is_public(address: str | None) -> bool:
    return address is not None and address_scope(address) is AddressScope.PUBLIC


def p2p(report: Session) -> list[dict[str, Any]]:
    return [f for f in report.document["findings"] if f["kind"] == P2P_EXPOSURE]


def test_no_media_flow_to_a_public_address_is_local(reports: dict[str, Session]) -> None:
    checked = 0
    for name, report in reports.items():
        for flow in report.document["call"]["media_flows"]:
            checked += 1
            public = is_public(flow["remote_ip"])
            assert (flow["remote_scope"] == "public") == public, (name, flow["flow_id"])
            if public:
                assert flow["category"] != "local", (name, flow["flow_id"], flow["remote_ip"])
                assert flow["country"] is not None, (name, flow["flow_id"], flow["remote_ip"])
        media = [f for f in report.flows if f["media"] is not None]
        assert len(media) == report.document["call"]["totals"]["media_flows"], name
        local_public = [f["flow_id"] for f in media
                        if f["category"] == "local" and is_public(f["server_ip"])]
        assert local_public == [], (name, local_public)
    assert checked >= 94  # 64 in the conferencing captures, at least 30 in media/


def test_teams_relays_are_first_party_microsoft(reports: dict[str, Session]) -> None:
    call = reports["teams.pcap"].document["call"]
    roles = {r["address"]: r["role"] for r in call["relays"]}
    assert roles == {"52.114.250.123": "relay", "52.114.250.137": "relay",
                     "52.114.250.141": "relay", "52.114.252.21": "server",
                     "52.114.252.8": "server"}
    for relay in call["relays"]:
        assert (relay["category"], relay["entity"], relay["first_party"], relay["owner"]) == (
            "first-party", "Microsoft", True, "Microsoft"), relay["address"]
        assert relay["country"] is not None and relay["asn"] == 8075
    assert {r["turn_realm"] for r in call["relays"] if r["role"] == "relay"} == {"rtcmedia"}


def test_teams_direct_peer_is_a_p2p_exposure(reports: dict[str, Session]) -> None:
    report = reports["teams.pcap"]
    (finding,) = p2p(report)
    assert (finding["host"], finding["address"], finding["country"], finding["as_org"]) == (
        TEAMS_PEER, TEAMS_PEER, "IT", "Vodafone Italia S.p.A.")
    assert sorted(finding["flow_ids"]) == ["F000078", "F000079"]
    # The peer's own STUN answers name the user's public address (hashed in reports).
    assert finding["values"] == [redact("80.181.206.72")]
    peer = next(p for p in report.document["call"]["peers"] if p["address"] == TEAMS_PEER)
    assert peer["exposed"] and peer["answered"] and peer["your_country"] == "IT"
    # The same peer was also reached through two Teams relays.
    assert peer["through_relays"] == ["52.114.250.137:3478", "52.114.250.141:3478"]
    assert report.document["call"]["totals"]["exposed_peers"] == 1
    assert any(TEAMS_PEER in line for line in report.document["call"]["verdicts"])


def test_discord_voice_server_is_a_server_not_a_peer(reports: dict[str, Session]) -> None:
    call = reports["discord.pcap"].document["call"]
    voice = next(r for r in call["relays"] if r["address"] == "66.22.196.173")
    assert voice["role"] == "server" and "Discord's voice-server" in voice["role_reason"]
    assert voice["as_org"] is not None and voice["country"] is not None
    assert call["peers"] == [] and p2p(reports["discord.pcap"]) == []
    assert {f["role"] for f in call["media_flows"]} == {"server"}
    assert len(call["media_flows"]) >= 33


def test_only_real_peers_are_exposures(reports: dict[str, Session]) -> None:
    """Vendors' relays and servers (WhatsApp's Meta relays, Zoom's routers, Skype's Azure
    conference server, Agora's network) are never peers; the P2P file-sharing capture has
    no media at all; rtp.pcapng's one-way RTP to an ISP address is a peer."""
    exposed = {name: sorted(f["address"] for f in p2p(report))
               for name, report in reports.items() if p2p(report)}
    assert exposed == {"teams.pcap": [TEAMS_PEER], "rtp.pcapng": ["148.153.85.97"]}
    whatsapp = reports["whatsapp_voice_and_message.pcap"].document["call"]
    assert {r["role"] for r in whatsapp["relays"]} == {"relay"} and len(whatsapp["relays"]) == 8
    assert {r["owner"] for r in whatsapp["relays"]} == {"Meta"}
    agora = reports["agora-sd-rtn.pcap"].document["call"]
    assert agora["totals"]["media_flows"] >= 26 and agora["peers"] == []
    assert {f["role"] for f in agora["media_flows"]} == {"server"}
    assert reports["gnutella.pcap"].document["call"]["totals"]["media_flows"] == 0
    rtp = reports["rtp.pcapng"].document["call"]
    assert rtp["totals"]["local_peers"] == 2
    (finding,) = p2p(reports["rtp.pcapng"])
    assert finding["country"] == "DE" and "sent nothing back" in finding["detail"]


def test_ndpi_udp_media_flows_have_an_owner_and_a_country(
        shared_captures: Path, reports: dict[str, Session]) -> None:
    media = owned = 0
    unowned = []
    for name, report in reports.items():
        folder = "media" if name in MEDIA_CAPTURES else "."
        reference = shared_captures / folder / "reference" / "ndpi-flows" / f"{name}.csv"
        with open(reference, newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["proto"] == "UDP"
                    and set(r["ndpi_app"].split(".")) & MEDIA_LABELS
                    and not r["ndpi_app"].startswith(("DNS", "QUIC"))]
        endpoints = {e["host"]: e for e in report.document["endpoints"]}
        index = {}
        for flow in report.flows:
            for key in ((flow["client_ip"], flow["client_port"], flow["server_ip"],
                         flow["server_port"]), (flow["server_ip"], flow["server_port"],
                                                flow["client_ip"], flow["client_port"])):
                index[key] = flow
        for row in rows:
            flow = index[(row["src"], int(row["sport"]), row["dst"], int(row["dport"]))]
            media += 1
            endpoint = endpoints[flow["host"] or flow["server_ip"]]
            if flow["host"] or flow["entity"] is not None \
                    or endpoint["as_org"] is not None or endpoint["asn"] is not None:
                owned += 1
            else:
                unowned.append(f"{name} {row['ndpi_app']} {row['src']} -> {row['dst']}")
            if is_public(flow["server_ip"]):
                assert endpoint["country"] is not None, (name, flow["flow_id"])
    assert media >= 90
    assert owned / media >= 0.9, unowned
    for name, report in reports.items():
        for endpoint in report.document["endpoints"]:
            if any(is_public(ip) for ip in endpoint["ips"]):
                assert endpoint["country"] is not None, (name, endpoint["host"])
