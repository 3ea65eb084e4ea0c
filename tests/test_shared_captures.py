"""Real captures checked against ground truth nobody on this project wrote: tshark's and nDPI's
results for the nDPI test captures in ../shared/captures (skipped when absent)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.capture.reading import CaptureReading, read_capture
from auditor.cli.main import main
from auditor.names.domains import is_ip_address
from auditor.records import Flow

NAME_COLUMNS = ("tls_sni", "http_host", "quic_sni", "dtls_sni")


def flow_index(reading: CaptureReading) -> dict[tuple[str, str, int, str, int], list[Flow]]:
    index: dict[tuple[str, str, int, str, int], list[Flow]] = {}
    for flow in reading.flows:
        proto = flow.transport.value.upper()
        for key in ((proto, flow.client_ip, flow.client_port, flow.server_ip, flow.server_port),
                    (proto, flow.server_ip, flow.server_port, flow.client_ip, flow.client_port)):
            index.setdefault(key, []).append(flow)  # type: ignore[arg-type]
    return index


def host_without_port(value: str) -> str:
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def names_of(flows: list[Flow], wanted: str) -> list[str | None]:
    """What vcaudit calls the flows: their host, and their HTTP Host when the reference names
    an address (SSDP's 239.255.255.250:1900), which vcaudit keeps but does not call a name."""
    names = [f.host for f in flows]
    if is_ip_address(host_without_port(wanted).strip("[]")):
        names += [f.http_host for f in flows]
    return names


def captures(shared: Path) -> list[Path]:
    return sorted((shared / "pcap").iterdir())


def test_every_flow_tshark_names_gets_the_same_name(shared_captures: Path) -> None:
    compared = 0
    problems = []
    for capture in captures(shared_captures):
        reference = shared_captures / "reference" / "tshark" / f"{capture.name}.csv"
        index = flow_index(read_capture(capture))
        with open(reference, newline="") as handle:
            for row in csv.DictReader(handle):
                key = (row["proto"], row["src"], int(row["sport"]), row["dst"], int(row["dport"]))
                flows = index.get(key)
                if flows is None:
                    problems.append(f"{capture.name}: flow {key} missing")
                    continue
                wanted = next((row[c] for c in NAME_COLUMNS if row[c]), None)
                if wanted is None:
                    continue
                compared += 1
                names = names_of(flows, wanted)
                if host_without_port(wanted).lower() not in names:
                    problems.append(f"{capture.name}: {key} tshark {wanted!r}, vcaudit {names}")
    assert not problems, "\n".join(problems)
    assert compared >= 60


def test_ndpi_names_agree_for_named_transport_flows(shared_captures: Path) -> None:
    """nDPI also names DHCP flows by the client's own host name (not a server) and SSDP with
    a port; everything else it names by SNI or Host must match."""
    compared, problems = 0, []
    for capture in captures(shared_captures):
        index = flow_index(read_capture(capture))
        reference = shared_captures / "reference" / "ndpi-flows" / f"{capture.name}.csv"
        with open(reference, newline="") as handle:
            for row in csv.DictReader(handle):
                app = row["ndpi_app"]
                if not row["hostname_sni"] or row["proto"] not in ("TCP", "UDP"):
                    continue
                if any(p in app for p in ("DNS", "NetBIOS", "LLMNR", "DHCP")):
                    continue  # query names and client names, not the server's
                key = (row["proto"], row["src"], int(row["sport"]), row["dst"], int(row["dport"]))
                names = names_of(index.get(key, []), row["hostname_sni"])
                compared += 1
                if host_without_port(row["hostname_sni"]).lower() not in names:
                    problems.append(f"{capture.name} {app} {key}: nDPI "
                                    f"{row['hostname_sni']!r}, vcaudit {names}")
    assert not problems, "\n".join(problems)
    assert compared >= 65


def test_zoom_capture_end_to_end(shared_captures: Path, tmp_path: Path) -> None:
    capture = shared_captures / "pcap" / "zoom.pcap"  # really pcapng: detected by content
    result = CliRunner().invoke(main, ["analyze", str(capture), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["session"]["app"] == "zoom"
    endpoints = {e["host"]: e for e in report["endpoints"]}

    media = [json.loads(line) for line in (tmp_path / "flows.jsonl").read_text().splitlines()]
    udp_8801 = [f for f in media if f["server_ip"] == "109.94.160.99" and f["server_port"] == 8801
                and f["transport"] == "udp"]
    assert udp_8801 and all(f["host"] == "zoomfrn99mmr.zoom.us" for f in udp_8801)
    assert all(f["host_source"] == "dns" and "DNS answer" in f["name_evidence"]
               for f in udp_8801)

    for host, endpoint in endpoints.items():
        if host.endswith("zoom.us") and host != "log.zoom.us":
            assert endpoint["category"] == "first-party", host
            assert endpoint["entity"] == "Zoom" and endpoint["first_party"], host
    log = endpoints["log.zoom.us"]  # Zoom's own telemetry upload: purpose beats ownership
    assert log["category"] == "analytics" and log["entity"] == "Zoom" and log["first_party"]
    gtm = endpoints["www.googletagmanager.com"]
    assert gtm["category"] == "analytics" and gtm["entity"] == "Google"

    protocols_by_category: dict[str, set[str]] = {}
    for endpoint in report["endpoints"]:
        protocols_by_category.setdefault(endpoint["category"], set()).update(
            endpoint["protocols"])
    assert {"mdns", "ssdp", "netbios-ns", "dhcp"} <= protocols_by_category["local"]
    for endpoint in report["endpoints"]:
        if set(endpoint["protocols"]) & {"mdns", "ssdp", "netbios-ns", "dhcp"}:
            assert endpoint["category"] == "local", endpoint["host"]

    gtp = [f for f in media if f["tunnel"] == "gtp-u"]
    assert gtp and gtp[0]["server_port"] == 8801 and gtp[0]["vlan"]


@pytest.mark.parametrize("name", ["badpackets.pcap", "tls_invalid_reads.pcap"])
def test_damaged_captures_complete(shared_captures: Path, tmp_path: Path, name: str) -> None:
    result = CliRunner().invoke(main, ["analyze", str(shared_captures / "pcap" / name),
                                       "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"]["flows"] > 0


def test_gtp_tunnelled_crashlytics_flow_is_named(shared_captures: Path) -> None:
    reading = read_capture(shared_captures / "pcap" / "tls_invalid_reads.pcap")
    tunnelled = [f for f in reading.flows if f.tunnel == "gtp-u"]
    assert [f.host for f in tunnelled] == ["e.crashlytics.com"]
    assert reading.anomalies.total() >= 1  # the damaged hellos are counted, not fatal


def test_teams_capture_is_teams(shared_captures: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(shared_captures / "pcap" / "teams.pcap"),
                                       "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["session"]["app"] == "teams"
    endpoints = {e["host"]: e for e in report["endpoints"]}
    assert endpoints["teams.microsoft.com"]["category"] == "first-party"
    assert endpoints["mobile.pipe.aria.microsoft.com"]["category"] == "analytics"
    assert endpoints["mobile.pipe.aria.microsoft.com"]["first_party"]
