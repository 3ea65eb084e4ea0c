"""Requests taken apart into fields: URL, headers, cookies, and bodies in every shape SDKs send
(JSON, JSON in JSON, forms with JSON values, multipart, NDJSON envelopes, base64 and
URL-encoded values, binary), within the scan limits, and never raising on hostile input."""

from __future__ import annotations

import base64
import gzip
import json
import random
import time
from urllib.parse import quote, urlencode

import brotli
import pytest

from auditor.personal_data.limits import DEFAULT_LIMITS, ScanLimits
from auditor.personal_data.request_fields import (
    ROUTINE_HEADERS,
    Field,
    Fields,
    RequestData,
    request_fields,
    split_url,
)

IDFA = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
EMAIL = "alice.example@example.com"
EXTINFO = ["i2", "us.zoom.videomeetings", "5.0.2", "5.0.2 (24112.0406)", "13.4.1",
           "iPhone12,3", "de_DE", "CEST", "Telekom.de", "375", "812", "3.00", "6", "238",
           "97", "Europe/Berlin"]
FB_BOUNDARY = "3i2ndDfv2rTHiSisAbouNdArYfORhtTPEefj3q2f"  # the Facebook SDKs' fixed boundary


def post(url: str, body: bytes, content_type: str | None = None,
         encoding: str | None = None, **headers: str) -> RequestData:
    pairs = [(k.replace("_", "-"), v) for k, v in headers.items()]
    if content_type:
        pairs.append(("Content-Type", content_type))
    if encoding:
        pairs.append(("Content-Encoding", encoding))
    return RequestData("POST", url, tuple(pairs), body)


def by_path(fields: Fields, location: str = "body") -> dict[str, Field]:
    """The last field at each path of a location (decoded layers come after the raw one)."""
    return {f.path: f for f in fields.items if f.location == location}


def values(fields: Fields, location: str | None = None) -> list[str]:
    return [f.value for f in fields.items if location is None or f.location == location]


# ---- URL, headers, cookies -------------------------------------------------------------


def test_query_parameters() -> None:
    fields = request_fields(RequestData(
        "GET", "https://www.google-analytics.com/g/collect?v=2&tid=G-TEST&cid=1234.5678"
               "&ul=de-de&dt=Join+a+meeting&empty=&dl=https%3A%2F%2Fzoom.us%2Fj%2F123"))
    query = by_path(fields, "query")
    assert query["cid"] == Field("query", "cid", "cid", "1234.5678", "plain")
    assert query["dt"].value == "Join a meeting"
    assert query["dl"].value == "https://zoom.us/j/123"
    assert "empty" not in query


def test_path_segments_are_unquoted_and_indexed() -> None:
    fields = request_fields(RequestData(
        "GET", "https://api.example.com/v1/users/alice.example%40example.com/avatar?x=1"))
    path = [(f.path, f.value, f.key) for f in fields.items if f.location == "path"]
    assert path == [("/[0]", "v1", None), ("/[1]", "users", None),
                    ("/[2]", EMAIL, None), ("/[3]", "avatar", None)]


def test_cookies_each_value_and_url_encoded_ones_opened() -> None:
    request = RequestData("GET", "https://zoom.us/", (
        ("Cookie", "_ga=GA1.2.1234567890.1700000000; _zm_ssid=aw1_c_ABC; "
                   "_zm_mtk_guid=alice.example%40example.com"),))
    fields = request_fields(request)
    cookies = [(f.path, f.value, f.encoding) for f in fields.items if f.location == "cookie"]
    assert ("_ga", "GA1.2.1234567890.1700000000", "plain") in cookies
    assert ("_zm_ssid", "aw1_c_ABC", "plain") in cookies
    assert ("_zm_mtk_guid", EMAIL, "plain>url") in cookies


