"""QUIC Initial packets: decrypt a client's first packets to reach its TLS ClientHello.

Initial packets are encrypted with keys anyone can derive from the version's salt and the
Destination Connection ID (RFC 9001 section 5; RFC 9369 for v2). `is_quic_long_header_initial`
is the cheap filter for every UDP payload; `client_initial_crypto` removes header and packet
protection and returns the CRYPTO fragments of a datagram; `ClientHelloAssembler` joins one
connection's fragments (a post-quantum ClientHello spans several packets) into the bytes that
`auditor.protocols.tls.parse_client_hello` decodes.

Versions: QUIC v1 and v2, IETF drafts 22-34, mvfst (0xfaceb001/2/e), Google QUIC T050/T051
and Q050 (whose CRYPTO stream is a gQUIC CHLO, not a ClientHello: `gquic.q050_server_name`).
Google QUIC Q024-Q046 sends its hello (CHLO) in clear: `gquic_chlo_sni`.
Only client packets decrypt (a server's Initial is keyed by a DCID its packet does not carry
and raises `QuicInitialError`), so feed the client-to-server direction. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from auditor.protocols.tls import (
    HANDSHAKE_CLIENT_HELLO,
    ClientHelloError,
    client_hello_length,
)

# Bound on the CRYPTO stream kept per connection; tls_clienthello refuses bigger hellos anyway.
MAX_CRYPTO_BYTES = 64 * 1024
MAX_CID_LENGTH = 20
Datagram = bytes | bytearray | memoryview  # a UDP payload, as any bytes-like object


class QuicInitialError(ValueError):
    """The datagram looks like a client QUIC Initial but cannot be decoded."""


@dataclass(frozen=True, slots=True)
class InitialCrypto:
    """The CRYPTO stream pieces carried by the Initial packet(s) of one datagram."""

    version: int
    dcid: bytes
    fragments: tuple[tuple[int, bytes], ...]


@dataclass(frozen=True, slots=True)
class _Version:
    salt: bytes
    initial_type: int  # long-header packet type bits (0x30 mask) of an Initial
    retry_type: int
    label_prefix: bytes  # b"quic " or b"quicv2 " before "key", "iv", "hp"
    ietf_frames: bool  # False: Google numbering, PING 0x07 and CRYPTO 0x08


_SALT_V1 = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")  # RFC 9001, drafts 33-34
_SALT_V2 = bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9")  # RFC 9369
_SALT_D22 = bytes.fromhex("7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a")  # draft-22
_SALT_D23 = bytes.fromhex("c3eef712c72ebb5a11a7d2432bb46365bef9f502")  # drafts 23-28
_SALT_D29 = bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899")  # drafts 29-32
_SALT_T050 = bytes.fromhex("7ff579e5acd072915580304c43a2367c60488310")  # Google QUIC T050
_SALT_T051 = bytes.fromhex("7a4edef4e7ccee5fa4506c19124fc8ccda6e033d")  # Google QUIC T051
_SALT_Q050 = bytes.fromhex("504574efd066fe2f9d945cfcdbd3a7f0d3b56b45")  # Google QUIC Q050


def _ietf(salt: bytes) -> _Version:
    return _Version(salt, 0x00, 0x30, b"quic ", True)


VERSION_1 = 0x00000001
VERSION_2 = 0x6B3343CF
_VERSIONS: dict[int, _Version] = {
    VERSION_1: _ietf(_SALT_V1),
    VERSION_2: _Version(_SALT_V2, 0x10, 0x00, b"quicv2 ", True),
    0xFACEB001: _ietf(_SALT_D22),  # mvfst, draft-22 based
    0xFACEB002: _ietf(_SALT_D23),  # mvfst, draft-27 based
    0xFACEB00E: _ietf(_SALT_D23),  # mvfst experimental
    0x54303530: _Version(_SALT_T050, 0x00, 0x30, b"quic ", False),  # "T050"
    0x54303531: _Version(_SALT_T051, 0x00, 0x30, b"quic ", False),  # "T051"
    0x51303530: _Version(_SALT_Q050, 0x00, 0x30, b"quic ", False),  # "Q050"
}
_DRAFT_SALTS = ((22, 22, _SALT_D22), (23, 28, _SALT_D23), (29, 32, _SALT_D29), (33, 34, _SALT_V1))
for _first, _last, _salt in _DRAFT_SALTS:
    for _draft in range(_first, _last + 1):
        _VERSIONS[0xFF000000 | _draft] = _ietf(_salt)  # draft-ietf-quic-transport-NN
SUPPORTED_VERSIONS = frozenset(_VERSIONS)
# Hot-path table: the 4 version bytes -> the high nibble an Initial's first byte must have
# (long-header bit, fixed bit, packet type).
_INITIAL_NIBBLE = {v.to_bytes(4, "big"): 0xC0 | s.initial_type for v, s in _VERSIONS.items()}


def is_quic_long_header_initial(datagram: Datagram) -> bool:
    """Whether the datagram starts with a long-header Initial packet of a supported version.

    Cheap enough for every UDP payload: a length test, one byte test, one dict lookup.
    """
    return (
        len(datagram) > 6
        and datagram[0] & 0xC0 == 0xC0
        and _INITIAL_NIBBLE.get(bytes(datagram[1:5])) == datagram[0] & 0xF0
    )


def client_initial_crypto(
    datagram: Datagram, original_dcid: bytes | None = None
) -> InitialCrypto | None:
    """Decrypt the client Initial packet(s) of one UDP datagram and return their CRYPTO data.

    Coalesced packets are walked; 0-RTT and Handshake ones are skipped. Returns None when the
    datagram does not start with a QUIC Initial; raises `QuicInitialError` when it does but
    cannot be decoded. Keys come from the packet's DCID; a client's later Initials may carry
    the server's chosen CID instead, so pass the first Initial's `dcid` as `original_dcid`.
    """
    if not is_quic_long_header_initial(datagram):
        return None
    version_bytes = bytes(datagram[1:5])
    spec = _VERSIONS[int.from_bytes(version_bytes, "big")]
    first_dcid: bytes | None = None
    fragments: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(datagram) and datagram[pos] & 0x80:
        if datagram[pos + 1 : pos + 5] != version_bytes:
            break  # coalesced packets share one version; anything else is not ours
        try:
            pos, dcid, found = _packet(datagram, pos, spec, original_dcid)
        except QuicInitialError:
            if first_dcid is None:
                raise
            break  # keep what the earlier packets gave
        if found is not None:
            fragments += found
            if first_dcid is None:
                first_dcid = dcid
    if first_dcid is None:  # unreachable: the first packet is an Initial or raised
        return None
    return InitialCrypto(int.from_bytes(version_bytes, "big"), first_dcid, tuple(fragments))


def _packet(
    dg: Datagram, pos: int, spec: _Version, original_dcid: bytes | None
) -> tuple[int, bytes, list[tuple[int, bytes]] | None]:
    """Parse one long-header packet: (end, dcid, CRYPTO fragments or None if not Initial)."""
    ptype = dg[pos] & 0x30
    dcid, p = _cid(dg, pos + 5)
    _scid, p = _cid(dg, p)
    if ptype == spec.retry_type:
        raise QuicInitialError("Retry packet in a client datagram")
    if ptype == spec.initial_type:
        token_length, p = _varint(dg, p)
        p += token_length
    length, p = _varint(dg, p)
    end = p + length
    if end > len(dg):
        raise QuicInitialError(f"packet claims {length} bytes, datagram has {len(dg) - p}")
    if ptype != spec.initial_type:
        return end, dcid, None
    if p + 20 > end:
        raise QuicInitialError("Initial packet too short for a header protection sample")
    candidates = [dcid]
    if original_dcid is not None and original_dcid != dcid:
        candidates.append(bytes(original_dcid))
    for key_cid in candidates:
        try:
            payload = _unprotect(dg, pos, p, end, _initial_keys(spec, key_cid))
        except InvalidTag:
            continue
        return end, dcid, _crypto_frames(payload, spec)
    raise QuicInitialError("Initial packet does not decrypt with client keys (server Initial?)")


def _cid(dg: Datagram, pos: int) -> tuple[bytes, int]:
    if pos >= len(dg):
        raise QuicInitialError("long header is truncated")
    length = dg[pos]
    end = pos + 1 + length
    if length > MAX_CID_LENGTH or end > len(dg):
        raise QuicInitialError(f"bad connection ID length {length}")
    return bytes(dg[pos + 1 : end]), end


def _varint(buf: Datagram, pos: int) -> tuple[int, int]:
    """RFC 9000 variable-length integer at `pos`: (value, position after it)."""
    if pos >= len(buf):
        raise QuicInitialError("variable-length integer is truncated")
    size = 1 << (buf[pos] >> 6)
    end = pos + size
    if end > len(buf):
        raise QuicInitialError("variable-length integer is truncated")
    return int.from_bytes(buf[pos:end], "big") & ((1 << (8 * size - 2)) - 1), end


def _expand_label(secret: bytes, label: bytes, length: int) -> bytes:
    """TLS 1.3 HKDF-Expand-Label with an empty context (RFC 8446 section 7.1)."""
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + b"\x00"
    return HKDFExpand(hashes.SHA256(), length, info).derive(secret)


@lru_cache(maxsize=4096)
def _initial_keys(spec: _Version, dcid: bytes) -> tuple[AESGCM, int, Cipher[modes.ECB]]:
    """Client Initial packet key, IV (as int) and header protection cipher for a DCID."""
    extract = hmac.HMAC(spec.salt, hashes.SHA256())
    extract.update(dcid)
    secret = _expand_label(extract.finalize(), b"client in", 32)
    key = _expand_label(secret, spec.label_prefix + b"key", 16)
    iv = _expand_label(secret, spec.label_prefix + b"iv", 12)
    hp = _expand_label(secret, spec.label_prefix + b"hp", 16)
    return AESGCM(key), int.from_bytes(iv, "big"), Cipher(algorithms.AES(hp), modes.ECB())


def _unprotect(
    dg: Datagram, pos: int, pn_offset: int, end: int, keys: tuple[AESGCM, int, Cipher[modes.ECB]]
) -> bytes:
    """Remove header protection and decrypt; raises InvalidTag on the wrong keys."""
    aead, iv, hp = keys
    mask = hp.encryptor().update(bytes(dg[pn_offset + 4 : pn_offset + 20]))  # ECB per RFC 9001
    first = dg[pos] ^ (mask[0] & 0x0F)
    pn_length = (first & 0x03) + 1
    pn = bytes(a ^ b for a, b in zip(dg[pn_offset : pn_offset + pn_length], mask[1:], strict=False))
    header = bytes([first]) + bytes(dg[pos + 1 : pn_offset]) + pn
    nonce = (iv ^ int.from_bytes(pn, "big")).to_bytes(12, "big")
    return aead.decrypt(nonce, bytes(dg[pn_offset + pn_length : end]), header)


def _crypto_frames(payload: bytes, spec: _Version) -> list[tuple[int, bytes]]:
    """The (offset, data) of the CRYPTO frames; stops quietly at a frame it does not know."""
    crypto, ping = (0x06, 0x01) if spec.ietf_frames else (0x08, 0x07)
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(payload):
        frame = payload[pos]
        if frame == 0x00:  # PADDING: runs of zeros, usually to the end
            pos = len(payload) - len(payload[pos:].lstrip(b"\x00"))
        elif frame == ping:
            pos += 1
        elif frame == crypto:
            offset, pos = _varint(payload, pos + 1)
            length, pos = _varint(payload, pos)
            if pos + length > len(payload):
                raise QuicInitialError("CRYPTO frame runs past the packet")
            if length:
                out.append((offset, payload[pos : pos + length]))
            pos += length
        elif spec.ietf_frames and frame in (0x02, 0x03):  # ACK, ACK with ECN counts
            pos += 1
            for _ in range(3):  # largest acknowledged, delay, range count
                value, pos = _varint(payload, pos)
            for _ in range(1 + 2 * value + (3 if frame == 0x03 else 0)):
                _, pos = _varint(payload, pos)  # truncation raises before a huge count loops
        else:  # e.g. CONNECTION_CLOSE: nothing more a ClientHello needs
            break
    return out


class ClientHelloAssembler:
    """Rebuilds one connection's ClientHello from CRYPTO fragments of its Initial packets.

    Fragments may arrive out of order, overlap or repeat. Memory is bounded by `limit` bytes of
    stream (default 64 KiB); beyond it, or if the stream is not a ClientHello, `add` raises
    `QuicInitialError` and the assembler gives up.
    """

    def __init__(self, limit: int = MAX_CRYPTO_BYTES) -> None:
        """Start an empty stream that refuses data past offset `limit`."""
        self._limit = limit
        self._data = bytearray()  # contiguous stream from offset 0
        self._pending: dict[int, bytes] = {}  # pieces beyond a gap, by offset
        self._pending_size = 0
        self._done = False

    @property
    def done(self) -> bool:
        """Whether the ClientHello was returned or the assembler gave up."""
        return self._done

    def add(self, fragments: Iterable[tuple[int, bytes]]) -> bytes | None:
        """Add (offset, data) fragments; returns the ClientHello the first time it is complete.

        The bytes start at the handshake type (0x01) and end where its length says. Returns None
        while data is missing and after the ClientHello has been returned once.
        """
        if self._done:
            return None
        try:
            for offset, data in fragments:
                self._add(offset, data)
            return self._complete()
        except QuicInitialError:
            self._finish()
            raise

    def _add(self, offset: int, data: bytes) -> None:
        end = offset + len(data)
        if offset < 0 or end > self._limit:
            raise QuicInitialError(f"CRYPTO data up to offset {end} exceeds {self._limit} bytes")
        have = len(self._data)
        if end <= have:
            return  # retransmission of what we have
        if offset <= have:
            self._data += data[have - offset :]
            self._drain()
            return
        previous = self._pending.get(offset, b"")
        if len(data) > len(previous):
            self._pending_size += len(data) - len(previous)
            if self._pending_size > self._limit:
                raise QuicInitialError("too much out-of-order CRYPTO data")
            self._pending[offset] = bytes(data)

    def _drain(self) -> None:
        for offset in sorted(self._pending):
            if offset > len(self._data):
                break
            piece = self._pending.pop(offset)
            self._pending_size -= len(piece)
            have = len(self._data)
            if offset + len(piece) > have:
                self._data += piece[have - offset :]

    def _complete(self) -> bytes | None:
        if len(self._data) < 4:
            return None
        if self._data[0] != HANDSHAKE_CLIENT_HELLO:
            raise QuicInitialError(f"CRYPTO stream starts with handshake type {self._data[0]}")
        try:
            total = client_hello_length(bytes(self._data[:4]))
        except ClientHelloError as exc:
            raise QuicInitialError(str(exc)) from exc
        if total is None or len(self._data) < total:
            return None
        hello = bytes(self._data[:total])
        self._finish()
        return hello

    def _finish(self) -> None:
        self._done = True
        self._data = bytearray()
        self._pending.clear()
        self._pending_size = 0
