"""STUN and TURN messages (RFC 8489, RFC 8656; classic STUN of RFC 3489) and TURN ChannelData.

ICE connectivity checks, NAT discovery and TURN relaying all speak STUN: a 20-byte header
(message type with method and class interleaved, length, magic cookie, transaction ID) and
type-length-value attributes. vcaudit reads the attributes a privacy audit needs: who the
server says the client is (XOR-MAPPED-ADDRESS), which relay address a TURN server allocated
and which peers the client asked it to reach, the relay operator's REALM, the SOFTWARE each
side names, and the DATA a Send or Data indication relays. Malformed input raises `StunError`.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

MAGIC_COOKIE = 0x2112A442
MAGIC_COOKIE_BYTES = MAGIC_COOKIE.to_bytes(4, "big")
HEADER_LENGTH = 20
MAX_TEXT = 256  # characters kept of SOFTWARE and REALM (RFC 8489 allows up to 763 bytes)
MAX_ATTRIBUTES = 64

CLASS_REQUEST, CLASS_INDICATION, CLASS_SUCCESS, CLASS_ERROR = 0, 1, 2, 3
CLASS_NAMES = {CLASS_REQUEST: "request", CLASS_INDICATION: "indication",
               CLASS_SUCCESS: "success", CLASS_ERROR: "error"}

METHOD_BINDING = 0x001
METHOD_ALLOCATE = 0x003
METHOD_REFRESH = 0x004
METHOD_SEND = 0x006
METHOD_DATA = 0x007
METHOD_CREATE_PERMISSION = 0x008
METHOD_CHANNEL_BIND = 0x009
METHOD_NAMES = {
    METHOD_BINDING: "binding", 0x002: "shared-secret", METHOD_ALLOCATE: "allocate",
    METHOD_REFRESH: "refresh", METHOD_SEND: "send", METHOD_DATA: "data",
    METHOD_CREATE_PERMISSION: "create-permission", METHOD_CHANNEL_BIND: "channel-bind",
    0x00A: "connect", 0x00B: "connection-bind", 0x00C: "connection-attempt",
}
# Methods only a TURN relay answers (RFC 8656, RFC 6062): their presence makes a flow TURN.
TURN_METHODS = frozenset({METHOD_ALLOCATE, METHOD_REFRESH, METHOD_SEND, METHOD_DATA,
                          METHOD_CREATE_PERMISSION, METHOD_CHANNEL_BIND, 0x00A, 0x00B, 0x00C})

ATTR_MAPPED_ADDRESS = 0x0001
ATTR_CHANGED_ADDRESS = 0x0005  # RFC 3489
ATTR_ERROR_CODE = 0x0009
ATTR_XOR_PEER_ADDRESS = 0x0012
ATTR_DATA = 0x0013
ATTR_REALM = 0x0014
ATTR_XOR_RELAYED_ADDRESS = 0x0016
ATTR_XOR_MAPPED_ADDRESS = 0x0020
ATTR_PRIORITY = 0x0024
ATTR_USE_CANDIDATE = 0x0025
ATTR_XOR_MAPPED_ADDRESS_DRAFT = 0x8020  # pre-RFC 5389 code point, still sent by some servers
ATTR_SOFTWARE = 0x8022
ATTR_ICE_CONTROLLED = 0x8029
ATTR_ICE_CONTROLLING = 0x802A
ATTR_MESSAGE_INTEGRITY = 0x0008
# Attributes that only ICE connectivity checks carry (RFC 8445): media follows on this 5-tuple.
ICE_ATTRIBUTES = frozenset({ATTR_PRIORITY, ATTR_USE_CANDIDATE, ATTR_ICE_CONTROLLED,
                            ATTR_ICE_CONTROLLING})
# RFC 3489 message types (binding and shared-secret requests and responses).
CLASSIC_TYPES = frozenset({0x0001, 0x0101, 0x0111, 0x0002, 0x0102, 0x0112})
# Microsoft's TURN dialect ([MS-TURN], Skype and Teams relays) marks its messages with a
# MAGIC-COOKIE attribute; some of its message types mean other things than in RFC 8656.
ATTR_MS_MAGIC_COOKIE = 0x000F
MS_MAGIC_COOKIE = bytes.fromhex("72c64bc6")
ATTR_MS_DESTINATION_ADDRESS = 0x0011
ATTR_MS_REALM = 0x0015  # 0x0014 is MS-TURN's NONCE
ATTR_MS_REMOTE_ADDRESS = 0x0012
METHOD_MS_SET_ACTIVE_DESTINATION = 0x1006  # outside the 12-bit range: no RFC method clashes
MS_TURN_TYPES = {0x0004: (METHOD_SEND, CLASS_REQUEST), 0x0115: (METHOD_DATA, CLASS_INDICATION),
                 0x0006: (METHOD_MS_SET_ACTIVE_DESTINATION, CLASS_REQUEST),
                 0x0106: (METHOD_MS_SET_ACTIVE_DESTINATION, CLASS_SUCCESS),
                 0x0116: (METHOD_MS_SET_ACTIVE_DESTINATION, CLASS_ERROR)}

_HEADER = struct.Struct("!HHI")
_ATTRIBUTE = struct.Struct("!HH")
Address = tuple[str, int]


class StunError(ValueError):
    """The bytes are not a well-formed STUN message or ChannelData frame."""


@dataclass(frozen=True, slots=True)
class StunMessage:
    """The parts of one STUN message vcaudit reports."""

    method: int
    message_class: int  # CLASS_REQUEST, CLASS_INDICATION, CLASS_SUCCESS or CLASS_ERROR
    transaction_id: bytes
    classic: bool  # RFC 3489 STUN, without the magic cookie
    attributes: tuple[int, ...]  # attribute types, in order
    ms_turn: bool = False  # Microsoft's TURN dialect (MS-TURN)
    software: str | None = None
    realm: str | None = None
    mapped_address: Address | None = None  # the sender of the request, as the server saw it
    relayed_address: Address | None = None  # the relay address a TURN server allocated
    peer_address: Address | None = None  # the peer a TURN client asks the relay to reach
    error_code: int | None = None
    data: bytes | None = None  # the datagram a Send or Data indication relays

    @property
    def method_name(self) -> str:
        """The method in lowercase words (`binding`, `allocate`, ...), or its number."""
        if self.method == METHOD_MS_SET_ACTIVE_DESTINATION:
            return "set-active-destination"
        return METHOD_NAMES.get(self.method, f"method-0x{self.method:03x}")

    @property
    def is_turn(self) -> bool:
        """Whether the method exists only in TURN (allocations, permissions, relayed data)."""
        return self.method in TURN_METHODS or self.ms_turn

    @property
    def is_ice_check(self) -> bool:
        """Whether it carries ICE attributes: a connectivity check between media endpoints."""
        return any(a in ICE_ATTRIBUTES for a in self.attributes)


def looks_like_stun(payload: bytes) -> bool:
    """Cheap test: an RFC 5389+ header with the magic cookie and a length that fits, or an
    RFC 3489 binding or shared-secret message whose length field matches the datagram."""
    if len(payload) < HEADER_LENGTH or payload[0] & 0xC0:
        return False
    length = int.from_bytes(payload[2:4], "big")
    if payload[4:8] == MAGIC_COOKIE_BYTES and length % 4 == 0:
        return HEADER_LENGTH + length <= len(payload)
    return length == len(payload) - HEADER_LENGTH and (
        int.from_bytes(payload[0:2], "big") in CLASSIC_TYPES or _is_ms_turn(payload))


def _is_ms_turn(payload: bytes) -> bool:
    """MS-TURN puts its MAGIC-COOKIE attribute first; its messages may lack the RFC 5389
    cookie in the header (a 16-byte transaction ID instead) and are not padded."""
    return payload[20:22] == b"\x00\x0f" and payload[24:28] == MS_MAGIC_COOKIE


def message_length(payload: bytes) -> int | None:
    """Length of the STUN message at the start of `payload` (header included), or None when
    fewer than 4 bytes are there; for framing STUN over TCP (RFC 8489 section 6.2.2)."""
    if len(payload) < 4:
        return None
    return HEADER_LENGTH + int.from_bytes(payload[2:4], "big")


def parse_stun(payload: bytes) -> StunMessage:
    """Decode one STUN message (a whole UDP datagram, or one message of a TCP stream)."""
    if len(payload) < HEADER_LENGTH:
        raise StunError(f"{len(payload)} bytes is shorter than a STUN header")
    msg_type, length, cookie = _HEADER.unpack_from(payload, 0)
    if msg_type & 0xC000:
        raise StunError("the two top bits of a STUN message type must be zero")
    classic = cookie != MAGIC_COOKIE
    ms_turn = length >= 8 and _is_ms_turn(payload)
    if classic and not ms_turn and msg_type not in CLASSIC_TYPES:
        raise StunError(f"no magic cookie and type 0x{msg_type:04x} is not RFC 3489 STUN")
    end = HEADER_LENGTH + length
    if end > len(payload):
        raise StunError(f"STUN length {length} runs past the {len(payload)}-byte payload")
    if not classic and not ms_turn and length % 4:
        raise StunError(f"STUN length {length} is not a multiple of 4")
    txid = bytes(payload[8:20]) if not classic else bytes(payload[4:20])
    if ms_turn and msg_type in MS_TURN_TYPES:
        method, message_class = MS_TURN_TYPES[msg_type]
    else:
        method = (msg_type & 0x000F) | ((msg_type & 0x00E0) >> 1) | ((msg_type & 0x3E00) >> 2)
        message_class = ((msg_type >> 7) & 0x2) | ((msg_type >> 4) & 0x1)
    fields = _Attributes(payload, txid, classic, ms_turn)
    fields.read(end)
    mapped, relayed = fields.xor_mapped or fields.mapped, fields.relayed
    if ms_turn and method == METHOD_ALLOCATE and fields.mapped is not None:
        # MS-TURN's Allocate response gives the relay address as MAPPED-ADDRESS and the
        # client's reflexive address as XOR-MAPPED-ADDRESS.
        mapped, relayed = fields.xor_mapped, relayed or fields.mapped
    return StunMessage(
        method=method, message_class=message_class, transaction_id=txid, classic=classic,
        attributes=tuple(fields.types), ms_turn=ms_turn, software=fields.software,
        realm=fields.realm, mapped_address=mapped, relayed_address=relayed,
        peer_address=fields.peer, error_code=fields.error_code, data=fields.data,
    )


class _Attributes:
    """Walks the attribute list of one message, keeping the ones vcaudit reports."""

    def __init__(self, payload: bytes, txid: bytes, classic: bool, ms_turn: bool) -> None:
        self.payload, self.txid, self.classic, self.ms_turn = payload, txid, classic, ms_turn
        self.types: list[int] = []
        self.software: str | None = None
        self.realm: str | None = None
        self.mapped: Address | None = None
        self.xor_mapped: Address | None = None
        self.relayed: Address | None = None
        self.peer: Address | None = None
        self.error_code: int | None = None
        self.data: bytes | None = None

    def read(self, end: int) -> None:
        pos = HEADER_LENGTH
        while pos + 4 <= end:
            if len(self.types) >= MAX_ATTRIBUTES:
                raise StunError(f"more than {MAX_ATTRIBUTES} attributes")
            kind, length = _ATTRIBUTE.unpack_from(self.payload, pos)
            start = pos + 4
            if start + length > end:
                raise StunError(f"attribute 0x{kind:04x} runs past the message")
            self.types.append(kind)
            self._take(kind, bytes(self.payload[start : start + length]))
            pos = start + length
            if not self.classic and not self.ms_turn:
                pos += -length % 4  # values are padded to a multiple of 4 bytes
        if pos < end:
            raise StunError("trailing bytes after the last attribute")

    def _take(self, kind: int, value: bytes) -> None:
        if kind == ATTR_SOFTWARE:
            self.software = _text(value)
        elif kind == (ATTR_MS_REALM if self.ms_turn else ATTR_REALM):
            self.realm = _text(value)
        elif kind in (ATTR_XOR_MAPPED_ADDRESS, ATTR_XOR_MAPPED_ADDRESS_DRAFT):
            self.xor_mapped = self.xor_mapped or self._address(value, xor=True)
        elif kind == ATTR_MAPPED_ADDRESS:
            self.mapped = self.mapped or self._address(value, xor=False)
        elif kind == ATTR_XOR_RELAYED_ADDRESS:
            self.relayed = self.relayed or self._address(value, xor=True)
        elif kind == ATTR_XOR_PEER_ADDRESS or (
                self.ms_turn and kind == ATTR_MS_DESTINATION_ADDRESS):
            # MS-TURN's DESTINATION-ADDRESS and REMOTE-ADDRESS (the XOR-PEER-ADDRESS code
            # point) name the peer in clear.
            self.peer = self.peer or self._address(value, xor=not self.ms_turn)
        elif kind == ATTR_ERROR_CODE:
            if len(value) < 4:
                raise StunError("ERROR-CODE shorter than 4 bytes")
            self.error_code = (value[2] & 0x07) * 100 + value[3]
        elif kind == ATTR_DATA:
            self.data = value

    def _address(self, value: bytes, xor: bool) -> Address:
        if len(value) < 8 or value[1] not in (1, 2):
            raise StunError("address attribute with a bad family or length")
        size = 4 if value[1] == 1 else 16
        if len(value) < 4 + size:
            raise StunError("address attribute is truncated")
        port = int.from_bytes(value[2:4], "big")
        raw = value[4 : 4 + size]
        if xor:
            if self.classic and not self.ms_turn:
                raise StunError("XOR-encoded address in a message without the magic cookie")
            port ^= MAGIC_COOKIE >> 16
            key = MAGIC_COOKIE_BYTES + self.txid
            raw = bytes(a ^ b for a, b in zip(raw, key, strict=False))
        return str(ipaddress.ip_address(raw)), port


def _text(value: bytes) -> str:
    """UTF-8 text of a SOFTWARE or REALM value (quotes dropped), unprintable characters
    replaced: these come from traffic and end up in reports."""
    text = value.decode("utf-8", "replace").strip().strip('"')[:MAX_TEXT]
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text)


def parse_channel_data(payload: bytes) -> tuple[int, bytes]:
    """TURN ChannelData (RFC 8656 section 12.4): the channel number and the relayed datagram.

    Over UDP the datagram may carry padding after the data; a length past the end raises.
    """
    if len(payload) < 4:
        raise StunError("ChannelData shorter than its 4-byte header")
    channel = int.from_bytes(payload[0:2], "big")
    if not 0x4000 <= channel <= 0x7FFF:
        raise StunError(f"channel number 0x{channel:04x} is outside 0x4000-0x7FFF")
    length = int.from_bytes(payload[2:4], "big")
    if 4 + length > len(payload):
        raise StunError(f"ChannelData length {length} runs past the {len(payload)}-byte payload")
    return channel, bytes(payload[4 : 4 + length])


def address_text(address: Address) -> str:
    """An address and port as one string: `192.0.2.1:3478`, `[2001:db8::1]:3478`."""
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