def test_routine_headers_are_skipped_others_kept_lower_cased() -> None:
    request = RequestData("POST", "https://in.appcenter.ms/logs?api-version=1.0.0", (
        ("Host", "in.appcenter.ms"), ("User-Agent", "Zoom/5.0.2 (iPhone; iOS 13.4.1)"),
        ("Accept-Language", "de-DE"), ("Content-Type", "application/json"),
        ("App-Secret", "0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"),
        ("Install-ID", "4C1E8B0E-3E5A-4C38-9C7B-2B1F3F2A8D11"),
        ("X-Zm-Device-Model", "iPhone12,3")), b"")
    headers = by_path(request_fields(request), "header")
    assert set(headers) == {"app-secret", "install-id", "x-zm-device-model"}
    assert headers["install-id"].key == "install-id"
    assert {"user-agent", "host", "content-type", "accept-language"} <= ROUTINE_HEADERS


def test_base64_header_value_is_opened() -> None:
    token = base64.b64encode(json.dumps({"email": EMAIL, "uid": 42}).encode()).decode()
    fields = request_fields(RequestData("GET", "https://x.example/", (("X-User", token),)))
    header = [f for f in fields.items if f.location == "header"]
    assert header[0].value == token and header[0].encoding == "plain"
    assert Field("header", "x-user.email", "email", EMAIL,
                 "plain>base64>json-string") in fields.items


@pytest.mark.parametrize("url", [
    "http://[::1/x?email=alice.example%40example.com",
    "https://[not-an-address]/x?email=alice.example%40example.com",
])
def test_malformed_urls_do_not_raise(url: str) -> None:
    fields = request_fields(RequestData("GET", url))
    assert by_path(fields, "query")["email"].value == EMAIL


def test_split_url() -> None:
    assert split_url("https://h.example/a/b?c=d#frag") == ("/a/b", "c=d")
    assert split_url("http://[::1?x=1") == ("", "x=1")
    assert split_url("http://[zz]/p?q") == ("/p", "q")
    assert split_url("/relative/path?x=1") == ("/relative/path", "x=1")


# ---- JSON ------------------------------------------------------------------------------


SEGMENT_BATCH = {
    "batch": [{
        "type": "track", "event": "Meeting Joined", "messageId": "2f8e6c1a-0d4b-4d7e-9f3a",
        "userId": "u-8842", "anonymousId": "B8A3C2D1-5E4F-4A3B-9C8D-7E6F5A4B3C2D",
        "properties": {"duration": 1832, "video": True, "recording": None, "score": 4.5},
        "context": {
            "device": {"advertisingId": IDFA, "model": "iPhone12,3", "manufacturer": "Apple"},
            "os": {"name": "iOS", "version": "13.4.1"},
            "timezone": "Europe/Berlin", "locale": "de-DE",
            "screen": {"width": 375, "height": 812},
        },
    }],
    "sentAt": "2020-04-01T12:00:00.000Z",
}


def test_json_nested_with_lists() -> None:
    fields = request_fields(post("https://api.segment.io/v1/b",
                                 json.dumps(SEGMENT_BATCH).encode(), "application/json"))
    body = by_path(fields)
    assert body["batch[0].context.os.version"] == Field(
        "body", "batch[0].context.os.version", "version", "13.4.1", "json")
    assert body["batch[0].context.device.advertisingId"].value == IDFA
    assert body["sentAt"].key == "sentAt"
    # numbers are kept as text, booleans and nulls are not values
    assert body["batch[0].properties.duration"].value == "1832"
    assert body["batch[0].properties.score"].value == "4.5"
    assert body["batch[0].context.screen.width"].value == "375"
    assert "batch[0].properties.video" not in body
    assert "batch[0].properties.recording" not in body
    assert fields.partial == [] and fields.scanned_bytes == len(json.dumps(SEGMENT_BATCH))


def test_json_list_of_scalars_keeps_the_parent_key() -> None:
    body = b'{"emails": ["a@x.example", "b@x.example"]}'
    fields = request_fields(post("https://x.example/", body, "application/json"))
    body = by_path(fields)
    assert body["emails[1]"] == Field("body", "emails[1]", "emails", "b@x.example", "json")


def test_json_detected_without_a_content_type() -> None:
    fields = request_fields(post("https://x.example/", b'  {"user": {"id": "u-1"}}'))
    assert by_path(fields)["user.id"].encoding == "json"


