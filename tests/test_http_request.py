"""HTTP/1.x request heads: the request line, the Host header and the URL they make, over TCP
and SSDP."""

from __future__ import annotations

import contextlib
import random

import pytest

from auditor.protocols.http import (
    MAX_HEAD,
    METHODS,
    HttpHeadError,
    looks_like_http_request,
    parse_request_head,
    requests_in_stream,
    split_host_header,
)

GET = (b"GET /wc/api/v1/config?os=win HTTP/1.1\r\n"
       b"Host: zoom.us\r\n"
       b"User-Agent: Mozilla/5.0 ZoomWebinar\r\n"
       b"Accept: */*\r\n\r\n")
M_SEARCH = (b"M-SEARCH * HTTP/1.1\r\n"
            b"HOST: 239.255.255.250:1900\r\n"
            b'MAN: "ssdp:discover"\r\n'
            b"MX: 1\r\n"
            b"ST: urn:dial-multiscreen-org:service:dial:1\r\n\r\n")


def test_get_request_over_tcp() -> None:
    head = parse_request_head(GET + b"body that follows")
    assert head is not None
    assert (head.method, head.target, head.version, head.host, head.host_port) == (
        "GET", "/wc/api/v1/config?os=win", "HTTP/1.1", "zoom.us", None)
    assert head.head_length == len(GET) and ("Host", "zoom.us") in head.headers
    assert head.url == "http://zoom.us/wc/api/v1/config?os=win"


def test_ssdp_m_search() -> None:
    assert looks_like_http_request(M_SEARCH)
    head = parse_request_head(M_SEARCH)
    assert head is not None
    assert (head.method, head.target, head.version) == ("M-SEARCH", "*", "HTTP/1.1")
    assert (head.host, head.host_port) == ("239.255.255.250", 1900)


def test_asterisk_form_url_has_no_path() -> None:
    """RFC 9112 3.3: for an asterisk-form target the URI's path is empty, so the URL is the
    scheme and authority alone, never 'http://host:1900*'."""
    head = parse_request_head(M_SEARCH)
    assert head is not None
    assert head.url == "http://239.255.255.250:1900"
    options = parse_request_head(b"OPTIONS * HTTP/1.1\r\nHost: api.zoom.us\r\n\r\n")
    assert options is not None and options.url == "http://api.zoom.us"


def test_authority_form_connect_url() -> None:
    head = parse_request_head(
        b"CONNECT zoom.us:443 HTTP/1.1\r\nHost: zoom.us:443\r\nProxy-Connection: keep-alive"
        b"\r\n\r\n")
    assert head is not None
    assert (head.method, head.target, head.host, head.host_port) == (
        "CONNECT", "zoom.us:443", "zoom.us", 443)
    assert head.url == "http://zoom.us:443"


def test_ssdp_notify() -> None:
    head = parse_request_head(b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
                              b"NT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n\r\n")
    assert head is not None and head.method == "NOTIFY" and head.host == "239.255.255.250"


def test_host_with_port() -> None:
    head = parse_request_head(b"POST /telemetry HTTP/1.1\r\nHost: logfiles.zoom.us:8080\r\n\r\n")
    assert head is not None
    assert (head.host, head.host_port) == ("logfiles.zoom.us", 8080)
    assert head.url == "http://logfiles.zoom.us:8080/telemetry"


def test_default_port_is_left_out_of_the_url() -> None:
    head = parse_request_head(b"GET /a HTTP/1.1\r\nHost: zoom.us:80\r\n\r\n")
    assert head is not None and head.host_port == 80 and head.url == "http://zoom.us/a"


def test_ipv6_literal_host() -> None:
    head = parse_request_head(b"GET /status HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n")
    assert head is not None
    assert (head.host, head.host_port) == ("2001:db8::1", 8080)
    assert head.url == "http://[2001:db8::1]:8080/status"


