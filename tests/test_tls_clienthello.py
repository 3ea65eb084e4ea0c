"""TLS and DTLS ClientHello parsing: SNI, ALPN, TLS 1.3 offer, record reassembly, damage.

ClientHellos come from scapy's TLS layer (a browser-like hello with GREASE and a post-quantum
key share, about 1.6 KB); DTLS hellos are written out byte by byte from RFC 6347.
"""

from __future__ import annotations

import contextlib
import random
import struct

import pytest
from scapy.layers.tls.all import TLS, TLSClientHello, TLSServerHello
from scapy.layers.tls.extensions import (
    ProtocolName,
    ServerName,
    TLS_Ext_ALPN,
    TLS_Ext_ServerName,
    TLS_Ext_SupportedVersion_CH,
)

from auditor.protocols.tls import (
    MAX_CLIENT_HELLO,
    ClientHello,
    ClientHelloError,
    client_hello_length,
    looks_like_tls_handshake,
    parse_client_hello,
    parse_dtls_client_hello,
    server_name_text,
    tls_records_handshake,
)

from .conftest import tls_client_hello, tls_records

HELLO = tls_client_hello()


def _extension(ext_type: int, data: bytes) -> bytes:
    return struct.pack("!HH", ext_type, len(data)) + data


def _sni_extension(name: bytes) -> bytes:
    return bytes(TLS_Ext_ServerName(servernames=[ServerName(servername=name)]))


def _extensions_offset(hello: bytes) -> int:
    """Offset of the 2-byte extensions length in a TLS ClientHello handshake message."""
    pos = 4 + 2 + 32
    pos += 1 + hello[pos]
    pos += 2 + int.from_bytes(hello[pos : pos + 2], "big")
    return pos + 1 + hello[pos]


def _with_header_length(body_and_type: bytes) -> bytes:
    """Rewrite the handshake length so that it covers exactly the bytes given."""
    return body_and_type[:1] + (len(body_and_type) - 4).to_bytes(3, "big") + body_and_type[4:]


# --- well-formed hellos ---------------------------------------------------------------------


def test_browser_like_hello_with_post_quantum_share() -> None:
    assert len(HELLO) > 1500  # two TCP segments at a typical MSS
    hello = parse_client_hello(HELLO)
    assert hello == ClientHello(
        server_name="meet.google.com",
        alpn=("h2", "http/1.1"),
        legacy_version=0x0303,
        offers_tls13=True,
        problem=None,
    )


def test_hello_inside_a_scapy_tls_record() -> None:
    record = bytes(TLS(msg=[TLSClientHello(
        ciphers=[0x1301, 0xC02F],
        ext=[TLS_Ext_ServerName(servernames=[ServerName(servername=b"zoom.us")]),
             TLS_Ext_ALPN(protocols=[ProtocolName(protocol=b"http/1.1")])],
    )]))
    assert looks_like_tls_handshake(record)
    handshake, plausible = tls_records_handshake(record)
    assert plausible and handshake == record[5:]
    assert client_hello_length(handshake) == len(handshake)
    hello = parse_client_hello(handshake)
    assert (hello.server_name, hello.alpn, hello.offers_tls13) == ("zoom.us", ("http/1.1",), False)


@pytest.mark.parametrize("wire, expected", [
    (b"Zoom.US.", "zoom.us"),
    (b"TEAMS.Microsoft.COM", "teams.microsoft.com"),
    (b"api.example.com.", "api.example.com"),
    (b"xn--bcher-kva.example", "xn--bcher-kva.example"),
])
def test_server_name_is_lowercased_without_trailing_dot(wire: bytes, expected: str) -> None:
    assert parse_client_hello(tls_client_hello(server_name=wire)).server_name == expected


@pytest.mark.parametrize("raw", [b".", b"", b"bad name.com", b"tab\tname", b"nul\x00.com"])
def test_server_name_text_rejects_non_host_names(raw: bytes) -> None:
    with pytest.raises(ClientHelloError):
        server_name_text(raw)


def test_server_name_text_rejects_non_ascii_with_client_hello_error() -> None:
    # The docstring promises ClientHelloError for anything that is not a host name.
    with pytest.raises(ClientHelloError):
        server_name_text("café.example".encode())


def test_non_ascii_sni_in_a_hello_raises_client_hello_error() -> None:
    with pytest.raises(ClientHelloError):
        parse_client_hello(tls_client_hello(server_name="café.example".encode()))


def test_hello_without_sni_or_alpn() -> None:
    hello = parse_client_hello(tls_client_hello(server_name=None, alpn=()))
    assert hello.server_name is None and hello.alpn == () and hello.offers_tls13
    assert hello.problem is None


