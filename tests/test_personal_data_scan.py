"""Scanning a whole request: SDK meanings, detectors and the user's own values together,
each value of each kind counted once per part of the request; DNS names; the client's IP."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from urllib.parse import quote, urlencode

from auditor.personal_data.identities import Identity
from auditor.personal_data.limits import ScanLimits
from auditor.personal_data.request_fields import RequestData
from auditor.personal_data.scan import ScanContext, scan_names, scan_request
from auditor.personal_data.sdk_fields import load_sdks
from auditor.records import Finding

EMAIL = Identity("email", "Alice.Example@Example.com")
PHONE = Identity("phone", "+49 (151) 123-45678")
NAME = Identity("name", "Alice Example")
NORM_EMAIL = "alice.example@example.com"
IDFA = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
EXTINFO = ["i2", "us.zoom.videomeetings", "5.0.2", "5.0.2 (24112.0406)", "13.4.1",
           "iPhone12,3", "de_DE", "CEST", "Telekom.de", "375", "812", "3.00", "6", "238",
           "97", "Europe/Berlin"]


def context(*identities: Identity) -> ScanContext:
    return ScanContext.build(list(identities))


def post(url: str, body: bytes, content_type: str | None = None, encoding: str | None = None,
         headers: tuple[tuple[str, str], ...] = ()) -> RequestData:
    pairs = list(headers)
    if content_type:
        pairs.append(("Content-Type", content_type))
    if encoding:
        pairs.append(("Content-Encoding", encoding))
    return RequestData("POST", url, tuple(pairs), body)


def of_kind(findings: list[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


def facebook_request() -> RequestData:
    form = {"event": "MOBILE_APP_INSTALL", "advertiser_id": IDFA,
            "anon_id": "XZ7A6B8C1D-2E3F-4A5B-9C8D-7E6F5A4B3C2D",
            "extinfo": json.dumps(EXTINFO)}
    return post("https://graph.facebook.com/v7.0/123456789/activities",
                gzip.compress(urlencode(form).encode()), "application/x-www-form-urlencoded",
                "gzip")


# ---- dedupe ------------------------------------------------------------------------------


def test_value_found_by_the_sdk_and_in_its_enclosing_text_counts_once() -> None:
    outcome = scan_request("f1", "graph.facebook.com", facebook_request(), context())
    # "iPhone12,3" is both extinfo[5] (the SDK's meaning) and an Apple model identifier in
    # the raw extinfo text; "Europe/Berlin" is extinfo[15] and an IANA zone in that text.
    models = of_kind(outcome.findings, "device-model")
    assert [(f.path, f.value, f.sdk) for f in models] == [
        ("extinfo[5]", "iPhone12,3", "facebook-app-events")]
    assert models[0].encoding == "gzip>form>json-string"
    zones = of_kind(outcome.findings, "time-zone")
    assert sorted((f.path, f.value) for f in zones) == [("extinfo[15]", "Europe/Berlin"),
                                                        ("extinfo[7]", "CEST")]
    assert all(f.sdk == "facebook-app-events" for f in zones)
    keys = [(f.kind, f.location, f.value) for f in outcome.findings]
    assert len(keys) == len(set(keys))


def test_without_sdks_the_detectors_still_find_device_facts() -> None:
    outcome = scan_request("f1", "graph.facebook.com", facebook_request(),
                           ScanContext.build([], sdks=()))
    found = {(f.kind, f.value): f for f in outcome.findings}
    assert found[("device-model", "iPhone12,3")].path == "extinfo"  # the enclosing text
    assert found[("device-model", "iPhone12,3")].detail == "an Apple model identifier"
    assert found[("advertising-id", IDFA)].sdk is None
    assert found[("advertising-id", IDFA)].detail == "value under key 'advertiser_id'"
    assert found[("time-zone", "Europe/Berlin")].detail == "an IANA time zone name"


def test_same_value_in_two_parts_of_the_request_counts_in_each() -> None:
    req = RequestData("POST", f"https://x.example/t?idfa={IDFA}",
                      (("X-IDFA", IDFA), ("Content-Type", "application/json")),
                      json.dumps({"device": {"idfa": IDFA}, "again": {"idfa": IDFA}}).encode())
    outcome = scan_request("f1", "x.example", req, context())
    ids = of_kind(outcome.findings, "advertising-id")
    assert sorted(f.location for f in ids) == ["body", "header", "query"]
    assert [f.path for f in ids if f.location == "body"] == ["device.idfa"]


def test_only_the_first_matching_sdk_describes() -> None:
    sdks = load_sdks()
    twice = (sdks[0], *sdks)  # the same SDK listed twice: described once
    outcome = scan_request("f1", "graph.facebook.com", facebook_request(),
                           ScanContext.build([], sdks=twice))
    described = [f for f in outcome.findings if f.sdk]
    keys = [(f.kind, f.value) for f in described]
    assert len(keys) == len(set(keys)) and ("advertising-id", IDFA) in keys


# ---- the user's own values in several encodings ------------------------------------------


def test_identity_plain_in_a_query_case_insensitive() -> None:
    req = RequestData("GET", "https://api.example.com/v1/lookup?user=ALICE.EXAMPLE%40EXAMPLE.COM")
    [finding] = of_kind(scan_request("f1", "api.example.com", req,
                                     context(EMAIL)).findings, "user-email")
    assert (finding.location, finding.path, finding.encoding) == ("query", "user", "plain")
    assert finding.value == EMAIL.value
    assert finding.detail == "your email (plain)" and finding.sdk is None


def test_identity_base64_in_a_header() -> None:
    token = base64.b64encode(f"{NORM_EMAIL}:1712345678".encode()).decode()
    req = RequestData("GET", "https://x.example/", (("X-Auth-Hint", token),))
    [finding] = of_kind(scan_request("f1", "x.example", req, context(EMAIL)).findings,
                        "user-email")
    assert finding.location == "header" and finding.path == "x-auth-hint"
    assert finding.encoding.endswith("base64")


def test_identity_sha256_in_json() -> None:
    digest = hashlib.sha256(NORM_EMAIL.encode()).hexdigest()
    req = post("https://www.google-analytics.com/g/collect?v=2&tid=G-TEST&cid=1234.5678",
               json.dumps({"user_data": {"sha256_email_address": digest}}).encode(),
               "application/json")
    outcome = scan_request("f1", "www.google-analytics.com", req, context(EMAIL))
    [finding] = of_kind(outcome.findings, "user-email")
    assert (finding.path, finding.encoding) == ("user_data.sha256_email_address", "json>sha256")
    assert finding.detail == "your email (sha256)"


def test_identity_url_encoded_in_a_form() -> None:
    # a redirect URL in a form field: the email inside it is URL-encoded once more
    redirect = "https://zoom.us/signin?email=" + quote(NORM_EMAIL, safe="")
    body = urlencode({"next": redirect, "x": "1"}).encode()
    outcome = scan_request("f1", "x.example", post("https://x.example/login", body,
                                                   "application/x-www-form-urlencoded"),
                           context(EMAIL))
    [finding] = of_kind(outcome.findings, "user-email")
    assert finding.location == "body" and finding.path == "next"
    assert finding.encoding == "form>url"


def test_identity_hashes_of_phone_and_name() -> None:
    phone_hash = hashlib.sha256(b"4915112345678").hexdigest()
    last_name = hashlib.md5(b"example").hexdigest()
    body = json.dumps({"ud": {"ph": phone_hash, "ln": last_name.upper()}}).encode()
    outcome = scan_request("f1", "x.example", post("https://x.example/", body,
                                                   "application/json"), context(PHONE, NAME))
    found = {f.kind: f for f in outcome.findings if f.kind.startswith("user-")}
    assert found["user-phone"].encoding == "json>sha256" and found["user-phone"].path == "ud.ph"
    assert found["user-name"].encoding == "json>md5" and found["user-name"].path == "ud.ln"


def test_identity_in_several_encodings_of_one_part_counts_once() -> None:
    body = json.dumps({"a": NORM_EMAIL, "b": hashlib.sha1(NORM_EMAIL.encode()).hexdigest(),
                       "c": NORM_EMAIL.encode().hex()}).encode()
    outcome = scan_request("f1", "x.example", post("https://x.example/", body,
                                                   "application/json"), context(EMAIL))
    assert len(of_kind(outcome.findings, "user-email")) == 1


def test_identity_and_detector_both_report() -> None:
    body = json.dumps({"contact": NORM_EMAIL}).encode()
    outcome = scan_request("f1", "x.example", post("https://x.example/", body,
                                                   "application/json"), context(EMAIL))
    assert {f.kind for f in outcome.findings} == {"email", "user-email"}


def test_no_identities_no_user_findings() -> None:
    body = json.dumps({"contact": NORM_EMAIL}).encode()
    outcome = scan_request("f1", "x.example", post("https://x.example/", body,
                                                   "application/json"), context())
    assert [f.kind for f in outcome.findings] == ["email"]


# ---- DNS names ---------------------------------------------------------------------------


def test_identity_in_dns_labels() -> None:
    names = [
        f"{NORM_EMAIL.encode().hex()}.t.exfil.example.net",
        f"{base64.b64encode(NORM_EMAIL.encode()).decode().rstrip('=')}.b.exfil.example.net",
        f"{hashlib.sha1(NORM_EMAIL.encode()).hexdigest()}.h.exfil.example.net",
        "graph.facebook.com",
    ]
    findings = scan_names("f9", names, context(EMAIL, PHONE))
    assert len(findings) == 1  # one value, once per location
    [finding] = findings
    assert (finding.flow_id, finding.kind, finding.location) == ("f9", "user-email", "dns")
    assert finding.path == names[0]  # the name that carried it
    assert finding.encoding == "plain>hex"
    for name, encoding in zip(names[1:3], ("plain>base64", "plain>sha1"), strict=True):
        [one] = scan_names("f9", [name.upper()], context(EMAIL))
        assert one.encoding == encoding


def test_dns_names_without_identities() -> None:
    assert scan_names("f1", ["alice.example.com"], context()) == []
    assert scan_names("f1", ["www.example.com"], context(EMAIL)) == []


# ---- the client's IP address -------------------------------------------------------------


def test_client_ip_in_the_body() -> None:
    body = json.dumps({"net": {"origin": "81.2.69.160"}, "ip": "81.2.69.160"}).encode()
    outcome = scan_request("f1", "x.example", post("https://x.example/", body,
                                                   "application/json"), context(),
                           client_ip="81.2.69.160")
    [finding] = of_kind(outcome.findings, "ip-address")
    assert finding.value == "81.2.69.160"


def test_private_client_ip_under_an_ip_key() -> None:
    body = json.dumps({"localIp": "192.168.1.23", "ip": "192.168.1.23",
                       "gateway_ip": "192.168.1.1"}).encode()
    req = post("https://x.example/", body, "application/json")
    outcome = scan_request("f1", "x.example", req, context(), client_ip="192.168.1.23")
    assert [f.value for f in of_kind(outcome.findings, "ip-address")] == ["192.168.1.23"]
    without = scan_request("f1", "x.example", req, context())
    assert [f.path for f in of_kind(without.findings, "ip-address")] == ["ip"]


# ---- outcome -----------------------------------------------------------------------------


def test_outcome_reports_scanned_bytes_and_partial_scans() -> None:
    body = json.dumps({f"k{n}": f"v{n}" for n in range(100)}).encode()
    ctx = ScanContext.build([], limits=ScanLimits(max_fields=10))
    outcome = scan_request("f1", "x.example", post("https://x.example/", body,
                                                   "application/json"), ctx)
    assert outcome.scanned_bytes == len(body)
    assert outcome.partial == ["stopped after 10 fields"]


def test_neutral_request_has_no_findings() -> None:
    body = json.dumps({"request_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
                       "trace": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                       "series": [{"id": "16fd2706-8baf-433b-82eb-8c7fada847da", "v": 3}],
                       "session": "e4eaaaf2-d142-11e1-b3e4-080027620cdd"}).encode()
    outcome = scan_request("f1", "api.segment.io", post("https://api.segment.io/v1/metrics",
                                                        body, "application/json"),
                           context(EMAIL))
    assert outcome.findings == [] and outcome.partial == []


def test_malformed_url_is_scanned() -> None:
    req = RequestData("GET", f"http://[::1/x?advertising_id={IDFA}")
    outcome = scan_request("f1", None, req, context())
    assert [f.kind for f in outcome.findings] == ["advertising-id"]
