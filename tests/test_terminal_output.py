"""What vcaudit prints: the progress line on long reads, and the end-of-audit summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from mitmproxy.io import FlowWriter
from mitmproxy.test import tflow
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from auditor.cli.main import main
from auditor.cli.terminal import SHOW_AFTER_SECONDS, ProgressLine, print_summary
from auditor.report.render.text_safety import TERMINAL_NAME_LIMIT

from .conftest import SAMPLES, write_pcap


def test_progress_shows_only_after_a_few_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    progress = ProgressLine()
    report = progress.for_file(Path("call.pcapng"))
    assert report is not None
    report(10, 100)
    assert capsys.readouterr().err == ""  # a quick read prints nothing
    progress._started -= SHOW_AFTER_SECONDS + 1  # as if the read had been going on a while
    report(50, 100)
    line = capsys.readouterr().err
    assert "reading call.pcapng:  50.0% of 100 B" in line
    assert ProgressLine(enabled=False).for_file(Path("x")) is None


def test_summary_names_the_trackers_and_the_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(SAMPLES / "zoom-desktop-call.pcapng"),
                                       "--out", str(tmp_path)])
    lines = result.stdout.splitlines()
    assert lines[0].startswith("vcaudit: 43 flows to 21 endpoints")
    assert any(line.split()[:2] == ["ad-tech", "1"] and "graph.facebook.com (Meta)" in line
               for line in lines)
    assert f"report: {tmp_path / 'report.md'}" in result.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert f"{report['summary']['endpoints']} endpoints" in lines[0]


def test_summary_lines_read_right_for_one_of_each(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Singular nouns for one, the category rows in the report's order, and a tracker known
    only from a list (no organisation) named by its host alone."""
    categories = {name: {"endpoints": 0, "flows": 0, "bytes_up": 0, "bytes_down": 0}
                  for name in ("local", "first-party", "unknown", "third-party", "analytics",
                               "ad-tech")}  # deliberately in another order
    categories["analytics"] = {"endpoints": 1, "flows": 1, "bytes_up": 5, "bytes_down": 7}
    categories["local"] = {"endpoints": 1, "flows": 1, "bytes_up": 1, "bytes_down": 1}
    report = {
        "session": {"app": None, "app_detection": {"how": "none"}},
        "summary": {"flows": 1, "endpoints": 1, "bytes_up": 1000, "bytes_down": 353307,
                    "categories": categories},
        "endpoints": [{"host": "t.example", "entity": None, "category": "analytics"}],
        "coverage": {"flows_without_name": {"flows": 1}, "encrypted_flows": {"flows": 1},
                     "anomalies": {"total": 1}, "readable_flows": {"flows": 1}},
    }
    print_summary(report, tmp_path)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("vcaudit: 1 flow to 1 endpoint, sent 1.0 kB, received 353.3 kB; "
                        "audited app: not detected")
    assert lines[1].split() == ["analytics", "1", "endpoint", "t.example"]
    assert lines[2].split() == ["local", "1", "endpoint"]
    assert "coverage: 1 flow without a name, 1 encrypted, 1 anomaly skipped" in lines
    assert "(None)" not in "\n".join(lines)


HOSTILE_LABEL = b"x\x1b]0;pwned\x07\x1b[2J\x00\nverdict: no trackers\xe2\x80\xae"


def hostile_dns_capture(path: Path) -> Path:
    """A DNS answer naming an address with escape sequences, NUL, a newline that would forge
    a verdict line and U+202E (as UTF-8), then traffic to that address."""
    name = HOSTILE_LABEL + b".doubleclick.net"
    query = (Ether() / IP(src="192.168.1.23", dst="192.168.1.1") / UDP(sport=5353, dport=53)
             / DNS(id=1, rd=1, qd=DNSQR(qname=name)))
    answer = (Ether() / IP(src="192.168.1.1", dst="192.168.1.23") / UDP(sport=53, dport=5353)
              / DNS(id=1, qr=1, qd=DNSQR(qname=name),
                    an=DNSRR(rrname=name, type="A", rdata="93.184.216.34", ttl=60)))
    packets = [query, answer]
    for _ in range(3):
        packets.append(Ether() / IP(src="192.168.1.23", dst="93.184.216.34")
                       / UDP(sport=40000, dport=443) / (b"\x40" * 50))
    for n, packet in enumerate(packets):
        packet.time = 1.0 + n
    return write_pcap(path, packets)


def assert_inert(output: str) -> None:
    """Every line is plain printable text starting as vcaudit's own lines do."""
    for line in output.splitlines():
        assert all(c.isprintable() for c in line), repr(line)
        assert line.startswith(("vcaudit: ", "  ", "verdict: ", "data: ", "call: ",
                                "coverage: ", "report: ")), repr(line)


def test_dns_names_cannot_drive_the_terminal_or_forge_a_line(tmp_path: Path) -> None:
    capture = hostile_dns_capture(tmp_path / "hostile.pcap")
    result = CliRunner().invoke(main, ["analyze", str(capture), "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.stderr
    assert_inert(result.stdout)
    verdicts = [line for line in result.stdout.splitlines() if line.startswith("verdict:")]
    assert verdicts == ["verdict: ad-tech: Google (x\\x1b]0;pwned\\x07\\x1b[2j\\x00\\nverdict: "
                        "no trackers\\xe2\\x80\\xae.doubleclick.net)"]


def test_flow_file_hosts_are_shown_escaped_and_long_ones_cut(tmp_path: Path) -> None:
    hosts = ["ads\u202egoogle\x1b[2J\n.doubleclick.net", "a" * 300 + ".google-analytics.com"]
    path = tmp_path / "hostile.mitm"
    with path.open("wb") as handle:
        for host in hosts:
            flow = tflow.tflow(resp=True)
            flow.request.host = host
            flow.request.headers["host"] = host
            FlowWriter(handle).add(flow)
    result = CliRunner().invoke(main, ["analyze", str(path), "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.stderr
    assert_inert(result.stdout)
    assert "ads\\u202egoogle\\x1b[2j\\n.doubleclick.net (Google)" in result.stdout
    assert "a" * (TERMINAL_NAME_LIMIT - 3) + "..." in result.stdout
    assert "a" * TERMINAL_NAME_LIMIT not in result.stdout


def test_data_verdicts_from_traffic_are_escaped(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    result = CliRunner().invoke(main, ["analyze", str(SAMPLES / "zoom-desktop-call.pcapng"),
                                       "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    report["personal_data"]["verdicts"] = ["ad-tech: Evil\x1b[2J (x.example\nverdict: clean) "
                                           "received email address"]
    print_summary(report, tmp_path)
    out = capsys.readouterr().out
    assert_inert(out)
    assert "data: ad-tech: Evil\\x1b[2J (x.example\\nverdict: clean) received" in out