def test_sni_list_with_only_a_non_host_name_entry() -> None:
    other = bytes(TLS_Ext_ServerName(servernames=[ServerName(nametype=1, servername=b"x")]))
    hello = parse_client_hello(tls_client_hello(server_name=None, extra=(other,)))
    assert hello.server_name is None


def test_alpn_list_keeps_order_and_grease_values() -> None:
    alpn = (b"\x7a\x7a", b"webrtc", b"c-webrtc", b"h3")
    assert parse_client_hello(tls_client_hello(alpn=alpn)).alpn == ("zz", "webrtc",
                                                                    "c-webrtc", "h3")


@pytest.mark.parametrize("versions, offers", [
    ((0x3A3A, 0x0304, 0x0303), True),
    ((0x0304,), True),
    ((0x0303, 0x0302), False),
    ((0x0A0A,), False),  # GREASE only
    ((), False),  # no supported_versions extension: TLS 1.2 client
])
def test_tls13_offer_detection(versions: tuple[int, ...], offers: bool) -> None:
    assert parse_client_hello(tls_client_hello(versions=versions)).offers_tls13 is offers


def test_tls13_offer_needs_an_aligned_version_pair() -> None:
    # Versions 0x0103, 0x0400: the bytes 03 04 appear, but not as one version.
    ext = bytes(TLS_Ext_SupportedVersion_CH(versions=[0x0103, 0x0400]))
    assert not parse_client_hello(tls_client_hello(versions=(), extra=(ext,))).offers_tls13


def test_hello_without_extensions_block() -> None:
    hello = TLSClientHello(ciphers=[0x002F], comp=[0])
    raw = bytes(hello)
    assert raw[-1] == 0 and len(raw) == 4 + 2 + 32 + 1 + 2 + 2 + 2  # ends with compression
    parsed = parse_client_hello(raw)
    assert parsed == ClientHello(None, (), 0x0303, False)


def test_trailing_bytes_after_the_message_are_ignored() -> None:
    assert parse_client_hello(HELLO + b"\x14\x03\x03\x00\x01\x01").server_name == (
        "meet.google.com")


# --- damaged hellos: keep what the intact extensions say ------------------------------------


def test_later_extension_running_past_the_block_keeps_sni() -> None:
    assert HELLO.endswith(b"\xfa\xfa\x00\x01\x00")  # the trailing GREASE extension
    damaged = HELLO[:-5] + b"\xfa\xfa\x00\xff\x00"
    hello = parse_client_hello(damaged)
    assert hello.server_name == "meet.google.com" and hello.alpn == ("h2", "http/1.1")
    assert hello.problem is not None and "64250" in hello.problem


def test_extensions_block_running_past_the_hello_keeps_sni() -> None:
    # Cut the message inside the key share and make the handshake header agree with the cut:
    # the extensions length still claims the original size.
    key_share = HELLO.index(b"\x00\x33")
    damaged = _with_header_length(HELLO[: key_share + 100])
    hello = parse_client_hello(damaged)
    assert hello.server_name == "meet.google.com" and hello.offers_tls13
    assert hello.problem is not None


def test_extensions_length_larger_than_the_hello_is_a_problem_not_an_error() -> None:
    pos = _extensions_offset(HELLO)
    total = int.from_bytes(HELLO[pos : pos + 2], "big")
    assert pos + 2 + total == len(HELLO)
    damaged = HELLO[:pos] + (total + 40).to_bytes(2, "big") + HELLO[pos + 2 :]
    hello = parse_client_hello(damaged)
    assert hello.server_name == "meet.google.com"
    assert hello.problem == "extensions run past the ClientHello"


@pytest.mark.parametrize("damaged_ext", [
    pytest.param(_extension(16, b"\x00"), id="alpn-without-list-length"),
    pytest.param(_extension(16, b"\x00\x05\x02h2"), id="alpn-list-past-extension"),
    pytest.param(_extension(16, b"\x00\x03\x08h2"), id="alpn-name-past-list"),
    pytest.param(_extension(43, b""), id="supported-versions-empty"),
])
def test_damaged_later_extension_content_keeps_sni(damaged_ext: bytes) -> None:
    """Wireshark keeps the SNI it decoded when a later extension is malformed; so must we."""
    hello = parse_client_hello(tls_client_hello(alpn=(), extra=(damaged_ext,)))
    assert hello.server_name == "meet.google.com"
    assert hello.alpn == ()  # nothing half-decoded from the damaged list
    ext_type = int.from_bytes(damaged_ext[:2], "big")
    assert hello.problem == f"extension {ext_type} is malformed"


