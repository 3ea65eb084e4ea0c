"""DNS message decoding: records built with scapy's DNS layer (with and without its name
compression), HTTPS/SVCB address hints, mDNS, and malformed messages."""

from __future__ import annotations

import contextlib
import random
import struct

import pytest
from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRRMX, DNSRRSVCB, SvcParam

from auditor.protocols.dns import (
    MAX_RECORDS,
    TYPE_A,
    TYPE_AAAA,
    TYPE_CNAME,
    TYPE_HTTPS,
    TYPE_SVCB,
    DnsError,
    DnsMessage,
    DnsRecord,
    parse_dns,
)


def response(qname: str, *answers: DNSRR, qtype: str = "A", compress: bool = False) -> bytes:
    message = DNS(id=0x1234, qr=1, rd=1, ra=1, qd=DNSQR(qname=qname, qtype=qtype),
                  an=list(answers))
    return bytes(message.compress() if compress else message)


def header(qd: int = 0, an: int = 0, flags: int = 0x8180, txid: int = 1) -> bytes:
    return struct.pack("!HHHHHH", txid, flags, qd, an, 0, 0)


def name(*labels: bytes) -> bytes:
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\x00"


CHAIN = response(
    "www.zoom.us",
    DNSRR(rrname="www.zoom.us", type="CNAME", ttl=60, rdata="zoom.us.cdn.cloudflare.net"),
    DNSRR(rrname="zoom.us.cdn.cloudflare.net", type="CNAME", ttl=60, rdata="edge.cf.net"),
    DNSRR(rrname="edge.cf.net", type="A", ttl=300, rdata="104.16.1.1"),
    DNSRR(rrname="edge.cf.net", type="A", ttl=300, rdata="104.16.1.2"),
    compress=True,
)


def test_single_a_record() -> None:
    data = response("zoom.us", DNSRR(rrname="zoom.us", type="A", ttl=3600, rdata="170.114.52.2"))
    assert parse_dns(data) == DnsMessage(
        txid=0x1234,
        is_response=True,
        rcode=0,
        questions=(("zoom.us", TYPE_A),),
        answers=(DnsRecord("zoom.us", TYPE_A, 3600, "170.114.52.2"),),
    )


def test_aaaa_record() -> None:
    data = response("zoom.us", DNSRR(rrname="zoom.us", type="AAAA", ttl=30,
                                     rdata="2407:30c0:182::aa72:3402"), qtype="AAAA")
    message = parse_dns(data)
    assert message.questions == (("zoom.us", TYPE_AAAA),)
    assert message.answers == (DnsRecord("zoom.us", TYPE_AAAA, 30, "2407:30c0:182::aa72:3402"),)


def test_cname_chain_with_scapy_name_compression() -> None:
    assert CHAIN.count(b"\xc0") >= 3  # owner names are pointers
    message = parse_dns(CHAIN)
    assert message.questions == (("www.zoom.us", TYPE_A),)
    assert message.answers == (
        DnsRecord("www.zoom.us", TYPE_CNAME, 60, "zoom.us.cdn.cloudflare.net"),
        DnsRecord("zoom.us.cdn.cloudflare.net", TYPE_CNAME, 60, "edge.cf.net"),
        DnsRecord("edge.cf.net", TYPE_A, 300, "104.16.1.1"),
        DnsRecord("edge.cf.net", TYPE_A, 300, "104.16.1.2"),
    )


def test_compressed_and_uncompressed_forms_decode_alike() -> None:
    answers = [DNSRR(rrname="teams.microsoft.com", type="A", rdata=f"52.112.0.{i}")
               for i in range(1, 9)]
    plain = response("teams.microsoft.com", *answers)
    packed = response("teams.microsoft.com", *answers, compress=True)
    assert len(packed) < len(plain)
    assert parse_dns(plain) == parse_dns(packed)
    assert [r.value for r in parse_dns(packed).answers] == [f"52.112.0.{i}" for i in range(1, 9)]


