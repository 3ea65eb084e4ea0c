"""STUN and TURN message parsing: methods and classes, the address attributes (XOR-encoded and
plain, IPv4 and IPv6), REALM and SOFTWARE, ChannelData, Microsoft's MS-TURN dialect, and
hostile input that must only ever raise StunError."""

from __future__ import annotations

import contextlib
import random
import struct

import pytest
from scapy.contrib.stun import STUN, STUNIceControlling, STUNPriority, STUNXorMappedAddress
from scapy.layers.inet import TCP, UDP
from scapy.packet import split_layers

from auditor.protocols.stun import (
    CLASS_ERROR,
    CLASS_INDICATION,
    CLASS_REQUEST,
    CLASS_SUCCESS,
    METHOD_ALLOCATE,
    METHOD_BINDING,
    METHOD_CHANNEL_BIND,
    METHOD_CREATE_PERMISSION,
    METHOD_SEND,
    StunError,
    address_text,
    looks_like_stun,
    parse_channel_data,
    parse_stun,
)

from .media_packets import attribute, rtp, stun, xor_address

# Importing scapy's STUN layer binds it to port 3478 for the whole test process; undo that so
# other tests never see port-based dissection (the same care conftest takes for TLS).
for _layer in (UDP, TCP):
    split_layers(_layer, STUN, sport=3478)
    split_layers(_layer, STUN, dport=3478)

TXID = bytes(range(1, 13))


def test_binding_built_by_scapy_xor_mapped_address_v4_and_v6() -> None:
    for host in ("203.0.113.9", "2001:db8::1:2"):
        message = bytes(STUN(stun_message_type="Binding success response", transaction_id=7,
                             attributes=[STUNXorMappedAddress(
                                 address_family=2 if ":" in host else 1, xport=61000,
                                 xip=host)]))
        parsed = parse_stun(message)
        assert (parsed.method, parsed.message_class) == (METHOD_BINDING, CLASS_SUCCESS)
        assert parsed.mapped_address == (host, 61000)
        assert looks_like_stun(message)


def test_ice_check_built_by_scapy() -> None:
    message = bytes(STUN(stun_message_type="Binding request", transaction_id=9,
                         attributes=[STUNPriority(priority=0x6E7F1EFF),
                                     STUNIceControlling(tie_breaker=5)]))
    parsed = parse_stun(message)
    assert (parsed.method_name, parsed.message_class) == ("binding", CLASS_REQUEST)
    assert parsed.is_ice_check and not parsed.is_turn
    assert parsed.attributes == (0x0024, 0x802A)


def test_turn_allocation_realm_software_and_addresses() -> None:
    challenge = parse_stun(stun(METHOD_ALLOCATE, CLASS_ERROR, TXID,
                                attribute(0x0009, b"\x00\x00\x04\x01Unauthorized")
                                + attribute(0x0014, b"turn.l.google.com")
                                + attribute(0x0015, b"nonce-1")))
    assert challenge.is_turn and challenge.error_code == 401
    assert challenge.realm == "turn.l.google.com"
    granted = parse_stun(stun(METHOD_ALLOCATE, CLASS_SUCCESS, TXID,
                              xor_address(0x0016, "198.51.100.7", 49152, TXID)
                              + xor_address(0x0020, "203.0.113.9", 61000, TXID)
                              + attribute(0x8022, b"Coturn-4.6 'Gorst'")))
    assert granted.relayed_address == ("198.51.100.7", 49152)
    assert granted.mapped_address == ("203.0.113.9", 61000)
    assert granted.software == "Coturn-4.6 'Gorst'"
    permission = parse_stun(stun(METHOD_CREATE_PERMISSION, CLASS_REQUEST, TXID,
                                 xor_address(0x0012, "2001:db8::99", 5000, TXID)))
    assert permission.method_name == "create-permission"
    assert permission.peer_address == ("2001:db8::99", 5000)
    assert address_text(permission.peer_address) == "[2001:db8::99]:5000"
    bind = parse_stun(stun(METHOD_CHANNEL_BIND, CLASS_REQUEST, TXID,
                           attribute(0x000C, b"\x40\x00\x00\x00")))
    assert bind.method_name == "channel-bind"