def test_json_in_json_strings() -> None:
    inner = json.dumps({"user": {"email": EMAIL}, "tags": ["a", "b"]})
    outer = json.dumps({"event": "login", "payload": inner, "deeper": json.dumps({"x": inner})})
    fields = request_fields(post("https://x.example/", outer.encode(), "application/json"))
    body = by_path(fields)
    assert body["payload.user.email"] == Field("body", "payload.user.email", "email", EMAIL,
                                               "json>json-string")
    assert body["payload.tags[1]"].value == "b"
    assert body["deeper.x.user.email"].encoding == "json>json-string>json-string"


def test_url_encoded_value_inside_json_is_opened() -> None:
    body = json.dumps({"ref": "https%3A%2F%2Fzoom.us%2Fsignin%3Femail%3Dalice.example%2540"
                              "example.com"}).encode()
    fields = request_fields(post("https://x.example/", body, "application/json"))
    opened = [f for f in fields.items if f.path == "ref"]
    assert [f.encoding for f in opened] == ["json", "json>url", "json>url>url"]
    assert opened[-1].value == "https://zoom.us/signin?email=" + EMAIL


# ---- forms and multipart ---------------------------------------------------------------


def facebook_form() -> dict[str, str]:
    return {
        "event": "MOBILE_APP_INSTALL", "advertiser_id": IDFA,
        "advertiser_tracking_enabled": "1",
        "anon_id": "XZ7A6B8C1D-2E3F-4A5B-9C8D-7E6F5A4B3C2D",
        "extinfo": json.dumps(EXTINFO), "sdk": "ios",
        "ud": json.dumps({"em": "5f2b8ec4e1f4e7c4c0f7a1ad6b5e2b6a" * 2}),
    }


def test_form_body_with_json_values() -> None:
    body = gzip.compress(urlencode(facebook_form()).encode())
    fields = request_fields(post("https://graph.facebook.com/v7.0/123/activities", body,
                                 "application/x-www-form-urlencoded", "gzip"))
    body_fields = by_path(fields)
    assert body_fields["extinfo[5]"] == Field("body", "extinfo[5]", "extinfo", "iPhone12,3",
                                              "gzip>form>json-string")
    assert body_fields["extinfo[15]"].value == "Europe/Berlin"
    assert body_fields["advertiser_id"] == Field("body", "advertiser_id", "advertiser_id",
                                                 IDFA, "gzip>form")
    assert body_fields["ud.em"].key == "em"
    assert fields.scanned_bytes == len(urlencode(facebook_form()))


def test_form_recognised_without_content_type() -> None:
    fields = request_fields(post("https://x.example/", b"a=1&email=alice.example%40example.com"))
    assert by_path(fields)["email"] == Field("body", "email", "email", EMAIL, "form")


def multipart(parts: list[tuple[str, bytes, str | None]], boundary: str = FB_BOUNDARY) -> bytes:
    out = b""
    for name, payload, content_type in parts:
        out += f"--{boundary}\r\n".encode()
        out += f'Content-Disposition: form-data; name="{name}"'.encode()
        if content_type:
            out += f'; filename="{name}.bin"\r\nContent-Type: {content_type}'.encode()
        out += b"\r\n\r\n" + payload + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def test_multipart_form_data_like_the_facebook_sdk() -> None:
    # The Facebook SDKs post Graph requests as gzipped multipart/form-data.
    form = facebook_form()
    body = multipart([(k, v.encode(), None) for k, v in form.items()] + [
        ("crash", b"\x00\x01\x02MINIDUMP\x00\x00contact=alice.example@example.com\x00\xff\xfe",
         "application/octet-stream")])
    fields = request_fields(post("https://graph.facebook.com/v7.0/123/activities",
                                 gzip.compress(body),
                                 f"multipart/form-data; boundary={FB_BOUNDARY}", "gzip"))
    body_fields = by_path(fields)
    assert body_fields["extinfo[5]"] == Field("body", "extinfo[5]", "extinfo", "iPhone12,3",
                                              "gzip>multipart>json-string")
    assert body_fields["advertiser_id"].value == IDFA
    assert body_fields["advertiser_id"].encoding == "gzip>multipart"
    # a binary part: its readable strings
    strings = [f for f in fields.items if f.path.startswith("crash.strings")]
    assert [f.value for f in strings] == ["MINIDUMP", "contact=alice.example@example.com"]
    assert strings[0].encoding == "gzip>multipart>binary"


