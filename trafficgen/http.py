"""Plaintext HTTP/1.1 messages, and the OCSP request and response (valid DER, random hashes
and signature) that certificate checks send over it."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

OID_SHA1 = bytes.fromhex("06052b0e03021a")
OID_SHA256_RSA = bytes.fromhex("06092a864886f70d01010b")
OID_OCSP_BASIC = bytes.fromhex("06092b0601050507300101")
DER_NULL = b"\x05\x00"


def http_message(start_line: str, headers: Sequence[tuple[str, str]], body: bytes = b"") -> bytes:
    """A request or response: the start line, the headers in order (an empty value as `NAME:`),
    a blank line, the body. Content-Length is a header like the others: the caller says where
    it goes."""
    head = "".join(f"{name}: {value}\r\n" if value else f"{name}:\r\n" for name, value in headers)
    return f"{start_line}\r\n{head}\r\n".encode() + body


def der(tag: int, content: bytes) -> bytes:
    """One DER TLV."""
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def generalized_time(moment: datetime) -> bytes:
    """A DER GeneralizedTime, to the second."""
    return der(0x18, moment.strftime("%Y%m%d%H%M%SZ").encode())


def ocsp_cert_id(rng: random.Random) -> bytes:
    """CertID: SHA-1 issuer name/key hashes and a positive 16-byte serial number."""
    serial = bytearray(rng.randbytes(16))
    serial[0] = (serial[0] & 0x7F) or 0x01
    return der(
        0x30,
        der(0x30, OID_SHA1 + DER_NULL)
        + der(0x04, rng.randbytes(20))
        + der(0x04, rng.randbytes(20))
        + der(0x02, bytes(serial)),
    )


def ocsp_request(cert_id: bytes) -> bytes:
    """An OCSPRequest for one certificate, unsigned and without extensions."""
    return der(0x30, der(0x30, der(0x30, der(0x30, cert_id))))


def ocsp_response(rng: random.Random, cert_id: bytes, produced: datetime) -> bytes:
    """A successful OCSPResponse with one `good` SingleResponse, signed with random bytes."""
    single = der(
        0x30,
        cert_id
        + b"\x80\x00"
        + generalized_time(produced)
        + der(0xA0, generalized_time(produced + timedelta(days=7))),
    )
    tbs = der(
        0x30,
        der(0xA2, der(0x04, rng.randbytes(20))) + generalized_time(produced) + der(0x30, single),
    )
    basic = der(
        0x30, tbs + der(0x30, OID_SHA256_RSA + DER_NULL) + der(0x03, b"\x00" + rng.randbytes(256))
    )
    response_bytes = der(0x30, OID_OCSP_BASIC + der(0x04, basic))
    return der(0x30, der(0x0A, b"\x00") + der(0xA0, response_bytes))