def test_send_indication_carries_the_relayed_datagram() -> None:
    inner = rtp(111, 7, 0xABCD)
    message = parse_stun(stun(METHOD_SEND, CLASS_INDICATION, TXID,
                              xor_address(0x0012, "192.0.2.50", 7000, TXID)
                              + attribute(0x0013, inner), fingerprint=False))
    assert (message.method_name, message.message_class) == ("send", CLASS_INDICATION)
    assert message.data == inner and message.peer_address == ("192.0.2.50", 7000)


def test_classic_rfc3489_binding() -> None:
    txid16 = bytes(range(16))
    mapped = struct.pack("!HHBBH4s", 0x0001, 8, 0, 1, 40000, bytes([192, 0, 2, 33]))
    message = struct.pack("!HH", 0x0101, len(mapped)) + txid16 + mapped
    parsed = parse_stun(message)
    assert parsed.classic and parsed.transaction_id == txid16
    assert parsed.mapped_address == ("192.0.2.33", 40000)
    assert looks_like_stun(message)
    # Without the cookie only RFC 3489's message types are STUN.
    other = struct.pack("!HH", 0x0003, len(mapped)) + txid16 + mapped
    assert not looks_like_stun(other)
    with pytest.raises(StunError):
        parse_stun(other)


def test_ms_turn_dialect() -> None:
    """MS-TURN: MAGIC-COOKIE attribute first, 16-byte transaction IDs, no padding, REALM at
    0x0015, peers in clear in DESTINATION-ADDRESS and REMOTE-ADDRESS, its own type codes."""
    txid16 = bytes(range(16))
    cookie = struct.pack("!HH", 0x000F, 4) + bytes.fromhex("72c64bc6")
    realm = struct.pack("!HH", 0x0015, 10) + b'"rtcmedia"'
    remote = struct.pack("!HHBBH4s", 0x0012, 8, 0, 1, 16332, bytes([93, 71, 110, 205]))
    data = rtp(104, 1, 0x74EC)
    payload = struct.pack("!HH", 0x0013, len(data)) + data
    body = cookie + realm + remote + payload
    message = struct.pack("!HH", 0x0115, len(body)) + txid16 + body
    assert looks_like_stun(message)
    parsed = parse_stun(message)
    assert parsed.ms_turn and parsed.is_turn
    assert (parsed.method_name, parsed.message_class) == ("data", CLASS_INDICATION)
    assert parsed.realm == "rtcmedia"
    assert parsed.peer_address == ("93.71.110.205", 16332)
    assert parsed.data == data


def test_channel_data() -> None:
    inner = rtp(96, 1, 5)
    assert parse_channel_data(b"\x40\x01" + len(inner).to_bytes(2, "big") + inner + b"\0\0") == (
        0x4001, inner)
    for bad in (b"\x40\x01", b"\x30\x00\x00\x00", b"\x40\x00\x00\x10abc"):
        with pytest.raises(StunError):
            parse_channel_data(bad)


def test_text_attributes_are_made_printable() -> None:
    parsed = parse_stun(stun(METHOD_ALLOCATE, CLASS_ERROR, TXID,
                             attribute(0x0014, b"evil\x1b[2J\xffrealm")))
    assert parsed.realm is not None and "\x1b" not in parsed.realm
    assert parsed.realm.startswith("evil") and parsed.realm.endswith("realm")


@pytest.mark.parametrize("message", [
    stun(METHOD_ALLOCATE, CLASS_SUCCESS, TXID, xor_address(0x0016, "198.51.100.7", 1, TXID)
         + attribute(0x8022, b"x" * 30) + attribute(0x0014, b"signal.org")),
    stun(METHOD_BINDING, CLASS_SUCCESS, TXID, xor_address(0x0020, "2001:db8::5", 2, TXID)),
])
def test_truncations_and_bit_flips_only_raise_stun_error(message: bytes) -> None:
    for cut in range(len(message)):
        with contextlib.suppress(StunError):
            parse_stun(message[:cut])
    rng = random.Random(5)
    for _ in range(3000):
        data = bytearray(message)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        with contextlib.suppress(StunError):
            parse_stun(bytes(data))


def test_random_bytes_are_rarely_stun_and_never_crash() -> None:
    rng = random.Random(11)
    accepted = 0
    for _ in range(20000):
        data = rng.randbytes(rng.randint(0, 120))
        if looks_like_stun(data):
            accepted += 1
        with contextlib.suppress(StunError):
            parse_stun(data)
    assert accepted == 0