def test_damaged_sni_extension_is_an_error() -> None:
    # The name claims 20 bytes and carries 7.
    damaged = _extension(0, b"\x00\x0a\x00\x00\x14zoom.us")
    with pytest.raises(ClientHelloError):
        parse_client_hello(tls_client_hello(server_name=None, extra=(damaged,)))


# --- not ClientHellos, incomplete, junk -----------------------------------------------------


def test_server_hello_is_rejected() -> None:
    server_hello = bytes(TLSServerHello(cipher=0x1301))
    assert server_hello[0] == 2
    with pytest.raises(ClientHelloError, match="not ClientHello"):
        client_hello_length(server_hello)
    with pytest.raises(ClientHelloError):
        parse_client_hello(server_hello)
    assert not looks_like_tls_handshake(b"\x16\x03\x03\x00\x40" + server_hello)


def test_length_of_a_short_prefix_is_unknown() -> None:
    assert client_hello_length(b"") is None
    assert client_hello_length(b"\x01\x00\x06") is None
    assert client_hello_length(HELLO[:4]) == len(HELLO)


def test_oversized_claim_is_rejected() -> None:
    with pytest.raises(ClientHelloError, match="claims"):
        client_hello_length(b"\x01" + MAX_CLIENT_HELLO.to_bytes(3, "big"))
    assert client_hello_length(b"\x01" + (MAX_CLIENT_HELLO - 4).to_bytes(3, "big")) == (
        MAX_CLIENT_HELLO)


@pytest.mark.parametrize("junk", [
    b"",
    b"\x01",
    b"\x01\x00\x00\x00",
    b"\x01\x00\x00\x01\x03",
    b"GET / HTTP/1.1\r\n\r\n",
    b"\x01\x00\x00\x26" + b"\x03\x03" + b"\x00" * 32 + b"\x20",  # session id past the end
    bytes(range(256)),
])
def test_junk_raises_client_hello_error(junk: bytes) -> None:
    with pytest.raises(ClientHelloError):
        parse_client_hello(junk)


def test_every_truncation_raises_client_hello_error() -> None:
    for cut in range(len(HELLO)):
        with pytest.raises(ClientHelloError):
            parse_client_hello(HELLO[:cut])


def test_every_truncation_with_a_matching_header_raises_or_parses() -> None:
    """The inner lengths now overrun the message; only ClientHelloError may escape, and the
    SNI, once fully inside the cut, is always kept."""
    sni_end = HELLO.index(b"meet.google.com") + len("meet.google.com")
    extensions_at = _extensions_offset(HELLO)
    for cut in range(4, len(HELLO)):
        try:
            hello = parse_client_hello(_with_header_length(HELLO[:cut]))
        except ClientHelloError:
            # Only a cut before the extensions block is fatal; damage inside it is a problem.
            assert cut < extensions_at + 2
            continue
        assert cut >= extensions_at
        expected = "meet.google.com" if cut >= sni_end else None
        assert hello.server_name == expected
        assert (hello.problem is None) == (cut in (extensions_at, len(HELLO)))


def test_random_byte_flips_only_raise_client_hello_error() -> None:
    rng = random.Random(7)
    outcomes = {"parsed": 0, "error": 0}
    for _ in range(4000):
        data = bytearray(HELLO)
        for _ in range(rng.randrange(1, 5)):
            data[rng.randrange(4, len(data))] = rng.randrange(256)
        try:
            hello = parse_client_hello(bytes(data))
        except ClientHelloError:
            outcomes["error"] += 1
            continue
        outcomes["parsed"] += 1
        assert hello.server_name is None or hello.server_name == hello.server_name.lower()
    assert outcomes["parsed"] > 0 and outcomes["error"] > 0


def test_random_bytes_after_a_handshake_header_only_raise_client_hello_error() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        body = rng.randbytes(rng.randrange(0, 200))
        data = b"\x01" + len(body).to_bytes(3, "big") + body
        with contextlib.suppress(ClientHelloError):
            parse_client_hello(data)


# --- TLS records over TCP -------------------------------------------------------------------


def test_hello_split_across_two_records_is_joined() -> None:
    stream = tls_records(HELLO, split_at=(700,))
    assert stream[5 + 700 : 5 + 700 + 3] == b"\x16\x03\x01"  # a second record header
    handshake, plausible = tls_records_handshake(stream)
    assert plausible and handshake == HELLO
    assert parse_client_hello(handshake).server_name == "meet.google.com"