def test_pointer_inside_cname_rdata_and_pointer_to_pointer() -> None:
    # Question "www.zoom.us" at 12; answer 1: owner = pointer to 12, CNAME rdata = "cdn" +
    # pointer to "zoom.us" (offset 16); answer 2: owner = pointer to answer 1's rdata.
    question = name(b"www", b"zoom", b"us") + b"\x00\x01\x00\x01"
    rdata = b"\x03cdn\xc0\x10"
    first = b"\xc0\x0c" + struct.pack("!HHIH", TYPE_CNAME, 1, 120, len(rdata)) + rdata
    rdata_at = 12 + len(question) + 12
    second = (struct.pack("!H", 0xC000 | rdata_at) + struct.pack("!HHIH", TYPE_A, 1, 5, 4)
              + bytes([10, 1, 2, 3]))
    data = header(qd=1, an=2) + question + first + second
    message = parse_dns(data)
    assert message.answers == (
        DnsRecord("www.zoom.us", TYPE_CNAME, 120, "cdn.zoom.us"),
        DnsRecord("cdn.zoom.us", TYPE_A, 5, "10.1.2.3"),
    )


def test_names_are_lowercased_without_trailing_dot() -> None:
    data = response("WWW.Zoom.US.", DNSRR(rrname="WWW.Zoom.US.", type="A", rdata="1.2.3.4"))
    message = parse_dns(data)
    assert message.questions == (("www.zoom.us", TYPE_A),)
    assert message.answers[0].name == "www.zoom.us"


def test_other_record_types_are_skipped() -> None:
    data = response(
        "example.com",
        DNSRRMX(rrname="example.com", exchange="mx.example.com"),
        DNSRR(rrname="example.com", type="TXT", rdata="v=spf1 -all"),
        DNSRR(rrname="example.com", type="A", rdata="93.184.216.34"),
        qtype=255,
    )
    message = parse_dns(data)
    assert [(r.rtype, r.value) for r in message.answers] == [(TYPE_A, "93.184.216.34")]


def test_address_record_with_wrong_length_is_skipped() -> None:
    question = name(b"a", b"example") + b"\x00\x01\x00\x01"
    bad = b"\xc0\x0c" + struct.pack("!HHIH", TYPE_A, 1, 5, 5) + b"\x01\x02\x03\x04\x05"
    good = b"\xc0\x0c" + struct.pack("!HHIH", TYPE_A, 1, 5, 4) + b"\x01\x02\x03\x04"
    message = parse_dns(header(qd=1, an=2) + question + bad + good)
    assert [r.value for r in message.answers] == ["1.2.3.4"]


def test_query_and_nxdomain() -> None:
    query = bytes(DNS(id=9, rd=1, qd=DNSQR(qname="zoom.us")))
    message = parse_dns(query)
    assert not message.is_response and message.answers == () and message.txid == 9
    nxdomain = bytes(DNS(id=9, qr=1, rcode=3, qd=DNSQR(qname="nope.zoom.us")))
    message = parse_dns(nxdomain)
    assert message.is_response and message.rcode == 3 and message.answers == ()


def test_non_query_opcode_is_rejected() -> None:
    update = bytes(DNS(id=1, opcode=5, qd=DNSQR(qname="zoom.us")))
    with pytest.raises(DnsError, match="opcode 5"):
        parse_dns(update)


def test_https_record_address_hints() -> None:
    data = response(
        "meet.google.com",
        DNSRRSVCB(rrname="meet.google.com", type="HTTPS", ttl=300, svc_priority=1,
                  target_name=".", svc_params=[
                      SvcParam(key="alpn", value=[b"h2", b"h3"]),
                      SvcParam(key="ipv4hint", value=["142.250.1.1", "142.250.1.2"]),
                      SvcParam(key="ipv6hint", value=["2a00:1450::1"]),
                  ]),
        qtype="HTTPS",
    )
    message = parse_dns(data)
    assert message.questions == (("meet.google.com", TYPE_HTTPS),)
    assert message.answers == (
        DnsRecord("meet.google.com", TYPE_HTTPS, 300, "142.250.1.1"),
        DnsRecord("meet.google.com", TYPE_HTTPS, 300, "142.250.1.2"),
        DnsRecord("meet.google.com", TYPE_HTTPS, 300, "2a00:1450::1"),
    )