def test_multipart_base64_part() -> None:
    boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"profile\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode(json.dumps({"email": EMAIL}).encode()).decode()
            + f"\r\n--{boundary}--\r\n").encode()
    fields = request_fields(post("https://x.example/upload", body,
                                 f"multipart/form-data; boundary={boundary}"))
    assert by_path(fields)["profile.email"].value == EMAIL


def test_multipart_without_boundary_is_ignored_quietly() -> None:
    fields = request_fields(post("https://x.example/", b"--x\r\n\r\nhello\r\n--x--",
                                 "multipart/form-data"))
    assert values(fields, "body") == []


# ---- NDJSON: Sentry envelopes and 1DS batches ------------------------------------------


def sentry_envelope() -> bytes:
    header = {"event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "sent_at": "2020-04-01T12:00:00Z",
              "sdk": {"name": "sentry.cocoa", "version": "8.21.0"}}
    payload = {"event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "platform": "cocoa",
               "user": {"id": "u-8842", "email": EMAIL, "ip_address": "81.2.69.160"},
               "contexts": {"device": {"model": "iPhone12,3", "family": "iOS"},
                            "os": {"name": "iOS", "version": "13.4.1"}}}
    raw = json.dumps(payload)
    item = {"type": "event", "length": len(raw), "content_type": "application/json"}
    return "\n".join([json.dumps(header), json.dumps(item), raw]).encode() + b"\n"


def test_sentry_envelope_lines() -> None:
    fields = request_fields(post("https://o447951.ingest.sentry.io/api/5428557/envelope/",
                                 sentry_envelope(), "application/x-sentry-envelope"))
    body = by_path(fields)
    assert body["line[0].sdk.name"].value == "sentry.cocoa"
    assert body["line[1].type"].value == "event"
    assert body["line[2].user.email"] == Field("body", "line[2].user.email", "email", EMAIL,
                                               "ndjson")
    assert body["line[2].contexts.device.model"].value == "iPhone12,3"


def test_onecollector_json_stream_with_a_broken_line() -> None:
    events = [{"name": "Microsoft.Teams.Call", "ver": "4.0", "iKey": "o:0123abcd",
               "ext": {"device": {"localId": f"s:{n}F2B3C4D-0000-4000-8000-00000000000{n}"},
                       "os": {"name": "Windows", "ver": "10.0.19045"}, "loc": {"tz": "+02:00"}}}
              for n in range(2)]
    text = "\n".join(json.dumps(e) for e in events) + "\n{not json at all\n"
    fields = request_fields(post("https://mobile.events.data.microsoft.com/OneCollector/1.0/",
                                 text.encode(), "application/x-json-stream"))
    body = by_path(fields)
    assert body["line[1].ext.device.localId"].value.startswith("s:1F2B3C4D")
    assert body["line[0].ext.loc.tz"] == Field("body", "line[0].ext.loc.tz", "tz", "+02:00",
                                               "ndjson")
    assert body["line[2]"] == Field("body", "line[2]", None, "{not json at all", "text")


# ---- base64 and URL-encoded values -----------------------------------------------------


MIXPANEL_EVENTS = [{"event": "$app_open", "properties": {
    "token": "85053bf24bba75239b16a601d9387e17", "distinct_id": "8E1C2B3A-77D1-4B9E",
    "$os": "iOS", "$model": "iPhone12,3", "$carrier": "Telekom.de", "$ios_ifa": IDFA}}]


