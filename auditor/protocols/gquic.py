"""Google QUIC (Q024 to Q046): the server name in the client hello, sent in clear text.

Older Chrome and Android builds spoke these pre-IETF versions; their CHLO message is a tag
table in the first packet, so the name is read directly, no decryption needed.
"""

from __future__ import annotations

from auditor.protocols.quic import Datagram, QuicInitialError
from auditor.protocols.tls import ClientHelloError, server_name_text


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
    count = int.from_bytes(datagram[start + 4 : start + 6], "little")
    values = start + 8 + 8 * count
    if values > len(datagram):
        raise QuicInitialError("CHLO tag table runs past the packet")
    previous = 0
    for entry in range(start + 8, values, 8):
        end = int.from_bytes(datagram[entry + 4 : entry + 8], "little")
        if end < previous or values + end > len(datagram):
            raise QuicInitialError("CHLO tag value runs past the packet")
        if datagram[entry : entry + 4] == b"SNI\x00":
            try:
                return server_name_text(bytes(datagram[values + previous : values + end]))
            except (ClientHelloError, UnicodeDecodeError) as exc:
                raise QuicInitialError(f"bad CHLO server name: {exc}") from exc
        previous = end
    return None
