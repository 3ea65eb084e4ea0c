"""Where the call went: report.json's `call` section, the p2p-exposure finding, call.csv, the
Markdown section, the terminal lines and `--fail-on p2p`, on a call built with scapy: a TURN
relay of Microsoft that carries media to a peer, the same peer reached directly with ICE and
SRTP, an unanswered ICE check to a LAN address, Zoom's framing on Oracle Cloud, ICE and SRTP to
a Google Cloud address, and a plain STUN server at an ISP."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

from auditor.audit import run_audit
from auditor.classify.catalog import Catalog
from auditor.cli.main import main
from auditor.records import Flow, Media, Transport, split_address
from auditor.report import call_path
from auditor.report.build import build_report
from auditor.report.fail_conditions import matched_conditions, parse_fail_on
from auditor.report.findings import P2P_EXPOSURE, redact

from .conftest import write_pcap
from .media_packets import T0, attribute, rtcp_sender_report, rtp, stun, xor_address

DEVICE = "192.168.1.20"
YOURS = "80.181.206.72"  # the device's public address after NAT (Telecom Italia, IT)
RELAY = "52.114.250.141"  # Microsoft Teams relay range, IE
PEER = "93.71.110.205"  # another participant (Vodafone Italia, IT)
LAN_PEER = "192.168.0.4"
ZOOM_ON_ORACLE = "193.122.35.237"
GOOGLE_CLOUD = "35.214.238.161"
STUN_SERVER = "80.181.1.1"  # an ISP's address that no catalog entry knows
TXID = bytes(range(12))
ICE = attribute(0x0024, b"\x6e\x7f\x1e\xff") + attribute(0x802A, bytes(8))

Exchange = tuple[bool, bytes]


def srtp_stream(count: int) -> list[Exchange]:
    media = [(n % 2 == 0, rtp(111, n, 0xA1 if n % 2 == 0 else 0xB2)) for n in range(count)]
    return [*media, (True, rtcp_sender_report(0xA1, encrypted_tail=bytes(range(30))))]


def relay_exchanges(realm: bytes) -> list[Exchange]:
    """A TURN allocation (401 with REALM, then success with relayed and mapped addresses) and
    a permission for the peer."""
    return [
        (True, stun(0x003, 0, TXID, attribute(0x0019, b"\x11\x00\x00\x00"))),
        (False, stun(0x003, 3, TXID, attribute(0x0009, b"\x00\x00\x04\x01Unauthorized")
                     + attribute(0x0014, realm) + attribute(0x0015, b"n0nce"))),
        (False, stun(0x003, 2, TXID, xor_address(0x0016, RELAY, 3480, TXID)
                     + xor_address(0x0020, YOURS, 57543, TXID))),
        (True, stun(0x008, 0, TXID, xor_address(0x0012, PEER, 16332, TXID))),
    ]


def ice_check(answer: bool) -> list[Exchange]:
    check = [(True, stun(0x001, 0, TXID, ICE))]
    if answer:
        check.append((False, stun(0x001, 2, TXID, xor_address(0x0020, YOURS, 57543, TXID))))
    return check


def zoom_media() -> list[Exchange]:
    hello = bytes.fromhex("0100027d464d35fffda234495d0d6d3b51e89600") + bytes(40)
    audio = [bytes([5, 0, n, 0, 0, 0, 0, 0, 15]) + bytes(18) + rtp(98, n, 0x5A5A)
             for n in range(10)]
    return [(True, hello), *[(n % 2 == 1, a) for n, a in enumerate(audio)]]


def call_capture(path: Path, realm: bytes = b"rtcmedia") -> Path:
    """Six UDP flows of one call, each starting a second after the previous one."""
    flows: list[tuple[int, str, int, list[Exchange]]] = [
        (50100, RELAY, 3478, relay_exchanges(realm)),
        (50100, PEER, 16332, ice_check(answer=True) + srtp_stream(30)),
        (50102, LAN_PEER, 50005, ice_check(answer=False) * 3),
        (50104, ZOOM_ON_ORACLE, 8801, zoom_media()),
        (50106, GOOGLE_CLOUD, 50001, ice_check(answer=True) + srtp_stream(20)),
        (50108, STUN_SERVER, 3478, [(True, stun(0x001, 0, TXID)),
                                    (False, stun(0x001, 2, TXID, xor_address(
                                        0x0020, YOURS, 50108, TXID)))]),
    ]
    packets: list[Packet] = []
    for index, (port, server, server_port, exchanges) in enumerate(flows):
        for number, (up, payload) in enumerate(exchanges):
            src, dst, a, b = ((DEVICE, server, port, server_port) if up
                              else (server, DEVICE, server_port, port))
            packet = Ether() / IP(src=src, dst=dst) / UDP(sport=a, dport=b) / Raw(payload)
            packet.time = T0 + index + number * 0.02
            packets.append(packet)
    return write_pcap(path, sorted(packets, key=lambda p: float(p.time)))


def analyze(capture: Path, out: Path, *options: str) -> Result:
    return CliRunner().invoke(main, ["analyze", str(capture), "--out", str(out), "--app",
                                     "teams", *options])


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    folder = tmp_path_factory.mktemp("call")
    result = analyze(call_capture(folder / "call.pcap"), folder / "s")
    assert result.exit_code == 0, result.stderr
    return folder / "s", result


@pytest.fixture(scope="module")
def report(session: tuple[Path, Result]) -> dict[str, Any]:
    return json.loads((session[0] / "report.json").read_text())  # type: ignore[no-any-return]


def by_remote(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["remote_ip"]: f for f in report["call"]["media_flows"]}


def test_each_media_flow_has_a_role_from_evidence(report: dict[str, Any]) -> None:
    flows = by_remote(report)
    roles = {ip: (f["role"], f["remote_scope"]) for ip, f in flows.items()}
    assert roles == {RELAY: ("relay", "public"), PEER: ("peer", "public"),
                     LAN_PEER: ("peer", "local"), ZOOM_ON_ORACLE: ("server", "public"),
                     GOOGLE_CLOUD: ("server", "public"), STUN_SERVER: ("server", "public")}
    assert "REALM rtcmedia" in flows[RELAY]["role_reason"]
    assert "Zoom's media-router framing" in flows[ZOOM_ON_ORACLE]["role_reason"]
    assert "cannot be ruled out" in flows[GOOGLE_CLOUD]["role_reason"]
    assert "STUN server" in flows[STUN_SERVER]["role_reason"]
    assert "ICE checks" in flows[PEER]["role_reason"] and "SRTP" in flows[PEER]["role_reason"]
    relay = flows[RELAY]
    assert (relay["owner"], relay["owner_source"], relay["first_party"], relay["country"],
            relay["asn"], relay["turn_realm"]) == ("Microsoft", "classification", True, "IE",
                                                   8075, "rtcmedia")
    peer = flows[PEER]
    assert (peer["owner"], peer["owner_source"], peer["country"], peer["category"]) == (
        "Vodafone Italia S.p.A.", "as", "IT", "unknown")
    assert peer["protocol"] == "srtp" and peer["packets_down"] > 0
    assert peer["duration_s"] > 0 and peer["started"].endswith("Z")
    # The user's public address is personal data: a short hash, its port kept.
    assert (peer["your_public_address"], peer["your_public_port"]) == (redact(YOURS), 57543)
    assert flows[LAN_PEER]["country"] is None and flows[LAN_PEER]["bytes_down"] == 0


def test_relays_peers_countries_and_your_address(report: dict[str, Any]) -> None:
    call = report["call"]
    assert call["totals"] == {
        "media_flows": 6, "media_flows_listed": 6,
        "bytes_up": sum(f["bytes_up"] for f in call["media_flows"]),
        "bytes_down": sum(f["bytes_down"] for f in call["media_flows"]),
        "relays": 1, "servers": 3, "direct_peers": 1, "local_peers": 1,
        "peers_through_relays": 0, "exposed_peers": 1}
    assert [r["address"] for r in call["relays"] if r["role"] == "relay"] == [RELAY]
    peer, lan = call["peers"]
    assert (peer["address"], peer["scope"], peer["direct"], peer["exposed"], peer["answered"]) \
        == (PEER, "public", True, True, True)
    assert peer["through_relays"] == [f"{RELAY}:3478"] and peer["ports"] == [16332]
    assert (peer["as_org"], peer["country"], peer["your_addresses"],
            peer["your_addresses_from"], peer["your_as_org"], peer["your_country"]) == (
        "Vodafone Italia S.p.A.", "IT", [redact(YOURS)], "peer", "Telecom Italia", "IT")
    assert (lan["address"], lan["scope"], lan["exposed"], lan["answered"],
            lan["your_addresses"]) == (LAN_PEER, "local", False, False, [])
    countries = {c["country"]: c for c in call["countries"]}
    assert set(countries) == {"IE", "IT", "DE", "NL"}
    assert countries["IT"]["roles"] == ["peer", "server"]  # the peer and the STUN server
    assert countries["IE"]["flows"] == 1 and countries["IE"]["roles"] == ["relay"]
    (yours,) = call["your_public_addresses"]
    assert (yours["address"], yours["as_org"], yours["country"]) == (redact(YOURS),
                                                                     "Telecom Italia", "IT")
    assert set(yours["seen_by"]) == {RELAY, PEER, GOOGLE_CLOUD, STUN_SERVER}
    assert sorted(yours["ports"]) == [50108, 57543]


def test_p2p_exposure_finding(report: dict[str, Any]) -> None:
    (finding,) = [f for f in report["findings"] if f["kind"] == P2P_EXPOSURE]
    assert (finding["host"], finding["address"], finding["as_org"], finding["country"],
            finding["category"], finding["first_party"]) == (
        PEER, PEER, "Vodafone Italia S.p.A.", "IT", "unknown", False)
    assert finding["asn"] is None  # the bundled database names the network, not its number
    assert finding["values"] == [redact(YOURS)] and finding["label"] == "peer-to-peer exposure"
    assert f"public address {PEER} (Vodafone Italia S.p.A., IT)" in finding["detail"]
    assert "its own STUN answers" in finding["detail"]
    assert len(finding["flow_ids"]) == 1
    # Not personal data someone received: no data verdict, no `pii` condition.
    assert report["personal_data"]["who_received_what"] == []
    assert matched_conditions(report, ["pii", "unknown-pii"]) == []
    assert matched_conditions(report, ["p2p"]) == [
        f"p2p: media went directly to {PEER} (Vodafone Italia S.p.A., IT)"]


def test_verdicts_and_terminal_lines(report: dict[str, Any],
                                     session: tuple[Path, Result]) -> None:
    first, second = report["call"]["verdicts"]
    assert first.startswith("6 media flows via 1 Microsoft TURN relay (IE)")
    assert "directly to 1 peer (Vodafone Italia S.p.A., IT) and 1 local address" in first
    assert second == (f"your public IP address (Telecom Italia, IT) was exposed to {PEER} "
                      "(Vodafone Italia S.p.A., IT), another participant reached directly, "
                      "and you learned its address")
    lines = session[1].stdout.splitlines()
    assert [line for line in lines if line.startswith("call: ")] == [
        f"call: {first}", f"call: {second}"]
    assert "call.csv" in lines[-1]


def test_the_users_address_is_hashed_unless_shown(session: tuple[Path, Result]) -> None:
    folder = session[0]
    for name in ("report.json", "report.md", "call.csv"):
        assert YOURS not in (folder / name).read_text(), name
    shown = CliRunner().invoke(main, ["report", str(folder), "--show-values"])
    assert shown.exit_code == 0, shown.stderr
    report = json.loads((folder / "report.json").read_text())
    assert report["call"]["your_public_addresses"][0]["address"] == YOURS
    assert by_remote(report)[PEER]["your_public_address"] == YOURS
    (finding,) = [f for f in report["findings"] if f["kind"] == P2P_EXPOSURE]
    assert finding["values"] == [YOURS] and YOURS in finding["detail"]
    assert f"your public IP address {YOURS} (Telecom Italia, IT)" in report["call"]["verdicts"][1]
    CliRunner().invoke(main, ["report", str(folder)])  # back to hashes for the other tests


def test_call_csv_has_every_media_flow(session: tuple[Path, Result]) -> None:
    text = (session[0] / "call.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6 and list(rows[0]) == list(call_path.CALL_COLUMNS)
    frame = pd.read_csv(io.StringIO(text), dtype_backend="numpy_nullable")
    assert str(frame["remote_port"].dtype) == "Int64" and str(frame["asn"].dtype) == "Int64"
    peer = next(r for r in rows if r["remote_ip"] == PEER)
    assert (peer["role"], peer["country"], peer["protocols"]) == ("peer", "IT",
                                                                  "stun;srtp;srtcp")
    lan = next(r for r in rows if r["remote_ip"] == LAN_PEER)
    assert lan["asn"] == "" and lan["your_public_address"] == ""


def test_markdown_section(session: tuple[Path, Result]) -> None:
    text = (session[0] / "report.md").read_text()
    section = text.split("## Where your call went")[1].split("\n## ")[0]
    assert "- **your public IP address (Telecom Italia, IT) was exposed to" in section
    assert f"| {RELAY} | relay | Microsoft | AS8075 " in section
    assert f"| {PEER} (public) | directly, through {RELAY}:3478 | Vodafone Italia S.p.A. | IT |" \
        in section
    assert "| IT | 2 |" in section
    assert f"| {redact(YOURS)} | Telecom Italia | IT |" in section
    assert sum(1 for line in section.splitlines() if line.startswith("| F")) == 6


def test_fail_on_p2p(tmp_path: Path) -> None:
    assert parse_fail_on("p2p,pii") == ["p2p", "pii"]
    capture = call_capture(tmp_path / "call.pcap")
    failed = analyze(capture, tmp_path / "a", "--fail-on", "p2p", "--quiet")
    assert failed.exit_code == 1
    assert f"p2p: media went directly to {PEER} (Vodafone Italia S.p.A., IT)" in failed.stderr
    passed = analyze(capture, tmp_path / "b", "--fail-on", "pii", "--quiet")
    assert passed.exit_code == 0, passed.stderr


def test_diff_does_not_count_an_exposure_as_personal_data(
        tmp_path: Path, session: tuple[Path, Result]) -> None:
    """vcaudit diff reads findings: a p2p-exposure is no data the peer received."""
    packets = [Ether() / IP(src=DEVICE, dst="93.184.216.34") / UDP(sport=40000, dport=443)
               / Raw(b"\x40" * 50)]
    packets[0].time = T0
    before = tmp_path / "before"
    quiet = CliRunner().invoke(main, ["analyze", str(write_pcap(tmp_path / "x.pcap", packets)),
                                      "--out", str(before), "--quiet"])
    assert quiet.exit_code == 0, quiet.stderr
    result = CliRunner().invoke(main, ["diff", str(before), str(session[0]), "--out",
                                       str(tmp_path / "d"), "--fail-on", "new-pii"])
    assert result.exit_code == 0, result.stderr
    assert "peer-to-peer" not in (tmp_path / "d" / "diff.md").read_text()


def test_hostile_realm_stays_inert(tmp_path: Path) -> None:
    realm = "=HYPERLINK(\"http://x\")|<b>\u202e[2J".encode()
    result = analyze(call_capture(tmp_path / "call.pcap", realm), tmp_path / "s")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader((tmp_path / "s" / "call.csv").open()))
    relay = next(r for r in rows if r["remote_ip"] == RELAY)
    assert relay["turn_realm"].startswith("'=HYPERLINK")
    # The STUN parser already shows unprintable characters as U+FFFD.
    assert "\u202e" not in relay["turn_realm"] and "\ufffd" in relay["turn_realm"]
    markdown = (tmp_path / "s" / "report.md").read_text()
    assert "<b>" not in markdown and "\u202e" not in markdown and r"\<b\>" in markdown


def test_no_media_no_call(tmp_path: Path) -> None:
    packets = [Ether() / IP(src=DEVICE, dst="93.184.216.34") / UDP(sport=40000, dport=443)
               / Raw(b"\x40" * 50) for _ in range(3)]
    for n, packet in enumerate(packets):
        packet.time = T0 + n
    result = CliRunner().invoke(main, ["analyze", str(write_pcap(tmp_path / "x.pcap", packets)),
                                       "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    call = report["call"]
    assert call["totals"]["media_flows"] == 0 and call["verdicts"] == []
    assert call["media_flows"] == call["relays"] == call["peers"] == call["countries"] == []
    assert "call:" not in result.stdout
    assert "No media flow" in (tmp_path / "s" / "report.md").read_text()
    assert (tmp_path / "s" / "call.csv").read_text().count("\n") == 1


def test_report_json_lists_the_largest_media_flows(catalog: Catalog,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_MEDIA_FLOWS, report.json keeps the largest (in time order) and call.csv all."""
    monkeypatch.setattr(call_path, "MAX_MEDIA_FLOWS", 3)
    sizes = [10, 500, 20, 400, 300, 30]
    flows = [Flow(f"F{n}", 1.0 + n, 2.0 + n, Transport.UDP, DEVICE, 50000 + n, PEER, 16000 + n,
                  app_proto="rtp", bytes_up=size, bytes_down=0, media=Media(("rtp",)))
             for n, size in enumerate(sizes)]
    built = build_report(run_audit(catalog, flows, [], session_id="s", source="pcap",
                                   inputs=["x.pcap"], requested_app=None))
    call = built.document["call"]
    assert [f["flow_id"] for f in call["media_flows"]] == ["F1", "F3", "F4"]
    assert call["totals"]["media_flows"] == 6 and call["totals"]["media_flows_listed"] == 3
    assert len(built.call) == 6
    (peer,) = call["peers"]
    assert peer["flows"] == 6 and peer["your_addresses_from"] is None
    assert "not in the capture" in next(f for f in built.document["findings"]
                                        if f["kind"] == P2P_EXPOSURE)["detail"]


@pytest.mark.parametrize(("text", "expected"), [
    ("93.71.110.205:16332", ("93.71.110.205", 16332)),
    ("[2001:db8::1]:3478", ("2001:db8::1", 3478)),
    ("2001:db8::1", ("2001:db8::1", None)),
    ("93.71.110.205", ("93.71.110.205", None)),
    ("93.71.110.205:9999999", ("93.71.110.205", None)),
    ("[2001:db8::1", ("2001:db8::1", None)),
])
def test_split_address(text: str, expected: tuple[str, int | None]) -> None:
    assert split_address(text) == expected
