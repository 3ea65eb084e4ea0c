"""Personal-data scanning throughput on a mix of realistic request bodies.

    .venv/bin/python bench/scan_speed.py [--seconds 3]

Bodies: the Facebook SDK app-events form (gzip), Segment and Amplitude JSON batches, a Sentry
envelope, a GA4 collect query, a 1 MB JSON upload, and a gzip bomb (64 MB of zeros). Each is
scanned repeatedly with three identities supplied; the figure is decoded megabytes per second,
against a baseline measured in the same run: `json.loads` of the same decoded bodies (the
least any scanner that looks inside JSON has to do, in C). Target: the scan stays within 30x
of that baseline and above 5 MB/s on the mix, and the bomb costs no more than the scan limit.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib

from auditor.personal_data.body_decoding import decode_body
from auditor.personal_data.identities import parse_identity
from auditor.personal_data.request_fields import RequestData
from auditor.personal_data.scan import ScanContext, scan_request

IDENTITIES = ["email=alice@example.com", "phone=+4915112345678", "name=Alice Example"]


def segment_batch(events: int) -> bytes:
    return json.dumps({"batch": [{
        "type": "track", "event": "Meeting Joined", "userId": "u-12345",
        "anonymousId": str(uuid.UUID(int=n)), "properties": {"duration": n, "video": True},
        "context": {"device": {"advertisingId": str(uuid.UUID(int=n + 7)), "model": "iPhone12,3",
                               "manufacturer": "Apple"}, "os": {"name": "iOS", "version": "17.2"},
                    "locale": "de-DE", "timezone": "Europe/Berlin",
                    "network": {"carrier": "Telekom.de", "wifi": True},
                    "traits": {"email": "alice@example.com"}}}
        for n in range(events)]}).encode()


def bodies() -> list[tuple[str, RequestData]]:
    extinfo = json.dumps(["i2", "us.zoom.videomeetings", "5.0.2", "5.0.2", "13.4.1",
                          "iPhone12,3", "de_DE", "CEST", "Telekom.de", "375", "812", "3.00",
                          "6", "238", "97", "Europe/Berlin"])
    form = urlencode({"event": "MOBILE_APP_INSTALL", "extinfo": extinfo,
                      "advertiser_id": str(uuid.uuid4()).upper(), "anon_id": "XZ" + "1" * 30})
    sentry = "\n".join([json.dumps({"event_id": "a" * 32}), json.dumps({"type": "event"}),
                        json.dumps({"user": {"email": "alice@example.com", "ip_address": "1.2.3.4"},
                                    "contexts": {"device": {"model": "MacBookPro18,1"},
                                                 "os": {"name": "macOS", "version": "14.2"}},
                                    "exception": {"values": [{"stacktrace": {
                                        "frames": [{"function": f"f{n}", "lineno": n}
                                                   for n in range(200)]}}]}})])
    amplitude = json.dumps({"api_key": "k", "events": [{
        "device_id": str(uuid.UUID(int=n)), "user_id": "alice", "event_type": "join",
        "os_name": "Android", "carrier": "Vodafone", "idfa": str(uuid.UUID(int=n + 1)),
        "city": "Berlin", "location_lat": 52.52, "location_lng": 13.405} for n in range(100)]})
    upload = json.dumps({"items": [{"id": n, "text": "lorem ipsum " * 20} for n in range(3000)]})
    return [
        ("facebook app events (gzip form)", RequestData(
            "POST", "https://graph.facebook.com/v7.0/123/activities",
            (("content-type", "application/x-www-form-urlencoded"),
             ("content-encoding", "gzip")), gzip.compress(form.encode()))),
        ("segment batch, 200 events", RequestData(
            "POST", "https://api.segment.io/v1/batch", (("content-type", "application/json"),),
            segment_batch(200))),
        ("amplitude batch, 100 events", RequestData(
            "POST", "https://api2.amplitude.com/2/httpapi",
            (("content-type", "application/json"),), amplitude.encode())),
        ("sentry envelope", RequestData(
            "POST", "https://o1.ingest.sentry.io/api/1/envelope/",
            (("content-type", "application/x-sentry-envelope"),), sentry.encode())),
        ("ga4 collect", RequestData(
            "POST", "https://www.google-analytics.com/g/collect?v=2&tid=G-X&cid=1.2&ul=de-de"
            "&sr=1920x1080&en=page_view&dl=https%3A%2F%2Fzoom.us%2Fj%2F123", (), b"")),
        ("1 MB JSON upload", RequestData(
            "POST", "https://zoom.us/upload", (("content-type", "application/json"),),
            upload.encode())),
    ]


def best_rate(action: Callable[[], int], seconds: float) -> float:
    """Bytes per second of the fastest of repeated runs within the time budget."""
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        size = action()
        best = max(best, size / (time.perf_counter() - started))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per body and method")
    options = parser.parse_args()
    context = ScanContext.build([parse_identity(s) for s in IDENTITIES])
    limit = context.limits.max_body_bytes
    total_scan = total_base = 0.0
    print(f"{'body':<34} {'KB':>7} {'scan MB/s':>10} {'json MB/s':>10} {'ratio':>6}")
    failed = []
    for name, request in bodies():
        decoded = decode_body(request.body, dict(request.headers).get("content-encoding"),
                              limit).data
        size = len(decoded) + len(request.url or "")

        def scan(request: RequestData = request, size: int = size) -> int:
            scan_request("bench", "example.com", request, context)
            return size

        def baseline(decoded: bytes = decoded, size: int = size) -> int:
            for line in decoded.splitlines() or [b"{}"]:
                with contextlib.suppress(ValueError):
                    json.loads(line)
            return size

        scan_rate = best_rate(scan, options.seconds)
        base_rate = best_rate(baseline, options.seconds)
        total_scan += size / scan_rate
        total_base += size / base_rate
        print(f"{name:<34} {size / 1000:>7.1f} {scan_rate / 1e6:>10.1f} {base_rate / 1e6:>10.1f} "
              f"{base_rate / scan_rate:>6.1f}")
    mix_scan = sum(len(r.body) for _, r in bodies()) / total_scan / 1e6
    print(f"mix: {mix_scan:.1f} MB/s of bodies as sent; the scan is "
          f"{total_scan / total_base:.1f}x slower than json.loads alone")
    bomb = RequestData("POST", "https://example.com/bomb", (("content-encoding", "gzip"),),
                       gzip.compress(b"\0" * (64 * 1024 * 1024)))
    tracemalloc.start()
    started = time.perf_counter()
    outcome = scan_request("bench", "example.com", bomb, context)
    bomb_seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"64 MB gzip bomb: scanned {outcome.scanned_bytes / 1e6:.1f} MB in {bomb_seconds:.2f} s, "
          f"peak {peak / 1e6:.1f} MB, partial: {'; '.join(outcome.partial)}")
    if total_scan / total_base > 30:
        failed.append("scanning is more than 30x slower than the json.loads baseline")
    if mix_scan < 5:
        failed.append(f"scanning runs at {mix_scan:.1f} MB/s of raw bodies, under 5")
    if peak > 4 * limit:
        failed.append(f"the bomb used {peak / 1e6:.0f} MB, more than 4x the scan limit")
    for reason in failed:
        print(f"target missed: {reason}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