def test_svcb_record_with_target_name_and_hint() -> None:
    data = response(
        "_dns.resolver.arpa",
        DNSRRSVCB(rrname="_dns.resolver.arpa", type="SVCB", ttl=60, svc_priority=1,
                  target_name="dns.example.net", svc_params=[
                      SvcParam(key="alpn", value=[b"dot"]),
                      SvcParam(key="ipv4hint", value=["9.9.9.9"]),
                  ]),
        qtype="SVCB",
    )
    assert parse_dns(data).answers == (DnsRecord("_dns.resolver.arpa", TYPE_SVCB, 60,
                                                 "9.9.9.9"),)


def test_https_alias_mode_has_no_addresses() -> None:
    data = response("zoom.us", DNSRRSVCB(rrname="zoom.us", type="HTTPS", svc_priority=0,
                                          target_name="zoom.cdn.net"), qtype="HTTPS")
    assert parse_dns(data).answers == ()


def test_mdns_response_without_questions() -> None:
    data = bytes(DNS(id=0, qr=1, aa=1, qd=[], an=[
        DNSRR(rrname="Living-Room-TV.local", type="A", rclass=0x8001, ttl=120,
              rdata="192.168.1.50"),
        DNSRR(rrname="Living-Room-TV.local", type="AAAA", rclass=0x8001, ttl=120,
              rdata="fe80::1c2d:3e4f"),
    ]))
    message = parse_dns(data)
    assert message.questions == () and message.is_response and message.txid == 0
    assert message.answers == (
        DnsRecord("living-room-tv.local", TYPE_A, 120, "192.168.1.50"),
        DnsRecord("living-room-tv.local", TYPE_AAAA, 120, "fe80::1c2d:3e4f"),
    )


# --- malformed ------------------------------------------------------------------------------


def test_short_header() -> None:
    for length in range(12):
        with pytest.raises(DnsError, match="shorter than a DNS header"):
            parse_dns(b"\x00" * length)


def test_pointer_to_itself_is_a_loop() -> None:
    data = header(qd=1) + b"\xc0\x0c" + b"\x00\x01\x00\x01"
    with pytest.raises(DnsError, match="loop"):
        parse_dns(data)


def test_two_pointers_pointing_at_each_other_are_a_loop() -> None:
    data = header(qd=1) + b"\x01a\xc0\x10" + b"\x01b\xc0\x0c" + b"\x00\x01\x00\x01"
    with pytest.raises(DnsError, match="loop"):
        parse_dns(data)


def test_pointer_past_the_end() -> None:
    data = header(qd=1) + b"\xc0\xff" + b"\x00\x01\x00\x01"
    with pytest.raises(DnsError, match="past the message"):
        parse_dns(data)


def test_pointer_cut_in_half() -> None:
    with pytest.raises(DnsError):
        parse_dns(header(qd=1) + b"\xc0")


@pytest.mark.parametrize("length_byte", [0x40, 0x7F, 0x80, 0xBF])
def test_label_longer_than_63_bytes(length_byte: int) -> None:
    data = header(qd=1) + bytes([length_byte]) + b"a" * length_byte + b"\x00\x00\x01\x00\x01"
    with pytest.raises(DnsError, match="label type"):
        parse_dns(data)


def test_label_running_past_the_message() -> None:
    with pytest.raises(DnsError):
        parse_dns(header(qd=1) + b"\x10zoom")


def _long_name(wire_length: int) -> bytes:
    """An uncompressed name of exactly `wire_length` bytes (labels, length bytes, root)."""
    labels = []
    remaining = wire_length - 1
    while remaining:
        size = min(63, remaining - 1)
        if remaining - (size + 1) == 1:  # never leave room for a 0-byte label
            size -= 1
        labels.append(b"a" * size)
        remaining -= size + 1
    encoded = name(*labels)
    assert len(encoded) == wire_length
    return encoded