def test_hello_split_across_records_and_cut_mid_record() -> None:
    stream = tls_records(HELLO, split_at=(700,))
    handshake, plausible = tls_records_handshake(stream[:1000])
    assert plausible and handshake == HELLO[: 1000 - 10]
    length = client_hello_length(handshake)
    assert length is not None and length > len(handshake)  # wait for more


def test_records_after_the_handshake_stop_the_join() -> None:
    stream = tls_records(HELLO) + b"\x14\x03\x03\x00\x01\x01" + tls_records(b"\x01\x00")
    handshake, plausible = tls_records_handshake(stream)
    assert plausible and handshake == HELLO


def test_not_tls_stream() -> None:
    assert tls_records_handshake(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n") == (b"", False)
    assert tls_records_handshake(b"\x16\x02\x00\x00\x05hello") == (b"", False)  # not version 3
    assert tls_records_handshake(b"\x16\x03") == (b"", True)  # too short to tell


@pytest.mark.parametrize("payload, expected", [
    (tls_records(HELLO), True),
    (tls_records(HELLO)[:6], True),
    (tls_records(HELLO)[:5], False),
    (b"\x17\x03\x03\x00\x10" + b"\x01" * 16, False),  # application data
    (b"GET / HTTP/1.1\r\n", False),
])
def test_looks_like_tls_handshake(payload: bytes, expected: bool) -> None:
    assert looks_like_tls_handshake(payload) is expected


# --- DTLS -----------------------------------------------------------------------------------


def dtls_client_hello(
    server_name: bytes | None = b"turn.example.net",
    cookie: bytes = bytes(range(32)),
    extensions: bytes | None = None,
    fragment: tuple[int, int] | None = None,
) -> bytes:
    """A DTLS 1.2 ClientHello handshake message (RFC 6347 4.2.2), 12-byte header first."""
    if extensions is None:
        extensions = _extension(0x000E, b"\x00\x04\x00\x01\x00\x02\x00")  # use_srtp
        extensions += _extension(0x0017, b"")  # extended master secret
        if server_name is not None:
            extensions += _sni_extension(server_name)
        extensions += _extension(16, b"\x00\x07\x06webrtc")
    body = (
        b"\xfe\xfd"  # DTLS 1.2
        + bytes(range(100, 132))  # random
        + b"\x00"  # session id
        + bytes([len(cookie)]) + cookie
        + b"\x00\x04\xc0\x2b\xc0\x2f"  # cipher suites
        + b"\x01\x00"  # compression: null
        + len(extensions).to_bytes(2, "big") + extensions
    )
    offset, length = fragment if fragment else (0, len(body))
    return (b"\x01" + len(body).to_bytes(3, "big") + b"\x00\x01" + offset.to_bytes(3, "big")
            + length.to_bytes(3, "big") + body[offset : offset + length])


def test_dtls_hello_with_cookie() -> None:
    hello = parse_dtls_client_hello(dtls_client_hello())
    assert hello == ClientHello("turn.example.net", ("webrtc",), 0xFEFD, False)


def test_dtls_hello_without_cookie_and_sni() -> None:
    hello = parse_dtls_client_hello(dtls_client_hello(server_name=None, cookie=b""))
    assert hello.server_name is None and hello.alpn == ("webrtc",)


def test_dtls_hello_as_tls_would_misread_the_cookie() -> None:
    """The cookie byte is what makes DTLS different: parsing it as TLS must not find the SNI
    by accident."""
    data = dtls_client_hello()
    as_tls = data[:4] + data[12:]
    try:
        hello = parse_client_hello(as_tls)
    except ClientHelloError:
        return
    assert hello.server_name != "turn.example.net"


@pytest.mark.parametrize("fragment", [(0, 40), (40, 30)])
def test_fragmented_dtls_hello_raises(fragment: tuple[int, int]) -> None:
    with pytest.raises(ClientHelloError, match="fragmented"):
        parse_dtls_client_hello(dtls_client_hello(fragment=fragment))


def test_incomplete_and_foreign_dtls_messages_raise() -> None:
    data = dtls_client_hello()
    for cut in range(len(data)):
        with pytest.raises(ClientHelloError):
            parse_dtls_client_hello(data[:cut])
    hello_verify_request = b"\x03" + data[1:]
    with pytest.raises(ClientHelloError, match="not a DTLS ClientHello"):
        parse_dtls_client_hello(hello_verify_request)


def test_dtls_random_flips_only_raise_client_hello_error() -> None:
    rng = random.Random(3)
    valid = dtls_client_hello()
    for _ in range(3000):
        data = bytearray(valid)
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(12, len(data))] = rng.randrange(256)
        with contextlib.suppress(ClientHelloError):
            parse_dtls_client_hello(bytes(data))
