"""Google QUIC (Q024 to Q046, and Q050): the server name in the client hello (CHLO).

Older Chrome and Android builds spoke these pre-IETF versions. Up to Q046 the CHLO message is
a tag table sent in clear in the first packet, so the name is read directly. Q050 wraps the
same CHLO in an IETF-style Initial packet protected with keys anyone can derive (its own salt,
`auditor.protocols.quic` removes the protection); `chlo_server_name` reads the CHLO from the
decrypted CRYPTO stream. Malformed hellos raise `QuicInitialError`.
"""

from __future__ import annotations

from collections.abc import Iterable

from auditor.protocols.quic import Datagram, QuicInitialError
from auditor.protocols.tls import ClientHelloError, server_name_text

VERSION_Q050 = 0x51303530  # "Q050": CHLO inside protected Initial packets


def gquic_chlo_sni(datagram: Datagram) -> str | None:
    """Server name in the clear-text client hello (CHLO) of Google QUIC Q024 to Q046.

    Returns None if the datagram is no such packet or the hello names no server (tag SNI);
    raises `QuicInitialError` if the hello is malformed.
    """
    if len(datagram) < 32:
        return None
    if datagram[0] & 0x89 == 0x09:  # Q024-Q043 public flags: version, 8-byte connection ID
        version = bytes(datagram[9:13])
        if version[:2] != b"Q0" or not version[2:].isdigit():
            return None
    elif datagram[0] & 0xC0 != 0xC0 or bytes(datagram[1:5]) != b"Q046":
        return None
    datagram = bytes(datagram)
    start = datagram.find(b"CHLO", 13, 80)
    if start < 0:
        return None
    return chlo_server_name(datagram, start)


def chlo_server_name(data: bytes, start: int = 0) -> str | None:
    """The SNI tag of the CHLO message at `data[start:]` (tag `CHLO`, a 16-bit entry count,
    two bytes of padding, then entries of tag and end offset, then the values); None when the
    hello names no server. Raises `QuicInitialError` when it is not such a message."""
    if data[start : start + 4] != b"CHLO" or start + 8 > len(data):
        raise QuicInitialError("not a CHLO message")
    count = int.from_bytes(data[start + 4 : start + 6], "little")
    values = start + 8 + 8 * count
    if values > len(data):
        raise QuicInitialError("CHLO tag table runs past the packet")
    previous = 0
    for entry in range(start + 8, values, 8):
        end = int.from_bytes(data[entry + 4 : entry + 8], "little")
        if end < previous or values + end > len(data):
            raise QuicInitialError("CHLO tag value runs past the packet")
        if data[entry : entry + 4] == b"SNI\x00":
            try:
                return server_name_text(bytes(data[values + previous : values + end]))
            except (ClientHelloError, UnicodeDecodeError) as exc:
                raise QuicInitialError(f"bad CHLO server name: {exc}") from exc
        previous = end
    return None


def q050_server_name(fragments: Iterable[tuple[int, bytes]]) -> str | None:
    """The server name of a Q050 CHLO from the CRYPTO fragments of one Initial datagram
    (the hello fits one packet: Chrome pads it to the full size). None when the fragments do
    not start the stream or name no server; raises `QuicInitialError` when malformed."""
    stream = b""
    for offset, data in sorted(fragments):
        if offset > len(stream):
            break
        stream += data[len(stream) - offset :]
    if not stream:
        return None
    return chlo_server_name(stream)