def test_mixpanel_base64_data_in_a_form() -> None:
    # mixpanel-iphone: "ip=1&data=" + URL-encoded base64 of the JSON batch
    data = base64.b64encode(json.dumps(MIXPANEL_EVENTS).encode()).decode()
    body = f"ip=1&data={quote(data, safe='')}".encode()
    fields = request_fields(post("https://api.mixpanel.com/track/?ip=1", body,
                                 "application/x-www-form-urlencoded"))
    model = by_path(fields)["data[0].properties.$model"]
    assert model == Field("body", "data[0].properties.$model", "$model", "iPhone12,3",
                          "form>base64>json-string")


def test_mixpanel_url_safe_base64_in_the_query() -> None:
    data = base64.urlsafe_b64encode(json.dumps(MIXPANEL_EVENTS).encode()).decode().rstrip("=")
    fields = request_fields(RequestData(
        "GET", f"https://api-js.mixpanel.com/track/?data={data}&ip=1&_=1700000000000"))
    query = by_path(fields, "query")
    assert query["data[0].properties.$ios_ifa"].value == IDFA
    assert query["data[0].properties.$ios_ifa"].encoding == "plain>base64>json-string"


def test_words_that_look_like_base64_are_not_opened() -> None:
    fields = request_fields(RequestData(
        "GET", "https://x.example/?event=MOBILE_APP_INSTALL&name=applicationDidBecomeActive"))
    assert [f.encoding for f in fields.items if f.location == "query"] == ["plain", "plain"]


# ---- binary and non-UTF-8 bodies -------------------------------------------------------


def test_binary_body_gives_its_readable_strings() -> None:
    # protobuf-like: tags, lengths and varints around a few strings
    body = (b"\x0a\x0aiPhone12,3\x12\x19alice.example@example.com\x18\x96\x01"
            b"\x22\x05short\x1a\x0dEurope/Berlin\x00\x00\x01\x02\x03")
    fields = request_fields(post("https://x.example/v1/events", body,
                                 "application/x-protobuf"))
    strings = [(f.path, f.value, f.encoding) for f in fields.items if f.location == "body"]
    assert strings == [("strings[0]", "iPhone12,3", "binary"),
                       ("strings[1]", EMAIL, "binary"),
                       ("strings[2]", "Europe/Berlin", "binary")]  # "short" is too short


def test_latin1_form_body_is_read_as_text() -> None:
    body = "name=J\xfcrgen M\xfcller&email=juergen@example.de&city=K\xf6ln".encode("latin-1")
    fields = request_fields(post("https://x.example/form", body,
                                 "application/x-www-form-urlencoded"))
    form = by_path(fields)
    assert form["name"].value == "Jürgen Müller" and form["city"].value == "Köln"
    assert form["email"] == Field("body", "email", "email", "juergen@example.de", "form")


def test_declared_charset_is_used_for_non_utf8_text() -> None:
    body = '{"note": "Preis 5 \u20ac", "city": "K\xf6ln"}'.encode("cp1252")
    fields = request_fields(post("https://x.example/", body,
                                 "application/json; charset=windows-1252"))
    assert by_path(fields)["note"].value == "Preis 5 €"
    assert by_path(fields)["city"].value == "Köln"


def test_unknown_charset_falls_back_to_latin1() -> None:
    body = "city=K\xf6ln".encode("latin-1")
    fields = request_fields(post("https://x.example/", body,
                                 "application/x-www-form-urlencoded; charset=x-no-such"))
    assert by_path(fields)["city"].value == "Köln"


def test_stray_invalid_byte_in_utf8_text_is_replaced() -> None:
    # e.g. an SDK that cut a string in the middle of a character
    body = '{"user": "Jürgen Müller", "city": "Köln", "cut": "Z'.encode() + b'\xc3"}'
    fields = request_fields(post("https://x.example/", body, "application/json"))
    assert by_path(fields)["user"].value == "Jürgen Müller"
    assert by_path(fields)["cut"].value == "Z\ufffd"


def test_short_latin1_body_is_not_taken_for_cut_utf8() -> None:
    # the last bytes of a whole body are not a character cut by the 4 KiB sample
    fields = request_fields(post("https://x.example/", "n=M\xfcller".encode("latin-1")))
    assert by_path(fields)["n"].value == "Müller"


