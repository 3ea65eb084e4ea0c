"""Personal data recognised without being told: by the key a value travels under (checked for
the right shape) and by the shape of the value; placeholders and neutral IDs are not data."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from auditor.personal_data.detectors import (
    KEY_TO_KIND,
    KEYS,
    Detection,
    detect,
    is_placeholder_id,
    luhn_valid,
    normalise_key,
)
from auditor.personal_data.request_fields import Field

IDFA = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
SHA256_EMAIL = hashlib.sha256(b"alice.example@example.com").hexdigest()


def field(key: str | None, value: str, path: str | None = None,
          location: str = "body") -> Field:
    return Field(location, path if path is not None else (key or ""), key, value, "json")


def kinds(fields: list[Field], client_ips: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    return [(d.kind, d.value) for d in detect(fields, client_ips)]


# One positive and one negative example per kind, under a key of that kind.
CASES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "advertising-id": (("advertiser_id", IDFA), ("advertiser_id", "not-an-idfa")),
    "device-id": (("anon_id", "XZ7A6B8C1D-2E3F-4A5B-9C8D-7E6F5A4B3C2D"), ("deviceId", "abc12")),
    "imei": (("imei", "49-015420-323751-8"), ("imei", "490154203237519")),
    "phone": (("phoneNumber", "+49 151 12345678"), ("phone", "112")),
    "hashed-email": (("em", SHA256_EMAIL), ("em", "not-a-hash")),
    "device-model": (("model", "Pixel 7 Pro"), ("deviceModel", '{"name": "Pixel"}')),
    "os-version": (("osVersion", "13.4.1"), ("os_version", "null")),
    "time-zone": (("timezone", "+02:00"), ("tz", "undefined")),
    "locale": (("locale", "de_DE"), ("locale", "unknown")),
    "carrier": (("carrierName", "Telekom.de"), ("carrier", "n/a")),
    "city": (("city", "Berlin"), ("city", "none")),
    "ip-address": (("ip", "81.2.69.160"), ("ip", "81.2.69")),
    "meeting-id": (("meetingNumber", "85712345678"), ("meeting_id", "0")),
    "meeting-topic": (("topic", "Quarterly review with ACME"), ("topic", "x" * 201)),
    "participant-name": (("displayName", "Alice Example"), ("display_name", "[]")),
}


def test_every_kind_has_cases() -> None:
    assert set(CASES) == set(KEYS)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_positive_example(kind: str) -> None:
    key, value = CASES[kind][0]
    assert normalise_key(key) in KEYS[kind]
    found = [d for d in detect([field(key, value)]) if d.kind == kind]
    assert len(found) == 1
    assert found[0].why == f"value under key '{key}'" and found[0].sdk is None


@pytest.mark.parametrize("kind", sorted(CASES))
def test_negative_example(kind: str) -> None:
    key, value = CASES[kind][1]
    assert normalise_key(key) in KEYS[kind]
    assert [d for d in detect([field(key, value)]) if d.kind == kind] == []


@pytest.mark.parametrize("key", ["advertisingId", "advertising_id", "$advertising_id",
                                 "Advertising-ID", "IDFA", "gaid", "adid"])
def test_key_spellings_are_one_key(key: str) -> None:
    assert kinds([field(key, IDFA)]) == [("advertising-id", IDFA)]


def test_custom_header_prefix_does_not_hide_the_key() -> None:
    header = Field("header", "x-device-id", "x-device-id", "4C1E8B0E-3E5A-4C38-9C7B", "plain")
    assert [d.kind for d in detect([header])] == ["device-id"]
    assert detect([Field("header", "x-request-id", "x-request-id", IDFA, "plain")]) == []
    # only in headers: a body key "x-idfa" is not "idfa"
    assert detect([field("x-idfa", IDFA)]) == []


def test_normalise_key() -> None:
    assert normalise_key("$Advertising_ID") == "advertisingid"
    assert normalise_key("ext.device.localId") == "extdevicelocalid"
    assert normalise_key(None) == "" and normalise_key("") == ""
    assert all(key == normalise_key(key) for key in KEY_TO_KIND)


# ---- shapes and placeholders -------------------------------------------------------------


@pytest.mark.parametrize("value", ["00000000-0000-0000-0000-000000000000",
                                   "00000000000000000000000000000000",
                                   " 00000000-0000-0000-0000-000000000000 "])
def test_all_zero_advertising_id_is_limited_ad_tracking(value: str) -> None:
    assert kinds([field("idfa", value)]) == []
    assert kinds([field("advertiser_id", value)]) == []
    assert kinds([field("deviceId", value)]) == []


def test_advertising_id_without_dashes_and_lower_case() -> None:
    gaid = "38400000-8cf0-11bd-b23e-10b96e40000d".replace("-", "")
    assert kinds([field("gaid", gaid)]) == [("advertising-id", gaid)]


def test_is_placeholder_id() -> None:
    assert is_placeholder_id("00000000-0000-0000-0000-000000000000")
    assert is_placeholder_id("0")
    assert not is_placeholder_id(IDFA)
    assert not is_placeholder_id("") and not is_placeholder_id("---")


@pytest.mark.parametrize("value", ["02:00:00:00:00:00", "00:00:00:00:00:00", "FF:FF:FF:FF:FF:FF",
                                   "02-00-00-00-00-00"])
def test_placeholder_macs_are_ignored(value: str) -> None:
    # iOS answers every app's MAC request with 02:00:00:00:00:00
    assert kinds([field("wifiMac", value)]) == []


def test_mac_address_by_value_normalised() -> None:
    found = kinds([field("bssid", "connected to AC-DE-48-00-11-22 (home)")])
    assert found == [("mac-address", "ac:de:48:00:11:22")]


@pytest.mark.parametrize("digits,valid", [("490154203237518", True), ("490154203237519", False),
                                          ("79927398713", True), ("79927398710", False),
                                          ("0", True)])
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


def test_imei_needs_fifteen_luhn_valid_digits() -> None:
    assert kinds([field("imei", "490154203237518")]) == [("imei", "490154203237518")]
    assert kinds([field("imei", "35-209900-176148-1")]) == [("imei", "352099001761481")]
    assert kinds([field("imei", "4901542032375")]) == []  # 13 digits
    assert kinds([field("meid", "4901542032375180")]) == []  # 16 digits


def test_hashed_email_accepts_a_hash_or_an_address() -> None:
    assert kinds([field("em", SHA256_EMAIL.upper())]) == [("hashed-email", SHA256_EMAIL.upper())]
    found = kinds([field("emailHash", "alice@example.com")])
    assert ("hashed-email", "alice@example.com") in found
    assert ("email", "alice@example.com") in found
    assert kinds([field("em", hashlib.md5(b"x").hexdigest())]) == []


def test_ip_address_under_a_key() -> None:
    # without knowing the client, any address under an IP key is reported
    assert kinds([field("ip", "10.0.0.5")]) == [("ip-address", "10.0.0.5")]
    assert kinds([field("clientIp", "2a02:810d:4b3f:e000::1")]) == [
        ("ip-address", "2a02:810d:4b3f:e000::1")]
    # knowing it, a private address that is not the client's is some server's: not reported
    client = frozenset({"192.168.1.23"})
    assert kinds([field("ip", "10.0.0.5")], client) == []
    assert kinds([field("ip", "192.168.1.23")], client) == [("ip-address", "192.168.1.23")]
    assert kinds([field("ip", "81.2.69.160")], client) == [("ip-address", "81.2.69.160")]


def test_client_ip_by_value_under_any_key() -> None:
    client = frozenset({"81.2.69.160"})
    found = detect([field("origin", "81.2.69.160")], client)
    assert [(d.kind, d.value, d.why) for d in found] == [
        ("ip-address", "81.2.69.160", "the client's own IP address")]
    assert detect([field("origin", "81.2.69.160")]) == []  # the client is not known
    assert detect([field("origin", "81.2.69.161")], client) == []
    # under an IP key it is found once, by the key
    assert len(detect([field("ip", "81.2.69.160")], client)) == 1


# ---- by value --------------------------------------------------------------------------


@pytest.mark.parametrize("text,emails", [
    ("contact: Alice.Example@Example.com, cc bob@mail.example.org", [
        "Alice.Example@Example.com", "bob@mail.example.org"]),
    ("mailto:alice@example.com", ["alice@example.com"]),
    ("https://zoom.us/signin?email=alice@example.com", ["alice@example.com"]),
    ("https://0123abcdef@o447951.ingest.sentry.io/5428557", []),  # a Sentry DSN's key
    ("https://user:secret@proxy.example.com:8080/", []),
    ("assets/icon@2x.png", []),
    ("react@18.2.0", []),
    ("@example.com", []),
])
def test_emails_by_value(text: str, emails: list[str]) -> None:
    found = [d for d in detect([field("message", text)]) if d.kind == "email"]
    assert [d.value for d in found] == emails
    assert all(d.why == "an email address" for d in found)


@pytest.mark.parametrize("text,model", [
    ("Zoom/5.0.2 (iPhone12,3; iOS 13.4.1)", "iPhone12,3"),
    ("iPad13,4", "iPad13,4"), ("MacBookPro16,1", "MacBookPro16,1"), ("Watch6,2", "Watch6,2"),
    ("iPhone 12", None), ("iPhone12", None), ("version 12,3", None),
])
def test_apple_model_identifiers_by_value(text: str, model: str | None) -> None:
    found = [(d.value, d.why) for d in detect([field("ua", text)]) if d.kind == "device-model"]
    assert found == ([(model, "an Apple model identifier")] if model else [])


def test_apple_model_under_a_model_key_is_found_once() -> None:
    assert kinds([field("model", "iPhone12,3")]) == [("device-model", "iPhone12,3")]


@pytest.mark.parametrize("text,zone", [
    ("Europe/Berlin", "Europe/Berlin"), (" America/New_York ", "America/New_York"),
    ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("Etc/GMT+1", "Etc/GMT+1"), ("Pacific/Port_Moresby", "Pacific/Port_Moresby"),
    ("CEST", None), ("Europe", None), ("Mars/Olympus_Mons", None),
    ("my timezone is Europe/Berlin", None), ("Europe/Berlin/Mitte/Nord", None),
])
def test_iana_time_zones_by_value(text: str, zone: str | None) -> None:
    found = [d.value for d in detect([field("x", text)]) if d.kind == "time-zone"]
    assert found == ([zone] if zone else [])


def test_time_zone_under_a_time_zone_key_is_found_once() -> None:
    assert kinds([field("timezone", "Europe/Berlin")]) == [("time-zone", "Europe/Berlin")]


# ---- geolocation -----------------------------------------------------------------------


def test_latitude_longitude_pair_under_one_parent() -> None:
    fields = [field("lat", "52.5200", "context.location.lat"),
              field("lng", "13.4050", "context.location.lng")]
    found = detect(fields)
    assert [(d.kind, d.value, d.why) for d in found] == [
        ("geolocation", "52.5200,13.4050", "latitude/longitude pair")]


def test_geolocation_in_a_query() -> None:
    fields = [field("latitude", "-33.8688", location="query"),
              field("longitude", "151.2093", location="query")]
    assert kinds(fields) == [("geolocation", "-33.8688,151.2093")]


@pytest.mark.parametrize("fields", [
    [field("lat", "52.5200", "a.lat")],  # alone
    [field("lat", "52.5200", "a.lat"), field("lon", "13.4050", "b.lon")],  # different parents
    [field("lat", "52.5200", "lat", "query"), field("lon", "13.4050", "lon", "body")],
    [field("lat", "52", "a.lat"), field("lon", "13", "a.lon")],  # whole numbers: not a fix
    [field("lat", "0.0", "a.lat"), field("lon", "0.0", "a.lon")],
    [field("lat", "95.5", "a.lat"), field("lon", "13.4", "a.lon")],  # out of range
    [field("lat", "52.5", "a.lat"), field("lon", "190.5", "a.lon")],
    [field("lat", "north", "a.lat"), field("lon", "13.4", "a.lon")],
])
def test_not_a_geolocation(fields: list[Field]) -> None:
    assert [d for d in detect(fields) if d.kind == "geolocation"] == []


def test_two_locations_in_a_list() -> None:
    fields = [field("lat", "52.52", "points[0].lat"), field("lon", "13.40", "points[0].lon"),
              field("lat", "48.13", "points[1].lat"), field("lon", "11.58", "points[1].lon")]
    assert kinds(fields) == [("geolocation", "52.52,13.40"), ("geolocation", "48.13,11.58")]


# ---- neutral identifiers are not personal data -----------------------------------------


@pytest.mark.parametrize("key", ["request_id", "requestId", "trace", "traceId", "id", "session",
                                 "session_id", "messageId", "event_id", "span_id", "nonce",
                                 None])
def test_random_uuids_under_neutral_keys_are_not_reported(key: str | None) -> None:
    fields = [field(key, str(uuid.uuid4())), field(key, uuid.uuid4().hex),
              field(key, str(uuid.uuid4()).upper())]
    assert detect(fields) == []


def test_detection_carries_its_field() -> None:
    f = field("idfa", IDFA, "batch[0].context.device.idfa")
    [detection] = detect([f])
    assert detection == Detection("advertising-id", f, IDFA, "value under key 'idfa'")
