"""What left the device, through the real proxy: the Facebook SDK app-events request shaped
like the one the Zoom iOS app sent in 2020, a hashed email to an analytics host, and requests
that must not be reported as leaks."""

from __future__ import annotations

import gzip
import hashlib
import json
import signal
import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from click.testing import CliRunner

from auditor.cli.errors import EXIT_FAIL_ON
from auditor.cli.main import main

from .support.certs import make_server_cert
from .support.proxy_process import MitmdumpProcess
from .support.upstream import UpstreamServer

EMAIL = "Alice.Example@Example.com"
IDFA = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
# The 16 fields of the Facebook SDK's extinfo, as an iPhone on a German carrier sends them.
EXTINFO = ["i2", "us.zoom.videomeetings", "5.0.2", "5.0.2 (24112.0406)", "13.4.1",
           "iPhone12,3", "de_DE", "CEST", "Telekom.de", "375", "812", "3.00", "6", "238",
           "97", "Europe/Berlin"]
HOSTS = ["graph.facebook.com", "www.google-analytics.com", "zoom.us", "api.segment.io"]


def zoom_2020_app_events_body() -> bytes:
    form = {
        "event": "MOBILE_APP_INSTALL",
        "advertiser_id": IDFA,
        "advertiser_tracking_enabled": "1",
        "anon_id": "XZ7A6B8C1D-2E3F-4A5B-9C8D-7E6F5A4B3C2D",
        "application_tracking_enabled": "1",
        "extinfo": json.dumps(EXTINFO),
        "format": "json",
        "include_headers": "false",
        "sdk": "ios",
        "url_schemes": json.dumps(["fb123456789", "zoomus"]),
    }
    return gzip.compress(urlencode(form).encode())


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One proxied session with all the requests of this module, stopped cleanly."""
    workdir = tmp_path_factory.mktemp("pd")
    cert = make_server_cert(workdir, HOSTS)
    with UpstreamServer(cert) as upstream, UpstreamServer(None) as plain:
        proxy = MitmdumpProcess(workdir, workdir / "session", upstream.port, plain.port, [
            "--set", "vcaudit_app=zoom", "--set", f"vcaudit_identity=email={EMAIL}",
            "--set", "vcaudit_refresh=0"])
        with proxy:
            context = ssl.create_default_context(cafile=str(proxy.ca_pem))
            with httpx.Client(proxy=proxy.url, verify=context) as client:
                client.post("https://graph.facebook.com/v7.0/123456789/activities",
                            content=zoom_2020_app_events_body(),
                            headers={"content-type": "application/x-www-form-urlencoded",
                                     "content-encoding": "gzip",
                                     "user-agent": "FBiOSSDK.5.15.1"})
                hashed = hashlib.sha256(EMAIL.strip().lower().encode()).hexdigest()
                client.post("https://www.google-analytics.com/g/collect?v=2&tid=G-TEST&cid="
                            "1234.5678", json={"user_data": {"sha256_email_address": hashed}})
                # Neutral keys with random UUIDs: request and trace IDs are not personal data.
                client.post("https://api.segment.io/v1/metrics", json={
                    "request_id": str(uuid.uuid4()), "trace": str(uuid.uuid4()),
                    "series": [{"id": str(uuid.uuid4()), "value": 3}]})
                # Logging in to the vendor with your own email is the service, not a leak.
                client.post("https://zoom.us/signin", data={"email": EMAIL, "password": "x"})
                # A decompression bomb: scanned up to the limit, forwarded untouched.
                bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
                response = client.post("https://api.segment.io/v1/batch", content=bomb,
                                       headers={"content-encoding": "gzip",
                                                "content-type": "application/json"})
                assert response.status_code == 200
                assert json.loads(response.text)["received"] == len(bomb)
            assert proxy.stop(signal.SIGTERM) == 0
        yield workdir / "session"


def report_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "report.json").read_text())  # type: ignore[no-any-return]


def test_facebook_app_events_are_decoded(session: Path) -> None:
    report = report_of(session)
    findings = {(f["host"], f["kind"]): f for f in report["findings"]}
    for kind in ("advertising-id", "device-model", "time-zone", "carrier", "os-version",
                 "locale", "device-id"):
        finding = findings[("graph.facebook.com", kind)]
        assert finding["entity"] == "Meta" and finding["category"] == "ad-tech"
        assert finding["sdk"] == "facebook-app-events"
    model = findings[("graph.facebook.com", "device-model")]
    assert {"location": "body", "path": "extinfo[5]",
            "encoding": "gzip>form>json-string"} in model["places"]
    assert "extinfo[5]: device model" in model["detail"]
    idfa = findings[("graph.facebook.com", "advertising-id")]
    assert idfa["values"] == ["sha256:" + hashlib.sha256(IDFA.encode()).hexdigest()[:12]]
    assert IDFA not in (session / "report.json").read_text()  # redacted by default
    verdicts = report["personal_data"]["verdicts"]
    meta = next(v for v in verdicts if v.startswith("ad-tech: Meta (graph.facebook.com)"))
    for label in ("advertising ID", "device model", "time zone", "carrier"):
        assert label in meta
    markdown = (session / "report.md").read_text()
    assert "## What left the device" in markdown and "ad-tech: Meta" in markdown


def test_hashed_email_to_analytics_is_found(session: Path) -> None:
    report = report_of(session)
    hashed = [f for f in report["findings"] if f["kind"] == "user-email"
              and f["host"] == "www.google-analytics.com"]
    assert len(hashed) == 1
    assert hashed[0]["category"] == "analytics" and hashed[0]["entity"] == "Google"
    assert hashed[0]["places"][0]["encoding"].endswith("sha256")
    assert hashed[0]["places"][0]["path"] == "user_data.sha256_email_address"


def test_no_false_leaks(session: Path) -> None:
    report = report_of(session)
    segment_kinds = {f["kind"] for f in report["findings"] if f["host"] == "api.segment.io"}
    assert segment_kinds == set()  # random UUIDs under neutral keys, and the bomb's zeros
    zoom = [f for f in report["findings"] if f["host"] == "zoom.us"]
    assert all(f["category"] == "first-party" for f in zoom)
    assert not any("zoom" in v.lower() for v in report["personal_data"]["verdicts"])


def test_bomb_is_scanned_partially(session: Path) -> None:
    report = report_of(session)
    assert report["coverage"]["anomalies"]["by_kind"]["body-partially-scanned"] == 1
    assert any("partially" in note or "scanned" in note for note in report["coverage"]["notes"])


def test_fail_on_and_show_values(session: Path) -> None:
    runner = CliRunner()
    gated = runner.invoke(main, ["report", str(session), "--fail-on", "ad-tech-pii,identity"])
    assert gated.exit_code == EXIT_FAIL_ON
    assert "ad-tech-pii: Meta received advertising ID" in gated.stderr
    assert "identity: Google received your email" in gated.stderr
    passing = runner.invoke(main, ["report", str(session), "--fail-on", "unknown-pii"])
    assert passing.exit_code == 0, passing.stderr
    bad = runner.invoke(main, ["report", str(session), "--fail-on", "everything"])
    assert bad.exit_code == 2 and "unknown --fail-on condition" in bad.stderr
    shown = runner.invoke(main, ["report", str(session), "--show-values"])
    assert shown.exit_code == 0
    assert IDFA in (session / "report.json").read_text()
    runner.invoke(main, ["report", str(session)])
    assert IDFA not in (session / "report.json").read_text()