def test_ipv6_literal_host_without_port() -> None:
    head = parse_request_head(b"GET / HTTP/1.1\r\nHost: [FE80::1]\r\n\r\n")
    assert head is not None and (head.host, head.host_port) == ("fe80::1", None)
    assert head.url == "http://[fe80::1]/"


def test_absolute_form_target() -> None:
    head = parse_request_head(b"GET http://ocsp.digicert.com/MFEw HTTP/1.1\r\n"
                              b"Host: ocsp.digicert.com\r\n\r\n")
    assert head is not None
    assert head.target == "http://ocsp.digicert.com/MFEw"
    assert head.url == "http://ocsp.digicert.com/MFEw"


def test_absolute_form_without_host_header() -> None:
    head = parse_request_head(b"GET http://example.com/x HTTP/1.0\r\n\r\n")
    assert head is not None and head.host is None and head.url == "http://example.com/x"


def test_no_host_means_no_url() -> None:
    head = parse_request_head(b"GET /index.html HTTP/1.0\r\nAccept: */*\r\n\r\n")
    assert head is not None and head.host is None and head.url is None


@pytest.mark.parametrize("head", [
    GET[:10],
    GET[: GET.index(b"\r\n\r\n")],
    GET[: GET.index(b"\r\n\r\n") + 3],
    b"GET / HTTP/1.1\r\nHost: zoom.us\r\n",
    b"",
])
def test_incomplete_head_returns_none(head: bytes) -> None:
    assert parse_request_head(head) is None


def test_every_prefix_is_incomplete_until_the_blank_line() -> None:
    end = GET.index(b"\r\n\r\n") + 4
    for cut in range(end):
        assert parse_request_head(GET[:cut]) is None
    assert parse_request_head(GET[:end]) is not None


@pytest.mark.parametrize("head", [
    b"get / HTTP/1.1\r\nHost: a\r\n\r\n",  # lowercase method
    b"FETCH / HTTP/1.1\r\nHost: a\r\n\r\n",  # not a method
    b"GET /\r\nHost: a\r\n\r\n",  # HTTP/0.9 style, no version
    b"GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n",
    b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",  # two spaces
    b"GET / HTTP/one\r\nHost: a\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
])
def test_bad_request_line_raises(head: bytes) -> None:
    with pytest.raises(HttpHeadError, match="bad request line"):
        parse_request_head(head)


def test_head_without_end_beyond_the_limit_raises() -> None:
    head = b"GET / HTTP/1.1\r\nCookie: " + b"a" * MAX_HEAD
    with pytest.raises(HttpHeadError, match="longer than"):
        parse_request_head(head)


@pytest.mark.parametrize("header_name", [b"Host", b"HOST", b"host", b"hOsT", b"Host "])
def test_header_name_is_case_insensitive(header_name: bytes) -> None:
    head = parse_request_head(b"GET / HTTP/1.1\r\nAccept: */*\r\n" + header_name
                              + b": Example.COM\r\n\r\n")
    assert head is not None and head.host == "example.com"


def test_host_like_header_names_are_not_host() -> None:
    head = parse_request_head(b"GET / HTTP/1.1\r\nX-Forwarded-Host: evil.example\r\n"
                              b"Hostname: other\r\nHost: real.example\r\n\r\n")
    assert head is not None and head.host == "real.example"


def test_first_host_header_wins() -> None:
    head = parse_request_head(b"GET / HTTP/1.1\r\nHost: first.example\r\n"
                              b"Host: second.example\r\n\r\n")
    assert head is not None and head.host == "first.example"


def test_lf_only_line_endings() -> None:
    head = parse_request_head(b"GET /x HTTP/1.1\nHost: zoom.us:8443\nAccept: */*\n\nbody")
    assert head is not None
    assert (head.method, head.target, head.version, head.host, head.host_port) == (
        "GET", "/x", "HTTP/1.1", "zoom.us", 8443)
    assert head.head_length == len(b"GET /x HTTP/1.1\nHost: zoom.us:8443\nAccept: */*\n\n")


