"""TLS ClientHello parsing: the server name (SNI) and ALPN a client asked for.

Works on the handshake message alone (TLS over TCP after record reassembly, or the CRYPTO
stream of a QUIC Initial), so one parser serves both. Only the fields vcaudit reports are
decoded; everything else is skipped by length. Malformed input raises `ClientHelloError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HANDSHAKE_CLIENT_HELLO = 1
CONTENT_TYPE_HANDSHAKE = 22
EXT_SERVER_NAME = 0
EXT_ALPN = 16
EXT_SUPPORTED_VERSIONS = 43
# A ClientHello with post-quantum key shares and padding is a few KiB; anything claiming more
# than 64 KiB is treated as hostile rather than buffered.
MAX_CLIENT_HELLO = 1 << 16


class ClientHelloError(ValueError):
    """The bytes are not a well-formed ClientHello."""


@dataclass(frozen=True, slots=True)
class ClientHello:
    """What a ClientHello says about where the client is going."""

    server_name: str | None
    alpn: tuple[str, ...]
    legacy_version: int
    offers_tls13: bool
    problem: str | None = None  # set when the extensions were damaged after what was read


def client_hello_length(handshake: bytes) -> int | None:
    """Total length of the ClientHello handshake message starting at `handshake[0]`.

    Returns None when fewer than 4 bytes are present; raises if it is not a ClientHello.
    """
    if len(handshake) < 4:
        return None
    if handshake[0] != HANDSHAKE_CLIENT_HELLO:
        raise ClientHelloError(f"handshake type {handshake[0]} is not ClientHello")
    length = int.from_bytes(handshake[1:4], "big") + 4
    if length > MAX_CLIENT_HELLO:
        raise ClientHelloError(f"ClientHello claims {length} bytes")
    return length


def parse_client_hello(handshake: bytes) -> ClientHello:
    """Decode a complete ClientHello handshake message (type byte first)."""
    total = client_hello_length(handshake)
    if total is None or len(handshake) < total:
        raise ClientHelloError("ClientHello is incomplete")
    body = memoryview(handshake)[4:total]
    try:
        return _parse_body(body)
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise ClientHelloError(f"malformed ClientHello: {exc}") from exc


def parse_dtls_client_hello(handshake: bytes) -> ClientHello:
    """Decode a DTLS ClientHello handshake message (12-byte DTLS handshake header first).

    Only an unfragmented message can be decoded; a fragment raises `ClientHelloError`.
    """
    if len(handshake) < 12 or handshake[0] != HANDSHAKE_CLIENT_HELLO:
        raise ClientHelloError("not a DTLS ClientHello")
    length = int.from_bytes(handshake[1:4], "big")
    frag_offset = int.from_bytes(handshake[6:9], "big")
    frag_length = int.from_bytes(handshake[9:12], "big")
    if frag_offset != 0 or frag_length != length or len(handshake) < 12 + length:
        raise ClientHelloError("DTLS ClientHello is fragmented or incomplete")
    try:
        return _parse_body(memoryview(handshake)[12 : 12 + length], dtls=True)
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise ClientHelloError(f"malformed DTLS ClientHello: {exc}") from exc


def _parse_body(body: memoryview, dtls: bool = False) -> ClientHello:
    (legacy_version,) = struct.unpack_from("!H", body, 0)
    pos = 2 + 32  # version, random
    pos += 1 + body[pos]  # session id
    if dtls:
        pos += 1 + body[pos]  # cookie
    (suites_len,) = struct.unpack_from("!H", body, pos)
    pos += 2 + suites_len
    pos += 1 + body[pos]  # compression methods
    server_name: str | None = None
    alpn: tuple[str, ...] = ()
    offers_tls13 = False
    if pos == len(body):
        return ClientHello(None, (), legacy_version, False)
    (ext_total,) = struct.unpack_from("!H", body, pos)
    pos += 2
    end = min(pos + ext_total, len(body))
    problem = None if pos + ext_total <= len(body) else "extensions run past the ClientHello"
    # Like Wireshark, keep what the intact extensions say even when a later one is damaged.
    while pos + 4 <= end:
        ext_type, ext_len = struct.unpack_from("!HH", body, pos)
        pos += 4
        if pos + ext_len > end:
            problem = f"extension {ext_type} runs past the extensions block"
            break
        data = body[pos : pos + ext_len]
        if ext_type == EXT_SERVER_NAME:
            server_name = _server_name(data)
        elif ext_type in (EXT_ALPN, EXT_SUPPORTED_VERSIONS):
            try:
                if ext_type == EXT_ALPN:
                    alpn = _alpn(data)
                else:
                    offers_tls13 = _offers_tls13(data)
            except (IndexError, struct.error, ClientHelloError):
                problem = problem or f"extension {ext_type} is malformed"
        pos += ext_len
    return ClientHello(server_name, alpn, legacy_version, offers_tls13, problem)


def _server_name(data: memoryview) -> str | None:
    (list_len,) = struct.unpack_from("!H", data, 0)
    pos, end = 2, min(2 + list_len, len(data))
    while pos + 3 <= end:
        name_type, name_len = struct.unpack_from("!BH", data, pos)
        pos += 3
        if name_type == 0:
            raw = bytes(data[pos : pos + name_len])
            if len(raw) != name_len:
                raise ClientHelloError("server name is truncated")
            return server_name_text(raw)
        pos += name_len
    return None


def server_name_text(raw: bytes) -> str:
    """A server name from the wire as a lowercase host name; raises ClientHelloError if it
    is not one."""
    try:
        name = raw.decode("ascii").rstrip(".").lower()
    except UnicodeDecodeError as exc:
        raise ClientHelloError(f"server name {raw!r} is not ASCII") from exc
    if not name or any(c.isspace() or ord(c) < 0x21 for c in name):
        raise ClientHelloError(f"server name {raw!r} is not a host name")
    return name


def _alpn(data: memoryview) -> tuple[str, ...]:
    (list_len,) = struct.unpack_from("!H", data, 0)
    pos, end = 2, 2 + list_len
    if end > len(data):
        raise ClientHelloError("ALPN list runs past its extension")
    protocols = []
    while pos < end:
        length = data[pos]
        if pos + 1 + length > end:
            raise ClientHelloError("ALPN protocol name runs past the list")
        protocols.append(bytes(data[pos + 1 : pos + 1 + length]).decode("ascii", "replace"))
        pos += 1 + length
    return tuple(protocols)


def _offers_tls13(data: memoryview) -> bool:
    length = data[0]
    versions = bytes(data[1 : 1 + length])
    return any(versions[i : i + 2] == b"\x03\x04" for i in range(0, len(versions) - 1, 2))


def tls_records_handshake(stream: bytes) -> tuple[bytes, bool]:
    """Concatenate the handshake payloads of the TLS records at the start of a TCP stream.

    Returns (handshake bytes gathered so far, whether the stream is still plausibly TLS).
    A ClientHello may span several records and several TCP segments.
    """
    out = bytearray()
    pos = 0
    while pos + 5 <= len(stream):
        content_type = stream[pos]
        if content_type != CONTENT_TYPE_HANDSHAKE or stream[pos + 1] != 3:
            return bytes(out), bool(out)
        (length,) = struct.unpack_from("!H", stream, pos + 3)
        out += stream[pos + 5 : pos + 5 + length]
        pos += 5 + length
    return bytes(out), True


def looks_like_tls_handshake(payload: bytes) -> bool:
    """Whether a TCP payload starts a TLS handshake record carrying a ClientHello."""
    return (
        len(payload) >= 6
        and payload[0] == CONTENT_TYPE_HANDSHAKE
        and payload[1] == 3
        and payload[5] == HANDSHAKE_CLIENT_HELLO
    )
