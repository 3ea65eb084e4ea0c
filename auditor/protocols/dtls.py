"""DTLS records (RFC 6347, RFC 9147): which datagrams are DTLS, and what handshake they carry.

WebRTC and Zoom's web client key their SRTP with a DTLS handshake on the media port (DTLS-SRTP,
RFC 5764); a DTLS ClientHello may name the server (`auditor.protocols.tls.parse_dtls_client_hello`
reads it). Only the record layer is read here; malformed records raise `DtlsError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

RECORD_HEADER_LENGTH = 13
CONTENT_HANDSHAKE = 22
# change_cipher_spec, alert, handshake, application_data, heartbeat, tls12_cid, ack
CONTENT_TYPES = frozenset({20, 21, 22, 23, 24, 25, 26})
VERSIONS = frozenset({0xFEFF, 0xFEFD, 0xFEFC})  # DTLS 1.0, 1.2 and the 1.3 draft code point
HANDSHAKE_CLIENT_HELLO = 1
HANDSHAKE_SERVER_HELLO = 2
HANDSHAKE_HELLO_VERIFY_REQUEST = 3

_RECORD = struct.Struct("!BHHIHH")  # type, version, epoch, sequence (6 bytes as 4+2), length


class DtlsError(ValueError):
    """The bytes are not well-formed DTLS records."""


@dataclass(frozen=True, slots=True)
class DtlsRecord:
    """One record's header, and for a clear handshake record the message type it starts."""

    content_type: int
    version: int
    epoch: int
    length: int
    handshake_type: int | None  # only for epoch-0 handshake records (encrypted ones hide it)
    offset: int  # where the record's body starts in the datagram


def looks_like_dtls(payload: bytes) -> bool:
    """Cheap test: a known content type, a DTLS version and a record that fits."""
    return (len(payload) >= RECORD_HEADER_LENGTH and payload[0] in CONTENT_TYPES
            and (payload[1] << 8 | payload[2]) in VERSIONS
            and RECORD_HEADER_LENGTH + (payload[11] << 8 | payload[12]) <= len(payload))


def parse_records(payload: bytes) -> tuple[DtlsRecord, ...]:
    """Every record of a datagram (a flight often packs several), in order."""
    records: list[DtlsRecord] = []
    pos = 0
    while pos < len(payload):
        if pos + RECORD_HEADER_LENGTH > len(payload):
            raise DtlsError(f"{len(payload) - pos} bytes left, shorter than a record header")
        content_type, version, epoch, _seq_high, _seq_low, length = _RECORD.unpack_from(
            payload, pos)
        if content_type not in CONTENT_TYPES or version not in VERSIONS:
            raise DtlsError(f"record type {content_type}, version 0x{version:04x} is not DTLS")
        body = pos + RECORD_HEADER_LENGTH
        if body + length > len(payload):
            raise DtlsError(f"record of {length} bytes runs past the datagram")
        handshake_type = (payload[body] if content_type == CONTENT_HANDSHAKE and epoch == 0
                          and length else None)
        records.append(DtlsRecord(content_type, version, epoch, length, handshake_type, body))
        pos = body + length
    return tuple(records)