def test_name_of_255_bytes_is_accepted() -> None:
    data = header(qd=1) + _long_name(255) + b"\x00\x01\x00\x01"
    (qname, _), = parse_dns(data).questions
    assert len(qname) == 253


@pytest.mark.parametrize("wire_length", [256, 300])
def test_name_longer_than_255_bytes_is_rejected(wire_length: int) -> None:
    data = header(qd=1) + _long_name(wire_length) + b"\x00\x01\x00\x01"
    with pytest.raises(DnsError, match="longer than 255"):
        parse_dns(data)


def test_name_made_long_by_compression_is_rejected() -> None:
    # After the question: a name of one 63-byte label, then four names that each add a
    # 63-byte label to a pointer at the previous one. The question points at the last:
    # 5 * 64 + 1 = 321 bytes once expanded, though no single name on the wire is long.
    data = bytearray(header(qd=1) + b"\xc0\x00" + b"\x00\x01\x00\x01")
    previous = len(data)
    data += b"\x3f" + b"a" * 63 + b"\x00"
    for _ in range(4):
        here = len(data)
        data += b"\x3f" + b"b" * 63 + struct.pack("!H", 0xC000 | previous)
        previous = here
    data[12:14] = struct.pack("!H", 0xC000 | previous)
    with pytest.raises(DnsError, match="longer than 255"):
        parse_dns(bytes(data))


def test_too_many_records_claimed() -> None:
    with pytest.raises(DnsError, match="implausible"):
        parse_dns(header(qd=1, an=MAX_RECORDS) + b"\x00" * 40)


def test_record_data_past_the_message() -> None:
    question = name(b"a") + b"\x00\x01\x00\x01"
    record = b"\xc0\x0c" + struct.pack("!HHIH", TYPE_A, 1, 5, 400) + b"\x01\x02\x03\x04"
    with pytest.raises(DnsError, match="past the message"):
        parse_dns(header(qd=1, an=1) + question + record)


@pytest.mark.parametrize("data", [
    pytest.param(CHAIN, id="cname-chain"),
    pytest.param(response("meet.google.com", DNSRRSVCB(
        rrname="meet.google.com", type="HTTPS", svc_priority=1, target_name=".",
        svc_params=[SvcParam(key="ipv4hint", value=["1.1.1.1"]),
                    SvcParam(key="ipv6hint", value=["2001:db8::1"])]), qtype="HTTPS"),
        id="https"),
])
def test_every_truncation_raises_dns_error(data: bytes) -> None:
    for cut in range(len(data)):
        with pytest.raises(DnsError):
            parse_dns(data[:cut])


def test_random_byte_flips_only_raise_dns_error() -> None:
    rng = random.Random(17)
    https = response("meet.google.com", DNSRRSVCB(
        rrname="meet.google.com", type="HTTPS", svc_priority=1, target_name=".",
        svc_params=[SvcParam(key="ipv4hint", value=["1.1.1.1", "2.2.2.2"]),
                    SvcParam(key="ipv6hint", value=["2001:db8::1"])]), qtype="HTTPS",
        compress=True)
    parsed = errors = 0
    for valid in (CHAIN, https):
        for _ in range(3000):
            data = bytearray(valid)
            for _ in range(rng.randrange(1, 5)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            try:
                message = parse_dns(bytes(data))
            except DnsError:
                errors += 1
                continue
            parsed += 1
            assert all(isinstance(r.value, str) for r in message.answers)
    assert parsed > 0 and errors > 0


def test_random_bytes_only_raise_dns_error() -> None:
    rng = random.Random(23)
    for _ in range(5000):
        data = rng.randbytes(rng.randrange(0, 120))
        if len(data) >= 4 and rng.random() < 0.5:
            data = data[:2] + b"\x81\x80" + data[4:]  # a response header, to get further
        with contextlib.suppress(DnsError):
            parse_dns(data)