# ---- the limits, each reported -----------------------------------------------------------


def test_max_fields() -> None:
    body = json.dumps({f"k{n}": f"value-{n}" for n in range(50)}).encode()
    fields = request_fields(post("https://x.example/", body, "application/json"),
                            ScanLimits(max_fields=5))
    assert len(fields.items) == 5
    assert fields.partial == ["stopped after 5 fields"]


def test_max_depth_of_json_nesting() -> None:
    document: object = {"email": EMAIL}
    for n in range(20):
        document = {f"level{n}": document}
    fields = request_fields(post("https://x.example/", json.dumps(document).encode(),
                                 "application/json"))
    assert EMAIL not in values(fields)
    assert any("nested" in p for p in fields.partial), fields.partial


def test_nesting_within_the_depth_is_complete() -> None:
    document: object = {"email": EMAIL}
    for n in range(8):
        document = {f"level{n}": document}
    fields = request_fields(post("https://x.example/", json.dumps(document).encode(),
                                 "application/json"))
    assert EMAIL in values(fields) and fields.partial == []


def test_max_depth_of_encoded_layers() -> None:
    value = EMAIL
    for _ in range(12):
        value = base64.b64encode(value.encode()).decode()
    fields = request_fields(RequestData("GET", f"https://x.example/?v={quote(value)}"),
                            ScanLimits(max_depth=4))
    layers = [f.encoding for f in fields.items if f.path == "v"]
    assert layers[-1] == "plain>base64>base64>base64>base64"
    assert EMAIL not in values(fields)
    assert any("encoded" in p for p in fields.partial), fields.partial


def test_max_value_bytes() -> None:
    long_value = "x" * 5000 + EMAIL
    fields = request_fields(post("https://x.example/", json.dumps({"blob": long_value}).encode(),
                                 "application/json"), ScanLimits(max_value_bytes=1000))
    assert by_path(fields)["blob"].value == "x" * 1000
    assert any("1000" in p for p in fields.partial), fields.partial


def test_max_body_bytes() -> None:
    body = json.dumps([{"n": n, "pad": "y" * 100} for n in range(2000)]).encode()
    limits = ScanLimits(max_body_bytes=10_000)
    fields = request_fields(post("https://x.example/", gzip.compress(body), "application/json",
                                 "gzip"), limits)
    assert fields.scanned_bytes == 10_000
    assert fields.partial == ["body scanned up to 10000 decoded bytes"]


def test_incomplete_body_from_the_source() -> None:
    request = RequestData("POST", "https://x.example/", (), b'{"a": "b"}', body_complete=False)
    fields = request_fields(request)
    assert fields.partial == ["the source kept only part of the body"]


def test_undecodable_body_is_scanned_raw_and_reported() -> None:
    request = post("https://x.example/", b"email=alice.example%40example.com",
                   "application/x-www-form-urlencoded", "gzip")
    fields = request_fields(request)
    assert len(fields.partial) == 1 and fields.partial[0].startswith("body could not be decoded")
    # the raw body is still read, without claiming a gzip layer it does not have
    assert by_path(fields)["email"] == Field("body", "email", "email", EMAIL, "form")


def test_default_limits_are_the_documented_ones() -> None:
    assert DEFAULT_LIMITS.max_body_bytes == 4 * 1024 * 1024
    assert DEFAULT_LIMITS.max_fields == 20_000 and DEFAULT_LIMITS.max_depth == 8


def test_empty_body_and_no_url() -> None:
    fields = request_fields(RequestData(None, None))
    assert fields.items == [] and fields.partial == [] and fields.scanned_bytes == 0


# ---- hostile bodies ----------------------------------------------------------------------


@pytest.mark.parametrize("opener,closer", [("[", "]"), ('{"a":', "}")])
@pytest.mark.parametrize("depth", [500, 10_000, 200_000])
def test_recursion_bombs_do_not_raise(opener: str, closer: str, depth: int) -> None:
    text = opener * depth + '"alice.example@example.com"' + closer * depth
    request_fields(post("https://x.example/", text.encode(), "application/json"))
    request_fields(post("https://x.example/", urlencode({"payload": text}).encode(),
                        "application/x-www-form-urlencoded"))
    request_fields(post("https://x.example/", gzip.compress(text.encode()), "application/json",
                        "gzip"))


