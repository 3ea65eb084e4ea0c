"""SDK field meanings (auditor/data/sdk_fields.toml): the path pattern syntax, host and path
matching, and every built-in SDK exercised with a request shaped like the real SDK's."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from auditor.personal_data.request_fields import Field, RequestData, request_fields
from auditor.personal_data.scan import ScanContext, scan_request
from auditor.personal_data.sdk_fields import Sdk, SdkFieldsError, load_sdks, path_pattern
from auditor.records import Finding

IDFA = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
IDFV = "3F2504E0-4F89-41D3-9A0C-0305E82C3301"
EMAIL = "alice.example@example.com"
FB_BOUNDARY = "3i2ndDfv2rTHiSisAbouNdArYfORhtTPEefj3q2f"
# The 16 fields of the Facebook iOS SDK's extinfo (FBSDKAppEventsDeviceInfo), in order.
EXTINFO = ["i2", "us.zoom.videomeetings", "5.0.2", "5.0.2 (24112.0406)", "13.4.1",
           "iPhone12,3", "de_DE", "CEST", "Telekom.de", "375", "812", "3.00", "6", "238",
           "97", "Europe/Berlin"]
EXERCISED = {"facebook-app-events", "google-analytics-4", "microsoft-app-center",
             "microsoft-1ds", "sentry", "segment", "amplitude", "mixpanel"}
COVERED: set[str] = set()  # the SDKs the samples run so far matched


def sdk(sdk_id: str) -> Sdk:
    return next(s for s in load_sdks() if s.id == sdk_id)


def request(method: str, url: str, body: bytes = b"", content_type: str | None = None,
            encoding: str | None = None, headers: tuple[tuple[str, str], ...] = ()) -> RequestData:
    pairs = list(headers)
    if content_type:
        pairs.append(("Content-Type", content_type))
    if encoding:
        pairs.append(("Content-Encoding", encoding))
    return RequestData(method, url, tuple(pairs), body)


def scan(host: str, req: RequestData, sdk_id: str) -> dict[str, Finding]:
    """The SDK-described findings of one request, by field path; asserts the SDK matched."""
    outcome = scan_request("f1", host, req, ScanContext.build([]))
    described = [f for f in outcome.findings if f.sdk is not None]
    assert described, f"no SDK described {req.url}"
    assert {f.sdk for f in described} == {sdk_id}
    COVERED.add(sdk_id)
    by_path: dict[str, Finding] = {}
    for finding in described:
        by_path.setdefault(finding.path, finding)
    return by_path


def kinds(by_path: dict[str, Finding]) -> dict[str, tuple[str, str]]:
    return {path: (f.kind, f.value) for path, f in by_path.items()}


# ---- path patterns -----------------------------------------------------------------------


@pytest.mark.parametrize("pattern,path,matches", [
    ("advertiser_id", "advertiser_id", True),
    ("advertiser_id", "xadvertiser_id", False),
    ("extinfo[5]", "extinfo[5]", True),
    ("extinfo[5]", "extinfo[15]", False),
    ("logs[*].device.model", "logs[0].device.model", True),
    ("logs[*].device.model", "logs[12].device.model", True),
    ("logs[*].device.model", "logs.device.model", False),
    ("logs[*].device.model", "logs[x].device.model", False),
    ("up.*", "up.plan", True),
    ("up.*", "up.plan.tier", False),  # one key only
    ("up.*", "up.", False),
    ("up.*", "up[0]", False),
    ("**user.email", "user.email", True),  # an empty prefix
    ("**user.email", "line[2].user.email", True),
    ("**user.email", "a.b[3].c.user.email", True),
    ("**user.email", "line[2].superuser.email", False),  # a prefix ends where a key starts
    ("**user.email", "user.email.x", False),  # paths match whole
    ("**events[*].idfa", "events[0].idfa", True),
    ("**events[*].idfa", "e.events[1].idfa", True),
    ("**properties.$model", "data[0].properties.$model", True),
    ("**properties.$model", "data[0].properties.xmodel", False),  # `$` is literal
    ("**$set.*", "data[0].$set.$email", True),
    ("ext.loc.tz", "extXlocXtz", False),  # `.` is literal
    ("**[*].id", "batch[3].id", True),
])
def test_path_pattern(pattern: str, path: str, matches: bool) -> None:
    assert bool(path_pattern(pattern).fullmatch(path)) is matches


def test_path_pattern_compiles_to_a_regex() -> None:
    assert isinstance(path_pattern("a[*].b"), re.Pattern)
    assert path_pattern("a[*].b").pattern == r"a\[\d+\]\.b"


# ---- host and path matching --------------------------------------------------------------


@pytest.mark.parametrize("host,url_path,matches", [
    ("graph.facebook.com", "/v7.0/123456789/activities", True),
    ("GRAPH.Facebook.COM", "/v7.0/123456789/activities", True),
    ("graph.facebook.com.", "/v7.0/123456789/activities", True),  # a fully qualified name
    ("graph.facebook.com", "/123456789/activities", True),
    ("graph.facebook.com", "/v16.0/123456789/activities/", True),
    ("b-graph.facebook.com", "/v7.0/123456789/activities", False),
    ("graph.facebook.com.evil.example", "/v7.0/123456789/activities", False),
    ("graph.facebook.com", "/v7.0/me/friends", False),
    ("graph.facebook.com", "/v7.0/123456789/activities/extra", False),
    (None, "/v7.0/123456789/activities", False),
    ("", "/v7.0/123456789/activities", False),
])
def test_facebook_host_and_path(host: str | None, url_path: str, matches: bool) -> None:
    assert sdk("facebook-app-events").matches(host, url_path) is matches


@pytest.mark.parametrize("host,matches", [
    ("google-analytics.com", True), ("www.google-analytics.com", True),
    ("region1.google-analytics.com", True), ("analytics.google.com", True),
    ("notgoogle-analytics.com", False), ("google-analytics.com.example", False),
])
def test_subdomains_match_other_names_do_not(host: str, matches: bool) -> None:
    assert sdk("google-analytics-4").matches(host, "/g/collect") is matches


def test_only_body_and_query_fields_are_described() -> None:
    fields = [Field("header", "advertiser_id", "advertiser_id", IDFA, "plain"),
              Field("cookie", "advertiser_id", "advertiser_id", IDFA, "plain"),
              Field("query", "advertiser_id", "advertiser_id", IDFA, "plain"),
              Field("body", "advertiser_id", "advertiser_id", "  ", "form")]
    described = sdk("facebook-app-events").describe(fields)
    assert [(d.field.location, d.kind) for d in described] == [("query", "advertising-id")]
    assert described[0].sdk == "facebook-app-events"
    assert described[0].why.endswith("advertiser_id: Apple's IDFA or Google's advertising ID")


def test_every_builtin_sdk_is_well_formed() -> None:
    sdks = load_sdks()
    assert len({s.id for s in sdks}) == len(sdks)
    for s in sdks:
        assert s.hosts and s.fields and s.source.startswith("https://")
        assert all(h == h.lower() and not h.startswith(".") for h in s.hosts)
        assert s.path.pattern.startswith("^")


# ---- Facebook SDK app events -------------------------------------------------------------


def facebook_params(advertiser_id: str = IDFA) -> dict[str, str]:
    return {
        "event": "MOBILE_APP_INSTALL", "advertiser_id": advertiser_id,
        "advertiser_tracking_enabled": "1", "application_tracking_enabled": "1",
        "anon_id": "XZ7A6B8C1D-2E3F-4A5B-9C8D-7E6F5A4B3C2D", "app_user_id": "u-8842",
        "extinfo": json.dumps(EXTINFO), "format": "json", "include_headers": "false",
        "sdk": "ios", "url_schemes": json.dumps(["fb123456789", "zoomus"]),
        "ud": json.dumps({"em": hashlib.sha256(EMAIL.encode()).hexdigest(),
                          "ph": hashlib.sha256(b"4915112345678").hexdigest()}),
    }


EXPECTED_EXTINFO = {
    "extinfo[1]": ("app-id", "us.zoom.videomeetings"), "extinfo[4]": ("os-version", "13.4.1"),
    "extinfo[5]": ("device-model", "iPhone12,3"), "extinfo[6]": ("locale", "de_DE"),
    "extinfo[7]": ("time-zone", "CEST"), "extinfo[8]": ("carrier", "Telekom.de"),
    "extinfo[9]": ("screen-size", "375"), "extinfo[10]": ("screen-size", "812"),
    "extinfo[12]": ("device-hardware", "6"), "extinfo[13]": ("device-hardware", "238"),
    "extinfo[14]": ("device-hardware", "97"), "extinfo[15]": ("time-zone", "Europe/Berlin"),
}


def check_facebook(found: dict[str, Finding]) -> None:
    described = kinds(found)
    for path, expected in EXPECTED_EXTINFO.items():
        assert described[path] == expected, path
    assert described["advertiser_id"] == ("advertising-id", IDFA)
    assert described["anon_id"][0] == "device-id"
    assert described["app_user_id"] == ("user-id", "u-8842")
    assert described["advertiser_tracking_enabled"] == ("ad-tracking-status", "1")
    assert described["ud.em"][0] == "hashed-user-data"
    assert described["ud.ph"][0] == "hashed-user-data"
    for unnamed in ("extinfo[0]", "extinfo[2]", "extinfo[3]", "extinfo[11]", "event"):
        assert unnamed not in described
    assert found["extinfo[5]"].detail.endswith("extinfo[5]: device model")


def test_facebook_app_events_multipart_gzip() -> None:
    # The Facebook SDKs post Graph requests as multipart/form-data, gzipped.
    parts = b"".join(
        f'--{FB_BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in facebook_params().items()) + f"--{FB_BOUNDARY}--\r\n".encode()
    req = request("POST", "https://graph.facebook.com/v7.0/123456789/activities",
                  gzip.compress(parts), f"multipart/form-data; boundary={FB_BOUNDARY}", "gzip")
    found = scan("graph.facebook.com", req, "facebook-app-events")
    check_facebook(found)
    assert found["extinfo[5]"].encoding == "gzip>multipart>json-string"


def test_facebook_app_events_form() -> None:
    req = request("POST", "https://graph.facebook.com/v7.0/123456789/activities",
                  urlencode(facebook_params()).encode(), "application/x-www-form-urlencoded")
    found = scan("graph.facebook.com", req, "facebook-app-events")
    check_facebook(found)
    assert found["extinfo[5]"].encoding == "form>json-string"


def test_facebook_limited_ad_tracking_sends_no_advertising_id() -> None:
    params = facebook_params("00000000-0000-0000-0000-000000000000")
    params["advertiser_tracking_enabled"] = "0"
    req = request("POST", "https://graph.facebook.com/v7.0/123456789/activities",
                  urlencode(params).encode(), "application/x-www-form-urlencoded")
    outcome = scan_request("f1", "graph.facebook.com", req, ScanContext.build([]))
    assert not [f for f in outcome.findings if f.kind == "advertising-id"]
    status = [f for f in outcome.findings if f.kind == "ad-tracking-status"]
    assert [f.value for f in status] == ["0"]


# ---- Google Analytics 4 ------------------------------------------------------------------


def test_google_analytics_4_collect_query() -> None:
    query = ("v=2&tid=G-ABCDEF1234&gtm=45je44h0v9&_p=1712345678901&gcd=13l3l3l3l1"
             "&cid=1234567890.1712345678&ul=de-de&sr=1920x1080&uaa=arm&uab=64"
             "&uam=&uap=macOS&uapv=14.4.1&uaw=0&are=1&frm=0&pscdl=noapi&_s=1"
             "&uid=u-8842&up.plan=pro&upn.seats=25&sid=1712345678&sct=3&seg=1"
             "&dl=https%3A%2F%2Fapp.zoom.us%2Fwc%2Fjoin&dt=Join%20Meeting&en=page_view&_ee=1")
    req = request("POST", f"https://region1.google-analytics.com/g/collect?{query}")
    found = kinds(scan("region1.google-analytics.com", req, "google-analytics-4"))
    assert found == {
        "cid": ("device-id", "1234567890.1712345678"), "uid": ("user-id", "u-8842"),
        "ul": ("locale", "de-de"), "sr": ("screen-size", "1920x1080"),
        "up.plan": ("user-property", "pro"), "upn.seats": ("user-property", "25"),
    }


def test_google_analytics_other_paths_are_not_ga4() -> None:
    assert not sdk("google-analytics-4").matches("www.google-analytics.com", "/collect")
    assert not sdk("google-analytics-4").matches("www.google-analytics.com", "/g/collect/x")


# ---- Microsoft App Center ----------------------------------------------------------------


def test_app_center_logs() -> None:
    device = {"sdkName": "appcenter.ios", "sdkVersion": "4.4.1", "model": "iPhone12,3",
              "oemName": "Apple", "osName": "iOS", "osVersion": "13.4.1", "osBuild": "17E262",
              "locale": "de_DE", "timeZoneOffset": 120, "screenSize": "1125x2436",
              "appVersion": "5.0.2", "carrierName": "Telekom.de", "carrierCountry": "de",
              "appBuild": "24112.0406", "appNamespace": "us.zoom.videomeetings"}
    body = {"logs": [
        {"type": "startService", "timestamp": "2020-04-01T12:00:00.000Z",
         "services": ["Analytics", "Crashes"], "device": device},
        {"type": "event", "id": "8B1C5A7E-0F0A-4E1B-8C3E-2D2A4E8F9B10", "name": "JoinMeeting",
         "timestamp": "2020-04-01T12:00:01.000Z", "sid": "CE1C9C4B-5E7A-4D11-9C55-6A1E0F3B7D22",
         "userId": "u-8842", "device": device,
         "installId": "4C1E8B0E-3E5A-4C38-9C7B-2B1F3F2A8D11"}]}
    req = request("POST", "https://in.appcenter.ms/logs?api-version=1.0.0",
                  json.dumps(body).encode(), "application/json", headers=(
                      ("App-Secret", "0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"),
                      ("Install-ID", "4C1E8B0E-3E5A-4C38-9C7B-2B1F3F2A8D11")))
    found = kinds(scan("in.appcenter.ms", req, "microsoft-app-center"))
    assert found["logs[0].device.model"] == ("device-model", "iPhone12,3")
    assert found["logs[0].device.osName"] == ("os-version", "iOS")
    assert found["logs[0].device.osVersion"] == ("os-version", "13.4.1")
    assert found["logs[0].device.locale"] == ("locale", "de_DE")
    assert found["logs[0].device.timeZoneOffset"] == ("time-zone", "120")
    assert found["logs[0].device.carrierName"] == ("carrier", "Telekom.de")
    assert found["logs[0].device.carrierCountry"] == ("country", "de")
    assert found["logs[1].userId"] == ("user-id", "u-8842")
    # the install ID in the header is found by its key, and counted once with the body's
    outcome = scan_request("f1", "in.appcenter.ms", req, ScanContext.build([]))
    install = [f for f in outcome.findings if f.value == "4C1E8B0E-3E5A-4C38-9C7B-2B1F3F2A8D11"]
    assert {(f.kind, f.location) for f in install} == {("device-id", "header"),
                                                       ("device-id", "body")}


# ---- Microsoft 1DS / OneCollector ----------------------------------------------------------


def onecollector_event(name: str, n: int) -> dict[str, object]:
    return {"name": name, "time": f"2024-04-01T12:00:0{n}.000Z", "ver": "4.0",
            "iKey": "o:0a1b2c3d4e5f47a8b9c0d1e2f3a4b5c6",
            "ext": {"app": {"id": "Teams", "ver": "24060.2623.2790.1396"},
                    "device": {"localId": "s:7F3E5B6A-2C1D-4E8F-9A0B-1C2D3E4F5A6B",
                               "deviceClass": "Windows.Desktop"},
                    "user": {"localId": "c:6f9619ff-8b86-d011-b42d-00c04fc964ff"},
                    "os": {"name": "Windows", "ver": "10.0.22631"},
                    "loc": {"tz": "+02:00"},
                    "protocol": {"devMake": "Dell Inc.", "devModel": "XPS 15 9520"}},
            "data": {"callId": "b5e1a3c2-...", "durationMs": 1832000}}


def test_onecollector_ndjson_batch() -> None:
    body = "\n".join(json.dumps(onecollector_event(name, n)) for n, name in
                     enumerate(["Microsoft.Teams.Call.Start", "Microsoft.Teams.Call.End"]))
    req = request("POST", "https://teams.events.data.microsoft.com/OneCollector/1.0/",
                  gzip.compress(body.encode()), "application/x-json-stream", "gzip",
                  headers=(("apikey", "0a1b2c3d4e5f47a8b9c0d1e2f3a4b5c6-00000000-0000"),
                           ("client-id", "NO_AUTH"), ("sdk-version", "1DS-Web-JS-3.2.13")))
    found = kinds(scan("teams.events.data.microsoft.com", req, "microsoft-1ds"))
    assert found["line[0].ext.device.localId"] == (
        "device-id", "s:7F3E5B6A-2C1D-4E8F-9A0B-1C2D3E4F5A6B")
    assert found["line[0].ext.user.localId"][0] == "user-id"
    assert found["line[0].ext.os.name"] == ("os-version", "Windows")
    assert found["line[0].ext.os.ver"] == ("os-version", "10.0.22631")
    assert found["line[0].ext.loc.tz"] == ("time-zone", "+02:00")
    assert found["line[0].ext.protocol.devModel"] == ("device-model", "XPS 15 9520")
    # the second event repeats the same values: each value of each kind counts once
    assert not any(path.startswith("line[1]") for path in found)


def test_onecollector_single_event_and_aria_collector() -> None:
    body = json.dumps(onecollector_event("Microsoft.Office.Session", 1)).encode()
    req = request("POST", "https://browser.pipe.aria.microsoft.com/Collector/3.0/", body,
                  "application/x-json-stream")
    found = kinds(scan("browser.pipe.aria.microsoft.com", req, "microsoft-1ds"))
    assert found["ext.loc.tz"] == ("time-zone", "+02:00")


# ---- Sentry ------------------------------------------------------------------------------


def sentry_event() -> dict[str, object]:
    return {
        "event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "platform": "cocoa",
        "release": "us.zoom.videomeetings@5.0.2+24112", "environment": "production",
        "user": {"id": "u-8842", "email": EMAIL, "ip_address": "81.2.69.160",
                 "username": "Alice Example"},
        "contexts": {"device": {"family": "iOS", "model": "iPhone12,3", "model_id": "D431AP",
                                "arch": "arm64e", "timezone": "Europe/Berlin"},
                     "os": {"name": "iOS", "version": "13.4.1", "build": "17E262"},
                     "trace": {"trace_id": "771a43a4192642f0b136d5159a501700",
                               "span_id": "a3b1c2d4e5f60718"}},
        "exception": {"values": [{"type": "NSInvalidArgumentException",
                                  "value": "-[ZMConfSession join:]: unrecognized selector"}]},
    }


EXPECTED_SENTRY = {
    "user.email": ("email", EMAIL), "user.ip_address": ("ip-address", "81.2.69.160"),
    "user.id": ("user-id", "u-8842"), "user.username": ("participant-name", "Alice Example"),
    "contexts.device.model": ("device-model", "iPhone12,3"),
    "contexts.device.timezone": ("time-zone", "Europe/Berlin"),
    "contexts.os.name": ("os-version", "iOS"), "contexts.os.version": ("os-version", "13.4.1"),
}


def test_sentry_envelope() -> None:
    event = json.dumps(sentry_event())
    header = {"event_id": "9ec79c33ec9942ab8353589fcb2e04dc",
              "sent_at": "2020-04-01T12:00:00.000Z",
              "dsn": "https://0123456789abcdef0123456789abcdef@o447951.ingest.sentry.io/5428557",
              "sdk": {"name": "sentry.cocoa", "version": "8.21.0"},
              "trace": {"trace_id": "771a43a4192642f0b136d5159a501700",
                        "public_key": "0123456789abcdef0123456789abcdef"}}
    item = {"type": "event", "length": len(event)}
    body = "\n".join([json.dumps(header), json.dumps(item), event]).encode()
    req = request("POST", "https://o447951.ingest.sentry.io/api/5428557/envelope/", body,
                  "application/x-sentry-envelope")
    found = kinds(scan("o447951.ingest.sentry.io", req, "sentry"))
    assert found == {f"line[2].{path}": v for path, v in EXPECTED_SENTRY.items()}
    # the DSN's public key is the user part of a URL, not an email address
    outcome = scan_request("f1", "o447951.ingest.sentry.io", req, ScanContext.build([]))
    assert [f.value for f in outcome.findings if f.kind == "email"] == [EMAIL]


def test_sentry_store_endpoint() -> None:
    req = request("POST", "https://o447951.ingest.us.sentry.io/api/5428557/store/",
                  json.dumps(sentry_event()).encode(), "application/json",
                  headers=(("X-Sentry-Auth", "Sentry sentry_version=7, sentry_key=0123abcd, "
                                             "sentry_client=sentry.javascript.browser/7.0"),))
    found = kinds(scan("o447951.ingest.us.sentry.io", req, "sentry"))
    assert found == EXPECTED_SENTRY


# ---- Segment -----------------------------------------------------------------------------


def segment_batch() -> dict[str, object]:
    context = {
        "app": {"name": "Zoom", "version": "5.0.2", "build": "24112.0406",
                "namespace": "us.zoom.videomeetings"},
        "device": {"id": IDFV, "advertisingId": IDFA, "adTrackingEnabled": True,
                   "manufacturer": "Apple", "model": "iPhone12,3", "type": "ios"},
        "os": {"name": "iOS", "version": "13.4.1"},
        "network": {"carrier": "Telekom.de", "wifi": True, "cellular": False},
        "screen": {"width": 375, "height": 812}, "locale": "de-DE",
        "timezone": "Europe/Berlin", "location": {"city": "Berlin", "country": "Germany"},
        "library": {"name": "analytics-swift", "version": "1.5.11"},
        "traits": {"email": EMAIL, "name": "Alice Example"},
    }
    return {"batch": [
        {"type": "identify", "userId": "u-8842",
         "anonymousId": "B8A3C2D1-5E4F-4A3B-9C8D-7E6F5A4B3C2D",
         "messageId": "2f8e6c1a-0d4b-4d7e-9f3a-1b2c3d4e5f60", "context": context,
         "traits": {"email": EMAIL, "plan": "pro"}, "timestamp": "2020-04-01T12:00:00.000Z"},
        {"type": "track", "event": "Meeting Joined", "userId": "u-8842",
         "anonymousId": "B8A3C2D1-5E4F-4A3B-9C8D-7E6F5A4B3C2D",
         "messageId": "8d7e6f5a-4b3c-2d1e-0f9a-8b7c6d5e4f30", "context": context,
         "properties": {"meetingType": "scheduled", "participants": 4}}],
        "sentAt": "2020-04-01T12:00:05.000Z", "writeKey": "abcDEF123ghiJKL456"}


@pytest.mark.parametrize("url", ["https://api.segment.io/v1/b",  # analytics-swift, -kotlin
                                 "https://api.segment.io/v1/batch"])
def test_segment_batch(url: str) -> None:
    req = request("POST", url, gzip.compress(json.dumps(segment_batch()).encode()),
                  "application/json; charset=utf-8", "gzip")
    found = kinds(scan("api.segment.io", req, "segment"))
    assert found["batch[0].userId"] == ("user-id", "u-8842")
    assert found["batch[0].anonymousId"][0] == "device-id"
    assert found["batch[0].context.device.advertisingId"] == ("advertising-id", IDFA)
    assert found["batch[0].context.device.id"] == ("device-id", IDFV)
    assert found["batch[0].context.device.model"] == ("device-model", "iPhone12,3")
    assert found["batch[0].context.os.name"] == ("os-version", "iOS")
    assert found["batch[0].context.os.version"] == ("os-version", "13.4.1")
    assert found["batch[0].context.timezone"] == ("time-zone", "Europe/Berlin")
    assert found["batch[0].context.network.carrier"] == ("carrier", "Telekom.de")
    assert found["batch[0].context.location.city"] == ("city", "Berlin")
    assert found["batch[0].context.traits.email"] == ("user-property", EMAIL)
    assert found["batch[0].traits.plan"] == ("user-property", "pro")


def test_segment_other_endpoints() -> None:
    segment = sdk("segment")
    assert segment.matches("api.segment.io", "/v1/track")
    assert segment.matches("api.segment.com", "/v1/identify/")
    assert not segment.matches("api.segment.io", "/v1/projects")
    assert not segment.matches("cdn-settings.segment.com", "/v1/projects/abc/settings")


# ---- Amplitude ---------------------------------------------------------------------------


def amplitude_event() -> dict[str, object]:
    return {"user_id": "u-8842", "device_id": "C3B4A5D6-E7F8-4A9B-8C0D-1E2F3A4B5C6D",
            "event_type": "join_meeting", "time": 1585742400000, "session_id": 1585742300000,
            "platform": "iOS", "os_name": "ios", "os_version": "13.4.1",
            "device_brand": "Apple", "device_manufacturer": "Apple",
            "device_model": "iPhone12,3", "carrier": "Telekom.de", "country": "Germany",
            "region": "Berlin", "city": "Berlin", "language": "German", "idfa": IDFA,
            "idfv": IDFV, "ip": "$remote", "insert_id": "5f0adeff-6668-4427-8d02-57d803a2b841",
            "event_properties": {"meeting_type": "scheduled"}}


def test_amplitude_http_v2() -> None:
    body = {"api_key": "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "events": [amplitude_event()],
            "options": {"min_id_length": 5}}
    req = request("POST", "https://api2.amplitude.com/2/httpapi", json.dumps(body).encode(),
                  "application/json")
    found = kinds(scan("api2.amplitude.com", req, "amplitude"))
    assert found == {
        "events[0].device_id": ("device-id", "C3B4A5D6-E7F8-4A9B-8C0D-1E2F3A4B5C6D"),
        "events[0].user_id": ("user-id", "u-8842"), "events[0].idfa": ("advertising-id", IDFA),
        "events[0].os_name": ("os-version", "ios"), "events[0].country": ("country", "Germany"),
        "events[0].region": ("city", "Berlin"),
    }


def test_amplitude_legacy_mobile_form() -> None:
    # Amplitude-iOS: v=2&client=<key>&e=<URL-encoded JSON events>&upload_time=&checksum=
    event = amplitude_event()
    for key in ("idfa", "idfv"):
        del event[key]
    event["api_properties"] = {"ios_idfa": IDFA, "ios_idfv": IDFV}
    events = json.dumps([event])
    body = (f"v=2&client=0a1b2c3d4e5f60718293a4b5c6d7e8f9&e={quote(events, safe='')}"
            f"&upload_time=1585742400123&checksum=8c2f3e1a9b7d6c5e4f3a2b1c0d9e8f7a").encode()
    req = request("POST", "https://api2.amplitude.com/", body,
                  "application/x-www-form-urlencoded")
    found = kinds(scan("api2.amplitude.com", req, "amplitude"))
    assert found["e[0].device_id"] == ("device-id", "C3B4A5D6-E7F8-4A9B-8C0D-1E2F3A4B5C6D")
    assert found["e[0].user_id"] == ("user-id", "u-8842")
    assert found["e[0].api_properties.ios_idfa"] == ("advertising-id", IDFA)
    assert found["e[0].api_properties.ios_idfv"] == ("device-id", IDFV)


# ---- Mixpanel ----------------------------------------------------------------------------


MIXPANEL_EVENTS = [{"event": "Join Meeting", "properties": {
    "token": "85053bf24bba75239b16a601d9387e17", "time": 1585742400,
    "distinct_id": "8E1C2B3A-77D1-4B9E-9F21-3C4D5E6F7A8B",
    "$device_id": "8E1C2B3A-77D1-4B9E-9F21-3C4D5E6F7A8B", "mp_lib": "iphone",
    "$os": "iOS", "$os_version": "13.4.1", "$model": "iPhone12,3", "$manufacturer": "Apple",
    "$carrier": "Telekom.de", "$ios_ifa": IDFA, "$city": "Berlin", "$screen_width": 375}}]


def test_mixpanel_track_form_with_base64_data() -> None:
    # mixpanel-iphone: "ip=1&data=" + URL-encoded base64 of the JSON batch
    data = base64.b64encode(json.dumps(MIXPANEL_EVENTS).encode()).decode()
    req = request("POST", "https://api.mixpanel.com/track/?ip=1",
                  f"ip=1&data={quote(data, safe='')}".encode(),
                  "application/x-www-form-urlencoded")
    found = scan("api.mixpanel.com", req, "mixpanel")
    described = kinds(found)
    prefix = "data[0].properties."
    assert described[prefix + "distinct_id"][0] == "device-id"
    assert described[prefix + "$os"] == ("os-version", "iOS")
    assert described[prefix + "$model"] == ("device-model", "iPhone12,3")
    assert described[prefix + "$carrier"] == ("carrier", "Telekom.de")
    assert described[prefix + "$city"] == ("city", "Berlin")
    assert described[prefix + "$ios_ifa"] == ("advertising-id", IDFA)
    assert found[prefix + "$model"].encoding == "form>base64>json-string"


def test_mixpanel_engage_in_the_query() -> None:
    updates = [{"$token": "85053bf24bba75239b16a601d9387e17", "$distinct_id": "u-8842",
                "$set": {"$email": EMAIL, "$name": "Alice Example", "plan": "pro"}}]
    data = base64.b64encode(json.dumps(updates).encode()).decode()
    req = request("GET", f"https://api-js.mixpanel.com/engage/?data={quote(data, safe='')}"
                         "&ip=1&_=1585742400000")
    found = kinds(scan("api-js.mixpanel.com", req, "mixpanel"))
    assert found["data[0].$set.$email"] == ("user-property", EMAIL)
    assert found["data[0].$set.plan"] == ("user-property", "pro")


# ---- coverage of the data file -----------------------------------------------------------


def test_every_builtin_sdk_has_a_realistic_sample() -> None:
    # An SDK added to sdk_fields.toml needs a sample request above, and its id here.
    assert {s.id for s in load_sdks()} == EXERCISED
    assert COVERED <= EXERCISED  # what the samples run so far really matched


# ---- extra SDK files ---------------------------------------------------------------------

EXTRA = """
[[sdk]]
id = "acme-telemetry"
name = "ACME telemetry"
hosts = ["telemetry.acme.example"]
path = '^/v2/events$'
source = "https://acme.example/docs/telemetry"

  [[sdk.field]]
  path = "**device.serial"
  kind = "device-id"
  meaning = "device.serial: the hardware serial number"
