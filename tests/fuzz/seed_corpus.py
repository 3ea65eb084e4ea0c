"""The fuzzer's seeds: real captures (the repository's samples, and the shared captures when
they are beside the checkout), mitmproxy flow files written with mitmproxy's own FlowWriter,
and HAR files built here. Each seed is kept small (a capture is cut at a record boundary after
SEED_BYTES) so that a case runs in a fraction of a second.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "captures"
CAPTURE_FOLDERS = (REPO / "captures", SHARED / "pcap", SHARED / "media" / "pcap")
SEED_BYTES = 192 * 1024
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


@dataclass(frozen=True)
class Seed:
    """One starting input: its family (capture, mitm, har), a name and its bytes."""

    family: str
    name: str
    data: bytes


def capture_seeds() -> list[Seed]:
    """The pcap and pcapng files found (gzip ones read through), each cut to a whole number
    of records."""
    seeds = []
    for folder in CAPTURE_FOLDERS:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if not path.is_file() or ".pcap" not in path.name:
                continue
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            seeds.append(Seed("capture", path.name, cut_capture(data, SEED_BYTES)))
    return seeds


def cut_capture(data: bytes, limit: int) -> bytes:
    """The capture's first records (pcap) or blocks (pcapng) that fit in `limit` bytes."""
    if len(data) <= limit:
        return data
    if data[:4] == PCAPNG_MAGIC:
        order = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        end = 0
        while end + 12 <= len(data):
            (length,) = struct.unpack(order + "I", data[end + 4:end + 8])
            if length < 12 or end + length > limit:
                break
            end += length
        return data[:max(end, 12)]
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    end = 24
    while end + 16 <= len(data):
        (included,) = struct.unpack(order + "I", data[end + 8:end + 12])
        if end + 16 + included > limit:
            break
        end += 16 + included
    return data[:end]


def mitm_seeds() -> list[Seed]:
    """mitmproxy flow files: the kinds of flow mitmproxy saves (HTTP with and without a
    response, WebSocket, raw TCP and UDP, DNS), and requests a conferencing app makes."""
    from mitmproxy.io import FlowWriter
    from mitmproxy.test import tflow

    def written(flows: list[Any]) -> bytes:
        handle = io.BytesIO()
        writer = FlowWriter(handle)
        for number, flow in enumerate(flows):
            # mitmproxy's test flows get random ids (and some the time now): fixed ones keep
            # a seeded run repeatable.
            flow.id = str(uuid.UUID(int=3 * number + 1))
            flow.client_conn.id = str(uuid.UUID(int=3 * number + 2))
            flow.server_conn.id = str(uuid.UUID(int=3 * number + 3))
            flow.timestamp_created = 946681200.0 + number
            writer.add(flow)
        return handle.getvalue()

    telemetry = tflow.tflow(resp=True)
    telemetry.request.host = "ads.example-tracker.com"
    telemetry.request.headers["host"] = "ads.example-tracker.com"
    telemetry.request.method = "POST"
    telemetry.request.path = "/collect?uid=123&email=jane%40example.org&token=abc"
    telemetry.request.headers["content-type"] = "application/json"
    telemetry.request.content = json.dumps({"email": "jane@example.org", "device_id":
                                            "3f2a9c1e-1111-4222-8333-944455556666",
                                            "lat": 48.85, "lon": 2.35}).encode()
    compressed = tflow.tflow(resp=True)
    compressed.request.host = "log-gateway.zoom.us"
    compressed.request.headers["host"] = "log-gateway.zoom.us"
    compressed.request.headers["content-encoding"] = "gzip"
    compressed.request.headers["content-type"] = "application/x-www-form-urlencoded"
    compressed.request.raw_content = gzip.compress(b"user=jane%40example.org&phone=+33612345678")
    return [
        Seed("mitm", "mitmproxy-test-flows.mitm", written([
            tflow.tflow(resp=True), tflow.tflow(err=True), tflow.twebsocketflow(),
            tflow.ttcpflow(), tflow.tudpflow(), tflow.tdnsflow(resp=True)])),
        Seed("mitm", "telemetry.mitm", written([telemetry, compressed])),
        Seed("mitm", "one-http-flow.mitm", written([tflow.tflow(resp=True)])),
    ]


def har_entry(url: str, method: str = "GET", status: int = 200, ip: str | None = None,
              post: str | None = None, response: str = "{}") -> dict[str, Any]:
    """One HAR entry as browsers export it."""
    entry: dict[str, Any] = {
        "startedDateTime": "2026-11-02T14:00:00.000Z", "time": 42,
        "request": {"method": method, "url": url, "httpVersion": "HTTP/2.0",
                    "headers": [{"name": "content-type", "value": "text/plain"},
                                {"name": "cookie", "value": "sid=abc; uid=42"}],
                    "queryString": [{"name": "v", "value": "2"}],
                    "cookies": [{"name": "sid", "value": "abc"}],
                    "headersSize": -1, "bodySize": 0},
        "response": {"status": status, "statusText": "", "httpVersion": "HTTP/2.0",
                     "headers": [{"name": "content-type", "value": "application/json"}],
                     "content": {"size": len(response), "mimeType": "application/json",
                                 "text": response},
                     "cookies": [], "redirectURL": "", "headersSize": -1,
                     "bodySize": len(response)},
        "cache": {}, "timings": {"send": 0, "wait": 40, "receive": 2},
    }
    if ip:
        entry["serverIPAddress"] = ip
    if post is not None:
        entry["request"]["postData"] = {"mimeType": "application/json", "text": post}
    return entry


def har_seeds() -> list[Seed]:
    """HAR files of web calls: Meet with analytics and a pixel, and a Zoom web client whose
    bodies carry personal data (one base64-encoded)."""
    meet = [
        har_entry("https://meet.google.com/abc-defg-hij", ip="142.250.185.110"),
        har_entry("https://meet.google.com/$rpc/google.rtc.meetings.v1.MeetingSpaceService/"
                  "ResolveMeetingSpace", "POST", post='{"name":"x"}'),
        har_entry("https://www.google-analytics.com/g/collect?v=2&tid=G-1&cid=555.666",
                  "POST", 204, post=""),
        har_entry("https://connect.facebook.net/en_US/fbevents.js"),
    ]
    zoom = [
        har_entry("https://zoom.us/wc/join/123456789?pwd=secret", ip="170.114.52.2"),
        har_entry("https://log-gateway.zoom.us/api/v1/log", "POST",
                  post='{"email":"jane@example.org","phone":"+33612345678"}'),
        har_entry("https://[2001:db8::1]:8443/ping?email=jane%40example.org"),
    ]
    encoded = har_entry("https://api.segment.io/v1/t", "POST", post='{"userId":"u-1"}')
    encoded["response"]["content"].update(
        {"encoding": "base64", "text": "eyJlbWFpbCI6ImphbmVAZXhhbXBsZS5vcmcifQ=="})
    zoom.append(encoded)

    def document(entries: list[dict[str, Any]]) -> bytes:
        return json.dumps({"log": {"version": "1.2", "creator": {"name": "WebInspector",
                                                                 "version": "537.36"},
                                   "pages": [], "entries": entries}}).encode()

    return [Seed("har", "meet.har", document(meet)), Seed("har", "zoom-web.har", document(zoom))]


def all_seeds() -> dict[str, list[Seed]]:
    """Every seed, by family."""
    return {"capture": capture_seeds(), "mitm": mitm_seeds(), "har": har_seeds()}
