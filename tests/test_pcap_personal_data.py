"""Personal data in what a capture shows in the clear: plaintext HTTP requests (keep-alive,
split over segments) and DNS query names, through `vcaudit analyze`."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from urllib.parse import urlencode

from click.testing import CliRunner
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet

from auditor.cli.main import main

from .conftest import write_pcap

CLIENT, RESOLVER, TRACKER = "192.168.1.23", "192.168.1.1", "157.240.20.19"
EMAIL = "alice@example.com"


def segments(payload: bytes, size: int) -> list[bytes]:
    return [payload[i : i + size] for i in range(0, len(payload), size)]


def http_session(requests: list[bytes]) -> list[Packet]:
    """A TCP connection to the tracker on port 80 carrying the requests back to back."""
    def tcp(src: str, dst: str, sport: int, dport: int, flags: str, seq: int, ack: int,
            load: bytes = b"") -> Packet:
        return Ether() / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags,
                                                   seq=seq, ack=ack) / load

    packets = [tcp(CLIENT, TRACKER, 50200, 80, "S", 1000, 0),
               tcp(TRACKER, CLIENT, 80, 50200, "SA", 5000, 1001),
               tcp(CLIENT, TRACKER, 50200, 80, "A", 1001, 5001)]
    seq = 1001
    for chunk in segments(b"".join(requests), 700):  # bodies cross segment boundaries
        packets.append(tcp(CLIENT, TRACKER, 50200, 80, "PA", seq, 5001, chunk))
        seq += len(chunk)
    packets.append(tcp(TRACKER, CLIENT, 80, 50200, "PA", 5001, seq,
                       b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    return packets


def test_plaintext_requests_and_dns_names_are_scanned(tmp_path: Path) -> None:
    extinfo = json.dumps(["a2", "us.zoom.videomeetings", "5.4", "5.4.1", "11", "Pixel 4a",
                          "en_GB", "BST", "EE", "1080", "2340", "2.75", "8", "110", "60",
                          "Europe/London"])
    form = urlencode({"event": "MOBILE_APP_INSTALL", "extinfo": extinfo,
                      "advertiser_id": "38400000-8cf0-11bd-b23e-10b96e40000d"}).encode()
    body = gzip.compress(form)
    first = (b"POST /v7.0/123/activities HTTP/1.1\r\nHost: graph.facebook.com\r\n"
             b"Content-Type: application/x-www-form-urlencoded\r\nContent-Encoding: gzip\r\n"
             + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    second = (b"GET /tr?ev=PageView&em=" + EMAIL.replace("@", "%40").encode()
              + b" HTTP/1.1\r\nHost: graph.facebook.com\r\n\r\n")
    dns = [
        Ether() / IP(src=CLIENT, dst=RESOLVER) / UDP(sport=53999, dport=53) / DNS(
            id=9, rd=1, qd=DNSQR(qname="graph.facebook.com")),
        Ether() / IP(src=RESOLVER, dst=CLIENT) / UDP(sport=53, dport=53999) / DNS(
            id=9, qr=1, qd=DNSQR(qname="graph.facebook.com"),
            an=DNSRR(rrname="graph.facebook.com", rdata=TRACKER)),
        # The email, hex-encoded, sent out as a DNS label to a tracker's zone.
        Ether() / IP(src=CLIENT, dst=RESOLVER) / UDP(sport=53998, dport=53) / DNS(
            id=10, rd=1, qd=DNSQR(qname=f"{EMAIL.encode().hex()}.t.doubleclick.net")),
    ]
    packets = dns + http_session([first, second])
    for n, packet in enumerate(packets):
        packet.time = 1_790_000_000 + n / 100
    capture = write_pcap(tmp_path / "clear.pcap", packets)
    result = CliRunner().invoke(main, ["analyze", str(capture), "--out", str(tmp_path / "s"),
                                       "--identity", f"email={EMAIL}"])
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    found = {(f["host"], f["kind"]): f for f in report["findings"]}
    for kind in ("advertising-id", "device-model", "time-zone", "carrier"):
        finding = found[("graph.facebook.com", kind)]
        assert finding["category"] == "ad-tech" and finding["entity"] == "Meta"
    assert found[("graph.facebook.com", "device-model")]["places"][0]["path"] == "extinfo[5]"
    email = found[("graph.facebook.com", "user-email")]
    assert email["places"][0] == {"location": "query", "path": "em", "encoding": "plain"}
    dns_leak = next(f for f in report["findings"] if f["kind"] == "user-email"
                    and f["places"][0]["location"] == "dns")
    assert dns_leak["host"].endswith(".t.doubleclick.net")
    assert dns_leak["category"] == "ad-tech" and dns_leak["entity"] == "Google"
    assert dns_leak["places"][0]["encoding"] == "plain>hex"
    assert "data:" in result.stdout and "Meta (graph.facebook.com) received" in result.stdout
