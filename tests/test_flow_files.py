"""mitmproxy flow files and browser HAR exports, audited through the addon's code path."""

from __future__ import annotations

import json
import signal
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from auditor.cli.errors import EXIT_INPUT
from auditor.cli.main import main

from .support.certs import make_server_cert
from .support.proxy_process import MitmdumpProcess
from .support.upstream import UpstreamServer
from .support.ws_client import websocket_echo


def analyze(*args: str) -> Any:
    return CliRunner().invoke(main, ["analyze", *args])


def endpoint_table(report: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {e["host"]: (e["category"], e["entity"], e["flows"], e["bytes_up"], e["bytes_down"])
            for e in report["endpoints"]}


@pytest.fixture
def recorded_session(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A live session recorded by the addon, and the same traffic saved with `-w`."""
    cert = make_server_cert(tmp_path, ["zoom.us", "graph.facebook.com"])
    flow_file = tmp_path / "call.mitm"
    with UpstreamServer(cert) as upstream, UpstreamServer(None) as plain:
        proxy = MitmdumpProcess(tmp_path, tmp_path / "live", upstream.port, plain.port,
                                ["-w", str(flow_file), "--set", "vcaudit_refresh=0"])
        with proxy:
            context = ssl.create_default_context(cafile=str(proxy.ca_pem))
            with httpx.Client(proxy=proxy.url, verify=context) as client:
                client.get("https://zoom.us/join")
                client.post("https://graph.facebook.com/123/activities", data={"a": "b"})
                client.get("http://zoom.us/plain")
            websocket_echo(proxy.port, context, "zoom.us", ["hello"])
            assert proxy.stop(signal.SIGTERM) == 0
        yield tmp_path / "live", flow_file


def test_flow_file_gives_the_same_report_as_the_live_session(
        recorded_session: tuple[Path, Path], tmp_path: Path) -> None:
    live, flow_file = recorded_session
    result = analyze(str(flow_file), "--out", str(tmp_path / "offline"))
    assert result.exit_code == 0, result.stderr
    offline = json.loads((tmp_path / "offline" / "report.json").read_text())
    online = json.loads((live / "report.json").read_text())
    assert offline["session"]["source"] == "mitm"
    assert endpoint_table(offline) == endpoint_table(online)
    assert offline["summary"]["categories"] == online["summary"]["categories"]
    websocket = [e for e in offline["endpoints"] if "websocket" in e["protocols"]]
    assert websocket and websocket[0]["host"] == "zoom.us"


def har_entry(url: str, method: str = "GET", status: int = 200, ip: str | None = None,
              post: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "startedDateTime": "2026-11-02T14:00:00.000Z", "time": 42,
        "request": {"method": method, "url": url, "httpVersion": "HTTP/2.0",
                    "headers": [{"name": "content-type", "value": "text/plain"}],
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": status, "statusText": "", "httpVersion": "HTTP/2.0",
                     "headers": [{"name": "content-type", "value": "application/json"}],
                     "content": {"size": 2, "mimeType": "application/json", "text": "{}"},
                     "cookies": [], "redirectURL": "", "headersSize": -1, "bodySize": 2},
        "cache": {}, "timings": {"send": 0, "wait": 40, "receive": 2},
    }
    if ip:
        entry["serverIPAddress"] = ip
    if post is not None:
        entry["request"]["postData"] = {"mimeType": "text/plain", "text": post}
    return entry


def test_har_export_of_a_web_call(tmp_path: Path) -> None:
    har = {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
                   "pages": [], "entries": [
                       har_entry("https://meet.google.com/abc-defg-hij", ip="142.250.185.110"),
                       har_entry("https://meet.google.com/$rpc/google.rtc.meetings.v1."
                                 "MeetingSpaceService/ResolveMeetingSpace", "POST", post="x"),
                       har_entry("https://www.google-analytics.com/g/collect?v=2&tid=G-1",
                                 "POST", 204, post=""),
                       har_entry("https://connect.facebook.net/en_US/fbevents.js"),
                   ]}}
    path = tmp_path / "meet.har"
    path.write_text(json.dumps(har))
    result = analyze(str(path), "--out", str(tmp_path / "s"))
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    assert report["session"]["source"] == "har" and report["session"]["app"] == "meet"
    endpoints = {e["host"]: e for e in report["endpoints"]}
    assert endpoints["meet.google.com"]["category"] == "first-party"
    assert endpoints["meet.google.com"]["flows"] == 2
    assert endpoints["meet.google.com"]["ips"] == ["142.250.185.110"]
    assert endpoints["www.google-analytics.com"]["category"] == "analytics"
    assert endpoints["www.google-analytics.com"]["first_party"]  # Google makes Meet
    assert endpoints["connect.facebook.net"]["category"] == "ad-tech"
    flows = [json.loads(line) for line in (tmp_path / "s" / "flows.jsonl").open()]
    collect = next(f for f in flows if "collect" in (f["url"] or ""))
    assert collect["method"] == "POST" and collect["status"] == 204


def test_broken_har_and_mixed_inputs(tmp_path: Path) -> None:
    broken = tmp_path / "broken.har"
    broken.write_text('{"log": {"entries": [{"nope": 1}]}}')
    result = analyze(str(broken), "--out", str(tmp_path / "s"))
    assert result.exit_code == EXIT_INPUT
    assert "not a readable HAR file" in result.stderr
    assert "a required field is missing: 'startedDateTime'" in result.stderr
    assert "Traceback" not in result.stderr
    pcap = Path(__file__).resolve().parents[1] / "captures" / "teams-linux-any.pcap"
    good = tmp_path / "good.har"
    good.write_text(json.dumps({"log": {"entries": [har_entry("https://zoom.us/")]}}))
    mixed = analyze(str(pcap), str(good), "--out", str(tmp_path / "m"))
    assert mixed.exit_code == EXIT_INPUT and "not a mix" in mixed.stderr


def test_har_scanned_with_an_extra_sdk_description(tmp_path: Path) -> None:
    sdk_file = tmp_path / "acme.toml"
    sdk_file.write_text(
        '[[sdk]]\nid = "acme-telemetry"\nname = "Acme telemetry"\n'
        'hosts = ["telemetry.acme.example"]\npath = \'^/v1/events$\'\n'
        'source = "https://acme.example/docs"\n'
        '  [[sdk.field]]\n  path = "hw.serial"\n  kind = "device-id"\n'
        '  meaning = "hw.serial: the device\'s serial number"\n')
    entry = har_entry("https://telemetry.acme.example/v1/events", "POST",
                      post=json.dumps({"hw": {"serial": "SN-0042-7781-ZZ"}}))
    entry["request"]["headers"] = [{"name": "content-type", "value": "application/json"}]
    path = tmp_path / "acme.har"
    path.write_text(json.dumps({"log": {"entries": [entry]}}))
    result = analyze(str(path), "--out", str(tmp_path / "s"), "--sdk-fields", str(sdk_file),
                     "--show-values")
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    finding = next(f for f in report["findings"] if f["kind"] == "device-id")
    assert finding["sdk"] == "acme-telemetry" and finding["values"] == ["SN-0042-7781-ZZ"]
    assert "serial number" in finding["detail"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[[sdk]]\nid = 'x'\n")
    refused = analyze(str(path), "--sdk-fields", str(bad))
    assert refused.exit_code == 2 and "bad.toml" in refused.stderr