def test_json_string_nested_in_json_strings_is_bounded() -> None:
    value: object = {"email": EMAIL}
    for _ in range(14):  # each level escapes the one inside: the text doubles
        value = {"v": json.dumps(value)}
    fields = request_fields(post("https://x.example/", json.dumps(value).encode(),
                                 "application/json"))
    assert max(f.encoding.count(">") for f in fields.items) <= DEFAULT_LIMITS.max_depth
    assert fields.partial


def test_huge_key_count_is_bounded_and_fast() -> None:
    body = json.dumps({f"key{n}": n for n in range(200_000)}).encode()
    started = time.monotonic()
    fields = request_fields(post("https://x.example/", body, "application/json"),
                            ScanLimits(max_body_bytes=8 * 1024 * 1024))
    assert time.monotonic() - started < 10
    assert len(fields.items) == DEFAULT_LIMITS.max_fields
    assert fields.partial == [f"stopped after {DEFAULT_LIMITS.max_fields} fields"]


def test_huge_form_is_bounded() -> None:
    body = "&".join(f"k{n}=v{n}" for n in range(100_000)).encode()
    fields = request_fields(post("https://x.example/", body,
                                 "application/x-www-form-urlencoded"), ScanLimits(max_fields=100))
    assert len(fields.items) == 100


CONTENT_TYPES = [None, "", "application/json", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=abc", "multipart/mixed",
                 "multipart/form-data; boundary=\"\"", "text/plain; charset=utf-16",
                 "application/x-json-stream", "application/x-sentry-envelope",
                 "application/octet-stream", "text/html; charset=bogus-\u00e9",
                 "application/json; charset=\"utf-8", "image/png"]
ENCODINGS = [None, "", "gzip", "deflate", "br", "zstd", "br, gzip", "identity", "chunked",
             "gzip, gzip, gzip", ","]


def random_body(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    size = rng.choice([0, 1, 7, 64, 1000, 20_000])
    if kind == 0:
        return rng.randbytes(size)
    if kind == 1:  # text-ish with structure characters
        return bytes(rng.choice(b'{}[]":,=&%+/\\\n\r abcXYZ019@.-_') for _ in range(size))
    if kind == 2:  # valid compressed garbage
        return gzip.compress(rng.randbytes(size))
    if kind == 3:
        return brotli.compress(rng.randbytes(size))
    if kind == 4:  # multipart-looking
        return (b"--abc\r\nContent-Disposition: form-data; name=\"x\"\r\n"
                b"Content-Transfer-Encoding: " + rng.choice([b"base64", b"quoted-printable",
                                                             b"x-uuencode", b"7bit"])
                + b"\r\n\r\n" + rng.randbytes(size) + b"\r\n--abc--\r\n")
    return base64.b64encode(rng.randbytes(size))


def test_fuzz_random_bodies_never_raise() -> None:
    rng = random.Random(20200401)
    limits = ScanLimits(max_body_bytes=64 * 1024, max_fields=500)
    for _ in range(1500):
        content_type = rng.choice(CONTENT_TYPES)
        encoding = rng.choice(ENCODINGS)
        headers = []
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        if encoding is not None:
            headers.append(("Content-Encoding", encoding))
        if rng.random() < 0.3:
            headers.append(("Cookie", rng.randbytes(30).decode("latin-1")))
        url = rng.choice(["https://x.example/a?b=c", None, "http://[::1/x?%zz=%",
                          "https://h/" + rng.randbytes(20).decode("latin-1")])
        request = RequestData("POST", url, tuple(headers), random_body(rng),
                              rng.random() < 0.9)
        fields = request_fields(request, limits)
        assert len(fields.items) <= limits.max_fields
        assert fields.scanned_bytes <= limits.max_body_bytes
        assert all(isinstance(f.value, str) for f in fields.items)