"""


def test_an_extra_sdk_file_is_loaded_after_the_builtin_ones(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(EXTRA, encoding="utf-8")
    sdks = load_sdks(extra=path)
    assert [s.id for s in sdks[:-1]] == [s.id for s in load_sdks()]
    acme = sdks[-1]
    assert acme.id == "acme-telemetry" and acme.matches("eu.telemetry.acme.example", "/v2/events")
    fields = request_fields(request("POST", "https://telemetry.acme.example/v2/events",
                                    b'{"events": [{"device": {"serial": "C02XK1ABJG5H"}}]}',
                                    "application/json"))
    [detection] = acme.describe(fields.items)
    assert (detection.kind, detection.value, detection.sdk) == ("device-id", "C02XK1ABJG5H",
                                                                "acme-telemetry")
    assert detection.why == "ACME telemetry: device.serial: the hardware serial number"
    context = ScanContext.build([], sdks=sdks)
    outcome = scan_request("f1", "telemetry.acme.example", request(
        "POST", "https://telemetry.acme.example/v2/events",
        b'{"events": [{"device": {"serial": "C02XK1ABJG5H"}}]}', "application/json"), context)
    assert [f.sdk for f in outcome.findings] == ["acme-telemetry"]


@pytest.mark.parametrize("text,message", [
    ("[[sdk]\nid = 'x'\n", "not valid TOML"),
    (EXTRA.replace('hosts = ["telemetry.acme.example"]\n', ""), "'acme-telemetry'"),
    (EXTRA.replace("path = '^/v2/events$'", "path = '^/v2/(events$'"), "'acme-telemetry'"),
    (EXTRA.replace('  kind = "device-id"\n', ""), "'acme-telemetry'"),
    (EXTRA.replace('id = "acme-telemetry"\n', ""), "'?'"),
])
def test_a_malformed_sdk_file_is_refused_naming_it(tmp_path: Path, text: str,
                                                   message: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SdkFieldsError) as error:
        load_sdks(extra=path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_a_missing_sdk_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SdkFieldsError, match=rf"^{tmp_path / 'none.toml'}: cannot be read"):
        load_sdks(extra=tmp_path / "none.toml")
