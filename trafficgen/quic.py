"""A QUIC v1 client Initial packet, really encrypted and header-protected (RFC 9001), so a
reader must derive the keys from the destination connection id to find the ClientHello."""

from __future__ import annotations

import struct

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

QUIC_V1_SALT = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")


def _expand_label(secret: bytes, label: bytes, length: int) -> bytes:
    full = b"tls13 " + label
    info = struct.pack("!HB", length, len(full)) + full + b"\x00"
    return HKDFExpand(hashes.SHA256(), length, info).derive(secret)


def quic_client_initial(dcid: bytes, scid: bytes, hello: bytes, size: int = 1250) -> bytes:
    """A QUIC v1 client Initial datagram of `size` bytes carrying the ClientHello handshake
    message `hello` (no record header) in a CRYPTO frame, padded with PADDING frames."""
    extract = hmac.HMAC(QUIC_V1_SALT, hashes.SHA256())
    extract.update(dcid)
    secret = _expand_label(extract.finalize(), b"client in", 32)
    key = _expand_label(secret, b"quic key", 16)
    iv = _expand_label(secret, b"quic iv", 12)
    hp = _expand_label(secret, b"quic hp", 16)
    packet_number = 0
    frames = b"\x06\x00" + struct.pack("!H", 0x4000 | len(hello)) + hello
    head = b"\xc3" + (1).to_bytes(4, "big") + bytes([len(dcid)]) + dcid + bytes([len(scid)])
    head += scid + b"\x00"  # no token
    overhead = len(head) + 2 + 4 + 16
    frames = frames.ljust(size - overhead, b"\x00")  # PADDING frames
    header = head + struct.pack("!H", 0x4000 | (4 + len(frames) + 16))
    header += packet_number.to_bytes(4, "big")
    nonce = bytes(a ^ b for a, b in zip(iv, packet_number.to_bytes(12, "big"), strict=True))
    sealed = AESGCM(key).encrypt(nonce, frames, header)
    encryptor = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()  # RFC 9001 5.4.3
    mask = encryptor.update(sealed[:16]) + encryptor.finalize()
    pn_at = len(header) - 4
    first = bytes([header[0] ^ (mask[0] & 0x0F)])
    number = bytes(a ^ b for a, b in zip(header[pn_at:], mask[1:5], strict=True))
    return first + header[1:pn_at] + number + sealed