def test_ssdp_with_lf_only_line_endings() -> None:
    head = parse_request_head(M_SEARCH.replace(b"\r\n", b"\n"))
    assert head is not None and (head.host, head.host_port) == ("239.255.255.250", 1900)


def test_host_header_with_trailing_dot_and_spaces() -> None:
    head = parse_request_head(b"GET / HTTP/1.1\r\nHost:    Zoom.US.   \r\n\r\n")
    assert head is not None and head.host == "zoom.us"


@pytest.mark.parametrize("value, expected", [
    ("zoom.us", ("zoom.us", None)),
    ("Zoom.US:443", ("zoom.us", 443)),
    ("10.0.0.1:65535", ("10.0.0.1", 65535)),
    ("[2001:db8::1]:8080", ("2001:db8::1", 8080)),
    ("[::1]", ("::1", None)),
    ("zoom.us:0", (None, None)),
    ("zoom.us:65536", (None, None)),
    ("zoom.us:123456", (None, None)),
    ("2001:db8::1", (None, None)),  # an IPv6 literal must be bracketed
    ("zoom.us:", (None, None)),
    ("user@zoom.us", (None, None)),
    ("zoom us", (None, None)),
    ("", (None, None)),
    ("[]", (None, None)),
])
def test_split_host_header(value: str, expected: tuple[str | None, int | None]) -> None:
    assert split_host_header(value) == expected


def test_invalid_host_value_gives_no_host() -> None:
    head = parse_request_head(b"GET / HTTP/1.1\r\nHost: not a host\r\n\r\n")
    assert head is not None and head.host is None and head.host_port is None


@pytest.mark.parametrize("payload, expected", [
    (GET, True),
    (M_SEARCH, True),
    (b"UNSUBSCRIBE /evt HTTP/1.1\r\n", True),
    (b"PROPPATCH /d HTTP/1.1\r\n", True),
    (b"GET", False),
    (b"GETX / HTTP/1.1", False),
    (b"HTTP/1.1 200 OK\r\n", False),
    (b"\x16\x03\x01\x00\x10", False),
    (b"", False),
])
def test_looks_like_http_request(payload: bytes, expected: bool) -> None:
    assert looks_like_http_request(payload) is expected


def test_random_bytes_only_raise_http_head_error() -> None:
    rng = random.Random(8)
    for _ in range(3000):
        data = bytearray(GET)
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        cut = rng.randrange(len(data) + 1)
        with contextlib.suppress(HttpHeadError):
            head = parse_request_head(bytes(data[:cut]))
            assert head is None or head.method.encode() in METHODS


def test_requests_in_stream_follow_each_other() -> None:
    stream = (b"POST /a HTTP/1.1\r\nHost: x.example\r\nContent-Length: 5\r\n\r\nhello"
              b"GET /b?e=a%40b.example HTTP/1.1\r\nHost: x.example\r\n\r\n"
              b"POST /c HTTP/1.1\r\nHost: x.example\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"5\r\nhello\r\n0\r\n\r\n"
              b"POST /d HTTP/1.1\r\nHost: x.example\r\nContent-Length: 100\r\n\r\npartial")
    requests = requests_in_stream(stream)
    assert [(r.head.method, r.head.target, r.complete) for r in requests] == [
        ("POST", "/a", True), ("GET", "/b?e=a%40b.example", True), ("POST", "/c", True),
        ("POST", "/d", False)]
    assert requests[0].body == b"hello" and requests[3].body == b"partial"
    assert requests[2].body.startswith(b"5\r\nhello")


def test_requests_in_stream_stop_at_an_unfinished_head() -> None:
    assert requests_in_stream(b"GET / HTTP/1.1\r\nHost: x") == []
    with pytest.raises(HttpHeadError):
        requests_in_stream(b"GET / HTTP/1.1\r\n\r\nNOT A REQUEST\r\n\r\n")
    assert len(requests_in_stream(b"GET / HTTP/1.1\r\n\r\n" * 100, limit=7)) == 7
